"""What the frontend files read: the Atom feed's newest articles and the sitemap's article URLs.

Decided where the issue is silent:

* **Public articles only, with or without the preview token.** /feed.atom and /sitemap.xml are publication
  files: a feed reader or a search engine handed a preview URL would publish drafts. A preview reader lists
  drafts with ``/articles?status=draft``. (A request with the token still gets ``Cache-Control: private``, as
  every preview request does: app.http.)
* **Key order, no per-article query.** The feed walks ``ix_article_public_updated`` from its newest end and
  stops after its entries; the sitemap reads one page of public articles in slug order (the unique slug index),
  two columns a row, and its index is one grouped statement over the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app import shapes
from app.queries.common import ARTICLE, Scope
from app.queries.errors import NotFound

_PUBLIC = ARTICLE.c.is_public.is_(True)


@dataclass(frozen=True, slots=True)
class SitemapPage:
    """One numbered sitemap of an index: its number (from 1), how many URLs it lists, its newest lastmod."""

    number: int
    count: int
    lastmod: str


def feed_entries(scope: Scope, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` most recently updated public articles, newest first (ties by slug, descending, as the
    index walks): slug, title, summary, articleUrl, updatedAt, publishedAt."""
    query = (
        select(ARTICLE.c.slug, ARTICLE.c.title, ARTICLE.c.summary, ARTICLE.c.canonical_path, ARTICLE.c.updated_at,
               ARTICLE.c.published_at)
        .where(_PUBLIC)
        .order_by(ARTICLE.c.updated_at.desc(), ARTICLE.c.slug.desc())
        .limit(limit)
    )  # fmt: skip
    return [
        {
            "slug": row.slug,
            "title": row.title,
            "summary": row.summary,
            "articleUrl": shapes.article_url(scope.site, row.canonical_path),
            "updatedAt": row.updated_at,
            "publishedAt": row.published_at,
        }
        for row in scope.session.execute(query)
    ]


def sitemap_pages(scope: Scope, limit: int) -> list[SitemapPage]:
    """The public articles in slug order cut into sitemaps of ``limit`` URLs: one row per sitemap, from one
    statement (row_number over the slug order, grouped by page)."""
    ranked = select(
        ARTICLE.c.updated_at, (func.row_number().over(order_by=ARTICLE.c.slug) - 1).label("n")
    ).where(_PUBLIC).subquery()  # fmt: skip
    page = (ranked.c.n // limit).label("page")
    query = select(page, func.count(), func.max(ranked.c.updated_at)).group_by(page).order_by(page)
    return [SitemapPage(int(number) + 1, count, lastmod) for number, count, lastmod in scope.session.execute(query)]


def sitemap_urls(scope: Scope, number: int, limit: int) -> list[tuple[str, str]]:
    """(articleUrl, updatedAt) of sitemap ``number`` (from 1): the public articles ranked ``(number - 1) ×
    limit`` onwards in slug order, ``limit`` at most. NotFound (``page``) for a number past the last sitemap;
    sitemap 1 of an empty corpus is empty, not missing."""
    query = (
        select(ARTICLE.c.canonical_path, ARTICLE.c.updated_at)
        .where(_PUBLIC)
        .order_by(ARTICLE.c.slug)
        .offset((number - 1) * limit)
        .limit(limit)
    )
    url = shapes.article_urls(scope.site)
    rows = [(url(path), updated) for path, updated in scope.session.execute(query)]
    if not rows and number > 1:
        raise NotFound(f"No sitemap {number}: /sitemap.xml lists the sitemaps there are.", "page")
    return rows
