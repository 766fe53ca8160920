"""The batch that broke the fuzzers' memory bound, built directly: one ingest over it stays under MEMORY_LIMIT.

The full fuzz run (10,000 cases) peaked at 1,016 MiB on one batch: a lead list of 5,000 rows repeated to 72 MiB,
read into text, a `StringIO` and a list of 1.4 million items. Reproducing it also found that pass 1 held the
previous document while reading the next, that pass 2 held the previous chunk while planning the next and chunked
reports by count only (three 56 MiB reports together), and that refused reports kept their bytes alive through their
tracebacks. Each is here: the lead list over the document limit, one just under it (60 MiB, every row bad), and
three 56 MiB reports, beside a good report: 1,482 MiB before the fix, 74 MiB after. SQLite only: what is
measured is the Python side of ingest."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

from sqlalchemy import func, select

from tests.reliability.harness import MEMORY_LIMIT
from tests.reliability.hostile import LEADS_HEADER, REPEAT_BYTES, REPORT_XML
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import quarantine_entries, report_version_parts, source_documents

MiB = 1024 * 1024


def _report(report_id: int) -> bytes:
    return REPORT_XML.replace(b"u-7f3a91c2", f"u-{report_id}".encode())


def _worst_batch(folder: Path) -> dict[str, bytes]:
    """name → bytes: what the fuzzer's worst batch and its neighbours hold."""
    rows = "".join(f"FZ-1,X,phone,+44 7700 9{i:05d},GB,,\n" for i in range(5000)).encode()
    one = LEADS_HEADER + b"FZ-1,Example Foreign Police,phone,+44 7700 900123,GB,2026-10-01T09:00:00Z,ring\n" + rows
    docs = {
        "leads-repeated.csv": one * (REPEAT_BYTES // len(one)),  # the fuzz case: 72 MiB, over the document limit
        # just under the limit, every row bad (an unknown kind): read and refused without holding its rows
        "leads-bad-rows.csv": LEADS_HEADER + b"".join(b"FZ-2,X,fax,1,GB,,%s\n" % (b"n" * 10_000) for _ in range(6_000)),
        "399000001.xml": _report(399000001),  # the good report that must land
    }
    comment = b"<!--" + "\u2028\x85".encode() * 5000 + b"--></report>"
    for report_id in (399000002, 399000003, 399000004):  # a report of 56 MiB (junk after its end): refused
        docs[f"{report_id}.xml"] = _report(report_id).replace(b"</report>", comment) * 2000
    for index, (name, data) in enumerate(docs.items()):
        (folder / f"c{index}").mkdir(parents=True)
        (folder / f"c{index}" / name).write_bytes(data)
    return docs


def test_worst_fuzz_batch_stays_under_the_memory_bound(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    docs = _worst_batch(batch)
    shas = {name: hashlib.sha256(data).hexdigest() for name, data in docs.items()}
    assert max(len(d) for d in docs.values()) > 64 * MiB and sum(len(d) for d in docs.values()) > 280 * MiB
    del docs
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, reports_per_transaction=3, ingest_workers=0)  # as the fuzzer runs it
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        IngestService(engine, settings, "tester").ingest_paths([batch])
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"peak {peak / MiB:.1f} MiB above the test's own allocations")
    assert peak < MEMORY_LIMIT, f"peak {peak / MiB:.1f} MiB over {MEMORY_LIMIT / MiB:.0f} MiB"

    with engine.connect() as conn:
        entries = {
            sha: (reason, message, name)
            for sha, reason, message, name in conn.execute(
                select(
                    quarantine_entries.c.source_sha256,
                    quarantine_entries.c.reason,
                    quarantine_entries.c.message,
                    quarantine_entries.c.source_name,
                )
            )
        }
        landed = set(conn.execute(select(report_version_parts.c.report_id)).scalars())
        held = set(conn.execute(select(source_documents.c.sha256)).scalars())
    assert landed == {399000001}
    assert set(shas.values()) <= held, "every document is kept byte for byte"
    assert entries[shas["leads-repeated.csv"]][0] == "too_large"
    reason, message, name = entries[shas["leads-bad-rows.csv"]]
    assert (reason, name.endswith("leads-bad-rows.csv")) == ("invalid_rows", True)
    assert message.startswith("6000 bad row(s): line 2: kind 'fax'")
    for report_id in (399000002, 399000003, 399000004):
        reason, message, name = entries[shas[f"{report_id}.xml"]]
        assert reason == "malformed_xml" and name.endswith(f"{report_id}.xml"), (reason, message)

    again = IngestService(engine, settings, "tester").ingest_paths([batch])  # re-ingest is a no-op
    with engine.connect() as conn:
        open_entries = conn.execute(select(func.count()).select_from(quarantine_entries)).scalar_one()
    assert (again.new_documents, again.accepted, again.duplicates, open_entries) == (0, 0, 1, len(entries))
