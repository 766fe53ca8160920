"""Refer: packages a station can act on — for a suspect or a network — with a manifest that proves them unaltered."""

from tipfusion.refer.service import (
    BuiltReferral,
    build_many,
    build_referral,
    referral_rows,
    top_subjects,
    verify_package,
)

__all__ = ["BuiltReferral", "build_many", "build_referral", "referral_rows", "top_subjects", "verify_package"]
