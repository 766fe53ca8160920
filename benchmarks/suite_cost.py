"""What test files cost: CPU seconds of pytest and of every process it starts (tesseract, the Spark JVM, CLI
subprocesses), and wall seconds, per file, for this checkout and optionally another (before/after).

    .venv/bin/python benchmarks/suite_cost.py tests/test_referrals.py tests/test_link_spark.py
    .venv/bin/python benchmarks/suite_cost.py tests/test_answers.py -k postgresql --baseline /tmp/base --repeat 3

Wall time on this shared 2-core machine mostly says how busy the neighbours were; CPU seconds say what the tests
cost, whatever else runs, and are the figure to compare. Each file runs in its own `pytest` (no xdist); with
`--baseline DIR` (a checkout of the code before the change, e.g. `git worktree add --detach /tmp/base main`) the
two checkouts run interleaved, this one first, so both see the same load. The PostgreSQL server's own CPU is not
counted (its processes are not pytest's children): a change that spares the server work, or waiting on it (such as
the test sessions' `synchronous_commit=off`), shows in wall time only.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU (own + reaped children) of every living descendant of `root` (its last figure is kept)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(name)] = int(fields[1])
        cpu[int(name)] = sum(int(x) for x in fields[11:15]) / TICK  # utime, stime, cutime, cstime
    family, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in family}
        family |= frontier
    for pid in family:
        seen[pid] = cpu[pid]


def run(checkout: Path, file: str, extra: list[str]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of `pytest FILE` in `checkout`, its descendants included.

    Descendants reaped by pytest count through RUSAGE_CHILDREN of this process (pytest is reaped by us); those that
    outlive their parent (the Spark JVM ends after pytest) through the last figure read while they ran."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", file, *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[int, float] = {}
    while process.poll() is None:
        _tree_cpu(process.pid, seen)
        time.sleep(0.5)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # pytest's reaped descendants are inside `reaped`; a descendant still alive when pytest ended was never reaped
    # by it: add its last figure
    # (a living process's CPU is in no one's reaped figures yet, so each one still alive counts once)
    survivors = sum(cpu for pid, cpu in seen.items() if Path(f"/proc/{pid}").exists())
    return reaped + survivors, wall, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="test files (paths from the checkout's root)")
    parser.add_argument("--baseline", type=Path, help="another checkout to run the same files in, interleaved")
    parser.add_argument("--repeat", type=int, default=1, help="runs per file and checkout (medians printed)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    options = parser.parse_args()
    extra = ["-k", options.keyword] if options.keyword else []
    checkouts = {"this": HERE.parent}
    if options.baseline:
        checkouts["baseline"] = options.baseline.resolve()
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for file in options.files:
        for _ in range(options.repeat):
            for name, checkout in checkouts.items():
                cpu, wall, code = run(checkout, file, extra)
                if code not in (0, 5):
                    print(f"{name} {file}: pytest exited {code}", file=sys.stderr)
                figures.setdefault((file, name), []).append((cpu, wall))
    print(f"{'file':48} {'checkout':9} {'CPU s':>8} {'wall s':>8}  (medians of {options.repeat})")
    totals: dict[str, float] = {}
    for (file, name), runs in figures.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        totals[name] = totals.get(name, 0.0) + cpu
        print(f"{file:48} {name:9} {cpu:8.1f} {wall:8.1f}")
    for name, cpu in totals.items():
        print(f"{'total':48} {name:9} {cpu:8.1f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
