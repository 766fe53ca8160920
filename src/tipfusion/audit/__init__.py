"""Tamper-evident audit log: every change, view and export is an event in a hash chain, checkpointed and signed."""

from tipfusion.audit.checkpoints import CheckpointReport, signing_with, verify_checkpoints
from tipfusion.audit.log import AuditEvent, ChainReport, append, current_actor, verify
from tipfusion.audit.unit import UnitOfWork

__all__ = [
    "AuditEvent",
    "ChainReport",
    "CheckpointReport",
    "UnitOfWork",
    "append",
    "current_actor",
    "signing_with",
    "verify",
    "verify_checkpoints",
]
