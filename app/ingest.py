"""``ingest(engine, paths, …) -> IngestReport``: article files → validated records → one transaction → tables.

The policy is DATA-CONTRACT §0:

* nothing is committed before the whole input is read and validated; every error is collected (valid
  articles are written into the open transaction as they come out of validation, so that writing overlaps
  parsing, and a run that may not write rolls that back);
* all or nothing by default; with ``keep_going`` the valid articles are written and each invalid one keeps
  its stored version;
* one transaction, so readers never see half a corpus and a killed run leaves the previous corpus whole;
* idempotent: input whose fingerprint matches the stored one is not even parsed, and a run that changes
  nothing writes nothing (the database file keeps its bytes); a changed article is replaced whole;
* stored articles missing from the input stay (and are named) unless ``prune``.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import multiprocessing
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Connection, Engine, LargeBinary, Table, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app import aggregates, derive, fulltext, listcounts, models
from app.agent.collation import locale_bytes
from app.content.errors import ContentError, InvalidContent
from app.content.reader import InputArticle, ParsedArticle, discover, parse
from app.content.schema import CONFIDENCE_RANK
from app.db import tune_for_bulk_write
from app.models import table

Progress = Callable[[str, int, int], None]
"""Called as (phase, done, total): phase "validate" per article, then "commit"."""

# Child tables first, so that deleting an article never leaves a dangling row, whatever the dialect.
_OWNED_TABLES: list[Table] = [
    table(models.Evidence),
    table(models.Counterevidence),
    table(models.Claim),
    table(models.Source),
    table(models.ArticleTopic),
    table(models.ArticleTag),
    table(models.ArticleAudience),
    table(models.RelatedLink),
    table(models.ProvenanceReview),
    table(models.ProvenanceAgent),
    table(models.Diagnostic),
    table(models.GraphEdge),
    table(models.ArticleDocument),
    table(models.ArticleKeyword),
    table(models.Article),
]
_ID_TABLES = ("article", "claim", "evidence", "counterevidence", "source", "diagnostic")
_CHUNK = 500
_BATCH_CLAIMS = 5000  # articles are written in batches of about this many claims
_PARSE_CHUNK = 64  # articles per task sent to a worker process
_PARALLEL_FROM = 256  # fewer changed articles than this are prepared in-process
SEARCH = "search"  # the full-text documents, written with the rows (app.fulltext)


@dataclass
class IngestReport:
    """What one run found and did; ``as_json()`` is the ``garden ingest --json`` document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    diagnostics: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0})
    dry_run: bool = False
    written: bool = False
    corpus_version: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": {
                "added": len(self.added),
                "updated": len(self.updated),
                "unchanged": len(self.unchanged),
                "removed": len(self.removed),
                "invalid": len(self.invalid),
            },
            "counts": self.counts,
            "errors": [error.as_dict() for error in self.errors],
            "diagnostics": self.diagnostics,
            "changes": {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
                "missing": self.missing,
                "invalid": self.invalid,
            },
            "dryRun": self.dry_run,
            "corpusVersion": self.corpus_version,
            "notes": self.notes,
        }


class ConcurrentIngest(Exception):
    """Another ingest committed between this run's reading of the stored corpus and its first write."""


_ATTEMPTS = 3


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
) -> IngestReport:
    """Validate everything under ``paths`` and (unless ``dry_run``) store it in one transaction.

    Ingests into one database take turns: the write transaction locks the corpus row first. A run that finds
    another run committed since it read the stored corpus has written nothing; it starts again from the new
    corpus (up to three times, then :class:`ConcurrentIngest`), so two ingests started together both apply,
    one after the other, as they would one after the other.
    """
    paths = list(paths)
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _ingest_once(engine, paths, today, dry_run, keep_going, prune, max_file_bytes, progress)
        except ConcurrentIngest:
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    engine: Engine,
    paths: list[Path],
    today: dt.date,
    dry_run: bool,
    keep_going: bool,
    prune: bool,
    max_file_bytes: int,
    progress: Progress | None,
) -> IngestReport:
    report = IngestReport(dry_run=dry_run)
    found = discover(paths, max_file_bytes)
    report.errors += found.errors
    stored, derivation, seen_version = _stored_articles(engine)

    changed: list[InputArticle] = []
    for article in found.articles:
        previous = stored.get(article.slug)
        if previous is not None and previous[1] == article.fingerprint and derivation == derive.DERIVATION_VERSION:
            report.unchanged.append(article.slug)
            article.raw.clear()  # stored already; no need to hold the bytes
        else:
            changed.append(article)
    present = {a.slug for a in found.articles} | found.invalid_slugs
    absent = sorted(slug for slug in stored if slug not in present)
    if prune and found.unreadable_paths:
        report.notes.append("--prune skipped: " + ", ".join(found.unreadable_paths) + " could not be read")
        prune = False

    # Articles are written as they come out of validation, inside the one transaction, so that writing
    # overlaps parsing; the transaction commits only if the run may write (no error, or keep_going).
    writer = None if dry_run or (report.errors and not keep_going) else _Writer(engine, stored, seen_version, progress)
    severities: list[dict[str, int]] = []
    try:
        for outcome in _prepare_all(changed, today, len(found.articles) - len(changed), progress):
            if isinstance(outcome, Prepared):
                (report.updated if outcome.slug in stored else report.added).append(outcome.slug)
                severities.append(outcome.severities)
                if writer is not None and (keep_going or not report.errors):
                    writer.add(outcome)
            else:
                report.errors += outcome[1]
                found.invalid_slugs.add(outcome[0])
        report.invalid = sorted(found.invalid_slugs)
        absent = [slug for slug in absent if slug not in found.invalid_slugs]
        (report.removed if prune else report.missing).extend(absent)
        may_write = not dry_run and (keep_going or not report.errors)
        if writer is not None and may_write:
            writer.remove(report.removed)
            report.written = writer.commit()
            if report.written:
                try:
                    vacuum(engine)
                except SQLAlchemyError as error:  # the corpus is committed: say so, and what to run
                    report.notes.append(f"VACUUM ANALYZE after the ingest failed ({error.__class__.__name__}); "
                                        "the corpus is stored, but run VACUUM ANALYZE on the database.")  # fmt: skip
    finally:
        if writer is not None:
            writer.close()  # rolls back anything not committed
    if not may_write and not dry_run:  # nothing is written: say so in the counts
        report.added, report.updated, report.removed = [], [], []
        report.missing = absent
    report.counts, report.corpus_version = _corpus_counts(engine)
    report.diagnostics = _diagnostic_totals(engine, severities, report.unchanged, today)
    return report


def _stored_articles(engine: Engine) -> tuple[dict[str, tuple[int, str]], int | None, int]:
    """{slug: (id, fingerprint)}, the stored derivation version and the corpus version (0: none), read in one
    transaction; empty if the tables do not exist yet."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("corpus"):
            return {}, None, 0
        corpus = conn.execute(select(table(models.Corpus).c.derivation, table(models.Corpus).c.version)).first()
        article = table(models.Article)
        rows = conn.execute(select(article.c.id, article.c.slug, article.c.fingerprint))
        articles = {slug: (pk, fingerprint) for pk, slug, fingerprint in rows}
    return articles, corpus.derivation if corpus else None, corpus.version if corpus else 0


class _Writer:
    """The one write transaction of an ingest: opened at the first article to write, committed once at the end.

    Articles are queued as they arrive and written in batches (rows of a replaced article are deleted in the
    same batch, before its new rows). Nothing is visible to readers until ``commit()``; ``close()`` without
    it rolls everything back, as does a killed process.
    """

    def __init__(
        self, engine: Engine, stored: dict[str, tuple[int, str]], seen_version: int, progress: Progress | None
    ) -> None:
        self.engine, self.stored, self.seen_version, self.progress = engine, stored, seen_version, progress
        self.now = dt.datetime.now(dt.UTC)
        self.conn: Connection | None = None
        self.bases: dict[str, int] = {}
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in [t.name for t in _OWNED_TABLES] + [SEARCH]}
        self.replaced: list[int] = []
        self.changed = False
        self.written = 0

    def _open(self) -> Connection:
        if self.conn is not None:
            return self.conn
        conn = self.conn = self.engine.connect()
        if conn.dialect.name != "sqlite":
            # Readers take REPEATABLE READ (app.db); a writer waiting on the corpus row lock must then see the
            # row as the other writer committed it, which READ COMMITTED does (REPEATABLE READ would fail).
            conn.execution_options(isolation_level="READ COMMITTED")
        conn.begin()
        tune_for_bulk_write(conn)  # and lifts a statement_timeout set for the API (PostgreSQL)
        # Bumping the version first takes the write lock (SQLite) or the row lock (PostgreSQL): another ingest
        # waits here until this one ends. One that committed since this run read the stored corpus is seen
        # here, and this run starts again (ingest()).
        corpus = table(models.Corpus)
        values = {"version": corpus.c.version + 1, "derivation": derive.DERIVATION_VERSION, "ingested_at": self.now}
        if conn.execute(update(corpus).values(**values)).rowcount == 0:
            try:
                conn.execute(insert(corpus).values(id=1, version=1, derivation=derive.DERIVATION_VERSION,
                                                   ingested_at=self.now))  # fmt: skip
            except IntegrityError as error:  # the first ingest ever, and another one made the row first
                raise ConcurrentIngest("another ingest created the corpus while this one read its input") from error
        if conn.execute(select(corpus.c.version)).scalar_one() != self.seen_version + 1:
            raise ConcurrentIngest("another ingest committed while this one read its input")
        self.bases = {name: (conn.execute(select(func.max(_table(name).c.id))).scalar() or 0) + 1
                      for name in _ID_TABLES}  # fmt: skip
        return conn

    def add(self, record: Prepared) -> None:
        self._open()
        if record.slug in self.stored:
            self.replaced.append(self.stored[record.slug][0])
        _place(record, self.bases, self.rows, self.now)
        record.rows = {}  # placed; the batch holds them now
        self.changed = True
        self.written += 1
        if len(self.rows["claim"]) > _BATCH_CLAIMS:
            self._flush()

    def remove(self, slugs: list[str]) -> None:
        if slugs:
            self._open()
            self.replaced += [self.stored[slug][0] for slug in slugs]
            self.changed = True

    def _flush(self) -> None:
        assert self.conn is not None
        if self.replaced:
            fulltext.remove(self.conn, self.replaced)
            _delete_articles(self.conn, self.replaced)
            self.replaced = []
        _flush(self.conn, self.rows)

    def commit(self) -> bool:
        """Write what is queued and commit; False if there was nothing to write (nothing was touched)."""
        if not self.changed or self.conn is None:
            return False
        self._flush()
        listcounts.refresh(self.conn)  # the lists' totals and plan estimates, for the corpus as committed
        aggregates.refresh(self.conn)  # /topics and /series as rows, from the corpus just written
        if self.progress:
            self.progress("commit", self.written, self.written)
        # Fresh statistics, so the query planner knows which filters are selective (is_public is not; a series
        # is) and drives each list from the right index. PostgreSQL's come after the commit (vacuum()).
        if self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("ANALYZE")
        self.conn.commit()
        return True

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def vacuum(engine: Engine) -> None:
    """PostgreSQL, after an ingest commits: ``VACUUM (ANALYZE)`` the corpus tables, outside any transaction.

    Statistics for the planner, as SQLite's ANALYZE gives; the visibility map, without which no index-only
    scan skips the heap; and the full-text GIN index's pending list merged into the index (until then every
    search reads that list in full: a search of one word took 12 ms instead of 0.4 ms at 1,000 articles).
    Autovacuum would get there in its own time, where it is on; readers should not wait for it.
    """
    if engine.dialect.name != "postgresql":
        return
    tables = [*_OWNED_TABLES, *aggregates.TABLES]
    names = ", ".join(f'"{owned.name}"' for owned in tables) + f", {fulltext.TABLE}, corpus, list_count"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("SET statement_timeout = 0")  # a timeout in the URL is for the API's queries
        try:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {names}")
        finally:
            conn.exec_driver_sql("RESET statement_timeout")


#: Which id each id-holding field refers to (every table's article_id refers to the article).
_ID_FIELDS: dict[str, dict[str, str]] = {
    "article": {"id": "article"},
    "claim": {"id": "claim"},
    "evidence": {"id": "evidence", "claim_id": "claim"},
    "counterevidence": {"id": "counterevidence", "claim_id": "claim"},
    "source": {"id": "source"},
    "diagnostic": {"id": "diagnostic"},
}


def _place(record: Prepared, bases: dict[str, int], rows: dict[str, list[dict[str, Any]]], now: dt.datetime) -> None:
    """Move one article's rows from its own ids (0, 1, …) to the table ids from ``bases``, and queue them."""
    for name, items in record.rows.items():
        fields = _ID_FIELDS.get(name, {})
        for row in items:
            for key, target in fields.items():
                row[key] += bases[target]
            if "article_id" in row:
                row["article_id"] += bases["article"]
            if name == SEARCH:
                row["ref"] += bases[row["kind"]]
            elif name == "article":
                row["ingested_at"] = now
        rows[name] += items
    for name, used in record.ids.items():
        bases[name] += used


@dataclass(slots=True)
class Prepared:
    """A valid article, ready to write: its rows, numbered from 0 within the article, and its active findings."""

    slug: str
    rows: dict[str, list[dict[str, Any]]]
    ids: dict[str, int]
    severities: dict[str, int]


def prepare(source: InputArticle, today: dt.date) -> Prepared:
    """Validate and derive one article (app.content.reader.parse) and build its rows; raises InvalidContent."""
    record = parse(source)
    ids = dict.fromkeys(_ID_TABLES, 0)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in [t.name for t in _OWNED_TABLES] + [SEARCH]}
    _article_rows(record, ids, rows)
    severities = Counter(f.severity for f in record.findings if f.is_active(today))
    return Prepared(record.slug, {name: items for name, items in rows.items() if items}, ids, dict(severities))


Outcome = Prepared | tuple[str, list[ContentError]]


def _prepare_chunk(sources: list[InputArticle], today: dt.date) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for source in sources:
        try:
            outcomes.append(prepare(source, today))
        except InvalidContent as exc:
            outcomes.append((source.slug, exc.errors))
    return outcomes


def _prepare_all(
    sources: list[InputArticle], today: dt.date, already: int, progress: Progress | None
) -> Iterator[Outcome]:
    """Prepare every changed article, on every core when there are enough to be worth the processes."""
    total = already + len(sources)
    chunks = [sources[start : start + _PARSE_CHUNK] for start in range(0, len(sources), _PARSE_CHUNK)]
    workers = min(os.cpu_count() or 1, 4)
    done = already
    if len(sources) < _PARALLEL_FROM or workers < 2:
        results: Iterable[list[Outcome]] = (_prepare_chunk(chunk, today) for chunk in chunks)
        yield from _counted(results, done, total, progress)
        return
    # fork: the workers inherit the loaded code and need nothing from the parent's database connections.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)) as pool:
        yield from _counted(pool.map(_prepare_chunk, chunks, [today] * len(chunks)), done, total, progress)


def _die_with(parent: int) -> None:
    """A parse worker ends when its ingest does, even killed: its siblings hold the task pipe open, so it would
    otherwise wait on it for ever. Linux's parent-death signal does it; elsewhere nothing is done."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the ingest died before the signal was asked for
        os._exit(1)


def _counted(results: Iterable[list[Outcome]], done: int, total: int, progress: Progress | None) -> Iterator[Outcome]:
    for chunk in results:
        yield from chunk
        done += len(chunk)
        if progress:
            progress("validate", done, total)


def _table(name: str) -> Table:
    return next(owned for owned in _OWNED_TABLES if owned.name == name)


def _delete_articles(conn: Connection, article_ids: list[int]) -> None:
    for start in range(0, len(article_ids), _CHUNK):
        chunk = article_ids[start : start + _CHUNK]
        for owned in _OWNED_TABLES:
            key = owned.c.id if owned.name == "article" else owned.c.article_id
            conn.execute(delete(owned).where(key.in_(chunk)))


def _flush(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    substrings = {
        "article_keyword": [(row["article_id"], row["text"]) for row in rows["article_keyword"]],
        "claim": [(row["id"], row["text"]) for row in rows["claim"]],
    }
    for owned in reversed(_OWNED_TABLES):  # parents before children
        if rows[owned.name]:
            _insert(conn, owned, rows[owned.name])
            rows[owned.name] = []
    fulltext.add(conn, rows[SEARCH], substrings)
    rows[SEARCH] = []


def _insert(conn: Connection, owned: Table, items: list[dict[str, Any]]) -> None:
    """INSERT ``items`` into ``owned``: straight to the driver's executemany where nothing needs converting.

    SQLAlchemy runs a bind processor per value where a type needs one (JSON, dates, booleans, and bytes for
    pysqlite); a table whose values the driver takes as they are skips that, and SQLAlchemy's per-row parameter
    handling, which at 10,000 articles (1.2 million rows) is seconds of an ingest. Only for drivers with
    positional "?" parameters (pysqlite); others take SQLAlchemy's own bulk path.
    """
    plain = _plain_insert(owned, conn.dialect) if conn.dialect.paramstyle == "qmark" else None
    if plain is None:
        conn.execute(insert(owned), items)
        return
    sql, keys = plain
    conn.exec_driver_sql(sql, [tuple(row[key] for key in keys) for row in items])


_PLAIN_INSERTS: dict[tuple[str, str], tuple[str, list[str]] | None] = {}


def _plain_insert(owned: Table, dialect: Any) -> tuple[str, list[str]] | None:
    """The positional INSERT for ``owned`` and its column order, or None if some column's values need converting."""
    cache_key = (owned.name, dialect.name)
    if cache_key not in _PLAIN_INSERTS:
        # bytes and booleans go to pysqlite as they are (a bool is an int: stored 1 or 0, as SQLAlchemy would)
        plain = all(isinstance(c.type, LargeBinary | Boolean) or c.type.bind_processor(dialect) is None
                    for c in owned.columns)  # fmt: skip
        keys = [column.name for column in owned.columns]
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(key) for key in keys)
        sql = f"INSERT INTO {quote(owned.name)} ({names}) VALUES ({', '.join('?' * len(keys))})"
        _PLAIN_INSERTS[cache_key] = (sql, keys) if plain else None
    return _PLAIN_INSERTS[cache_key]


def _next(ids: dict[str, int], name: str) -> int:
    ids[name] += 1
    return ids[name] - 1


def _article_rows(record: ParsedArticle, ids: dict[str, int], rows: dict[str, list[dict[str, Any]]]) -> None:
    """Append the rows of one article to ``rows``, assigning surrogate ids from ``ids``."""
    artifact, fm, brief_fm = record.artifact, record.front_matter or {}, record.brief_front_matter or {}
    article_id = _next(ids, "article")
    series = artifact.series
    approvals = [r for r in artifact.provenance.reviews if r.reviewer == "human" and r.status == "approved"]
    latest = sorted(approvals, key=lambda review: review.reviewedAt, reverse=True)[0] if approvals else None
    rows["article"].append(
        {
            "id": article_id,
            "slug": record.slug,
            "dir_key": record.source.dir_key,
            "year": record.source.year,
            "layout": record.source.layout,
            "fingerprint": record.source.fingerprint,
            "title": artifact.title,
            "dek": fm.get("dek"),
            "summary": fm.get("summary"),
            "reading_time": fm.get("readingTime"),
            "date": fm.get("date"),
            "updated": fm.get("updated"),
            "fm_status": record.fm_status,
            "status": artifact.status,
            "is_public": record.is_public,
            "maturity": artifact.maturity,
            "topic": fm.get("topic"),
            "published_at": artifact.publishedAt,
            "updated_at": artifact.updatedAt,
            "thesis": artifact.thesis,
            "canonical_path": artifact.canonicalPath,
            "content_hash": record.content_hash,
            "token_estimate": record.token_estimate,
            "token_budget": brief_fm.get("tokenBudget"),
            "brief_updated": brief_fm.get("updated"),
            "section_outline": record.section_outline,
            "series_slug": series.slug if series else None,
            "series_title": series.title if series else None,
            "series_season": series.season if series else None,
            "series_order": series.order if series else None,
            "series_role": series.role if series else None,
            "series_arc": series.arc if series else None,
            "claim_count": len(artifact.claims),
            "source_count": len(artifact.sources),
            "trusted": latest is not None and latest.contentHash == record.content_hash,
            "ingested_at": None,  # set when written (_place)
        }
    )
    raw = record.source.raw
    rows["article_document"].append(
        {
            "article_id": article_id,
            "artifact_json": raw["artifact"].decode(),
            "article_md": raw["article"].decode() if "article" in raw else None,
            "agent_md": raw["brief"].decode() if "brief" in raw else None,
            "front_matter": record.front_matter,
            "brief_front_matter": record.brief_front_matter,
        }
    )
    rows["article_keyword"].append(
        {"article_id": article_id, "text": derive.keyword_text(artifact, fm.get("summary"), fm.get("tags", []))}
    )
    for name, column, values in (
        ("article_topic", "topic", artifact.topics),
        ("article_tag", "tag", fm.get("tags", [])),
        ("article_audience", "audience", artifact.audiences),
    ):
        rows[name] += [{"article_id": article_id, "position": i, column: v} for i, v in enumerate(values)]
    rows["related_link"] += [
        {"article_id": article_id, "position": i, "type": r.type, "target": r.id}
        for i, r in enumerate(artifact.related)
    ]
    rows["provenance_review"] += [
        {
            "article_id": article_id,
            "position": i,
            "reviewer": r.reviewer,
            "reviewed_at": r.reviewedAt,
            "status": r.status,
            "content_hash": r.contentHash,
        }
        for i, r in enumerate(artifact.provenance.reviews)
    ]
    rows["provenance_agent"] += [
        {
            "article_id": article_id,
            "position": i,
            "role": a.role,
            "model": a.model,
            "invoked_at": a.invokedAt,
            "input_hash": a.inputHash,
            "output_hash": a.outputHash,
        }
        for i, a in enumerate(artifact.provenance.agents)
    ]
    citations = Counter(sid for claim in artifact.claims for sid in {e.sourceId for e in claim.evidence})
    rows["source"] += [
        {
            "id": _next(ids, "source"),
            "article_id": article_id,
            "position": i,
            "is_public": record.is_public,  # the article's, so that /sources walks one index (models.Source)
            "dir_key": record.source.dir_key,
            "source_id": s.id,
            "title": s.title,
            "url": s.url,
            "type": s.type,
            "accessed": s.accessed,
            "cited_by": citations[s.id],
        }
        for i, s in enumerate(artifact.sources)
    ]
    for position, claim in enumerate(artifact.claims):
        claim_pk = _next(ids, "claim")
        state = record.states[claim.id]
        verification = claim.verification
        assessed = [e.assessedAt for e in claim.evidence if e.assessedAt]
        rows["claim"].append(
            {
                "id": claim_pk,
                "article_id": article_id,
                "position": position,
                "is_public": record.is_public,  # the article's, so that /claims walks one index (models.Claim)
                "dir_key": record.source.dir_key,
                "local_id": claim.id,
                "claim_id": f"article:{record.slug}:{claim.id}",
                "text": claim.claim,
                "confidence": claim.confidence,
                "confidence_rank": CONFIDENCE_RANK[claim.confidence],
                "kind": claim.status,
                "verification_status": verification.status if verification else None,
                "verification_reviewer": verification.reviewer if verification else None,
                "verification_reviewed_at": verification.reviewedAt if verification else None,
                "state_base": state.base,
                "stale_from": state.stale_from,
                "evidence_count": len(claim.evidence),
                "counterevidence_count": len(claim.counterevidence),
                "as_of": max(assessed) if assessed else None,
            }
        )
        rows[SEARCH].append(
            {
                "kind": "claim",
                "ref": claim_pk,
                "article_id": article_id,
                "primary_text": claim.claim,
                "secondary_text": " ".join(e.snippet for e in claim.evidence)
                + " "
                + " ".join(c.summary for c in claim.counterevidence),
            }
        )
        rows["evidence"] += [
            {
                "id": _next(ids, "evidence"),
                "claim_id": claim_pk,
                "article_id": article_id,
                "position": i,
                "source_id": e.sourceId,
                "snippet": e.snippet,
                "supports": e.supports,
                "location": e.location,
                "assessed_at": e.assessedAt,
                "notes": e.notes,
            }
            for i, e in enumerate(claim.evidence)
        ]
        rows["counterevidence"] += [
            {
                "id": _next(ids, "counterevidence"),
                "claim_id": claim_pk,
                "article_id": article_id,
                "position": i,
                "summary": c.summary,
                "source_id": c.sourceId,
                "snippet": c.snippet,
                "assessed_at": c.assessedAt,
                "notes": c.notes,
            }
            for i, c in enumerate(claim.counterevidence)
        ]
    rows[SEARCH].append(
        {
            "kind": "article",
            "ref": article_id,
            "article_id": article_id,
            "primary_text": artifact.title,
            "secondary_text": " ".join([fm.get("summary") or "", fm.get("dek") or "", artifact.thesis]),
        }
    )
    rows[SEARCH] += [
        {
            "kind": "source",
            "ref": source["id"],
            "article_id": article_id,
            "primary_text": source["title"],
            "secondary_text": "",
        }
        for source in rows["source"]
        if source["article_id"] == article_id
    ]
    rows["graph_edge"] += [
        {"article_id": article_id, "position": i, "source": source, "type": kind, "target": target,
         "reviewed_at": reviewed, "sort_key": locale_bytes(f"{source}:{kind}:{target}")}
        for i, (source, kind, target, reviewed) in enumerate(derive.graph_edges(artifact))
    ]  # fmt: skip
    rows["diagnostic"] += [
        {
            "id": _next(ids, "diagnostic"),
            "article_id": article_id,
            "position": i,
            "rule": f.rule,
            "severity": f.severity,
            "claim_local_id": f.claim_id,
            "message": f.message,
            "active_from": f.active_from,
            "origin": f.origin,
        }
        for i, f in enumerate(record.findings)
    ]


def _corpus_counts(engine: Engine) -> tuple[dict[str, int], int]:
    """The promised counts of the whole stored corpus, and its version (0: nothing stored yet)."""
    article, claim, source = table(models.Article), table(models.Claim), table(models.Source)
    with engine.connect() as conn:
        if not inspect(conn).has_table("corpus"):
            return dict.fromkeys(
                ("articles", "public_articles", "claims", "public_claims", "sources", "public_sources"), 0
            ), 0

        def count(target: Table, public_only: bool) -> int:
            query = select(func.count()).select_from(target)
            if public_only:
                query = (
                    query.where(article.c.is_public)
                    if target is article
                    else query.join(article, article.c.id == target.c.article_id).where(article.c.is_public)
                )
            return int(conn.execute(query).scalar_one())

        counts = {
            "articles": count(article, False),
            "public_articles": count(article, True),
            "claims": count(claim, False),
            "public_claims": count(claim, True),
            "sources": count(source, False),
            "public_sources": count(source, True),
        }
        version = conn.execute(select(table(models.Corpus).c.version)).scalar() or 0
    return counts, int(version)


def _diagnostic_totals(
    engine: Engine, fresh: list[dict[str, int]], unchanged: list[str], today: dt.date
) -> dict[str, int]:
    """Findings by severity over this run's valid input: fresh ones from parsing, the rest as stored."""
    totals: Counter[str] = Counter()
    for severities in fresh:
        totals.update(severities)
    if unchanged:
        diagnostic, article = table(models.Diagnostic), table(models.Article)
        wanted = set(unchanged)
        query = select(article.c.slug, diagnostic.c.severity, diagnostic.c.active_from).join(
            article, article.c.id == diagnostic.c.article_id
        )
        with engine.connect() as conn:
            for slug, severity, active_from in conn.execute(query):
                if slug in wanted and (active_from is None or active_from <= today.isoformat()):
                    totals[severity] += 1
    return {"error": totals.get("error", 0), "warning": totals.get("warning", 0)}


def stored_article_count(engine: Engine) -> int:
    """How many articles are stored (0 when the tables do not exist yet)."""
    return len(_stored_articles(engine)[0])
