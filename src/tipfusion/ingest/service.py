"""Ingest: every document lands exactly once, whole, traceable to its bytes — or goes to quarantine.

Two passes over a batch. Pass 1 reads every document, sorts it by format and groups `<fileDetails>`
under their report (they may sit anywhere in the batch, in any order). Pass 2 takes reports in chunks:
for each it works out the version's composition (the report document plus every fileDetails known for
it, in the batch, already stored, or waiting in quarantine), skips it if that exact composition is
already held, and otherwise parses it and writes it. A chunk is one transaction; if a bulk write fails,
the chunk is written again one report per savepoint so only the failing report goes to quarantine.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tipfusion.audit import AuditEvent, append
from tipfusion.config import Settings
from tipfusion.domain import ParsedReport, SourcePart
from tipfusion.domain.records import composition_hash
from tipfusion.errors import DocumentRejected
from tipfusion.ingest import esp_xml, police_json
from tipfusion.ingest.detect import detect_format, report_id_from_name
from tipfusion.ingest.leads_csv import parse_leads
from tipfusion.ingest.sources import BrokenContainer, Document, LoadedDocument, iter_documents
from tipfusion.ingest.xmlsafe import sniff_root
from tipfusion.store import repository as repo
from tipfusion.store.db import ensure_schema

Progress = Callable[[int, int], None]


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
        return self.run(
            [str(p) for p in path_list], iter_documents(path_list, self.limits.max_document_bytes), progress
        )

    # -- the run ----------------------------------------------------------------------------------------------
    def run(
        self,
        labels: list[str],
        documents: Iterable[Document | LoadedDocument | BrokenContainer],
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
        for chunk in _chunks_unique(batch.units, self.settings.reports_per_transaction):
            self._land_chunk(chunk, batch.to_store, run_id, summary)
            tick(len(chunk))
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
    def _classify(
        self, documents: Iterable[Document | LoadedDocument | BrokenContainer], summary: IngestSummary
    ) -> _Batch:
        batch = _Batch()
        for item in documents:
            summary.documents += 1
            if isinstance(item, BrokenContainer):
                batch.rejections.append((item.document, item.error))
                continue
            if isinstance(item, LoadedDocument):
                loaded, doc = item, None
            else:
                try:
                    loaded = LoadedDocument.of(item)
                except DocumentRejected as exc:
                    empty = LoadedDocument(item.name, b"", "", item.container)
                    batch.rejections.append((empty, exc))
                    continue
                doc = item
            fmt = detect_format(loaded.name, loaded.data)
            if fmt == "zip":  # the container is kept whole; its members come next from iter_documents
                batch.to_store[loaded.sha256] = repo.SourceRow(
                    loaded.sha256, loaded.name, loaded.data, "zip", loaded.container
                )
                continue
            source = doc or Document(loaded.name, _constant(loaded.data), loaded.container)
            if fmt == "esp_report":
                report_id = report_id_from_name(loaded.name)
                if report_id is None:
                    batch.rejections.append(
                        (
                            loaded,
                            DocumentRejected(
                                loaded.name,
                                "missing_report_id",
                                "cannot tell the report number from the file name",
                                element="report",
                                expected="a file named <reportId>.xml, e.g. 100000042.xml",
                            ),
                        )
                    )
                    continue
                batch.units.append(_Unit(report_id, "xml", loaded.name, doc=source))
            elif fmt == "esp_file_details":
                try:
                    report_id, file_id = esp_xml.peek_file_details(loaded.data, source=loaded.name, limits=self.limits)
                except DocumentRejected as exc:
                    batch.rejections.append((loaded, exc))
                    continue
                batch.file_refs.setdefault(report_id, {})[file_id] = _FileRef(
                    file_id, loaded.sha256, loaded.name, doc=source, container=loaded.container
                )
            elif fmt == "ncmec_json":
                self._classify_json(loaded, batch)
            elif fmt == "leads_csv":
                batch.leads.append(loaded)
            elif fmt == "synthetic_marker":
                summary.synthetic = True
                batch.to_store[loaded.sha256] = repo.SourceRow(
                    loaded.sha256, loaded.name, loaded.data, "synthetic_marker", loaded.container
                )
            elif fmt == "xml_unknown":
                batch.rejections.append(
                    (
                        loaded,
                        DocumentRejected(
                            loaded.name,
                            "wrong_root",
                            f"XML root element is <{sniff_root(loaded.data)}>",
                            element=str(sniff_root(loaded.data)),
                            expected="<report> or <fileDetails>",
                        ),
                    )
                )
            else:
                batch.rejections.append(
                    (
                        loaded,
                        DocumentRejected(
                            loaded.name,
                            "unrecognised_format",
                            "not an ESP XML report, fileDetails, NCMEC JSON or leads CSV",
                            expected="<report>/<fileDetails> XML, police JSON, or a CSV with lead_ref,kind,value",
                        ),
                    )
                )
        return batch

    def _classify_json(self, loaded: LoadedDocument, batch: _Batch) -> None:
        try:
            units = police_json.split_units(loaded.data, loaded.name, self.limits)
        except DocumentRejected as exc:
            batch.rejections.append((loaded, exc))
            return
        for unit in units:
            raw_id = unit.obj.get("reportId") if isinstance(unit.obj, dict) else None
            report_id = int(str(raw_id).strip()) if raw_id is not None and str(raw_id).strip().isdigit() else None
            if report_id is None:
                batch.rejections.append(
                    (
                        loaded,
                        DocumentRejected(
                            f"{loaded.name}#{unit.index}",
                            "missing_report_id",
                            f"reportId missing or not a number: {raw_id!r}",
                            element=f"[{unit.index}].reportId",
                            expected="reportId holding the report number",
                        ),
                    )
                )
                continue
            batch.units.append(_Unit(report_id, "json", f"{loaded.name}#{unit.index}", json_unit=unit, json_doc=loaded))

    # -- pass 2 -----------------------------------------------------------------------------------------------
    def _land_chunk(
        self, units: list[_Unit], loose: dict[str, repo.SourceRow], run_id: int, summary: IngestSummary
    ) -> None:
        with self.engine.begin() as conn:
            stored = repo.stored_reports(conn, [u.report_id for u in units])
            orphans = repo.open_orphans(conn, [u.report_id for u in units])
            sources: dict[str, repo.SourceRow] = {}
            quarantine: list[dict[str, Any]] = []
            events: list[AuditEvent] = []
            landing: list[tuple[ParsedReport, int, list[int]]] = []
            for unit in units:
                held = stored.get(unit.report_id)
                files = self._compose_files(unit, held, orphans.get(unit.report_id, []))
                base = self._base_part(conn, unit, held, sources, quarantine, summary)
                if base is None:
                    continue
                part, data = base
                parts = [part] + [
                    SourcePart("file_details", f.sha256, f.sha256, f.name, f.file_id) for f in files.values()
                ]
                if held is not None and composition_hash(parts) in held.hashes:
                    summary.duplicates += 1
                    continue
                try:
                    report = self._parse(conn, unit, part, data, files, sources, quarantine, summary)
                except DocumentRejected as exc:
                    quarantine.append(_entry(exc, part.source_sha256, run_id, unit.json_unit))
                    self._wait(unit, files, sources, quarantine, run_id, summary, "its report was quarantined")
                    continue
                if held is not None and report.content_hash in held.hashes:
                    summary.duplicates += 1  # a fileDetails was dropped, leaving a held composition
                    continue
                version = held.current_version + 1 if held else 1
                landing.append((report, version, [f.orphan_entry for f in files.values() if f.orphan_entry]))
            self._write(conn, landing, run_id, quarantine, summary, events)
            for sha in sources:
                loose.pop(sha, None)
            summary.new_documents += repo.store_sources(conn, sources.values(), run_id)
            fresh = repo.add_quarantine(conn, quarantine)
            summary.quarantined += sum(1 for q in quarantine if q["reason"] != "orphan_file_details")
            summary.rejected.extend(_describe(q) for q in quarantine if q["reason"] != "orphan_file_details")
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

    def _compose_files(self, unit: _Unit, held: repo.StoredReport | None, orphans: list[Any]) -> dict[str, _FileRef]:
        """Held fileDetails carry forward; waiting ones join; the batch's own win for the same fileId."""
        files: dict[str, _FileRef] = {}
        if held is not None:
            for part in held.parts:
                if part["role"] == "file_details":
                    files[part["pointer"]] = _FileRef(part["pointer"], part["source_sha256"], part["source_sha256"])
        for entry in orphans:
            files[entry.pointer] = _FileRef(
                entry.pointer, entry.source_sha256, entry.source_name, orphan_entry=entry.id
            )
        files.update(unit.files)
        return dict(sorted(files.items()))

    def _base_part(
        self,
        conn: Connection,
        unit: _Unit,
        held: repo.StoredReport | None,
        sources: dict[str, repo.SourceRow],
        quarantine: list[dict[str, Any]],
        summary: IngestSummary,
    ) -> tuple[SourcePart, bytes | None] | None:
        """The report's own part: its XML document, its JSON object, or (attach) the held version's."""
        if unit.kind == "xml" and unit.doc is not None:
            loaded = LoadedDocument.of(unit.doc)
            sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "esp_report", loaded.container
            )
            return SourcePart("report", loaded.sha256, loaded.sha256, loaded.name), loaded.data
        if unit.kind == "json" and unit.json_unit is not None and unit.json_doc is not None:
            doc = unit.json_doc
            sources[doc.sha256] = repo.SourceRow(doc.sha256, doc.name, doc.data, "ncmec_json", doc.container)
            return SourcePart(
                "json_report", unit.json_unit.part_sha256, doc.sha256, doc.name, str(unit.json_unit.index)
            ), None
        # attach: fileDetails for a report held from an earlier batch, or not held at all yet
        if held is None:
            self._wait(
                unit,
                unit.files,
                sources,
                quarantine,
                summary.run_id or 0,
                summary,
                "its report has not arrived yet; it attaches when it does",
            )
            return None
        for part in held.parts:
            if part["role"] in {"report", "json_report"}:
                name = repo.source_row(conn, part["source_sha256"]).name
                return SourcePart(part["role"], part["part_sha256"], part["source_sha256"], name, part["pointer"]), None
        return None

    def _parse(
        self,
        conn: Connection,
        unit: _Unit,
        part: SourcePart,
        data: bytes | None,
        files: dict[str, _FileRef],
        sources: dict[str, repo.SourceRow],
        quarantine: list[dict[str, Any]],
        summary: IngestSummary,
    ) -> ParsedReport:
        if part.role == "report":
            if data is None:
                data = repo.load_blob(conn, part.source_sha256)
            report = esp_xml.parse_report(
                data,
                source=part.source_name,
                report_id=unit.report_id,
                phone_region=self.region,
                limits=self.limits,
                sha256=part.source_sha256,
            )
        else:
            json_unit = unit.json_unit
            if json_unit is None:
                blob = repo.load_blob(conn, part.source_sha256)
                json_unit = police_json.split_units(blob, part.source_name, self.limits)[int(part.pointer or 0)]
            report = police_json.parse_report(
                json_unit, source=part.source_name, source_sha256=part.source_sha256, phone_region=self.region
            )
        parsed_files = []
        for ref in files.values():
            file_data = LoadedDocument.of(ref.doc).data if ref.doc is not None else repo.load_blob(conn, ref.sha256)
            if ref.doc is not None:
                sources[ref.sha256] = repo.SourceRow(ref.sha256, ref.name, file_data, "esp_file_details", ref.container)
            try:
                parsed_files.append(
                    esp_xml.parse_file_details(
                        file_data, source=ref.name, phone_region=self.region, limits=self.limits, sha256=ref.sha256
                    )
                )
            except DocumentRejected as exc:
                exc.report_id = unit.report_id
                quarantine.append(_entry(exc, ref.sha256, summary.run_id or 0, None))
        esp_xml.attach_files(report, parsed_files)
        summary.attached_file_details += sum(1 for f in files.values() if f.orphan_entry or unit.kind == "attach")
        for issue in report.issues:
            summary.issues[issue.code] += 1
        summary.unknown_fields += sum(1 for i in report.issues if i.code in {"unknown_element", "unknown_enum"})
        return report

    def _wait(
        self,
        unit: _Unit,
        files: dict[str, _FileRef],
        sources: dict[str, repo.SourceRow],
        quarantine: list[dict[str, Any]],
        run_id: int,
        summary: IngestSummary,
        why: str,
    ) -> None:
        """fileDetails from this batch whose report did not land wait in quarantine, kept byte for byte."""
        for ref in files.values():
            if ref.doc is None or ref.orphan_entry is not None:
                continue
            loaded = LoadedDocument.of(ref.doc)
            sources[loaded.sha256] = repo.SourceRow(
                loaded.sha256, loaded.name, loaded.data, "esp_file_details", loaded.container
            )
            summary.waiting_file_details += 1
            quarantine.append(
                {
                    "run_id": run_id,
                    "source_sha256": ref.sha256,
                    "source_name": ref.name,
                    "pointer": ref.file_id,
                    "report_id": unit.report_id,
                    "reason": "orphan_file_details",
                    "message": f"fileDetails {ref.file_id} for report {unit.report_id}: {why}",
                    "element": "fileDetails/reportId",
                    "expected": f"report {unit.report_id}",
                }
            )

    def _write(
        self,
        conn: Connection,
        landing: list[tuple[ParsedReport, int, list[int]]],
        run_id: int,
        quarantine: list[dict[str, Any]],
        summary: IngestSummary,
        events: list[AuditEvent],
    ) -> None:
        written: list[tuple[ParsedReport, int, list[int]]] = []
        try:
            with conn.begin_nested():
                repo.write_reports(conn, [(r, v) for r, v, _ in landing], run_id)
            written = landing
        except SQLAlchemyError:
            for item in landing:
                try:
                    with conn.begin_nested():
                        repo.write_reports(conn, [(item[0], item[1])], run_id)
                    written.append(item)
                except SQLAlchemyError as exc:
                    report = item[0]
                    quarantine.append(
                        {
                            "run_id": run_id,
                            "source_sha256": report.parts[0].source_sha256,
                            "source_name": report.parts[0].source_name,
                            "pointer": report.parts[0].pointer,
                            "report_id": report.report_id,
                            "reason": "store_error",
                            "message": f"the store refused report {report.report_id}: "
                            f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}",
                            "expected": "a report the store accepts",
                        }
                    )
        resolved: list[int] = []
        for report, version, orphan_ids in written:
            resolved.extend(orphan_ids)
            if version == 1:
                summary.accepted += 1
            else:
                summary.updated += 1
            events.append(
                AuditEvent(
                    "report.ingested" if version == 1 else "report.updated",
                    "report",
                    str(report.report_id),
                    {
                        "version": version,
                        "content_hash": report.content_hash,
                        "format": report.format,
                        "parts": [p.source_name for p in report.parts],
                    },
                )
            )
        if resolved:
            repo.resolve_quarantine(conn, resolved, "attached to its report")

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
        rows = [repo.SourceRow(d.sha256, d.name, d.data, "rejected", d.container) for d, _ in rejections if d.sha256]
        for row in rows:
            loose.pop(row.sha256, None)
        summary.new_documents += repo.store_sources(conn, rows, run_id)
        entries = [_entry(exc, doc.sha256, run_id, None) for doc, exc in rejections if doc.sha256]
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
            except DocumentRejected as exc:
                self._store_rejections(conn, [(doc, exc)], {}, run_id, summary)
                continue
            summary.new_documents += repo.store_sources(
                conn, [repo.SourceRow(doc.sha256, doc.name, doc.data, "leads_csv", doc.container)], run_id
            )
            added = repo.write_leads(conn, items, doc.sha256)
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


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _entry(exc: DocumentRejected, sha: str, run_id: int, json_unit: police_json.JsonUnit | None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source_sha256": sha,
        "source_name": exc.source.split("#", 1)[0],
        "pointer": str(json_unit.index) if json_unit is not None else None,
        "report_id": exc.report_id,
        "reason": exc.reason,
        "message": exc.message,
        "element": exc.element,
        "line": exc.line,
        "expected": exc.expected,
    }


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
