"""Topics: every topic of the visible articles with its counts, and one topic with its articles in dir order.

A topic is a value of ``artifact.topics`` (DATA-CONTRACT §2.2/§2.3); its label is the topic with "-" replaced
by " ". An article that repeats a topic counts once, and so do its claims.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.aggregates import TOPIC_COUNT
from app.queries.articles import summaries
from app.queries.common import ARTICLE, ARTICLE_COLUMNS, TOPIC, Scope, path_segment, visible
from app.queries.errors import NotFound

#: Builds an absolute URL on the serving API from a path (``Context.url`` in the REST API).
UrlFor = Callable[[str], str]


def label(topic: str) -> str:
    return topic.replace("-", " ")


def topic_path(topic: str) -> str:
    return f"/topics/{path_segment(topic)}"


def dir_order(key: str) -> bytes:
    """Sort key of the publisher's dir order: UTF-16 code units, whatever the database's collation."""
    return key.encode("utf-16-be")


def list_topics(scope: Scope, url_for: UrlFor) -> list[dict[str, Any]]:
    """Every topic of a visible article, by topic (code-point order), with article and claim counts (stored by
    ingest: app.aggregates)."""
    query = select(TOPIC_COUNT.c.topic, TOPIC_COUNT.c.article_count, TOPIC_COUNT.c.claim_count).where(
        TOPIC_COUNT.c.preview == scope.preview
    )
    rows = sorted(scope.session.execute(query).all(), key=lambda row: row[0])
    return [
        {
            "topic": topic,
            "label": label(topic),
            "articleCount": int(articles),
            "claimCount": int(claims),
            "url": url_for(topic_path(topic)),
        }
        for topic, articles, claims in rows
    ]


def get_topic(scope: Scope, topic: str) -> dict[str, Any]:
    """One topic: its visible articles as /articles list items, in dir order."""
    rows: list[Any] = []
    if "\x00" not in topic:
        tagged = select(TOPIC.c.article_id).where(TOPIC.c.topic == topic)
        query = select(*ARTICLE_COLUMNS).where(visible(scope.preview), ARTICLE.c.id.in_(tagged))
        rows = sorted(scope.session.execute(query).mappings().all(), key=lambda row: dir_order(row["dir_key"]))
    if not rows:
        raise NotFound(f"No article has the topic '{topic}'.", "topic")
    return {
        "topic": topic,
        "label": label(topic),
        "articleCount": len(rows),
        "claimCount": sum(row["claim_count"] for row in rows),
        "articles": summaries(scope, rows),
    }
