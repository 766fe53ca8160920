"""`store.bulk.replace_rows`: a table made to hold exactly the rows wanted, writing only the difference (link's
results: relinking a store a batch barely changed rewrote a million rows)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Text, cast, select

from tipfusion.store.bulk import replace_rows
from tipfusion.store.tables import link_explanations, networks

SUMMARY = st.none() | st.dictionaries(
    st.sampled_from(["isps", "span", "kinds", "é"]),
    st.lists(st.integers(0, 3) | st.text('ab é"', max_size=3), max_size=3),
)
NETWORK = st.tuples(st.sampled_from([f"N{i}" for i in range(8)]), st.integers(1, 3), st.integers(1, 9), SUMMARY)
EXPLANATION = st.tuples(
    st.sampled_from(["suspect", "network"]),
    st.sampled_from(["S1", "S2", "N1"]),
    st.sampled_from(["1", "2"]),
    st.sampled_from(["3", "4"]),
    st.sampled_from([0.5, 7.0, 12.25]),
    st.lists(st.tuples(st.sampled_from(["email", "phone"]), st.sampled_from(["a", "b"])).map(list), max_size=2),
)
BOTH = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _networks(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        return {r.network_id: tuple(r) for r in conn.execute(select(networks))}


@BOTH
@given(
    before=st.lists(NETWORK, unique_by=lambda n: n[0]),
    after=st.lists(NETWORK, unique_by=lambda n: n[0]),
    read_by_caller=st.booleans(),
)
def test_a_keyed_table_holds_what_is_wanted_and_a_kept_row_keeps_its_stamp(
    engine: Engine, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]], read_by_caller: bool
) -> None:
    """Also when the caller hands over the rows it read (`stored`, as the link store phase does), not read again."""
    columns = ("network_id", "suspects", "reports", "summary")
    with engine.begin() as conn:
        conn.execute(networks.delete())
        replace_rows(conn, networks, "network_id", columns, before, {"run_id": 1})
        stored = None
        if read_by_caller:
            n = networks.c
            read = select(n.network_id, n.suspects, n.reports, cast(n.summary, Text), n.network_id, n.run_id)
            stored = [tuple(row) for row in conn.execute(read)]
        deleted, inserted = replace_rows(conn, networks, "network_id", columns, after, {"run_id": 2}, stored)
    stored = _networks(engine)
    assert {n: (n, s, r, summary) for n, s, r, summary in after} == {n: row[:4] for n, row in stored.items()}
    unchanged = [row for row in after if row in before]  # same key, same values (a summary: the value it holds)
    assert {row[0] for row in unchanged} == {n for n, row in stored.items() if row[4] == 1}
    assert inserted == len(after) - len(unchanged) and deleted == len(before) - len(unchanged)


@BOTH
@given(before=st.lists(EXPLANATION, max_size=12), after=st.lists(EXPLANATION, max_size=12))
def test_rows_without_a_natural_key_are_replaced_as_a_multiset(
    engine: Engine, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    columns = ("level", "owner_id", "a", "b", "score", "evidence")
    with engine.begin() as conn:
        conn.execute(link_explanations.delete())
        replace_rows(conn, link_explanations, "id", columns, before)
        ids = {row.id: tuple(row)[1:] for row in conn.execute(select(link_explanations))}
        deleted, inserted = replace_rows(conn, link_explanations, "id", columns, after)
        now = {row.id: tuple(row)[1:] for row in conn.execute(select(link_explanations))}
    as_stored = Counter(map(repr, now.values()))
    assert as_stored == Counter(repr(row) for row in after)  # the same rows, as many times each
    common = Counter(map(repr, before)) & Counter(map(repr, after))
    assert inserted == len(after) - sum(common.values()) and deleted == len(before) - sum(common.values())
    if deleted <= len(before) - deleted:  # a few changes: the rows kept are the very rows stored before
        assert sum(1 for id_, row in now.items() if ids.get(id_) == row) == sum(common.values())
