"""An incremental link beside a full one, on a built store (issue 15, target 3).

    PYTHONPATH=src:. .venv/bin/python benchmarks/link_incremental.py --store sqlite:////path/store.db --touch 0.01

Each round runs, in fresh processes (clean peak RSS): a full `tipfusion link` (which keeps the basis an incremental
link builds on), then `tipfusion link --incremental` after the evidence digests of the newest `--touch` share of the
reports were forgotten (not timed): as if those reports had just arrived or changed, so the incremental link takes
the regions they lie in, links them again with the full link's model, and keeps the rest. Its answer equals the full
link's (`tests/test_link_incremental.py`); here the rows it wrote show it (none, when it found what the full link
found). Medians of --repeat rounds, per stage.

`--baseline-src DIR` (another checkout's `src`) adds, in each round, a full link and then an incremental one by that
code, alternating with this code's: the two incremental links start from the same state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.link_scale import print_stages  # noqa: E402
from benchmarks.memory import high_water_mb  # noqa: E402


def child(url: str, touch: float | None) -> None:
    from sqlalchemy import text

    from tipfusion.link.service import LinkService
    from tipfusion.store.db import make_engine

    engine = make_engine(url)
    if touch is not None:  # the newest reports as if they had just come in (not timed)
        with engine.begin() as conn:
            count = conn.execute(text("SELECT COUNT(*) FROM link_report_digests")).scalar_one()
            newest = conn.execute(
                text("SELECT report_id FROM link_report_digests ORDER BY report_id DESC LIMIT :n"),
                {"n": max(1, round(touch * count))},
            ).scalars()
            forgotten = list(newest)
            for at in range(0, len(forgotten), 10_000):
                part = ",".join(str(r) for r in forgotten[at : at + 10_000])
                conn.execute(text(f"DELETE FROM link_report_digests WHERE report_id IN ({part})"))
    started = time.perf_counter()
    summary = LinkService(engine, "benchmark").run(incremental=touch is not None)
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": summary.seconds,
                "wall": wall,
                "reports": summary.reports,
                "relinked": summary.relinked,
                "changed": summary.changed,
                "why": summary.linked_everything_because,
                "peak_mb": high_water_mb(),
                "rows_written": summary.rows_written,
            }
        )
    )


def run_child(url: str, touch: float | None, src: Path = HERE.parent / "src") -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src))
    command = [sys.executable, __file__, "--store", url, "--child"]
    if touch is not None:
        command += ["--touch", str(touch)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="a built store's URL (SQLite or PostgreSQL): it is relinked")
    parser.add_argument("--touch", type=float, default=0.01, help="the share of reports taken as new (default 0.01)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src: its incremental link beside this")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.store, args.touch if "--touch" in sys.argv else None)
        return
    runs: dict[str, list[dict[str, Any]]] = {"full": [], "incremental": []}
    steps: list[tuple[str, float | None, Path]] = [("full", None, HERE.parent / "src")]
    if args.baseline_src:
        runs["incremental, baseline"] = []
        steps += [("incremental, baseline", args.touch, args.baseline_src.resolve()), steps[0]]
    steps.append(("incremental", args.touch, HERE.parent / "src"))
    for attempt in range(args.repeat):
        for name, touch, src in steps:
            runs[name].append(run_child(args.store, touch, src))
            found = runs[name][-1]
            print(
                f"round {attempt + 1}/{args.repeat}, {name}: {sum(found['seconds'].values()):.1f} s "
                f"(the whole run {found['wall']:.1f} s)"
                + (f", linked again {found['relinked']:,} reports" if found["relinked"] is not None else ""),
                flush=True,
            )
    for name, found in runs.items():
        print(f"\n{name} link of {found[0]['reports']:,} reports: medians of {args.repeat} rounds")
        if found[-1]["why"]:
            print(f"  linked everything: {found[-1]['why']}")
        if found[-1]["relinked"] is not None:
            print(f"  linked again {found[-1]['relinked']:,} reports, {found[-1]['changed']:,} of them taken as new")
        print_stages(found)


if __name__ == "__main__":
    main()
