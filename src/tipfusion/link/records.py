"""Plain records the linking stages exchange."""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A value that was not used as evidence, and why (shown to analysts)."""

    kind: str
    value: str
    holders: int
    reason: str


class IdentityRows:
    """(report_id, evidence kind, key) rows about reported persons, held as columns: a report and a value code per
    row (12 bytes), each distinct key once. A store of 1 M reports holds ~8 M such rows; as tuples they were ~100
    bytes each. It reads as a list of tuples (iterate, `in`, `+=`), so tests and small callers write tuples;
    linking reads the columns (`report_ids`, `value_ids`, `kind_ids`) to group with NumPy."""

    __slots__ = ("_codes", "_keys", "_reports", "_value_kinds", "_values", "kinds")

    def __init__(self, rows: Iterable[tuple[int, str, str]] = ()) -> None:
        self._reports = array("q")
        self._values = array("i")
        self._codes: dict[str, tuple[int, dict[str, int]]] = {}  # kind → (kind code, key → value code)
        self._keys: list[str] = []  # value code → key
        self._value_kinds = array("H")  # value code → kind code
        self.kinds: list[str] = []  # kind code → kind
        self.extend(rows)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str, str]]) -> IdentityRows:
        return rows if isinstance(rows, IdentityRows) else cls(rows)

    def code(self, kind: str, key: str) -> int:
        """The value's code, given one if it is new."""
        known = self._codes.get(kind)
        if known is None:
            known = self._codes[kind] = (len(self.kinds), {})
            self.kinds.append(kind)
        kind_code, codes = known
        found = codes.get(key)
        if found is None:
            found = codes[key] = len(self._keys)
            self._keys.append(key)
            self._value_kinds.append(kind_code)
        return found

    def code_of(self, kind: str, key: str) -> int | None:
        """The value's code, or None when no row holds it."""
        known = self._codes.get(kind)
        return None if known is None else known[1].get(key)

    def value(self, code: int) -> tuple[str, str]:
        """(kind, key) of a value code."""
        return self.kinds[self._value_kinds[code]], self._keys[code]

    @property
    def distinct(self) -> int:
        """How many distinct values the rows hold."""
        return len(self._keys)

    def append(self, row: tuple[int, str, str]) -> None:
        report, kind, key = row
        self._reports.append(report)
        self._values.append(self.code(kind, key))

    def extend(self, rows: Iterable[tuple[int, str, str]]) -> None:
        for row in rows:
            self.append(row)

    def __iadd__(self, rows: Iterable[tuple[int, str, str]]) -> IdentityRows:
        self.extend(rows)
        return self

    def __len__(self) -> int:
        return len(self._reports)

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        value = self.value
        for report, code in zip(self._reports, self._values, strict=True):
            yield (report, *value(code))

    def __contains__(self, row: object) -> bool:
        if not (isinstance(row, tuple) and len(row) == 3):
            return False
        code = self.code_of(row[1], row[2])
        return code is not None and bool(np.any(self.report_ids[self.value_ids == code] == row[0]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdentityRows | list) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IdentityRows({len(self)} rows, {self.distinct} values)"

    def without(self, values: Iterable[tuple[str, str]]) -> IdentityRows:
        """The rows whose (kind, key) is none of `values` (values an analyst marked noise)."""
        dropped = [code for value in values if (code := self.code_of(*value)) is not None]
        if not dropped:
            return self
        return IdentityRows(self._rows(~np.isin(self.value_ids, np.array(dropped, dtype=np.int64))))

    def of_kinds(self, kinds: Iterable[str]) -> Iterator[tuple[int, str, str]]:
        """The rows of these kinds, in order."""
        return self._rows(self.is_kind(kinds))

    def holding(self, values: Iterable[tuple[str, str]]) -> Iterator[tuple[int, str, str]]:
        """The rows holding one of these (kind, key) values, in order."""
        codes = [code for value in values if (code := self.code_of(*value)) is not None]
        return self._rows(np.isin(self.value_ids, np.array(codes, dtype=np.int64)))

    def _rows(self, mask: np.ndarray) -> Iterator[tuple[int, str, str]]:
        value = self.value
        for report, code in zip(self.report_ids[mask].tolist(), self.value_ids[mask].tolist(), strict=True):
            yield (report, *value(code))

    @property
    def report_ids(self) -> np.ndarray:
        """Each row's report (a view, no copy)."""
        return np.frombuffer(self._reports, dtype=np.int64) if self._reports else np.zeros(0, np.int64)

    @property
    def value_ids(self) -> np.ndarray:
        """Each row's value code."""
        return np.frombuffer(self._values, dtype=np.int32) if self._values else np.zeros(0, np.int32)

    @property
    def kind_ids(self) -> np.ndarray:
        """Each value code's kind code (index by `value_ids` for each row's)."""
        return np.frombuffer(self._value_kinds, dtype=np.uint16) if self._value_kinds else np.zeros(0, np.uint16)

    def is_kind(self, kinds: Iterable[str], codes: np.ndarray | None = None) -> np.ndarray:
        """Whether each value (`codes`; by default each row's) is of one of these kinds."""
        codes = self.value_ids if codes is None else codes
        if not len(codes):
            return np.zeros(0, dtype=bool)
        chosen = set(kinds)
        return np.asarray(np.array([kind in chosen for kind in self.kinds], dtype=bool)[self.kind_ids[codes]])


@dataclass
class LinkInput:
    reports: list[int]
    identity: IdentityRows  # (report_id, evidence kind, key) about the reported person; a list of them is taken too
    names: dict[int, Collection[tuple[str, str]]] = field(default_factory=dict)
    ages: dict[int, Collection[int]] = field(default_factory=dict)  # the reported person's stated ages, per report
    born: dict[int, Collection[str]] = field(default_factory=dict)  # … and dates of birth (ISO)
    groups: list[tuple[int, str]] = field(default_factory=list)  # (report_id, group or chat room)
    files: list[tuple[int, str, bool]] = field(default_factory=list)  # (report_id, file key, flagged viral)
    known_files: dict[str, str] = field(default_factory=dict)  # file key → why it is known content (a hash list)
    recipients: list[tuple[int, str]] = field(default_factory=list)  # (report_id, recipient's ESP account)
    leads: list[tuple[str, str, str]] = field(default_factory=list)  # (lead_ref, evidence kind, key)
    verified: IdentityRows = field(default_factory=IdentityRows)  # identity values the ESP verified; or a set
    colocations: list[tuple[int, str]] = field(default_factory=list)  # (report_id, fixed IP @ day)
    suppressed: list[Suppressed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.identity = IdentityRows.of(self.identity)
        self.verified = IdentityRows.of(self.verified)


@dataclass(frozen=True, slots=True)
class Link:
    """Why two things were joined: the evidence kinds, example values and the score."""

    a: int
    b: int
    score: float
    evidence: tuple[tuple[str, str, float], ...]  # (kind, value, weight)


@dataclass
class Clustering:
    label_of: dict[int, int]  # item → cluster (cluster = smallest item id in it)
    links: list[Link]
    suppressed: list[Suppressed]
