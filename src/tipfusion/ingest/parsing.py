"""The CPU-bound half of ingest: bytes in, database-ready rows out — no database, so it runs in worker processes.

A `ParseTask` carries everything one report version needs (its document or JSON object, and the bytes of
every fileDetails in its composition). The outcome is small and cheap to send back: the report's rows,
already converted for the target database, or the rejection that sends it to quarantine.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import signal
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tipfusion.config import XmlLimits
from tipfusion.domain import UNKNOWN_ISSUES, ParsedReport, SourcePart
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml, registry
from tipfusion.ingest.failures import detached, failure
from tipfusion.ingest.registry import ParseContext
from tipfusion.memory import collector_paused
from tipfusion.store.repository import ReportRows, now, process_rows, report_rows

UNKNOWN_CODES = UNKNOWN_ISSUES
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Parser processes (spawned: no copy of the parent's connections) that die with the process that started
    them, so a killed ingest leaves no orphans parsing on."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when its parent dies (PR_SET_PDEATHSIG), and leave now if it already has.

    The signal follows the thread that started the worker: the pool is made and fed from the thread that runs the
    ingest, which outlives it. Elsewhere than Linux the worker still ends when the pool's pipes close.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with suppress(OSError, AttributeError):  # no prctl to be had: the pool's pipes still end the worker
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


@dataclass(slots=True)
class FilePayload:
    file_id: str
    sha256: str
    name: str
    format: str
    data: bytes
    from_batch: bool
    orphan_entry: int | None = None


@dataclass(slots=True)
class ParseTask:
    report_id: int
    version: int
    base: SourcePart
    format: str  # the registered format that parses `payload`
    payload: Any  # a piece of a report document (its bytes, or a JSON report object)
    files: list[FilePayload] = field(default_factory=list)
    held_hashes: frozenset[str] = frozenset()


@dataclass(slots=True)
class ParseOutcome:
    report_id: int
    version: int
    base: SourcePart
    files: list[FilePayload]
    input_format: str = ""  # the registered format the report was read as
    rows: ReportRows | None = None
    content_hash: str | None = None
    format: str | None = None
    part_names: list[str] = field(default_factory=list)
    rejected: DocumentRejected | None = None
    file_rejections: list[tuple[DocumentRejected, str, str]] = field(default_factory=list)  # (why, sha, format)
    duplicate: bool = False
    issues: Counter[str] = field(default_factory=Counter)
    unknown: int = 0


@dataclass(frozen=True, slots=True)
class ParseConfig:
    phone_region: str
    limits: XmlLimits
    run_id: int
    dialect: str  # rows are converted for this database (sqlite: strings and ints; postgresql: kept for COPY)


def parse_tasks(tasks: list[ParseTask], config: ParseConfig) -> list[ParseOutcome]:
    stamp = now()
    return [parse_task(task, config, stamp) for task in tasks]


def parse_tasks_packed(tasks: list[ParseTask], config: ParseConfig) -> tuple[list[ParseOutcome], bytes]:
    """parse_tasks for a worker process: the rows travel back as one marshal blob (several times cheaper
    to send than pickled objects); `unpack` restores them. The cycle collector is paused while they are parsed, and
    collects what is left once the rows are packed and let go: walking the rows themselves cost 80 ms a chunk."""
    with collector_paused():
        outcomes = parse_tasks(tasks, config)
        rows = [None if o.rows is None else tuple(getattr(o.rows, n) for n in ReportRows.__slots__) for o in outcomes]
        for outcome in outcomes:
            outcome.rows = None
        packed = marshal.dumps(rows)
        del rows
    return outcomes, packed


def unpack(packed: tuple[list[ParseOutcome], bytes]) -> list[ParseOutcome]:
    outcomes, blob = packed
    for outcome, rows in zip(outcomes, marshal.loads(blob), strict=True):
        if rows is not None:
            outcome.rows = ReportRows(*rows)
    return outcomes


def parse_task(task: ParseTask, config: ParseConfig, stamp: datetime | None = None) -> ParseOutcome:
    outcome = ParseOutcome(task.report_id, task.version, task.base, task.files, task.format)
    try:
        return _parse_task(task, config, stamp, outcome)
    except Exception as exc:  # any failure parsing one report rejects that report alone
        rejected = failure(task.base.source_name, exc, task.report_id)
        return ParseOutcome(task.report_id, task.version, task.base, task.files, task.format, rejected=rejected)


def _parse_task(task: ParseTask, config: ParseConfig, stamp: datetime | None, outcome: ParseOutcome) -> ParseOutcome:
    try:
        report = _parse_base(task, config)
    except DocumentRejected as exc:
        outcome.rejected = detached(exc)
        return outcome
    parsed = []
    for payload in task.files:
        # hash checked by the caller at load time; a bad fileDetails is rejected alone, the report still lands
        try:
            context = ParseContext(payload.name, payload.sha256, config.phone_region, config.limits)
            parsed.append(registry.get(payload.format).parse(payload.data, context))
        except Exception as exc:
            rejected = failure(payload.name, exc, task.report_id)
            rejected.report_id = task.report_id
            outcome.file_rejections.append((rejected, payload.sha256, payload.format))
    esp_xml.attach_files(report, parsed)
    outcome.content_hash = report.content_hash
    outcome.format = report.format
    outcome.part_names = [p.source_name for p in report.parts]
    if report.content_hash in task.held_hashes:  # dropping a bad fileDetails left a composition already held
        outcome.duplicate = True
        return outcome
    outcome.issues = Counter(issue.code for issue in report.issues)
    outcome.unknown = sum(n for code, n in outcome.issues.items() if code in UNKNOWN_CODES)
    outcome.rows = process_rows(config.dialect, report_rows(report, task.version, config.run_id, stamp or now()))
    return outcome


def _parse_base(task: ParseTask, config: ParseConfig) -> ParsedReport:
    context = ParseContext(
        task.base.source_name, task.base.source_sha256, config.phone_region, config.limits, task.report_id
    )
    report: ParsedReport = registry.get(task.format).parse(task.payload, context)
    return report


def as_dict(outcome: ParseOutcome) -> dict[str, Any]:
    """For audit details."""
    return {
        "version": outcome.version,
        "content_hash": outcome.content_hash,
        "format": outcome.format,
        "parts": outcome.part_names,
    }
