"""Identifier look-up at national scale: `search` p50/p95/max on a store holding N observation rows.

    .venv/bin/python benchmarks/lookup_scale.py --observations 10000000 --queries 300 --repeat 3
    .venv/bin/python benchmarks/lookup_scale.py --observations 10000000 --keep \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    … --reuse   (time again on the store built before: benchmarks/out/lookup-N.db, or the kept schema lookup_N,
                 after applying any migration added since, as an upgrade would)
    … --store URL   (time a store built through the whole pipeline, e.g. by benchmarks/build_store.py, as it is)

Building 10 M rows through the pipeline would take hours, so the store is grown set-wise (not timed): a realistic
small store is built through routing with the real pipeline (--reports, 2,500 by default: ~13 sightings a report,
values shared between the reports of one suspect and between suspects of one network), then its observation rows
(and report links) are copied in SQL, `INSERT … SELECT` over a series of copy numbers, until N rows are held. Copy k
shifts report numbers by k·10⁹ and suspects/networks by a `-k` suffix, and rewrites each value into a reserved
synthetic range distinct per copy (phones +91 9kkk nnnnnn, emails u<n>.c<k>@example.com, IPs 2001:db8:k:n::1, hashes
with k and n in their first 16 hex digits), so the value-frequency distribution keeps the base store's shape: most
values rare; the values shared inside the base store stay shared inside each copy; and 1 % of the base values (every
100th) are kept as they are in every copy, the few common values an analyst also searches (hundreds to thousands of
sightings). Indexes are dropped during the copy and rebuilt after, then `ANALYZE`.

Timed: `search()` (the service, with the web app's limit 500) and `workplace.find` (the web search page's own call:
a pooled connection, the role check, then `search`) for values sampled from the grown store's rows (so common values
are sampled as often as they occur): phones written with a space, emails in upper case, IPs, file hashes in upper
case with their type, and NCMEC report numbers (a bare number, read as a dozen kinds: report, phone, device, …).
`--build-only` builds the kept store (benchmark setup, not timed) and stops. Each line prints p50 / p95 / max in ms,
medians over --repeat passes; the floor is one bare indexed `(kind, canonical)` look-up of the same values in the
same run, with the same row limit (a report number: its primary-key row).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from tipfusion.accounts.principal import Principal, Role
from tipfusion.config import Settings
from tipfusion.pipeline import through_routing
from tipfusion.search import search
from tipfusion.search.readings import REPORT
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import identifier_observations, reports
from tipfusion.synth import generate
from tipfusion.workplace import find

HERE = Path(__file__).resolve().parent
KINDS = ("phone", "email", "ip", "file_hash")
COPY_SHIFT = 1_000_000_000  # report numbers of copy k: the base's + k·10⁹ (NCMEC report numbers are < 10⁹)
COPIES_PER_STATEMENT = 20  # one INSERT … SELECT per this many copies: bounded transactions, visible progress
COMMON_EVERY = 100  # every 100th base value is kept unchanged in every copy: the common values


def _dialect_sql(dialect: str) -> dict[str, str]:
    """The rewritten canonical value of copy `k.n` for base value number `m.n`, per kind (SQLite or PostgreSQL)."""
    if dialect == "sqlite":
        hex_ = "printf('%x', {})".format
        pad = "printf('%0{}d', {})".format
        hex8 = "printf('%08x', {})".format
        return {
            "phone": f"'+919' || {pad(3, 'k.n')} || {pad(6, 'm.n % 1000000')}",
            "email": "'u' || m.n || '.c' || k.n || '@example.com'",
            "ip": f"'2001:db8:' || {hex_('k.n + 1')} || ':' || {hex_('m.n + 1')} || '::1'",
            "file_hash": (
                "substr(m.canonical, 1, instr(m.canonical, ':')) || "
                f"{hex8('k.n')} || {hex8('m.n')} || substr(m.canonical, instr(m.canonical, ':') + 17)"
            ),
            "other": "m.canonical || '~' || k.n",
            "series": "WITH RECURSIVE k(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM k WHERE n < :hi)",
        }
    return {
        "phone": "'+919' || lpad(k.n::text, 3, '0') || lpad((m.n % 1000000)::text, 6, '0')",
        "email": "'u' || m.n || '.c' || k.n || '@example.com'",
        "ip": "'2001:db8:' || to_hex(k.n + 1) || ':' || to_hex(m.n + 1) || '::1'",
        "file_hash": (
            "split_part(m.canonical, ':', 1) || ':' || lpad(to_hex(k.n), 8, '0') || lpad(to_hex(m.n), 8, '0')"
            " || substr(split_part(m.canonical, ':', 2), 17)"
        ),
        "other": "m.canonical || '~' || k.n",
        "series": "WITH k(n) AS (SELECT generate_series(CAST(:lo AS integer), CAST(:hi AS integer)))",
    }


_COPIED = (
    "version, is_current, account_ordinal, file_ordinal, raw, valid, detail, flags, event_name, observed_at,"
    " observed_at_raw, port, possible_proxy, verified, origin, path, attrs, role, identifiable, identifiability_note"
)

_REPORT_COPIED = "current_version, format, first_ingested_at, updated_at"


def _grow(engine: Engine, target: int) -> None:
    """Copy the base store's observation rows and report links until `target` observation rows are held."""
    sql = _dialect_sql(engine.dialect.name)
    new = (
        "CASE WHEN m.n % {every} = 0 THEN m.canonical"
        " WHEN o.kind = 'phone' THEN {phone} WHEN o.kind = 'email' THEN {email}"
        " WHEN o.kind = 'ip' THEN {ip} WHEN o.kind = 'file_hash' AND instr_ok THEN {file_hash}"
        " ELSE {other} END"
    )
    hash_ok = "instr(m.canonical, ':') > 0" if engine.dialect.name == "sqlite" else "position(':' in m.canonical) > 0"
    new = new.replace("instr_ok", hash_ok).format(every=COMMON_EVERY, **sql)
    with engine.begin() as conn:
        base = conn.execute(text("SELECT count(*) FROM identifier_observations")).scalar_one()
        conn.execute(text("DROP TABLE IF EXISTS lookup_bench_values"))
        conn.execute(text("CREATE TABLE lookup_bench_values (kind VARCHAR(20), canonical TEXT, n INTEGER)"))
        conn.execute(
            text(
                "INSERT INTO lookup_bench_values (kind, canonical, n) SELECT kind, canonical,"
                " CAST(row_number() OVER (ORDER BY kind, canonical) AS integer)"
                " FROM (SELECT DISTINCT kind, canonical FROM identifier_observations) d"
            )
        )
        conn.execute(text("CREATE UNIQUE INDEX ix_lookup_bench_values ON lookup_bench_values (kind, canonical)"))
        conn.execute(text("DROP TABLE IF EXISTS lookup_bench_base"))
        conn.execute(text("CREATE TABLE lookup_bench_base AS SELECT * FROM identifier_observations"))
        conn.execute(text("DROP TABLE IF EXISTS lookup_bench_links"))
        conn.execute(text("CREATE TABLE lookup_bench_links AS SELECT * FROM report_links"))
        conn.execute(text("DROP TABLE IF EXISTS lookup_bench_reports"))
        conn.execute(text("CREATE TABLE lookup_bench_reports AS SELECT * FROM reports"))
        for index in identifier_observations.indexes:
            index.drop(conn)
    copies = max(0, -(-target // base) - 1)
    print(f"base {base:,} observation rows; {copies} copies …", flush=True)
    started = time.perf_counter()
    for lo in range(1, copies + 1, COPIES_PER_STATEMENT):
        hi = min(copies, lo + COPIES_PER_STATEMENT - 1)
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"{sql['series']} INSERT INTO identifier_observations"
                    f" (report_id, kind, value, canonical, {_COPIED})"
                    f" SELECT o.report_id + CAST(k.n AS BIGINT) * {COPY_SHIFT}, o.kind,"
                    f" CASE WHEN o.kind IN ('phone', 'email', 'ip', 'file_hash') THEN {new} ELSE o.value END,"
                    f" {new}, {', '.join('o.' + c.strip() for c in _COPIED.split(','))}"
                    " FROM lookup_bench_base o"
                    " JOIN lookup_bench_values m ON m.kind = o.kind AND m.canonical = o.canonical"
                    " CROSS JOIN k"
                ),
                {"lo": lo, "hi": hi},
            )
            conn.execute(
                text(
                    f"{sql['series']} INSERT INTO report_links (report_id, suspect_id, network_id, run_id)"
                    f" SELECT l.report_id + CAST(k.n AS BIGINT) * {COPY_SHIFT}, l.suspect_id || '-' || k.n,"
                    " l.network_id || '-' || k.n, l.run_id FROM lookup_bench_links l CROSS JOIN k"
                ),
                {"lo": lo, "hi": hi},
            )
            conn.execute(  # the copied reports exist, so their numbers are found as reports
                text(
                    f"{sql['series']} INSERT INTO reports (report_id, {_REPORT_COPIED})"
                    f" SELECT r.report_id + CAST(k.n AS BIGINT) * {COPY_SHIFT},"
                    f" {', '.join('r.' + c.strip() for c in _REPORT_COPIED.split(','))}"
                    " FROM lookup_bench_reports r CROSS JOIN k"
                ),
                {"lo": lo, "hi": hi},
            )
        print(f"  copies {lo}–{hi} in {time.perf_counter() - started:.0f} s", flush=True)
    with engine.begin() as conn:
        for name in ("lookup_bench_base", "lookup_bench_links", "lookup_bench_reports", "lookup_bench_values"):
            conn.execute(text(f"DROP TABLE {name}"))
        for index in identifier_observations.indexes:
            index.create(conn)
        print(f"  indexes rebuilt at {time.perf_counter() - started:.0f} s", flush=True)
    _analyze(engine)
    print(f"grown in {time.perf_counter() - started:.0f} s", flush=True)


def _analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE identifier_observations"))


def _store(args: argparse.Namespace, tmp: Path) -> tuple[Engine, Callable[[], None]]:
    """The grown store: built once (base through routing, then grown), kept for --reuse; or --store as it is."""
    if args.store:  # a store built through the whole pipeline (benchmarks/build_store.py): timed, never changed
        return make_engine(args.store), lambda: None
    n = args.observations
    if args.postgres:
        schema = f"lookup_{n}"
        admin = make_engine(args.postgres)
        url = f"{args.postgres}?options=-csearch_path%3D{schema}"
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"), {"s": schema}
            ).first()
        if not (args.reuse and exists):
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            _build(url, tmp, args)

        def drop() -> None:
            if not args.keep:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()

        return _migrated(url), drop
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"lookup-{n}.db"
    if not (args.reuse and path.exists()):
        base = out / f"lookup-base-{args.reports}.db"
        if not base.exists():
            partial = base.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            _build(f"sqlite:///{partial}", tmp, args, grow=False)
            partial.rename(base)
        shutil.copyfile(base, path)
        _grow(make_engine(f"sqlite:///{path}"), n)
    return _migrated(f"sqlite:///{path}"), lambda: None


def _migrated(url: str) -> Engine:
    """The kept store at the code's schema: a migration added since it was built (an index) is applied to it."""
    engine = make_engine(url)
    started = time.perf_counter()
    revision = "SELECT version_num FROM alembic_version"
    with engine.connect() as conn:
        before = conn.execute(text(revision)).scalar_one()
    upgrade(engine)
    with engine.connect() as conn:
        after = conn.execute(text(revision)).scalar_one()
    if after != before:
        _analyze(engine)
        print(f"store migrated {before} → {after} and analysed in {time.perf_counter() - started:.0f} s", flush=True)
    return engine


def _build(url: str, tmp: Path, args: argparse.Namespace, grow: bool = True) -> None:
    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    through_routing(engine, Settings(database_url=url), "bench", generate(tmp / "batch", args.reports, 7))
    print(f"base store of {args.reports:,} reports through routing in {time.perf_counter() - started:.0f} s")
    if grow:
        _grow(engine, args.observations)
    engine.dispose()


def _queries(conn: Connection, per_kind: int, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(typed form, canonical) per kind, sampled by row so a value is drawn as often as it is held; the NCMEC report
    numbers are those of the sampled rows' reports (a report with many sightings drawn as often as it has them)."""
    o = identifier_observations
    top = conn.execute(select(func.max(o.c.id))).scalar_one()
    out: dict[str, list[tuple[str, str]]] = {kind: [] for kind in (*KINDS, REPORT)}
    while any(len(v) < per_kind for v in out.values()):
        ids = [rng.randint(1, top) for _ in range(2000)]
        rows = conn.execute(  # in id order: the same sample whichever plan the database picks
            select(o.c.kind, o.c.value, o.c.canonical, o.c.report_id)
            .where(o.c.id.in_(ids), o.c.kind.in_(KINDS))
            .order_by(o.c.id)
        )
        for kind, value, canonical, report_id in rows:
            if len(out[kind]) < per_kind:
                out[kind].append((_typed(kind, value, canonical), canonical))
            if len(out[REPORT]) < per_kind:
                out[REPORT].append((str(report_id), str(report_id)))
    return out


def _typed(kind: str, value: str, canonical: str) -> str:
    """The value written as an analyst might type it, not as stored."""
    if kind == "phone":
        return canonical[:3] + " " + canonical[3:]
    if kind in ("email", "file_hash"):
        return canonical.upper()
    return value


def _floor(kind: str, canonical: str, limit: int) -> Any:
    """The bare indexed look-up of one value (a report number: its primary-key row) with the search's row limit."""
    o = identifier_observations
    if kind == REPORT:
        return select(reports.c.report_id).where(reports.c.report_id == int(canonical))
    return select(o.c.report_id).where(o.c.kind == kind, o.c.canonical == canonical, o.c.is_current).limit(limit + 1)


def _timed(conn: Any, value: Any, call: Callable[[Any, Any], Any]) -> tuple[float, float, Any]:
    """Wall and process-CPU milliseconds of one call (on SQLite the CPU includes the database's own work, so it
    shows the cost on an idle core however loaded the shared machine is), and what the call returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call(conn, value)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def _search_at(rev: str) -> Callable[..., Any]:
    """`search` as it was at git revision `rev`, to time beside today's in the same run on the same store."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/tipfusion/search/lookup.py"], cwd=HERE, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType(f"lookup_at_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:lookup.py", "exec"), module.__dict__)
    return module.search  # type: ignore[no-any-return]


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--reports", type=int, default=2500, help="reports in the base store built through routing")
    parser.add_argument("--queries", type=int, default=300, help="searches a pass, split evenly over the kinds")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=500, help="the search's row limit (the web app's is 500)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL; the store is schema lookup_N in it")
    parser.add_argument("--reuse", action="store_true", help="time the store kept from an earlier run")
    parser.add_argument("--before", help="also time `search` as at this git revision, query by query, same store")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema (the SQLite file is kept)")
    parser.add_argument("--build-only", action="store_true", help="build (or migrate) the kept store, time nothing")
    parser.add_argument(
        "--store",
        help="time this store URL as it is instead (e.g. the 1 M-report store benchmarks/build_store.py built through"
        " the whole pipeline: real value frequencies, ~13 sightings a report); nothing is built, grown or migrated",
    )
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        engine, drop = _store(args, Path(tmp))
    if args.build_only:
        engine.dispose()
        return
    analyst = Principal("bench", Role.ANALYST)
    try:
        with engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(identifier_observations)).scalar_one()
            sampled = _queries(conn, max(1, args.queries // (len(KINDS) + 1)), rng)
        typed = [(kind, t) for kind in sampled for t, _ in sampled[kind]]
        canon = [(kind, c) for kind in sampled for _, c in sampled[kind]]
        variants: dict[str, Callable[..., Any]] = {"search": lambda c, q: search(c, q, None, "IN", args.limit)}
        if args.before:
            before = _search_at(args.before)
            variants[f"before {args.before}"] = lambda c, q: before(c, q, None, "IN", args.limit)
        rows: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
        sizes: list[int] = []
        truncated = 0
        for attempt in range(args.repeat):
            timed: dict[str, list[tuple[float, float]]] = defaultdict(list)
            with engine.connect() as conn:
                for kind, canonical in canon:
                    query = _floor(kind, canonical, args.limit)
                    wall, cpu, _ = _timed(conn, query, lambda c, q: c.execute(q).all())
                    timed[f"floor {kind}"].append((wall, cpu))
                for number, (kind, query) in enumerate(typed):
                    order = list(variants.items())
                    for name, call in order if number % 2 else reversed(order):  # neither always runs first
                        wall, cpu, result = _timed(conn, query, call)
                        timed[f"{name} (all kinds)"].append((wall, cpu))
                        timed[f"{name} {kind}"].append((wall, cpu))
                        if attempt == 0 and name == "search":
                            sizes.append(len(result.sightings) + len(result.reports))
                            truncated += result.truncated
                            if not result.found:
                                print(f"warning: {query!r} found nothing")
            for kind, query in typed:  # the web app's own call: a pooled connection, role check
                wall, cpu, _ = _timed(engine, query, lambda e, q: find(e, analyst, q, "IN", None, args.limit))
                timed["web find (all kinds)"].append((wall, cpu))
                timed[f"web find {kind}"].append((wall, cpu))
            for name, pairs in timed.items():
                rows[name].append(pairs)
    finally:
        engine.dispose()
        drop()
    where = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[engine.dialect.name]
    print(
        f"{where}: {held:,} observation rows, {len(typed)} searches a pass, medians of {args.repeat} passes;"
        f" sightings a search: median {statistics.median(sizes):.0f}, max {max(sizes)}, {truncated} truncated at"
        f" limit {args.limit}"
    )
    print(f"{'what':<30}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'p95 CPU ms':>12}")
    for name, passes in sorted(rows.items(), key=lambda item: (not item[0].startswith("floor"), item[0])):
        walls = [statistics.median(_pct([w for w, _ in p], q) for p in passes) for q in (0.5, 0.95, 1.0)]
        cpu = statistics.median(_pct([c for _, c in p], 0.95) for p in passes)
        print(f"{name:<30}" + "".join(f"{f:>10.2f}" for f in walls) + f"{cpu:>12.2f}")


if __name__ == "__main__":
    main()
