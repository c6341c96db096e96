"""What the stored corpus holds, counted as the caller may see it (for /readyz and the front door, /)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select
from sqlmodel import Session

from app import models
from app.models import table
from app.queries.common import ARTICLE, CLAIM, SOURCE, visible

CORPUS = table(models.Corpus)
TOPIC_COUNT = table(models.TopicCount)
SERIES_HEAD = table(models.SeriesHead)
LIST_COUNT = table(models.ListCount)

# --- The corpus version: read on every request (app.http.read_corpus) and by the response cache's watch ----------

_VERSION = select(CORPUS.c.version, CORPUS.c.ingested_at)  # built once: read on every request


def stored_version(session: Session) -> tuple[int, dt.datetime | None]:
    """(corpus version, last ingest), or (0, None) before the first ingest: one row of one table."""
    row = session.execute(_VERSION).first()
    return (row.version, row.ingested_at) if row else (0, None)


def version_row(connection: Connection) -> tuple[int] | None:
    """(corpus version,) on a plain connection (the response cache's watch on PostgreSQL), None before ingest."""
    row = connection.execute(_VERSION).first()
    return (row.version,) if row else None


def sqlite_data_version(probe: sqlite3.Connection) -> int:
    """SQLite's ``data_version`` on the watch's own connection: it changes when another connection commits."""
    value: int = probe.execute("PRAGMA data_version").fetchone()[0]
    return value


def sqlite_version_row(probe: sqlite3.Connection) -> tuple[int] | None:
    """(corpus version,) on the watch's own SQLite connection, None before the first ingest."""
    row: tuple[int] | None = probe.execute("SELECT version FROM corpus").fetchone()
    return row


@dataclass(frozen=True, slots=True)
class Held:
    """The corpus version and last ingest; the articles and claims the caller may read, and the published (P)
    articles among them."""

    version: int
    ingested_at: dt.datetime | None
    articles: int
    public_articles: int
    claims: int


def held(session: Session, preview: bool) -> Held:
    """Anonymous callers get the counts of published (P) articles and their claims only: how many drafts or
    reviews are stored is itself something they must not learn (app.queries.common.hides). With preview access,
    every stored article and claim is counted."""
    corpus = session.execute(select(CORPUS.c.version, CORPUS.c.ingested_at)).first()
    articles = session.scalar(select(func.count()).select_from(ARTICLE).where(visible(preview)))
    public = session.scalar(select(func.count()).select_from(ARTICLE).where(visible(False)))
    with_article = CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
    claims = session.scalar(select(func.count()).select_from(with_article).where(visible(preview)))
    return Held(
        version=int(corpus.version) if corpus else 0,
        ingested_at=corpus.ingested_at if corpus else None,
        articles=int(articles or 0),
        public_articles=int(public or 0),
        claims=int(claims or 0),
    )


@dataclass(frozen=True, slots=True)
class Overview:
    """The front door's corpus: version and last ingest, the articles, claims and sources the caller may read, and
    a topic and a series to show in the examples (the topic with most articles, the first series of /series),
    None when there is none."""

    version: int
    ingested_at: dt.datetime | None
    articles: int
    claims: int
    sources: int
    topic: str | None
    series: str | None


def overview(session: Session, preview: bool) -> Overview:
    """Anonymous callers get published (P) articles and their claims and sources only (``is_public``, which
    claims and sources carry too); the preview token counts everything stored."""
    corpus = session.execute(select(CORPUS.c.version, CORPUS.c.ingested_at)).first()

    # Public totals are stored by ingest (list_count: the whole list is field "" and value ""), so the front
    # door never counts 250,000 claims per request; preview callers, who see every row, are counted.
    totals = select(LIST_COUNT.c.kind, LIST_COUNT.c.rows).where(LIST_COUNT.c.field == "", LIST_COUNT.c.value == "")
    stored = {} if preview else {kind: rows for kind, rows in session.execute(totals)}

    def count(child: Any) -> int:
        if not preview:
            return int(stored.get(f"{child.name}s", 0))
        return int(session.scalar(select(func.count()).select_from(child)) or 0)

    topic = session.scalar(
        select(TOPIC_COUNT.c.topic)
        .where(TOPIC_COUNT.c.preview == preview)
        .order_by(TOPIC_COUNT.c.article_count.desc(), TOPIC_COUNT.c.topic)
        .limit(1)
    )
    series = session.scalar(
        select(SERIES_HEAD.c.slug).where(SERIES_HEAD.c.preview == preview).order_by(SERIES_HEAD.c.position).limit(1)
    )
    return Overview(
        version=int(corpus.version) if corpus else 0,
        ingested_at=corpus.ingested_at if corpus else None,
        articles=count(ARTICLE),
        claims=count(CLAIM),
        sources=count(SOURCE),
        topic=topic,
        series=series,
    )
