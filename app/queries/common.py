"""Pieces every query module shares: the tables, visibility, the claim-state condition, article lookup."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlmodel import Session

from app import models
from app.models import table
from app.problems import ApiProblem

ARTICLE = table(models.Article)
DOCUMENT = table(models.ArticleDocument)
KEYWORD = table(models.ArticleKeyword)
TOPIC = table(models.ArticleTopic)
TAG = table(models.ArticleTag)
AUDIENCE = table(models.ArticleAudience)
RELATED = table(models.RelatedLink)
CLAIM = table(models.Claim)
EVIDENCE = table(models.Evidence)
COUNTER = table(models.Counterevidence)
SOURCE = table(models.Source)
DIAGNOSTIC = table(models.Diagnostic)
EDGE = table(models.GraphEdge)

#: The artifact's series object, as stored on the article row (app.shapes.series_of reads these).
SERIES_COLUMNS = [ARTICLE.c[name] for name in ("series_slug", "series_title", "series_season", "series_order",
                                               "series_role", "series_arc")]  # fmt: skip

#: The article columns list items need (never the raw documents).
ARTICLE_COLUMNS = [c for c in ARTICLE.c if c.name not in ("fingerprint", "ingested_at")]


def visible(preview: bool) -> ColumnElement[bool]:
    """Anonymous callers see published (P) articles only; preview sees everything."""
    return ARTICLE.c.is_public.is_(True) if not preview else ARTICLE.c.id.isnot(None)


def state_condition(states: Iterable[str], today: dt.date) -> ColumnElement[bool]:
    """Claims whose computed state (app.derive.ClaimState.on) is one of ``states`` today."""
    day = today.isoformat()
    stale_now = and_(CLAIM.c.stale_from.isnot(None), CLAIM.c.stale_from <= day)
    conditions: list[ColumnElement[bool]] = []
    for state in states:
        if state == "stale":
            conditions.append(or_(CLAIM.c.state_base == "stale", and_(CLAIM.c.state_base == "draft", stale_now)))
        elif state == "draft":
            conditions.append(and_(CLAIM.c.state_base == "draft", ~stale_now))
        else:
            conditions.append(CLAIM.c.state_base == state)
    return or_(*conditions)


def article_slug(value: str) -> str:
    """A slug from a slug or an ``article:<slug>`` id."""
    return value.removeprefix("article:")


def grouped(session: Session, column: Any, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: [values in position order]} for a link table column (topics, tags, audiences)."""
    link = column.table
    out: dict[int, list[Any]] = defaultdict(list)
    if article_ids:
        query = select(link.c.article_id, column).where(link.c.article_id.in_(article_ids))
        for article_id, value in session.execute(query.order_by(link.c.article_id, link.c.position)):
            out[article_id].append(value)
    return out


def find_article(session: Session, slug_or_id: str, preview: bool) -> Any:
    """The article row for ``/articles/{slug}``: 404 if absent or unpublished, 410 if archived."""
    slug = article_slug(slug_or_id)
    row = session.execute(select(*ARTICLE_COLUMNS).where(ARTICLE.c.slug == slug)).mappings().first()
    if row is None:
        raise ApiProblem(404, "Not Found", f"No article '{slug}'.")
    if not preview and not row["is_public"]:
        if "archived" in (row["status"], row["fm_status"]):
            raise ApiProblem(410, "Gone", f"The article '{slug}' has been archived.")
        raise ApiProblem(404, "Not Found", f"No article '{slug}'.")
    return row


def max_public_updated(session: Session) -> str | None:
    """The newest updatedAt among public articles: the basis of the publisher's generatedAt."""
    query: Select[Any] = select(ARTICLE.c.updated_at).where(ARTICLE.c.is_public.is_(True))
    return session.execute(query.order_by(ARTICLE.c.updated_at.desc()).limit(1)).scalar()


class Scope:
    """Who is asking and against what: the session, visibility, today's date and the site URL.

    Query functions take a Scope rather than an HTTP request, so the REST API and the MCP server share them.
    """

    __slots__ = ("preview", "session", "site", "today")

    def __init__(self, session: Session, *, preview: bool, today: dt.date, site: str) -> None:
        self.session, self.preview, self.today, self.site = session, preview, today, site

    @property
    def dialect(self) -> str:
        """The database's dialect name: ``sqlite`` or ``postgresql`` (app.fulltext picks its SQL by it)."""
        return self.session.get_bind().dialect.name


class Listing:
    """One page of a list: the items, how many match in all, the cursor of the next page (or None), and
    whether a token budget left items out (None when no budget was asked for)."""

    __slots__ = ("facets", "items", "next_cursor", "total", "truncated")

    def __init__(
        self,
        items: list[dict[str, Any]],
        total: int,
        next_cursor: str | None,
        *,
        truncated: bool | None = None,
        facets: dict[str, Any] | None = None,
    ) -> None:
        self.items, self.total, self.next_cursor = items, total, next_cursor
        self.truncated, self.facets = truncated, facets
