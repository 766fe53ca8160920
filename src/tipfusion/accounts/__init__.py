"""Accounts, roles and jurisdiction scopes (need-to-know)."""

from tipfusion.accounts.principal import CENTRAL_ROLES, SYSTEM, Principal, Role

__all__ = ["CENTRAL_ROLES", "SYSTEM", "Principal", "Role"]
