"""The reliability suite prints what it tried: fuzzing and fault figures at the end of the run, whatever -q says."""

from __future__ import annotations

from typing import Any

from tests.reliability.faults import FAULT_FIGURES
from tests.reliability.harness import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES and not FAULT_FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, figures in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{name}: {figures.line()}")
        if figures.peak_batch:
            terminalreporter.write_line(f"    peak batch: {figures.peak_batch}")
        if figures.reasons:
            reasons = ", ".join(f"{reason} ×{n}" for reason, n in figures.reasons.most_common(12))
            terminalreporter.write_line(f"    quarantine reasons: {reasons}")
        for problem in figures.problems()[:10]:
            terminalreporter.write_line(f"    {problem}")
    for name, faults in sorted(FAULT_FIGURES.items()):
        terminalreporter.write_line(f"{name}: {faults.line()}")
        for problem in faults.problems[:10]:
            terminalreporter.write_line(f"    {problem}")
