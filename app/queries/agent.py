"""The reads behind the publisher's agent files (app.agent.files, app.agent.reports): the same statements the
builders ran themselves before, moved here so that all SQL lives under app/queries/.

Each function is one statement, as before, so a file costs the round trips it did. The feeds are read in chunks
(:func:`chunks`), so memory stays flat however large the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlmodel import Session

from app.queries.common import ARTICLE, CLAIM, DIAGNOSTIC, DOCUMENT, EDGE, SOURCE, TAG, TOPIC, disclosed, grouped

ROW_CHUNK = 1000

#: Which articles a file is built over: every one the caller may learn of, the published (P) ones, or those whose
#: artifact says published ("published (A)", garden-queries.json).
Selection = Literal["disclosed", "public", "artifact-published"]
_SELECTIONS: dict[str, ColumnElement[bool]] = {
    "disclosed": true(),
    "public": ARTICLE.c.is_public.is_(True),
    "artifact-published": ARTICLE.c.status == "published",
}
Feed = Literal["claims", "sources", "edges"]


def articles(session: Session, preview: bool, which: Selection = "disclosed") -> list[Any]:
    """The article rows of ``which`` that the caller may learn of (``disclosed``), in dir order."""
    query = select(ARTICLE).where(disclosed(preview), _SELECTIONS[which]).order_by(ARTICLE.c.dir_key)
    return list(session.execute(query).mappings())


def topics_of(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """{article id: its topics in order}."""
    return grouped(session, TOPIC.c.topic, article_ids)


def tags_of(session: Session, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """{article id: its tags in order}."""
    return grouped(session, TAG.c.tag, article_ids)


def public_packet_row(session: Session, slug: str) -> Any:
    """The published (P) article ``slug`` with its stored artifact JSON, or None."""
    return session.execute(
        select(ARTICLE, DOCUMENT.c.artifact_json)
        .join(DOCUMENT, DOCUMENT.c.article_id == ARTICLE.c.id)
        .where(ARTICLE.c.slug == slug, ARTICLE.c.is_public.is_(True))
    ).mappings().first()  # fmt: skip


def public_agent_markdown(session: Session, slug: str) -> str | None:
    """The stored agent.md of the published (P) article ``slug``, or None."""
    markdown: str | None = session.execute(
        select(DOCUMENT.c.agent_md)
        .join(ARTICLE, DOCUMENT.c.article_id == ARTICLE.c.id)
        .where(ARTICLE.c.slug == slug, ARTICLE.c.is_public.is_(True))
    ).scalar()  # fmt: skip
    return markdown


def _public_join(child: Any) -> Any:
    return child.join(ARTICLE, and_(ARTICLE.c.id == child.c.article_id, ARTICLE.c.is_public.is_(True)))


def claims_query() -> Select[Any]:
    """Claims of published (P) articles in feed order (dir order, then claim order), with slug and path."""
    return (
        select(CLAIM, ARTICLE.c.slug, ARTICLE.c.canonical_path)
        .select_from(_public_join(CLAIM))
        .order_by(ARTICLE.c.dir_key, CLAIM.c.position)
    )


def sources_query() -> Select[Any]:
    """Sources of published (P) articles in feed order, with slug and path."""
    return (
        select(SOURCE, ARTICLE.c.slug, ARTICLE.c.canonical_path)
        .select_from(_public_join(SOURCE))
        .order_by(ARTICLE.c.dir_key, SOURCE.c.position)
    )


def edges_query() -> Select[Any]:
    """Edges of public articles in localeCompare order of ``from:type:to`` (stored sort keys; stored merged)."""
    return select(EDGE.c.source, EDGE.c.type, EDGE.c.target).select_from(_public_join(EDGE)).order_by(EDGE.c.sort_key)


_FEEDS = {"claims": claims_query, "sources": sources_query, "edges": edges_query}


def feed_chunks(session: Session, feed: Feed) -> Iterator[Sequence[Any]]:
    """The rows of ``feed`` (mappings), ``ROW_CHUNK`` at a time, read as they are consumed."""
    query = _FEEDS[feed]().execution_options(yield_per=ROW_CHUNK)
    yield from session.execute(query).mappings().partitions()


def feed_count(session: Session, feed: Feed) -> int:
    """How many rows ``feed`` has (one COUNT over its statement, the order dropped)."""
    query = _FEEDS[feed]().order_by(None).subquery()
    return int(session.execute(select(func.count()).select_from(query)).scalar_one())


def graph_edges(session: Session) -> list[Any]:
    """Every edge of the public graph with its reviewedAt, in sort-key order."""
    query = (
        select(EDGE.c.source, EDGE.c.type, EDGE.c.target, EDGE.c.reviewed_at)
        .select_from(_public_join(EDGE))
        .order_by(EDGE.c.sort_key)
    )
    return list(session.execute(query))


def claims_by_article(session: Session, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: its claim rows in order}."""
    return by_article(session, CLAIM, article_ids)


def sources_by_article(session: Session, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: its source rows in order}."""
    return by_article(session, SOURCE, article_ids)


def by_article(session: Session, child: Any, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: rows of ``child`` (claims, sources) in position order}, for the articles ``article_ids``."""
    out: dict[int, list[Any]] = defaultdict(list)
    if article_ids:
        query = select(child).where(child.c.article_id.in_(article_ids))
        for row in session.execute(query.order_by(child.c.article_id, child.c.position)).mappings():
            out[row["article_id"]].append(row)
    return out


def generator_findings(session: Session, article_ids: Sequence[int], today: str) -> dict[int, list[Any]]:
    """{article id: the publisher's findings active on ``today`` (ISO date), in order} for ``article_ids``."""
    out: dict[int, list[Any]] = defaultdict(list)
    if not article_ids:
        return out
    query = (
        select(DIAGNOSTIC)
        .where(DIAGNOSTIC.c.origin == "generator", DIAGNOSTIC.c.article_id.in_(article_ids))
        .order_by(DIAGNOSTIC.c.article_id, DIAGNOSTIC.c.position)
    )
    for finding in session.execute(query).mappings():
        if finding["active_from"] is None or finding["active_from"] <= today:
            out[finding["article_id"]].append(finding)
    return out
