"""Aggregates over the whole corpus, computed when it is written and read as rows: /topics and /series.

Computed per request, ``/topics`` read every article_topic row and its article twice (0.8-1.2 s at 50,000
articles, for 126 rows), and ``/series`` every series member (0.8 s). Both depend only on the stored articles,
so ingest computes them in its transaction, after its last write (``refresh``; migration 0010 does the same for
a database upgraded in place), for both kinds of caller: ``preview`` rows over every article, the others over
the published (P) ones, app.queries.common.visible's rule. Readers see the aggregates of the very corpus their
snapshot holds.

``refresh`` recomputes everything: one grouped query over article_topic and one read of the series members in
series order, 0.45 s at 50,000 articles on SQLite and PostgreSQL. An ingest that changed few articles instead
moves the topic counts by what those articles add and take away (``topic_totals`` over them, ``apply_topics``)
and reads the members of the series they are in again (``refresh_series``; every series head keeps its newest
member date, which orders the list, so the others are placed again without reading theirs).

This module and app.ingest are the only writers of derived tables besides app.fulltext; app.queries.topics and
app.queries.series read them. The series order (``in_series_order``) lives here, since both sides need it (here
it is also the ORDER BY of the members: every text column compares by code point on both databases).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select

from app import models
from app.models import table

ARTICLE = table(models.Article)
TOPIC = table(models.ArticleTopic)
TOPIC_COUNT = table(models.TopicCount)
SERIES_HEAD = table(models.SeriesHead)
TABLES = (TOPIC_COUNT, SERIES_HEAD)  # what refresh writes (app.ingest.vacuum analyses them too)

#: The front-matter date; packet-layout articles have none and fall back to publishedAt.
SORT_DATE = func.coalesce(ARTICLE.c.date, ARTICLE.c.published_at)


def in_series_order(rows: Sequence[Any]) -> list[Any]:
    """Members by (order ascending, date descending, slug ascending), independent of the database's collation.
    Rows are mappings with ``series_order``, ``sort_date`` and ``slug``."""
    out = sorted(rows, key=lambda row: row["slug"])
    out.sort(key=lambda row: row["sort_date"], reverse=True)
    out.sort(key=lambda row: row["series_order"])
    return out


def refresh(conn: Connection) -> None:
    """Recompute every aggregate from the article rows as ``conn``'s transaction sees them."""
    conn.execute(delete(TOPIC_COUNT))
    totals = topic_totals(conn)
    topics = [{"preview": preview, "topic": topic, "article_count": articles,
               "claim_count": totals[(preview, topic, "claims")]}
              for (preview, topic, kind), articles in totals.items() if kind == "articles"]  # fmt: skip
    if topics:
        conn.execute(insert(TOPIC_COUNT), topics)
    refresh_series(conn)


def refresh_series(conn: Connection, only: set[str] | None = None) -> None:
    """Recompute the series heads: every one (one read of the series members in series order), or, given
    ``only``, those series' heads from their members and every head's place in the list from one grouped
    query (the newest member date of each series)."""
    if only is None:
        conn.execute(delete(SERIES_HEAD))
        heads = _series_heads(conn)
    else:
        kept = conn.execute(select(SERIES_HEAD).where(SERIES_HEAD.c.slug.not_in(sorted(only)))).mappings().all()
        conn.execute(delete(SERIES_HEAD))
        heads = [dict(head) for head in kept] + (_series_heads(conn, sorted(only)) if only else [])
        heads = _placed(heads)
    if heads:
        conn.execute(insert(SERIES_HEAD), heads)


def series_of(conn: Connection, scope: Callable[[Any], Any]) -> set[str]:
    """The series of the articles ``scope`` admits."""
    query = select(ARTICLE.c.series_slug).where(scope(ARTICLE.c.id), ARTICLE.c.series_slug.isnot(None)).distinct()
    return set(conn.execute(query).scalars())


def _placed(heads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``heads`` with their ``position``: per kind of caller, newest member date first, then slug. Each head
    keeps its newest member date (``newest_date``), so that a series no change touched is placed again without
    reading its members (reading every series' dates cost a one-article ingest 0.17 s at 50,000 articles)."""
    out: list[dict[str, Any]] = []
    for preview in (False, True):
        group = sorted((head for head in heads if bool(head["preview"]) == preview), key=lambda head: head["slug"])
        group.sort(key=lambda head: head["newest_date"], reverse=True)
        out += [{**head, "position": position} for position, head in enumerate(group)]
    return out


def topic_totals(conn: Connection, scope: Callable[[Any], Any] | None = None) -> Counter[tuple[bool, str, str]]:
    """Per (preview, topic, "articles" or "claims"): the articles having the topic (an article repeating a topic
    counts once) and their claims, over every article (preview) and over the published ones, restricted to the
    articles ``scope`` admits. A topic no published article has gets no public entry."""
    linked = select(TOPIC.c.topic, TOPIC.c.article_id)
    pairs = (linked.where(scope(TOPIC.c.article_id)) if scope else linked).distinct().subquery()
    public = ARTICLE.c.is_public.is_(True)
    query = (
        select(
            pairs.c.topic,
            func.count(),
            func.coalesce(func.sum(ARTICLE.c.claim_count), 0),
            func.coalesce(func.sum(case((public, 1), else_=0)), 0),
            func.coalesce(func.sum(case((public, ARTICLE.c.claim_count), else_=0)), 0),
        )
        .join(ARTICLE, ARTICLE.c.id == pairs.c.article_id)
        .group_by(pairs.c.topic)
    )
    totals: Counter[tuple[bool, str, str]] = Counter()
    for topic, articles, claims, public_articles, public_claims in conn.execute(query):
        totals[(True, topic, "articles")], totals[(True, topic, "claims")] = articles, claims
        if public_articles:
            totals[(False, topic, "articles")], totals[(False, topic, "claims")] = public_articles, public_claims
    return totals


def apply_topics(conn: Connection, delta: Counter[tuple[bool, str, str]]) -> None:
    """Move the stored topic counts by ``delta`` (the written articles' totals minus the replaced ones'); a
    topic left with no article (of that kind of caller) goes."""
    touched = {(preview, topic) for (preview, topic, _), change in delta.items() if change}
    for preview, topic in sorted(touched):
        where = (TOPIC_COUNT.c.preview.is_(preview)) & (TOPIC_COUNT.c.topic == topic)
        row = conn.execute(select(TOPIC_COUNT.c.article_count, TOPIC_COUNT.c.claim_count).where(where)).first()
        articles = (row.article_count if row else 0) + delta[(preview, topic, "articles")]
        claims = (row.claim_count if row else 0) + delta[(preview, topic, "claims")]
        if row is not None:
            conn.execute(delete(TOPIC_COUNT).where(where))
        if articles > 0:
            conn.execute(insert(TOPIC_COUNT).values(preview=preview, topic=topic, article_count=articles,
                                                    claim_count=claims))  # fmt: skip


_MEMBER = (
    ARTICLE.c.series_slug,
    ARTICLE.c.is_public,
    ARTICLE.c.slug,
    ARTICLE.c.title,
    ARTICLE.c.updated_at,
    ARTICLE.c.series_title,
    ARTICLE.c.series_season,
    ARTICLE.c.series_role,
    SORT_DATE,
)


def _series_heads(conn: Connection, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Per series and kind of caller with a member they may read: the first member's title and season (series
    order), the first guide, the member count, the newest update and the newest member date; of every series
    (``only`` None) with its ``position`` in the list, else of the series ``only`` names, to be placed.

    The members are read in series order: every text column compares by code point on both databases
    (SQLite's BINARY, PostgreSQL's "C", migration 0007), as ``in_series_order`` does."""
    query = (
        select(*_MEMBER)
        .where(ARTICLE.c.series_slug.isnot(None) if only is None else ARTICLE.c.series_slug.in_(only))
        .order_by(ARTICLE.c.series_slug, ARTICLE.c.series_order, SORT_DATE.desc(), ARTICLE.c.slug)
    )
    heads: dict[bool, list[tuple[str, dict[str, Any]]]] = {False: [], True: []}
    for member in conn.execute(query):
        series, public, slug, title, updated, series_title, season, role, date = member
        for preview in (False, True) if public else (True,):
            group = heads[preview]
            if not group or group[-1][1]["slug"] != series:  # the series' first member (in order) is its head
                group.append((date, {"preview": preview, "slug": series, "title": series_title, "season": season,
                                     "member_count": 0, "guide_slug": None, "guide_title": None,
                                     "newest_update": updated}))  # fmt: skip
            head = group[-1][1]
            head["member_count"] += 1
            head["newest_update"] = max(head["newest_update"], updated)
            if role == "guide" and head["guide_slug"] is None:
                head["guide_slug"], head["guide_title"] = slug, title
            group[-1] = (max(group[-1][0], date), head)
    rows = [{**head, "newest_date": date} for group in heads.values() for date, head in group]
    return rows if only is not None else _placed(rows)
