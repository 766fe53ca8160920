"""Feed hostile cases through the real ingest, a batch at a time, and account for every one of them.

A batch is a folder: each case in its own sub-folder (so names never collide), next to good reports that must land.
After `IngestService.ingest_paths` each case is exactly one of: accepted (its bytes are a part of a stored report
version, or a lead list's source), quarantined (an entry names it with a reason and a message), skipped (ingest said
so by name: hidden, not a regular file, reference data) — or lost, which must never happen. A batch that raises
instead of finishing is a crash: counted, with the case descriptions that make its reproducer."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tracemalloc
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tests.reliability.hostile import Case
from tipfusion.config import Settings
from tipfusion.ingest import IngestService
from tipfusion.ingest.registry import formats
from tipfusion.store.tables import lead_identifiers, quarantine_entries, report_version_parts, source_documents

MEMORY_LIMIT = 256 * 1024 * 1024  # tracemalloc peak of one batch (Python allocations; the largest case is ~12 MB)
DEFAULT_CASES = 100  # per database, in `make test`; `make check-reliability` sets TIPFUSION_FUZZ_EXAMPLES


def fuzz_cases() -> int:
    return int(os.environ.get("TIPFUSION_FUZZ_EXAMPLES", str(DEFAULT_CASES)))


@dataclass
class Figures:
    """What the fuzzing did, per database: printed at the end of the run."""

    batches: int = 0
    cases: int = 0
    survived: int = 0
    accepted: int = 0
    quarantined: int = 0
    skipped: int = 0
    lost: int = 0
    crashed_batches: int = 0
    good_reports: int = 0
    good_landed: int = 0
    peak_bytes: int = 0
    peak_batch: str = ""  # what the batch that set `peak_bytes` held: names the cause of a memory failure
    by_family: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    crashes: dict[str, list[str]] = field(default_factory=dict)  # exception signature → the batch's cases
    losses: list[str] = field(default_factory=list)
    unreasoned: list[str] = field(default_factory=list)
    missing_good: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"cases tried {self.cases:,}, survived {self.survived:,}, accepted {self.accepted:,}, "
            f"quarantined {self.quarantined:,}, skipped {self.skipped:,}, lost {self.lost:,}; "
            f"batches {self.batches:,} (crashed {self.crashed_batches:,}); good reports landed "
            f"{self.good_landed:,}/{self.good_reports:,}; peak memory {self.peak_bytes / 2**20:.1f} MiB"
        )

    def problems(self) -> list[str]:
        out = [
            f"batch crashed: {sig}\n      reproduced by: " + "\n      reproduced by: ".join(cases)
            for sig, cases in self.crashes.items()
        ]
        out += [f"lost: {x}" for x in self.losses[:20]]
        out += [f"quarantined without a reason: {x}" for x in self.unreasoned[:20]]
        out += [f"good report did not land: {x}" for x in self.missing_good[:20]]
        if self.peak_bytes > MEMORY_LIMIT:
            out.append(
                f"memory: peak {self.peak_bytes / 2**20:.1f} MiB over {MEMORY_LIMIT / 2**20:.0f} MiB"
                f"\n      in the batch: {self.peak_batch}"
            )
        return out

    def note_peak(self, peak: int, cases: list[Case]) -> None:
        """Keep the highest peak and what the batch that reached it held, so a memory failure names its cause."""
        if peak > self.peak_bytes:
            self.peak_bytes = peak
            self.peak_batch = batch_description(cases)


def batch_description(cases: list[Case]) -> str:
    """A batch in a line: each case's family, name, size, mutations and (a zip) its members' names and sizes."""
    return " | ".join(_case_line(case) for case in cases)


def _case_line(case: Case) -> str:
    text = f"{case.family} {case.name[:60]!r} {len(case.data) / 2**20:.1f} MiB"
    if case.mutations:
        text += " (" + ", ".join(m[:60] for m in case.mutations) + ")"
    if case.family == "zip":
        try:
            with zipfile.ZipFile(io.BytesIO(case.data)) as archive:
                members = archive.infolist()
        except Exception:  # damaged on purpose: its members cannot be listed
            return text + " [members unreadable]"
        listed = ", ".join(f"{m.filename[-40:]!r} {m.file_size / 2**20:.1f} MiB" for m in members[:6])
        text += f" [{len(members)} member(s): {listed}{', …' if len(members) > 6 else ''}]"
    return text


FIGURES: dict[str, Figures] = {}  # "fuzz ingest (sqlite)" → figures; read by conftest's terminal summary


def progress_note(name: str, line: str, peak_batch: str = "") -> None:
    """Figures so far, one line per suite, in TIPFUSION_RELIABILITY_LOG (a long run can be watched, or cut short),
    with the batch that set the memory peak so far."""
    log = os.environ.get("TIPFUSION_RELIABILITY_LOG")
    if log:
        with open(f"{log}.{name.replace(' ', '_').replace('(', '').replace(')', '')}", "w", encoding="utf-8") as out:
            out.write(f"{name}: {line}\n")
            if peak_batch:
                out.write(f"    peak batch: {peak_batch}\n")


def settings_for(db_url: str) -> Settings:
    # small transactions and no worker processes: the savepoint fallback is exercised, tracemalloc sees the parsing
    return Settings(database_url=db_url, reports_per_transaction=3, ingest_workers=0)


def _write(folder: Path, case: Case) -> Path:
    folder.mkdir(parents=True)
    path = folder / case.name.replace("/", "∕")  # a file name, never a path (zip members keep theirs)
    if case.symlink_to is not None:
        os.symlink(case.symlink_to, path)
    else:
        path.write_bytes(case.data)
    return path


# formats ingest keeps whole as a source document and nothing more: a zip (its members are cases of their own) and
# the synthetic-data marker (which flags the store synthetic), e.g. any document that starts with its header
KEPT_WHOLE = frozenset(name for name, fmt in formats().items() if fmt.role in {"container", "marker"})


def run_batch(engine: Engine, db_url: str, work: Path, cases: list[Case], good: list[Case], figures: Figures) -> None:
    """One batch through the real ingest; every case accounted for in `figures`."""
    shutil.rmtree(work, ignore_errors=True)
    paths: list[Path] = []
    for index, case in enumerate([*cases, *good]):
        paths.append(_write(work / f"c{index:02d}", case))
    figures.batches += 1
    figures.cases += len(cases)
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]  # the cases themselves (up to 72 MiB each), held by hypothesis
    try:
        summary: Any = IngestService(engine, settings_for(db_url), "fuzzer").ingest_paths([work])
    except Exception as exc:  # the batch died: find which case kills a batch on its own (the reproducer)
        figures.note_peak(tracemalloc.get_traced_memory()[1] - baseline, cases)
        figures.crashed_batches += 1
        culprits = _isolate(engine, db_url, work.with_name(work.name + "-solo"), cases, figures)
        if not culprits:
            figures.crashes.setdefault(signature(exc), []).append("(only together) " + "; ".join(_short(cases)))
        return
    figures.note_peak(tracemalloc.get_traced_memory()[1] - baseline, cases)
    figures.survived += len(cases)
    skipped_names = [str(s).split(": ")[0] for s in getattr(summary, "skipped", [])]
    skipped_names += list(summary.reference_skipped)
    shas = {hashlib.sha256(c.data).hexdigest() for c in [*cases, *good, *(m for c in cases for m in c.members)]}
    with engine.connect() as conn:
        parts = set(
            conn.execute(
                select(report_version_parts.c.source_sha256).where(report_version_parts.c.source_sha256.in_(shas))
            ).scalars()
        )
        parts |= set(
            conn.execute(select(lead_identifiers.c.source_sha256).where(lead_identifiers.c.source_sha256.in_(shas)))
            .scalars()
            .all()
        )
        held = dict(
            conn.execute(
                select(source_documents.c.sha256, source_documents.c.format).where(source_documents.c.sha256.in_(shas))
            ).all()
        )
        entries: dict[str, list[tuple[str, str]]] = {}
        for sha, reason, message in conn.execute(
            select(quarantine_entries.c.source_sha256, quarantine_entries.c.reason, quarantine_entries.c.message).where(
                quarantine_entries.c.source_sha256.in_(shas)
            )
        ):
            entries.setdefault(sha, []).append((reason, message))
        landed = {
            (int(r), s)
            for r, s in conn.execute(
                select(report_version_parts.c.report_id, report_version_parts.c.source_sha256).where(
                    report_version_parts.c.source_sha256.in_(shas)
                )
            )
        }
    for case, path in zip(cases, paths, strict=False):
        figures.by_family[case.family] += 1
        sha = hashlib.sha256(case.data).hexdigest()
        if case.symlink_to is not None or case.name.startswith(".") or any(str(path) == n for n in skipped_names):
            figures.skipped += 1
        elif sha in entries:
            figures.quarantined += 1
            for reason, message in entries[sha]:
                figures.reasons[reason] += 1
                if not reason or not message:
                    figures.unreasoned.append(case.describe())
        elif sha in parts or held.get(sha) in KEPT_WHOLE:
            figures.accepted += 1
        else:
            figures.lost += 1
            figures.losses.append(case.describe()[:300])
    for case in [*good, *(m for c in cases for m in c.members)]:
        figures.good_reports += 1
        if (case.good_report, hashlib.sha256(case.data).hexdigest()) in landed:
            figures.good_landed += 1
        else:
            figures.missing_good.append(case.describe()[:200])


def signature(exc: BaseException) -> str:
    """The kind of failure, without what differs from case to case (paths, names, numbers)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = re.sub(r"'/[^']*'|<[^>]*>", "…", text)
    text = re.sub(r"\d+", "N", text)
    return f"{type(exc).__name__}: {text[:160]}"


def _short(cases: list[Case]) -> list[str]:
    return [case.describe()[:300] for case in cases]


def _isolate(engine: Engine, db_url: str, work: Path, cases: list[Case], figures: Figures) -> list[Case]:
    """Each case of a crashed batch alone, beside one good report: those that still crash it are the reproducers."""
    culprits = []
    for case in cases:
        shutil.rmtree(work, ignore_errors=True)
        _write(work / "c00", case)
        try:
            IngestService(engine, settings_for(db_url), "fuzzer").ingest_paths([work])
        except Exception as exc:
            culprits.append(case)
            seen = figures.crashes.setdefault(signature(exc), [])
            if len(seen) < 3 and case.describe()[:300] not in seen:
                seen.append(case.describe()[:300])
    return culprits


# Crashes this suite reproduces that are known and owned elsewhere: in `make test` they mark the test xfail with the
# reproducers (so a new crash still fails it); `make check-reliability` (TIPFUSION_RELIABILITY_STRICT=1) fails on
# them too. Remove an entry when its fix reaches main.
# Every crash it found is fixed (issue 14 §1, tests/test_one_bad_item.py and tests/test_answers.py): empty, so any crash
# fails the suite. Entry form: (regex over the crash signature, why it is known).
KNOWN_DEFECTS: list[tuple[str, str]] = []


def verdict(figures: Figures) -> None:
    """Fail on anything but a known crash; a known crash is xfail with its reproducers unless strict."""
    import pytest

    known = {sig: why for sig in figures.crashes for pattern, why in KNOWN_DEFECTS if re.search(pattern, sig)}
    new = Figures(**{**figures.__dict__, "crashes": {s: c for s, c in figures.crashes.items() if s not in known}})
    problems = new.problems()
    assert not problems, f"{figures.line()}\n" + "\n".join(problems[:30])
    assert figures.cases == figures.accepted + figures.quarantined + figures.skipped + (
        figures.cases - figures.survived
    ), "every case that survived is accepted, quarantined or skipped"
    if known and os.environ.get("TIPFUSION_RELIABILITY_STRICT") != "1":
        listing = "; ".join(f"{why} ({sig}): {figures.crashes[sig][0]}" for sig, why in known.items())
        pytest.xfail(f"known defects still crash a batch: {listing}")
    assert not known, f"{figures.line()}\n" + "\n".join(figures.problems()[:30])
