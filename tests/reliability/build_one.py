"""One referral build in a process of its own, for the tests that kill one midway or run two at once:

    python -m tests.reliability.build_one URL OUTPUT SUBJECT [--die-at POINT] [--meet FOLDER]

`--die-at` sends this process SIGKILL (kill -9: no handler, no cleanup) at a point of the build: `parts` (the parts
written, neither certified nor sealed), `sealed` (the bag sealed and the referral inserted, not committed),
`committed` (the store has the referral, the package is not yet in place). `--meet` makes two builds overlap if
nothing serialises them: on reaching the package, each notes its pid in FOLDER and waits (a few seconds at most) for
the other. Prints the reference built; a refusal is its message and exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from tipfusion.config import Settings
from tipfusion.errors import TipfusionError
from tipfusion.refer import service
from tipfusion.store.db import make_engine

POINTS = {
    "parts": ("tipfusion.refer.package", "write_certificate"),
    "sealed": ("tipfusion.refer.service", "open_case"),
    "committed": ("tipfusion.refer.staging", "Staging.publish"),
}
MEET_SECONDS = 4.0


def die(*_args: Any, **_kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_at(point: str) -> None:
    module_name, attribute = POINTS[point]
    owner: Any = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for step in path:
        owner = getattr(owner, step)
    getattr(owner, name)  # the point exists
    setattr(owner, name, die)


def meet(folder: Path) -> None:
    original = service.write_package

    def overlapping(*args: Any, **kwargs: Any) -> Any:
        (folder / str(os.getpid())).touch()
        deadline = time.monotonic() + MEET_SECONDS
        while len(list(folder.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        return original(*args, **kwargs)

    service.write_package = overlapping  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("output", type=Path)
    parser.add_argument("subject")
    parser.add_argument("--die-at", choices=sorted(POINTS))
    parser.add_argument("--meet", type=Path)
    args = parser.parse_args()
    if args.die_at:
        die_at(args.die_at)
    if args.meet:
        meet(args.meet)
    engine = make_engine(args.url)
    try:
        built = service.build_referral(engine, Settings(database_url=args.url), "tester", args.subject, args.output)
    except TipfusionError as exc:
        print(exc)
        return 1
    finally:
        engine.dispose()
    print(built.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
