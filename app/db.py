"""The database engine and sessions. Everything dialect-specific about connecting lives here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

from app.settings import get_settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers keep reading the previous corpus while an ingest writes the next one, and a killed
    # ingest leaves uncommitted frames that recovery ignores.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # pysqlite opens transactions only before writes, so two SELECTs could see two corpora. Take BEGIN away
    # from it and emit it on SQLAlchemy's begin (_begin below): every transaction reads one snapshot.
    dbapi_connection.isolation_level = None


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and may be shared across FastAPI's worker threads.

    The pool keeps ``GARDEN_POOL_SIZE`` connections (the app runs that many request threads, app.main), plus as
    many again for streamed feeds, each of which holds one until its last byte; a request that finds none free
    within ``GARDEN_POOL_TIMEOUT`` is answered 503 (app.problems).
    """
    settings = get_settings()
    options: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_size,
        "pool_timeout": settings.pool_timeout,
    }
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            options = {k: v for k, v in options.items() if not k.startswith(("pool_", "max_"))}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
        return engine
    # PostgreSQL: a transaction's reads share one snapshot only from REPEATABLE READ up (READ COMMITTED, the
    # default, takes one per statement, so a list's count and its rows could come from two corpora). Reads
    # never fail under it; ingest writes under READ COMMITTED (app.ingest).
    return create_engine(url, pool_pre_ping=True, isolation_level="REPEATABLE READ", **options)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def tune_for_bulk_write(conn: Connection) -> None:
    """Give a write transaction room: a large SQLite page cache keeps index pages out of the WAL until commit;
    on PostgreSQL no ``statement_timeout`` (one in the URL is meant for the API's reads, not for an ingest or a
    migration, which also waits for the one before it), for this transaction only."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB, this connection only
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for GARDEN_DATABASE_URL."""
    return make_engine(get_settings().database_url)


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def upgrade_to_head(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied; a database already at head is left untouched."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes may start at once (API replicas): one migrates while the others wait on this
            # lock, then find the database at head. READ COMMITTED, so that a waiter sees what it committed.
            connection.execution_options(isolation_level="READ COMMITTED")
            tune_for_bulk_write(connection)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


_MIGRATION_LOCK = 0x6761_7264_656E  # "garden": the advisory lock key migrations take on PostgreSQL
