"""Analyst look-ups over the store, for the command line and a future web app: who holds an identifier, one suspect
as reported, a network's members. Queries only; they change nothing (callers audit the look-up)."""

from tipfusion.search.lookup import SearchResult, search
from tipfusion.search.profiles import network_members, report_record, suspect_cases, suspect_profile
from tipfusion.search.readings import SEARCH_KINDS, Reading, readings

__all__ = [
    "SEARCH_KINDS",
    "Reading",
    "SearchResult",
    "network_members",
    "readings",
    "report_record",
    "search",
    "suspect_cases",
    "suspect_profile",
]
