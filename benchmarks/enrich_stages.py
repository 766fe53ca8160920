"""Enrich (and triage, route) at several store sizes on SQLite and PostgreSQL: a baseline git ref against this tree.

    PYTHONPATH=src .venv/bin/python benchmarks/enrich_stages.py --reports 20000,100000 --repeat 3 --baseline main

Why: issue 15 asks for figures per stage at 10 M reports, and a 250,000-report build showed enrich superlinear
(9.7 s at 20 k, 649.5 s at 250 k). Each size is generated and ingested once into a kept template store (a SQLite
file and a PostgreSQL database, under --work; reused when complete, so a second run measures only). Each timed run
copies the template (file copy / CREATE DATABASE … TEMPLATE) and runs the stages in a fresh interpreter whose
PYTHONPATH is either the baseline's `src` (exported with `git archive`) or this tree's, alternating, so both are
measured in the same run under the same load. `--stages enrich` (default) times enrich alone; `enrich,triage,route`
also runs link untimed between them. After the runs the enrichment, triage and routing tables of the last baseline
and candidate stores are compared row for row: a faster stage that answers differently is not a speed-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_URL = os.environ.get("TIPFUSION_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SEED = 2026
# the tables whose rows the stages write; compared between baseline and candidate (ids and stamps left out)
COMPARED = {
    "ip_enrichments": "SELECT ip, ip_version, ip_class, network_type, asn, as_org, isp_name, isp_source, cgnat, "
    "country_estimate, region_estimate, city_estimate, accuracy_radius_km, latitude_estimate, longitude_estimate, "
    "warning, log_timezone, organization, connection_type, user_type, mobile_country_code, mobile_network_code, "
    "sources FROM ip_enrichments ORDER BY ip",
    "phone_enrichments": "SELECT e164, valid, number_type, region, original_allottee, area, sources "
    "FROM phone_enrichments ORDER BY e164",
    "email_enrichments": "SELECT address, domain, canonical, provider_rule, disposable, sources "
    "FROM email_enrichments ORDER BY address",
    "identifiability": "SELECT id, identifiable, identifiability_note FROM identifier_observations ORDER BY id",
}
TRIAGE_ROUTE = {
    "priorities": "SELECT * FROM priorities",
    "routing": "SELECT * FROM routing_decisions",
}


def _server_url(database: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _pg_exists(database: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).first()
    engine.dispose()
    return found is not None


def prepare(work: Path, reports: int, databases: list[str]) -> dict[str, str]:
    """The template stores for this size (generated and ingested once; a marker says each is complete)."""
    from tipfusion.config import Settings
    from tipfusion.enrich.demo import build_demo_reference
    from tipfusion.ingest import IngestService
    from tipfusion.store.db import make_engine, upgrade
    from tipfusion.synth import generate

    batch = work / f"batch-{reports}"
    if not (batch / "SYNTHETIC-DATA.json").exists():
        print(f"generating {reports:,} reports …", flush=True)
        generate(batch, reports, SEED)
    if not (batch / "reference" / "demo-isps.csv").exists():
        build_demo_reference(batch / "reference")
    templates: dict[str, str] = {}
    for kind in databases:
        marker = work / f"template-{kind}-{reports}.done"
        if kind == "sqlite":
            where = f"sqlite:///{work / f'template-{reports}.db'}"
        else:
            where = _server_url(f"tf_bench_enrich_tpl_{reports}")
        templates[kind] = where
        if marker.exists():
            continue
        print(f"ingesting {reports:,} reports into the {kind} template …", flush=True)
        if kind == "sqlite":
            Path(where.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            name = where.rsplit("/", 1)[1]
            _admin(f"DROP DATABASE IF EXISTS {name}")
            _admin(f"CREATE DATABASE {name}")
        started = time.perf_counter()
        engine = make_engine(where)
        upgrade(engine)
        IngestService(engine, Settings(database_url=where), "benchmark").ingest_paths([batch])
        engine.dispose()
        marker.write_text(f"{time.perf_counter() - started:.1f}\n")
    return templates


def _copy(template: str, label: str) -> str:
    if template.startswith("sqlite:///"):
        source = Path(template.removeprefix("sqlite:///"))
        target = source.with_name(f"run-{label}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        if Path(f"{source}-wal").exists():  # not checkpointed yet: its pages belong to the copy
            shutil.copyfile(f"{source}-wal", f"{target}-wal")
        return f"sqlite:///{target}"
    name = f"tf_bench_enrich_run_{label}"
    _admin(f"DROP DATABASE IF EXISTS {name}")
    _admin(f"CREATE DATABASE {name} TEMPLATE {template.rsplit('/', 1)[1]}")
    return _server_url(name)


def run_stages(url: str, reference: Path, stages: list[str]) -> dict[str, float]:
    """In the child interpreter: the stages on the store at `url`, seconds each (link untimed when needed)."""
    from tipfusion.config import Settings
    from tipfusion.enrich.service import EnrichConfig, EnrichService
    from tipfusion.store.db import make_engine

    engine = make_engine(url)
    tuning = Settings(database_url=url).tuning()
    seconds: dict[str, float] = {}
    for part in ("_ips", "_sightings", "_phones", "_emails"):  # enrich's passes, timed apart (same names in both)
        setattr(EnrichService, part, _timed(getattr(EnrichService, part), part.strip("_"), seconds))
    started = time.perf_counter()
    # the files `prepare` built (rebuilding them would stamp new database hashes into every answer's `sources`)
    config = EnrichConfig(
        (reference / "demo-asn.mmdb", reference / "demo-city.mmdb"),
        reference / "demo-isps.csv",
        reference / "demo-warninglist.csv",
    )
    EnrichService(engine, config, "benchmark").run()
    seconds["enrich"] = time.perf_counter() - started
    if {"triage", "route"} & set(stages):
        from tipfusion.link.service import LinkService
        from tipfusion.route.service import import_jurisdiction, route_all
        from tipfusion.triage.service import TriageService

        LinkService(engine, "benchmark", tuning.link).run()
        started = time.perf_counter()
        TriageService(engine, "benchmark", tuning.triage).run()
        seconds["triage"] = time.perf_counter() - started
        if "route" in stages:
            started = time.perf_counter()
            import_jurisdiction(engine, "benchmark", reference / "demo-stations.geojson", synthetic=True)
            route_all(engine, "benchmark", reference / "demo-pins.csv", None, tuning.routing)
            seconds["route"] = time.perf_counter() - started
    engine.dispose()
    seconds["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds


def _timed(method: Any, name: str, seconds: dict[str, float]) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            seconds[f"  {name}"] = seconds.get(f"  {name}", 0.0) + time.perf_counter() - started

    return timed


def digest(url: str, queries: dict[str, str]) -> dict[str, str]:
    """A SHA-256 per compared table (rows in order, values as text): equal digests, equal answers."""
    from sqlalchemy import text

    from tipfusion.store.db import make_engine

    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for name, sql in queries.items():
            sha = hashlib.sha256()
            count = 0
            for row in conn.execute(text(sql)):
                sha.update(repr(tuple(_plain(v) for v in row)).encode())
                count += 1
            out[name] = f"{count} rows {sha.hexdigest()[:16]}"
    engine.dispose()
    return out


def _plain(value: object) -> object:
    return None if value is None else str(value)


def _child(src: Path, args: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", default="20000,100000", help="comma-separated store sizes")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--stages", default="enrich", help="enrich, or enrich,triage,route")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default="main", help="git ref measured beside this tree")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tf-bench-enrich-stages")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("URL", "REFERENCE", "STAGES"), help=argparse.SUPPRESS)
    parser.add_argument("--digest", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, reference, stages = args.child
        print(json.dumps(run_stages(url, Path(reference), stages.split(","))))
        return
    if args.digest:
        stages = json.loads(os.environ["TF_BENCH_STAGES"])
        print(json.dumps(digest(args.digest, {**COMPARED, **(TRIAGE_ROUTE if len(stages) > 1 else {})})))
        return

    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [int(n) for n in args.reports.split(",")]
    databases = args.databases.split(",")
    stages = args.stages.split(",")
    baseline = args.work / f"baseline-{args.baseline.replace('/', '_')}"
    shutil.rmtree(baseline, ignore_errors=True)
    baseline.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive.stdout, check=True)
    sources = {"baseline": baseline / "src", "candidate": ROOT / "src"}
    results: dict[tuple[int, str, str], list[dict[str, float]]] = {}
    same: dict[tuple[int, str], bool] = {}
    for reports in sizes:
        templates = prepare(args.work, reports, databases)
        if args.prepare_only:
            continue
        reference = args.work / f"batch-{reports}" / "reference"
        for kind in databases:
            last: dict[str, str] = {}
            for attempt in range(args.repeat):
                order = ["baseline", "candidate"] if attempt % 2 == 0 else ["candidate", "baseline"]
                for which in order:
                    url = _copy(templates[kind], f"{which}_{reports}")
                    seconds = _child(sources[which], ["--child", url, str(reference), ",".join(stages)])
                    results.setdefault((reports, kind, which), []).append(seconds)
                    last[which] = url
                    shown = ", ".join(f"{k.strip()} {v:.1f}" for k, v in seconds.items())
                    print(f"  {kind} {reports:,} {which} #{attempt + 1}: {shown}", flush=True)
            os.environ["TF_BENCH_STAGES"] = json.dumps(stages)
            digests = {w: _child(sources["candidate"], ["--digest", u]) for w, u in last.items()}
            same[(reports, kind)] = digests["baseline"] == digests["candidate"]
            if not same[(reports, kind)]:
                print(f"  DIFFERENT answers: {json.dumps(digests, indent=1)}", flush=True)
    if args.prepare_only:
        return
    print(f"\nmedians of {args.repeat} (seconds), baseline {args.baseline} vs this tree, alternating in one run")
    print(f"{'store':20} {'stage':14} {'baseline':>9} {'candidate':>9} {'speed-up':>8}  same answers")
    for reports in sizes:
        for kind in databases:
            runs = {w: results[(reports, kind, w)] for w in ("baseline", "candidate")}
            for key in runs["candidate"][0]:
                if not all(key in r for rs in runs.values() for r in rs):
                    continue
                before, after = (statistics.median(r[key] for r in runs[w]) for w in ("baseline", "candidate"))
                ratio = f"{before / after:7.1f}×" if after and key != "peak_rss_mb" else " " * 8
                print(
                    f"{kind + ' ' + format(reports, ','):20} {key:14} {before:9.1f} {after:9.1f} {ratio}  "
                    f"{'yes' if same[(reports, kind)] else 'NO'}"
                )


if __name__ == "__main__":
    main()
