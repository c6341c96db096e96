"""The data: the synthetic corpus (generated once per size under bench/out), and the databases garden reads,
ingested with the real ``garden ingest``: a SQLite file, and a PostgreSQL database with ``--backends``."""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import OUT, ROOT, BenchError, run_command


@dataclass(frozen=True)
class Backend:
    """A database garden is measured on."""

    name: str  # "sqlite" or "postgresql"
    url: str  # GARDEN_DATABASE_URL (with the password, if any)
    tag: str  # "" when SQLite is the only backend (names, files and report as before), else the name
    database: str = ""  # PostgreSQL: the database, whose server processes' CPU counts as garden's

    @property
    def system(self) -> str:
        """The server's name in the runs and the report: ``garden``, or ``garden (sqlite)``, ``garden (postgresql)``."""
        return f"garden ({self.tag})" if self.tag else "garden"


def ensure_corpus(source: Path, articles: int, rebuild: bool) -> tuple[Path, list[str]]:
    """bench/out/corpus-<N>, generated once (again with ``rebuild``); (its path, a note if it was generated)."""
    corpus = OUT / f"corpus-{articles}"
    marker = corpus / ".http-bench-complete"
    if rebuild:
        marker.unlink(missing_ok=True)
    if marker.exists():
        return corpus, []
    generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
    summary = generate(source, corpus, articles, force=True)
    marker.write_text(json.dumps(summary) + "\n")
    return corpus, [f"generated {articles} articles in {summary['seconds']:.1f} s"]


def garden_ingest(corpus: Path, url: str) -> str:
    """``garden ingest --json`` of ``corpus`` into the database at ``url`` (it migrates first); a summary line.

    It runs every time: an unchanged corpus is only fingerprinted (about a second at 1,000 articles), and a changed
    app migrates and re-derives what it must, so the database always matches the code under test.
    """
    env = {**os.environ, "GARDEN_DATABASE_URL": url}
    started = time.perf_counter()
    result = run_command([sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)], cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(
            f"garden ingest {corpus} into {safe_url(url)} failed after {seconds:.1f} s:\n"
            f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    report = json.loads(result.stdout)
    counts = report["articles"]
    return (
        f"ingest {seconds:.1f} s (added {counts['added']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}); {report['counts']['public_articles']} public articles, "
        f"{report['counts']['public_claims']} public claims"
    )


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_sqlite(corpus: Path, articles: int, rebuild: bool) -> tuple[Path, str]:
    """The corpus ingested into bench/out/http-<N>.db (a new file with ``rebuild``); (its path, a summary line)."""
    db = OUT / f"http-{articles}.db"
    if rebuild:
        for leftover in OUT.glob(f"http-{articles}.db*"):
            leftover.unlink()
    summary = garden_ingest(corpus, f"sqlite:///{db}")
    return db, f"{summary}; database {db.stat().st_size / 1e6:.0f} MB"


@contextmanager
def postgres(url: str) -> Iterator[Any]:
    """A connection (autocommit) to the PostgreSQL database at ``url``; a failure is a BenchError."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as error:
        raise BenchError(f"PostgreSQL at {safe_url(url)}: {error}") from None
    finally:
        engine.dispose()


def postgres_vacuum_state(url: str) -> str:
    """Whether autovacuum is on and how many of the database's tables were never vacuumed.

    Until a table is vacuumed its GIN indexes (full text, trigrams) keep new entries in their pending list and its
    visibility map is empty, which changes the planner's choices (a seq scan instead of the GIN index) and the cost of
    each query. The ingest does not vacuum; on a server whose autovacuum is off nothing else does.
    """
    from sqlalchemy import text

    with postgres(url) as conn:
        autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
        never, tables, inserted = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE last_vacuum IS NULL AND last_autovacuum IS NULL), count(*), "
                "coalesce(sum(n_ins_since_vacuum), 0) FROM pg_stat_user_tables WHERE n_live_tup > 0"
            )
        ).one()
    return (
        f"autovacuum {autovacuum}; {never} of {tables} tables never vacuumed, {inserted:,} rows inserted since "
        "their last vacuum"
    )


def build_postgres(corpus: Path, articles: int, server_url: str, rebuild: bool, vacuum: bool) -> tuple[str, str, str]:
    """The corpus ingested into the database garden_bench_<N> of the PostgreSQL server at ``server_url``, created if
    missing (dropped and created again with ``rebuild``), then ``VACUUM ANALYZE`` if ``vacuum``; (its name, its URL,
    a summary line)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"garden_bench_{articles}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with postgres(server_url) as conn:
        if rebuild:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        created = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None
        if created:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    summary = ("created; " if created else "") + garden_ingest(corpus, url)
    with postgres(url) as conn:
        if vacuum:
            started = time.perf_counter()
            conn.execute(text("VACUUM ANALYZE"))
            summary += f"; VACUUM ANALYZE {time.perf_counter() - started:.1f} s (--postgres-vacuum)"
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return name, url, f"{summary}; database {size / 1e6:.0f} MB; {postgres_vacuum_state(url)}"


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def given_corpus(args: argparse.Namespace) -> tuple[Path, list[str]] | None:
    """``--corpus DIR``: an existing corpus (a directory holding ``content/articles``, or that one), never written."""
    if getattr(args, "corpus", None) is None:
        return None
    corpus = args.corpus.resolve()
    if not (corpus / "content" / "articles").is_dir() and not (corpus / "articles").is_dir():
        raise BenchError(f"--corpus {args.corpus}: no content/articles there")
    return corpus, [f"corpus {corpus} (given with --corpus)"]


def given_sqlite(args: argparse.Namespace) -> tuple[Path, str] | None:
    """``--sqlite-db FILE``: an existing database used as it is. It is not ingested, so it must already match the
    code under test (migrations included); the report says so."""
    if getattr(args, "sqlite_db", None) is None:
        return None
    db = args.sqlite_db.resolve()
    if not db.is_file():
        raise BenchError(f"--sqlite-db {args.sqlite_db}: no such file")
    return db, f"database {db} used as it is (--sqlite-db, not ingested), {db.stat().st_size / 1e6:,.0f} MB"


def build_databases(args: argparse.Namespace, need_sqlite: bool) -> tuple[list[Backend], Path | None, list[str]]:
    """The corpus ingested into each ``--backends`` database, and into the SQLite file whenever a peer reads it;
    (the backends in round order, the SQLite file or None, the notes for the report). A ``--sqlite-db`` is used as
    it is; the corpus (``--corpus`` or bench/out/corpus-<N>) is only made when a database is to be ingested."""
    notes: list[str] = []
    found: list[Path] = []

    def corpus() -> Path:
        if not found:
            path, said = given_corpus(args) or ensure_corpus(args.source, args.articles, args.rebuild)
            found.append(path)
            notes.extend(said)
        return found[0]

    tagged = args.backend_names != ["sqlite"]
    backends, lines, db = [], [], None
    if "sqlite" in args.backend_names or need_sqlite:
        db, summary = given_sqlite(args) or build_sqlite(corpus(), args.articles, args.rebuild)
        role = "" if "sqlite" in args.backend_names else " (read by the peers only)"
        lines.append(f"SQLite {shown(db)}{role}: {summary}" if tagged else summary)
        if "sqlite" in args.backend_names:
            backends.append(Backend("sqlite", f"sqlite:///{db}", "sqlite" if tagged else ""))
    if "postgresql" in args.backend_names:
        name, url, summary = build_postgres(
            corpus(), args.articles, args.postgres_url, args.rebuild, args.postgres_vacuum
        )
        lines.append(f"PostgreSQL {safe_url(url)}: {summary}")
        backends.append(Backend("postgresql", url, "postgresql", name))
    return backends, db, (notes + lines if tagged else ["; ".join(notes + lines)])
