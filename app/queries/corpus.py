"""What the stored corpus holds, counted as the caller may see it (for /readyz)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from app import models
from app.models import table
from app.queries.common import ARTICLE, CLAIM, visible

CORPUS = table(models.Corpus)


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
