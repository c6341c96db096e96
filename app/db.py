"""The database engine and sessions. Everything dialect-specific about connecting lives here."""

from __future__ import annotations

import math
import os
import socket
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from app.deadline import Guard, current_guard
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


#: Seconds after which a PostgreSQL connection back from a request is pinged again at its next checkout.
PING_AFTER = 10.0


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and may be shared across FastAPI's worker threads.

    The pool keeps a connection for each request slot (``GARDEN_POOL_SIZE`` plus ``GARDEN_HEAVY_REQUESTS``,
    app.main), plus as many again for the MCP server's sessions. Requests never wait on the pool itself: they
    wait for a slot, for at most ``GARDEN_POOL_TIMEOUT`` (app.http.get_context).
    """
    settings = get_settings()
    slots = settings.pool_size + settings.heavy_requests
    options: dict[str, Any] = {
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
        "pool_size": slots,
        "max_overflow": slots,
        "pool_timeout": settings.pool_timeout,
    }
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            options = {k: v for k, v in options.items() if not k.startswith(("pool_", "max_"))}
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin)
    else:
        # PostgreSQL: a transaction's reads share one snapshot only from REPEATABLE READ up (READ COMMITTED, the
        # default, takes one per statement, so a list's count and its rows could come from two corpora). Reads
        # never fail under it; ingest writes under READ COMMITTED (app.ingest).
        connect_args = client_timeouts(make_url(url), settings.request_timeout)
        engine = create_engine(url, isolation_level="REPEATABLE READ", connect_args=connect_args, **options)
    guard_checkouts(engine, settings.request_timeout)
    return engine


def client_timeouts(url: URL, request_timeout: float) -> dict[str, Any]:
    """libpq's client-side limits, for those the URL does not set: a server that does not answer the connection
    (``connect_timeout``), a peer that is gone (TCP keepalives, ``tcp_user_timeout``) ends in an error, not a
    hang. They cannot see a server that is up but stopped (its kernel still acknowledges every packet): the
    request's guard aborts those connections (app.deadline)."""
    wanted: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(request_timeout)),  # whole seconds; libpq takes 2 at least
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": math.ceil(request_timeout * 1000),
    }
    return {name: value for name, value in wanted.items() if name not in url.query}


def guard_checkouts(engine: Engine, request_timeout: float) -> None:
    """Bind the connections a request checks out to its deadline (its ``Guard``, app.deadline).

    A request's connection is recorded in its guard until it is checked in, so that the guard can abort it; on
    SQLite a progress handler interrupts any statement still running past the deadline. On PostgreSQL every
    checkout of a used connection pings it (as ``pool_pre_ping`` would: a dead one is replaced), after
    recording it, so that even a ping on a frozen server can be aborted; a request's ping is ``SET
    statement_timeout`` to the request timeout, so that the server also stops any statement the request has
    stopped waiting for. Connections used outside requests (ingest, migrations) get the server's default back.

    A connection a request gave back less than :data:`PING_AFTER` seconds ago, with the request timeout still
    set, is not pinged again (issue 13: the ping was one of about nine round trips per request). A server that
    went away in those seconds fails the request's first statement instead: a 503 with ``Retry-After``
    (app.problems), and SQLAlchemy discards the pool's connections, so that the retry connects afresh.
    """
    postgres = engine.dialect.name == "postgresql"
    abort = _abort_postgres if postgres else _abort_sqlite
    timeout_ms = math.ceil(request_timeout * 1000)

    def connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["fresh"] = True

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        fresh = record.info.pop("fresh", False)
        guard = current_guard.get()
        if guard is not None:
            guard.hold(dbapi_connection, abort)
            record.info["guard"] = guard
            if not postgres:
                dbapi_connection.set_progress_handler(guard.past, 10_000)
        if not postgres:
            return
        if guard is not None:
            if record.info.get("api") and time.monotonic() - record.info.get("returned", 0.0) < PING_AFTER:
                return  # set for a request moments ago: the ping would cost a round trip and earn little
            record.info["api"] = True
            # No parallel workers: a parallel scan returns rows in no fixed order, and a search's window (the
            # first documents the index yields, app.fulltext.query) must be the same on every page.
            statement = (f"SELECT set_config('statement_timeout', '{timeout_ms}', false), "
                         "set_config('max_parallel_workers_per_gather', '0', false)")  # fmt: skip
        elif record.info.pop("api", False):
            statement = "SELECT " + ", ".join(
                f"set_config('{name}', (SELECT reset_val FROM pg_settings WHERE name = '{name}'), false)"
                for name in ("statement_timeout", "max_parallel_workers_per_gather")
            )  # both back to what RESET gives
        elif not fresh:
            statement = "SELECT 1"
        else:
            return
        try:
            _autocommit_execute(dbapi_connection, statement)
        except engine.dialect.loaded_dbapi.Error as error:
            _release(dbapi_connection, record)
            if guard is not None and guard.past():
                raise  # the request was answered already: no new connection for it
            raise DisconnectionError(f"the connection failed its ping: {error}") from error

    def checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned"] = time.monotonic()
        if _release(dbapi_connection, record) and not postgres and dbapi_connection is not None:
            dbapi_connection.set_progress_handler(None, 0)

    event.listen(engine, "connect", connect)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)


def _release(dbapi_connection: Any, record: ConnectionPoolEntry) -> bool:
    """Forget the request that held the connection; whether one did."""
    guard: Guard | None = record.info.pop("guard", None)
    if guard is not None:
        guard.drop(dbapi_connection)
    return guard is not None


def _autocommit_execute(dbapi_connection: Any, statement: str) -> None:
    """One statement outside any transaction (as SQLAlchemy's psycopg ping runs), so that a ``SET`` persists."""
    before = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute(statement)
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = before


def _abort_postgres(dbapi_connection: Any) -> None:
    """Shut the connection's socket down: a thread blocked reading it wakes up to an error at once (a psycopg
    wait polls the socket), and the pool discards the connection. ``shutdown`` acts on the socket, not on this
    duplicate of its descriptor, and may be called from any thread."""
    duplicate = socket.socket(fileno=os.dup(dbapi_connection.pgconn.socket))
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    finally:
        duplicate.close()


def _abort_sqlite(dbapi_connection: Any) -> None:
    dbapi_connection.interrupt()  # sqlite3's one call that is safe from another thread


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def tune_for_bulk_write(conn: Connection) -> None:
    """Give a write transaction room: a larger SQLite page cache keeps index pages out of the WAL until commit
    (64 MiB: an ingest's memory stays flat, and a first ingest builds its indexes once, at the end);
    on PostgreSQL no ``statement_timeout`` (one in the URL is meant for the API's reads, not for an ingest or a
    migration, which also waits for the one before it), for this transaction only."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-65536")  # 64 MiB, this connection only
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for GARDEN_DATABASE_URL."""
    return make_engine(get_settings().database_url)


def _migrations_dir() -> Path:
    """Where Alembic's scripts are installed: the package ``app.migrations`` (the repository's ``migrations/``,
    which pyproject.toml installs there, in a wheel as in an editable install), found through the import system,
    never by a path relative to this file."""
    try:
        found = resources.files("app.migrations")
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "the package app.migrations is not installed: reinstall garden-api (`pip install .`, or "
            "`pip install -e .` in a checkout) so that its migrations are installed with it"
        ) from error
    return Path(str(found))


#: Alembic's scripts: ``env.py``, ``script.py.mako`` and ``versions/``.
MIGRATIONS_DIR = _migrations_dir()


#: The newest migration's revision (tests/test_migrations.py holds it to Alembic's head). A database that says
#: it is at this revision is left as it is without loading Alembic and its scripts (0.15 s of every ``garden
#: ingest``, most of a one-article run's own work).
SCHEMA_HEAD = "0015"


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is the newest (its ``alembic_version`` row is :data:`SCHEMA_HEAD`)."""
    with engine.connect() as connection:
        try:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        except DBAPIError:  # no such table yet
            return False
        finally:
            connection.rollback()
    return version == [SCHEMA_HEAD]


def upgrade_to_head(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied; a database already at head is left untouched."""
    if at_head(engine):
        return
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
