"""Ingest: every document lands exactly once, whole, traceable to its bytes — or goes to quarantine.

Classify → plan → write, over the input formats registry (`tipfusion.ingest.registry`); nothing here names a
format. Classify (pass 1) asks the registry which format each document is and does what that format's role asks:
a report format splits it into pieces that each land alone, fileDetails are grouped under their report (they may sit
anywhere in the batch, in any order), leads and containers are kept, reference data is named as skipped. Plan and
write (pass 2) take reports in chunks: for each, the version's composition (the report piece plus every fileDetails
known for it, in the batch, already stored, or waiting in quarantine) is skipped if that exact composition is
already held, and otherwise parsed (by its format, in worker processes) and written. A chunk is one transaction; if
a bulk write fails, the chunk is written again one report per savepoint so only the failing report goes to
quarantine. Everything refused becomes a `QuarantineEntry`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from tipfusion.audit import AuditEvent, UnitOfWork
from tipfusion.config import Settings
from tipfusion.domain import QuarantineEntry, SourcePart
from tipfusion.domain.records import composition_hash
from tipfusion.errors import DocumentRejected, InputRefused
from tipfusion.ingest import registry
from tipfusion.ingest.failures import detached, failure, quarantined_events
from tipfusion.ingest.ledger import FileRef, Ledger, Unit
from tipfusion.ingest.parsing import (
    FilePayload,
    ParseConfig,
    ParseOutcome,
    ParseTask,
    as_dict,
    parse_tasks,
    parse_tasks_packed,
    unpack,
    worker_pool,
)
from tipfusion.ingest.registry import Format, ParseContext, Piece
from tipfusion.ingest.sources import BrokenContainer, Document, Item, LoadedDocument, Skipped, iter_documents
from tipfusion.memory import collect_young, collector_paused
from tipfusion.store import repository as repo
from tipfusion.store.db import ensure_schema, store_files
from tipfusion.store.statistics import refresh_statistics

Progress = Callable[[int, int], None]
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_ACTOR = 200  # ingest_runs.actor and audit_events.actor


@dataclass
class IngestSummary:
    documents: int = 0
    new_documents: int = 0
    accepted: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    waiting_file_details: int = 0
    attached_file_details: int = 0
    lead_identifiers: int = 0
    unknown_fields: int = 0
    issues: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    run_id: int | None = None
    synthetic: bool = False  # this run flagged the store synthetic (or found it so, with a marker in the batch)
    marker_refused: list[str] = field(default_factory=list)  # "name: why" for markers that did not flag the store
    rejected: list[str] = field(default_factory=list)
    reference_skipped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: why" for what was deliberately not read

    @property
    def reports_per_second(self) -> float:
        handled = self.accepted + self.updated + self.duplicates
        return handled / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "new_documents": self.new_documents,
            "accepted": self.accepted,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "waiting_file_details": self.waiting_file_details,
            "attached_file_details": self.attached_file_details,
            "lead_identifiers": self.lead_identifiers,
            "unknown_fields": self.unknown_fields,
            "issues": dict(self.issues),
            "seconds": round(self.seconds, 3),
            "synthetic": self.synthetic,
            "synthetic_marker_refused": list(self.marker_refused),
            "reference_skipped": len(self.reference_skipped),
            "reference_skipped_files": list(self.reference_skipped),  # the run record names what the count counts
            "skipped": len(self.skipped),
            "skipped_files": list(self.skipped),
        }


@dataclass(slots=True)
class _Rejection:
    """A document (or one piece of it) refused in pass 1, with the format it was read as, if any."""

    document: LoadedDocument
    error: DocumentRejected
    format: str | None = None


@dataclass
class _Batch:
    """What pass 1 found: the reports and fileDetails on disk (`ledger`), the rest as read."""

    ledger: Ledger
    leads: list[tuple[Format, Document | LoadedDocument]] = field(default_factory=list)
    to_store: dict[str, repo.SourceRow] = field(default_factory=dict)
    rejections: list[_Rejection] = field(default_factory=list)
    markers: list[tuple[str, str]] = field(default_factory=list)  # (name, sha256) of synthetic-data markers read
    rejected_bytes: int = 0  # the bytes `rejections` holds (they are kept whole, to be stored as the evidence)
    counted: int = 0  # how many of `rejections` are in `rejected_bytes`


# pass 1 stores what it refused once this much is held, so a batch of large bad documents is not held whole
REJECTED_BYTES_HELD = 32 * 1024 * 1024
LEADS_PER_WRITE = 2000  # lead items parsed, held and written at a time
CLASSIFIED_PER_COLLECTION = 2000  # documents pass 1 reads between two collections of their garbage
CHUNK_BYTES = 64 * 1024 * 1024  # a chunk of pass 2 closes once its units' documents hold this much


class IngestService:
    def __init__(self, engine: Engine, settings: Settings, actor: str, *, synthetic: bool = False):
        """`synthetic`: the person ingesting says this batch is generated test data (`tipfusion ingest
        --synthetic`): the store is flagged synthetic whatever it already holds. Without it only a marker in the
        batch flags it, and only a store that holds nothing but that batch's reports (see `_settle_synthetic`)."""
        if not actor.strip() or len(actor) > MAX_ACTOR:
            raise InputRefused(f"the acting person must be 1 to {MAX_ACTOR} characters (got {len(actor)})", "--as")
        self.engine = engine
        self.settings = settings
        self.actor = actor
        self.synthetic = synthetic
        self.region = settings.profile.phone_region
        self.limits = settings.xml_limits
        self._changed: Counter[str] = Counter()  # table → rows this run wrote (`store.statistics`)

    # -- entry points ------------------------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestSummary:
        path_list = [Path(p) for p in paths]
        missing = [str(p) for p in path_list if not p.exists()]
        if missing:
            raise FileNotFoundError(f"{', '.join(missing)}: no such file or directory")
        # the store's own files (a SQLite store beside the batch, its WAL) are never ingested into it
        own = [str(p) for p in store_files(str(self.engine.url))]
        return self.run([str(p) for p in path_list], iter_documents(path_list, self.limits, exclude=own), progress)

    # -- the run ----------------------------------------------------------------------------------------------
    def run(
        self,
        labels: list[str],
        documents: Iterable[Item],
        progress: Progress | None,
    ) -> IngestSummary:
        started = time.perf_counter()
        ensure_schema(self.engine)
        summary = IngestSummary()
        self._changed.clear()
        with UnitOfWork(self.engine, self.actor) as uow:  # the run's row; its entry is written when it finishes
            summary.run_id = run_id = repo.start_run(uow.conn, self.actor, "ingest", labels)
        with Ledger() as ledger:
            # Both passes run with the cycle collector paused, and what each step left is collected after it
            # (`collector_paused`): the walks of the whole heap that the collector starts cost more than the parsing.
            with collector_paused():
                batch = self._classify(documents, summary, run_id, ledger)
            pieces, files, files_only = ledger.counts()
            total = pieces + files
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, total)

            with UnitOfWork(self.engine, self.actor) as uow:
                self._store_rejections(uow, batch.rejections, batch.to_store, run_id, summary)
                self._ingest_leads(uow, batch.leads, run_id, summary)
            # each report's fileDetails come with its first whole document; fileDetails whose report is not in this
            # batch come last, to attach to a held report (or wait in quarantine)
            with collector_paused():
                self._land(ledger.units(), pieces + files_only, batch.to_store, run_id, summary, tick)
            summary.seconds = time.perf_counter() - started
            self._finish(batch, labels, run_id, summary)
        return summary

    def _finish(self, batch: _Batch, labels: list[str], run_id: int, summary: IngestSummary) -> None:
        with UnitOfWork(self.engine, self.actor) as uow:
            conn = uow.conn
            if batch.to_store:  # documents not tied to any report (e.g. a zip container)
                summary.new_documents += repo.store_sources(conn, batch.to_store.values(), run_id)
            self._settle_synthetic(uow, batch, run_id, summary)
            repo.finish_run(conn, run_id, summary.as_dict())
            refresh_statistics(conn, self._changed)  # the next stage plans its reads from what this run wrote
            uow.record("ingest.completed", "ingest_run", str(run_id), {"paths": labels, **summary.as_dict()})

    def _settle_synthetic(self, uow: UnitOfWork, batch: _Batch, run_id: int, summary: IngestSummary) -> None:
        """Flag the store synthetic for a marker in the batch, or refuse the marker, in the run's last transaction.

        A marker speaks for its own batch only: it is honoured when the store is already synthetic or holds no
        report this batch did not bring (an empty store; also a synthetic batch ingested again after a killed run,
        whose reports are all this batch's). Otherwise a stray `SYNTHETIC-DATA.json` (or a CSV with the ground-truth
        header) would put a false "synthetic" banner on a store of real reports and on every document sent from it:
        the marker is refused — kept whole (stored with the batch), quarantined with the reason, named in the run
        summary — and the store is left as it was. `--synthetic` (`self.synthetic`) flags it on purpose. A store once
        synthetic stays so: reports that arrive later are shown as synthetic too (never the other way round)."""
        if not batch.markers and not self.synthetic:
            return
        conn = uow.conn
        outsider = None
        if not self.synthetic and repo.get_flag(conn, "synthetic") != "true":
            outsider = repo.report_outside(conn, batch.ledger.report_ids())
        if outsider is None:
            summary.synthetic = True
            repo.set_flag(conn, "synthetic", "true")
            return
        why = (
            f"the store already holds report {outsider}, which this batch did not bring; a marker file never makes a "
            "store of other reports synthetic (ingest with --synthetic to flag it on purpose)"
        )
        entries = [QuarantineEntry.marker_refused(sha, name, why, run_id) for name, sha in batch.markers]
        fresh = repo.add_quarantine(conn, entries)
        summary.quarantined += len(entries)
        summary.rejected.extend(e.describe() for e in entries)
        summary.marker_refused.extend(f"{name}: {why}" for name, _ in batch.markers)
        uow.record_all(quarantined_events(fresh))

    # -- pass 1: classify ----------------------------------------------------------------------------------------
    def _classify(self, documents: Iterable[Item], summary: IngestSummary, run_id: int, ledger: Ledger) -> _Batch:
        batch = _Batch(ledger)
        for n, item in enumerate(documents, 1):
            self._store_rejections_held(batch, run_id, summary)
            self._classify_item(item, batch, summary)
            if n % CLASSIFIED_PER_COLLECTION == 0:
                collect_young()
        return batch

    def _classify_item(self, item: Item, batch: _Batch, summary: IngestSummary) -> None:
        """One document of pass 1, in a call of its own: its bytes are let go when it returns, never held while the
        next document is read (a loop variable kept the previous 56 MiB document alive)."""
        if isinstance(item, Skipped):
            summary.skipped.append(f"{item.name}: {item.reason}")
            return
        summary.documents += 1
        if isinstance(item, BrokenContainer):
            batch.rejections.append(_Rejection(item.document, item.error))
            return
        if isinstance(item, LoadedDocument):
            loaded, doc = item, None
        else:
            try:
                loaded = LoadedDocument.of(item)
            except Exception as exc:  # one unreadable document is that document's problem, not the batch's
                empty = LoadedDocument(item.name, b"", "", item.container)
                batch.rejections.append(_Rejection(empty, failure(item.name, exc)))
                return
            doc = item
        fmt: Format | None = None
        try:  # a sniff that fails is this document's problem too
            fmt = registry.classify(loaded.name, loaded.data)
            if fmt is None:
                raise registry.unclaimed(loaded.name, loaded.data)
            self._classify_one(fmt, loaded, doc, batch, summary)
        except Exception as exc:  # DocumentRejected, or any failure: this document alone
            batch.rejections.append(_Rejection(loaded, failure(loaded.name, exc), fmt.name if fmt else None))

    def _store_rejections_held(self, batch: _Batch, run_id: int, summary: IngestSummary) -> None:
        """Store and quarantine what pass 1 refused so far once it holds REJECTED_BYTES_HELD: the fuzzer's batch of
        five 72 MiB bad documents was held whole (426 MiB). Safe to repeat after a kill: an open entry is not added
        twice, a document is stored once."""
        batch.rejected_bytes += sum(len(r.document.data) for r in batch.rejections[batch.counted :])
        batch.counted = len(batch.rejections)
        if batch.rejected_bytes < REJECTED_BYTES_HELD:
            return
        with UnitOfWork(self.engine, self.actor) as uow:
            self._store_rejections(uow, batch.rejections, batch.to_store, run_id, summary)
        batch.rejections.clear()
        batch.rejected_bytes = batch.counted = 0

    def _classify_one(
        self, fmt: Format, loaded: LoadedDocument, doc: Document | None, batch: _Batch, summary: IngestSummary
    ) -> None:
        """Sort one document by what its format's role asks of ingest; a raise rejects this document alone."""
        if fmt.role == "reference":
            summary.reference_skipped.append(loaded.name)
            return
        if fmt.role in {"container", "marker"}:  # a zip is kept whole (its members come next from iter_documents)
            if fmt.role == "marker":
                batch.markers.append((loaded.name, loaded.sha256))
            batch.to_store[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, fmt.name, loaded.container
            )
            return
        if fmt.role == "leads":  # read again when it is stored (a batch's lists are not held together)
            batch.leads.append((fmt, doc or loaded))
            return
        source = doc or Document(loaded.name, _constant(loaded.data), loaded.container)
        for piece in fmt.split(loaded, self.limits):
            if isinstance(piece, DocumentRejected):  # one piece's problem: the others still land
                batch.rejections.append(_Rejection(loaded, detached(piece), fmt.name))
            elif fmt.role == "file_details":
                # keyed by the document, not the fileId: several fileDetails for one file each add details
                ref = FileRef(str(piece.key), loaded.sha256, loaded.name, fmt.name, source, loaded.container)
                batch.ledger.add_file(piece.report_id, ref)
            else:
                kept = source if piece.payload is None else loaded
                batch.ledger.add_unit(Unit(piece.report_id, piece.name, fmt, piece, kept))

    # -- pass 2 -----------------------------------------------------------------------------------------------
    def _land(
        self,
        units: Iterable[Unit],
        count: int,
        loose: dict[str, repo.SourceRow],
        run_id: int,
        summary: IngestSummary,
        tick: Callable[[int], None],
    ) -> None:
        """Plan each chunk (main process), parse it (worker processes), write it (main process), pipelined."""
        config = ParseConfig(self.region, self.limits, run_id, self.engine.dialect.name)
        chunks = _chunks_unique(units, self.settings.reports_per_transaction)
        workers = self._workers(count)
        if workers == 0:
            for chunk in chunks:
                self._land_chunk(chunk, loose, config, summary)
                tick(len(chunk))
                collect_young()
            return
        with worker_pool(workers) as pool:
            inflight: deque[tuple[_Plan, list[Future[tuple[list[ParseOutcome], bytes]]]]] = deque()
            for chunk in chunks:
                plan = self._plan(chunk, run_id)
                # each chunk is shared among the workers, so all of them parse from the first chunk to the last:
                # one chunk per worker left the other workers idle while the first chunk filled the pipeline and
                # while the last drained it (3 of 5 chunks of a 10 k-report batch)
                parts = _shares(plan.tasks, workers)
                inflight.append((plan, [pool.submit(parse_tasks_packed, part, config) for part in parts]))
                del plan, parts  # held by `inflight` until written, and no longer
                while len(inflight) > workers:
                    done, futures = inflight.popleft()
                    self._write_chunk(done, _outcomes(done, futures, config), loose, config, summary)
                    tick(len(done.units))
                    del done, futures
                    collect_young()
            while inflight:
                done, futures = inflight.popleft()
                self._write_chunk(done, _outcomes(done, futures, config), loose, config, summary)
                tick(len(done.units))
                del done, futures
                collect_young()

    def _land_chunk(
        self, chunk: list[Unit], loose: dict[str, repo.SourceRow], config: ParseConfig, summary: IngestSummary
    ) -> None:
        """Plan, parse and write one chunk here, in a call of its own: its documents are let go when it returns,
        never held while the next chunk is planned (a loop variable kept the previous chunk alive)."""
        plan = self._plan(chunk, config.run_id)
        self._write_chunk(plan, parse_tasks(plan.tasks, config), loose, config, summary)

    def _workers(self, units: int) -> int:
        """Worker processes for parsing: none for small batches, where starting them costs more than it saves."""
        if not registry.all_in_workers():
            return 0  # a format registered in this process only (its reports, or a held version's): parsed here
        if self.settings.ingest_workers >= 0:
            return self.settings.ingest_workers
        if units < 4 * self.settings.reports_per_transaction:
            return 0
        return max(1, min(os.cpu_count() or 1, 4))

    def _plan(self, units: list[Unit], run_id: int, conn: Connection | None = None) -> _Plan:
        """Decide, for each unit, what its new version would be made of; load the bytes the parser needs."""
        if conn is None:
            with self.engine.connect() as read:
                return self._plan(units, run_id, read)
        ids = [u.report_id for u in units]
        stored = repo.stored_reports(conn, ids)
        orphans = repo.open_orphans(conn, ids)
        plan = _Plan(units=units, signature=_signature(stored, orphans, ids))
        for unit in units:
            try:
                self._plan_unit(conn, unit, stored.get(unit.report_id), orphans.get(unit.report_id, []), plan, run_id)
            except Exception as exc:  # its bytes could not be read again: this unit alone is quarantined
                rejected = failure(unit.name, exc, unit.report_id)
                fmt = unit.format.name if unit.format else None
                plan.quarantine.append(QuarantineEntry.of(rejected, EMPTY_SHA256, run_id, fmt=fmt))
                plan.sources.setdefault(EMPTY_SHA256, repo.SourceRow(EMPTY_SHA256, unit.name, b"", "unread", None))
        return plan

    def _plan_unit(
        self,
        conn: Connection,
        unit: Unit,
        held: repo.StoredReport | None,
        orphans: list[Any],
        plan: _Plan,
        run_id: int,
    ) -> None:
        files = self._compose_files(unit, held, orphans)
        base = self._base(conn, unit, held, plan, run_id)
        if base is None:
            return
        part, base_format, payload = base
        parts = [part] + [SourcePart("file_details", f.sha256, f.sha256, f.name, f.file_id) for f in files.values()]
        if held is not None and composition_hash(parts) in held.hashes:
            plan.duplicates += 1
            return
        payloads = []
        for ref in files.values():
            if ref.doc is not None:
                loaded = LoadedDocument.of(ref.doc)
                plan.sources[loaded.sha256] = repo.SourceRow(
                    loaded.sha256, loaded.name, loaded.data, ref.format, loaded.container
                )
                payloads.append(FilePayload(ref.file_id, loaded.sha256, ref.name, ref.format, loaded.data, True))
            else:
                blob = repo.load_blob(conn, ref.sha256)
                payloads.append(
                    FilePayload(ref.file_id, ref.sha256, ref.name, ref.format, blob, False, ref.orphan_entry)
                )
        plan.tasks.append(
            ParseTask(
                unit.report_id,
                held.current_version + 1 if held else 1,
                part,
                base_format,
                payload,
                payloads,
                frozenset(held.hashes) if held else frozenset(),
            )
        )

    def _compose_files(self, unit: Unit, held: repo.StoredReport | None, orphans: list[Any]) -> dict[str, FileRef]:
        """Every fileDetails document the report has ever had, by document hash: held ones carry forward,
        waiting ones and the batch's own join. Several documents for one fileId all stay (each adds
        details to the file); the same document again is the same part, so re-sending it changes nothing."""
        files: dict[str, FileRef] = {}
        held_format = registry.by_part_role("file_details")  # what held and waiting fileDetails are read as
        file_format = held_format.name if held_format else ""
        if held is not None:
            for part in held.parts:
                if part["role"] != "file_details":
                    continue
                sha = part["source_sha256"]
                files[sha] = FileRef(part["pointer"], sha, sha, file_format)
        for entry in orphans:
            files.setdefault(
                entry.source_sha256,
                FileRef(
                    entry.pointer,
                    entry.source_sha256,
                    entry.source_name,
                    file_format,
                    orphan_entry=entry.id,
                ),
            )
        for sha, ref in unit.files.items():
            if sha not in files or files[sha].orphan_entry is None:
                files[sha] = ref
        return dict(sorted(files.items(), key=lambda item: (item[1].file_id, item[0])))

    def _base(
        self, conn: Connection, unit: Unit, held: repo.StoredReport | None, plan: _Plan, run_id: int
    ) -> tuple[SourcePart, str, Any] | None:
        """The report's own part, its format and what that format parses: the piece from this batch, or (fileDetails
        for a held report) the held version's, split again from its stored document."""
        fmt, piece = unit.format, unit.piece
        if fmt is not None and piece is not None and unit.doc is not None:
            loaded = unit.doc if isinstance(unit.doc, LoadedDocument) else LoadedDocument.of(unit.doc)
            plan.sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, fmt.name, loaded.container
            )
            part_sha = piece.part_sha256 or loaded.sha256
            part = SourcePart(str(fmt.part_role), part_sha, loaded.sha256, loaded.name, piece.pointer)
            return part, fmt.name, loaded.data if piece.payload is None else piece.payload
        if held is None:  # fileDetails for a report that has not arrived: they wait in quarantine
            self._wait(
                unit.report_id,
                unit.files.values(),
                plan,
                run_id,
                "its report has not arrived yet; it attaches when it does",
            )
            return None
        for stored_part in held.parts:
            fmt = registry.by_part_role(stored_part["role"])
            if fmt is None or fmt.role != "report":
                continue
            sha = stored_part["source_sha256"]
            name = repo.source_row(conn, sha).name
            part = SourcePart(stored_part["role"], stored_part["part_sha256"], sha, name, stored_part["pointer"])
            blob = repo.load_blob(conn, sha)
            if part.pointer is None:
                return part, fmt.name, blob
            for again in fmt.split(LoadedDocument(name, blob, sha), self.limits):
                if isinstance(again, Piece) and again.pointer == part.pointer:
                    return part, fmt.name, again.payload
        return None

    def _wait(self, report_id: int, refs: Iterable[FileRef], plan: _Plan, run_id: int, why: str) -> None:
        """fileDetails from this batch whose report did not land wait in quarantine, kept byte for byte."""
        for ref in refs:
            if ref.doc is None:
                continue
            loaded = LoadedDocument.of(ref.doc)
            plan.sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, ref.format, loaded.container
            )
            plan.waiting += 1
            plan.quarantine.append(
                QuarantineEntry.waiting(loaded.sha256, ref.name, ref.file_id, report_id, why, run_id, ref.format)
            )

    def _write_chunk(
        self,
        plan: _Plan,
        outcomes: list[ParseOutcome],
        loose: dict[str, repo.SourceRow],
        config: ParseConfig,
        summary: IngestSummary,
    ) -> None:
        run_id = config.run_id
        with UnitOfWork(self.engine, self.actor) as uow:  # one chunk of pass 2: its reports and their entries
            conn = uow.conn
            ids = [u.report_id for u in plan.units]
            now_signature = _signature(repo.stored_reports(conn, ids), repo.open_orphans(conn, ids), ids)
            if now_signature != plan.signature:
                # the store changed since planning (a later version in the same batch, or another ingest):
                # plan and parse this chunk again, inside the write transaction
                plan = self._plan(plan.units, run_id, conn)
                outcomes = parse_tasks(plan.tasks, config)
            landing: list[ParseOutcome] = []
            for outcome in outcomes:
                for exc, sha, file_format in outcome.file_rejections:
                    plan.quarantine.append(QuarantineEntry.of(exc, sha, run_id, fmt=file_format))
                if outcome.rejected is not None:
                    plan.quarantine.append(
                        QuarantineEntry.of(
                            outcome.rejected,
                            outcome.base.source_sha256,
                            run_id,
                            pointer=outcome.base.pointer,
                            fmt=outcome.input_format,
                        )
                    )
                    batch_refs = [
                        FileRef(f.file_id, f.sha256, f.name, f.format, doc=Document(f.name, _constant(f.data)))
                        for f in outcome.files
                        if f.from_batch
                    ]
                    self._wait(outcome.report_id, batch_refs, plan, run_id, "its report was quarantined")
                elif outcome.duplicate:
                    plan.duplicates += 1
                else:
                    landing.append(outcome)
            events: list[AuditEvent] = []
            written = self._write_outcomes(conn, landing, plan, run_id)
            self._count_rows(written)
            resolved: list[int] = []
            refused: list[int] = []  # waited, then its own parse refused it: quarantined anew, not attached
            for outcome in written:
                summary.accepted += outcome.version == 1
                summary.updated += outcome.version > 1
                rejected_files = {sha for _, sha, _ in outcome.file_rejections}
                for f in outcome.files:
                    if f.orphan_entry is not None:
                        (refused if f.sha256 in rejected_files else resolved).append(f.orphan_entry)
                summary.attached_file_details += sum(1 for f in outcome.files if f.orphan_entry in resolved)
                summary.issues.update(outcome.issues)
                summary.unknown_fields += outcome.unknown
                events.append(
                    AuditEvent(
                        "report.ingested" if outcome.version == 1 else "report.updated",
                        "report",
                        str(outcome.report_id),
                        as_dict(outcome),
                    )
                )
            if resolved:
                repo.resolve_quarantine(conn, resolved, "attached to its report")
            if refused:
                repo.resolve_quarantine(
                    conn, refused, "its report arrived; the fileDetails was refused (see its entry)"
                )
            for sha in plan.sources:
                loose.pop(sha, None)
            stored = repo.store_sources(conn, plan.sources.values(), run_id)
            summary.new_documents += stored
            self._changed[repo.SOURCE_DOCUMENTS_TABLE] += stored
            fresh = repo.add_quarantine(conn, plan.quarantine)
            rejected = [q for q in plan.quarantine if q.rejected]
            summary.quarantined += len(rejected)
            summary.rejected.extend(q.describe() for q in rejected)
            summary.duplicates += plan.duplicates
            summary.waiting_file_details += plan.waiting
            events.extend(quarantined_events(fresh))
            uow.record_all(events)

    def _count_rows(self, written: list[ParseOutcome]) -> None:
        """Rows written per table, for the planner's statistics (`store.statistics`)."""
        self._changed[repo.REPORTS_TABLE] += len(written)
        for outcome in written:
            if outcome.rows is not None:
                for name, table, _ in repo.ROW_TABLES:
                    self._changed[table.name] += len(getattr(outcome.rows, name))

    def _write_outcomes(
        self, conn: Connection, landing: list[ParseOutcome], plan: _Plan, run_id: int
    ) -> list[ParseOutcome]:
        """Write in bulk; if the store refuses, write one report per savepoint so only the bad one is quarantined."""

        def write(items: list[ParseOutcome]) -> None:
            rows = repo.ReportRows()
            for item in items:
                assert item.rows is not None
                rows.extend(item.rows)
            repo.write_rows(conn, [(o.report_id, o.version, o.format or "") for o in items], rows)

        try:
            with conn.begin_nested():
                write(landing)
            return landing
        except Exception:  # which report it was is found below, one savepoint each
            pass
        written = []
        for outcome in landing:
            try:
                with conn.begin_nested():
                    write([outcome])
                written.append(outcome)
            except Exception as exc:  # the store refused it (a value too long for a column, out of range): it alone
                self._refused(conn, outcome, exc, plan, run_id)
        return written

    def _refused(self, conn: Connection, outcome: ParseOutcome, exc: Exception, plan: _Plan, run_id: int) -> None:
        """Quarantine what made a refused version, so every document of it is accounted for.

        A version that adds this batch's fileDetails to a report already held was refused because of what those
        documents carry (PostgreSQL refused an `industryClassification` longer than its column): each is
        quarantined by name and the held report, whose version still stands, is left alone. Charging the refusal
        to the held report instead left the new fileDetails stored but neither a part nor quarantined (issue 14,
        "lost"). A new report document is quarantined itself, and this batch's fileDetails wait for it."""
        batch_files = [f for f in outcome.files if f.from_batch]
        base = outcome.base
        if batch_files and repo.holds_part(conn, outcome.report_id, base.source_sha256):
            for f in batch_files:
                refused = _store_refused(f.name, exc, outcome.report_id)
                plan.quarantine.append(QuarantineEntry.of(refused, f.sha256, run_id, pointer=f.file_id, fmt=f.format))
            return
        refused = _store_refused(base.source_name, exc, outcome.report_id)
        plan.quarantine.append(
            QuarantineEntry.of(refused, base.source_sha256, run_id, pointer=base.pointer, fmt=outcome.input_format)
        )
        refs = [
            FileRef(f.file_id, f.sha256, f.name, f.format, doc=Document(f.name, _constant(f.data))) for f in batch_files
        ]
        self._wait(outcome.report_id, refs, plan, run_id, "its report was quarantined")

    # -- documents that are not reports ----------------------------------------------------------------------
    def _store_rejections(
        self,
        uow: UnitOfWork,
        rejections: list[_Rejection],
        loose: dict[str, repo.SourceRow],
        run_id: int,
        summary: IngestSummary,
    ) -> None:
        if not rejections:
            return
        conn = uow.conn
        read = [r for r in rejections if r.document.sha256]
        # a zip member that could not be read (too large, a compression Python cannot decode) has no bytes of its
        # own: its entry points into the container, which is stored whole now as the evidence
        unread = [r for r in rejections if not r.document.sha256 and r.document.container]
        # a file that could not be read at all (unreadable, over the size limit, a link to nothing): no bytes to
        # keep; its entry names the file and points at the empty document
        lost = [r for r in rejections if not r.document.sha256 and not r.document.container]
        rows = [repo.SourceRow(d.sha256, d.name, d.data, "rejected", d.container) for d in (r.document for r in read)]
        for row in rows:
            loose.pop(row.sha256, None)
        rows += [loose.pop(c) for c in {r.document.container for r in unread} if c in loose]
        if lost:
            rows.append(repo.SourceRow(EMPTY_SHA256, lost[0].document.name, b"", "unread", None))
        summary.new_documents += repo.store_sources(conn, rows, run_id)
        entries = [QuarantineEntry.of(r.error, r.document.sha256, run_id, fmt=r.format) for r in read]
        entries += [
            QuarantineEntry.of(
                r.error, str(r.document.container), run_id, pointer=r.document.name.rsplit("!", 1)[-1], fmt=r.format
            )
            for r in unread
        ]
        entries += [QuarantineEntry.of(r.error, EMPTY_SHA256, run_id, fmt=r.format) for r in lost]
        fresh = repo.add_quarantine(conn, entries)
        summary.quarantined += len(entries)
        summary.rejected.extend(e.describe() for e in entries)
        uow.record_all(quarantined_events(fresh))

    def _ingest_leads(
        self,
        uow: UnitOfWork,
        documents: list[tuple[Format, Document | LoadedDocument]],
        run_id: int,
        summary: IngestSummary,
    ) -> None:
        """Each lead list whole or not at all (a savepoint), read and written a few thousand items at a time and one
        list at a time: a list of a million rows is never held as items, nor are the lists of a batch held together
        (each in a call of its own, so the previous list's bytes are let go before the next is read)."""
        for fmt, source in documents:
            self._ingest_lead_list(uow, fmt, source, run_id, summary)

    def _ingest_lead_list(
        self, uow: UnitOfWork, fmt: Format, source: Document | LoadedDocument, run_id: int, summary: IngestSummary
    ) -> None:
        conn = uow.conn
        try:
            doc = source if isinstance(source, LoadedDocument) else LoadedDocument.of(source)
        except Exception as exc:  # its bytes could not be read again: this list alone
            empty = LoadedDocument(source.name, b"", "", source.container)
            self._store_rejections(uow, [_Rejection(empty, failure(source.name, exc), fmt.name)], {}, run_id, summary)
            return
        refs: set[str] = set()
        added = 0
        try:
            items = iter(fmt.parse(doc.data, ParseContext(doc.name, doc.sha256, self.region, self.limits)))
            with conn.begin_nested():  # a bad row (found as it is read) or a refused value undoes the whole list
                while chunk := list(itertools.islice(items, LEADS_PER_WRITE)):
                    refs.update(i.lead_ref for i in chunk)
                    added += repo.write_leads(conn, chunk, doc.sha256)
        except Exception as exc:
            refused = _Rejection(doc, _store_refused(doc.name, exc), fmt.name)
            self._store_rejections(uow, [refused], {}, run_id, summary)
            return
        summary.new_documents += repo.store_sources(
            conn, [repo.SourceRow(doc.sha256, doc.name, doc.data, fmt.name, doc.container)], run_id
        )
        summary.lead_identifiers += added
        if added:
            uow.record(
                "leads.ingested",
                "source_document",
                doc.sha256,
                {"name": doc.name, "identifiers": added, "leads": sorted(refs)},
            )


def _shares(tasks: list[ParseTask], workers: int) -> list[list[ParseTask]]:
    """`tasks` in up to `workers` consecutive runs of near-equal size (their order is the chunk's order)."""
    size = max(1, -(-len(tasks) // max(1, workers)))
    return [tasks[i : i + size] for i in range(0, len(tasks), size)] or [[]]


def _outcomes(
    plan: _Plan, futures: list[Future[tuple[list[ParseOutcome], bytes]]], config: ParseConfig
) -> list[ParseOutcome]:
    """The workers' outcomes, in the chunk's order; if any share could not travel to or from its worker (an object
    too deep to pickle, a worker that died), the whole chunk is parsed here instead, where each report fails alone."""
    try:
        return [outcome for future in futures for outcome in unpack(future.result())]
    except Exception:
        return parse_tasks(plan.tasks, config)


def _store_refused(source: str, exc: Exception, report_id: int | None = None) -> DocumentRejected:
    if isinstance(exc, DocumentRejected):
        return detached(exc)
    reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    what = f"report {report_id}" if report_id is not None else "the document"
    return DocumentRejected(
        source,
        "store_error",
        f"the store refused {what}: {reason}",
        expected="values the store accepts",
        report_id=report_id,
    )


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _signature(
    stored: dict[int, repo.StoredReport], orphans: dict[int, list[Any]], ids: list[int]
) -> dict[int, tuple[int | None, tuple[int, ...]]]:
    """What a plan depended on: each report's held version and the fileDetails waiting for it."""
    return {
        rid: (stored[rid].current_version if rid in stored else None, tuple(sorted(e.id for e in orphans.get(rid, []))))
        for rid in ids
    }


@dataclass
class _Plan:
    units: list[Unit]
    signature: dict[int, tuple[int | None, tuple[int, ...]]]
    tasks: list[ParseTask] = field(default_factory=list)
    sources: dict[str, repo.SourceRow] = field(default_factory=dict)
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    duplicates: int = 0
    waiting: int = 0


def _chunks_unique(units: Iterable[Unit], size: int, max_bytes: int = CHUNK_BYTES) -> Iterable[list[Unit]]:
    """Chunks of at most `size` units in which no report id repeats (a repeat lands in a later chunk), and whose
    units' documents hold at most `max_bytes` (a chunk's documents are held together while it is planned, parsed and
    written: three 56 MiB reports in one chunk peaked at 224 MiB); a unit larger than that is a chunk alone. `units`
    is read once, as the chunks are taken (the ledger streams them from disk)."""
    pending: Iterable[Unit] = units
    while True:
        deferred: list[Unit] = []
        chunk: list[Unit] = []
        ids: set[int] = set()
        held: set[str] = set()
        weight = 0
        for unit in pending:
            if unit.report_id in ids:
                deferred.append(unit)
                continue
            adds = _unit_bytes(unit, held)
            if chunk and weight + adds > max_bytes:  # this unit starts the next chunk
                yield chunk
                chunk, ids, held, weight = [], set(), set(), 0
                adds = _unit_bytes(unit, held)
            chunk.append(unit)
            ids.add(unit.report_id)
            weight += adds
            if len(chunk) >= size:
                yield chunk
                chunk, ids, held, weight = [], set(), set(), 0
        if chunk:
            yield chunk
        if not deferred:
            return
        pending = deferred


def _unit_bytes(unit: Unit, held: set[str]) -> int:
    """The bytes a unit adds to its chunk: a whole document read again, or a split document's bytes the first time
    one of its pieces joins (its other pieces share them)."""
    if isinstance(unit.doc, Document):
        return unit.doc.size_hint or 0
    if isinstance(unit.doc, LoadedDocument) and unit.doc.sha256 not in held:
        held.add(unit.doc.sha256)
        return len(unit.doc.data)
    return 0


def observation_sample(engine: Engine, kinds: Iterable[str], per_kind: int) -> list[Any]:
    """A few normalised identifiers of each kind as stored (raw, value, class, port, time, flags), lowest report
    first: what the demo shows to say what normalising did."""
    from sqlalchemy import select

    from tipfusion.store.tables import identifier_observations as io

    with engine.connect() as conn:
        return [
            row
            for kind in kinds
            for row in conn.execute(select(io).where(io.c.kind == kind).order_by(io.c.report_id).limit(per_kind))
        ]
