"""Shared fixtures: our content/, the publisher's data in ../shared (skipped with a reason where absent; see the
README's "What the tests need") and fresh databases.

Every test that asks for a database (``db_url``, ``engine``, ``corpus_db``, ``content_db`` or ``databases``)
runs once per backend: on SQLite always, and on PostgreSQL as well when ``GARDEN_TEST_POSTGRES_URL`` names a
server (any database on it: the run creates a database of its own there, ``garden_test_<pid>_<random>``, and
drops it at the end, so that runs never see each other's data). Inside that database each fresh database a
test asks for is a schema of its own, reached through the URL's ``search_path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app.db import make_engine, upgrade_to_head

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GARDEN_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
EXPECTED = CORPUS / "expected"
SEEDS = SHARED / "seeds"
SCHEMAS = SHARED / "schemas"
CONTENT = ROOT / "content"


def need_shared(path: Path) -> Path:
    """``path`` inside ../shared, or skip the test saying what is missing."""
    if not path.exists():
        pytest.skip(f"the publisher's data is not at {path} (tests read it from $GARDEN_SHARED_DIR, else ../shared)")
    return path


@pytest.fixture
def corpus_dir() -> Path:
    return need_shared(CORPUS)


@pytest.fixture
def seeds_dir() -> Path:
    return need_shared(SEEDS)


@pytest.fixture
def expected_dir() -> Path:
    return need_shared(EXPECTED)


POSTGRES_URL = os.environ.get("GARDEN_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


class Databases:
    """Fresh, empty databases on one backend: SQLite files, or schemas of this run's PostgreSQL database."""

    def __init__(self, backend: str, tmp_path_factory: pytest.TempPathFactory, postgres: Engine | None) -> None:
        self.backend, self.tmp_path_factory, self.postgres = backend, tmp_path_factory, postgres
        self.made = 0

    def new(self, name: str = "garden") -> str:
        if self.postgres is None:
            return f"sqlite:///{self.tmp_path_factory.mktemp(name) / 'garden.db'}"
        self.made += 1
        schema = f"{name.replace('-', '_')}_{self.made}"
        with self.postgres.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        # public stays on the path: the run's extensions (pg_trgm, unaccent) live there.
        url = self.postgres.url.update_query_dict({"options": f"-csearch_path={schema},public"})
        return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Engine]:
    """This run's own PostgreSQL database, created at the start and dropped at the end."""
    if not POSTGRES_URL:
        pytest.skip("GARDEN_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"garden_test_{os.getpid()}_{secrets.token_hex(3)}"
    with server.connect() as conn:
        # A linguistic collation (ICU's en-US: case-insensitive first, as most servers are set up) rather than
        # this machine's C.UTF-8, so that any order left to the database's collation shows up as a failure.
        try:
            conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu "
                              "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"))  # fmt: skip
        except DBAPIError:  # PostgreSQL before 15, or built without ICU
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(POSTGRES_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for extension in ("pg_trgm", "unaccent"):
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension} SCHEMA public"))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database engine a test runs on: ``sqlite``, or ``postgresql`` too when GARDEN_TEST_POSTGRES_URL is set."""
    return str(request.param)


@pytest.fixture(scope="session")
def databases(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Databases:
    postgres = request.getfixturevalue("postgres_database") if backend == "postgresql" else None
    return Databases(backend, tmp_path_factory, postgres)


@pytest.fixture
def db_url(databases: Databases) -> str:
    """A fresh, empty database on this test's backend."""
    return databases.new()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def sql_rows(db_url: str, sql: str, **params: object) -> list[tuple]:
    """The rows of one query (``:name`` parameters) on ``db_url``, through a connection of its own."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def stored_state(db_url: str) -> dict[str, str]:
    """A fingerprint of everything stored: on SQLite the sha256 of the file (a WAL holding frames not yet
    checkpointed is a failure); on PostgreSQL an md5 of every row of every table of the database's schema."""
    if db_url.startswith("sqlite"):
        db = Path(make_url(db_url).database or "")
        wal = db.with_name(db.name + "-wal")
        pending = wal.stat().st_size if wal.exists() else 0
        assert pending == 0, f"{wal} holds {pending} bytes of WAL frames not checkpointed"
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (db, wal) if path.exists()}
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            digest = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{}\" t"
            return {
                name: conn.execute(text(digest.format(name))).scalar_one() for name in inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


def run_garden(
    *args: str, db_url: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``garden`` command line in a subprocess against ``db_url``."""
    environment = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def ingest_json(*paths: Path | str, db_url: str, flags: tuple[str, ...] = ()) -> tuple[int, dict]:
    """``garden ingest --json`` over ``paths``: (exit code, the parsed report)."""
    result = run_garden("ingest", "--json", *flags, *map(str, paths), db_url=db_url)
    try:
        return result.returncode, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON report; stdout={result.stdout!r} stderr={result.stderr[-2000:]!r}") from None


@contextmanager
def app_statements() -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block (apart from the ``BEGIN`` app.db issues on
    SQLite), for tests that pin how many queries an answer costs."""
    from sqlalchemy import event

    from app.db import get_engine

    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement != "BEGIN":
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def api_client(db_url: str, *, lane: bool = True, **env: str) -> Iterator[TestClient]:
    """A TestClient on a fresh app reading ``db_url``; ``env`` sets GARDEN_* settings (e.g. PREVIEW_TOKEN);
    ``lane=False`` leaves every request to FastAPI (app.lane)."""
    from app.db import get_engine
    from app.main import create_app
    from app.settings import get_settings

    saved = dict(os.environ)
    os.environ.update({"GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", **env})
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with TestClient(create_app(lane=lane)) as client:
            yield client
    finally:
        get_engine().dispose()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        get_engine.cache_clear()


@pytest.fixture(scope="session")
def corpus_db(databases: Databases) -> str:
    """A database holding the publisher's corpus, ingested once per test session and backend (read-only use)."""
    need_shared(CORPUS)
    db_url = databases.new("corpus")
    code, report = ingest_json(CORPUS, db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


@pytest.fixture(scope="session")
def content_db(databases: Databases) -> str:
    """A database holding our sample content/, ingested once per test session and backend (read-only use)."""
    db_url = databases.new("content")
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


def after_reingest(client: TestClient, path: str, version: int, **kwargs: object) -> httpx.Response:
    """GET ``path`` once the app serves a corpus newer than ``version``: at once on SQLite, within the corpus
    watch's 0.25 s poll on PostgreSQL (an older, whole, cached answer may be served until then)."""
    deadline = time.monotonic() + 5
    while True:
        response = client.get(path, **kwargs)  # type: ignore[arg-type]
        if int(response.headers.get("x-corpus-version", 0)) > version or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(db_url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """``garden serve`` on a free port in a subprocess until the block ends; yields its base URL."""
    port = free_port()
    environment = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", **(env or {})}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"garden serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"garden serve did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
