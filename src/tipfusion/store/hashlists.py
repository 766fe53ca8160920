"""Storage of known-content hash lists and of the files they match (tipfusion.enrich.hashlists)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from tipfusion.store.bulk import insert_rows, rows_of
from tipfusion.store.tables import (
    hash_list_entries,
    hash_list_imports,
    hash_list_matches,
    hash_list_rejects,
    hash_lists,
)

# a current file's hashes, as ingest stored them (file_ordinal: the fileDetails the hash came from)
FILE_HASHES_SQL = (
    "FROM identifier_observations o WHERE o.kind = 'file_hash' AND o.is_current AND o.file_ordinal IS NOT NULL"
)


def list_id(conn: Connection, name: str, actor: str, at: datetime) -> int:
    """The list called `name`, created on first use."""
    found = conn.execute(select(hash_lists.c.id).where(hash_lists.c.name == name)).scalar()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            insert(hash_lists).values(name=name, created_at=at, actor=actor).returning(hash_lists.c.id)
        ).scalar_one()
    )


def previous_import(conn: Connection, list_id_: int, sha256: str) -> Any:
    return conn.execute(
        select(hash_list_imports).where(
            hash_list_imports.c.list_id == list_id_, hash_list_imports.c.source_sha256 == sha256
        )
    ).first()


def add_import(conn: Connection, **values: Any) -> int:
    return int(
        conn.execute(
            insert(hash_list_imports).values(entries_added=0, rejected=0, **values).returning(hash_list_imports.c.id)
        ).scalar_one()
    )


def finish_import(conn: Connection, import_id: int, added: int, rejected: int) -> None:
    conn.execute(
        update(hash_list_imports)
        .where(hash_list_imports.c.id == import_id)
        .values(entries_added=added, rejected=rejected)
    )


def count_entries(conn: Connection, list_id_: int) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(hash_list_entries).where(hash_list_entries.c.list_id == list_id_)
        ).scalar_one()
    )


ENTRY_COLUMNS = ("list_id", "import_id", "algorithm", "canonical", "category", "source", "media_ref")


def add_entries(conn: Connection, list_id_: int, rows: Sequence[tuple[Any, ...]], batch: int = 20_000) -> int:
    """Insert entries (tuples in ENTRY_COLUMNS order, distinct hashes) the list does not hold yet — the same hash
    again keeps its first entry; returns how many were added. A list's first file goes in bulk (COPY on
    PostgreSQL), a later one through ON CONFLICT DO NOTHING."""
    if not rows:
        return 0
    before = count_entries(conn, list_id_)
    if before == 0:
        insert_rows(conn, hash_list_entries, ENTRY_COLUMNS, list(rows))
        return len(rows)
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(hash_list_entries).on_conflict_do_nothing(index_elements=["list_id", "canonical"])
    for start in range(0, len(rows), batch):
        conn.execute(statement, [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in rows[start : start + batch]])
    return count_entries(conn, list_id_) - before


def add_rejects(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(hash_list_rejects), list(rows))


def summaries(conn: Connection) -> list[dict[str, Any]]:
    """Each list: entries by algorithm, imports, rejected rows, files matched now."""
    out: dict[int, dict[str, Any]] = {}
    for row in conn.execute(select(hash_lists).order_by(hash_lists.c.name)):
        out[row.id] = {
            "name": row.name,
            "created_at": row.created_at.isoformat(),
            "entries": {},
            "imports": 0,
            "rejected": 0,
            "files_matched": 0,
        }
    for list_, algorithm, n in conn.execute(
        select(hash_list_entries.c.list_id, hash_list_entries.c.algorithm, func.count()).group_by(
            hash_list_entries.c.list_id, hash_list_entries.c.algorithm
        )
    ):
        out[list_]["entries"][algorithm] = int(n)
    for list_, n, rejected in conn.execute(
        select(hash_list_imports.c.list_id, func.count(), func.sum(hash_list_imports.c.rejected)).group_by(
            hash_list_imports.c.list_id
        )
    ):
        out[list_]["imports"] = int(n)
        out[list_]["rejected"] = int(rejected or 0)
    sql = "SELECT list_id, COUNT(*) FROM (SELECT DISTINCT list_id, report_id, file_ordinal FROM hash_list_matches) m "
    for list_, n in conn.execute(text(sql + "GROUP BY list_id")):
        out[list_]["files_matched"] = int(n)
    return list(out.values())


def rejects_of(conn: Connection, name: str, limit: int = 500) -> list[dict[str, Any]]:
    sql = (
        select(
            hash_list_rejects.c.source_name,
            hash_list_rejects.c.line,
            hash_list_rejects.c.field,
            hash_list_rejects.c.message,
        )
        .join(hash_list_imports, hash_list_imports.c.id == hash_list_rejects.c.import_id)
        .join(hash_lists, hash_lists.c.id == hash_list_imports.c.list_id)
        .where(hash_lists.c.name == name)
        .order_by(hash_list_rejects.c.id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(sql)]


# -- matches ---------------------------------------------------------------------------------------------------
def fingerprint(conn: Connection) -> str:
    """What the matches were computed from: changes when a file hash or a list entry is added or replaced."""
    files = conn.execute(text(f"SELECT MAX(o.id), COUNT(*) {FILE_HASHES_SQL}")).one()
    entries = conn.execute(select(func.max(hash_list_entries.c.id), func.count()).select_from(hash_list_entries)).one()
    return f"files {files[0]}/{files[1]}; entries {entries[0]}/{entries[1]}"


def has_entries(conn: Connection) -> bool:
    return conn.execute(select(hash_list_entries.c.id).limit(1)).first() is not None


def clear_matches(conn: Connection) -> None:
    conn.execute(hash_list_matches.delete())


def add_exact_matches(conn: Connection) -> int:
    """Every current file hash equal to a listed one: one set join in SQL (PDQ is matched by distance instead)."""
    sql = (
        "INSERT INTO hash_list_matches (report_id, file_ordinal, entry_id, file_hash, list_id, distance) "
        "SELECT o.report_id, o.file_ordinal, e.id, MIN(o.canonical), e.list_id, 0 "
        "FROM identifier_observations o JOIN hash_list_entries e ON e.canonical = o.canonical "
        "WHERE o.kind = 'file_hash' AND o.is_current AND o.file_ordinal IS NOT NULL AND e.algorithm <> 'pdq' "
        "GROUP BY o.report_id, o.file_ordinal, e.id, e.list_id"
    )
    return int(conn.execute(text(sql)).rowcount or 0)


def file_pdq_hashes(conn: Connection) -> list[tuple[int, int, str]]:
    """(report, file ordinal, canonical) of every current PDQ file hash."""
    sql = f"SELECT DISTINCT o.report_id, o.file_ordinal, o.canonical {FILE_HASHES_SQL} AND o.canonical LIKE 'pdq:%'"
    return [(int(r), int(f), str(c)) for r, f, c in rows_of(conn, sql)]


def bank_pdq(conn: Connection) -> list[tuple[int, int, str]]:
    """(entry id, list id, canonical) of every listed PDQ hash."""
    sql = "SELECT id, list_id, canonical FROM hash_list_entries WHERE algorithm = 'pdq'"
    return [(int(i), int(list_), str(c)) for i, list_, c in rows_of(conn, sql)]


def add_near_matches(conn: Connection, rows: list[tuple[int, int, int, str, int, int]]) -> None:
    """(report, file ordinal, entry id, file hash, list id, distance) rows."""
    insert_rows(
        conn, hash_list_matches, ("report_id", "file_ordinal", "entry_id", "file_hash", "list_id", "distance"), rows
    )


# every match, in the order that decides which list names a file (also what the Spark linking engine reads)
MATCHED_FILES_SQL = (
    "SELECT m.report_id, m.file_ordinal, l.name, e.category, e.source, m.distance, e.canonical "
    "FROM hash_list_matches m JOIN hash_list_entries e ON e.id = m.entry_id JOIN hash_lists l ON l.id = m.list_id "
    "ORDER BY m.report_id, m.file_ordinal, l.name, m.distance, e.canonical"
)


def matched_files(conn: Connection) -> list[tuple[int, int, str, str | None, str | None, int, str]]:
    """(report, file ordinal, list name, category, source, distance, listed hash) for every match."""
    return list(rows_of(conn, MATCHED_FILES_SQL))


def matches_of_report(conn: Connection, report_id: int) -> list[dict[str, Any]]:
    sql = text(
        "SELECT m.file_ordinal, m.file_hash, l.name AS list, e.canonical AS listed, e.category, e.source, "
        "e.media_ref, m.distance FROM hash_list_matches m JOIN hash_list_entries e ON e.id = m.entry_id "
        "JOIN hash_lists l ON l.id = m.list_id WHERE m.report_id = :report "
        "ORDER BY m.file_ordinal, l.name, m.distance, e.canonical"
    )
    return [dict(row._mapping) for row in conn.execute(sql, {"report": report_id})]


def lists_with_entries(conn: Connection) -> int:
    return int(conn.execute(select(func.count(hash_list_entries.c.list_id.distinct()))).scalar_one())
