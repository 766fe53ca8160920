"""The migrations are the schema: from an empty store they build exactly what `store.tables` declares (Alembic's own
autogenerate comparison finds nothing to add), every migration undoes itself down to an empty store, and building
again from there gives the same schema. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, Table, inspect, make_url, select, text

from tipfusion.store.db import MIGRATIONS, current_revision, head_revision, make_engine, upgrade
from tipfusion.store.tables import metadata


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to make the store match the models (nothing, when they agree)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return list(compare_metadata(context, metadata))


def _schema(engine: Engine) -> dict[str, Any]:
    found = inspect(engine)
    return {
        table: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)),
            sorted(str(i["name"]) for i in found.get_indexes(table)),
        )
        for table in sorted(found.get_table_names())
    }


def test_upgrade_downgrade_upgrade_and_the_models_match(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
        built = _schema(engine)
        assert set(metadata.tables) <= set(built)

        _downgrade(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert inspect(engine).get_view_names() == []

        upgrade(engine)
        assert _differences(engine) == []
        assert _schema(engine) == built
    finally:
        engine.dispose()


def _full_schema(engine: Engine, schema_name: str) -> dict[str, Any]:
    """Every table's columns (with defaults), keys, indexes and constraints, and every row (after the migrations only
    alembic_version holds one), with the store's own schema name taken out."""
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        found = inspect(conn)
        for table in sorted(found.get_table_names()):
            columns = [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("comment"))
                for c in found.get_columns(table)
            ]
            parts = (
                columns,
                found.get_pk_constraint(table),
                sorted(found.get_foreign_keys(table), key=str),
                sorted(found.get_indexes(table), key=str),
                sorted(found.get_unique_constraints(table), key=str),
                sorted(found.get_check_constraints(table), key=str),
                found.get_table_comment(table) if engine.dialect.name == "postgresql" else None,
                sorted(map(tuple, conn.execute(select(Table(table, MetaData(), autoload_with=conn))).all())),
            )
            tables[table] = repr(parts).replace(f"'{schema_name}'", "SCHEMA").replace(f"{schema_name}.", "SCHEMA.")
    return tables


def test_the_tests_copy_of_a_migrated_store_is_the_store_alembic_builds(engine: Engine, db_url: str) -> None:
    """The `engine` fixture copies a store migrated once per session (tests/conftest.py StoreTemplates) instead of
    running Alembic for every test: the copy must be the very store Alembic builds, on both databases."""
    from tests.conftest import POSTGRES_URL, _in_schema, schema_of

    copied_schema = schema_of(db_url) if "search_path" in db_url else "main"
    if make_url(db_url).get_backend_name() == "sqlite":
        fresh_url, fresh_schema = f"sqlite:///{Path(str(make_url(db_url).database)).with_name('alembic.db')}", "main"
    else:
        fresh_schema = f"tf_fresh_{uuid.uuid4().hex[:10]}"
        fresh_url = _in_schema(fresh_schema)
        with make_engine(POSTGRES_URL).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {fresh_schema}"))
    fresh = make_engine(fresh_url)
    try:
        upgrade(fresh)
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
        assert _full_schema(engine, copied_schema) == _full_schema(fresh, fresh_schema)
    finally:
        fresh.dispose()
        if fresh_schema != "main":
            with make_engine(POSTGRES_URL).begin() as conn:
                conn.execute(text(f"DROP SCHEMA {fresh_schema} CASCADE"))
