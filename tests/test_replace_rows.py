"""`store.bulk.replace_rows`: a table made to hold exactly the rows wanted, writing only the difference (link's
results: relinking a store a batch barely changed rewrote a million rows)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, Text, cast, func, inspect, select
from sqlalchemy.exc import IntegrityError

from tipfusion.store import bulk
from tipfusion.store.bulk import replace_rows
from tipfusion.store.tables import link_explanations, link_value_holders, networks

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


@BOTH
@given(before=st.lists(EXPLANATION, max_size=12), after=st.lists(EXPLANATION, max_size=12))
def test_where_replaces_the_rows_it_chooses_and_leaves_the_rest(
    engine: Engine, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]
) -> None:
    """An incremental link rewrites some suspects' explanations: the others stay, row for row, even when every chosen
    row changes (the table is never written whole)."""
    columns = ("level", "owner_id", "a", "b", "score", "evidence")
    chosen = [row for row in after if row[1] == "S1"]
    with engine.begin() as conn:
        conn.execute(link_explanations.delete())
        replace_rows(conn, link_explanations, "id", columns, before)
        others = {row.id: tuple(row)[1:] for row in conn.execute(select(link_explanations)) if row.owner_id != "S1"}
        replace_rows(conn, link_explanations, "id", columns, chosen, where="owner_id = 'S1'")
        now = {row.id: tuple(row)[1:] for row in conn.execute(select(link_explanations))}
    assert {id_: row for id_, row in now.items() if row[1] != "S1"} == others  # the very rows, ids and all
    assert Counter(repr(row) for row in now.values() if row[1] == "S1") == Counter(map(repr, chosen))


HELD = st.dictionaries(st.integers(-(2**63), 2**63 - 1), st.integers(2, 5), max_size=12)


@BOTH
@given(before=HELD, after=HELD)
def test_a_mapping_read_by_the_caller_is_made_the_one_wanted_writing_only_what_changed(
    engine: Engine, before: dict[int, int], after: dict[int, int]
) -> None:
    """An incremental link's digests and holder counts (`replace_mapping`): a key whose value stayed is not touched."""
    with engine.begin() as conn:
        conn.execute(link_value_holders.delete())
        bulk.insert_rows(conn, link_value_holders, ("value_hash", "holders"), sorted(before.items()))
        deleted, inserted = bulk.replace_mapping(conn, link_value_holders, "value_hash", "holders", before, after)
        held = conn.execute(select(link_value_holders.c.value_hash, link_value_holders.c.holders))
        now = {key: value for key, value in held}
    assert now == after
    kept = sum(1 for key, value in before.items() if after.get(key) == value)
    assert (deleted, inserted) == (len(before) - kept, len(after) - kept)


def _owners_by_index(conn: Connection) -> Counter[str]:
    """The explanations' owners as read through `ix_link_explanations_owner` alone."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT owner_id FROM link_explanations INDEXED BY ix_link_explanations_owner WHERE owner_id > ''"
    else:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        sql = "SELECT owner_id FROM link_explanations WHERE owner_id > ''"
        assert "ix_link_explanations_owner" in "".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
    return Counter(owner for (owner,) in conn.exec_driver_sql(sql))


def _indexes(conn: Any, table: str) -> list[tuple[Any, ...]]:
    return sorted((ix["name"], tuple(ix["column_names"]), ix["unique"]) for ix in inspect(conn).get_indexes(table))


@pytest.mark.parametrize("stored", [0, 3, 40], ids=["empty", "mostly-replaced", "mostly-kept"])
def test_a_table_filled_whole_has_its_indexes_built_after_its_rows(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, stored: int
) -> None:
    """A table written into empty, from `BUILD_INDEXES_AFTER` rows on (a store's first link), gets its secondary
    indexes built after the rows: the same indexes, holding every row. Where most rows are kept, rows are added to
    them."""
    monkeypatch.setattr(bulk, "BUILD_INDEXES_AFTER", 10)
    columns = ("level", "owner_id", "a", "b", "score", "evidence")
    old = [("suspect", f"S{i}", "1", "2", 1.0, [["email", f"old{i}"]]) for i in range(stored)]
    wanted = old[3:] + [("network", f"N{i % 7}", "S1", "S2", 2.5, [["phone", str(i)]]) for i in range(25)]
    built: list[str] = []
    real = bulk.indexes_built_after

    @contextmanager
    def watched(conn: Connection, table: Any) -> Iterator[None]:
        built.append(table.name)
        with real(conn, table):
            yield

    monkeypatch.setattr(bulk, "indexes_built_after", watched)
    with engine.begin() as conn:
        conn.execute(link_explanations.delete())
        replace_rows(conn, link_explanations, "id", columns, old)
        before = _indexes(conn, "link_explanations")
        built.clear()
        replace_rows(conn, link_explanations, "id", columns, wanted)
    with engine.begin() as conn:
        assert _indexes(conn, "link_explanations") == before and ("ix_link_explanations_owner",) in [
            ix[:1] for ix in before
        ]
        assert _owners_by_index(conn) == Counter(row[1] for row in wanted)  # every row in the index
        assert conn.execute(select(func.count()).select_from(link_explanations)).scalar_one() == len(wanted)
    assert built == ([] if stored == 40 else ["link_explanations"])  # 37 of 40 kept: the 25 new are added to them


def test_a_failed_fill_leaves_the_table_and_its_indexes_as_they_were(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BUILD_INDEXES_AFTER", 1)
    columns = ("level", "owner_id", "a", "b", "score", "evidence")
    with engine.begin() as conn:
        conn.execute(link_explanations.delete())
        replace_rows(conn, link_explanations, "id", columns, [("suspect", "S1", "1", "2", 1.0, [])])
        before = _indexes(conn, "link_explanations")
    with (
        pytest.raises((IntegrityError, psycopg.IntegrityError)),
        engine.begin() as conn,
    ):  # a row without its owner: NOT NULL
        replace_rows(conn, link_explanations, "id", columns, [("suspect", None, "1", "3", 1.0, [])] * 3)
    with engine.connect() as conn:
        assert _indexes(conn, "link_explanations") == before
        assert [tuple(r) for r in conn.execute(select(link_explanations.c.owner_id, link_explanations.c.b))] == [
            ("S1", "2")
        ]
