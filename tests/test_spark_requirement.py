"""Where Java is missing, the Spark engine's tests skip and say why, except in CI (`CI=true`, as CI services set
it, or `TIPFUSION_REQUIRE_SPARK=1`, as `.ci/run` sets it): there a missing Java fails the run instead of skipping
silently past the engine's parity tests. Collection only: no Spark starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _collect_without_java(**extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "TIPFUSION_REQUIRE_SPARK"}}
    env.update(PATH=str(Path(sys.executable).parent), **extra)  # this Python, and no java on the path
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_link_spark.py", "--collect-only", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("required", [{"CI": "true"}, {"TIPFUSION_REQUIRE_SPARK": "1"}])
def test_missing_java_fails_in_ci(required: dict[str, str]) -> None:
    ran = _collect_without_java(**required)
    assert ran.returncode not in (0, 5), ran.stdout  # 5: nothing collected, i.e. skipped
    assert "Java is not installed" in ran.stdout and "CI (CI=true or TIPFUSION_REQUIRE_SPARK=1)" in ran.stdout


def test_missing_java_skips_with_the_reason_elsewhere() -> None:
    ran = _collect_without_java()
    assert ran.returncode in (0, 5), ran.stdout
    assert "SKIPPED" in ran.stdout and "Java is not installed" in ran.stdout
