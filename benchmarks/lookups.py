"""Analyst look-ups on a synthetic store: `search` (any identifier, any written form) and `suspect show`.

    .venv/bin/python benchmarks/lookups.py --reports 3000 --queries 300 --repeat 3

Builds one store (SQLite, or PostgreSQL with --postgres) through routing, then times `search` for sampled
phones (written with spaces), emails (upper case) and IPs, and `suspect_profile` for sampled suspects. Prints the
median and p95 in milliseconds of each, medians over --repeat passes; the floor is one indexed
`(kind, canonical)` look-up of the same values in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from tipfusion.config import Settings
from tipfusion.pipeline import through_routing
from tipfusion.search import search, suspect_profile
from tipfusion.store.db import make_engine, upgrade
from tipfusion.store.tables import identifier_observations, report_links
from tipfusion.synth import generate


def _times(conn: Connection, values: list[Any], call: Callable[[Connection, Any], object]) -> list[float]:
    out = []
    for value in values:
        started = time.perf_counter()
        call(conn, value)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL; a fresh schema is made in it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with make_engine(args.postgres).begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        upgrade(engine)
        through_routing(engine, Settings(database_url=url), "bench", generate(Path(tmp) / "batch", args.reports, 7))
        rng = random.Random(7)
        o = identifier_observations
        with engine.connect() as conn:
            held = {
                kind: conn.execute(
                    select(o.c.value, o.c.canonical).where(o.c.kind == kind, o.c.is_current).distinct()
                ).all()
                for kind in ("phone", "email", "ip")
            }
            values = {kind: [v for v, _ in pairs] for kind, pairs in held.items()}
            suspect_ids = list(conn.execute(select(report_links.c.suspect_id).distinct()).scalars())
        queries = [
            *(p[:3] + " " + p[3:] for p in rng.sample(values["phone"], min(len(values["phone"]), args.queries // 3))),
            *(e.upper() for e in rng.sample(values["email"], min(len(values["email"]), args.queries // 3))),
            *rng.sample(values["ip"], min(len(values["ip"]), args.queries // 3)),
        ]
        wanted = rng.sample(suspect_ids, min(len(suspect_ids), args.queries))
        rows: dict[str, list[list[float]]] = {"floor (indexed look-up)": [], "search": [], "suspect show": []}
        for _ in range(args.repeat):
            with engine.connect() as conn:
                canon = [(k, c) for k in held for _, c in held[k][: len(queries) // 3]]
                rows["floor (indexed look-up)"].append(
                    _times(
                        conn,
                        canon,
                        lambda c, kv: c.execute(
                            select(o.c.report_id).where(o.c.kind == kv[0], o.c.canonical == kv[1], o.c.is_current)
                        ).all(),
                    )
                )
                rows["search"].append(_times(conn, queries, lambda c, q: search(c, q, None, "IN")))
                rows["suspect show"].append(_times(conn, wanted, suspect_profile))
        engine.dispose()
    print(f"{args.reports:,} reports, {len(queries)} searches, {len(wanted)} suspects, medians of {args.repeat} passes")
    print(f"{'what':<26}{'median ms':>12}{'p95 ms':>12}")
    for name, passes in rows.items():
        median = statistics.median(statistics.median(p) for p in passes)
        p95 = statistics.median(_p95(p) for p in passes)
        print(f"{name:<26}{median:>12.2f}{p95:>12.2f}")


if __name__ == "__main__":
    main()
