"""Ingest: every document lands exactly once, whole, traceable to its bytes — or goes to quarantine.

Two passes over a batch. Pass 1 reads every document, sorts it by format and groups `<fileDetails>`
under their report (they may sit anywhere in the batch, in any order). Pass 2 takes reports in chunks:
for each it works out the version's composition (the report document plus every fileDetails known for
it, in the batch, already stored, or waiting in quarantine), skips it if that exact composition is
already held, and otherwise parses it and writes it. A chunk is one transaction; if a bulk write fails,
the chunk is written again one report per savepoint so only the failing report goes to quarantine.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from tipfusion.audit import AuditEvent, append
from tipfusion.config import Settings
from tipfusion.domain import SourcePart
from tipfusion.domain.records import composition_hash
from tipfusion.errors import DocumentRejected, InputRefused
from tipfusion.ingest import esp_xml, police_json
from tipfusion.ingest.detect import detect_format, report_id_from_name
from tipfusion.ingest.failures import failure
from tipfusion.ingest.ids import EXPECTED as ID_EXPECTED
from tipfusion.ingest.ids import BadReportId
from tipfusion.ingest.leads_csv import parse_leads
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
from tipfusion.ingest.sources import BrokenContainer, Document, Item, LoadedDocument, Skipped, iter_documents
from tipfusion.ingest.xmlsafe import sniff_root
from tipfusion.store import repository as repo
from tipfusion.store.db import ensure_schema, store_files

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
    synthetic: bool = False
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
            "reference_skipped": len(self.reference_skipped),
            "reference_skipped_files": list(self.reference_skipped),  # the run record names what the count counts
            "skipped": len(self.skipped),
            "skipped_files": list(self.skipped),
        }


@dataclass(slots=True)
class _FileRef:
    """A fileDetails document: from this batch (doc), or already held (stored sha only)."""

    file_id: str
    sha256: str
    name: str
    doc: Document | None = None
    container: str | None = None
    orphan_entry: int | None = None


@dataclass(slots=True)
class _Unit:
    """One report to land: an XML report document, a JSON report object, or fileDetails for a held report."""

    report_id: int
    kind: str  # xml | json | attach
    name: str
    doc: Document | None = None
    json_unit: police_json.JsonUnit | None = None
    json_doc: LoadedDocument | None = None
    files: dict[str, _FileRef] = field(default_factory=dict)


@dataclass
class _Batch:
    """What pass 1 found."""

    units: list[_Unit] = field(default_factory=list)
    file_refs: dict[int, dict[str, _FileRef]] = field(default_factory=dict)
    leads: list[LoadedDocument] = field(default_factory=list)
    to_store: dict[str, repo.SourceRow] = field(default_factory=dict)
    rejections: list[tuple[LoadedDocument, DocumentRejected]] = field(default_factory=list)


class IngestService:
    def __init__(self, engine: Engine, settings: Settings, actor: str):
        if not actor.strip() or len(actor) > MAX_ACTOR:
            raise InputRefused(f"the acting person must be 1 to {MAX_ACTOR} characters (got {len(actor)})", "--as")
        self.engine = engine
        self.settings = settings
        self.actor = actor
        self.region = settings.profile.phone_region
        self.limits = settings.xml_limits

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
        with self.engine.begin() as conn:
            summary.run_id = run_id = repo.start_run(conn, self.actor, "ingest", labels)
        batch = self._classify(documents, summary)
        total = len(batch.units) + sum(len(v) for v in batch.file_refs.values())
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        # fileDetails whose report is not in this batch attach to a held report (or wait in quarantine)
        first_xml: dict[int, _Unit] = {}
        for unit in batch.units:
            if unit.kind == "xml":
                first_xml.setdefault(unit.report_id, unit)
        for report_id, refs in sorted(batch.file_refs.items()):
            if report_id in first_xml:
                first_xml[report_id].files.update(refs)
            else:
                batch.units.append(_Unit(report_id, "attach", f"fileDetails for report {report_id}", files=refs))
        with self.engine.begin() as conn:
            self._store_rejections(conn, batch.rejections, batch.to_store, run_id, summary)
            self._ingest_leads(conn, batch.leads, run_id, summary)
        self._land(batch.units, batch.to_store, run_id, summary, tick)
        summary.seconds = time.perf_counter() - started
        with self.engine.begin() as conn:
            if batch.to_store:  # documents not tied to any report (e.g. a zip container)
                summary.new_documents += repo.store_sources(conn, batch.to_store.values(), run_id)
            if summary.synthetic:
                repo.set_flag(conn, "synthetic", "true")
            repo.finish_run(conn, run_id, summary.as_dict())
            append(
                conn,
                self.actor,
                [AuditEvent("ingest.completed", "ingest_run", str(run_id), {"paths": labels, **summary.as_dict()})],
            )
        return summary

    # -- pass 1 -----------------------------------------------------------------------------------------------
    def _classify(self, documents: Iterable[Item], summary: IngestSummary) -> _Batch:
        batch = _Batch()
        for item in documents:
            if isinstance(item, Skipped):
                summary.skipped.append(f"{item.name}: {item.reason}")
                continue
            summary.documents += 1
            if isinstance(item, BrokenContainer):
                batch.rejections.append((item.document, item.error))
                continue
            if isinstance(item, LoadedDocument):
                loaded, doc = item, None
            else:
                try:
                    loaded = LoadedDocument.of(item)
                except Exception as exc:  # one unreadable document is that document's problem, not the batch's
                    empty = LoadedDocument(item.name, b"", "", item.container)
                    batch.rejections.append((empty, failure(item.name, exc)))
                    continue
                doc = item
            try:
                self._classify_one(loaded, doc, batch, summary)
            except DocumentRejected as exc:
                batch.rejections.append((loaded, exc))
            except Exception as exc:
                batch.rejections.append((loaded, failure(loaded.name, exc)))
        return batch

    def _classify_one(
        self, loaded: LoadedDocument, doc: Document | None, batch: _Batch, summary: IngestSummary
    ) -> None:
        """Sort one document by format; DocumentRejected (or any failure) rejects this document alone."""
        fmt = detect_format(loaded.name, loaded.data)
        if fmt == "zip":  # the container is kept whole; its members come next from iter_documents
            batch.to_store[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "zip", loaded.container
            )
            return
        source = doc or Document(loaded.name, _constant(loaded.data), loaded.container)
        if fmt == "esp_report":
            try:
                report_id = report_id_from_name(loaded.name)
            except BadReportId as exc:
                raise DocumentRejected(
                    loaded.name,
                    exc.reason,
                    f"cannot tell the report number from the file name: {exc}",
                    element="report",
                    expected=f"a file named <reportId>.xml, e.g. 100000042.xml ({ID_EXPECTED})",
                ) from exc
            batch.units.append(_Unit(report_id, "xml", loaded.name, doc=source))
        elif fmt == "esp_file_details":
            report_id, file_id = esp_xml.peek_file_details(loaded.data, source=loaded.name, limits=self.limits)
            # keyed by the document, not the fileId: several fileDetails for one file each add details
            batch.file_refs.setdefault(report_id, {})[loaded.sha256] = _FileRef(
                file_id, loaded.sha256, loaded.name, doc=source, container=loaded.container
            )
        elif fmt == "ncmec_json":
            self._classify_json(loaded, batch)
        elif fmt == "leads_csv":
            batch.leads.append(loaded)
        elif fmt == "reference_data":
            summary.reference_skipped.append(loaded.name)
        elif fmt == "synthetic_marker":
            summary.synthetic = True
            batch.to_store[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "synthetic_marker", loaded.container
            )
        elif fmt == "xml_unknown":
            raise DocumentRejected(
                loaded.name,
                "wrong_root",
                f"XML root element is <{sniff_root(loaded.data)}>",
                element=str(sniff_root(loaded.data)),
                expected="<report> or <fileDetails>",
            )
        else:
            raise DocumentRejected(
                loaded.name,
                "unrecognised_format",
                "not an ESP XML report, fileDetails, NCMEC JSON or leads CSV",
                expected="<report>/<fileDetails> XML, police JSON, or a CSV with lead_ref,kind,value",
            )

    def _classify_json(self, loaded: LoadedDocument, batch: _Batch) -> None:
        try:
            units = police_json.split_units(loaded.data, loaded.name, self.limits)
        except DocumentRejected as exc:
            batch.rejections.append((loaded, exc))
            return
        for unit in units:
            try:
                report_id = police_json.report_id_of(unit, loaded.name)
            except DocumentRejected as exc:
                batch.rejections.append((loaded, exc))
                continue
            batch.units.append(_Unit(report_id, "json", f"{loaded.name}#{unit.index}", json_unit=unit, json_doc=loaded))

    # -- pass 2 -----------------------------------------------------------------------------------------------
    def _land(
        self,
        units: list[_Unit],
        loose: dict[str, repo.SourceRow],
        run_id: int,
        summary: IngestSummary,
        tick: Callable[[int], None],
    ) -> None:
        """Plan each chunk (main process), parse it (worker processes), write it (main process), pipelined."""
        config = ParseConfig(self.region, self.limits, run_id, self.engine.dialect.name)
        chunks = _chunks_unique(units, self.settings.reports_per_transaction)
        workers = self._workers(len(units))
        if workers == 0:
            for chunk in chunks:
                plan = self._plan(chunk, run_id)
                self._write_chunk(plan, parse_tasks(plan.tasks, config), loose, config, summary)
                tick(len(chunk))
            return
        with worker_pool(workers) as pool:
            inflight: deque[tuple[_Plan, Future[tuple[list[ParseOutcome], bytes]]]] = deque()
            for chunk in chunks:
                plan = self._plan(chunk, run_id)
                inflight.append((plan, pool.submit(parse_tasks_packed, plan.tasks, config)))
                while len(inflight) > workers:
                    done, future = inflight.popleft()
                    self._write_chunk(done, _outcomes(done, future, config), loose, config, summary)
                    tick(len(done.units))
            while inflight:
                done, future = inflight.popleft()
                self._write_chunk(done, _outcomes(done, future, config), loose, config, summary)
                tick(len(done.units))

    def _workers(self, units: int) -> int:
        """Worker processes for parsing: none for small batches, where starting them costs more than it saves."""
        if self.settings.ingest_workers >= 0:
            return self.settings.ingest_workers
        if units < 4 * self.settings.reports_per_transaction:
            return 0
        return max(1, min(os.cpu_count() or 1, 4))

    def _plan(self, units: list[_Unit], run_id: int, conn: Connection | None = None) -> _Plan:
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
                plan.quarantine.append(_entry(rejected, EMPTY_SHA256, run_id, None))
                plan.sources.setdefault(EMPTY_SHA256, repo.SourceRow(EMPTY_SHA256, unit.name, b"", "unread", None))
        return plan

    def _plan_unit(
        self,
        conn: Connection,
        unit: _Unit,
        held: repo.StoredReport | None,
        orphans: list[Any],
        plan: _Plan,
        run_id: int,
    ) -> None:
        files = self._compose_files(unit, held, orphans)
        base = self._base(conn, unit, held, plan, run_id)
        if base is None:
            return
        part, data, json_unit = base
        parts = [part] + [SourcePart("file_details", f.sha256, f.sha256, f.name, f.file_id) for f in files.values()]
        if held is not None and composition_hash(parts) in held.hashes:
            plan.duplicates += 1
            return
        payloads = []
        for ref in files.values():
            if ref.doc is not None:
                loaded = LoadedDocument.of(ref.doc)
                plan.sources[loaded.sha256] = repo.SourceRow(
                    loaded.sha256, loaded.name, loaded.data, "esp_file_details", loaded.container
                )
                payloads.append(FilePayload(ref.file_id, loaded.sha256, ref.name, loaded.data, True))
            else:
                payloads.append(
                    FilePayload(
                        ref.file_id, ref.sha256, ref.name, repo.load_blob(conn, ref.sha256), False, ref.orphan_entry
                    )
                )
        plan.tasks.append(
            ParseTask(
                unit.report_id,
                held.current_version + 1 if held else 1,
                part,
                data,
                json_unit,
                payloads,
                frozenset(held.hashes) if held else frozenset(),
            )
        )

    def _compose_files(self, unit: _Unit, held: repo.StoredReport | None, orphans: list[Any]) -> dict[str, _FileRef]:
        """Every fileDetails document the report has ever had, by document hash: held ones carry forward,
        waiting ones and the batch's own join. Several documents for one fileId all stay (each adds
        details to the file); the same document again is the same part, so re-sending it changes nothing."""
        files: dict[str, _FileRef] = {}
        if held is not None:
            for part in held.parts:
                if part["role"] == "file_details":
                    sha = part["source_sha256"]
                    files[sha] = _FileRef(part["pointer"], sha, sha)
        for entry in orphans:
            files.setdefault(
                entry.source_sha256,
                _FileRef(entry.pointer, entry.source_sha256, entry.source_name, orphan_entry=entry.id),
            )
        for sha, ref in unit.files.items():
            if sha not in files or files[sha].orphan_entry is None:
                files[sha] = ref
        return dict(sorted(files.items(), key=lambda item: (item[1].file_id, item[0])))

    def _base(
        self, conn: Connection, unit: _Unit, held: repo.StoredReport | None, plan: _Plan, run_id: int
    ) -> tuple[SourcePart, bytes | None, police_json.JsonUnit | None] | None:
        """The report's own part: its XML document, its JSON object, or (attach) the held version's."""
        if unit.kind == "xml" and unit.doc is not None:
            loaded = LoadedDocument.of(unit.doc)
            plan.sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "esp_report", loaded.container
            )
            return SourcePart("report", loaded.sha256, loaded.sha256, loaded.name), loaded.data, None
        if unit.kind == "json" and unit.json_unit is not None and unit.json_doc is not None:
            doc = unit.json_doc
            plan.sources[doc.sha256] = repo.SourceRow(doc.sha256, doc.name, doc.data, "ncmec_json", doc.container)
            part = SourcePart(
                "json_report", unit.json_unit.part_sha256, doc.sha256, doc.name, str(unit.json_unit.index)
            )
            return part, None, unit.json_unit
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
            if stored_part["role"] not in {"report", "json_report"}:
                continue
            sha = stored_part["source_sha256"]
            name = repo.source_row(conn, sha).name
            part = SourcePart(stored_part["role"], stored_part["part_sha256"], sha, name, stored_part["pointer"])
            blob = repo.load_blob(conn, sha)
            if part.role == "report":
                return part, blob, None
            return part, None, police_json.split_units(blob, name, self.limits)[int(part.pointer or 0)]
        return None

    def _wait(self, report_id: int, refs: Iterable[_FileRef], plan: _Plan, run_id: int, why: str) -> None:
        """fileDetails from this batch whose report did not land wait in quarantine, kept byte for byte."""
        for ref in refs:
            if ref.doc is None:
                continue
            loaded = LoadedDocument.of(ref.doc)
            plan.sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "esp_file_details", loaded.container
            )
            plan.waiting += 1
            plan.quarantine.append(
                {
                    "run_id": run_id,
                    "source_sha256": loaded.sha256,
                    "source_name": ref.name,
                    "pointer": ref.file_id,
                    "report_id": report_id,
                    "reason": "orphan_file_details",
                    "message": f"fileDetails {ref.file_id} for report {report_id}: {why}",
                    "element": "fileDetails/reportId",
                    "expected": f"report {report_id}",
                }
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
        with self.engine.begin() as conn:
            ids = [u.report_id for u in plan.units]
            now_signature = _signature(repo.stored_reports(conn, ids), repo.open_orphans(conn, ids), ids)
            if now_signature != plan.signature:
                # the store changed since planning (a later version in the same batch, or another ingest):
                # plan and parse this chunk again, inside the write transaction
                plan = self._plan(plan.units, run_id, conn)
                outcomes = parse_tasks(plan.tasks, config)
            landing: list[ParseOutcome] = []
            for outcome in outcomes:
                for exc, sha in outcome.file_rejections:
                    plan.quarantine.append(_entry(exc, sha, run_id, None))
                if outcome.rejected is not None:
                    pointer = outcome.base.pointer if outcome.base.role == "json_report" else None
                    plan.quarantine.append(_entry(outcome.rejected, outcome.base.source_sha256, run_id, pointer))
                    batch_refs = [
                        _FileRef(f.file_id, f.sha256, f.name, doc=Document(f.name, _constant(f.data)))
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
            resolved: list[int] = []
            for outcome in written:
                summary.accepted += outcome.version == 1
                summary.updated += outcome.version > 1
                summary.attached_file_details += sum(1 for f in outcome.files if f.orphan_entry is not None)
                summary.issues.update(outcome.issues)
                summary.unknown_fields += outcome.unknown
                resolved.extend(f.orphan_entry for f in outcome.files if f.orphan_entry is not None)
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
            for sha in plan.sources:
                loose.pop(sha, None)
            summary.new_documents += repo.store_sources(conn, plan.sources.values(), run_id)
            fresh = repo.add_quarantine(conn, plan.quarantine)
            rejected = [q for q in plan.quarantine if q["reason"] != "orphan_file_details"]
            summary.quarantined += len(rejected)
            summary.rejected.extend(_describe(q) for q in rejected)
            summary.duplicates += plan.duplicates
            summary.waiting_file_details += plan.waiting
            events.extend(
                AuditEvent(
                    "document.quarantined",
                    "source_document",
                    q["source_sha256"],
                    {
                        "name": q["source_name"],
                        "reason": q["reason"],
                        "report_id": q.get("report_id"),
                        "element": q.get("element"),
                    },
                )
                for q in fresh
            )
            append(conn, self.actor, events)

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
                refused = _store_refused(outcome.base.source_name, exc, outcome.report_id)
                plan.quarantine.append(_entry(refused, outcome.base.source_sha256, run_id, outcome.base.pointer))
        return written

    # -- documents that are not reports ----------------------------------------------------------------------
    def _store_rejections(
        self,
        conn: Connection,
        rejections: list[tuple[LoadedDocument, DocumentRejected]],
        loose: dict[str, repo.SourceRow],
        run_id: int,
        summary: IngestSummary,
    ) -> None:
        if not rejections:
            return
        read = [(d, exc) for d, exc in rejections if d.sha256]
        # a zip member that could not be read (too large, a compression Python cannot decode) has no bytes of its
        # own: its entry points into the container, which is stored whole now as the evidence
        unread = [(d, exc) for d, exc in rejections if not d.sha256 and d.container]
        # a file that could not be read at all (unreadable, over the size limit, a link to nothing): no bytes to
        # keep; its entry names the file and points at the empty document
        lost = [(d, exc) for d, exc in rejections if not d.sha256 and not d.container]
        rows = [repo.SourceRow(d.sha256, d.name, d.data, "rejected", d.container) for d, _ in read]
        for row in rows:
            loose.pop(row.sha256, None)
        rows += [loose.pop(c) for c in {d.container for d, _ in unread} if c in loose]
        if lost:
            rows.append(repo.SourceRow(EMPTY_SHA256, lost[0][0].name, b"", "unread", None))
        summary.new_documents += repo.store_sources(conn, rows, run_id)
        entries = [_entry(exc, doc.sha256, run_id, None) for doc, exc in read]
        entries += [_entry(exc, str(doc.container), run_id, doc.name.rsplit("!", 1)[-1]) for doc, exc in unread]
        entries += [_entry(exc, EMPTY_SHA256, run_id, None) for _, exc in lost]
        fresh = repo.add_quarantine(conn, entries)
        summary.quarantined += len(entries)
        summary.rejected.extend(_describe(e) for e in entries)
        append(
            conn,
            self.actor,
            [
                AuditEvent(
                    "document.quarantined",
                    "source_document",
                    e["source_sha256"],
                    {"name": e["source_name"], "reason": e["reason"]},
                )
                for e in fresh
            ],
        )

    def _ingest_leads(
        self, conn: Connection, documents: list[LoadedDocument], run_id: int, summary: IngestSummary
    ) -> None:
        for doc in documents:
            try:
                items = parse_leads(doc.data, source=doc.name, phone_region=self.region)
                with conn.begin_nested():  # a list the store refuses (a value too long for its column) fails alone
                    added = repo.write_leads(conn, items, doc.sha256)
            except Exception as exc:
                self._store_rejections(conn, [(doc, _store_refused(doc.name, exc))], {}, run_id, summary)
                continue
            summary.new_documents += repo.store_sources(
                conn, [repo.SourceRow(doc.sha256, doc.name, doc.data, "leads_csv", doc.container)], run_id
            )
            summary.lead_identifiers += added
            if added:
                append(
                    conn,
                    self.actor,
                    [
                        AuditEvent(
                            "leads.ingested",
                            "source_document",
                            doc.sha256,
                            {"name": doc.name, "identifiers": added, "leads": sorted({i.lead_ref for i in items})},
                        )
                    ],
                )


def _outcomes(plan: _Plan, future: Future[tuple[list[ParseOutcome], bytes]], config: ParseConfig) -> list[ParseOutcome]:
    """A worker's outcomes; if the chunk could not travel to or from the worker (an object too deep to pickle, a
    worker that died), the chunk is parsed here instead, where each report fails alone."""
    try:
        return unpack(future.result())
    except Exception:
        return parse_tasks(plan.tasks, config)


def _store_refused(source: str, exc: Exception, report_id: int | None = None) -> DocumentRejected:
    if isinstance(exc, DocumentRejected):
        return exc
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


def _entry(exc: DocumentRejected, sha: str, run_id: int, pointer: str | None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source_sha256": sha,
        "source_name": exc.source.split("#", 1)[0],
        "pointer": pointer,
        "report_id": exc.report_id,
        "reason": exc.reason,
        "message": exc.message,
        "element": exc.element,
        "line": exc.line,
        "expected": exc.expected,
    }


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
    units: list[_Unit]
    signature: dict[int, tuple[int | None, tuple[int, ...]]]
    tasks: list[ParseTask] = field(default_factory=list)
    sources: dict[str, repo.SourceRow] = field(default_factory=dict)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    waiting: int = 0


def _describe(entry: dict[str, Any]) -> str:
    where = entry["source_name"] + (f":{entry['line']}" if entry.get("line") else "")
    text = f"{where}: {entry['reason']}: {entry['message']}"
    if entry.get("element"):
        text += f" [element {entry['element']}]"
    if entry.get("expected"):
        text += f" (expected {entry['expected']})"
    return text


def _chunks_unique(units: list[_Unit], size: int) -> Iterable[list[_Unit]]:
    """Chunks of at most `size` units in which no report id repeats (a repeat lands in a later chunk)."""
    pending = units
    while pending:
        deferred: list[_Unit] = []
        chunk: list[_Unit] = []
        ids: set[int] = set()
        for unit in pending:
            if unit.report_id in ids:
                deferred.append(unit)
                continue
            chunk.append(unit)
            ids.add(unit.report_id)
            if len(chunk) >= size:
                yield chunk
                chunk, ids = [], set()
        if chunk:
            yield chunk
        pending = deferred


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
