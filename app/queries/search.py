"""Ranked full-text search over claims, articles and sources (the index: app.fulltext).

Hits are ranked by the database's full-text ranking (app.fulltext: bm25, or ts_rank) with the primary text
weighted over the secondary (claim text over its evidence and counterevidence; title over summary, dek and
thesis). Which words select documents, and how many documents a search ranks at most (its *window*), is
app.fulltext.query's: stop words select nothing, common words only where nothing rarer is asked for.

**The cost is the page's, not the match set's.** Each kind's hits are found by one statement over its window
(at most ``fulltext.window(dialect)`` documents, read in the index's order), which also yields their count and, for
claims, the columns the facets count: no statement walks the hits again. ``total`` is the number of hits in the
windows; where a window was full (more documents match than one search ranks), the body says
``"totalRelation": "gte"``: at least that many. Facets count the best :data:`FACET_HITS` claim hits (all of them
when there are fewer), on the first page only (later pages carry none). With ``max_tokens`` the hits
that fit come first, and the facets are sent only if they fit beside them: a budget is never refused because of
the facets or the envelope.

The /claims filters narrow claim hits; ``topic``, ``series`` and ``article`` narrow article and source hits too,
and a claim-only filter (confidence, state, …) limits the search to claims. Where a full window holds fewer
than :data:`FEW_HITS` hits that pass the filters, the window is taken among the documents that pass them
instead, so that a narrow filter (one article, one series) finds its own documents however common the words.
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, literal, or_, select, tuple_

from app import derive, fulltext
from app.budget import Budget
from app.queries import claims as claim_queries
from app.queries.articles import ITEM_FIELDS as ARTICLE_FIELDS
from app.queries.articles import summaries
from app.queries.common import (
    ARTICLE,
    ARTICLE_COLUMNS,
    CLAIM,
    SOURCE,
    TOPIC,
    Listing,
    Scope,
    article_slug,
    visible,
)
from app.queries.errors import InvalidParameter, MalformedCursor
from app.queries.paging import decode_cursor, encode_cursor, select_fields
from app.queries.params import SearchParams
from app.queries.sources import ITEM_FIELDS as SOURCE_FIELDS
from app.queries.sources import source_items

#: The kinds of hit, in the order that breaks score ties between kinds.
KINDS = ("article", "claim", "source")
#: How many of the best claim hits the facets count.
FACET_HITS = 500
#: A full window with fewer hits passing the filters than this is taken among the filters' documents instead.
FEW_HITS = 500
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
    """The key a cursor resumes after, or None on the first page; MalformedCursor for any key this API did not make."""
    key = decode_cursor(params, 4)
    if key is None:
        return None
    score, kind, *ident = key
    if not (isinstance(score, str) and kind in KINDS and all(isinstance(part, str) for part in ident)):
        raise MalformedCursor()
    try:
        value = float(score)
    except ValueError:
        raise MalformedCursor() from None
    if not math.isfinite(value):
        raise MalformedCursor()
    return Key(value, kind, (ident[0], ident[1]))


@dataclass
class _Ranked:
    """One kind's best hits after the cursor (at most ``want``), with how many hits its window holds in all."""

    rows: list[Any]
    total: int
    full: bool  # the window was full: more documents match than were ranked


def _ident(kind: str) -> list[ColumnElement[str]]:
    if kind == "claim":
        return [CLAIM.c.claim_id, literal("", String)]
    if kind == "article":
        return [ARTICLE.c.slug, literal("", String)]
    return [ARTICLE.c.slug, SOURCE.c.source_id]


def _joined(kind: str, hits: Any) -> Any:
    if kind == "claim":
        return hits.join(CLAIM, CLAIM.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
    if kind == "article":
        return hits.join(ARTICLE, ARTICLE.c.id == hits.c.ref)
    return hits.join(SOURCE, SOURCE.c.id == hits.c.ref).join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id)


def _filters(scope: Scope, params: SearchParams, kind: str) -> list[ColumnElement[bool]]:
    """The conditions a hit of ``kind`` must meet: visibility first, then the filters asked for."""
    if kind == "claim":
        # The /claims filters, except q: here q is the full-text query, not a substring filter.
        claim_filters = claim_queries.conditions(scope, params.model_copy(update={"q": None}))
        return [*claim_filters, *_scope_where(scope, params, CLAIM.c.article_id)[1:]]
    return _scope_where(scope, params, ARTICLE.c.id if kind == "article" else SOURCE.c.article_id)


def _owned_ids(kind: str, where: list[ColumnElement[bool]]) -> Any:
    """The ids of the documents of ``kind`` that pass ``where``: the window of a search whose filters are few."""
    if kind == "claim":
        return select(CLAIM.c.id).select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)).where(*where)
    if kind == "article":
        return select(ARTICLE.c.id).where(*where)
    return select(SOURCE.c.id).select_from(SOURCE.join(ARTICLE, ARTICLE.c.id == SOURCE.c.article_id)).where(*where)


def _after(columns: Any, key: Key, kind: str) -> ColumnElement[bool]:
    """The hits of ``kind`` ranked strictly after ``key`` (``columns``: score, i0, i1)."""
    score: ColumnElement[float] = columns.score
    if kind != key.kind:
        return score < key.score if kind < key.kind else score <= key.score
    return or_(score < key.score, and_(score == key.score, tuple_(columns.i0, columns.i1) > tuple_(*key.ident)))


def _rank(scope: Scope, params: SearchParams, kind: str, match: str, after: Key | None, want: int) -> _Ranked:
    """The best ``want`` hits of ``kind`` after ``after``: one statement over the kind's window, which also
    counts the window's hits. Where filters leave too few hits in a full window, the window is taken among the
    documents that pass them instead."""
    where = _filters(scope, params, kind)
    public = not scope.preview
    ranked = _ranked(scope, kind, match, after, want, where, fulltext.hits(scope.dialect, kind, public=public))
    if len(where) > 1 and ranked.full and ranked.total < FEW_HITS:
        among = _owned_ids(kind, where)
        ranked = _ranked(scope, kind, match, after, want, where,
                         fulltext.hits(scope.dialect, kind, public=public, among=among))  # fmt: skip
    return ranked


def _ranked(scope: Scope, kind: str, match: str, after: Key | None, want: int, where: list[ColumnElement[bool]],
            window: Any) -> _Ranked:  # fmt: skip
    """One statement: the window's hits that pass ``where`` (each row joined once), their count, the window's
    size, and the best ``want`` of them after ``after`` (at least one row: the counts, even with no hits left)."""
    hits = window.cte("hits").prefix_with("MATERIALIZED")
    facet = [CLAIM.c.article_id, CLAIM.c.confidence, CLAIM.c.state_base, CLAIM.c.stale_from, ARTICLE.c.series_slug]
    matched = (
        select(hits.c.ref, hits.c.score, hits.c.key, *(c.label(f"i{n}") for n, c in enumerate(_ident(kind))),
               *(facet if kind == "claim" else []))
        .select_from(_joined(kind, hits))
        .where(*where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )  # fmt: skip
    stats = select(
        func.count().label("total"), select(func.count()).select_from(hits).scalar_subquery().label("window")
    ).select_from(matched)
    best = select(matched)
    if after is not None:
        best = best.where(_after(matched.c, after, kind))
    order = (matched.c.score.desc(), matched.c.i0, matched.c.i1)
    page = best.order_by(*order).limit(want).subquery("page")
    stats_row = stats.subquery("stats")
    query = (
        select(stats_row, page)
        .select_from(stats_row.outerjoin(page, literal(True)))
        .order_by(page.c.score.desc(), page.c.i0, page.c.i1)
    )
    rows = scope.session.execute(query, {"match": match}).mappings().all()
    found = [row for row in rows if row["ref"] is not None]
    return _Ranked(found, rows[0]["total"], rows[0]["window"] >= fulltext.window(scope.dialect))


def _selecting(scope: Scope, words: list[str], kinds: list[str]) -> str | None:
    """The match expression of the words that select documents (app.fulltext.query), or None if none can.

    Words that are not common select by themselves (any of them). Where every word is common: the documents
    holding all of them; where none does, those holding the rarest and at least one other; else the rarest
    alone. How many documents hold each word, and each of those two expressions, is one statement each."""
    content = fulltext.content_words(words)
    if not content:
        return None
    dialect = scope.dialect
    counts = _counts(scope, kinds, [fulltext.match_expression(dialect, [word]) for word in content])
    present = sorted((count, n, word) for n, (word, count) in enumerate(zip(content, counts, strict=True)) if count)
    rare = [word for count, _, word in sorted(present, key=lambda found: found[1]) if count <= fulltext.window(dialect)]
    common = [word for _, _, word in present]
    if rare or len(common) < 2:
        return fulltext.match_expression(dialect, rare or common) if common else None
    narrower = [fulltext.match_expression(dialect, all_of=common),
                fulltext.match_expression(dialect, common[1:], all_of=common[:1])]  # fmt: skip
    found = _counts(scope, kinds, narrower)
    return next((match for match, count in zip(narrower, found, strict=True) if count),
                fulltext.match_expression(dialect, common[:1]))  # fmt: skip


def _counts(scope: Scope, kinds: list[str], matches: list[str]) -> list[int]:
    """How many documents of ``kinds`` each match expression selects (each counted up to the window + 1)."""
    probe = fulltext.frequencies(scope.dialect, len(matches), kinds, public=not scope.preview)
    return list(scope.session.execute(probe, {f"w{n}": match for n, match in enumerate(matches)}).one())


def search(scope: Scope, params: SearchParams) -> Listing:
    """One page of hits, best first, each with type, score, snippet and the fields of its /claims, /articles
    or /sources row; on the first page, the facets of the best claim hits.

    Each kind's statement returns its first ``limit + 1`` hits after the cursor's key (keyset paging: a page
    starts strictly after the last hit of the one before, whatever was added or removed above it); the merge
    keeps the best ``limit``. Ties are broken by :class:`Key`, never by row ids."""
    words = fulltext.terms(params.q)
    if not any(character.isalnum() for word in words for character in word):
        raise InvalidParameter("q", "give at least one word to search for.")
    after = _resume(params)
    kinds = [kind.removesuffix("s") for kind in _kinds(params)]
    first_page = params.cursor is None
    match = _selecting(scope, words, kinds)
    candidates: list[tuple[Key, Any]] = []
    total, full, facets = 0, False, None
    for kind in kinds if match is not None else []:
        facet_page = kind == "claim" and first_page
        want = max(params.limit + 1, FACET_HITS if facet_page else 0)
        ranked = _rank(scope, params, kind, match or "", after, want)
        total, full = total + ranked.total, full or ranked.full
        candidates += [(Key(row["score"], kind, (row["i0"], row["i1"])), row) for row in ranked.rows]
        if facet_page:
            facets = _facets(scope, ranked.rows[:FACET_HITS])
    if first_page and "claim" in kinds and facets is None:
        facets = _facets(scope, [])
    candidates.sort(key=lambda hit: hit[0].rank())
    chosen = candidates[: params.limit]
    more = len(candidates) > params.limit
    items = select_fields(_items(scope, chosen, match or "", params.include), params.fields, HIT_FIELDS)
    relation = "gte" if full else "eq"

    def resume(kept: int) -> str | None:
        """The cursor after the best ``kept`` hits of this page (None after the last hit of all)."""
        return encode_cursor(params, chosen[kept - 1][0].cursor()) if kept < len(chosen) or more else None

    next_cursor = resume(len(chosen))
    if params.max_tokens is None:
        return Listing(items, total, next_cursor, facets=facets, relation=relation)
    # With a budget, the hits that fit come first, and the facets only if they fit beside them (app.budget.fit).
    budget = Budget(params.max_tokens, resume)
    return Listing(items, total, next_cursor, truncated=False, facets=facets, relation=relation, budget=budget)


def _items(scope: Scope, chosen: list[tuple[Key, Any]], match: str, include: list[str]) -> list[dict[str, Any]]:
    """The hits as items, in rank order: type, score and snippet first, then the row's own fields."""
    session = scope.session
    refs = {kind: [row["ref"] for key, row in chosen if key.kind == kind] for kind in KINDS}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    if not chosen:
        return []
    page = [(key.kind, row["key"]) for key, row in chosen]
    marked = session.execute(fulltext.snippets(scope.dialect, page, public=not scope.preview), {"match": match})
    by_key = {(kind or "", key): snippet for kind, key, snippet in marked}
    # SQLite's keys (rowids) name one document of any kind; PostgreSQL's (refs) one of each kind.
    snippets = {(key.kind, row["ref"]): by_key[("" if scope.dialect == "sqlite" else key.kind, row["key"])]
                for key, row in chosen}  # fmt: skip
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
        {"type": key.kind, "score": round(key.score, 6), "snippet": snippets[(key.kind, row["ref"])],
         **rows[(key.kind, row["ref"])]}
        for key, row in chosen
    ]  # fmt: skip


def _facets(scope: Scope, hits: Sequence[Any]) -> dict[str, list[dict[str, Any]]]:
    """Counts of the claim ``hits`` (the best :data:`FACET_HITS`, read with them) by confidence, computed state,
    topic and series, largest first. Only the topics are read again: those of the hits' articles."""
    states = Counter(derive.ClaimState(hit["state_base"], hit["stale_from"]).on(scope.today) for hit in hits)
    articles = Counter(hit["article_id"] for hit in hits)
    topics: Counter[str] = Counter()
    if articles:  # a topic an article repeats counts its claims once
        pairs = select(TOPIC.c.article_id, TOPIC.c.topic).where(TOPIC.c.article_id.in_(sorted(articles))).distinct()
        for article_id, topic in scope.session.execute(pairs).all():
            topics[topic] += articles[article_id]

    def ranked(pairs: Any, key: str) -> list[dict[str, Any]]:
        return [{key: value, "count": count} for value, count in sorted(pairs, key=lambda p: (-p[1], str(p[0])))]

    return {
        "confidence": ranked(Counter(hit["confidence"] for hit in hits).items(), "confidence"),
        "state": ranked(states.items(), "state"),
        "topic": ranked(topics.items(), "topic"),
        "series": ranked(Counter(hit["series_slug"] for hit in hits if hit["series_slug"]).items(), "series"),
    }
