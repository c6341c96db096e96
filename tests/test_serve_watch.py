"""``garden serve --watch`` re-ingests GARDEN_CONTENT_DIR as its files change, and keeps serving the previous
corpus when an edit is invalid; without ``--watch``, a restart over changed files says so in the log (issue 15,
item 9). The server runs for real, in a subprocess on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import CONTENT, ROOT, free_port, run_garden

SLUG = "pollinator-corridors"
TITLE = '"title": "Pollinator Corridors"'


@contextmanager
def serving(content: Path, database: Path, log: Path, *flags: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": f"sqlite:///{database}", "GARDEN_CONTENT_DIR": str(content),
           "GARDEN_TODAY": "2026-11-22"}  # fmt: skip
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(base, process), f"garden serve to answer:\n{log.read_text()}", 60)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(base: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        pytest.fail(f"garden serve exited with {process.returncode}")
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(done: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def title(base: str) -> str:
    return str(httpx.get(f"{base}/articles/{SLUG}", timeout=5).json()["title"])


@pytest.fixture
def content(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def artifact(content: Path) -> Path:
    return next(content.glob(f"articles/*/{SLUG}/artifact.json"))


def test_watch_serves_an_edit_and_keeps_the_corpus_when_an_edit_is_invalid(content: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(content, tmp_path / "garden.db", log, "--watch") as base:
        assert title(base) == "Pollinator Corridors"
        wait_for(lambda: "Ingested GARDEN_CONTENT_DIR" in log.read_text(), "the watch's first ingest")
        path = artifact(content)
        path.write_text(path.read_text("utf-8").replace(TITLE, '"title": "Corridors for Pollinators"'), "utf-8")
        wait_for(lambda: title(base) == "Corridors for Pollinators", f"the new title:\n{log.read_text()}")
        assert "1 updated" in log.read_text()

        path.write_text(path.read_text("utf-8").replace('"maturity": "sprout"', '"maturity": "ripe"'), "utf-8")
        wait_for(lambda: "did not ingest" in log.read_text(), f"the invalid edit in the log:\n{log.read_text()}")
        text = log.read_text()
        assert f"{path}: maturity: " in text
        assert title(base) == "Corridors for Pollinators"  # the previous corpus, still served
        assert httpx.get(f"{base}/articles/{SLUG}", timeout=5).json()["maturity"] == "sprout"


def test_a_restart_over_changed_files_says_so_in_the_log(content: Path, tmp_path: Path) -> None:
    database = tmp_path / "garden.db"
    assert run_garden("ingest", str(content), db_url=f"sqlite:///{database}").returncode == 0
    path = artifact(content)
    path.write_text(path.read_text("utf-8").replace(TITLE, '"title": "Corridors for Pollinators"'), "utf-8")
    log = tmp_path / "serve.log"
    with serving(content, database, log) as base:
        wait_for(lambda: "The stored corpus" in log.read_text(), f"the start-up check:\n{log.read_text()}")
        assert "The stored corpus differs from the files in GARDEN_CONTENT_DIR" in log.read_text()
        assert "0 new, 1 changed, 0 invalid" in log.read_text()
        assert title(base) == "Pollinator Corridors"  # served as stored; nothing is loaded behind the user's back
    assert run_garden("ingest", str(content), db_url=f"sqlite:///{database}").returncode == 0
    with serving(content, database, log) as base:
        wait_for(lambda: "The stored corpus" in log.read_text(), f"the start-up check:\n{log.read_text()}")
        assert "The stored corpus matches GARDEN_CONTENT_DIR" in log.read_text()
