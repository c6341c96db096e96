"""Sources: the filtered list, an article's sources, and one source with the claims that cite it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from app import shapes
from app.queries.claims import CLAIM_ROW, OWNER, by_article, by_topic, claim_items, on_row
from app.queries.common import (
    ARTICLE,
    CLAIM,
    EVIDENCE,
    SOURCE,
    Listing,
    Scope,
    article_slug,
    find_article,
)
from app.queries.errors import NotFound
from app.queries.paging import Keyset, finish
from app.queries.params import SourceParams
from app.queries.plan import Filter, ListQuery, fetch

KEYSET = Keyset([SOURCE.c.dir_key, SOURCE.c.position])  # on the source row: ix_source_public_feed serves it
ITEM_FIELDS = ("articleId", "slug", "sourceId", "title", "type", "url", "accessed", "articleUrl", "citedBy")
_ROW = [*SOURCE.c, ARTICLE.c.slug, ARTICLE.c.canonical_path]


def filters(scope: Scope, params: SourceParams) -> list[Filter]:
    """The filters of ``params`` over the source row (app.queries.plan)."""
    dialect = scope.dialect
    found = []
    if params.type:
        found.append(on_row(dialect, SOURCE, SOURCE.c.type.in_(params.type), "type", params.type))
    if params.article:
        found.append(by_article(SOURCE, OWNER.c.slug.in_([article_slug(value) for value in params.article])))
    if params.topic:
        found.append(by_topic(SOURCE, params.topic))
    if params.url:
        found.append(on_row(dialect, SOURCE, SOURCE.c.url.in_(params.url), "url", params.url))
    if params.cited is not None:
        condition = SOURCE.c.cited_by > 0 if params.cited else SOURCE.c.cited_by == 0
        found.append(on_row(dialect, SOURCE, condition, "cited", ["true" if params.cited else "false"]))
    return found


def source_items(scope: Scope, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Sources-feed rows (§2.5) plus citedBy: how many of the article's claims cite the source."""
    items = []
    for row in rows:
        item = shapes.source_feed_row(row, row["slug"], shapes.article_url(scope.site, row["canonical_path"]))
        item["citedBy"] = row["cited_by"]
        items.append(item)
    return items


def list_sources(scope: Scope, params: SourceParams) -> Listing:
    """One page of sources in feed order, read as app.queries.plan decides."""
    public = None if scope.preview else SOURCE.c.is_public.is_(True)
    joined = SOURCE.join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id)
    query = ListQuery("sources", SOURCE, _ROW, joined, public, KEYSET, filters(scope, params), scope.dialect,
                      scope.corpus)  # fmt: skip
    page = fetch(scope.session, params, query)
    return finish(page, source_items(scope, page.rows), ITEM_FIELDS)


def article_sources(scope: Scope, slug: str) -> list[dict[str, Any]]:
    article = find_article(scope.session, slug, scope.preview)
    query = (
        select(*_ROW)
        .select_from(SOURCE.join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id))
        .where(SOURCE.c.article_id == article["id"])
        .order_by(SOURCE.c.position)
    )
    return source_items(scope, scope.session.execute(query).mappings().all())


def get_source(scope: Scope, slug: str, source_id: str) -> dict[str, Any]:
    """One source of one article, with the claims that cite it as evidence (source ids are article-scoped)."""
    article = find_article(scope.session, slug, scope.preview)
    row = scope.session.execute(
        select(*_ROW)
        .select_from(SOURCE.join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id))
        .where(SOURCE.c.article_id == article["id"], SOURCE.c.source_id == source_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        raise NotFound(f"The article '{article['slug']}' lists no source '{source_id}'.", "source_id")
    [item] = source_items(scope, [row])
    citing = (
        select(*CLAIM_ROW)
        .select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id))
        .where(CLAIM.c.id.in_(select(EVIDENCE.c.claim_id).where(
            EVIDENCE.c.article_id == article["id"], EVIDENCE.c.source_id == source_id)))
        .order_by(CLAIM.c.position)
    )  # fmt: skip
    item["claims"] = claim_items(scope, scope.session.execute(citing).mappings().all())
    return item
