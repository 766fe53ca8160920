"""Tamper-evident audit log: every change, view and export is an event in a hash chain."""

from tipfusion.audit.log import AuditEvent, ChainReport, append, current_actor, verify

__all__ = ["AuditEvent", "ChainReport", "append", "current_actor", "verify"]
