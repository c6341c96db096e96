"""The bytes of /feed.atom (written by feedgen) and /sitemap.xml (the sitemaps.org protocol), from the rows
app.queries.frontend reads.

Decided where the issue is silent:

* **The feed's ids.** An entry's id is its articleUrl (stable across ingests, and what a reader links to). The
  feed's own id is its URL on this API when GARDEN_PUBLIC_URL makes that absolute, else the site's URL
  (GARDEN_SITE_URL): an Atom id must be an absolute IRI, and a relative ``/feed.atom`` is not one. The self
  link is the feed's URL as app.http.api_url writes every link (relative without GARDEN_PUBLIC_URL, which
  Atom allows for links).
* **Dates.** Stored dates are the publisher's ``YYYY-MM-DD``: in the feed they are midnight UTC (Atom needs a
  date-time); in the sitemap they stay dates, a W3C Datetime form. A stored date that is neither a date nor
  an ISO date-time gives no ``<lastmod>`` (optional in the protocol) and, in the feed, the corpus's date.
* **The feed's author** is GARDEN_SITE_NAME: RFC 4287 wants an author on the feed or on every entry, and the
  publisher's articles carry none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from feedgen.feed import FeedGenerator

from app.queries.frontend import SitemapPage

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ENTITIES = {'"': "&quot;", "'": "&apos;"}


def parse_date(value: str | None) -> dt.datetime | None:
    """A stored date or date-time as an aware datetime (a date is midnight UTC; a naive time is UTC), or None."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def w3c_date(value: str | None) -> str | None:
    """``value`` in a W3C Datetime form (https://www.w3.org/TR/NOTE-datetime): a date stays a date, a
    date-time gets its zone (UTC if it had none); None if it is neither."""
    moment = parse_date(value)
    if moment is None or value is None:
        return None
    if len(value) == 10:
        return value
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(
    entries: Iterable[dict[str, Any]], *, feed_id: str, title: str, subtitle: str, self_url: str, site_url: str,
    fallback: dt.datetime,
) -> bytes:  # fmt: skip
    """The Atom document: ``entries`` (app.queries.frontend.feed_entries rows) in their order; the feed's
    ``updated`` is the newest entry's, or ``fallback`` (the corpus's ingest) when there is none."""
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    if subtitle:
        feed.subtitle(subtitle)
    feed.author({"name": title})
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=site_url, rel="alternate", type="text/html")
    newest: dt.datetime | None = None
    for row in entries:
        updated = parse_date(row["updatedAt"]) or fallback
        newest = updated if newest is None else max(newest, updated)
        entry = feed.add_entry(order="append")  # feedgen prepends by default: keep newest first
        entry.id(row["articleUrl"])
        entry.title(row["title"])
        entry.updated(updated)
        published = parse_date(row["publishedAt"])
        if published is not None:
            entry.published(published)
        entry.summary(row["summary"] or row["title"])
        entry.link(href=row["articleUrl"], rel="alternate", type="text/html")
    feed.updated(newest or fallback)
    data: bytes = feed.atom_str(pretty=False)
    return data


def _url(loc: str, lastmod: str | None) -> str:
    date = w3c_date(lastmod)
    modified = f"<lastmod>{date}</lastmod>" if date is not None else ""
    return f"<url><loc>{escape(loc, _ENTITIES)}</loc>{modified}</url>"


def urlset(rows: Iterable[tuple[str, str]]) -> bytes:
    """A sitemap (``<urlset>``): one ``<url>`` per (loc, lastmod), entity-escaped as the protocol asks."""
    body = "\n".join(_url(loc, lastmod) for loc, lastmod in rows)
    return f'{_XML_HEAD}<urlset xmlns="{SITEMAP_NS}">\n{body}\n</urlset>\n'.encode()


def sitemap_index(pages: Iterable[SitemapPage], url_of: Callable[[int], str]) -> bytes:
    """A sitemap index (``<sitemapindex>``): one ``<sitemap>`` per numbered sitemap, its lastmod the newest of
    its URLs'."""
    parts = []
    for page in pages:
        date = w3c_date(page.lastmod)
        modified = f"<lastmod>{date}</lastmod>" if date is not None else ""
        parts.append(f"<sitemap><loc>{escape(url_of(page.number), _ENTITIES)}</loc>{modified}</sitemap>")
    body = "\n".join(parts)
    return f'{_XML_HEAD}<sitemapindex xmlns="{SITEMAP_NS}">\n{body}\n</sitemapindex>\n'.encode()
