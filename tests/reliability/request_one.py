"""`tipfusion requests build` in a process of its own, killed at a chosen point, for the tests that kill one midway:

    python -m tests.reliability.request_one URL OUTPUT ISP_TABLE [--die-at POINT] [--call N] [--meet FOLDER]

`--die-at` sends this process SIGKILL (kill -9: no handler, no cleanup) at the `--call`-th time (default 1: the first
ISP's notice; 2: the second's, once the first is in place) the build reaches a point: `parts` (the annex and the
Word letter written, the PDF not yet, nothing sealed), `sealed` (the bag sealed, the request and its items inserted,
not committed), `committed` (the store has the request, the notice is not yet in place). The rest is the real
command line: `tipfusion --database URL requests build --output OUTPUT --isp-table ISP_TABLE`. `--meet` makes two
builds overlap if nothing serialises them: each reads the sightings to ask, then waits (a few seconds at most) for
the other to have read them too.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests.reliability.build_one import meeting

POINTS = {
    "parts": ("tipfusion.requests.letters", "render_pdf"),
    "sealed": ("tipfusion.audit.unit", "append"),  # the unit appends its entries just before it commits
    "committed": ("tipfusion.documents.staging", "Staging.publish"),
}


def die_at(point: str, call: int) -> None:
    """Replace the point's function with one that lets `call - 1` calls through and kills the process at the next."""
    module_name, attribute = POINTS[point]
    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for step in path:
        owner = getattr(owner, step)
    original = getattr(owner, name)  # the point exists
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls >= call:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("output", type=Path)
    parser.add_argument("isp_table", type=Path)
    parser.add_argument("--die-at", choices=sorted(POINTS))
    parser.add_argument("--call", type=int, default=1)
    parser.add_argument("--meet", type=Path)
    args = parser.parse_args()
    if args.die_at:
        die_at(args.die_at, args.call)
    if args.meet:
        from tipfusion.requests import service

        service.pending_sightings = meeting(args.meet, service.pending_sightings)  # type: ignore[assignment]
    from tipfusion.cli.main import app

    command = ["--database", args.url, "requests", "build", "--output", str(args.output)]
    app([*command, "--isp-table", str(args.isp_table)], prog_name="tipfusion")  # exits with the command's code
    return 0


if __name__ == "__main__":
    sys.exit(main())
