"""The scoped service layer the web pages call: every read and change checked against need-to-know (see `scope`).

Page builders import from here; each function takes the acting `Principal` and returns typed records (or the existing
reads' dicts) only after the scope check. Refusals are `tipfusion.errors.NotFound` (audited as `access.denied`);
invalid case steps are `FieldErrors` (form field → message).
"""

from tipfusion.workplace.cases import (
    NON_FIELD,
    FieldErrors,
    StepDone,
    acknowledge,
    close_case,
    correct_case,
    file_chargesheet,
    record_arrests,
    record_devices_seized,
    record_step,
    register_fir,
    request_transfer,
    transfer_case,
)
from tipfusion.workplace.dashboard import (
    CaseTotals,
    DayCount,
    DistrictBlock,
    ForceDashboard,
    OperationTotals,
    StationLine,
    TodayDashboard,
    analyst_today,
    force_dashboard,
)
from tipfusion.workplace.inbox import InboxPage, InboxRow, inbox
from tipfusion.workplace.queue import BANDS, PriorityBands, QueuePage, QueueRow, work_queue
from tipfusion.workplace.scope import case_scope, ensure_may_act, ensure_visible, scope_filter
from tipfusion.workplace.views import (
    CasePage,
    NetworkPage,
    ReferralPage,
    case_page,
    may_act,
    network_page,
    referral_page,
    report_page,
    suspect_page,
    verify_referral,
)

__all__ = [
    "BANDS",
    "NON_FIELD",
    "CasePage",
    "CaseTotals",
    "DayCount",
    "DistrictBlock",
    "FieldErrors",
    "ForceDashboard",
    "InboxPage",
    "InboxRow",
    "NetworkPage",
    "OperationTotals",
    "PriorityBands",
    "QueuePage",
    "QueueRow",
    "ReferralPage",
    "StationLine",
    "StepDone",
    "TodayDashboard",
    "acknowledge",
    "analyst_today",
    "case_page",
    "case_scope",
    "close_case",
    "correct_case",
    "ensure_may_act",
    "ensure_visible",
    "file_chargesheet",
    "force_dashboard",
    "inbox",
    "may_act",
    "network_page",
    "record_arrests",
    "record_devices_seized",
    "record_step",
    "referral_page",
    "register_fir",
    "report_page",
    "request_transfer",
    "scope_filter",
    "suspect_page",
    "transfer_case",
    "verify_referral",
    "work_queue",
]
