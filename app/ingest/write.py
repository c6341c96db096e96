"""Stage 4, write: the one write transaction of an ingest, and each dialect's bulk path into it.

The transaction opens at the first article to write and commits once at the end. Articles are queued as
their rows arrive and written in batches of about :data:`BATCH_CLAIMS` claims: the rows of a replaced article
are deleted in the same batch, before its new rows. Nothing is visible to readers until ``commit()``;
``close()`` without it rolls everything back, as does a killed process.

Bulk paths: on SQLite, the driver's ``executemany`` with positional parameters (values converted once, here,
where a column type needs it: JSON and timestamps); on PostgreSQL, ``COPY … FROM STDIN`` through psycopg.
The search documents go through app.fulltext, the dialect seam of the search index.

Ids: each article's rows arrive numbered from 0 (app.ingest.rows); the writer adds each table's next free id,
read once when the transaction opens (after it holds the write lock, so no other ingest can take them).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Engine,
    LargeBinary,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from app import derive, fulltext, models
from app.db import tune_for_bulk_write
from app.ingest import outbox, rows
from app.ingest.changes import DEFAULT_RETENTION, ChangeLog
from app.ingest.derived import Derived
from app.ingest.prepare import Built
from app.models import table

# Articles are written in batches of about BATCH_CLAIMS claims (about 500 articles) or BATCH_BYTES of input
# files, whichever comes first: a run of articles with few claims or none (glossaries) must not pile up.
BATCH_CLAIMS = 2500
BATCH_BYTES = 12 * 1024 * 1024
_DELETE_CHUNK = 500
Progress = Callable[[str, int, int], None]
"""Called as (phase, done, total): phase "validate" per article, then "commit"."""


class ConcurrentIngest(Exception):
    """Another ingest committed between this run's reading of the stored corpus and its first write."""


class Writer:
    """The one write transaction of an ingest (see the module)."""

    def __init__(self, engine: Engine, seen_version: int, now: dt.datetime, stored: int,
                 retention: int = DEFAULT_RETENTION) -> None:  # fmt: skip
        self.engine, self.seen_version, self.now, self.first = engine, seen_version, now, stored == 0
        self.log = ChangeLog(not self.first, retention)  # the first ingest records nothing (app.ingest.changes)
        self.derived = Derived(stored)
        self.dropped: list[tuple[str, str]] = []
        self.journal = ""
        self.conn: Connection | None = None
        self.bases: dict[str, int] = {}
        self.queued: dict[str, list[tuple[Any, ...]]] = {}
        self.queued_bytes = 0
        self.replaced: list[int] = []
        self.restat: list[tuple[str | None, int]] = []
        self.changed = False
        self.written = 0
        self._bulk: _Bulk | None = None

    def _open(self) -> Connection:
        if self.conn is not None:
            return self.conn
        conn = self.conn = self.engine.connect()
        if self.first and conn.dialect.name == "sqlite":
            self.journal = _journal(conn, "DELETE")
        if conn.dialect.name != "sqlite":
            # Readers take REPEATABLE READ (app.db); a writer waiting on the corpus row lock must then see the
            # row as the other writer committed it, which READ COMMITTED does (REPEATABLE READ would fail).
            conn.execution_options(isolation_level="READ COMMITTED")
        conn.begin()
        tune_for_bulk_write(conn)  # and lifts a statement_timeout set for the API (PostgreSQL)
        # Bumping the version first takes the write lock (SQLite) or the row lock (PostgreSQL): another ingest
        # waits here until this one ends. One that committed since this run read the stored corpus is seen
        # here, and this run starts again (app.ingest.ingest).
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
        self.bases = {name: (conn.execute(select(func.max(rows.table_of(name).c.id))).scalar() or 0) + 1
                      for name in rows.ID_TABLES}  # fmt: skip
        self.first_new_id = self.bases["article"]
        self._bulk = _Bulk(conn, self.now)
        if self.first:  # nothing stored: building each index once at the end beats keeping it up to date
            self.dropped = _secondary_indexes(conn, [owned.name for owned in rows.owned_tables()] + [fulltext.TABLE])
            quote = conn.dialect.identifier_preparer.quote
            for name, _ in self.dropped:
                conn.exec_driver_sql(f"DROP INDEX {quote(name)}")
        return conn

    def add(self, built: Built, replaces: int | None) -> None:
        """Queue one article's rows (``replaces``: the id of the stored version they replace)."""
        self._open()
        if replaces is not None:
            self.replaced.append(replaces)
        for name, packed in built.rows.items():
            self.queued.setdefault(name, []).extend(_shifted(packed, name, self.bases))
        for name, used in built.ids.items():
            self.bases[name] += used
        self.changed = True
        self.written += 1
        self.queued_bytes += built.size
        if len(self.queued.get("claim", ())) > BATCH_CLAIMS or self.queued_bytes > BATCH_BYTES:
            self._flush()

    def restamp(self, article_id: int, file_stat: str) -> None:
        """Store a new stat signature for an article whose bytes did not change, if this run writes at all."""
        self.restat.append((file_stat or None, article_id))

    def remove(self, article_ids: Sequence[int]) -> None:
        if article_ids:
            self._open()
            self.replaced += article_ids
            self.changed = True

    def _flush(self) -> None:
        assert self.conn is not None and self._bulk is not None
        if self.replaced:
            self.log.read_before(self.conn, self.replaced)
            self.derived.taking(self.conn, self.replaced)
            fulltext.remove(self.conn, self.replaced)
            for start in range(0, len(self.replaced), _DELETE_CHUNK):
                chunk = self.replaced[start : start + _DELETE_CHUNK]
                for owned in rows.owned_tables():
                    key = owned.c.id if owned.name == "article" else owned.c.article_id
                    self.conn.execute(delete(owned).where(key.in_(chunk)))
            self.replaced = []
        queued, self.queued, self.queued_bytes = self.queued, {}, 0
        for name in rows.OWNED:
            if queued.get(name):
                self._bulk.insert(name, queued[name])
        documents = [doc for kind in ("article", "claim", "source") for doc in queued.get(f"search:{kind}", ())]
        claim_text = rows.columns("claim").index("text")
        substrings = {
            "article_keyword": [(row[0], row[1]) for row in queued.get("article_keyword", ())],
            "claim": [(row[0], row[claim_text]) for row in queued.get("claim", ())],
        }
        fulltext.add(self.conn, documents, substrings)

    def commit(self, analyse: bool, progress: Progress | None) -> bool:
        """Write what is queued, bring the derived tables up to date and commit; False if there was nothing to
        write (nothing was touched). ``analyse``: gather planner statistics again (SQLite)."""
        if not self.changed or self.conn is None:
            return False
        self._flush()
        for _, create in self.dropped:
            self.conn.exec_driver_sql(create)
        if self.restat:
            article = table(models.Article)
            stamp = update(article).where(article.c.id == bindparam("pk")).values(file_stat=bindparam("stat"))
            self.conn.execute(stamp, [{"stat": s, "pk": pk} for s, pk in self.restat])
        self.log.write(self.conn, self.seen_version + 1, self.now, range(self.first_new_id, self.bases["article"]))
        outbox.enqueue(self.conn, self.seen_version + 1, self.now, self.log.enabled, self.log.retention)  # webhooks
        self.derived.finish(self.conn, range(self.first_new_id, self.bases["article"]))
        if progress:
            progress("commit", self.written, self.written)
        if analyse and self.conn.dialect.name == "sqlite":
            self.conn.exec_driver_sql("ANALYZE")  # PostgreSQL's comes after the commit (app.ingest.vacuum)
        self.conn.commit()
        if self.journal == "delete":
            self.journal = _journal(self.conn, "WAL")
        return True

    def close(self) -> None:
        if self.conn is not None:
            if self.journal == "delete":
                self.conn.rollback()  # nothing, after a commit; else everything: then back to WAL
                _journal(self.conn, "WAL")
            self.conn.close()
            self.conn = None


def _secondary_indexes(conn: Connection, tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of every index on ``tables`` that no key or unique constraint needs: on
    PostgreSQL the search table's and the trigram GIN indexes too, which take longer to keep up to date row by
    row than to build once (a 10,000-article first ingest spent 14 s in search inserts)."""
    if conn.dialect.name == "sqlite":
        query = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                     "AND tbl_name IN :tables ORDER BY name")  # fmt: skip
    else:
        query = text("SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
                     "AND tablename IN :tables AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
                     "format('%I.%I', i.schemaname, i.indexname)::regclass) ORDER BY indexname")  # fmt: skip
    query = query.bindparams(bindparam("tables", expanding=True))
    return [(name, create) for name, create in conn.execute(query, {"tables": tables})]


def _journal(conn: Connection, mode: str) -> str:
    """Set SQLite's journal mode on ``conn`` outside any transaction; the mode it is in afterwards.

    A first ingest writes into an empty database in rollback-journal mode: the whole corpus is one transaction,
    and in WAL mode every page it reads back (index builds, counts, ANALYZE) is looked up in a WAL that grows to
    the size of the database, which made 50,000 articles take several times five times 10,000's. With nothing
    stored there is nothing for readers to keep reading meanwhile; a killed run leaves a hot journal that the
    next connection rolls back, so the empty corpus is whole again. Another process holding the database open
    keeps it in WAL mode (the switch needs it alone), and the ingest runs in WAL mode as any other.
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None
    try:
        return str(raw.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]).lower()
    except sqlite3.OperationalError:  # locked by another connection: it stays as it is
        return ""


def _shifted(packed: list[tuple[Any, ...]], name: str, bases: dict[str, int]) -> Iterable[tuple[Any, ...]]:
    """``packed`` with the article's own ids moved to table ids (the id columns lead each row)."""
    offsets = [bases[target] for _, target in rows.ID_COLUMNS.get(name, (("article_id", "article"),))]
    if len(offsets) == 1:
        (a,) = offsets
        return [(row[0] + a,) + row[1:] for row in packed]  # noqa: RUF005 (concatenation is the faster)
    if len(offsets) == 2:
        a, b = offsets
        return [(row[0] + a, row[1] + b) + row[2:] for row in packed]  # noqa: RUF005
    a, b, c = offsets
    return [(row[0] + a, row[1] + b, row[2] + c) + row[3:] for row in packed]  # noqa: RUF005


class _Bulk:
    """Each dialect's fastest way to append rows to a table inside the open transaction."""

    def __init__(self, conn: Connection, now: dt.datetime) -> None:
        self.conn, self.now = conn, now
        self.sqlite = conn.dialect.name == "sqlite"
        self._plans: dict[str, tuple[str, list[tuple[int, Callable[[Any], Any]]]]] = {}

    def insert(self, name: str, items: list[tuple[Any, ...]]) -> None:
        sql, converters = self._plan(name)
        if converters:
            items = [_converted(row, converters) for row in items]
        if self.sqlite:
            self.conn.exec_driver_sql(sql, items)
            return
        cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(sql) as copy:
            for row in items:
                copy.write_row(row)

    def _plan(self, name: str) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
        """The statement for ``name`` and, per column that needs it, how its values are converted."""
        if name in self._plans:
            return self._plans[name]
        owned, names = rows.table_of(name), rows.columns(name)
        dialect = self.conn.dialect
        quote = dialect.identifier_preparer.quote
        listed = ", ".join(quote(column) for column in names)
        converters: list[tuple[int, Callable[[Any], Any]]] = []
        for position, column in enumerate(names):
            kind = owned.c[column].type
            if column == "ingested_at":
                stamp = kind.bind_processor(dialect)
                converters.append((position, _constant(stamp(self.now) if self.sqlite and stamp else self.now)))
            elif isinstance(kind, JSON):
                converters.append((position, _json))
            elif self.sqlite and not isinstance(kind, LargeBinary | Boolean):
                processor = kind.bind_processor(dialect)
                if processor is not None:
                    converters.append((position, processor))
        if self.sqlite:
            sql = f"INSERT INTO {quote(name)} ({listed}) VALUES ({', '.join('?' * len(names))})"
        else:
            sql = f"COPY {quote(name)} ({listed}) FROM STDIN"
        self._plans[name] = (sql, converters)
        return self._plans[name]


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _: value


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _converted(row: tuple[Any, ...], converters: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for position, convert in converters:
        values[position] = convert(values[position])
    return tuple(values)
