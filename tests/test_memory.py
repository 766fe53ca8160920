"""Linking and triage pause Python's cycle collector while they build (issue 15: a 1 M-report link spent ~10 s in
collections that found nothing), and leave the process as they found it: collection back on, the cycles the run
left freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tipfusion.memory import collector_paused


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
