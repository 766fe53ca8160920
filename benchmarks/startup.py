"""How long the command line takes to start: `tipfusion --help`, `tipfusion --version`, and reading commands on an
empty store (`cases list`, `cases overdue`, `search`, `requests list`), each run N times in a fresh process (median
wall time, and median CPU time, which a busy machine does not inflate); then the modules that cost most to import
for `cases list` (`python -X importtime`). With `--baseline-src DIR` (another checkout's `src`) each command also runs
from there, interleaved with this one's, for a before/after under the same load.

    .venv/bin/python benchmarks/startup.py --runs 7
    .venv/bin/python benchmarks/startup.py --runs 7 --baseline-src /tmp/base/src

The target is under 0.5 s for `--help` and `cases list`: heavy libraries (weasyprint, python-docx, openpyxl,
igraph, scipy, numpy, shapely, pyproj, pymisp, stix2, Faker, mmdb-writer, lxml) load only inside the commands
that use them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ["weasyprint", "docx", "openpyxl", "igraph", "scipy", "numpy", "shapely", "pyproj", "pymisp", "stix2"]
HEAVY += ["faker", "mmdb_writer", "lxml", "phonenumbers.geodata", "alembic"]


def environment(src: str = str(Path(__file__).resolve().parents[1] / "src")) -> dict[str, str]:
    """This checkout (or `src`) first on the path; bytecode cached as on an installed system; no TIPFUSION_* leaking
    in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_") and k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def importtime(command: list[str], env: dict[str, str], top: int) -> tuple[list[tuple[int, str]], list[str]]:
    """The `top` modules by cumulative import time (top level only), and the heavy ones that were imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], env=env, capture_output=True, text=True)
    found: list[tuple[int, str]] = []
    imported: set[str] = set()
    for line in result.stderr.splitlines():
        matched = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if matched:
            imported.add(matched.group(3))
            if len(matched.group(2)) <= 2:
                found.append((int(matched.group(1)), matched.group(3)))
    heavy = sorted(name for name in imported if name in HEAVY)
    return sorted(found, reverse=True)[:top], heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=12, help="import-time offenders to list")
    parser.add_argument("--baseline-src", help="another checkout's src, timed interleaved with this one")
    args = parser.parse_args()
    env = environment()
    checkouts = {"this": env, **({"baseline": environment(args.baseline_src)} if args.baseline_src else {})}
    base = [sys.executable, "-m", "tipfusion"]
    with tempfile.TemporaryDirectory(prefix="tf-startup-") as work:
        store = f"sqlite:///{Path(work) / 'store.db'}"
        subprocess.run([*base, "--database", store, "db", "upgrade"], env=env, check=True, capture_output=True)
        commands = {
            "tipfusion --help": [*base, "--help"],
            "tipfusion --version": [*base, "--version"],
            "tipfusion cases list (empty store)": [*base, "--database", store, "cases", "list"],
            "tipfusion cases overdue (empty store)": [*base, "--database", store, "cases", "overdue"],
            "tipfusion search (empty store)": [*base, "--database", store, "search", "+919876543210"],
            "tipfusion requests list (empty store)": [*base, "--database", store, "requests", "list"],
        }
        header = "   ".join(f"{name + ' wall':>13} {name + ' CPU':>12}" for name in checkouts)
        print(f"{'command':<40} {header}   (medians of {args.runs} runs each, fresh processes)")
        for label, command in commands.items():
            figures = []
            for checkout_env in checkouts.values():
                timed(command, checkout_env)  # warm the bytecode cache
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
            for _ in range(args.runs):
                for name, checkout_env in checkouts.items():
                    runs[name].append(timed(command, checkout_env))
            for name in checkouts:
                wall = statistics.median(w for w, _ in runs[name])
                cpu = statistics.median(c for _, c in runs[name])
                figures.append(f"{wall:>12.3f}s {cpu:>11.3f}s")
            print(f"{label:<40} {'   '.join(figures)}")
        offenders, heavy = importtime(commands["tipfusion cases list (empty store)"], env, args.top)
    print(f"\nslowest imports of `cases list` (cumulative, top level; python -X importtime), top {args.top}:")
    for micros, name in offenders:
        print(f"  {micros / 1000:8.1f} ms  {name}")
    print("heavy libraries imported: " + (", ".join(heavy) if heavy else "none"))


if __name__ == "__main__":
    main()
