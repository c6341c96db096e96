"""Alembic: an empty database upgrades to head, and the models never drift from the migrations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import MIGRATIONS_DIR, make_engine, upgrade_to_head
from app.fulltext import include_name
from tests.conftest import ROOT, run_garden


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


def test_no_migration_imports_the_app() -> None:
    """A migration is frozen DDL and SQL: the app's code follows the newest schema, so a migration that
    imported it would create tomorrow's tables at yesterday's revision, or backfill from columns that do not
    exist yet. (migrations/env.py may: it is Alembic's configuration, not a migration.)"""
    imports = {}
    for path in sorted((ROOT / "migrations/versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imports[path.name] = sorted(name for name in names if name == "app" or name.startswith("app."))
    assert imports and {name: found for name, found in imports.items() if found} == {}


def _alembic(engine: Engine, action: str, target: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)


_POSTGRES_SCHEMA = {
    "columns": "SELECT table_name, column_name, data_type, character_maximum_length, collation_name, is_nullable, "
    "column_default, is_generated, generation_expression FROM information_schema.columns "
    "WHERE table_schema = current_schema()",
    "relations": "SELECT relname, relkind FROM pg_class WHERE relnamespace = current_schema()::regnamespace",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE connamespace = current_schema()::regnamespace",
    "text search": "SELECT cfgname FROM pg_ts_config WHERE cfgnamespace = current_schema()::regnamespace",
}


def _schema(engine: Engine) -> dict[str, list[tuple]]:
    """Everything the migrations made, as the database describes it (not the data): on SQLite every entry of
    ``sqlite_master`` with its DDL, shadow tables of FTS5 included; on PostgreSQL the columns with their
    collations and generated expressions, relations, index definitions, constraints and text search
    configurations of the schema. Alembic's own ``alembic_version`` is left out, and SQLite's internal
    ``sqlite_*`` tables (ANALYZE's statistics)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                        "WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'alembic_version'")  # fmt: skip
            return {"sqlite_master": sorted(tuple(row) for row in rows)}
        found = {}
        for name, sql in _POSTGRES_SCHEMA.items():
            rows = [tuple(row) for row in conn.exec_driver_sql(sql)]
            found[name] = sorted(row for row in rows if not str(row[0]).startswith("alembic_version"))
        return found


def test_every_downgrade_reverts_its_upgrade_down_to_base_and_up_again(db_url: str) -> None:
    """Up one revision at a time, noting the schema before each; with the content ingested, down one at a time:
    each downgrade leaves the schema its upgrade started from (0007 on PostgreSQL gives the columns their
    collation back), and at base nothing is left but ``alembic_version``. Up again, the schema is the models'
    and the one the first upgrade made, and the content ingests as before."""
    from tests.conftest import CONTENT, ingest_json

    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    revisions = [script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]
    before: dict[str, dict[str, list[tuple]]] = {}
    for previous, revision in zip(["base", *revisions[:-1]], revisions, strict=True):
        before[previous] = _schema(engine)
        _alembic(engine, "upgrade", revision)
    at_head_first = _schema(engine)
    code, first = ingest_json(CONTENT, db_url=db_url)
    assert code == 0 and first["counts"]["articles"] > 0, first

    for previous, revision in reversed(list(zip(["base", *revisions[:-1]], revisions, strict=True))):
        _alembic(engine, "downgrade", previous)
        assert _schema(engine) == before[previous], f"the downgrade of {revision} left its upgrade's traces"
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert before["base"] == {name: [] for name in before["base"]}

    upgrade_to_head(engine)
    assert _schema(engine) == at_head_first
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()
    code, again = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, again
    assert again["counts"] == first["counts"]


def test_migration_0009_counts_the_lists_as_ingest_does(tmp_path: Path, db_url: str) -> None:
    """0009 fills ``list_count`` with its own SQL, frozen from the rules ingest follows (app.listcounts): on a
    corpus large enough that many values reach the stored minimum, down to before 0009 and up again gives the
    very rows the ingest wrote."""
    import runpy

    from tests.conftest import ingest_json, sql_rows

    runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"](ROOT, tmp_path / "corpus", 100)
    assert ingest_json(tmp_path / "corpus", db_url=db_url)[0] == 0
    counts = "SELECT kind, field, value, rows FROM list_count ORDER BY 1, 2, 3"
    written = sql_rows(db_url, counts)
    assert len({(kind, field) for kind, field, _, _ in written}) > 10, written  # values past the minimum
    engine = make_engine(db_url)
    _alembic(engine, "downgrade", "0008")
    assert "list_count" not in inspect(engine).get_table_names()
    upgrade_to_head(engine)
    engine.dispose()
    assert sql_rows(db_url, counts) == written
