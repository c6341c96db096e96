"""Stage 2, plan: what changed against the stored corpus.

The stored corpus is read once, as compact keys: per slug its id, fingerprint and file stat signature (about
200 bytes an article). Each article the walk finds is then either unchanged (its stat signature is the stored
one: its files are not even read) or a :class:`~app.ingest.prepare.Task` for a worker, which carries the stored
fingerprint so that the worker can tell bytes that did not change from bytes that did. Stored articles the walk
did not find are missing (or removed, with ``--prune``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, inspect, select

from app import derive, models
from app.ingest.discover import Found
from app.ingest.prepare import Task
from app.models import table


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    fingerprint: str
    stat: str | None


@dataclass(slots=True)
class StoredCorpus:
    """The stored articles by slug, the derivation they were computed with, and the corpus version (0: none)."""

    articles: dict[str, Stored] = field(default_factory=dict)
    derivation: int | None = None
    version: int = 0

    @property
    def current(self) -> bool:
        """Whether the stored rows were derived by this code's rules (else every article is derived again)."""
        return self.derivation == derive.DERIVATION_VERSION


def read_stored(engine: Engine) -> StoredCorpus:
    """The stored corpus, read in one transaction; empty if the tables do not exist yet."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("corpus"):
            return StoredCorpus()
        corpus = table(models.Corpus)
        head = conn.execute(select(corpus.c.derivation, corpus.c.version)).first()
        # Through the driver's own cursor: 50,000 rows as plain tuples take a quarter of the time rows do.
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("SELECT slug, id, fingerprint, file_stat FROM article")
        articles = {slug: Stored(pk, fingerprint, stat) for slug, pk, fingerprint, stat in cursor.fetchall()}
        cursor.close()
    return StoredCorpus(articles, head.derivation if head else None, head.version if head else 0)


def task_for(found: Found, stored: StoredCorpus, max_bytes: int) -> Task | None:
    """None when the article is unchanged by its stat signature; else what a worker must read and compare."""
    previous = stored.articles.get(found.slug)
    if previous is None or not stored.current:
        return Task(found, None, max_bytes)
    if found.stat and found.stat == previous.stat:
        return None
    return Task(found, previous.fingerprint, max_bytes)
