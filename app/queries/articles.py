"""Articles: the filtered, sorted, paged list and one article with its navigation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from app import shapes
from app.content.schema import CONFIDENCE_RANK
from app.problems import ApiProblem
from app.queries.common import (
    ARTICLE,
    ARTICLE_COLUMNS,
    AUDIENCE,
    CLAIM,
    KEYWORD,
    RELATED,
    SOURCE,
    TAG,
    TOPIC,
    Listing,
    Scope,
    article_slug,
    grouped,
    state_condition,
    visible,
)
from app.queries.paging import Keyset, decode_cursor, encode_cursor, select_fields
from app.queries.params import ArticleParams

SORTS: dict[str, Keyset] = {
    "-published": Keyset([ARTICLE.c.published_at, ARTICLE.c.slug], descending=True),
    "published": Keyset([ARTICLE.c.published_at, ARTICLE.c.slug]),
    "-updated": Keyset([ARTICLE.c.updated_at, ARTICLE.c.slug], descending=True),
    "updated": Keyset([ARTICLE.c.updated_at, ARTICLE.c.slug]),
    "title": Keyset([func.lower(ARTICLE.c.title), ARTICLE.c.slug]),
    # Series members first, by series and order; standalone articles after them.
    "series": Keyset([
        case((ARTICLE.c.series_slug.is_(None), 1), else_=0),
        func.coalesce(ARTICLE.c.series_slug, ""),
        func.coalesce(ARTICLE.c.series_order, 0),
        ARTICLE.c.slug,
    ]),
}  # fmt: skip

ITEM_FIELDS = (
    "id", "slug", "title", "summary", "status", "maturity", "topics", "tags", "canonicalPath", "articleUrl",
    "agentJsonPath", "agentMarkdownPath", "updatedAt", "claimCount", "sourceCount", "tokenEstimate", "contentHash",
    "publishedAt", "dek", "readingTime", "audiences", "series",
)  # fmt: skip


def _linked(link_column: Any, values: list[str]) -> ColumnElement[bool]:
    return ARTICLE.c.id.in_(select(link_column.table.c.article_id).where(link_column.in_(values)))


def _claims_where(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return ARTICLE.c.id.in_(select(CLAIM.c.article_id).where(condition))


def _related_to(scope: Scope, value: str) -> ColumnElement[bool]:
    slug = article_slug(value)
    target = scope.session.execute(
        select(ARTICLE.c.id).where(ARTICLE.c.slug == slug, visible(scope.preview))
    ).scalar()
    if target is None:
        raise ApiProblem(422, "Invalid parameter", f"related_to: no article '{slug}'.", parameter="related_to")
    shares_topic = ARTICLE.c.id.in_(
        select(TOPIC.c.article_id).where(TOPIC.c.topic.in_(select(TOPIC.c.topic).where(TOPIC.c.article_id == target)))
    )
    links_to_target = ARTICLE.c.id.in_(
        select(RELATED.c.article_id).where(RELATED.c.target.in_([f"article:{slug}", slug]))
    )
    linked_from_target = (literal("article:") + ARTICLE.c.slug).in_(
        select(RELATED.c.target).where(RELATED.c.article_id == target)
    )
    return (ARTICLE.c.id != target) & (shares_topic | links_to_target | linked_from_target)


def conditions(scope: Scope, params: ArticleParams) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``params``: values within a filter are ORed, filters ANDed."""
    where = [visible(scope.preview)]
    if params.status:
        if not scope.preview:
            raise ApiProblem(403, "Forbidden", "status: filtering by status needs preview access (a bearer token).",
                             parameter="status")
        where.append(ARTICLE.c.status.in_(params.status))
    for link, values in ((TOPIC.c.topic, params.topic), (TAG.c.tag, params.tag), (AUDIENCE.c.audience, params.audience)):
        if values:
            where.append(_linked(link, values))
    if params.series:
        where.append(ARTICLE.c.series_slug.in_(params.series))
    if params.maturity:
        where.append(ARTICLE.c.maturity.in_(params.maturity))
    if params.confidence:
        where.append(_claims_where(CLAIM.c.confidence.in_(params.confidence)))
    if params.min_confidence:
        where.append(_claims_where(CLAIM.c.confidence_rank >= CONFIDENCE_RANK[params.min_confidence]))
    if params.claim_state:
        where.append(_claims_where(state_condition(params.claim_state, scope.today)))
    if params.source_type:
        where.append(_linked(SOURCE.c.type, params.source_type))
    if params.q:
        where.append(ARTICLE.c.id.in_(
            select(KEYWORD.c.article_id).where(KEYWORD.c.text.contains(params.q.lower(), autoescape=True))
        ))  # fmt: skip
    if params.related_to:
        where.append(_related_to(scope, params.related_to))
    for column, low, high in (
        (ARTICLE.c.updated_at, params.updated_since, params.updated_until),
        (ARTICLE.c.published_at, params.published_since, params.published_until),
    ):
        if low:
            where.append(column >= low.isoformat())
        if high:
            where.append(column <= high.isoformat())
    return where


def list_articles(scope: Scope, params: ArticleParams) -> Listing:
    """One page of article summaries (index entry + publishedAt, dek, readingTime, audiences, series)."""
    keyset = SORTS[params.sort]
    where = conditions(scope, params)
    total = scope.session.execute(select(func.count()).select_from(ARTICLE).where(*where)).scalar_one()
    after = decode_cursor(params, len(keyset.columns))
    query = select(*ARTICLE_COLUMNS, *(c.label(f"_k{i}") for i, c in enumerate(keyset.columns))).where(*where)
    if after is not None:
        query = query.where(keyset.after(after))
    rows = scope.session.execute(query.order_by(*keyset.order_by()).limit(params.limit + 1)).mappings().all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    items = summaries(scope, rows)
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(params, [last[f"_k{i}"] for i in range(len(keyset.columns))])
    return Listing(select_fields(items, params.fields, ITEM_FIELDS), total, next_cursor)


def summaries(scope: Scope, rows: Any) -> list[dict[str, Any]]:
    """Article list items for ``rows`` of the article table, in their order."""
    ids = [row["id"] for row in rows]
    topics = grouped(scope.session, TOPIC.c.topic, ids)
    tags = grouped(scope.session, TAG.c.tag, ids)
    audiences = grouped(scope.session, AUDIENCE.c.audience, ids)
    items = []
    for row in rows:
        item = shapes.index_entry(row, topics[row["id"]], tags[row["id"]], scope.site)
        item["publishedAt"] = row["published_at"]
        if row["dek"] is not None:
            item["dek"] = row["dek"]
        if row["reading_time"] is not None:
            item["readingTime"] = row["reading_time"]
        item["audiences"] = audiences[row["id"]]
        item["series"] = shapes.series_of(row)
        items.append(item)
    return items
