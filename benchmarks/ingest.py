"""Ingest throughput: reports/s and peak RSS on SQLite and PostgreSQL, against a bare xml.etree parse floor.

    .venv/bin/python benchmarks/ingest.py --reports 100000 --repeat 3
    .venv/bin/python benchmarks/ingest.py --reports 20000 --repeat 3 --baseline-src ../main/src   # before/after

Each measurement runs in a fresh subprocess (clean peak RSS) on a fresh database; the figures printed are
medians over --repeat runs, with the CPU seconds of the ingest's own processes (client side: what the code costs,
whatever else the machine is doing). `--baseline-src` also times another checkout's ingest in the same runs, interleaved
with this one's (a before/after on the same machine under the same load). The floor parses the same files with a
plain `xml.etree` loop (read + parse, no extraction), so the ratio says what extraction, normalisation and storage
cost on top of reading XML.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def bare_parse(batch: Path) -> dict[str, float]:
    import xml.etree.ElementTree as ET

    started = time.perf_counter()
    documents = 0
    for path in sorted(batch.rglob("*.xml")):
        ET.parse(path)
        documents += 1
    return {"seconds": time.perf_counter() - started, "documents": documents}


def ingest(batch: Path, url: str) -> dict[str, float]:
    from tipfusion.config import load_settings
    from tipfusion.ingest import IngestService
    from tipfusion.store.db import make_engine, upgrade

    engine = make_engine(url)
    upgrade(engine)
    settings = load_settings().with_database(url)
    summary = IngestService(engine, settings, "benchmark").ingest_paths([batch])
    assert summary.quarantined == 0, summary.rejected[:3]
    return {"seconds": summary.seconds, "reports": summary.accepted}


def child(mode: str, batch: Path, url: str) -> None:
    result = bare_parse(batch) if mode == "bare" else ingest(batch, url)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU of this process and of its parser processes (reaped when the pool closed): on a machine shared with other
    # work the seconds above measure the load as much as the code; this does not (the database server's is not in it)
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu"] = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
    print(json.dumps(result))


def run_child(mode: str, batch: Path, url: str = "", src: Path | None = None) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--batch", str(batch), "--url", url],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def fresh_postgres_url() -> str | None:
    from sqlalchemy import text

    from tipfusion.store.db import make_engine

    try:
        engine = make_engine(PG_URL)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        return f"{PG_URL}?options=-csearch_path%3D{schema}"
    except Exception as exc:
        print(f"PostgreSQL unavailable ({str(exc).splitlines()[0]}); skipping it")
        return None


def drop_postgres(url: str) -> None:
    from sqlalchemy import text

    from tipfusion.store.db import make_engine

    schema = url.rsplit("%3D", 1)[1]
    with make_engine(PG_URL).begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--batch", type=Path)
    parser.add_argument("--url", default="")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src/ to time in the same runs")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.batch, args.url)
        return

    from tipfusion.synth import generate

    batch = HERE / "out" / f"ingest-{args.reports}-{args.seed}"
    if not (batch / "truth.csv").exists():
        print(f"generating {args.reports:,} synthetic reports in {batch} …", flush=True)
        generate(batch, args.reports, args.seed)
    variants: list[tuple[str, Path | None]] = [("", None)]
    if args.baseline_src:
        variants.insert(0, (" (baseline)", args.baseline_src.resolve()))
    names = ["bare"] + [f"{db}{tag}" for db in ("sqlite", "postgresql") for tag, _ in variants]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for attempt in range(args.repeat):
        results["bare"].append(run_child("bare", batch))
        for tag, src in variants:
            db = HERE / "out" / f"bench-{uuid.uuid4().hex[:8]}.db"
            try:
                results[f"sqlite{tag}"].append(run_child("ingest", batch, f"sqlite:///{db}", src))
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
        for tag, src in variants if not args.no_postgres else []:
            url = fresh_postgres_url()
            if url:
                try:
                    results[f"postgresql{tag}"].append(run_child("ingest", batch, url, src))
                finally:
                    drop_postgres(url)
        print(
            f"run {attempt + 1}/{args.repeat}: "
            + ", ".join(f"{k} {v[-1]['seconds']:.1f}s" for k, v in results.items() if v),
            flush=True,
        )

    bare = statistics.median(r["seconds"] for r in results["bare"])
    print(
        f"\n{args.reports:,} reports ({int(results['bare'][0]['documents']):,} XML documents incl. fileDetails); "
        f"medians of {args.repeat} runs"
    )
    width = max(len(n) for n in names)
    print(f"{'':{width}} {'seconds':>9} {'reports/s':>10} {'x bare':>7} {'peak MB':>8} {'CPU s':>7}")
    print(
        f"{'bare etree':{width}} {bare:9.2f} {args.reports / bare:10,.0f} {1.0:7.2f} "
        f"{statistics.median(r['peak_mb'] for r in results['bare']):8.0f} "
        f"{statistics.median(r['cpu'] for r in results['bare']):7.1f}"
    )
    for name in names[1:]:
        runs = results[name]
        if not runs:
            continue
        seconds = statistics.median(r["seconds"] for r in runs)
        print(
            f"{name:{width}} {seconds:9.2f} {args.reports / seconds:10,.0f} {seconds / bare:7.2f} "
            f"{statistics.median(r['peak_mb'] for r in runs):8.0f} {statistics.median(r['cpu'] for r in runs):7.1f}"
        )


if __name__ == "__main__":
    main()
