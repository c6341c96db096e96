"""Alembic: an empty database upgrades to head, and the models never drift from the migrations."""

from __future__ import annotations

import pytest
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


def test_every_text_column_orders_by_code_point_on_postgresql(engine: Engine, backend: str) -> None:
    """Migration 0007 gives PostgreSQL's text columns the "C" collation (SQLite's BINARY); a later migration
    adding a column must too, or orders would follow the server's locale."""
    if backend != "postgresql":
        pytest.skip("SQLite compares text by code point (BINARY) unless told otherwise")
    with engine.connect() as conn:
        other = conn.exec_driver_sql(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN ('character varying', 'text') "
            "AND collation_name IS DISTINCT FROM 'C'"
        ).all()
    assert other == []


def test_a_database_upgraded_in_place_searches_as_a_fresh_ingest_does(db_url: str) -> None:
    """The search migrations index what is already stored: down to before them and up again, and /search and
    the q filters answer exactly as they did after the ingest itself indexed the corpus."""
    from alembic import command
    from alembic.config import Config

    from app.db import MIGRATIONS_DIR, make_engine
    from tests.conftest import CONTENT, api_client, ingest_json

    assert ingest_json(CONTENT, db_url=db_url)[0] == 0
    paths = ["/search?q=soil+compost+bees&limit=50", "/claims?q=water", "/articles?q=pollinat"]
    with api_client(db_url) as client:
        before = [client.get(path).json() for path in paths]
    assert before[0]["total"] > 10 and before[1]["total"] > 0 and before[2]["total"] > 0

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")  # before full-text search and the substring indexes
    upgrade_to_head(engine)
    engine.dispose()
    with api_client(db_url) as client:
        assert [client.get(path).json() for path in paths] == before


def test_a_database_upgraded_in_place_gets_the_aggregates_a_fresh_ingest_writes(db_url: str) -> None:
    """Migration 0010 computes /topics and /series from what is stored: down to before it and up again, and
    both answer exactly as they did after the ingest itself wrote them, for anonymous and preview callers."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from app.db import MIGRATIONS_DIR, make_engine
    from tests.conftest import CONTENT, api_client, ingest_json

    assert ingest_json(CONTENT, db_url=db_url)[0] == 0
    paths, bearer = ["/topics", "/series"], {"Authorization": "Bearer t"}
    with api_client(db_url, GARDEN_PREVIEW_TOKEN="t") as client:
        before = [client.get(path, headers=headers).content for path in paths for headers in ({}, bearer)]
    assert all(b'"total":0' not in body for body in before)

    engine = make_engine(db_url)
    heads = "SELECT preview, slug, position, newest_date, member_count, guide_slug FROM series_head ORDER BY 1, 2"
    with engine.connect() as connection:
        stored_heads = connection.execute(text(heads)).all()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, ScriptDirectory.from_config(config).get_revision("0010").down_revision)
        assert not inspect(connection).has_table("topic_count")
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM topic_count")).scalar_one() > 0
        # The head rows themselves, with the newest member date 0013 fills (what later ingests place them by).
        assert connection.execute(text(heads)).all() == stored_heads
        assert all(row.newest_date for row in stored_heads)
    engine.dispose()
    with api_client(db_url, GARDEN_PREVIEW_TOKEN="t") as client:
        assert [client.get(path, headers=headers).content for path in paths for headers in ({}, bearer)] == before


def test_the_schema_head_constant_is_alembics_head(engine: Engine) -> None:
    """``garden ingest`` skips Alembic when the database is at app.db.SCHEMA_HEAD: that must be the newest
    migration, or a database one migration behind would be taken for up to date."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.db import MIGRATIONS_DIR, SCHEMA_HEAD, at_head

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]
    from sqlalchemy import text

    upgrade_to_head(engine)
    assert at_head(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
    assert not at_head(engine)  # one migration behind
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert not at_head(engine)  # never migrated
