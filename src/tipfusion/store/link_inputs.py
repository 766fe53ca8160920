"""What linking reads from the store: one query per input, with its columns' types.

They live with the store's other queries (services write no SQL text). The embedded engine runs them through
`rows` (`link.extract`); the Spark engine runs the same
queries over JDBC, or reads the Parquet snapshot `tipfusion export observations --format parquet` wrote from them
(`link.snapshot`). So all three see the same rows, and the rules that sort them live once, in `link.extract`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Select, String, and_, case, func, literal, or_, select

from tipfusion.domain import SUSPECT_ROLES
from tipfusion.normalise.kind import ACCOUNT, ADDRESS, FILE, GROUP, IDENTITY
from tipfusion.normalise.registry import KINDS
from tipfusion.store.bulk import rows_of
from tipfusion.store.hashlists import MATCHED_FILES_SQL
from tipfusion.store.repository import SIGHTINGS_GENERATION
from tipfusion.store.tables import identifier_observations, store_flags

if TYPE_CHECKING:
    from tipfusion.store.columnar import Batches

LINKING_KINDS = sorted(name for name, kind in KINDS.items() if kind.links is not None)
# stored kind → (evidence key kind, text before the canonical value), for the kinds whose sightings are identity keys
SIGHTING_KEYS: dict[str, tuple[str, str]] = {
    name: kind.links.same_as or (name, "")
    for name, kind in KINDS.items()
    if kind.links is not None and kind.links.how in (IDENTITY, ACCOUNT)
}
ACCOUNTS_ONLY = frozenset(name for name in SIGHTING_KEYS if KINDS[name].links.accounts_only)  # type: ignore[union-attr]
# a recipient's account is network evidence (`link.extract.sort_sightings`), not identity evidence
RECIPIENT_KINDS = sorted(name for name in SIGHTING_KEYS if KINDS[name].links.how == ACCOUNT)  # type: ignore[union-attr]


def identity_sightings(stored: Iterable[str] = SIGHTING_KEYS) -> tuple[ColumnElement[Any], ColumnElement[Any], Any]:
    """(key kind, key, condition) of the identity keys the current sightings of the `stored` kinds give, over
    `identifier_observations`: link's rule (`link.extract.sort_sightings`) written in SQL, so that the database sorts
    millions of rows, and the one place it is written for every read that needs the keys (linking, deconfliction).

    A sighting counts when it was received in a field, is valid, is on the reported side (the reported person or an
    account associated with them: never a recipient's, a victim's or a reporter's value), and is on an account where
    the kind says only an account's value counts (a profile URL). Its key is its evidence key (`Links.same_as`: a
    SIM's ICCID is the device `ICCID:<digits>`)."""
    o = identifier_observations
    wanted = sorted(set(stored))
    mapped = {name: SIGHTING_KEYS[name] for name in wanted if SIGHTING_KEYS[name] != (name, "")}
    kind: ColumnElement[Any] = o.c.kind
    key: ColumnElement[Any] = o.c.canonical
    if mapped:
        kind = case({n: literal(k, String) for n, (k, _) in mapped.items()}, value=o.c.kind, else_=o.c.kind)
        prefixed = {n: literal(p, String) + o.c.canonical for n, (_, p) in mapped.items()}
        key = case(prefixed, value=o.c.kind, else_=o.c.canonical)
    plain = [name for name in wanted if name not in ACCOUNTS_ONLY]
    profiles = [name for name in wanted if name in ACCOUNTS_ONLY]
    condition = and_(
        o.c.is_current.is_(True),
        o.c.origin == "field",
        o.c.valid.is_(True),
        o.c.role.in_(sorted(SUSPECT_ROLES)),
        or_(o.c.kind.in_(plain), and_(o.c.kind.in_(profiles), o.c.account_ordinal.is_not(None))),
    )
    return kind, key, condition


def _linking(how: str) -> list[str]:
    return sorted(name for name in LINKING_KINDS if KINDS[name].links.how == how)  # type: ignore[union-attr]


# what each row of `SORTED_SIGHTINGS` is (its `tag`)
IDENTITY_ROW, GROUP_ROW, FILE_ROW, RECIPIENT_ROW, ADDRESS_ROW = range(5)


def _sorted_sightings() -> Select[Any]:
    """The embedded engine's read of the sightings, sorted by the database with `link.extract.sort_sightings`' rule
    for each kind written in SQL, in one pass over the table (a read per kind scanned the largest table five times):

    (report_id, tag, kind, key, verified, number, observed_at), where the tag says what the row is:
    - IDENTITY_ROW: an identity key (kind: the key's kind; key; verified);
    - GROUP_ROW: a chat group or room on the reported side or the incident's (key: the group);
    - FILE_ROW: a valid hash of a file (key: the hash; number: the file's ordinal);
    - RECIPIENT_ROW: a recipient's account (key: the account);
    - ADDRESS_ROW: a reported side's address, whose key needs Python (`link.extract.address_evidence`) and its
      enrichment (`NETWORK_TYPES`; a join here cost more than a look-up there): (key: the ip; number: the source
      port; observed_at).

    The Spark engine sorts the `SIGHTINGS` rows with `sort_sightings` itself: a test holds the two equal, rule for
    rule."""
    o = identifier_observations
    kind, key, identity = identity_sightings()
    current = o.c.is_current.is_(True)
    group = and_(current, o.c.kind.in_(_linking(GROUP)), o.c.role.in_(sorted(SUSPECT_ROLES | {"incident"})))
    file = and_(current, o.c.kind.in_(_linking(FILE)), o.c.file_ordinal.is_not(None), o.c.valid.is_(True))
    recipient = and_(current, o.c.kind.in_(RECIPIENT_KINDS), o.c.role == "recipient")
    addresses = _linking(ADDRESS)
    address = and_(
        current,
        o.c.kind.in_(addresses),
        o.c.origin == "field",
        o.c.valid.is_(True),
        o.c.role.in_(sorted(SUSPECT_ROLES)),
    )
    # the WHERE clause keeps the rows each rule keeps; which rule kept a row is then a matter of its kind (and, for an
    # account, whether it is a recipient's): the conditions are not evaluated again per column
    by_kind = {name: GROUP_ROW for name in _linking(GROUP)} | {name: FILE_ROW for name in _linking(FILE)}
    by_kind |= {name: ADDRESS_ROW for name in addresses}
    tag = case(
        (and_(o.c.kind.in_(RECIPIENT_KINDS), o.c.role == "recipient"), RECIPIENT_ROW),
        else_=case(by_kind, value=o.c.kind, else_=IDENTITY_ROW),
    )
    is_address = o.c.kind.in_(addresses)
    return select(
        o.c.report_id,
        tag.label("tag"),
        kind.label("kind"),
        key.label("key"),
        o.c.verified,
        case((is_address, o.c.port), else_=o.c.file_ordinal).label("number"),
        case((is_address, o.c.observed_at)).label("observed_at"),
    ).where(or_(identity, group, file, recipient, address))


SORTED_SIGHTINGS = _sorted_sightings()
SORTED_SIGHTING_COLUMNS = (
    ("report_id", "int64"),
    ("tag", "int8"),
    ("kind", "string"),
    ("key", "string"),
    ("verified", "bool"),
    ("number", "int64"),
    ("observed_at", "timestamp"),
)


@dataclass(frozen=True)
class Input:
    name: str
    sql: str
    columns: tuple[
        tuple[str, str], ...
    ]  # (name, type): int64, int32, int8, string, bool, timestamp (UTC), json (as text)
    partition_by: str | None = None  # a numeric column a distributed reader may split the rows on

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


REPORTS = Input(
    "reports",
    "SELECT report_id, current_version FROM reports",
    (("report_id", "int64"), ("current_version", "int32")),
)
NAMES = Input(
    "names",
    "SELECT report_id, first_name, last_name, age, CAST(date_of_birth AS VARCHAR(10)) AS date_of_birth "
    "FROM current_accounts WHERE role = 'reported'",
    (
        ("report_id", "int64"),
        ("first_name", "string"),
        ("last_name", "string"),
        ("age", "int32"),
        ("date_of_birth", "string"),
    ),
)
NETWORK_TYPES = Input(
    "ip_enrichments", "SELECT ip, network_type FROM ip_enrichments", (("ip", "string"), ("network_type", "string"))
)
SIGHTINGS = Input(
    "sightings",
    "SELECT o.report_id, o.account_ordinal, o.file_ordinal, o.kind, o.canonical, o.valid, o.port, "
    "o.observed_at, o.origin, o.verified, o.role FROM identifier_observations o "
    "WHERE o.is_current AND o.kind IN (" + ", ".join(f"'{name}'" for name in LINKING_KINDS) + ")",
    (
        ("report_id", "int64"),
        ("account_ordinal", "int32"),
        ("file_ordinal", "int32"),
        ("kind", "string"),
        ("canonical", "string"),
        ("valid", "bool"),
        ("port", "int32"),
        ("observed_at", "timestamp"),
        ("origin", "string"),
        ("verified", "bool"),
        ("role", "string"),
    ),
    partition_by="report_id",
)
BATCHED = Input(
    "batched",
    "SELECT report_id FROM current_report_versions WHERE batched_reason IS NOT NULL",
    (("report_id", "int64"),),
)
FILES = Input(
    "files",
    "SELECT report_id, ordinal, annotations, potential_meme FROM current_files",
    (("report_id", "int64"), ("ordinal", "int32"), ("annotations", "json"), ("potential_meme", "bool")),
)
FLAGGABLE_FILES = Input(  # the embedded engine's read of FILES: the files the rule could flag, no others
    "flaggable_files",
    f"{FILES.sql} WHERE potential_meme "
    "OR (annotations IS NOT NULL AND CAST(annotations AS TEXT) NOT IN ('[]', 'null')) "
    f"OR report_id IN ({BATCHED.sql})",
    FILES.columns,
)
"""Most files are in no batched report and carry no meme flag and no annotation: the rule says no to them unasked
(`link.extract.flagged_files`), so they are not read (1.46 M rows at 1 M reports, a few thousand of them flagged)."""
LEADS = Input(
    "leads",
    "SELECT lead_ref, kind, canonical FROM lead_identifiers",
    (("lead_ref", "string"), ("kind", "string"), ("canonical", "string")),
)
ISP_ANSWERS = Input(
    "isp_answers",
    "SELECT report_id, phone, alternate_phone, email, id_document_type, id_document_number FROM isp_answers",
    (
        ("report_id", "int64"),
        ("phone", "string"),
        ("alternate_phone", "string"),
        ("email", "string"),
        ("id_document_type", "string"),
        ("id_document_number", "string"),
    ),
)

KNOWN_FILES = Input(  # files on the unit's known-content hash lists (the embedded engine: hashlists.known_content)
    "known_files",
    MATCHED_FILES_SQL,
    (
        ("report_id", "int64"),
        ("file_ordinal", "int32"),
        ("name", "string"),
        ("category", "string"),
        ("source", "string"),
        ("distance", "int32"),
        ("canonical", "string"),
    ),
)

INPUTS = (REPORTS, NAMES, NETWORK_TYPES, SIGHTINGS, BATCHED, FILES, LEADS, ISP_ANSWERS, KNOWN_FILES)


def snapshot_path(directory: Path, item: Input) -> Path:
    """Where a Parquet snapshot keeps one input (`tipfusion export observations --format parquet`)."""
    return directory / f"{item.name}.parquet"


def batches(conn: Connection, source: Input | Select[Any], columns: tuple[tuple[str, str], ...]) -> Batches:
    """`source`'s rows as Arrow record batches of these (name, type) `columns` (`store.columnar`): a read of millions
    of rows that are worked on as columns, never as Python objects, a batch at a time. The connection runs nothing
    else until the last batch is taken. (Arrow is imported here, not with the module: routing reads its identity
    keys from here and needs none of it.) Where children read them (a large SQLite store's sightings), they start now
    and their batches are taken as they come, while the caller may read other inputs on `conn`
    (`columnar.batches_of`'s `ahead`); close the read if it is left."""
    from tipfusion.store.columnar import arrow_schema, batches_of

    # the sightings are written by ingest alone (`repository.write_rows`), which touches the stamp; on SQLite a store's
    # many are read in child processes (`store.sqlite_arrow`), half the time of a read here. A few, and the smaller
    # reads, stay here: a child's start (~0.3 s) is more than they would save
    many = conn.dialect.name == "sqlite" and source is SORTED_SIGHTINGS
    at_most = _sightings_at_most(conn) if many else 0
    if not many or at_most < READ_IN_A_CHILD_FROM:
        return batches_of(conn, query_text(conn, source), arrow_schema(columns))
    # two children, each a half of the table in the order it is scanned (by row id), taken one after the other: the
    # second reads while the first's rows are worked on (linking's work per row is less than SQLite's)
    o, cut = identifier_observations, at_most // 2
    halves = [SORTED_SIGHTINGS.where(o.c.id <= cut), SORTED_SIGHTINGS.where(o.c.id > cut)]
    reads: list[Batches] = []
    try:
        for half in halves:
            reads.append(
                batches_of(conn, query_text(conn, half), arrow_schema(columns), stamp=_WRITTEN_BY_INGEST, ahead=True)
            )
    except BaseException:
        for read in reads:
            read.close()
        raise
    return InTurn(reads)


class InTurn:
    """Reads taken one after the other, as one; `close()` stops every one (those not begun as well)."""

    def __init__(self, reads: list[Batches]) -> None:
        self._reads = reads
        self._all = itertools.chain.from_iterable(reads)

    def __iter__(self) -> InTurn:
        return self

    def __next__(self) -> Any:
        return next(self._all)

    def close(self) -> None:
        for read in self._reads:
            read.close()


READ_IN_A_CHILD_FROM = 250_000
"""Sightings from which SQLite's are read in a child process: ~1.6 µs a row there against ~3.3 µs here, after the
child's ~0.3 s start (100,000 reports hold ~1.1 M)."""


def _sightings_at_most(conn: Connection) -> int:
    """How many sightings the store holds at most (the largest row id: one look-up, not a count)."""
    return int(conn.execute(select(func.max(identifier_observations.c.id))).scalar() or 0)


_WRITTEN_BY_INGEST = f"SELECT value FROM {store_flags.name} WHERE name = '{SIGHTINGS_GENERATION}'"
"""The stamp of the sightings (and the reports' versions, accounts and files): every commit that writes them changes
it."""

# a read of the sightings table alone, with no join: it takes (nearly) every current row
_SIGHTINGS_ALONE = re.compile(rf"(\bFROM {identifier_observations.name}(?: o)?)(\s+WHERE\b)")


def query_text(conn: Connection, source: Input | Select[Any]) -> str:
    """`source` written out for the connection's database, a `Select`'s values (registry names) inline.

    On SQLite a read of the sightings table alone scans it (`NOT INDEXED`). Without planner statistics (a SQLite store
    has none unless ANALYZE ran) SQLite takes the kind conditions to be selective and reads the rows through the
    lookup index, one table seek per row: 6.2 s against 2.5 s for the sorted sightings of 100,000 reports, the same
    1.1 M rows. PostgreSQL plans from the statistics autovacuum keeps."""
    sql = (
        source.sql
        if isinstance(source, Input)
        else str(source.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    )
    if conn.dialect.name == "sqlite":
        sql = _SIGHTINGS_ALONE.sub(r"\1 NOT INDEXED\2", sql)
    return sql


def rows(conn: Connection, source: Input | Select[Any], batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """`source`'s rows as plain tuples, straight from the driver (linking reads every current sighting: per-row
    overhead counts), fetched `batch` at a time. A `Select` is written out for the connection's database, its
    values (registry names) inline."""
    return rows_of(conn, query_text(conn, source), batch)
