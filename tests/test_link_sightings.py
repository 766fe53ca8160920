"""Linking reads the sorted sightings as columns (`link.sightings`): what an address is evidence of, worked out per
column, is `extract.address_evidence`'s answer for every row, and rows loaded as columns are coded as rows loaded one
by one (in the order first seen)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tipfusion.link.columns import FileRows, IdentityRows, KeyBatch, ReportKeys
from tipfusion.link.extract import COLOCATION, IDENTITY_KEY, IP_NOT_ATTRIBUTABLE, UNATTRIBUTED_IP, address_evidence
from tipfusion.link.sightings import NOTHING, address_columns

NETWORKS = ["fixed", "mobile", "mobile_cgnat", "hosting_vpn", "private", "reserved", "unknown", None, "satellite"]
v4 = st.builds(lambda n: str(ipaddress.IPv4Address(n)), st.integers(0xC6120000, 0xC613FFFF))  # 198.18.0.0/15
v6_address = st.builds(ipaddress.IPv6Address, st.integers(0x20010DB8 << 96, (0x20010DB9 << 96) - 1))
v6 = st.one_of(
    st.builds(str, v6_address),
    st.builds(lambda a: a.exploded, v6_address),  # written out whole: the /64 is the same
    st.builds(lambda n: f"2001:db8:{n:x}::", st.integers(0, 0xFFFF)),
    st.builds(  # runs of zero groups anywhere, "::" where `ipaddress` puts it
        lambda groups: str(ipaddress.IPv6Address(":".join(f"{g:x}" for g in (0x2001, 0xDB8, *groups)))),
        st.lists(st.sampled_from([0, 0, 1, 0xABCD]), min_size=6, max_size=6),
    ),
    st.builds(lambda a: str(a).upper(), v6_address),  # upper case: parsed
    st.builds(lambda a: f"{a}%eth0", v6_address),  # a zone: parsed
    st.just("::ffff:198.51.100.7"),  # an IPv4-mapped address
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))])
moments = st.builds(
    lambda day, second, micro, zone: (
        (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day, seconds=second))
        .replace(microsecond=micro)
        .astimezone(zone)
    ),
    st.integers(-400, 400),
    st.integers(0, 86_399),
    st.sampled_from([0, 0, 1, 500_000, 999_999]),
    zones,
)
sightings = st.lists(
    st.tuples(st.integers(1, 40), st.one_of(v4, v6), st.one_of(st.none(), st.integers(0, 65_535)), st.none() | moments),
    min_size=1,
    max_size=40,
)


def _by_columns(rows: list[tuple[Any, ...]], types: dict[str, str | None]) -> list[tuple[Any, ...]]:
    """What `address_columns` says of each row, written as `address_evidence`'s rows."""
    found = address_columns(
        pa.array([ip for _, ip, _, _ in rows], pa.string()),
        pa.array([port for _, _, port, _ in rows], pa.int64()),
        pa.array([at for _, _, _, at in rows], pa.timestamp("us", tz="UTC")),
        types,
    )
    keyed = np.flatnonzero(found.evidence != NOTHING)
    kinds = dict(zip(keyed.tolist(), found.kinds(keyed).to_pylist(), strict=True))
    keys, places, reasons = found.key.to_pylist(), found.colocation.to_pylist(), found.reason.to_pylist()
    said: list[tuple[Any, ...]] = []
    for row, (report, ip, _, _) in enumerate(rows):
        if row in kinds:
            said.append((IDENTITY_KEY, report, kinds[row], keys[row]))
            if places[row] is not None:
                said.append((COLOCATION, report, places[row], None))
        else:
            assert keys[row] is None and places[row] is None
            said.append((UNATTRIBUTED_IP, report, ip, reasons[row]))
    return said


@settings(max_examples=300, deadline=None)
@given(sightings, st.data())
def test_an_address_is_evidence_of_what_the_row_rule_says(rows: list[tuple[Any, ...]], data: st.DataObject) -> None:
    types = {ip: data.draw(st.sampled_from(NETWORKS)) for _, ip, _, _ in rows}
    expected = [
        found for report, ip, port, at in rows for found in address_evidence(report, ip, types.get(ip), port, at)
    ]
    assert _by_columns(rows, types) == expected


def test_every_kind_of_address_is_put_to_the_test() -> None:
    """The rows the property draws from cover each branch of the rule: the examples here name them."""
    at = datetime(2026, 5, 6, 7, 8, 9, 123, tzinfo=UTC)
    rows = [
        (1, "198.18.0.1", 4242, at),  # a fixed line, and the line on that day
        (2, "198.18.0.1", None, None),  # a fixed line without a time: no day
        (3, "198.18.0.2", 4242, at),  # a mobile IPv4 address: nobody
        (4, "2001:db8:1:2:3:4:5:6", None, None),  # an IPv6 address: its /64
        (5, "198.18.0.3", 4242, at),  # CGNAT with port and second
        (6, "198.18.0.3", None, at),  # CGNAT without a port: nobody
        (7, "198.18.0.4", 1, at),  # a VPN
        (8, "198.18.0.5", 1, at),  # not enriched
    ]
    types = {"198.18.0.1": "fixed", "198.18.0.2": "mobile", "2001:db8:1:2:3:4:5:6": "fixed"}
    types |= {"198.18.0.3": "mobile_cgnat", "198.18.0.4": "hosting_vpn"}
    assert _by_columns(rows, types) == [
        (IDENTITY_KEY, 1, "ip_fixed", "198.18.0.1"),
        (COLOCATION, 1, "198.18.0.1@2026-05-06", None),
        (IDENTITY_KEY, 2, "ip_fixed", "198.18.0.1"),
        (UNATTRIBUTED_IP, 3, "198.18.0.2", "not attributable"),
        (IDENTITY_KEY, 4, "ip_v6_prefix", "2001:db8:1:2::/64"),
        (IDENTITY_KEY, 5, "ip_cgnat_port", "198.18.0.3:4242@2026-05-06 07:08:09.000123+00:00"),
        (UNATTRIBUTED_IP, 6, "198.18.0.3", IP_NOT_ATTRIBUTABLE["mobile_cgnat"]),
        (UNATTRIBUTED_IP, 7, "198.18.0.4", IP_NOT_ATTRIBUTABLE["hosting_vpn"]),
        (UNATTRIBUTED_IP, 8, "198.18.0.5", IP_NOT_ATTRIBUTABLE[None]),
    ]


KINDS = ("esp_user", "phone", "email", "prior_report")
identity_rows = st.lists(
    st.tuples(st.integers(1, 12), st.sampled_from(KINDS), st.sampled_from(("a", "b", "c", "", "+919811012345"))),
    max_size=40,
)


def _columns(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [
        np.array([row[0] for row in rows], dtype=np.int64),
        *(pa.array([row[i] for row in rows], pa.string()) for i in range(1, len(rows[0]) if rows else 1)),
    ]


@given(identity_rows, identity_rows, identity_rows)
def test_rows_loaded_as_columns_are_coded_as_rows_loaded_one_by_one(
    first: list[tuple[int, str, str]], second: list[tuple[int, str, str]], third: list[tuple[int, str, str]]
) -> None:
    """The first load codes every value at once; later ones meet values already coded."""
    by_row, by_column = IdentityRows(), IdentityRows()
    for part in (first, second, third):
        by_row.extend(part)
        if part:
            by_column.load_columns(*_columns(part))
    assert list(by_column) == list(by_row) == first + second + third
    assert by_column.value_ids.tolist() == by_row.value_ids.tolist()
    assert by_column.kinds == by_row.kinds and by_column.kind_ids.tolist() == by_row.kind_ids.tolist()
    assert all(by_column.code_of(kind, key) == by_row.code_of(kind, key) for _, kind, key in by_row)


@given(identity_rows, identity_rows, identity_rows, st.sampled_from(KINDS))
def test_batches_coded_together_are_coded_as_rows_loaded_one_by_one(
    first: list[tuple[int, str, str]],
    second: list[tuple[int, str, str]],
    third: list[tuple[int, str, str]],
    asked: str,
) -> None:
    """Values some rows coded before (and a look-up made of them) keep their codes; the batches' new values follow
    in the order first seen, and a look-up made before them finds them after."""
    by_row, by_batches = IdentityRows(first), IdentityRows(first)
    by_batches.code_of(asked, "a")  # a kind's look-up, made before the batches add to it
    by_batches.load_batches([by_batches.batch(*_columns(part)) for part in (second, third) if part])
    by_row.extend(second + third)
    assert list(by_batches) == list(by_row) == first + second + third
    assert by_batches.value_ids.tolist() == by_row.value_ids.tolist()
    assert by_batches.kinds == by_row.kinds and by_batches.kind_ids.tolist() == by_row.kind_ids.tolist()
    assert all(by_batches.code_of(kind, key) == by_row.code_of(kind, key) for _, kind, key in by_row)
    assert by_batches.code_of(asked, "never held") is None
    by_batches.extend(third)  # rows loaded one by one after the batches meet their codes
    by_row.extend(third)
    assert by_batches.value_ids.tolist() == by_row.value_ids.tolist()


@given(st.lists(st.tuples(st.integers(1, 9), st.sampled_from(("g", "h", "")), st.booleans()), max_size=30), st.data())
def test_report_keys_coded_in_batches_after_rows_are_the_rows(
    rows: list[tuple[int, str, bool]], data: st.DataObject
) -> None:
    first, second = data.draw(st.integers(0, len(rows))), data.draw(st.integers(0, len(rows)))
    first, second = min(first, second), max(first, second)
    pairs = [(report, key) for report, key, _ in rows]
    keys = ReportKeys(pairs[:first])
    keys.without(["g"])  # makes the look-up of keys, before the batches add to them
    keys.load_batches([KeyBatch.of(*_columns(part)) for part in (pairs[first:second], pairs[second:]) if part])
    assert list(keys) == pairs
    assert keys.value_ids.tolist() == ReportKeys(pairs).value_ids.tolist()
    assert list(keys.without(["g"])) == [pair for pair in pairs if pair[1] != "g"]


@given(st.lists(st.tuples(st.integers(1, 9), st.sampled_from(("g", "h", "")), st.booleans()), max_size=30), st.data())
def test_report_keys_and_files_loaded_as_columns_are_the_rows(
    rows: list[tuple[int, str, bool]], data: st.DataObject
) -> None:
    split = data.draw(st.integers(0, len(rows)))
    keys, files = ReportKeys(), FileRows()
    for part in (rows[:split], rows[split:]):
        if part:
            reports, texts = _columns([(report, key) for report, key, _ in part])
            keys.load_columns(reports, texts)
            files.load_columns(reports, texts, np.array([flag for _, _, flag in part]))
    assert list(keys) == list(ReportKeys((report, key) for report, key, _ in rows))
    assert keys.value_ids.tolist() == ReportKeys((report, key) for report, key, _ in rows).value_ids.tolist()
    assert list(files) == list(FileRows(rows)) == rows
