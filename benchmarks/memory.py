"""Peak memory of a process, as the benchmarks print it (Linux /proc; elsewhere the figures read 0).

VmHWM, not getrusage: on Linux a child's ru_maxrss starts from its parent's at fork, so it would report the parent's
setup instead of the child's run, and it cannot be reset between stages."""

from __future__ import annotations

import contextlib
from pathlib import Path


def high_water_mb(pid: int | str = "self") -> float:
    """A process's resident high-water mark (VmHWM) in MB since it started or since `reset_high_water`; 0 when
    /proc does not say (not Linux, or the process has gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_high_water() -> None:
    """Start this process's high-water mark again from its current size (Linux: 5 into clear_refs), so the next peak
    read is one stage's; where that is not allowed the peak read is the peak so far."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
