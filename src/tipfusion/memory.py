"""The whole-store stages' dealings with the interpreter's memory: when Python's cycle collector runs, and what goes
back to the system.

Linking and triage build millions of small containers (each value's code, each report's names, each candidate
pair's evidence, each report's facts and score) that live until the run ends. Python's cycle collector is started by
allocations, not by garbage: every few hundred new containers it walks the young ones, and every few of those walks
every container alive, the stage's own included. These stages make no reference cycles worth collecting (their rows
are tuples, dicts, dataclasses and arrays freed by their reference counts), so those walks find nothing and cost
time that grows with the store.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's automatic cycle collection off, then collect once: whatever cycles the block
    left are freed at its end instead of being looked for while it builds. Nested uses are fine: only the outermost
    turns collection back on (and only if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
            gc.collect()


@contextmanager
def young_collected() -> Iterator[None]:
    """Run the block with automatic cycle collection off, then collect only the youngest generation: what the block
    allocated and still holds. For work done in steps (ingest's chunks), whose garbage must go step by step (memory
    flat in the batch's size) but where a walk of every container alive, the process's own included, costs more
    than a step: ingesting 20,000 reports in one process spent 4.3 s of 29 s in 16 such walks. Call
    `collect_young` between the steps. Nested uses are fine: only the outermost turns collection back on (and only
    if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        collect_young()
        if was_on:
            gc.enable()


def collect_young() -> None:
    """Collect the cycles among the objects made since the last collection (inside `young_collected`: since the
    last step), walking those objects only."""
    gc.collect(0)


def give_back_memory() -> None:
    """Hand what the read freed back to the system before linking's own peak. The columns' temporaries are freed
    into C's heap, which keeps them; what suspects and networks then allocate did not reuse them: linking 1 M
    reports peaked at 2.07–2.18 GB without this and at 1.91 GB with it (`benchmarks/RESULTS-1M.md`). glibc only
    (`malloc_trim`); elsewhere the collection alone."""
    gc.collect()
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: C's library among them
    except (AttributeError, OSError, TypeError):
        return
    trim(0)
