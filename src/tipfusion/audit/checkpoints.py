"""Signed checkpoints of the audit chain: what a hash chain alone cannot show.

A chain proves that each entry follows the one before. It cannot show that entries were cut off the end, nor that
the whole chain was rewritten with every later hash recomputed. So every append also records the new head (entry
number and hash) with the time, signed with the unit's Ed25519 key when one is configured, in the same transaction.
`audit verify` holds the chain against every checkpoint: a checkpoint beyond the chain's end is a truncation, a
checkpoint whose hash is no longer the chain's at its entry is a rewrite, and a bad signature is a forged checkpoint.

The key is a deployment fact, and the audit log is written from many places inside their own transactions; so the
command shell names the key once, for the length of a command (`signing_with`), rather than every caller carrying it.
Without a key, checkpoints are written unsigned: they still catch a careless truncation, and `audit verify` says they
are unsigned.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select

from tipfusion.store.tables import audit_checkpoints, audit_events

if TYPE_CHECKING:  # cryptography loads only when a key signs or a signature is checked (CLI start-up)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from tipfusion.keys.signing import Signer

FORMAT = "tipfusion audit checkpoint 1"
NAMED = 10  # problems of one kind named one by one; the rest are counted

_signer: ContextVar[Callable[[], Signer | None] | None] = ContextVar("audit_checkpoint_signer", default=None)


@contextmanager
def signing_with(load: Callable[[], Signer | None]) -> Iterator[None]:
    """Sign checkpoints with the key `load` returns (read on first use, once) until the block ends."""
    token = _signer.set(cache(load))
    try:
        yield
    finally:
        _signer.reset(token)


def current_signer() -> Signer | None:
    load = _signer.get()
    return load() if load is not None else None


def message(seq: int, head_hash: str, at: datetime, key_fingerprint: str | None) -> bytes:
    """The bytes a checkpoint's signature covers: every field, so none can be changed on its own."""
    return "\n".join([FORMAT, str(seq), head_hash, at.astimezone(UTC).isoformat(), key_fingerprint or ""]).encode()


def write_checkpoint(conn: Connection, seq: int, head_hash: str, at: datetime) -> None:
    """Record the chain's head as of `at` (the time of the entry it follows), signed when a key is configured (inside
    the caller's transaction)."""
    signer = current_signer()
    key = signer.fingerprint if signer else None
    signature = base64.b64encode(signer.sign(message(seq, head_hash, at, key))).decode() if signer else None
    conn.execute(
        insert(audit_checkpoints).values(seq=seq, head_hash=head_hash, at=at, key_fingerprint=key, signature=signature)
    )


@dataclass
class CheckpointReport:
    checkpoints: int = 0
    unsigned: int = 0
    unchecked: int = 0  # signed, but by no key at hand to check
    unsigned_after_signed: int = 0  # commands run without the key once it existed, or checkpoints forged unsigned
    problems: list[str] = field(default_factory=list)
    last: Any = None  # the newest checkpoint
    last_signature: str = "none"  # valid | unsigned | unchecked | invalid
    _counts: dict[str, int] = field(default_factory=dict)
    _truncated: Any = None  # the checkpoint furthest beyond the chain's end
    _signed_seen: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def note(self, kind: str, text: str) -> None:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        if self._counts[kind] <= NAMED:
            self.problems.append(text)

    def close(self, head: int) -> None:
        """Name the truncation once (its full extent), and count what was not named."""
        cut = self._truncated
        if cut is not None:
            removed = f"entry {cut.seq} has" if cut.seq == head + 1 else f"entries {head + 1}…{cut.seq} have"
            self.problems.insert(
                0,
                f"audit log truncated: the chain ends at entry {head}, but checkpoint #{cut.id} "
                f"({cut.at.isoformat(timespec='seconds')}) recorded entry {cut.seq}: {removed} been removed",
            )
        for kind, count in self._counts.items():
            if count > NAMED:
                self.problems.append(f"… and {count - NAMED} more checkpoint(s) with the same problem ({kind})")


def verify_checkpoints(conn: Connection, trusted: Sequence[Ed25519PublicKey]) -> CheckpointReport:
    """Hold the chain against every checkpoint (one set-based read), and check their signatures."""
    from tipfusion.keys.signing import fingerprint

    keys = {fingerprint(k): k for k in trusted}
    head = int(conn.execute(select(func.coalesce(func.max(audit_events.c.seq), 0))).scalar_one())
    rows = conn.execute(
        select(audit_checkpoints, audit_events.c.hash.label("chain_hash"))
        .outerjoin(audit_events, audit_events.c.seq == audit_checkpoints.c.seq)
        .order_by(audit_checkpoints.c.id)
        .execution_options(yield_per=5000)
    )
    report = CheckpointReport()
    for row in rows:
        report.checkpoints += 1
        report.last = row
        _check_chain(report, row, head)
        report.last_signature = _check_signature(report, row, keys)
    report.close(head)
    return report


def _check_chain(report: CheckpointReport, row: Any, head: int) -> None:
    if row.seq > head:
        if report._truncated is None or row.seq > report._truncated.seq:
            report._truncated = row
    elif row.chain_hash != row.head_hash:
        report.note(
            "rewritten",
            f"audit chain rewritten: checkpoint #{row.id} ({row.at.isoformat(timespec='seconds')}) recorded hash "
            f"{row.head_hash[:16]}… at entry {row.seq}, the chain now has {(row.chain_hash or 'nothing')[:16]}… there",
        )


def _check_signature(report: CheckpointReport, row: Any, keys: dict[str, Ed25519PublicKey]) -> str:
    if row.signature is None:
        report.unsigned += 1
        report.unsigned_after_signed += int(report._signed_seen)
        return "unsigned"
    report._signed_seen = True
    key = keys.get(row.key_fingerprint or "")
    if key is None:
        if not keys:
            report.unchecked += 1
            return "unchecked"
        report.note(
            "unknown key",
            f"checkpoint #{row.id} (entry {row.seq}) is signed by key {row.key_fingerprint}, not by a key given to "
            "check it (pass an earlier key with --key PUBLIC.pem if the unit changed keys)",
        )
        return "invalid"
    if _valid(key, row):
        return "valid"
    report.note(
        "bad signature",
        f"forged checkpoint: #{row.id} (entry {row.seq}) does not match its signature",
    )
    return "invalid"


def _valid(key: Ed25519PublicKey, row: Any) -> bool:
    try:
        signature = base64.b64decode(row.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    from tipfusion.keys.signing import signature_valid

    return signature_valid(key, message(int(row.seq), row.head_hash, row.at, row.key_fingerprint), signature)
