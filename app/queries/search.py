"""Ranked full-text search over claims, articles and sources (the index: app.fulltext).

Hits are ranked by the database's full-text ranking (app.fulltext: bm25, or ts_rank) with the primary text
weighted over the secondary (claim text over its evidence and counterevidence; title over summary, dek and
thesis). The /claims filters narrow claim hits; ``topic``,
``series`` and ``article`` narrow article and source hits too, and a claim-only filter (confidence, state, …)
limits the search to claims. Facets count the matching claims by confidence, state, topic and series;
the first page carries them (later pages have ``facets: null``).
A source hit's own source type is ``sourceType``: ``type`` names the kind of hit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, func, select
from sqlmodel import Session

from app import derive, fulltext
from app.budget import fitting
from app.problems import ApiProblem, malformed_cursor
from app.queries import claims as claim_queries
from app.queries.articles import ITEM_FIELDS as ARTICLE_FIELDS
from app.queries.articles import summaries
from app.queries.common import ARTICLE, ARTICLE_COLUMNS, CLAIM, SOURCE, TOPIC, Listing, Scope, article_slug, visible
from app.queries.paging import decode_cursor, encode_cursor, select_fields
from app.queries.params import SearchParams
from app.queries.sources import ITEM_FIELDS as SOURCE_FIELDS
from app.queries.sources import source_items

CLAIM_ONLY = ("confidence", "min_confidence", "status", "verification", "state", "has_counterevidence", "supports",
              "source")  # fmt: skip
#: What ``fields=`` may name: the hit's own keys, then those of the claim, article and source rows.
HIT_FIELDS = tuple(dict.fromkeys((
    "type", "score", "snippet", *claim_queries.ITEM_FIELDS, *ARTICLE_FIELDS,
    *("sourceType" if name == "type" else name for name in SOURCE_FIELDS),
)))  # fmt: skip


def _kinds(params: SearchParams) -> list[str]:
    if params.type:
        return list(dict.fromkeys(params.type))
    claim_only = any(getattr(params, name) not in (None, []) for name in CLAIM_ONLY)
    return ["claims"] if claim_only else ["claims", "articles", "sources"]


def _hits(dialect: str, kind: str, match: str) -> Any:
    return (
        fulltext.hits_sql(dialect, kind)
        .bindparams(match=match)
        .columns(ref=Integer, score=Float)
        .subquery(f"{kind}_hits")
    )


def _scope_where(scope: Scope, params: SearchParams, article_key: Any) -> list[ColumnElement[bool]]:
    """topic, series and article narrow every kind of hit."""
    where = [visible(scope.preview)]
    if params.topic:
        where.append(article_key.in_(select(TOPIC.c.article_id).where(TOPIC.c.topic.in_(params.topic))))
    if params.series:
        where.append(ARTICLE.c.series_slug.in_(params.series))
    if params.article:
        where.append(ARTICLE.c.slug.in_([article_slug(value) for value in params.article]))
    return where


def _ranked(session: Session, query: Any, limit: int) -> list[Any]:
    return list(session.execute(query.limit(limit)).mappings())


def search(scope: Scope, params: SearchParams) -> Listing:
    """One page of hits, best first, each with type, score, snippet and the fields of its /claims, /articles
    or /sources row; the facets of the matching claims."""
    words = fulltext.terms(params.q)
    if not words:
        raise ApiProblem(422, "Invalid parameter", "q: give at least one word to search for.", parameter="q")
    match = fulltext.match_expression(scope.dialect, words)
    resume = decode_cursor(params, 1)
    offset = resume[0] if resume else 0
    if not isinstance(offset, int) or offset < 0:
        raise malformed_cursor()
    window = offset + params.limit + 1
    session, kinds = scope.session, _kinds(params)
    candidates: list[tuple[float, str, int]] = []
    total, facets = 0, None

    if "claims" in kinds:
        hits = _hits(scope.dialect, "claim", match)
        joined = hits.join(CLAIM, CLAIM.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
        # The /claims filters, except q: here q is the full-text query, not a substring filter.
        filters = claim_queries.conditions(scope, params.model_copy(update={"q": None}))
        where = [*filters, *_scope_where(scope, params, CLAIM.c.article_id)]
        total += session.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        query = select(hits.c.ref, hits.c.score).select_from(joined).where(*where)
        rows = _ranked(session, query.order_by(hits.c.score.desc(), hits.c.ref), window)
        candidates += [(row["score"], "claim", row["ref"]) for row in rows]
        if params.cursor is None:  # facets describe the whole matching set: the first page carries them
            facets = _facets(scope, select(CLAIM.c.id).select_from(joined).where(*where))
    if "articles" in kinds:
        hits = _hits(scope.dialect, "article", match)
        joined = hits.join(ARTICLE, ARTICLE.c.id == hits.c.ref)
        where = _scope_where(scope, params, ARTICLE.c.id)
        total += session.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        query = select(hits.c.ref, hits.c.score).select_from(joined).where(*where)
        rows = _ranked(session, query.order_by(hits.c.score.desc(), hits.c.ref), window)
        candidates += [(row["score"], "article", row["ref"]) for row in rows]
    if "sources" in kinds:
        hits = _hits(scope.dialect, "source", match)
        joined = hits.join(SOURCE, SOURCE.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id)
        where = _scope_where(scope, params, SOURCE.c.article_id)
        total += session.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
        query = select(hits.c.ref, hits.c.score).select_from(joined).where(*where)
        rows = _ranked(session, query.order_by(hits.c.score.desc(), hits.c.ref), window)
        candidates += [(row["score"], "source", row["ref"]) for row in rows]

    candidates.sort(key=lambda hit: (-hit[0], hit[1], hit[2]))
    chosen = candidates[offset : offset + params.limit]
    more = len(candidates) > offset + params.limit
    items = select_fields(_items(scope, chosen, match, params.include), params.fields, HIT_FIELDS)
    next_offset = offset + len(items) if more else None
    truncated = None
    if params.max_tokens is not None:
        envelope = {"items": [], "total": total, "next": "…", "truncated": True, "facets": facets}
        kept = fitting(items, envelope, params.max_tokens)
        truncated = kept < len(items)
        if truncated:
            items, next_offset = items[:kept], offset + kept
    next_cursor = encode_cursor(params, [next_offset]) if next_offset is not None else None
    return Listing(items, total, next_cursor, truncated=truncated, facets=facets)


def _items(scope: Scope, chosen: list[tuple[float, str, int]], match: str, include: list[str]) -> list[dict[str, Any]]:
    """The hits as items, in rank order: type, score and snippet first, then the row's own fields."""
    session = scope.session
    refs = {kind: [ref for _, k, ref in chosen if k == kind] for kind in ("claim", "article", "source")}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    snippets: dict[tuple[str, int], str] = {}
    for kind, wanted in refs.items():
        if wanted:
            marked = session.execute(fulltext.snippets_sql(scope.dialect, kind), {"match": match, "refs": wanted})
            snippets.update(((kind, ref), snippet) for ref, snippet in marked)
    if refs["claim"]:
        query = (
            select(*claim_queries.CLAIM_ROW)
            .select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id))
            .where(CLAIM.c.id.in_(refs["claim"]))
        )
        found = session.execute(query).mappings().all()
        for row, item in zip(found, claim_queries.claim_items(scope, found, include), strict=True):
            rows[("claim", row["id"])] = item
    if refs["article"]:
        found = session.execute(select(*ARTICLE_COLUMNS).where(ARTICLE.c.id.in_(refs["article"]))).mappings().all()
        for row, item in zip(found, summaries(scope, found), strict=True):
            rows[("article", row["id"])] = item
    if refs["source"]:
        query = (
            select(*SOURCE.c, ARTICLE.c.slug, ARTICLE.c.canonical_path)
            .select_from(SOURCE.join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id))
            .where(SOURCE.c.id.in_(refs["source"]))
        )
        found = session.execute(query).mappings().all()
        for row, item in zip(found, source_items(scope, found), strict=True):
            # The hit's own ``type`` says "source"; the source's type (paper, report, …) moves to sourceType.
            rows[("source", row["id"])] = {"sourceType" if key == "type" else key: value for key, value in item.items()}
    return [
        {"type": kind, "score": round(score, 6), "snippet": snippets[(kind, ref)], **rows[(kind, ref)]}
        for score, kind, ref in chosen
    ]


def _facets(scope: Scope, matching: Any) -> dict[str, list[dict[str, Any]]]:
    """Counts of the matching claims by confidence, computed state, topic and series, largest first."""
    session, ids = scope.session, matching.subquery()
    in_set = CLAIM.c.id.in_(select(ids.c.id))
    confidence = session.execute(select(CLAIM.c.confidence, func.count()).where(in_set).group_by(CLAIM.c.confidence))
    states: Counter[str] = Counter()
    grouped = select(CLAIM.c.state_base, CLAIM.c.stale_from, func.count()).where(in_set)
    for base, stale_from, count in session.execute(grouped.group_by(CLAIM.c.state_base, CLAIM.c.stale_from)):
        states[derive.ClaimState(base, stale_from).on(scope.today)] += count
    topics = session.execute(
        select(TOPIC.c.topic, func.count(func.distinct(CLAIM.c.id)))
        .select_from(CLAIM.join(TOPIC, TOPIC.c.article_id == CLAIM.c.article_id))
        .where(in_set).group_by(TOPIC.c.topic)
    )  # fmt: skip
    series = session.execute(
        select(ARTICLE.c.series_slug, func.count())
        .select_from(CLAIM.join(ARTICLE, and_(ARTICLE.c.id == CLAIM.c.article_id, ARTICLE.c.series_slug.isnot(None))))
        .where(in_set).group_by(ARTICLE.c.series_slug)
    )  # fmt: skip

    def ranked(pairs: Any, key: str) -> list[dict[str, Any]]:
        return [{key: value, "count": count} for value, count in sorted(pairs, key=lambda p: (-p[1], str(p[0])))]

    return {
        "confidence": ranked(confidence, "confidence"),
        "state": ranked(states.items(), "state"),
        "topic": ranked(topics, "topic"),
        "series": ranked(series, "series"),
    }
