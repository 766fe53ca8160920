"""Peak memory per step of one `tipfusion link` (reading the store, suspects and networks, storing), in this process.

    PYTHONPATH=src:. .venv/bin/python benchmarks/link_steps_memory.py --store sqlite:////path/s1m.db [--incremental]

`benchmarks/link_scale.py` gives a run's peak; this says in which step it falls: a thread samples the resident set
every 50 ms and keeps the highest per step, the steps as the link's progress names them. Prints the stages' seconds
too (one run: compare runs of two checkouts on the same machine, several each).
"""

from __future__ import annotations

import argparse
import threading
import time


def resident_mb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="the store's URL")
    parser.add_argument("--incremental", action="store_true")
    args = parser.parse_args()

    from tipfusion.link.service import LinkService
    from tipfusion.store.db import make_engine

    step = ["starting"]
    peaks: dict[str, int] = {}

    def sample() -> None:
        while True:
            peaks[step[0]] = max(peaks.get(step[0], 0), resident_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()

    def heard(what: str, _done: int, _total: int | None) -> None:
        step[0] = what
        print(f"{time.strftime('%X')} {what}: resident {resident_mb():,} MB", flush=True)

    summary = LinkService(make_engine(args.store), "benchmark").run(progress=heard, incremental=args.incremental)
    step[0] = "done"
    print("seconds:", ", ".join(f"{stage} {seconds:.2f}" for stage, seconds in summary.seconds.items()))
    print("peak per step:", ", ".join(f"{name} {mb:,} MB" for name, mb in peaks.items()))


if __name__ == "__main__":
    main()
