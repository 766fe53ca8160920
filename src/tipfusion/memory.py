"""The whole-store stages' dealings with the interpreter's memory: when Python's cycle collector runs, and what goes
back to the system.

Ingest, linking and triage build millions of small containers (each document's elements and rows; each value's
code, each report's names, each candidate pair's evidence, each report's facts and score). Python's cycle collector
is started by allocations, not by garbage: every few hundred new containers it walks the young ones, and every few of
those walks every container alive, the stage's own included. These stages make no reference cycles worth collecting
(their rows are tuples, dicts, dataclasses and arrays freed by their reference counts), so those walks find nothing
and cost time that grows with the store.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's automatic cycle collection off, then collect only the youngest generation: what the
    block made and still holds, whose cycles are freed at its end instead of being looked for while it builds. Only
    the young: a collection of every generation walks every container alive, the process's own included (the test
    suite's workers spent ~120 s of ~500 s in such walks, ~300 of them the ones these blocks ended with).

    For work done in steps (ingest's chunks), call `collect_young` between the steps: each step's garbage goes before
    the next (memory flat in the batch's size) at the cost of the step's survivors only. Ingesting 20,000 reports in
    one process spent 4.3 s of 29 s in 16 whole-heap walks before. Nested uses are fine: only the outermost turns
    collection back on (and only if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        collect_young()
        if was_on:
            gc.enable()


def collect_young() -> None:
    """Collect the cycles among the objects made since the last collection (inside `collector_paused`: since the last
    step), walking those objects only."""
    gc.collect(0)


_settled = False


def collect_less_often() -> None:
    """For a process whose libraries are imported: what is alive now (those modules, mostly) lives as long as the
    process, so `gc.freeze()` takes it out of the collector's sight, and the young generation is collected every
    10,000 net allocations instead of 700, so that short-lived containers are freed by their reference counts
    before the collector walks and promotes them. A command's start spent ~10 % of its time in collections (`search`
    0.39 s → 0.36 s with this); the test suite's workers ~120 s of ~500 s. Once per process: a second freeze would
    keep whatever cycles were garbage at that moment for ever."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def give_back_memory() -> None:
    """Hand what the read freed back to the system before linking's own peak. The columns' temporaries are freed
    into C's heap, which keeps them; what suspects and networks then allocate did not reuse them: linking 1 M
    reports peaked at 2.07–2.18 GB without this and at 1.91 GB with it (`benchmarks/RESULTS-1M.md`). glibc only
    (`malloc_trim`); elsewhere the collection alone. Linking reads with the collector paused, so what the read made is
    young: the young generation's collection frees its cycles without walking the rest of the heap."""
    collect_young()
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: C's library among them
    except (AttributeError, OSError, TypeError):
        return
    trim(0)
