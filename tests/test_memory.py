"""Linking and triage pause Python's cycle collector while they build (issue 15: a 1 M-report link spent ~10 s in
collections that found nothing), and leave the process as they found it: collection back on, the cycles the run
left freed. Ingest pauses it chunk by chunk and frees each chunk's cycles as it goes."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tipfusion import memory
from tipfusion.config import Settings, XmlLimits
from tipfusion.ingest import IngestService, parsing
from tipfusion.memory import collect_young, collector_paused
from tipfusion.store.db import make_engine, upgrade


class Node:
    """An object that can sit in a reference cycle and be watched through a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def a_cycle() -> weakref.ref[Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_inside_and_on_after_with_the_cycles_left_inside_freed() -> None:
    with collector_paused():
        assert not gc.isenabled()
        watched = a_cycle()
        for _ in range(2_000):  # allocations start no collection
            [[]]  # noqa: B018
        assert not gc.isenabled()
    assert gc.isenabled()
    assert watched() is None, "a cycle left by the paused block is collected when the block ends"


@pytest.mark.usefixtures("collector_on")
def test_nested_pauses_and_an_error_leave_collection_as_it_was() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled(), "the inner block ending does not turn collection back on"
        raise RuntimeError("linking failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "a caller that had collection off keeps it off"
    finally:
        gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_collector_paused_frees_each_steps_cycles_before_the_next_step_and_turns_collection_back_on() -> None:
    """A pause in steps (ingest's): no automatic collection inside, and each step's cycles are freed when the step
    ends (`collect_young`), not held to the end of the run: memory stays flat in the batch's size."""
    with collector_paused():
        assert not gc.isenabled()
        first_step = a_cycle()
        for _ in range(2_000):
            [[]]  # noqa: B018
        assert first_step() is not None, "nothing collects inside a step"
        collect_young()
        assert first_step() is None, "a step's cycles are freed when it ends"
        with collector_paused():
            pass
        assert not gc.isenabled(), "an inner block ending does not turn collection back on"
        last_step = a_cycle()
    assert gc.isenabled()
    assert last_step() is None, "the cycles of the last step are freed when the block ends"


@pytest.mark.usefixtures("collector_on")
def test_ingest_parses_and_writes_with_the_collector_paused_and_frees_each_chunks_cycles(
    tmp_path: Path, synthetic_batch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pass 2 of an ingest in this process: every chunk is planned, parsed and written with the collector paused,
    each chunk's cycles are gone before the next chunk starts, and collection is on again afterwards."""
    seen: list[tuple[bool, weakref.ref[Node]]] = []
    land_chunk = IngestService._land_chunk

    def watched_chunk(self: IngestService, *args: Any, **kwargs: Any) -> None:
        assert all(cycle() is None for _, cycle in seen), "an earlier chunk's cycles are freed before this one"
        seen.append((gc.isenabled(), a_cycle()))
        land_chunk(self, *args, **kwargs)

    monkeypatch.setattr(IngestService, "_land_chunk", watched_chunk)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    settings = replace(Settings(database_url=url), ingest_workers=0, reports_per_transaction=20)
    summary = IngestService(engine, settings, "test").ingest_paths([synthetic_batch])
    engine.dispose()
    assert summary.accepted == 120 and summary.quarantined == 0
    assert len(seen) >= 6 and not any(enabled for enabled, _ in seen)
    assert gc.isenabled()
    assert seen[-1][1]() is None


@pytest.mark.usefixtures("collector_on")
def test_a_parser_process_parses_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker processes' entry point pauses the collector too (the rows it builds are walked for nothing)."""
    calls: list[bool] = []

    def fake_parse(*_: Any) -> list[Any]:
        calls.append(gc.isenabled())
        return []

    monkeypatch.setattr(parsing, "parse_tasks", fake_parse)
    config = parsing.ParseConfig("IN", XmlLimits(), 1, "sqlite")
    assert parsing.unpack(parsing.parse_tasks_packed([], config)) == []
    assert calls == [False] and gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_a_pause_ends_with_a_collection_of_the_young_generation_only() -> None:
    """What a paused block made is young (nothing collected it): its cycles are found by walking the young alone.
    A collection of every generation walks every container alive (the test suite's workers spent ~120 s of ~500 s
    in those walks)."""
    generations: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with collector_paused():
            watched = a_cycle()
            del generations[:]
    finally:
        gc.callbacks.remove(seen)
    assert generations == [0] and watched() is None


def test_collecting_less_often_freezes_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second freeze would keep the cycles that were garbage at that moment for ever: once per process."""
    frozen: list[int] = []
    monkeypatch.setattr(memory, "_settled", False)
    monkeypatch.setattr(memory.gc, "freeze", lambda: frozen.append(1))
    thresholds = gc.get_threshold()
    try:
        memory.collect_less_often()
        memory.collect_less_often()
        assert frozen == [1] and gc.get_threshold() == (10_000, 10, 10)
    finally:
        gc.set_threshold(*thresholds)


def test_a_command_starts_with_what_it_imported_frozen() -> None:
    """`tipfusion` (`cli.main.run`) freezes what its start imported and collects the young less often."""
    probe = (
        "import gc, sys\n"
        "from tipfusion.cli.main import run\n"
        "sys.argv = ['tipfusion', '--help']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_freeze_count() > 1000, gc.get_threshold())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPFUSION_")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == "True (10000, 10, 10)"


def test_the_session_collects_while_its_tests_run() -> None:
    """`tests/conftest.py` pauses collection while the test modules are imported, freezes what that left, and turns
    collection back on: cycles a test leaves are still collected."""
    assert gc.isenabled() and gc.get_freeze_count() > 0 and gc.get_threshold() == (10_000, 10, 10)
