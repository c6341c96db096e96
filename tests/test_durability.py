"""One transaction: a reader never sees half a corpus, and a killed ingest leaves the previous corpus whole."""

from __future__ import annotations

import os
import runpy
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CONTENT, ROOT, ingest_json

pytestmark = pytest.mark.slow


def _snapshot(db_path: Path) -> dict[str, object]:
    with sqlite3.connect(db_path) as conn:
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "articles": conn.execute("SELECT slug, fingerprint FROM article ORDER BY slug").fetchall(),
            "claims": conn.execute("SELECT claim_id, state_base FROM claim ORDER BY claim_id").fetchall(),
            "sources": conn.execute("SELECT count(*) FROM source").fetchone()[0],
            "version": conn.execute("SELECT version FROM corpus").fetchone()[0],
        }


def test_sigkill_halfway_through_a_large_ingest_leaves_the_previous_corpus(corpus_dir: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "garden.db"
    db_url = f"sqlite:///{db_path}"
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    before = _snapshot(db_path)

    generate = runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"]
    generate(corpus_dir, tmp_path / "large", 3000)
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(tmp_path / "large")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = db_path.with_name("garden.db-wal")
    deadline = time.monotonic() + 120
    # The write transaction spills pages into the WAL as it goes; 8 MB in is well before the commit.
    while time.monotonic() < deadline and process.poll() is None:
        if wal.exists() and wal.stat().st_size > 8 * 1024 * 1024:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the ingest finished before it could be killed halfway"
    process.send_signal(signal.SIGKILL)
    process.wait()

    after = _snapshot(db_path)
    assert after == before
    assert after["integrity"] == "ok"
    # And the database still takes the next ingest.
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0
    assert report["articles"]["unchanged"] == len(before["articles"])  # type: ignore[arg-type]


def test_a_reader_sees_the_old_corpus_or_the_new_one_never_half(corpus_dir: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "garden.db"
    db_url = f"sqlite:///{db_path}"
    assert ingest_json(CONTENT, db_url=db_url)[0] == 0
    before = _snapshot(db_path)
    generate = runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"]
    generate(corpus_dir, tmp_path / "large", 1500)
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(tmp_path / "large")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    seen: set[tuple[int, int, int]] = set()
    with sqlite3.connect(db_path, timeout=30) as conn:
        while process.poll() is None:
            conn.execute("BEGIN")  # one snapshot for the three counts
            seen.add(tuple(conn.execute(  # type: ignore[arg-type]
                "SELECT (SELECT count(*) FROM article), (SELECT count(*) FROM claim),"
                " (SELECT version FROM corpus)").fetchone()))  # fmt: skip
            conn.execute("COMMIT")
            time.sleep(0.01)
    assert process.returncode == 0
    after = _snapshot(db_path)
    old = (len(before["articles"]), len(before["claims"]), before["version"])  # type: ignore[arg-type]
    new = (len(after["articles"]), len(after["claims"]), after["version"])  # type: ignore[arg-type]
    assert new[0] == old[0] + 1500
    assert seen <= {old, new}, seen - {old, new}
    assert old in seen  # the reader really did read while the ingest ran
