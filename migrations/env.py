"""Alembic environment: the URL comes from app settings (or the caller's connection), the metadata from app.models.

Unlike a migration, this file may import the live app: it is Alembic's configuration, and autogenerate
compares the database with today's models. It runs from the installed package (app.migrations) as well as
from a checkout (``alembic`` at the repository root reads alembic.ini).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  - registers every table on SQLModel.metadata
from app.db import make_engine
from app.fulltext import include_name
from app.settings import get_settings

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.attributes.get("url") or get_settings().database_url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    # render_as_batch: SQLite can only ALTER a table by copying it; batch mode does that for later migrations.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,  # the full-text index is made by hand (app.fulltext)
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
