"""Shared fixtures: the publisher's data in ../shared (skipped with a reason where absent) and fresh databases."""

from __future__ import annotations

import json
import os
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
from sqlalchemy import Engine

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
        pytest.skip(f"the publisher's data is not at {path} (tests read it from ../shared beside the checkout)")
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


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'garden.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    yield engine
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
def api_client(db_url: str, **env: str) -> Iterator[TestClient]:
    """A TestClient on a fresh app reading ``db_url``; ``env`` sets GARDEN_* settings (e.g. PREVIEW_TOKEN)."""
    from app.db import get_engine
    from app.main import create_app
    from app.settings import get_settings

    saved = dict(os.environ)
    os.environ.update({"GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", **env})
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        get_engine().dispose()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        get_engine.cache_clear()


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding the publisher's corpus, ingested once per test session (read-only use)."""
    need_shared(CORPUS)
    db_url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'garden.db'}"
    code, report = ingest_json(CORPUS, db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


@pytest.fixture(scope="session")
def content_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding our sample content/, ingested once per test session (read-only use)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('content') / 'garden.db'}"
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


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
