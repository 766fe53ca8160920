"""The sorted sightings (`store.link_inputs.SORTED_SIGHTINGS`) as columns → linking's input rows.

A store of 1 M reports gives ~11 M sorted sightings. Each was a Python tuple and a Python step (a tag dispatch, a
dict look-up for its code, an address's key written as text); that was half of linking's time. Here the rows stay
Arrow and NumPy columns: each tag's rows are taken at once, values are coded by dictionary encoding (in the order
first seen, as the row-by-row code gave them), and an address's key is built per column. The rules are
`link.extract`'s, the one place they are written per row (the Spark engine runs those): `address_columns` is
`extract.address_evidence` over columns, and a test holds the two equal on every kind of address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tipfusion.link import extract as rules
from tipfusion.link.columns import FileRows, KeyBatch, encoded, sorted_distinct
from tipfusion.link.records import LinkInput, Suppressed
from tipfusion.store import link_inputs as inputs

# what an address row is evidence of (`AddressColumns.evidence`)
NOTHING, FIXED_LINE, V6_PREFIX, CGNAT_PORT = range(4)
EVIDENCE_KINDS = {FIXED_LINE: "ip_fixed", V6_PREFIX: "ip_v6_prefix", CGNAT_PORT: "ip_cgnat_port"}


@dataclass(frozen=True)
class AddressColumns:
    """Per address row: what it is evidence of (`evidence`: one of the codes above), its key (null where none), the
    fixed line on that day (`colocation`, "ip@YYYY-MM-DD", or null) and, where it attributes no one, why
    (`reason`, or null)."""

    evidence: np.ndarray
    key: pa.Array
    colocation: pa.Array
    reason: pa.Array

    def kinds(self, rows: np.ndarray) -> pa.Array:
        """The evidence kind of each of `rows` (rows that are evidence)."""
        names = pa.array([EVIDENCE_KINDS.get(code) for code in range(len(EVIDENCE_KINDS) + 1)], pa.string())
        return names.take(pa.array(self.evidence[rows]))


def moments(observed_at: pa.Array) -> pa.Array:
    """`extract.moment` per row: the exact second in UTC as `datetime.isoformat(" ")` writes it (microseconds only
    where there are any)."""
    # the zone dropped after the cast to UTC leaves the UTC wall clock (Arrow keeps UTC inside): Arrow writes a time
    # without a zone ten times faster than one with (3 M rows: 0.5 s against 5 s, strftime or cast alike)
    utc = observed_at.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    text = pc.replace_substring_regex(pc.cast(utc, pa.string()), pattern=r"\.0{6}$", replacement="")
    return pc.binary_join_element_wise(text, pa.scalar("+00:00"), "")


def days(observed_at: pa.Array) -> pa.Array:
    """`extract.moment(…)[:10]` per row: the day in UTC, formatted once per distinct day (rows share few days)."""
    micros = np.asarray(observed_at.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
    distinct, at = np.unique(micros // 86_400_000_000, return_inverse=True)
    epoch = date(1970, 1, 1).toordinal()
    text = pa.array([date.fromordinal(epoch + int(day)).isoformat() for day in distinct.tolist()], pa.string())
    return pc.if_else(pc.is_valid(observed_at), text.take(pa.array(at.reshape(-1))), pa.scalar(None, pa.string()))


def address_columns(
    ip: pa.Array, port: pa.Array, observed_at: pa.Array, network_types: Mapping[str, str | None]
) -> AddressColumns:
    """`extract.address_evidence` for every row at once. What a row is evidence of follows from its IP's network
    type, which is looked up once per distinct IP; only a CGNAT address also needs its row's port and second."""
    at, distinct = encoded(ip)
    rule, v6_keys, reasons = _ip_rules(distinct, network_types)
    cls = rule[at]
    v6_keys, reasons = v6_keys.take(pa.array(at)), reasons.take(pa.array(at))

    timed = pc.is_valid(observed_at).to_numpy(zero_copy_only=False)
    ported = pc.is_valid(port).to_numpy(zero_copy_only=False)
    cgnat_ok = (cls == CGNAT_PORT) & timed & ported
    evidence = np.where((cls == CGNAT_PORT) & ~cgnat_ok, NOTHING, cls).astype(np.int8)
    none = pa.scalar(None, pa.string())

    key = pc.if_else(pa.array(evidence == FIXED_LINE), ip, pc.if_else(pa.array(evidence == V6_PREFIX), v6_keys, none))
    if cgnat_ok.any():  # the address, port and exact second (the only rows whose time is written out whole)
        rows = pa.array(np.flatnonzero(cgnat_ok))
        cgnat = pc.binary_join_element_wise(
            pc.binary_join_element_wise(ip.take(rows), pc.cast(port.take(rows), pa.string()), ":"),
            moments(observed_at.take(rows)),
            "@",
        )
        key = _put(key, np.flatnonzero(cgnat_ok), cgnat)
    lines = (evidence == FIXED_LINE) & timed
    colocation = pc.if_else(pa.array(lines), pc.binary_join_element_wise(ip, days(observed_at), "@"), none)
    reason = pc.if_else(pa.array(evidence == NOTHING), reasons, none)
    return AddressColumns(evidence, key, colocation, reason)


def _put(column: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """`column` with `values` at `rows` (Arrow has no scatter: the rows are put back in order by a take)."""
    others = np.setdiff1d(np.arange(len(column)), rows, assume_unique=True)
    order = np.empty(len(column), dtype=np.int64)
    order[np.concatenate([others, rows])] = np.arange(len(column))
    return pa.concat_arrays([column.take(pa.array(others)), values]).take(pa.array(order))


def _ip_rules(ips: pa.Array, network_types: Mapping[str, str | None]) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Per distinct IP: what it can be evidence of, its /64 where that is its key, and why not where it is evidence
    of nothing: `extract.ip_key`'s rule, over the column. Only an IPv6 address's /64 is a Python step (few); a CGNAT
    address is evidence only with its row's port and second."""
    texts = ips.to_pylist()
    networks = pa.array(list(map(network_types.get, texts)), pa.string())  # None: not enriched yet
    kinds = pc.dictionary_encode(networks)  # a few network types: each one's reason once
    said = [rules.IP_NOT_ATTRIBUTABLE.get(network, "not attributable") for network in kinds.dictionary.to_pylist()]
    reason = pa.array(said, pa.string()).take(kinds.indices)
    if networks.null_count:
        reason = pc.if_else(pc.is_null(networks), pa.scalar(rules.IP_NOT_ATTRIBUTABLE[None]), reason)

    def network_is(name: str) -> np.ndarray:
        return np.asarray(pc.fill_null(pc.equal(networks, name), False).to_numpy(zero_copy_only=False), dtype=bool)

    v6 = np.asarray(pc.match_substring(ips, ":").to_numpy(zero_copy_only=False), dtype=bool)
    fixed = network_is("fixed")
    rule = np.full(len(texts), NOTHING, dtype=np.int8)
    rule[(fixed | network_is("mobile")) & v6] = V6_PREFIX
    rule[fixed & ~v6] = FIXED_LINE
    rule[network_is("mobile_cgnat")] = CGNAT_PORT
    keyed = np.flatnonzero(rule == V6_PREFIX)
    v6_keys = _v6_prefixes(ips.take(pa.array(keyed)))
    return rule, _put(pa.nulls(len(texts), pa.string()), keyed, v6_keys), reason


# The first four groups of an IPv6 address as `str(IPv6Address)` writes it (lower case, no leading zeros, "::" after
# them if anywhere), the fourth not zero: its /64 is those groups then "::/64", for the four zero groups after them
# are then the longest run, the one `ipaddress` compresses (a zero fourth group would join that run). Any other form
# (written out whole, "::" among the first four, a zero fourth group, a zone) is parsed.
_CANONICAL_V6_HEAD = (
    r"^(?P<head>(?:0|[1-9a-f][0-9a-f]{0,3})(?::(?:0|[1-9a-f][0-9a-f]{0,3})){2}:[1-9a-f][0-9a-f]{0,3}):"
    r"(?:[1-9a-f][0-9a-f]{0,3}|0)?(?::(?:[1-9a-f][0-9a-f]{0,3}|0)?){0,3}$"
)


def _v6_prefixes(ips: pa.Array) -> pa.Array:
    """`ip_network(f"{ip}/64", strict=False)` as text for each IPv6 address: by Arrow's regex for the form the store
    writes (`normalise.ip` keeps `str(address)`), by Python's parser for the few others."""
    head = pc.struct_field(pc.extract_regex(ips, _CANONICAL_V6_HEAD), "head")
    keys = pc.binary_join_element_wise(head, pa.scalar("::/64"), "")
    unmatched = np.flatnonzero(np.asarray(pc.is_null(keys).to_numpy(zero_copy_only=False), dtype=bool))
    if not len(unmatched):
        return keys
    prefixes: dict[bytes, str] = {}
    texts = ips.take(pa.array(unmatched)).to_pylist()
    parsed = pa.array([_v6_prefix(text, prefixes) for text in texts], pa.string())
    return _put(keys, unmatched, parsed)


def _v6_prefix(ip: str, prefixes: dict[bytes, str]) -> str:
    """`ip_network(f"{ip}/64", strict=False)` as text, written once per /64 (the parse is C's; addresses share
    their /64s)."""
    try:
        head = socket.inet_pton(socket.AF_INET6, ip)[:8]
    except OSError:  # a form only Python's parser takes (a scope id): its rule, whole
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    found = prefixes.get(head)
    if found is None:
        found = prefixes[head] = str(ipaddress.ip_network((head + bytes(8), 64)))
    return found


def load_sightings(
    batches: Iterable[pa.RecordBatch], network_types: Mapping[str, str | None], data: LinkInput
) -> FileKeys:
    """Put each sorted sighting where it belongs in `data` (identity and verified values, groups, recipients, fixed
    lines on a day, unattributed addresses), in the order the rows came, a batch at a time. The files come back
    (`FileKeys`): each file once, in the order first seen, keyed by the smallest of its hashes; whether one is
    flagged is read after."""
    files: list[pa.Table] = []  # per batch: each file's smallest hash and the first row it was seen on
    unattributed: list[pa.Table] = []  # the rows whose address attributes no one: report, address, why
    waiting = _Waiting()
    seen = 0
    for batch in batches:
        found_files, found_unattributed = _load_batch(batch, network_types, data, seen, waiting)
        files.append(found_files)
        unattributed.append(found_unattributed)
        seen += len(batch)
    waiting.load_into(data)
    pa.default_memory_pool().release_unused()  # the coding's hash tables, before the files are worked on
    data.suppressed.extend(_unattributed(pa.concat_tables(unattributed) if unattributed else None))
    found = _file_keys(files)
    # Arrow's allocator keeps what the batches used for its next allocation; linking allocates Python objects and
    # NumPy arrays from here on, which cannot use it: give it back
    pa.default_memory_pool().release_unused()
    return found


@dataclass
class _Waiting:
    """Per column of `data`, the batches' rows waiting to be coded: each batch as its distinct keys and each row's
    place among them, coded at once when every batch is read (`link.columns.code_batches`)."""

    identity: list[KeyBatch] = field(default_factory=list)
    verified: list[KeyBatch] = field(default_factory=list)
    colocations: list[KeyBatch] = field(default_factory=list)
    groups: list[KeyBatch] = field(default_factory=list)
    recipients: list[KeyBatch] = field(default_factory=list)

    def load_into(self, data: LinkInput) -> None:
        """Code each column's batches and load them (each list is emptied as its rows go in)."""
        data.identity.load_batches(self.identity)
        data.verified.load_batches(self.verified)
        data.colocations.load_batches(self.colocations)
        data.groups.load_batches(self.groups)
        data.recipients.load_batches(self.recipients)


def _load_batch(
    batch: pa.RecordBatch,
    network_types: Mapping[str, str | None],
    data: LinkInput,
    seen: int,
    waiting: _Waiting,
) -> tuple[pa.Table, pa.Table]:
    """One batch of `load_sightings`: the rows it holds for `data`'s columns (added to `waiting`), and its files and
    unattributed rows (which a later batch may add to)."""
    report = _numpy(batch["report_id"], np.int64)
    tag = _numpy(batch["tag"], np.int8)
    key, kind = batch["key"], batch["kind"]

    addresses = np.flatnonzero(tag == inputs.ADDRESS_ROW)
    at = pa.array(addresses)
    found = address_columns(key.take(at), batch["number"].take(at), batch["observed_at"].take(at), network_types)
    # identity rows: the identity sightings and the addresses that attribute someone, in the order the rows came
    plain = np.flatnonzero(tag == inputs.IDENTITY_ROW)
    keyed = np.flatnonzero(found.evidence != NOTHING)
    order = pa.array(np.argsort(np.concatenate([plain, addresses[keyed]]), kind="stable"))
    waiting.identity.append(
        data.identity.batch(
            np.concatenate([report[plain], report[addresses[keyed]]])[order.to_numpy()],
            pa.concat_arrays([kind.take(pa.array(plain)), found.kinds(keyed)]).take(order),
            pa.concat_arrays([key.take(pa.array(plain)), found.key.take(pa.array(keyed))]).take(order),
        )
    )
    sure = plain[_numpy(batch["verified"].take(pa.array(plain)).fill_null(False), np.bool_)]
    waiting.verified.append(data.verified.batch(report[sure], kind.take(pa.array(sure)), key.take(pa.array(sure))))

    placed = pc.is_valid(found.colocation).to_numpy(zero_copy_only=False)
    waiting.colocations.append(KeyBatch.of(report[addresses[placed]], found.colocation.filter(pa.array(placed))))
    for which, into in ((inputs.GROUP_ROW, waiting.groups), (inputs.RECIPIENT_ROW, waiting.recipients)):
        rows = np.flatnonzero(tag == which)
        into.append(KeyBatch.of(report[rows], key.take(pa.array(rows))))

    unkeyed = np.flatnonzero(found.evidence == NOTHING)
    unattributed = pa.table(
        {
            "report": report[addresses[unkeyed]],
            "ip": key.take(pa.array(addresses[unkeyed])),
            "reason": pc.dictionary_encode(found.reason.take(pa.array(unkeyed))),  # a few reasons, ~90 bytes each
        }
    )
    rows = np.flatnonzero(tag == inputs.FILE_ROW)
    files = _smallest_hashes(report[rows], batch["number"].take(pa.array(rows)), key.take(pa.array(rows)), seen + rows)
    return files, unattributed


def _numpy(column: pa.Array | pa.ChunkedArray, dtype: type) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False) if len(column) else np.zeros(0), dtype=dtype)


def _unattributed(rows: pa.Table | None) -> list[Suppressed]:
    """`extract.unattributed` for each address that attributes no one and is held by two or more reports, in the
    order first seen (its reason follows from the address: one reason per address)."""
    if rows is None or not len(rows):
        return []
    reports = _numpy(rows["report"], np.int64)
    at, ips = encoded(rows["ip"].combine_chunks())
    span = int(reports.max() - reports.min()) + 1
    held = sorted_distinct(at * span + (reports - reports.min())) // span
    holders = np.bincount(held, minlength=len(ips))
    _, first = np.unique(at, return_index=True)
    shown = [int(row) for row in np.sort(first) if holders[at[row]] > 1]
    values = ips.to_pylist()
    why = rows["reason"].take(pa.array(shown, pa.int64())).to_pylist()
    return [
        rules.unattributed(values[at[row]], reason, int(holders[at[row]]))
        for row, reason in zip(shown, why, strict=True)
    ]


def _smallest_hashes(reports: np.ndarray, ordinals: pa.Array, keys: pa.Array, rows: np.ndarray) -> pa.Table:
    """Each file's smallest hash (as Python compares text: code point order, which is UTF-8's) and its first row, in
    the order first seen."""
    found = pa.table({"report": reports, "ordinal": ordinals, "key": keys, "row": rows})
    return _files(found.group_by(["report", "ordinal"], use_threads=False).aggregate([("key", "min"), ("row", "min")]))


def _files(grouped: pa.Table) -> pa.Table:
    """Grouped files in the order first seen (a group-by's output order is its own)."""
    named = grouped.select(["report", "ordinal", "key_min", "row_min"])  # Arrow versions order them differently
    return named.rename_columns(["report", "ordinal", "key", "row"]).sort_by("row")


@dataclass(frozen=True)
class FileKeys:
    """Each file of a report once, in the order first seen: its report, ordinal and key (its smallest hash).

    The keys stay in the batches' chunks as read (a 1 M-report store has ~1.5 M files: a copy of their hashes is
    ~150 MB). A file two batches hold is kept where first seen (`keep` drops its later rows), with the smaller key
    (`smallest`: its row → key); both are applied a chunk at a time as the files are taken."""

    reports: np.ndarray
    ordinals: np.ndarray
    keys: pa.ChunkedArray
    keep: np.ndarray | None = None
    smallest: tuple[np.ndarray, pa.Array] | None = None

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, pa.Array]]:
        """(reports, ordinals, keys) of each chunk's files."""
        start = 0
        for chunk in self.keys.chunks:
            end = start + len(chunk)
            if self.smallest is not None:
                rows, keys = self.smallest
                inside = (rows >= start) & (rows < end)
                if inside.any():
                    chunk = _put(chunk, rows[inside] - start, keys.filter(pa.array(inside)))
            if self.keep is None:
                yield self.reports[start:end], self.ordinals[start:end], chunk
            else:
                kept = np.flatnonzero(self.keep[start:end])
                yield self.reports[start + kept], self.ordinals[start + kept], chunk.take(pa.array(kept))
            start = end

    def rows(self, flagged_reports: np.ndarray, flagged_ordinals: np.ndarray) -> FileRows:
        """The files as linking's rows, each flagged where the flagged files (reports and ordinals) hold it."""
        files, done = FileRows(), 0
        kept = (self.reports, self.ordinals)
        if self.keep is not None:
            kept = (self.reports[self.keep], self.ordinals[self.keep])
        code = pair_codes(np.concatenate([kept[0], flagged_reports]), np.concatenate([kept[1], flagged_ordinals]))
        flagged = np.isin(code[: len(kept[0])], code[len(kept[0]) :])  # once over every file, not once per chunk
        batches, flags = [], []
        for reports, _, keys in self.chunks():
            batches.append(KeyBatch.of(reports, keys))
            flags.append(flagged[done : done + len(reports)])
            done += len(reports)
        files.load_flagged(batches, flags)
        return files

    def key_of(self) -> dict[tuple[int, int], str]:
        """(report, ordinal) → key, for every file."""
        found: dict[tuple[int, int], str] = {}
        for reports, ordinals, keys in self.chunks():
            found.update(zip(zip(reports.tolist(), ordinals.tolist(), strict=True), keys.to_pylist(), strict=True))
        return found


def pair_codes(reports: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
    """One int64 per (report, ordinal), equal where the pairs are: report × (largest ordinal + 1) + ordinal where
    that cannot overflow (report numbers and file ordinals here always), else the pairs' ranks."""
    if not len(reports):
        return np.zeros(0, np.int64)
    low, width = int(reports.min()), int(ordinals.max()) + 1
    if int(ordinals.min()) >= 0 and (int(reports.max()) - low + 1) * width < 2**62:
        return np.asarray((reports - low) * width + ordinals, dtype=np.int64)
    _, code = np.unique(np.stack([reports, ordinals]), axis=1, return_inverse=True)
    return np.asarray(code.reshape(-1), dtype=np.int64)


def _file_keys(parts: list[pa.Table]) -> FileKeys:
    """The batches' files as one, each file once, in the order first seen. A file whose hashes two batches hold (a
    batch ends anywhere) stays where it was first seen, with the smaller key; its later rows go. The keys are worked
    on a batch's chunk at a time: a copy of all of them (~150 MB at 1 M reports) would be most of linking's memory."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return FileKeys(np.zeros(0, np.int64), np.zeros(0, np.int64), pa.chunked_array([], pa.string()))
    found = pa.concat_tables(parts)
    reports, ordinals = _numpy(found["report"], np.int64), _numpy(found["ordinal"], np.int64)
    codes = pair_codes(reports, ordinals)
    _, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    spans = counts[inverse.reshape(-1)] > 1
    if not spans.any():
        return FileKeys(reports, ordinals, found["key"])
    at = np.flatnonzero(spans)
    spanning = pa.table({"code": codes[at], "key": found["key"].take(pa.array(at)), "at": at})
    merged = spanning.group_by("code", use_threads=False).aggregate([("key", "min"), ("at", "min")]).sort_by("at_min")
    first = _numpy(merged["at_min"], np.int64)
    keep = ~spans
    keep[first] = True
    return FileKeys(reports, ordinals, found["key"], keep, (first, merged["key_min"].combine_chunks()))
