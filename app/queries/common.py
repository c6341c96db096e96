"""Pieces every query module shares: the tables, visibility, the claim-state condition, article lookup."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar, cast
from urllib.parse import quote

from sqlalchemy import ColumnElement, Select, and_, bindparam, literal_column, or_, select, union_all
from sqlmodel import Session

from app import models
from app.budget import Budget
from app.models import table
from app.queries.errors import Gone, NotFound

T = TypeVar("T")

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


# --- Visibility: the one rule, applied here and nowhere else -------------------------------------------------

#: The statuses that hide an article from anonymous callers, whichever of its files says them.
HIDING_STATUSES = ("draft", "review")


def hides(fm_status: str, status: str) -> bool:
    """Whether an article is hidden from anonymous callers: its front matter OR its artifact says draft or review.

    This is the one visibility rule of the service; :func:`hidden` is the same rule in SQL. It was decided so:

    * **The stricter file wins.** The publisher's generator is looser in one place: garden-queries.json
      selects on the artifact status alone ("published (A)", DATA-CONTRACT §2.8), and the verification report
      and diagnostics.json cover every article (§2.6, §2.7). Served as they are, those files would tell anyone
      the slug, title, claims, topics and tags of an article that one of its files still calls a draft or a
      review. So an article is hidden when either file says draft or review, and an anonymous caller learns
      nothing about it on any surface: not in REST (lists, totals, counts, facets, series, topics, related
      links, sources, a 404 like an unknown slug's on every route), search, MCP, /readyz or an agent file.
    * **Archived stays as the publisher lists it.** An archived article that no file calls draft or review is
      not hidden: REST answers 410 for it and leaves it out of lists (§6), the files built from published (P)
      articles leave it out, as the publisher's do (§2.2: index.json's archives[] group P articles), and the
      verification report and diagnostics.json list it, as the publisher's do (§9.5). An article archived in
      one file and draft or review in the other is hidden: the stricter wins, so it is a 404, not a 410.
    * **With the preview token everything is shown,** and the agent files are exactly the publisher's.
    * **Not hidden: that the corpus changed.** Any ingest that changes the store, a hidden article's included,
      moves ``X-Corpus-Version``, ``Last-Modified`` and the feeds' ETags for everyone; the bodies do not move.

    What each surface shows an anonymous caller is then the publisher's own selection with hidden articles
    taken out: :func:`visible` (published in both files, P, stored by ingest as ``is_public``: not hidden and
    not archived) for REST, search and MCP and the P files; :func:`disclosed` (not hidden) for the reports
    and garden-queries.json.
    """
    return fm_status in HIDING_STATUSES or status in HIDING_STATUSES


def hidden() -> ColumnElement[bool]:
    """:func:`hides` in SQL: the article rows hidden from anonymous callers."""
    return or_(ARTICLE.c.fm_status.in_(HIDING_STATUSES), ARTICLE.c.status.in_(HIDING_STATUSES))


def disclosed(preview: bool) -> ColumnElement[bool]:
    """Articles the caller may learn of at all: every one with preview; anonymous, those not :func:`hidden`
    (published and archived ones). The reports and garden-queries.json select within these."""
    return ARTICLE.c.id.isnot(None) if preview else ~hidden()


def visible(preview: bool) -> ColumnElement[bool]:
    """Articles the caller may read on REST, search and MCP: every one with preview; anonymous, published (P)
    ones, i.e. :func:`disclosed` and not archived (``is_public``, stored by ingest and indexed)."""
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


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


@lru_cache(maxsize=8192)  # /series lists every series' URL: 2,028 at 50,000 articles
def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (``quote(value, safe="")``), without quote's cost for the
    common case, a value of unreserved characters only, which it leaves as it is (/series lists 2,000 URLs)."""
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def article_slug(value: str) -> str:
    """A slug from a slug or an ``article:<slug>`` id."""
    return value.removeprefix("article:")


def grouped(session: Session, column: Any, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: [values in position order]} for a link table column (topics, tags, audiences)."""
    return grouped_columns(session, [column], article_ids)[0]


def grouped_columns(session: Session, columns: Sequence[Any], article_ids: Sequence[int]) -> list[dict[int, list[Any]]]:
    """:func:`grouped` for several link table columns, in one statement (a ``UNION ALL`` tagged by column)."""
    out: list[dict[int, list[Any]]] = [defaultdict(list) for _ in columns]
    if not article_ids:
        return out
    ids = sorted(set(article_ids))
    parts = [
        select(literal_column(str(index)).label("part"), column.table.c.article_id, column.table.c.position,
               column.label("value"))
        .where(column.table.c.article_id.in_(ids))
        for index, column in enumerate(columns)
    ]  # fmt: skip
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    for part, article_id, _position, value in session.execute(query.order_by("part", "article_id", "position")):
        out[part][article_id].append(value)
    return out


# Statements run on most requests are built once: SQLAlchemy then finds each one's compiled form without
# walking it again for a cache key (a third of a statement's cost in Python, measured on /articles/{slug}).
_ARTICLE_BY_SLUG = select(*ARTICLE_COLUMNS).where(ARTICLE.c.slug == bindparam("slug"))
_NEWEST_PUBLIC_UPDATE = (
    select(ARTICLE.c.updated_at).where(ARTICLE.c.is_public.is_(True)).order_by(ARTICLE.c.updated_at.desc()).limit(1)
)


def find_article(
    session: Session, slug_or_id: str, preview: bool, query: Select[Any] = _ARTICLE_BY_SLUG, *, parameter: str = "slug"
) -> Any:
    """The article row for ``/articles/{slug}``: NotFound if absent or hidden (:func:`hides`), Gone if archived,
    each naming ``parameter``, the argument that named the article. ``query`` may add columns to the article's (it
    takes the slug as the parameter ``slug``)."""
    slug = article_slug(slug_or_id)
    row = session.execute(query, {"slug": slug}).mappings().first()
    if row is None:
        raise NotFound(f"No article '{slug}'.", parameter)
    if not preview and not row["is_public"]:
        if hides(row["fm_status"], row["status"]):  # the stricter wins: hidden even where the other says archived
            raise NotFound(f"No article '{slug}'.", parameter)
        raise Gone(f"The article '{slug}' has been archived.", parameter)
    return row


def max_public_updated(session: Session, corpus: Any = None) -> str | None:
    """The newest updatedAt among public articles: the basis of the publisher's generatedAt (kept per corpus,
    :func:`per_corpus`, when ``corpus`` names the one the session reads)."""
    return per_corpus(session, corpus, "newest public update", lambda: session.execute(_NEWEST_PUBLIC_UPDATE).scalar())


#: What :func:`per_corpus` keeps: by (database URL, corpus key, name), the newest few corpora's.
_PER_CORPUS: dict[tuple[str, Any, str], Any] = {}
_PER_CORPUS_ENTRIES = 16
_PER_CORPUS_LOCK = threading.Lock()


def per_corpus(session: Session, corpus: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept in this worker for the corpus ``corpus`` (``Scope.corpus``: its version and ingest
    time) of the session's database, for values that depend on nothing but the stored corpus: an ingest writes
    every table in the transaction that makes its version, so such a value never changes under one key. With
    ``corpus`` None (a caller that did not read it), computed every time."""
    if corpus is None:
        return compute()
    key = (session.get_bind().engine.url.render_as_string(), corpus, name)
    try:
        return cast(T, _PER_CORPUS[key])
    except KeyError:
        value = compute()
    with _PER_CORPUS_LOCK:  # request threads share it
        while len(_PER_CORPUS) >= _PER_CORPUS_ENTRIES:
            del _PER_CORPUS[next(iter(_PER_CORPUS))]
        _PER_CORPUS[key] = value
    return value


class Scope:
    """Who is asking and against what: the session, visibility, today's date, the site URL and repository.

    Query functions take a Scope rather than an HTTP request, so the REST API and the MCP server share them.
    """

    __slots__ = ("corpus", "preview", "repo", "session", "site", "today")

    def __init__(
        self, session: Session, *, preview: bool, today: dt.date, site: str, repo: str, corpus: Any = None
    ) -> None:
        self.session, self.preview, self.today, self.site = session, preview, today, site
        self.repo = repo  #: the content's repository (GARDEN_REPO_URL), behind each packet's sourceGitHubUrl
        #: The corpus version the session reads, as a hashable key that differs per ingest, where the caller
        #: read it (app.http.Context); lookups that depend only on the corpus may then be kept per key.
        self.corpus = corpus

    @property
    def dialect(self) -> str:
        """The database's dialect name: ``sqlite`` or ``postgresql`` (app.fulltext picks its SQL by it)."""
        return self.session.get_bind().dialect.name


class Listing:
    """One page of a list: the items, how many match in all (``relation``: ``eq`` if exactly ``total``,
    ``gte`` if at least; app.queries.plan and app.queries.search), the cursor of the next page (or None), and
    whether a token budget left items out (None when no budget was asked for). With a ``budget``, ``items`` are
    the candidates: the body keeps those that fit (app.budget.fit, where the body is built)."""

    __slots__ = ("budget", "facets", "items", "next_cursor", "relation", "total", "truncated")

    def __init__(
        self,
        items: list[dict[str, Any]],
        total: int,
        next_cursor: str | None,
        *,
        truncated: bool | None = None,
        facets: dict[str, Any] | None = None,
        relation: str = "eq",
        budget: Budget | None = None,
    ) -> None:
        self.items, self.total, self.next_cursor = items, total, next_cursor
        self.truncated, self.facets, self.relation = truncated, facets, relation
        self.budget = budget
