"""``ingest(engine, paths, …) -> IngestReport``: article files → validated rows → one transaction → tables.

The stages, one module each: **discover** (walk the PATHs: paths and stat signatures, never bytes), **plan**
(what changed against the stored corpus), **prepare** and **rows** (read, validate, derive and build rows, on
every core), **write** (the transaction and each dialect's bulk path) and **report**. Memory does not grow
with the corpus: articles stream from the walk through the workers into the transaction, and what is kept
across the corpus is compact keys (per slug: id, fingerprint, stat signature; the slugs seen).

The policy is DATA-CONTRACT §0:

* nothing is committed before the whole input is read and validated; every error is collected (valid
  articles are written into the open transaction as they come out of validation, so that writing overlaps
  parsing, and a run that may not write rolls that back);
* all or nothing by default; with ``keep_going`` the valid articles are written and each invalid one keeps
  its stored version;
* one transaction, so readers never see half a corpus and a killed run leaves the previous corpus whole;
* idempotent and incremental: input whose stat signature, or else whose bytes, match the stored ones is not
  parsed, and a run that changes nothing writes nothing (the database file keeps its bytes); a changed article
  is replaced whole, and the aggregates are brought up to date from the changed articles alone;
* stored articles missing from the input stay (and are named) unless ``prune``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from app import aggregates, fulltext, models
from app.content.errors import ContentError
from app.ingest import plan
from app.ingest.changes import DEFAULT_RETENTION
from app.ingest.discover import Walk
from app.ingest.prepare import Built, Same, Task, prepare_all
from app.ingest.report import FindingSpool, IngestReport, corpus_counts, diagnostic_totals
from app.ingest.write import ConcurrentIngest, Progress, Writer
from app.models import table

__all__ = ["ConcurrentIngest", "FindingSpool", "IngestReport", "Progress", "ingest", "stored_article_count", "vacuum"]

_ATTEMPTS = 3
#: A run that changes at least this share of the corpus gathers planner statistics again (ANALYZE).
ANALYSE_SHARE = 0.1


def ingest(
    engine: Engine,
    paths: Iterable[Path],
    *,
    today: dt.date,
    dry_run: bool = False,
    keep_going: bool = False,
    prune: bool = False,
    max_file_bytes: int = 8 * 1024 * 1024,
    progress: Progress | None = None,
    findings: FindingSpool | None = None,
    change_retention: int = DEFAULT_RETENTION,
) -> IngestReport:
    """Validate everything under ``paths`` and (unless ``dry_run``) store it in one transaction.

    Ingests into one database take turns: the write transaction locks the corpus row first. A run that finds
    another run committed since it read the stored corpus has written nothing; it starts again from the new
    corpus (up to three times, then :class:`ConcurrentIngest`), so two ingests started together both apply,
    one after the other, as they would one after the other.

    ``findings``, when given, receives the diagnostics of every article the run parses (for listing them after
    the run with app.ingest.report.listed_findings; they are never held in memory). ``change_retention``: how
    many versions the change log keeps (app.ingest.changes).
    """
    run = _Run(engine, list(paths), today, dry_run, keep_going, prune, max_file_bytes, progress)
    run.findings, run.retention = findings, change_retention
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return run.once()
        except ConcurrentIngest:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class _Run:
    def __init__(self, engine: Engine, paths: list[Path], today: dt.date, dry_run: bool, keep_going: bool,
                 prune: bool, max_file_bytes: int, progress: Progress | None) -> None:  # fmt: skip
        self.engine, self.paths, self.today, self.progress = engine, paths, today, progress
        self.dry_run, self.keep_going, self.prune, self.max_bytes = dry_run, keep_going, prune, max_file_bytes
        self.findings: FindingSpool | None = None
        self.retention = DEFAULT_RETENTION

    def once(self) -> IngestReport:
        report = IngestReport(dry_run=self.dry_run)
        walk = Walk(self.paths, self.max_bytes)
        walk.census()
        stored = plan.read_stored(self.engine)
        now = dt.datetime.now(dt.UTC)
        writer = (
            None if self.dry_run else Writer(self.engine, stored.version, now, len(stored.articles), self.retention)
        )
        self.seen: set[str] = set()
        self.unchanged_ids: list[int] = []
        self.done = 0
        fresh: Counter[str] = Counter()
        parse_errors: list[ContentError] = []
        may_write = False
        if self.findings is not None:
            self.findings.reset()
        try:
            for outcome in prepare_all(self._tasks(walk, stored, report), self.today):
                self._tick(walk.total)
                if isinstance(outcome, Built):
                    previous = stored.articles.get(outcome.slug)
                    (report.added if previous is None else report.updated).append(outcome.slug)
                    fresh.update(outcome.severities)
                    if self.findings is not None:
                        self.findings.add(outcome)
                    if writer is not None and (self.keep_going or not (walk.errors or parse_errors)):
                        writer.add(outcome, previous.id if previous else None)
                elif isinstance(outcome, Same):
                    self._unchanged(report, stored.articles[outcome.slug].id, outcome.slug)
                    if writer is not None:
                        writer.restamp(stored.articles[outcome.slug].id, outcome.stat)
                else:
                    parse_errors += outcome.errors
                    walk.invalid_slugs.add(outcome.slug)
            report.errors = walk.errors + parse_errors
            may_write = self._settle(report, walk, stored, writer)
        finally:
            if writer is not None:
                writer.close()  # rolls back anything not committed
        if not may_write and not self.dry_run:  # nothing is written: say so in the counts
            report.missing = report.missing + report.removed
            report.added, report.updated, report.removed = [], [], []
        report.counts, report.corpus_version = corpus_counts(self.engine)
        kept = [stored.articles[slug].id for slug in (*report.invalid, *report.missing) if slug in stored.articles]
        others = kept if report.written else None  # stored, not in this run's valid input
        report.diagnostics = diagnostic_totals(self.engine, fresh, self.unchanged_ids, self.today, others)
        return report

    def _tasks(self, walk: Walk, stored: plan.StoredCorpus, report: IngestReport) -> Iterator[Task]:
        for found in walk.found():
            self.seen.add(found.slug)
            task = plan.task_for(found, stored, self.max_bytes)
            if task is None:
                self._unchanged(report, stored.articles[found.slug].id, found.slug)
                self._tick(walk.total)
            else:
                yield task

    def _unchanged(self, report: IngestReport, article_id: int, slug: str) -> None:
        report.unchanged.append(slug)
        self.unchanged_ids.append(article_id)

    def _tick(self, total: int) -> None:
        self.done += 1
        if self.progress and (self.done % 64 == 0 or self.done == total):
            self.progress("validate", self.done, total)

    def _settle(self, report: IngestReport, walk: Walk, stored: plan.StoredCorpus, writer: Writer | None) -> bool:
        """Name the missing articles, and commit if the run may write; whether it may."""
        report.invalid = sorted(walk.invalid_slugs)
        absent = [slug for slug in stored.articles if slug not in self.seen and slug not in walk.invalid_slugs]
        prune = self.prune
        if prune and walk.unreadable_paths:
            report.notes.append("--prune skipped: " + ", ".join(walk.unreadable_paths) + " could not be read")
            prune = False
        (report.removed if prune else report.missing).extend(sorted(absent))
        may_write = not self.dry_run and (self.keep_going or not report.errors)
        if writer is None or not may_write:
            return may_write
        writer.remove([stored.articles[slug].id for slug in report.removed])
        changed = len(report.added) + len(report.updated) + len(report.removed)
        analyse = changed >= ANALYSE_SHARE * max(1, len(stored.articles) + len(report.added))
        report.written = writer.commit(analyse, self.progress)
        if report.written and analyse:
            try:
                vacuum(self.engine)
            except SQLAlchemyError as error:  # the corpus is committed: say so, and what to run
                report.notes.append(f"VACUUM ANALYZE after the ingest failed ({error.__class__.__name__}); "
                                    "the corpus is stored, but run VACUUM ANALYZE on the database.")  # fmt: skip
        return may_write


def vacuum(engine: Engine) -> None:
    """PostgreSQL, after an ingest that changed a good share of the corpus commits: ``VACUUM (ANALYZE)`` the
    corpus tables, outside any transaction.

    Statistics for the planner, as SQLite's ANALYZE gives; the visibility map, without which no index-only
    scan skips the heap; and the full-text GIN index's pending list merged into the index (until then every
    search reads that list in full: a search of one word took 12 ms instead of 0.4 ms at 1,000 articles).
    Autovacuum gets there in its own time after a small change; readers should not wait for it after a big one.
    """
    if engine.dialect.name != "postgresql":
        return
    from app.ingest.rows import owned_tables

    tables = [*owned_tables(), *aggregates.TABLES]
    names = ", ".join(f'"{owned.name}"' for owned in tables) + f", {fulltext.TABLE}, corpus, list_count, change"
    names += ", webhook_subscription, webhook_delivery, webhook_attempt"  # small: every table has statistics
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("SET statement_timeout = 0")  # a timeout in the URL is for the API's queries
        try:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {names}")
        finally:
            conn.exec_driver_sql("RESET statement_timeout")


def stored_article_count(engine: Engine) -> int:
    """How many articles are stored (0 when the tables do not exist yet)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("article"):
            return 0
        return int(conn.execute(select(func.count()).select_from(table(models.Article))).scalar_one())
