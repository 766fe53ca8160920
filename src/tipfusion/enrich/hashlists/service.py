"""Import a hash list file into the store, and keep the matches of every current file up to date.

An import is one transaction: the good rows land, each bad row is kept in `hash_list_rejects` with its file, line
and reason (the import does not fail for it), and an audit entry records what happened. The same file imported
into the same list again changes nothing (its SHA-256 is recorded) — that attempt is audited too. A file that cannot
be read at all (not UTF-8, no hash column, broken JSON) lands nothing and says why.

Matches are derived data: rebuilt whenever a file hash or a list entry was added since the last build (`refresh`,
which linking and triage call before they read them), with exact hashes in one SQL join and PDQ by distance.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from tipfusion.audit import UnitOfWork
from tipfusion.enrich.hashlists.formats import parse
from tipfusion.errors import DocumentRejected, InputRefused
from tipfusion.store import hashlists as store
from tipfusion.store.db import ensure_schema
from tipfusion.store.repository import get_flag, now, set_flag

FORMATS = ("csv", "vics")
FLAG = "hashlists.matched"
_PDQ_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass
class ImportSummary:
    name: str
    source: str
    sha256: str
    format: str
    already_imported: bool = False
    rows: int = 0
    entries_added: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    matches: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MatchSummary:
    rebuilt: bool = False
    exact: int = 0
    near: int = 0
    files_matched: int = 0
    pdq_files: int = 0
    pdq_bank: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float | bool]:
        return asdict(self)


def import_file(
    engine: Engine, path: Path, name: str, fmt: str, actor: str, source: str | None = None
) -> ImportSummary:
    """Import `path` into the list `name` (created on first use); see the module docstring for what lands."""
    if fmt not in FORMATS:
        raise InputRefused(f"format {fmt!r}: expected one of {', '.join(FORMATS)}", "--format")
    if not name.strip():
        raise InputRefused("a hash list needs a name", "--name")
    name = name.strip()
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    summary = ImportSummary(name, str(path), sha, fmt)
    ensure_schema(engine)
    try:
        parsed = parse(data, fmt, source=str(path), default_source=source)
    except DocumentRejected as exc:
        with UnitOfWork(engine, actor) as uow:
            uow.record(
                "hashlist.import_refused", "hash_list", name, {"file": str(path), "sha256": sha, "why": str(exc)}
            )
        raise
    summary.rows = parsed.rows
    summary.ignored_columns = parsed.ignored_fields
    summary.rejected = [f"{path}:{p.line}: {p.field + ': ' if p.field else ''}{p.message}" for p in parsed.problems]
    at = now()
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        list_ = store.list_id(conn, name, actor, at)
        earlier = store.previous_import(conn, list_, sha)
        if earlier is not None:
            summary.already_imported = True
            summary.rows, summary.rejected, summary.ignored_columns = earlier.rows, [], []
            uow.record("hashlist.imported", "hash_list", name, {**_audit(summary), "first_import": earlier.id})
            return summary
        import_id = store.add_import(
            conn,
            list_id=list_,
            format=fmt,
            source_name=str(path),
            source_sha256=sha,
            imported_at=at,
            actor=actor,
            rows=parsed.rows,
        )
        first: dict[str, tuple[Any, ...]] = {}
        for e in parsed.entries:  # the file's first entry for each hash wins
            if e.canonical not in first:
                first[e.canonical] = (list_, import_id, e.algorithm, e.canonical, e.category, e.source, e.media_ref)
        summary.entries_added = store.add_entries(conn, list_, list(first.values()))
        summary.duplicates = len(parsed.entries) - summary.entries_added
        store.add_rejects(
            conn,
            [
                {
                    "import_id": import_id,
                    "source_name": str(path),
                    "line": p.line,
                    "field": p.field,
                    "message": p.message,
                }
                for p in parsed.problems
            ],
        )
        store.finish_import(conn, import_id, summary.entries_added, len(parsed.problems))
        uow.record("hashlist.imported", "hash_list", name, _audit(summary))
    summary.matches = refresh(engine, actor, force=True).as_dict()
    return summary


def _audit(summary: ImportSummary) -> dict[str, Any]:
    return {
        "file": summary.source,
        "sha256": summary.sha256,
        "format": summary.format,
        "already_imported": summary.already_imported,
        "rows": summary.rows,
        "entries_added": summary.entries_added,
        "rejected": len(summary.rejected),
    }


def refresh(engine: Engine, actor: str, force: bool = False) -> MatchSummary:
    """Rebuild the matches if a file hash or a list entry changed since they were built (or `force`)."""
    ensure_schema(engine)
    summary = MatchSummary()
    started = time.perf_counter()
    with UnitOfWork(engine, actor) as uow:
        conn = uow.conn
        if not force and not store.has_entries(conn):  # no list, so no match: nothing to write or to audit
            return summary
        mark = store.fingerprint(conn)
        if not force and get_flag(conn, FLAG) == mark:
            return summary
        rebuild(conn, summary)
        set_flag(conn, FLAG, mark)
        summary.seconds = round(time.perf_counter() - started, 3)
        uow.record("hashlist.matched", "hash_list", "all", summary.as_dict())
    return summary


def rebuild(conn: Connection, summary: MatchSummary | None = None) -> MatchSummary:
    """All matches again: exact in one SQL join, PDQ within 31 bits by multi-index hashing."""
    summary = summary or MatchSummary()
    summary.rebuilt = True
    store.clear_matches(conn)
    if not store.has_entries(conn):
        return summary
    summary.exact = store.add_exact_matches(conn)
    files = store.file_pdq_hashes(conn)
    bank = store.bank_pdq(conn)
    summary.pdq_files, summary.pdq_bank = len(files), len(bank)
    if files and bank:
        summary.near = store_near(conn, files, bank)
    summary.files_matched = len({(r, f) for r, f, *_ in store.matched_files(conn)})
    return summary


def _hex_only(values: list[str]) -> tuple[list[int], list[str]]:
    """Indexes and hex of the canonicals that are well-formed PDQ hashes (others cannot be near anything)."""
    keep, hexes = [], []
    for i, canonical in enumerate(values):
        digits = canonical[4:].strip().lower()
        if _PDQ_HEX.fullmatch(digits):
            keep.append(i)
            hexes.append(digits)
    return keep, hexes


def store_near(conn: Connection, files: list[tuple[int, int, str]], bank: list[tuple[int, int, str]]) -> int:
    distinct = sorted({canonical for _, _, canonical in files})
    q_keep, q_hex = _hex_only(distinct)
    b_keep, b_hex = _hex_only([canonical for _, _, canonical in bank])
    if not q_hex or not b_hex:
        return 0
    from tipfusion.enrich.hashlists import pdq  # NumPy: loaded only when there are PDQ hashes to compare

    q_idx, b_idx, dist = pdq.near_pairs(pdq.from_hex(q_hex), pdq.from_hex(b_hex))
    by_value: dict[str, list[tuple[int, int]]] = {}
    for report, ordinal, canonical in files:
        by_value.setdefault(canonical, []).append((report, ordinal))
    rows: dict[tuple[int, int, int], tuple[int, int, int, str, int, int]] = {}
    for qi, bi, d in zip(q_idx.tolist(), b_idx.tolist(), dist.tolist(), strict=True):
        canonical = distinct[q_keep[qi]]
        entry, list_, _ = bank[b_keep[bi]]
        for report, ordinal in by_value[canonical]:
            key = (report, ordinal, entry)
            if key not in rows or rows[key][5] > d:
                rows[key] = (report, ordinal, entry, canonical, list_, int(d))
    store.add_near_matches(conn, [row for _, row in sorted(rows.items())])  # PDQ entries: never an exact match row
    return len(rows)


def known_content(conn: Connection) -> dict[tuple[int, int], str]:
    """(report, file ordinal) → why the file is known content, in words (the first list it is on).

    "First" by list name, distance, listed hash in Python's order (by code point), not the database's: a
    PostgreSQL collation such as en_US sorts names otherwise, and the Spark engine must pick the same list."""
    out: dict[tuple[int, int], str] = {}
    matched = sorted(store.matched_files(conn), key=lambda m: (m[0], m[1], m[2], m[5], m[6]))
    for report, ordinal, name, category, source, distance, _listed in matched:
        if (report, ordinal) not in out:
            out[(report, ordinal)] = describe_match(name, category, source, distance)
    return out


def describe_match(name: str, category: str | None, source: str | None, distance: int | None) -> str:
    """Why a matched file is known content, in words."""
    details = [f"category {category}" if category else None, f"source {source}" if source else None]
    if distance:
        details.append(f"PDQ {distance} bits from a listed hash")
    extra = ", ".join(d for d in details if d)
    return f"on known-content list {name!r}" + (f" ({extra})" if extra else "")


def lists_loaded(conn: Connection) -> int:
    """How many lists hold entries: with none, no file can be called unknown."""
    return store.lists_with_entries(conn)


def list_summaries(engine: Engine) -> list[dict[str, Any]]:
    """Every list: hashes by kind, imports, rejected rows, files in the store it matches now."""
    with engine.connect() as conn:
        return store.summaries(conn)


def list_rejects(engine: Engine, name: str) -> list[dict[str, Any]]:
    """The rows of a list's files that were refused: file, line, field and why."""
    with engine.connect() as conn:
        return store.rejects_of(conn, name)


def report_matches(engine: Engine, actor: str, report_id: int) -> list[dict[str, Any]]:
    """A report's files on a known-content list (NotFound for a report the store does not hold); the view is
    audited in the same unit as the read."""
    from tipfusion.store.report_detail import report_detail

    with UnitOfWork(engine, actor) as uow:
        report_detail(uow.conn, report_id)
        rows = store.matches_of_report(uow.conn, report_id)
        uow.record("view.hashlist_matches", "report", str(report_id), {})
    return rows


__all__ = [
    "FORMATS",
    "ImportSummary",
    "MatchSummary",
    "describe_match",
    "import_file",
    "known_content",
    "list_rejects",
    "list_summaries",
    "rebuild",
    "refresh",
    "report_matches",
]
