"""Whether a package on disk is whole and the store issued it: what `refer verify` and the referral page check.

Apart from building (`refer.service`) so that checking a package loads neither the PDF, Word and Excel writers nor
linking: a station officer's page view verifies, it does not build.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from tipfusion.documents.manifest import BagCheck, verify_bag
from tipfusion.store.tables import isp_requests, referrals


def verify_package(engine: Engine | None, folder: Path) -> tuple[BagCheck, str | None]:
    """Check every part and the signature, and whether the store issued this package when one is at hand.

    Any bag is accepted: a referral is found by its manifest's SHA-256, a notice to an ISP or platform by its
    reference and the SHA-256 of its parts.
    """
    check = verify_bag(folder)
    if engine is None:
        return check, None
    with engine.connect() as conn:
        row = conn.execute(
            select(referrals.c.reference).where(referrals.c.manifest_sha256 == check.manifest_sha256)
        ).first()
        if row is not None:
            return check, f"referral {row.reference}"
        notice = conn.execute(
            select(isp_requests.c.reference, isp_requests.c.files).where(isp_requests.c.reference == check.reference)
        ).first()
    if notice is not None and notice.files == check.files:
        return check, f"request {notice.reference}"
    return check, None
