"""One transaction: a reader never sees half a corpus, and a killed ingest leaves the previous corpus whole."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from app.db import make_engine
from tests.conftest import CONTENT, ROOT, ingest_json, sql_rows

pytestmark = pytest.mark.slow


def _snapshot(db_url: str) -> dict[str, object]:
    return {
        "integrity": sql_rows(db_url, "PRAGMA integrity_check")[0][0] if db_url.startswith("sqlite") else "ok",
        "articles": sql_rows(db_url, "SELECT slug, fingerprint FROM article ORDER BY slug"),
        "claims": sql_rows(db_url, "SELECT claim_id, state_base FROM claim ORDER BY claim_id"),
        "sources": sql_rows(db_url, "SELECT count(*) FROM source")[0][0],
        "version": sql_rows(db_url, "SELECT version FROM corpus")[0][0],
    }


def _processes_naming(path: Path) -> list[int]:
    """The live processes whose command line names ``path`` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:  # a zombie has ended; only its parent's wait() is missing
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _writing(db_url: str) -> bool:
    """Whether an ingest's write transaction is well under way (and far from its commit)."""
    if db_url.startswith("sqlite"):
        # The write transaction spills pages into the WAL as it goes; 8 MB in is well before the commit.
        wal = Path(f"{make_url(db_url).database}-wal")
        return wal.exists() and wal.stat().st_size > 8 * 1024 * 1024
    inserting = sql_rows(
        db_url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND xact_start IS NOT NULL AND (query LIKE 'COPY %' OR query LIKE 'INSERT INTO claim %')",
    )
    return bool(inserting[0][0])


def test_sigkill_halfway_through_a_large_ingest_leaves_the_previous_corpus(tmp_path: Path, db_url: str) -> None:
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    before = _snapshot(db_url)

    generate = runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"]
    generate(CONTENT / "articles", tmp_path / "large", 3000)  # copies of content/, under other slugs
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(tmp_path / "large")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and not _writing(db_url):
        time.sleep(0.02)
    assert process.poll() is None, "the ingest finished before it could be killed halfway"
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Its parse workers (3,000 articles are parsed on every core) end with it, rather than wait for ever.
    deadline = time.monotonic() + 10
    while _processes_naming(tmp_path / "large") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_naming(tmp_path / "large") == []

    after = _snapshot(db_url)
    assert after == before
    assert after["integrity"] == "ok"
    # And the database still takes the next ingest.
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0
    assert report["articles"]["unchanged"] == len(before["articles"])  # type: ignore[arg-type]


def test_a_reader_sees_the_old_corpus_or_the_new_one_never_half(tmp_path: Path, db_url: str) -> None:
    assert ingest_json(CONTENT, db_url=db_url)[0] == 0
    before = _snapshot(db_url)
    generate = runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"]
    generate(CONTENT / "articles", tmp_path / "large", 1500)
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
    # Its report lists every finding: into a pipe nobody reads, it would fill the pipe and stop.
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(tmp_path / "large")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    seen: set[tuple[int, ...]] = set()
    engine = make_engine(db_url)  # the app's own engine: one snapshot per transaction, on either database
    try:
        while process.poll() is None:
            with engine.connect() as conn:  # three statements, one transaction
                counts = [
                    conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in ("article", "claim")
                ]
                seen.add((*counts, conn.execute(text("SELECT version FROM corpus")).scalar_one()))
            time.sleep(0.01)
    finally:
        engine.dispose()
    assert process.returncode == 0
    after = _snapshot(db_url)
    old = (len(before["articles"]), len(before["claims"]), before["version"])  # type: ignore[arg-type]
    new = (len(after["articles"]), len(after["claims"]), after["version"])  # type: ignore[arg-type]
    assert new[0] == old[0] + 1500
    assert seen <= {old, new}, seen - {old, new}
    assert old in seen  # the reader really did read while the ingest ran
