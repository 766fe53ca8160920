"""The migrations are the schema: from an empty store they build exactly what `store.tables` declares (Alembic's own
autogenerate comparison finds nothing to add), every migration undoes itself down to an empty store, and building
again from there gives the same schema. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

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
