"""Alembic: an empty database upgrades to head, and the models never drift from the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import upgrade_to_head
from app.fulltext import include_name
from tests.conftest import run_garden


def test_empty_database_upgrades_to_head_with_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"models differ from migrations/; add a migration: {differences}"


def test_upgrade_at_head_is_a_no_op(engine: Engine, db_url: str) -> None:
    before = inspect(engine).get_table_names()
    upgrade_to_head(engine)
    assert inspect(engine).get_table_names() == before


def test_garden_migrate_command(db_url: str) -> None:
    result = run_garden("migrate", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "newest schema" in result.stdout
