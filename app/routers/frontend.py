"""Files for frontends and readers: /feed.atom, /sitemap.xml (and its numbered sitemaps) and an article body as
HTML. Every one answers through Context.respond: strong ETag, 304, gzip and the caching headers of every file.

Decided where the issue is silent:

* **The feed holds the ``FEED_ENTRIES`` (50) most recently updated public articles**, newest first. A feed is
  a window a reader polls, not an archive (the sitemap and /articles list everything): 50 covers weeks of a busy
  garden between two polls, and keeps the file near 25 KB.
* **Above ``SITEMAP_LIMIT`` URLs (the protocol's 50,000) /sitemap.xml becomes a sitemap index** listing
  ``/sitemaps/1.xml``, ``/sitemaps/2.xml``, … (slug order, ``SITEMAP_LIMIT`` URLs each), as sitemaps.org
  prescribes; at or under it, /sitemap.xml is the one sitemap and /sitemaps/1.xml lists the same URLs. The
  index's ``<loc>``\\ s are URLs on this API (absolute with GARDEN_PUBLIC_URL, which the protocol requires there).
* **body.html has /articles/{slug}/body's visibility** (404 for a hidden or unknown article, 410 for an archived
  one, 404 for a packet without a body) and a ``Content-Security-Policy`` that lets nothing run if it is opened
  by itself; app.frontend_html says how it is rendered and sanitised.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.frontend_files import atom_feed, sitemap_index, urlset
from app.frontend_html import render_body
from app.http import ContextDep
from app.queries import articles, frontend
from app.queries.common import article_slug, path_segment
from app.queries.params import NoParams

router = APIRouter(tags=["frontends"])

ATOM = "application/atom+xml"
XML = "application/xml"
HTML = "text/html; charset=utf-8"
#: How many articles /feed.atom lists (see the module's docstring).
FEED_ENTRIES = 50
#: The most URLs one sitemap lists (sitemaps.org: 50,000); the tests lower it to check the index form.
SITEMAP_LIMIT = 50_000
#: For the body opened by itself: no script, style sheet, frame or plug-in; images from the web.
BODY_POLICY = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; sandbox"

Nothing = Annotated[NoParams, Query()]
Slug = Annotated[str, Path(description="The article slug, or its id `article:<slug>`.", max_length=200)]
Page = Annotated[int, Path(description="The sitemap's number, from 1, as /sitemap.xml's index lists it.", ge=1,
                           le=1_000_000)]  # fmt: skip


def _text(media_type: str, description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description,
                  "content": {media_type: {"schema": {"type": "string"}, "example": example}}}}  # fmt: skip


FEED_RESPONSE = _text(ATOM, "An Atom feed (RFC 4287).", '<feed xmlns="http://www.w3.org/2005/Atom">…</feed>')
SITEMAP_RESPONSE = _text(XML, "A sitemap (<urlset>) or a sitemap index (<sitemapindex>), sitemaps.org 0.9.",
                         '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">…</urlset>')  # fmt: skip
HTML_RESPONSE = _text(HTML, "An HTML fragment (no <html> or <head>).", "<h2>Thesis</h2>\n<p>…</p>")


@router.get("/feed.atom", response_class=Response, responses=FEED_RESPONSE,
            summary="An Atom feed of the most recently updated public articles")  # fmt: skip
def get_feed(ctx: ContextDep, _: Nothing) -> Response:
    settings = ctx.settings
    self_url = ctx.url("/feed.atom")
    fallback = ctx.corpus.ingested_at or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    body = atom_feed(
        frontend.feed_entries(ctx.scope, FEED_ENTRIES),
        feed_id=self_url if self_url.startswith(("http://", "https://")) else settings.site_url,
        title=settings.site_name,
        subtitle=settings.site_description,
        self_url=self_url,
        site_url=settings.site_url,
        fallback=fallback if fallback.tzinfo is not None else fallback.replace(tzinfo=dt.UTC),
    )
    return ctx.respond(body, ATOM)


@router.get("/sitemap.xml", response_class=Response, responses=SITEMAP_RESPONSE,
            summary="Every public article's URL: a sitemap, or a sitemap index above 50,000")  # fmt: skip
def get_sitemap(ctx: ContextDep, _: Nothing) -> Response:
    pages = frontend.sitemap_pages(ctx.scope, SITEMAP_LIMIT)
    if len(pages) <= 1:
        return ctx.respond(urlset(frontend.sitemap_urls(ctx.scope, 1, SITEMAP_LIMIT)), XML)
    return ctx.respond(sitemap_index(pages, lambda number: ctx.url(f"/sitemaps/{number}.xml")), XML)


@router.get("/sitemaps/{page}.xml", response_class=Response, responses=SITEMAP_RESPONSE,
            summary="One numbered sitemap of the sitemap index")  # fmt: skip
def get_numbered_sitemap(ctx: ContextDep, page: Page, _: Nothing) -> Response:
    return ctx.respond(urlset(frontend.sitemap_urls(ctx.scope, page, SITEMAP_LIMIT)), XML)


@router.get("/articles/{slug}/body.html", response_class=Response, responses=HTML_RESPONSE,
            summary="The article body as an HTML fragment, claim markers linked to their claims")  # fmt: skip
def get_body_html(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    markdown = articles.article_body(ctx.scope, slug)
    prefix = f"/claims/article:{path_segment(article_slug(slug))}:"
    body = render_body(markdown, lambda claim: ctx.url(prefix + claim))
    ctx.headers["Content-Security-Policy"] = BODY_POLICY
    return ctx.respond(body.encode(), HTML)
