"""What ``garden serve`` does with GARDEN_CONTENT_DIR besides serving the database.

* **The first load.** An empty database is loaded from GARDEN_CONTENT_DIR before the server listens. When that
  fails, a SQLite database file this run created is removed again (never one that existed before, never a
  PostgreSQL database), and the message names GARDEN_CONTENT_DIR and its path.
* **The start-up check** (without ``--watch``). A database that holds articles is served as it is; in the
  background, a dry-run ingest of GARDEN_CONTENT_DIR compares the files with the stored corpus and the log says
  whether they differ. That walk compares stat signatures (and, where they moved, fingerprints); it parses only
  new or changed articles. It runs in a process of its own after the server starts, so it never delays the
  start: over 50,000 unchanged articles it costs about what a one-article ingest costs without its write (a
  whole one-article run took 2.0 s at 50,000 articles, README "Measured"; the check was not measured on its own).
* **``--watch``.** GARDEN_CONTENT_DIR is ingested as the server starts and again whenever a file under it
  changes (watchfiles, which uvicorn installs; editors' swap files and ``.git`` are ignored). Each run is an
  ordinary ``garden ingest`` in a process of its own: all or nothing, one transaction, so requests keep getting
  the previous corpus until it commits, and an invalid edit leaves it in place; the log says what each run did
  and lists the errors. Stored articles whose files were deleted are kept (as ``garden ingest`` keeps them;
  ``garden ingest --prune`` removes them): the database may hold more than this one directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from app.cli_output import diagnostic_counts, plural
from app.ingest import IngestReport

log = logging.getLogger("uvicorn.error")


def created_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file ``database_url`` names when it does not exist yet (connecting will create it), else None:
    None for PostgreSQL, for an in-memory database and for a file that is already there."""
    url = make_url(database_url)
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path


def remove_database_file(path: Path) -> None:
    """Remove a SQLite database file and its write-ahead log, shared memory and rollback journal."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def start(content_dir: Path, watch: bool) -> threading.Thread:
    """In the background: with ``watch``, ingest ``content_dir`` now and on every change; else check once."""
    target = _watch if watch else _run_child
    thread = threading.Thread(target=target, args=(content_dir,) if watch else ("check",), daemon=True,
                              name="content-watch" if watch else "content-check")  # fmt: skip
    thread.start()
    return thread


def _run_child(mode: str) -> int:
    """``python -m app.serve_content MODE`` (same environment); its log lines go to the server's log."""
    return subprocess.run([sys.executable, "-m", "app.serve_content", mode, str(os.getpid())], check=False).returncode


def _watch(content_dir: Path) -> None:
    """Ingest once the watcher runs (so that no change between the two is missed), then after every change."""
    import watchfiles

    caught_up = False
    try:
        for changes in watchfiles.watch(content_dir, raise_interrupt=False, yield_on_timeout=True, rust_timeout=500):
            if changes:
                log.info("GARDEN_CONTENT_DIR changed (%s); ingesting it again", plural(len(changes), "file"))
            elif caught_up:
                continue
            caught_up = True
            _run_child("ingest")
    except (OSError, RuntimeError) as exc:  # the directory went away or cannot be watched
        log.error("Watching GARDEN_CONTENT_DIR (%s) stopped: %s", content_dir, exc)


# --- the child process ----------------------------------------------------------------------------------------


def _main(mode: str, parent: int) -> int:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the process ends when it is done
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # garden serve ended before the signal was asked for
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    from app.db import get_engine
    from app.ingest import ingest
    from app.settings import get_settings

    settings = get_settings()
    where = f"GARDEN_CONTENT_DIR ({settings.content_dir})"
    if mode == "check" and not settings.content_dir.exists():
        log.info("%s does not exist: the stored corpus was not compared with it.", where)
        return 0
    engine = get_engine()
    started = time.perf_counter()
    try:
        report = ingest(engine, [settings.content_dir], today=settings.effective_today(), dry_run=mode == "check",
                        max_file_bytes=settings.max_file_bytes, change_retention=settings.change_retention)  # fmt: skip
    except Exception:
        log.exception("Ingesting %s failed", where)
        return 1
    finally:
        engine.dispose()
    took = f"{time.perf_counter() - started:.1f} s"
    if mode == "check":
        _log_check(report, where, took)
    else:
        _log_ingest(report, where, took)
    return 0 if report.ok else 1


def _log_check(report: IngestReport, where: str, took: str) -> None:
    differs = [f"{len(report.added):,} new", f"{len(report.updated):,} changed", f"{len(report.invalid):,} invalid",
               f"{len(report.missing):,} stored but not in it"]  # fmt: skip
    if report.added or report.updated or report.invalid or report.missing:
        log.warning("The stored corpus differs from the files in %s: %s articles. `garden ingest` loads them "
                    "(`garden serve --watch` does it as they change). Checked in %s.",
                    where, ", ".join(differs), took)  # fmt: skip
    else:
        log.info("The stored corpus matches %s (%s; checked in %s).", where, plural(len(report.unchanged), "article"),
                 took)  # fmt: skip


def _log_ingest(report: IngestReport, where: str, took: str) -> None:
    if not report.ok:
        log.error("%s did not ingest (%s, %s): nothing was written; still serving corpus version %d.",
                  where, plural(len(report.errors), "error"), plural(len(report.invalid), "invalid article"),
                  report.corpus_version)  # fmt: skip
        for error in report.errors:
            log.error("%s: %s: %s", error.file, error.field, error.message)
        return
    done = ", ".join(f"{len(getattr(report, name)):,} {name}" for name in ("added", "updated", "unchanged"))
    version = f"now serving corpus version {report.corpus_version}" if report.written else "nothing changed"
    log.info("Ingested %s in %s: %s; %s. Diagnostics: %s.", where, took, done, version, diagnostic_counts(report))
    if report.missing:
        log.info("Kept, not in %s (`garden ingest --prune` removes them): %s", where, ", ".join(report.missing))


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], int(sys.argv[2])))
