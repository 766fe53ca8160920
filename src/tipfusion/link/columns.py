"""Linking's input rows held as columns: a report and a value code per row, each distinct value once.

A store of 1 M reports gives linking ~8 M identity rows and ~3 M rows of files, groups, recipients and fixed lines
on a day; as tuples they cost ~100 bytes each before their strings. Each class here reads as the list of tuples it
replaced (iterate, `in`, `+=`, `==`), so tests and small callers write tuples, while linking groups the columns with
NumPy (`distinct_pairs`): most values are held by one report, and only those held by several reach Python.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)` found by sorting. NumPy 2.3 and later find the distinct values of a plain `np.unique`
    with a hash table and sort those: on millions of mostly distinct int64 codes, as linking has, that took 5.6 s
    where a sort took 0.55 s (8 M values; linking 1 M reports spent ~6 s in it)."""
    ordered = np.sort(np.ravel(values))
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def distinct_pairs(
    values: np.ndarray, positions: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value, position < n) rows → each distinct pair once, sorted by value then position, where each value's run
    starts and how long it is (how many distinct positions hold the value): (values, positions, starts, counts)."""
    combined = sorted_distinct(values.astype(np.int64) * max(n, 1) + positions)
    held_values, held_at = np.divmod(combined, max(n, 1))
    if not len(combined):
        return held_values, held_at, combined, combined
    starts = np.flatnonzero(np.r_[True, held_values[1:] != held_values[:-1]])
    return held_values, held_at, starts, np.diff(np.r_[starts, len(combined)])


def stable_hashes(strings: list[str]) -> np.ndarray:
    """A 64-bit hash of each string, the same in every process (Python's `hash` is not) and computed over whole
    columns: each UTF-8 byte, plus one, times its position's multiplier, summed modulo 2**64, then mixed with the
    length (splitmix64). For telling whether a value changed between two links, not against an adversary: linking
    does not trust it for anything else. A Python call per string (hashlib) was ~1.5 µs, ~5 s at 1 M reports."""
    found = np.zeros(len(strings), dtype=np.uint64)
    step = 200_000
    for at in range(0, len(strings), step):
        chunk = pa.array(strings[at : at + step], type=pa.large_string())
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[: len(chunk) + 1]
        data = chunk.buffers()[2]
        raw = (
            np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] if data is not None else np.zeros(0, np.uint8)
        )
        lengths = np.diff(offsets)
        starts = offsets[:-1] - offsets[0]
        position = np.arange(len(raw), dtype=np.int64) - np.repeat(starts, lengths)
        # a position's multiplier: the table's, offset by how many tables in it is (each position its own)
        multiplier = _MULTIPLIERS[position & 4095] + (position >> 12).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        products = (raw.astype(np.uint64) + np.uint64(1)) * (multiplier | np.uint64(1))
        sums = np.zeros(len(chunk), dtype=np.uint64)
        filled = lengths > 0
        if len(raw):
            sums[filled] = np.add.reduceat(products, starts[filled])
        found[at : at + len(chunk)] = _mix(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + _EMPTY))
    return found


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, over a column: every bit of the sum reaches every bit of the hash."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)))


_EMPTY = np.uint64(0x2545F4914F6CDD1D)  # so that no string, the empty one included, hashes to 0
_MULTIPLIERS = _mix(np.arange(1, 4097, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) | np.uint64(1)
"""Odd 64-bit multipliers, one per byte position, derived from the positions alone: the same in every process,
machine and NumPy version."""


def positions_in(sorted_ids: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Where each of `ids` is in `sorted_ids`; a KeyError naming the first few that are not there (`what` they are)."""
    found = np.searchsorted(sorted_ids, ids)
    inside = found < len(sorted_ids)
    missing = ~inside
    missing[inside] = sorted_ids[found[inside]] != ids[inside]
    if missing.any():
        raise KeyError(f"{what}: {ids[missing][:5].tolist()}")
    return found


def encoded(values: pa.Array, dtype: type = np.int64) -> tuple[np.ndarray, pa.Array]:
    """Each row's code and the distinct values (as Arrow), coded in the order first seen (as a dict filled row by
    row codes them): Arrow's dictionary encoding, with no Python step per row."""
    found = pc.dictionary_encode(values)
    return np.asarray(found.indices.to_numpy(zero_copy_only=False), dtype=dtype), found.dictionary


def first_seen(keys: pa.Array) -> tuple[np.ndarray, list[Any]]:
    """`encoded`, with the distinct values as Python's."""
    codes, distinct = encoded(keys)
    return codes, distinct.to_pylist()


@dataclass(eq=False, slots=True)
class KeyBatch:
    """A batch of rows waiting to be coded (`code_batches`): each row's report, kind code (None where the rows have no
    kinds) and place among the batch's distinct keys (first seen first), and those keys. Only the distinct keys are
    kept: a batch repeats most of its keys. Coding lets go of the keys (None after), and loading of the batch."""

    reports: np.ndarray
    kinds: np.ndarray | None
    key_at: np.ndarray
    keys: pa.Array | None

    @classmethod
    def of(cls, reports: np.ndarray, keys: pa.Array, kinds: np.ndarray | None = None) -> KeyBatch:
        key_at, distinct = encoded(keys, np.int32)
        return cls(np.asarray(reports, dtype=np.int64), kinds, key_at, distinct)


def code_batches(
    known: list[str], known_kinds: np.ndarray | None, batches: list[KeyBatch]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Values ((kind, key), or keys alone where the batches have no kinds) coded in the order first seen, after the
    `known` ones (coded 0, 1, … already, with their kinds): (each batch row's code, the batches one after the other;
    the new values' kinds; their keys). Two hash passes in Arrow, over the batches' distinct keys and then over the
    rows' (kind, key) pairs, with no Python step per row or per value (a dict of ~4 M values at 1 M reports cost
    ~5 s). The batches' keys are let go once coded: at 1 M reports they are ~200 MB, at linking's peak."""
    chunks = [pa.array(known, pa.string())] if known else []
    chunks += [batch.keys for batch in batches if batch.keys is not None]
    # one Arrow string array holds 2 GiB of text: past that (10 M reports) the keys are held as large strings
    text = pa.large_string() if sum(chunk.nbytes for chunk in chunks) >= 2**31 - 1 else pa.string()
    chunks = [chunk if chunk.type == text else chunk.cast(text) for chunk in chunks]
    coded = pc.dictionary_encode(pa.chunked_array(chunks, text))  # one hash table over every chunk
    del chunks
    for batch in batches:
        batch.keys = None
    keys = coded.chunks[-1].dictionary  # every key (the table only grows: earlier chunks' ids stay valid)
    width = max(len(keys), 1)
    ids = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in coded.chunks]
    del coded
    # each row's (kind, key) as one int64, written in place: linking's 8 M rows at 1 M reports, once
    pairs = np.empty(len(known) + sum(len(batch.reports) for batch in batches), dtype=np.int64)
    if known:
        pairs[: len(known)] = ids[0] if known_kinds is None else known_kinds.astype(np.int64) * width + ids[0]
    start = len(known)
    for batch, at in zip(batches, ids[len(ids) - len(batches) :], strict=True):
        end = start + len(batch.reports)
        pairs[start:end] = at[batch.key_at]
        if batch.kinds is not None:
            pairs[start:end] += batch.kinds.astype(np.int64) * width
        start = end
    del ids
    codes, values = encoded(pa.array(pairs), np.int32)
    del pairs
    new = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)[len(known) :]
    new_kinds, new_keys = np.divmod(new, width)
    texts = keys.to_pylist()  # each key one Python string, the new values' taken from them (no copy of a key)
    del keys
    if not (len(new_keys) == len(texts) and np.array_equal(new_keys, np.arange(len(texts)))):
        texts = list(map(texts.__getitem__, new_keys.tolist()))
    pa.default_memory_pool().release_unused()  # the hash tables' memory, for what linking allocates next
    return codes[len(known) :], new_kinds, texts


def smallest_in_components(size: int, left: np.ndarray, right: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Connected components of a graph of `size` vertices with edges left–right: for each of the first len(values)
    vertices, the smallest of `values` in its component (the other vertices join components, they carry none)."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    counted = labels[: len(values)]
    smallest = np.full(labels.max() + 1 if size else 0, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, counted, values)
    return np.asarray(smallest[counted])


def labeller(label_of: dict[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """A mapping of report → label (its suspect, say), applied to an array of reports at once."""
    items = np.fromiter(label_of.keys(), dtype=np.int64, count=len(label_of))
    labels = np.fromiter(label_of.values(), dtype=np.int64, count=len(label_of))
    order = np.argsort(items, kind="stable")
    items, labels = items[order], labels[order]
    return lambda reports: np.asarray(labels[positions_in(items, reports, "reports without a label")])


class Columns(ABC):
    """A report (int64) and a value code (int32) per row; what a code stands for and what a row reads as are the
    subclass's."""

    __slots__ = ("_reports", "_values")

    def __init__(self) -> None:
        self._reports = array("q")
        self._values = array("i")

    def _append(self, report: int, code: int) -> None:
        self._reports.append(report)
        self._values.append(code)

    def _append_batches(self, batches: list[KeyBatch], codes: np.ndarray) -> None:
        """Each batch's reports with their codes (the batches' rows one after the other), letting go of each batch
        as its rows are in (the list is emptied): a copy of every row's report is 64 MB at 1 M reports."""
        start = 0
        batches.reverse()
        while batches:
            batch = batches.pop()
            end = start + len(batch.reports)
            self._append_columns(batch.reports, codes[start:end])
            start = end

    def _append_columns(self, reports: np.ndarray, codes: np.ndarray) -> None:
        self._reports.frombytes(np.ascontiguousarray(reports, dtype=np.int64).data.cast("B"))
        self._values.frombytes(np.ascontiguousarray(codes, dtype=np.int32).data.cast("B"))

    @abstractmethod
    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...

    def __len__(self) -> int:
        return len(self._reports)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self) | list) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def report_ids(self) -> np.ndarray:
        """Each row's report (a view, no copy: the rows cannot grow while a view of them is alive)."""
        return np.frombuffer(self._reports, dtype=np.int64) if self._reports else np.zeros(0, np.int64)

    @property
    def value_ids(self) -> np.ndarray:
        """Each row's value code."""
        return np.frombuffer(self._values, dtype=np.int32) if self._values else np.zeros(0, np.int32)


class KeyColumns(Columns):
    """Rows of a report and a key (a string), each distinct key once."""

    __slots__ = ("_codes", "_keys")

    def __init__(self) -> None:
        super().__init__()
        self._codes: dict[str, int] | None = {}  # key → code; None until asked for after a load of columns
        self._keys: list[str] = []  # code → key

    def _lookup(self) -> dict[str, int]:
        """key → code, made when first asked for (linking's own loads never need it)."""
        if self._codes is None:
            self._codes = dict(zip(self._keys, range(len(self._keys)), strict=True))
        return self._codes

    def _add(self, report: int, key: str) -> None:
        codes = self._lookup()
        code = codes.get(key)
        if code is None:
            code = codes[key] = len(self._keys)
            self._keys.append(key)
        self._append(report, code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} rows, {len(self._keys)} keys)"

    def load_batches(self, batches: list[KeyBatch]) -> None:
        """Batches of rows as columns (`KeyBatch.of`), one after the other: `extend` without a Python step per row
        or per key, the keys not seen yet coded in the order first seen. The list is emptied as the rows go in."""
        batches[:] = [batch for batch in batches if len(batch.reports)]
        if not batches:
            return
        codes, _, keys = code_batches(self._keys, None, batches)
        if keys:
            self._keys.extend(keys)
            self._codes = None
        del keys
        self._append_batches(batches, codes)

    def _kept(self, keys: Iterable[str]) -> list[bool] | None:
        """Per row: whether its key is none of `keys`; None when no row holds one (nothing to drop)."""
        lookup = self._lookup()
        codes = [lookup[key] for key in keys if key in lookup]
        return (~np.isin(self.value_ids, codes)).tolist() if codes else None

    def held(self, label: Callable[[np.ndarray], np.ndarray]) -> Iterator[tuple[str, list[int]]]:
        """Each key two or more labels hold (a report's label: its suspect), with the labels in order; keys in the
        order they were first seen. A key one suspect holds ties no one to anyone, and it never reaches Python."""
        if not self._reports:
            return
        owners, at = np.unique(label(self.report_ids), return_inverse=True)
        values, held_at, starts, counts = distinct_pairs(self.value_ids, at, len(owners))
        for start, count, code in zip(starts.tolist(), counts.tolist(), values[starts].tolist(), strict=True):
            if count > 1:
                yield self._keys[code], owners[held_at[start : start + count]].tolist()


class ReportKeys(KeyColumns):
    """(report_id, key) rows: a chat group, a recipient's account, a fixed line on a day."""

    __slots__ = ()

    def __init__(self, rows: Iterable[tuple[int, str]] = ()) -> None:
        super().__init__()
        self.extend(rows)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str]]) -> ReportKeys:
        return rows if isinstance(rows, ReportKeys) else cls(rows)

    def append(self, row: tuple[int, str]) -> None:
        self._add(*row)

    def extend(self, rows: Iterable[tuple[int, str]]) -> None:
        for row in rows:
            self._add(*row)

    def load_columns(self, reports: np.ndarray, keys: pa.Array) -> None:
        """Rows as columns: `extend` without a Python step per row."""
        self.load_batches([KeyBatch.of(reports, keys)])

    def __iadd__(self, rows: Iterable[tuple[int, str]]) -> ReportKeys:
        self.extend(rows)
        return self

    def without(self, keys: Iterable[str]) -> ReportKeys:
        """The rows whose key is none of `keys` (keys an analyst marked noise)."""
        kept = self._kept(keys)
        return self if kept is None else ReportKeys(row for row, keep in zip(self, kept, strict=True) if keep)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        keys = self._keys
        for report, code in zip(self._reports, self._values, strict=True):
            yield report, keys[code]


class FileRows(KeyColumns):
    """(report_id, file key, flagged) rows: a file, and whether the ESP flagged it viral (or it came in bulk)."""

    __slots__ = ("_flags",)

    def __init__(self, rows: Iterable[tuple[int, str, bool]] = ()) -> None:
        super().__init__()
        self._flags = bytearray()
        self.extend(rows)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str, bool]]) -> FileRows:
        return rows if isinstance(rows, FileRows) else cls(rows)

    def append(self, row: tuple[int, str, bool]) -> None:
        report, key, flagged = row
        self._add(report, key)
        self._flags.append(bool(flagged))

    def extend(self, rows: Iterable[tuple[int, str, bool]]) -> None:
        for row in rows:
            self.append(row)

    def load_columns(self, reports: np.ndarray, keys: pa.Array, flagged: np.ndarray) -> None:
        """Rows as columns: `extend` without a Python step per row."""
        self.load_flagged([KeyBatch.of(reports, keys)], [flagged])

    def load_flagged(self, batches: list[KeyBatch], flagged: list[np.ndarray]) -> None:
        """Batches of rows as columns and, per batch, whether each of its rows is flagged (the list of batches is
        emptied as their rows go in)."""
        for batch, flags in zip(batches, flagged, strict=True):
            if len(flags) != len(batch.reports):
                raise ValueError(f"{len(batch.reports)} files and {len(flags)} flags")
            self._flags.extend(np.asarray(flags, dtype=np.uint8).tobytes())
        self.load_batches(batches)

    def without(self, keys: Iterable[str]) -> FileRows:
        """The rows whose file key is none of `keys` (files an analyst marked noise)."""
        kept = self._kept(keys)
        return self if kept is None else FileRows(row for row, keep in zip(self, kept, strict=True) if keep)

    def __iter__(self) -> Iterator[tuple[int, str, bool]]:
        keys = self._keys
        for report, code, flagged in zip(self._reports, self._values, self._flags, strict=True):
            yield report, keys[code], bool(flagged)

    def flagged_keys(self) -> set[str]:
        """The keys of files flagged on any row."""
        return {self._keys[code] for code, flagged in zip(self._values, self._flags, strict=True) if flagged}


class IdentityRows(Columns):
    """(report_id, evidence kind, key) rows about reported persons, held as columns: a report and a value code per
    row (12 bytes), each distinct key once. A store of 1 M reports holds ~8 M such rows; as tuples they were ~100
    bytes each. It reads as a list of tuples (iterate, `in`, `+=`), so tests and small callers write tuples;
    linking reads the columns (`report_ids`, `value_ids`, `kind_ids`) to group with NumPy."""

    __slots__ = ("_keys", "_kind_codes", "_lookups", "_value_kinds", "kinds")

    def __init__(self, rows: Iterable[tuple[int, str, str]] = ()) -> None:
        super().__init__()
        self._kind_codes: dict[str, int] = {}  # kind → kind code
        self._lookups: dict[int, dict[str, int]] = {}  # kind code → key → value code, made when first asked for
        self._keys: list[str] = []  # value code → key
        self._value_kinds = array("H")  # value code → kind code
        self.kinds: list[str] = []  # kind code → kind
        self.extend(rows)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str, str]]) -> IdentityRows:
        return rows if isinstance(rows, IdentityRows) else cls(rows)

    def _kind(self, kind: str) -> int:
        """The kind's code, given in the order kinds are first seen."""
        code = self._kind_codes.get(kind)
        if code is None:
            code = self._kind_codes[kind] = len(self.kinds)
            self.kinds.append(kind)
        return code

    def _lookup(self, kind_code: int) -> dict[str, int]:
        """key → value code for one kind, made when first asked for: linking asks for a few kinds' (a prior report's
        number, the verified values' kinds), and a dict of every value was ~5 s at 1 M reports."""
        found = self._lookups.get(kind_code)
        if found is None:
            codes = np.flatnonzero(self.kind_ids == kind_code).tolist()
            found = self._lookups[kind_code] = dict(zip(map(self._keys.__getitem__, codes), codes, strict=True))
        return found

    def code_of(self, kind: str, key: str) -> int | None:
        """The value's code, or None when no row holds it."""
        kind_code = self._kind_codes.get(kind)
        return None if kind_code is None else self._lookup(kind_code).get(key)

    def keys_of(self, kind: str) -> list[str]:
        """The keys of this kind's values."""
        kind_code = self._kind_codes.get(kind)
        return [] if kind_code is None else list(self._lookup(kind_code))

    def codes_in(self, other: IdentityRows) -> np.ndarray:
        """For each of `other`'s value codes: the same value's code here, or -1 where no row here holds it (a
        look-up per value `other`'s rows hold, none per row: the ESP-verified rows are ~600,000 at 1 M reports)."""
        found = np.full(other.distinct, -1, dtype=np.int64)
        for code in sorted_distinct(other.value_ids).tolist():
            mine = self.code_of(*other.value(code))
            if mine is not None:
                found[code] = mine
        return found

    def value_hashes(self) -> np.ndarray:
        """Each value code's `stable_hashes` of its kind and key."""
        kinds = stable_hashes(self.kinds)
        return np.asarray(stable_hashes(self._keys) ^ (kinds[self.kind_ids] * np.uint64(0xD6E8FEB86659FD93)))

    def value(self, code: int) -> tuple[str, str]:
        """(kind, key) of a value code."""
        return self.kinds[self._value_kinds[code]], self._keys[code]

    @property
    def distinct(self) -> int:
        """How many distinct values the rows hold."""
        return len(self._keys)

    def append(self, row: tuple[int, str, str]) -> None:
        self.extend((row,))

    def extend(self, rows: Iterable[tuple[int, str, str]]) -> None:
        self.load((report, kind, key, False) for report, kind, key in rows)

    def load(self, rows: Iterable[tuple[int, str, str, Any]], verified: IdentityRows | None = None) -> None:
        """Rows as the database sorted them, (report, kind, key, verified): each one here, and in `verified` too when
        the ESP verified it. One loop with its look-ups bound (a call per row cost more than the coding)."""
        keys, value_kinds = self._keys, self._value_kinds
        add_report, add_value = self._reports.append, self._values.append
        last_kind, kind_code = None, 0
        codes: dict[str, int] = {}
        sure: list[tuple[int, str, str]] = []
        for report, kind, key, is_verified in rows:
            if kind != last_kind:
                kind_code = self._kind(kind)
                codes = self._lookup(kind_code)
                last_kind = kind
            code = codes.get(key)
            if code is None:
                code = codes[key] = len(keys)
                keys.append(key)
                value_kinds.append(kind_code)
            add_report(report)
            add_value(code)
            if is_verified:
                sure.append((report, kind, key))
        if sure:
            if verified is None:
                raise ValueError(f"{len(sure)} verified rows and no verified rows to add them to")
            verified.extend(sure)

    def batch(self, reports: np.ndarray, kinds: pa.Array, keys: pa.Array) -> KeyBatch:
        """Rows as columns, (report, kind, key) each, to load with others at once (`load_batches`); their kinds get
        their codes now, in the order first seen."""
        kind_at, kind_names = first_seen(kinds)
        kind_codes = np.array([self._kind(kind) for kind in kind_names], dtype=np.uint16)
        return KeyBatch.of(reports, keys, kind_codes[kind_at] if len(kind_codes) else np.zeros(0, np.uint16))

    def load_columns(self, reports: np.ndarray, kinds: pa.Array, keys: pa.Array) -> None:
        """Rows as columns, (report, kind, key) each: `extend` without a Python step per row."""
        self.load_batches([self.batch(reports, kinds, keys)])

    def load_batches(self, batches: list[KeyBatch]) -> None:
        """Batches of rows as columns (`batch`), one after the other, coded together: values in the order first
        seen, as `load` codes them, with no Python step per row or per value (~8 M rows and ~4 M values at 1 M
        reports). The list is emptied as the rows go in."""
        batches[:] = [batch for batch in batches if len(batch.reports)]
        if not batches:
            return
        codes, kinds, keys = code_batches(self._keys, self.kind_ids, batches)
        if keys:
            for kind_code in sorted_distinct(kinds).tolist():
                self._lookups.pop(kind_code, None)
            self._keys.extend(keys)
            self._value_kinds.frombytes(kinds.astype(np.uint16).tobytes())
        del keys
        self._append_batches(batches, codes)

    def __iadd__(self, rows: Iterable[tuple[int, str, str]]) -> IdentityRows:
        self.extend(rows)
        return self

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        value = self.value
        for report, code in zip(self._reports, self._values, strict=True):
            yield (report, *value(code))

    def __contains__(self, row: object) -> bool:
        if not (isinstance(row, tuple) and len(row) == 3):
            return False
        code = self.code_of(row[1], row[2])
        return code is not None and bool(np.any(self.report_ids[self.value_ids == code] == row[0]))

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

    def rows_where(self, mask: np.ndarray) -> Iterator[tuple[int, str, str]]:
        """The rows `mask` (one flag per row) chooses, in order."""
        return self._rows(mask)

    def _rows(self, mask: np.ndarray) -> Iterator[tuple[int, str, str]]:
        value = self.value
        for report, code in zip(self.report_ids[mask].tolist(), self.value_ids[mask].tolist(), strict=True):
            yield (report, *value(code))

    @property
    def kind_ids(self) -> np.ndarray:
        """Each value code's kind code (index by `value_ids` for each row's)."""
        return np.frombuffer(self._value_kinds, dtype=np.uint16) if self._value_kinds else np.zeros(0, np.uint16)

    def kind_mask(self, kinds: Iterable[str]) -> np.ndarray:
        """Per kind code: whether it is one of these kinds (index it by kind codes)."""
        chosen = set(kinds)
        return np.array([kind in chosen for kind in self.kinds], dtype=bool)

    def is_kind(self, kinds: Iterable[str], codes: np.ndarray | None = None) -> np.ndarray:
        """Whether each value (`codes`; by default each row's) is of one of these kinds."""
        codes = self.value_ids if codes is None else codes
        if not len(codes):
            return np.zeros(0, dtype=bool)
        return np.asarray(self.kind_mask(kinds)[self.kind_ids[codes]])
