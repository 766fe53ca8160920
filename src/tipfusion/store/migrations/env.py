"""Alembic environment: runs on the connection tipfusion hands it (see store.db.upgrade)."""

from __future__ import annotations

from alembic import context

from tipfusion.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - alembic CLI use: build an engine from settings
    from tipfusion.config import load_settings
    from tipfusion.store.db import make_engine

    engine = make_engine(load_settings().database_url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()
