"""Aggregates over the whole corpus, computed when it is written and read as rows: /topics and /series.

Computed per request, ``/topics`` read every article_topic row and its article twice (0.8-1.2 s at 50,000
articles, for 126 rows), and ``/series`` every series member (0.8 s). Both depend only on the stored articles,
so ingest computes them in its transaction, after its last write (``refresh``; migration 0010 does the same for
a database upgraded in place), for both kinds of caller: ``preview`` rows over every article, the others over
the published (P) ones, app.queries.common.visible's rule. Readers see the aggregates of the very corpus their
snapshot holds.

``refresh`` recomputes everything, whatever the ingest changed: one grouped query over article_topic and one
read of the series members in series order, 0.45 s at 50,000 articles on SQLite and PostgreSQL (an incremental
refresh is issue 14's).

This module and app.ingest are the only writers of derived tables besides app.fulltext; app.queries.topics and
app.queries.series read them. The series order (``in_series_order``) lives here, since both sides need it (here
it is also the ORDER BY of the members: every text column compares by code point on both databases).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    conn.execute(delete(SERIES_HEAD))
    topics = _topic_counts(conn)
    if topics:
        conn.execute(insert(TOPIC_COUNT), topics)
    heads = _series_heads(conn)
    if heads:
        conn.execute(insert(SERIES_HEAD), heads)


def _topic_counts(conn: Connection) -> list[dict[str, Any]]:
    """Per topic: its articles (an article repeating a topic counts once) and their claims, for every article
    and for the published ones; a topic no published article has gets no public row."""
    pairs = select(TOPIC.c.topic, TOPIC.c.article_id).distinct().subquery()
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
    rows: list[dict[str, Any]] = []
    for topic, articles, claims, public_articles, public_claims in conn.execute(query):
        rows.append({"preview": True, "topic": topic, "article_count": articles, "claim_count": claims})
        if public_articles:
            rows.append({"preview": False, "topic": topic, "article_count": public_articles,
                         "claim_count": public_claims})  # fmt: skip
    return rows


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


def _series_heads(conn: Connection) -> list[dict[str, Any]]:
    """Per series and kind of caller with a member they may read: the first member's title and season (series
    order), the first guide, the member count, the newest update; ``position`` orders the list: newest member
    date first, then slug.

    The members are read in series order: every text column compares by code point on both databases
    (SQLite's BINARY, PostgreSQL's "C", migration 0007), as ``in_series_order`` does."""
    query = (
        select(*_MEMBER)
        .where(ARTICLE.c.series_slug.isnot(None))
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
    rows: list[dict[str, Any]] = []
    for group in heads.values():
        group.sort(key=lambda pair: pair[1]["slug"])
        group.sort(key=lambda pair: pair[0], reverse=True)
        rows += [{**head, "position": position} for position, (_, head) in enumerate(group)]
    return rows
