"""What each report says about the reported person (names, stated ages, dates of birth), read as columns.

Per report, each field's distinct values in the order its rows came, as a tuple; each value and each tuple is one
object however many reports hold it (most reports give one of each, and a set per report, 216 bytes, was most of
what a million reports' names and ages cost). A name is (first, last), casefolded; it counts only where both are
given. A Python step per row (`_add`, ~2 s at 1 M reports with the driver's tuples) became NumPy over the rows,
Python over the distinct values, and a step per report only where a report gives a field twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tipfusion.link.records import LinkInput


def load_people(batches: Iterable[pa.RecordBatch], data: LinkInput) -> None:
    """`batches` of (report_id, first_name, last_name, age, date_of_birth) → `data.names`, `.ages`, `.born`."""
    read = list(batches)
    if not read or not sum(batch.num_rows for batch in read):
        return
    rows = pa.Table.from_batches(read)
    report = rows["report_id"].to_numpy()
    first, last = rows["first_name"], rows["last_name"]
    named = pc.and_(_given(first), _given(last))
    first_codes, firsts = _folded(first.filter(named))
    last_codes, lasts = _folded(last.filter(named))
    width = max(len(lasts), 1)
    pairs, pair_of = np.unique(first_codes * width + last_codes, return_inverse=True)
    names = [(firsts[code // width], lasts[code % width]) for code in pairs.tolist()]
    data.names.update(_per_report(report[_mask(named)], pair_of.reshape(-1), names))

    age = rows["age"]
    stated = pc.is_valid(age)
    ages, age_of = np.unique(age.filter(stated).to_numpy(), return_inverse=True)
    data.ages.update(_per_report(report[_mask(stated)], age_of.reshape(-1), ages.tolist()))

    born = rows["date_of_birth"]
    dated = _given(born)
    dates = pc.dictionary_encode(pc.utf8_slice_codeunits(born.filter(dated), 0, 10)).combine_chunks()
    data.born.update(
        _per_report(report[_mask(dated)], dates.indices.to_numpy().astype(np.int64), dates.dictionary.to_pylist())
    )


def _given(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Not null and not empty (the `if value:` of a string)."""
    return pc.fill_null(pc.not_equal(column, ""), False)


def _mask(flags: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)


def _folded(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Each row's code among the column's distinct casefolded values, and those values (casefolded once each)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    code_of: dict[str, int] = {}
    folded = np.array(
        [code_of.setdefault(value.casefold(), len(code_of)) for value in encoded.dictionary.to_pylist()],
        dtype=np.int64,
    )
    indices = encoded.indices.to_numpy().astype(np.int64)
    return (folded[indices] if len(folded) else indices), list(code_of)


def _per_report(reports: np.ndarray, codes: np.ndarray, values: list[Any]) -> dict[int, Collection[Any]]:
    """Rows (report, code of a value) → report → its distinct values in row order, as one tuple per distinct tuple;
    the reports in the order of their first row."""
    if not len(reports):
        return {}
    order = np.argsort(reports, kind="stable")  # each report's rows together, in the order they came
    by_report, starts, counts = np.unique(reports[order], return_index=True, return_counts=True)
    first_row = order[starts]
    one = counts == 1
    alone: list[tuple[Any, ...]] = [(value,) for value in values]  # a tuple per distinct value, shared
    held = list(map(alone.__getitem__, codes[first_row].tolist()))  # right for a report of one row (most)
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {single: single for single in alone}
    for at in np.flatnonzero(~one).tolist():
        start, count = int(starts[at]), int(counts[at])
        found = tuple(dict.fromkeys(values[code] for code in codes[order[start : start + count]].tolist()))
        held[at] = shared.setdefault(found, found)
    ranked = np.argsort(first_row, kind="stable").tolist()  # the reports as their first rows came
    return dict(zip(by_report[ranked].tolist(), [held[at] for at in ranked], strict=True))
