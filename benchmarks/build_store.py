"""Build one kept store of N synthetic reports through routing, timing each stage: the store the large web and
Spark benchmarks reuse (`benchmarks/web.py --store URL --reuse`, `benchmarks/link_spark.py --store URL`).

    PYTHONPATH=src .venv/bin/python benchmarks/build_store.py --reports 1000000 --schema bench_1m

The same stages as `tipfusion demo` and `benchmarks/web.py` (generate, ingest, enrich, link, triage, route in the demo
jurisdiction), here one at a time with their seconds printed as each ends, because a 1 M-report build takes hours on a
small machine and the per-stage figures say where. The PostgreSQL schema (--schema) is created and kept; it must not
exist yet (a half-built store is not silently reused). --sqlite PATH builds the embedded store instead. The batch is
generated into --batch (default benchmarks/out/ingest-N-SEED, reused when complete: its marker is written last; the
folder `benchmarks/ingest.py` and `link_scale.py` use). The store says it holds synthetic data: the batch carries its
SYNTHETIC-DATA.json marker into the store as every synthetic ingest does.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, inspect, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.memory import high_water_mb, reset_high_water  # noqa: E402

PG_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _high_water_mb() -> float:
    """This process's high-water mark since the stage began, or the largest a finished child process (the ingest's
    parsers) ever reached, whichever is larger: the children's figure cannot be reset, so a stage after the ingest
    shows at least the parsers' peak."""
    return max(high_water_mb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def _stage(name: str, work: Callable[[], object]) -> tuple[float, float]:
    """Run one stage; its seconds and peak MB, printed as it ends (a 1 M-report build takes long)."""
    print(f"{name} …", flush=True)
    reset_high_water()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    peak = _high_water_mb()
    print(f"{name}: {seconds:.1f} s, peak {peak:,.0f} MB", flush=True)
    return seconds, peak


def _new_schema(schema: str) -> str:
    from tipfusion.store.db import make_engine

    if not schema.isidentifier():
        raise SystemExit(f"--schema {schema!r}: expected a plain identifier, e.g. bench_1m")
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first():
            raise SystemExit(f"schema {schema} exists already: drop it or choose another name")
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--schema", help="a new PostgreSQL schema to build into (kept)")
    where.add_argument("--sqlite", type=Path, help="a new SQLite file to build into")
    parser.add_argument("--batch", type=Path, help="the generated batch's folder (reused when complete)")
    args = parser.parse_args()

    from tipfusion.config import Settings
    from tipfusion.enrich.demo import build_demo_reference
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.ingest import IngestService
    from tipfusion.link.service import LinkService
    from tipfusion.route.service import import_jurisdiction, route_all
    from tipfusion.store.db import make_engine, upgrade
    from tipfusion.synth import generate
    from tipfusion.triage.service import TriageService

    if args.sqlite is not None and args.sqlite.exists():
        raise SystemExit(f"{args.sqlite} exists already: remove it or choose another path")
    url = f"sqlite:///{args.sqlite}" if args.sqlite is not None else _new_schema(args.schema)
    print(f"store: {url}", flush=True)
    batch_dir = args.batch or HERE / "out" / f"ingest-{args.reports}-{args.seed}"
    settings = Settings(database_url=url)
    tuning = settings.tuning()
    engine = make_engine(url)
    upgrade(engine)
    seconds: dict[str, tuple[float, float]] = {}
    if (batch_dir / "SYNTHETIC-DATA.json").exists():  # written last: the batch is complete
        print(f"reusing the batch in {batch_dir}", flush=True)
        ref = build_demo_reference(batch_dir / "reference")
    else:
        seconds["generate"] = _stage(
            f"generate {args.reports:,} reports into {batch_dir}",
            lambda: generate(batch_dir, args.reports, args.seed),
        )
        ref = build_demo_reference(batch_dir / "reference")
    actor = "benchmark"
    seconds["ingest"] = _stage("ingest", lambda: IngestService(engine, settings, actor).ingest_paths([batch_dir]))
    seconds["enrich"] = _stage(
        "enrich",
        lambda: EnrichService(engine, EnrichConfig(tuple(ref.databases), ref.isp_table, ref.warninglist), actor).run(),
    )
    seconds["link"] = _stage("link", lambda: LinkService(engine, actor, tuning.link).run())
    seconds["triage"] = _stage("triage", lambda: TriageService(engine, actor, tuning.triage).run())
    seconds["route"] = _stage(
        "route",
        lambda: (
            import_jurisdiction(engine, actor, batch_dir / "reference" / "demo-stations.geojson", synthetic=True),
            route_all(engine, actor, batch_dir / "reference" / "demo-pins.csv", None, tuning.routing),
        ),
    )
    if engine.dialect.name == "postgresql":
        seconds["vacuum"] = _stage("vacuum analyze", lambda: _vacuum(engine))
    engine.dispose()
    print(f"\n{args.reports:,} reports built into {url}")
    print(f"  {'stage':10} {'seconds':>9} {'reports/s':>10} {'peak MB':>8}")
    for stage, (spent, peak) in seconds.items():
        rate = "–" if stage == "vacuum" else f"{args.reports / spent:,.0f}"  # upkeep, not a stage reports pass
        print(f"  {stage:10} {spent:9.1f} {rate:>10} {peak:8,.0f}")
    total = sum(spent for spent, _ in seconds.values())
    top = max(peak for _, peak in seconds.values())
    print(f"  {'total':10} {total:9.1f} {args.reports / total:10,.0f} {top:8,.0f}")


def _vacuum(engine: Engine) -> None:
    """VACUUM (ANALYZE) each table of the store, as autovacuum leaves it in time: the web figures are of a settled
    store. Without it the planner may believe tables empty, and counts cannot be index-only (no visibility map yet):
    the work queue's count of 86,457 suspects at 250,000 reports took 92 ms as a scan of the whole priorities table
    before, 13–45 ms from its index after. Only this schema's tables: other schemas on the server are not touched."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))


if __name__ == "__main__":
    main()
