"""Write a synthetic batch to a directory: reports, fileDetails, a foreign lead list, truth and a marker.

Layout (XML):  OUT/reports/<reportId>.xml, OUT/files/<fileId>.xml (fileDetails, in their own folder to
exercise out-of-order attachment), OUT/leads/foreign-lead.csv, OUT/truth.csv, OUT/SYNTHETIC-DATA.json.
Layout (JSON): OUT/reports/batch-NNNN.json (lists of up to 500 reports) instead of the XML files.
Reference data for enrichment (OUT/reference/): demo .mmdb databases, an ISP table and a warninglist covering
the synthetic ranges — the same formats a unit supplies for real. Ingest recognises and skips them.
"""

from __future__ import annotations

import csv
import json
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tipfusion.enrich.demo import DemoReference, build_demo_reference
from tipfusion.route.jurisdictions import demo_jurisdiction
from tipfusion.synth.reports import dumps, file_details_xml, plan_reports, report_json, report_xml
from tipfusion.synth.world import Noise, build_world

JSON_BATCH = 500


@dataclass(frozen=True, slots=True)
class GenerateResult:
    out: Path
    reports: int
    files: int
    persons: int
    networks: int
    lead_rows: int
    reference: DemoReference


def generate(
    out: Path, reports: int, seed: int, fmt: str = "xml", as_zip: bool = False, noise: Noise | None = None
) -> GenerateResult:
    if fmt not in {"xml", "json"}:
        raise ValueError(f"format must be xml or json, not {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(reports, seed, noise)
    planned = list(plan_reports(world, reports, seed, noise))
    writer = _ZipWriter(out / "batch.zip") if as_zip else _DirWriter(out)
    file_count = 0
    if fmt == "xml":
        for r in planned:
            writer.write(f"reports/{r.report_id}.xml", report_xml(r))
            for f in r.files:
                writer.write(f"files/{f.file_id}.xml", file_details_xml(r, f))
                file_count += 1
    else:
        for start in range(0, len(planned), JSON_BATCH):
            chunk = planned[start : start + JSON_BATCH]
            writer.write(f"reports/batch-{start // JSON_BATCH + 1:04d}.json", dumps([report_json(r) for r in chunk]))
            file_count += sum(len(r.files) for r in chunk)
    writer.close()
    lead_rows = _write_leads(out / "leads" / "foreign-lead.csv", world, seed)
    with (out / "truth.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "person_id", "network_id"])
        for r in planned:
            w.writerow([r.report_id, r.person.person_id, r.network or ""])
    reference = build_demo_reference(out / "reference")
    demo_jurisdiction(out / "reference")
    (out / "SYNTHETIC-DATA.json").write_text(
        json.dumps(
            {
                "synthetic": True,
                "generator": "tipfusion synth",
                "seed": seed,
                "reports": reports,
                "format": fmt,
                "note": "Generated test data: fictional people, reserved IP ranges and example domains. No media.",
                "reference": {
                    "ip_databases": [p.name for p in reference.databases],
                    "isp_table": reference.isp_table.name,
                    "warninglist": reference.warninglist.name,
                },
            },
            indent=2,
        )
        + "\n"
    )
    return GenerateResult(out, len(planned), file_count, len(world.persons), len(world.networks), lead_rows, reference)


def _write_leads(path: Path, world: object, seed: int) -> int:
    """A foreign force's list: phones of some ring members (as they would write them) plus unrelated numbers."""
    from tipfusion.synth.world import World

    assert isinstance(world, World)
    rng = random.Random(seed + 17)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for network in world.networks[: max(1, len(world.networks) // 4)]:
        for member in network.members:
            if member.phone and rng.random() < 0.5:
                rows.append(
                    [
                        "FOREIGN-LEAD-" + network.network_id,
                        "Example Foreign Police (synthetic)",
                        "phone",
                        f"+91 {member.phone[:5]} {member.phone[5:]}",
                        "IN",
                        "2026-05-20T09:00:00Z",
                        "distribution ring (synthetic)",
                    ]
                )
    for n in range(5):  # UK drama-range numbers: reserved for fiction, never anyone's phone
        rows.append(
            [
                "FOREIGN-LEAD-UNRELATED",
                "Example Foreign Police (synthetic)",
                "phone",
                f"07700 900{n:03d}",
                "GB",
                "2026-05-20T09:00:00Z",
                "no match expected",
            ]
        )
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_ref", "agency", "kind", "value", "country", "received_at", "note"])
        w.writerows(rows)
    return len(rows)


class _DirWriter:
    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def close(self) -> None:
        return None


class _ZipWriter:
    def __init__(self, path: Path):
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)

    def write(self, name: str, text: str) -> None:
        self.archive.writestr(name, text.encode("utf-8"))

    def close(self) -> None:
        self.archive.close()
