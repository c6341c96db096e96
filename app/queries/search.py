"""Ranked full-text search over claims, articles and sources (the index: app.fulltext).

Hits are ranked by the database's full-text ranking (app.fulltext: bm25, or ts_rank) with the primary text
weighted over the secondary (claim text over its evidence and counterevidence; title over summary, dek and
thesis). The /claims filters narrow claim hits; ``topic``,
``series`` and ``article`` narrow article and source hits too, and a claim-only filter (confidence, state, …)
limits the search to claims. Facets count the matching claims by confidence, state, topic and series;
the first page carries them (later pages have ``facets: null``).
A source hit's own source type is ``sourceType``: ``type`` names the kind of hit.

The order is total and made of what the content says, never of row ids (which change when an article is
re-ingested): score, then the kind (article, claim, source: alphabetical, as ties between kinds were ordered
before), then the hit's stable id (:class:`Key`). Cursors are keyset: they carry the last hit's key, bound to
the query and filters (app.queries.paging), and the next page is the hits ranked strictly after it: between
ingests a boundary never moves, and hits that come or go above it make the next page neither repeat nor skip.
(An ingest that changes public documents can change every bm25 score on SQLite; a cursor then resumes at its
score's place in the new ranking.) Anonymous callers are ranked over public documents only (app.fulltext), so
a hidden article moves no public score, order, facet or total.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, func, or_, select, tuple_
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

#: The kinds of hit, in the order that breaks score ties between kinds.
KINDS = ("article", "claim", "source")
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


@dataclass(frozen=True)
class Key:
    """Where a hit stands in the ranking: score (higher first), then kind (:data:`KINDS` order), then the hit's
    own stable id (a claim's global id; an article's slug; a source's article slug and sourceId), which ingest
    never renumbers, so that ties keep their order through any re-ingest and on both databases."""

    score: float
    kind: str
    ident: tuple[str, str]  # (claim id, "") | (slug, "") | (slug, sourceId)

    def rank(self) -> tuple[float, str, str, str]:
        return (-self.score, self.kind, *self.ident)

    def cursor(self) -> list[Any]:
        # The score as text: cursors hold strings and integers only; repr round-trips a float exactly.
        return [repr(self.score), self.kind, *self.ident]


def _resume(params: SearchParams) -> Key | None:
    """The key a cursor resumes after, or None on the first page; a 400 for any key this API did not make."""
    key = decode_cursor(params, 4)
    if key is None:
        return None
    score, kind, *ident = key
    if not (isinstance(score, str) and kind in KINDS and all(isinstance(part, str) for part in ident)):
        raise malformed_cursor()
    try:
        value = float(score)
    except ValueError:
        raise malformed_cursor() from None
    if not math.isfinite(value):
        raise malformed_cursor()
    return Key(value, kind, (ident[0], ident[1]))


@dataclass
class _Matches:
    """The hits of one kind joined to their rows, the conditions they must meet and their stable id columns."""

    kind: str
    hits: Any
    joined: Any
    where: list[ColumnElement[bool]]
    ident: list[ColumnElement[str]]

    def after(self, key: Key) -> ColumnElement[bool]:
        """The hits ranked strictly after ``key``."""
        score: ColumnElement[float] = self.hits.c.score
        if self.kind != key.kind:
            return score < key.score if self.kind < key.kind else score <= key.score
        mine = self.ident[0] > key.ident[0] if len(self.ident) == 1 else tuple_(*self.ident) > tuple_(*key.ident)
        return or_(score < key.score, and_(score == key.score, mine))


def _matches(scope: Scope, params: SearchParams, kind: str, match: str) -> _Matches:
    hits = (
        fulltext.hits_sql(scope.dialect, kind, public=not scope.preview)
        .bindparams(match=match)
        .columns(ref=Integer, score=Float)
        .subquery(f"{kind}_hits")
    )
    if kind == "claim":
        joined = hits.join(CLAIM, CLAIM.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
        # The /claims filters, except q: here q is the full-text query, not a substring filter.
        filters = claim_queries.conditions(scope, params.model_copy(update={"q": None}))
        return _Matches(kind, hits, joined, [*filters, *_scope_where(scope, params, CLAIM.c.article_id)],
                        [CLAIM.c.claim_id])  # fmt: skip
    if kind == "article":
        joined = hits.join(ARTICLE, ARTICLE.c.id == hits.c.ref)
        return _Matches(kind, hits, joined, _scope_where(scope, params, ARTICLE.c.id), [ARTICLE.c.slug])
    joined = hits.join(SOURCE, SOURCE.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id)
    return _Matches(kind, hits, joined, _scope_where(scope, params, SOURCE.c.article_id),
                    [ARTICLE.c.slug, SOURCE.c.source_id])  # fmt: skip


def _ranked(session: Session, matches: _Matches, after: Key | None, limit: int) -> list[tuple[Key, int]]:
    """The first ``limit`` hits of one kind after ``after``, in rank order, with their refs."""
    score = matches.hits.c.score
    query = select(matches.hits.c.ref, score, *matches.ident).select_from(matches.joined).where(*matches.where)
    if after is not None:
        query = query.where(matches.after(after))
    rows = session.execute(query.order_by(score.desc(), *matches.ident).limit(limit)).all()
    return [(Key(row[1], matches.kind, (row[2], row[3] if len(row) > 3 else "")), row[0]) for row in rows]


def search(scope: Scope, params: SearchParams) -> Listing:
    """One page of hits, best first, each with type, score, snippet and the fields of its /claims, /articles
    or /sources row; the facets of the matching claims.

    Each kind's query returns its first ``limit + 1`` hits after the cursor's key (keyset paging: a page starts
    strictly after the last hit of the one before, whatever was added or removed above it); the merge keeps the
    best ``limit``. Ties are broken by :class:`Key`, never by row ids."""
    words = fulltext.terms(params.q)
    if not words:
        raise ApiProblem(422, "Invalid parameter", "q: give at least one word to search for.", parameter="q")
    match = fulltext.match_expression(scope.dialect, words)
    after = _resume(params)
    session = scope.session
    candidates: list[tuple[Key, int]] = []
    total, facets = 0, None
    for kind in _kinds(params):
        matches = _matches(scope, params, kind.removesuffix("s"), match)
        total += session.execute(select(func.count()).select_from(matches.joined).where(*matches.where)).scalar_one()
        candidates += _ranked(session, matches, after, params.limit + 1)
        if kind == "claims" and params.cursor is None:  # facets describe the whole matching set: the first page
            facets = _facets(scope, select(CLAIM.c.id).select_from(matches.joined).where(*matches.where))
    candidates.sort(key=lambda hit: hit[0].rank())
    chosen = candidates[: params.limit]
    more = len(candidates) > params.limit
    items = select_fields(_items(scope, chosen, match, params.include), params.fields, HIT_FIELDS)
    last = chosen[-1][0] if more else None
    truncated = None
    if params.max_tokens is not None:
        envelope = {"items": [], "total": total, "next": "…", "truncated": True, "facets": facets}
        kept = fitting(items, envelope, params.max_tokens)
        truncated = kept < len(items)
        if truncated:
            items, last = items[:kept], chosen[kept - 1][0]
    next_cursor = encode_cursor(params, last.cursor()) if last is not None else None
    return Listing(items, total, next_cursor, truncated=truncated, facets=facets)


def _items(scope: Scope, chosen: list[tuple[Key, int]], match: str, include: list[str]) -> list[dict[str, Any]]:
    """The hits as items, in rank order: type, score and snippet first, then the row's own fields."""
    session = scope.session
    refs = {kind: [ref for key, ref in chosen if key.kind == kind] for kind in KINDS}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    snippets: dict[tuple[str, int], str] = {}
    for kind, wanted in refs.items():
        if wanted:
            sql = fulltext.snippets_sql(scope.dialect, kind, public=not scope.preview)
            marked = session.execute(sql, {"match": match, "refs": wanted})
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
        {"type": key.kind, "score": round(key.score, 6), "snippet": snippets[(key.kind, ref)], **rows[(key.kind, ref)]}
        for key, ref in chosen
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
