"""What each report says about the reported person, read as columns (`link.people`), is what a row-by-row reading
gives: per report, each field's distinct values in the order the rows came, one object per distinct tuple."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pyarrow as pa
from hypothesis import example, given
from hypothesis import strategies as st

from tipfusion.link.columns import IdentityRows
from tipfusion.link.people import load_people
from tipfusion.link.records import LinkInput
from tipfusion.store.columnar import arrow_schema
from tipfusion.store.link_inputs import NAMES

Row = tuple[int, str | None, str | None, int | None, str | None]
ROWS = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.sampled_from([None, "", "Rahul", "RAHUL", "Straße", "STRASSE", "ǅemal"]),
        st.sampled_from([None, "", "Kumar", "kumar", "Sıla"]),
        st.none() | st.integers(12, 15),
        st.sampled_from([None, "", "2001-02-03", "2001-02-03 04:05:06", "1999-12-31"]),
    ),
    max_size=40,
)


def _add(into: dict[int, Collection[Any]], report: int, item: Any, shared: dict[Any, Any]) -> None:
    held = tuple(into.get(report, ()))
    if item not in held:
        grown = (*held, shared.setdefault(item, item))
        into[report] = shared.setdefault(grown, grown)


def by_rows(rows: list[Row]) -> LinkInput:
    """The reading `load_people` replaced: a Python step per row."""
    data = LinkInput(reports=[], identity=IdentityRows())
    shared: dict[Any, Any] = {}
    for report, first_name, last_name, age, born in rows:
        if first_name and last_name:
            _add(data.names, report, (first_name.casefold(), last_name.casefold()), shared)
        if age is not None:
            _add(data.ages, report, int(age), shared)
        if born:
            _add(data.born, report, str(born)[:10], shared)
    return data


@given(ROWS, st.integers(0, 40))
@example([(3, "Straße", "Kumar", 14, "2001-02-03"), (1, "STRASSE", "kumar", 14, "2001-02-03 04:05:06")], 1)
def test_people_read_as_columns_are_what_a_row_by_row_reading_gives(rows: list[Row], cut: int) -> None:
    schema = arrow_schema(NAMES.columns)
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
    table = pa.Table.from_arrays(arrays, schema=schema)
    batches = table.to_batches(max_chunksize=max(cut, 1))  # a read in batches of any size
    made = LinkInput(reports=[], identity=IdentityRows())
    load_people(batches, made)
    expected = by_rows(rows)
    for field in ("names", "ages", "born"):
        found, wanted = getattr(made, field), getattr(expected, field)
        assert list(found.items()) == list(wanted.items()), field  # the same reports, in order, the same values
        assert len({id(v) for v in found.values()}) == len(set(found.values())), f"{field}: one object per tuple"
