"""Known-content hash lists at scale: N file hashes against an M-hash bank, exact (SQL join) and PDQ (≤ 31 bits).

    PYTHONPATH=src .venv/bin/python benchmarks/hashlists.py --files 1000000 --bank 1000000 --sample 2000

Each measurement runs in a fresh process (clean peak RSS); the figures are medians of --repeat runs.

exact   A SQLite store (or --postgres URL) holding N current MD5 file hashes (written straight to
        identifier_observations, not timed) and an M-row CSV list imported with `import_file` (timed: "import").
        "join" is the one INSERT … SELECT that matches them; its baseline, in the same run, reads both columns
        into Python and intersects two sets (what a loop would at best do).
pdq     M random 256-bit hashes and N queries, of which 1,000 are planted copies of bank hashes at distances
        0 … 39 (so exactly those at ≤ 31 must come back). On --sample queries brute force and three exact
        multi-index layouts (8 chunks of 32 bits at radius 3, 16 of 16 bits at radius 1, and the 12-chunk layout)
        are timed; each layout's one-off table build is timed with one query, and "→ all N" is that build plus
        the per-query cost times N. "auto" (the layout the matcher picks for N against M) then runs on all N.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PLANTED = 1000


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bank_and_queries(files: int, bank_size: int) -> tuple[Any, Any, int]:
    import numpy as np

    rng = np.random.default_rng(20261203)
    bank = rng.integers(0, 2**64, size=(bank_size, 4), dtype=np.uint64)
    queries = rng.integers(0, 2**64, size=(files, 4), dtype=np.uint64)
    planted = min(PLANTED, files, bank_size)
    for i in range(planted):  # query i: bank hash i with i % 40 bits flipped
        copy = bank[i].copy()
        for bit in rng.choice(256, size=i % 40, replace=False):
            copy[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
        queries[i] = copy
    expected = sum(1 for i in range(planted) if i % 40 <= 31)
    return bank, queries, expected


def child_pdq(files: int, bank_size: int, how: str) -> dict[str, Any]:
    from tipfusion.enrich.hashlists import pdq

    bank, queries, expected = _bank_and_queries(files, bank_size)
    layouts = {"mih 12x": pdq.DEFAULT, "mih 8x32": pdq.EIGHT_BY_32, "mih 16x16": pdq.SIXTEEN_BY_16, "auto": None}
    started, cpu = time.perf_counter(), time.process_time()
    found = pdq.brute_pairs(queries, bank) if how == "brute" else pdq.near_pairs(queries, bank, layout=layouts[how])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    planted_found = int((found[0] < min(PLANTED, files)).sum())
    return {"seconds": seconds, "cpu": cpu, "pairs": len(found[0]), "planted_found": planted_found,
            "planted_expected": expected if files >= PLANTED else None, "peak_mb": _peak()}  # fmt: skip


def _store_url(tmp: str, postgres: str | None) -> tuple[str, str | None]:
    """(URL, PostgreSQL schema to drop afterwards)."""
    if not postgres:
        return f"sqlite:///{Path(tmp) / 'store.db'}", None
    from sqlalchemy import text

    from tipfusion.store.db import make_engine

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with make_engine(postgres).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{postgres}?options=-csearch_path%3D{schema}", schema


def _drop(postgres: str | None, schema: str | None) -> None:
    if postgres and schema:
        from sqlalchemy import text

        from tipfusion.store.db import make_engine

        with make_engine(postgres).begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def child_exact(files: int, bank_size: int, postgres: str | None) -> dict[str, Any]:
    import hashlib

    from tipfusion.enrich.hashlists.service import import_file
    from tipfusion.store.bulk import insert_rows, rows_of
    from tipfusion.store.db import make_engine, upgrade
    from tipfusion.store.hashlists import add_exact_matches, clear_matches
    from tipfusion.store.tables import identifier_observations

    def md5(i: int) -> str:
        return hashlib.md5(f"SYNTHETIC {i}".encode()).hexdigest()

    with tempfile.TemporaryDirectory() as tmp:
        url, schema = _store_url(tmp, postgres)
        engine = make_engine(url)
        upgrade(engine)
        columns = ("report_id", "version", "is_current", "file_ordinal", "kind", "value", "canonical", "raw",
                   "valid", "origin", "path")  # fmt: skip
        with engine.begin() as conn:  # files: 1 % of them (every 100th) are on the list
            for start in range(0, files, 100_000):
                rows = [
                    (100_000_000 + i // 4, 1, True, i % 4, "file_hash", f"md5:{md5(i)}", f"md5:{md5(i)}", md5(i),
                     True, "field", "fileDetails/originalFileHash")
                    for i in range(start, min(files, start + 100_000))
                ]  # fmt: skip
                insert_rows(conn, identifier_observations, columns, rows)
        listed = Path(tmp) / "list.csv"
        with listed.open("w") as out:
            out.write("md5,category,source\n")
            for j in range(bank_size):
                out.write(f"{md5(j * 100 if j < files // 100 else files + j)},1,benchmark\n")
        started = time.perf_counter()
        summary = import_file(engine, listed, "benchmark", "csv", "benchmark")
        import_seconds = time.perf_counter() - started
        with engine.begin() as conn:
            clear_matches(conn)
            started = time.perf_counter()
            matched = add_exact_matches(conn)
            join_seconds = time.perf_counter() - started
        with engine.connect() as conn:
            started = time.perf_counter()
            held = {c for (c,) in rows_of(conn, "SELECT canonical FROM identifier_observations")}
            listed_values = {c for (c,) in rows_of(conn, "SELECT canonical FROM hash_list_entries")}
            floor = len(held & listed_values)
            floor_seconds = time.perf_counter() - started
        engine.dispose()
        _drop(postgres, schema)
    return {"import_seconds": import_seconds, "entries": summary.entries_added, "join_seconds": join_seconds,
            "matched": matched, "floor_seconds": floor_seconds, "floor_matched": floor, "peak_mb": _peak()}  # fmt: skip


def run(args: argparse.Namespace, *extra: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(args.repeat):
        command = [sys.executable, __file__, "--files", str(args.files), "--bank", str(args.bank), *extra]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"{' '.join(extra)} failed:\n{done.stderr[-3000:]}")
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def med(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1_000_000, help="file hashes (queries)")
    parser.add_argument("--bank", type=int, default=1_000_000, help="listed hashes")
    parser.add_argument("--sample", type=int, default=2000, help="queries for the brute-force and layout baselines")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="run the exact join on this PostgreSQL URL (a new schema)")
    parser.add_argument("--skip-exact", action="store_true")
    parser.add_argument("--skip-full", action="store_true", help="only the --sample comparison for PDQ")
    parser.add_argument("--skip-pdq", action="store_true")
    parser.add_argument("--child", choices=["exact", "pdq"], help=argparse.SUPPRESS)
    parser.add_argument("--how", default="mih 12x", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "exact":
        print(json.dumps(child_exact(args.files, args.bank, args.postgres)))
        return
    if args.child == "pdq":
        print(json.dumps(child_pdq(args.files, args.bank, args.how)))
        return

    print(f"hash lists: {args.files:,} file hashes against a {args.bank:,}-hash bank; medians of {args.repeat} run(s)")
    if not args.skip_exact:
        runs = run(args, "--child", "exact", *(["--postgres", args.postgres] if args.postgres else []))
        store = "PostgreSQL" if args.postgres else "SQLite"
        print(f"\nexact (MD5, {store})")
        print(f"  import the list (CSV, {runs[0]['entries']:,} entries)  {med(runs, 'import_seconds'):8.2f} s")
        print(f"  SQL set join (INSERT … SELECT)         {med(runs, 'join_seconds'):8.2f} s   "
              f"{runs[0]['matched']:,} matches")  # fmt: skip
        print(f"  baseline: both columns into Python sets  {med(runs, 'floor_seconds'):6.2f} s   "
              f"{runs[0]['floor_matched']:,} matches")  # fmt: skip
        print(f"  peak {med(runs, 'peak_mb'):,.0f} MB (store build, import and join in one process)")

    if args.skip_pdq:
        return
    print("\nPDQ within 31 bits (numpy)")
    print("  on --sample queries; '→ all N' = one-off table build (timed with 1 query) + per-query cost × N;")
    print("  CPU seconds beside wall seconds: on a shared machine the CPU figure is the steadier one")
    print(f"  {'how':<12} {'queries':>9} {'seconds':>9} {'CPU s':>8} {'build s':>8} {'CPU ms/q':>9} "
          f"{'→ N, CPU s':>11} {'peak MB':>8}  found")  # fmt: skip
    sample = argparse.Namespace(**{**vars(args), "files": min(args.sample, args.files)})
    one = argparse.Namespace(**{**vars(args), "files": 1})
    for how in ("brute", "mih 8x32", "mih 16x16", "mih 12x"):
        runs = run(sample, "--child", "pdq", "--how", how)
        build = 0.0 if how == "brute" else med(run(one, "--child", "pdq", "--how", how), "cpu")
        per_query = max(0.0, med(runs, "cpu") - build) / max(1, sample.files - (0 if how == "brute" else 1))
        found = runs[0]["planted_found"]
        print(f"  {how:<12} {sample.files:>9,} {med(runs, 'seconds'):>9.2f} {med(runs, 'cpu'):>8.2f} {build:>8.2f} "
              f"{per_query * 1000:>9.3f} {build + per_query * args.files:>11,.0f} {med(runs, 'peak_mb'):>8,.0f}  "
              f"{found} planted")  # fmt: skip
    if not args.skip_full:
        runs = run(args, "--child", "pdq", "--how", "auto")
        print(f"  {'auto':<12} {args.files:>9,} {med(runs, 'seconds'):>9.2f} {med(runs, 'cpu'):>8.2f} {'':>8} "
              f"{med(runs, 'cpu') / args.files * 1000:>9.3f} {med(runs, 'cpu'):>11,.0f} "
              f"{med(runs, 'peak_mb'):>8,.0f}  {runs[0]['planted_found']} of {runs[0]['planted_expected']} planted "
              f"within 31 bits; {runs[0]['pairs']:,} pairs in all")  # fmt: skip


if __name__ == "__main__":
    main()
