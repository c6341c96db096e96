"""Claims: the filtered feed-shaped list, one claim with everything about it, and an article's claims."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, and_, bindparam, func, literal, or_, select
from sqlalchemy.sql.util import ClauseAdapter

from app import derive, fulltext, shapes
from app.content.schema import CONFIDENCE_RANK
from app.queries.articles import state_bases
from app.queries.common import (
    ARTICLE,
    CLAIM,
    COUNTER,
    DIAGNOSTIC,
    DOCUMENT,
    EVIDENCE,
    SERIES_COLUMNS,
    SOURCE,
    TOPIC,
    Listing,
    Scope,
    article_slug,
    find_article,
    grouped,
    state_condition,
    visible,
)
from app.queries.errors import NotFound
from app.queries.paging import Keyset, finish
from app.queries.params import ClaimParams
from app.queries.plan import Filter, ListQuery, fetch, substring_probe, unindexed

#: Feed order: the publisher's dir order, then the claim's position in its article; both on the claim row
#: (copied from the article by ingest), so the order index ix_claim_public_feed serves it.
KEYSET = Keyset([CLAIM.c.dir_key, CLAIM.c.position])
ITEM_FIELDS = (
    "articleId", "slug", "claimId", "localClaimId", "claim", "confidence", "status", "verificationStatus", "asOf",
    "evidenceCount", "counterevidenceCount", "articleUrl", "state", "topics", "series",
    "evidence", "counterevidence", "sources",
)  # fmt: skip
CLAIM_ROW = [*CLAIM.c, ARTICLE.c.slug, ARTICLE.c.canonical_path, *SERIES_COLUMNS]
#: The article as a filter sees it (a subquery of its own, so that a filter reads only the claim row).
OWNER = ARTICLE.alias("owner")


def by_article(listed: Any, condition: ColumnElement[bool], field: str | None = None,
               values: Sequence[str] = ()) -> Filter:  # fmt: skip
    """Rows of ``listed`` (claim or source) whose article (``OWNER``) meets ``condition``."""
    check = select(literal(1)).where(OWNER.c.id == listed.c.article_id, condition).exists()
    drive = listed.c.article_id.in_(select(OWNER.c.id).where(condition))
    return Filter(check, drive, field, values, disjoint=True)


def by_topic(listed: Any, topics: list[str]) -> Filter:
    """Rows of ``listed`` whose article has one of ``topics``."""
    check = select(literal(1)).where(TOPIC.c.article_id == listed.c.article_id, TOPIC.c.topic.in_(topics)).exists()
    drive = listed.c.article_id.in_(select(TOPIC.c.article_id).where(TOPIC.c.topic.in_(topics)))
    return Filter(check, drive, "topic", topics)


@cache
def _filter_alias(listed: Table) -> Any:
    """``listed`` under another name, made once per table: setting up an alias's columns cost a tenth of a
    /claims request's CPU when each request made its own."""
    return listed.alias(f"{listed.name}_filter")


def on_row(dialect: str, listed: Any, condition: ColumnElement[bool], field: str | None = None,
           values: Sequence[str] = (), *, exact: bool = True) -> Filter:  # fmt: skip
    """A test on the listed row's own (indexed) columns: unindexed in a walk; when it drives, on SQLite the ids
    of the rows that pass it, read from its index in a subquery of their own (so that SQLite looks rows up by
    id rather than walking another table first); on PostgreSQL the test itself."""
    drive = condition  # PostgreSQL: a bitmap scan of the column's index, which a self-join would hide from it
    if dialect == "sqlite":
        alias = _filter_alias(listed)
        drive = listed.c.id.in_(select(alias.c.id).where(ClauseAdapter(alias).traverse(condition)))
    return Filter(unindexed(dialect, condition), drive, field, values, disjoint=True, exact=exact)


def _evidence(condition: ColumnElement[bool], field: str, values: list[str]) -> Filter:
    check = select(literal(1)).where(EVIDENCE.c.claim_id == CLAIM.c.id, condition).exists()
    return Filter(check, CLAIM.c.id.in_(select(EVIDENCE.c.claim_id).where(condition)), field, values)


def _confidence(dialect: str, params: ClaimParams) -> list[Filter]:
    found = []
    if params.confidence:
        ranks = [CONFIDENCE_RANK[value] for value in params.confidence]
        found.append(on_row(dialect, CLAIM, CLAIM.c.confidence_rank.in_(ranks), "confidence", params.confidence))
    if params.min_confidence:
        low = CONFIDENCE_RANK[params.min_confidence]
        names = [name for name, rank in CONFIDENCE_RANK.items() if rank >= low]
        found.append(on_row(dialect, CLAIM, CLAIM.c.confidence_rank >= low, "confidence", names))
    return found


def filters(scope: Scope, params: ClaimParams) -> list[Filter]:
    """The filters of ``params`` over the claim row (app.queries.plan)."""
    dialect = scope.dialect
    found = [by_topic(CLAIM, params.topic)] if params.topic else []
    if params.series:
        found.append(by_article(CLAIM, OWNER.c.series_slug.in_(params.series), "series", params.series))
    if params.article:
        found.append(by_article(CLAIM, OWNER.c.slug.in_([article_slug(value) for value in params.article])))
    found += _confidence(dialect, params)
    if params.status:
        found.append(on_row(dialect, CLAIM, CLAIM.c.kind.in_(params.status), "status", params.status))
    if params.verification:
        # A claim without verification is published as "draft" (§2.5), so it matches draft.
        matches: ColumnElement[bool] = CLAIM.c.verification_status.in_(params.verification)
        if "draft" in params.verification:
            matches = or_(matches, CLAIM.c.verification_status.is_(None))
        found.append(on_row(dialect, CLAIM, matches, "verification", params.verification))
    if params.state:
        bases, exact = state_bases(params.state)
        found.append(on_row(dialect, CLAIM, state_condition(params.state, scope.today), "state", bases, exact=exact))
    if params.has_counterevidence is not None:
        having = CLAIM.c.counterevidence_count > 0
        condition, value = (having, "true") if params.has_counterevidence else (~having, "false")
        found.append(on_row(dialect, CLAIM, condition, "has_counterevidence", [value]))
    if params.supports:
        found.append(_evidence(EVIDENCE.c.supports.in_(params.supports), "supports", params.supports))
    if params.source:
        found.append(_evidence(EVIDENCE.c.source_id.in_(params.source), "source", params.source))
    if params.q:
        # A walk tests each claim's text with LIKE, which is what the trigram index's answer is checked with
        # (app.fulltext.contains: ASCII case ignored); reading first asks the index.
        needle = params.q.lower()
        check = unindexed(dialect, func.lower(CLAIM.c.text).contains(needle, autoescape=True))
        drive = fulltext.contains(dialect, CLAIM.c.text, CLAIM.c.id, needle)
        found.append(Filter(check, drive, probe=substring_probe(dialect, "claim_trigram", needle)))
    return found


def conditions(scope: Scope, params: ClaimParams) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``params`` over claim ⋈ article, each filter in its indexable form (for /search)."""
    return [visible(scope.preview), *(item.drive if item.drive is not None else item.check
                                      for item in filters(scope, params))]  # fmt: skip


def list_claims(scope: Scope, params: ClaimParams) -> Listing:
    """One page of claims in feed order, read as app.queries.plan decides."""
    public = None if scope.preview else CLAIM.c.is_public.is_(True)
    joined = CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
    query = ListQuery("claims", CLAIM, CLAIM_ROW, joined, public, KEYSET, filters(scope, params), scope.dialect,
                      scope.corpus)  # fmt: skip
    page = fetch(scope.session, params, query)
    return finish(page, claim_items(scope, page.rows, params.include), ITEM_FIELDS)


def claim_items(scope: Scope, rows: Sequence[Any], include: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Claims-feed rows (§2.5) plus state, topics and series; ``include`` embeds evidence and the rest."""
    topics = grouped(scope.session, TOPIC.c.topic, sorted({row["article_id"] for row in rows}))
    claim_ids = [row["id"] for row in rows]
    evidence = resolved_evidence(scope, claim_ids) if {"evidence", "sources"} & set(include) else {}
    counter = counterevidence(scope, claim_ids) if "counterevidence" in include else {}
    items = []
    for row in rows:
        url = shapes.article_url(scope.site, row["canonical_path"])
        item = shapes.claim_feed_row(row, row["slug"], url)
        item["state"] = derive.ClaimState(row["state_base"], row["stale_from"]).on(scope.today)
        item["topics"] = topics[row["article_id"]]
        item["series"] = shapes.series_of(row)
        if "evidence" in include:
            item["evidence"] = evidence.get(row["id"], [])
        if "counterevidence" in include:
            item["counterevidence"] = counter.get(row["id"], [])
        if "sources" in include:
            cited = {e["sourceId"]: e["source"] for e in evidence.get(row["id"], []) if e["source"] is not None}
            item["sources"] = [{"sourceId": sid, **source} for sid, source in cited.items()]
        items.append(item)
    return items


def _present(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    return {key: value for key, value in pairs if value is not None}


def resolved_evidence(scope: Scope, claim_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """{claim id: evidence packets, each with its source (title, url, type, accessed) or null if dangling}."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not claim_ids:
        return out
    on = and_(SOURCE.c.article_id == EVIDENCE.c.article_id, SOURCE.c.source_id == EVIDENCE.c.source_id)
    query = (
        select(EVIDENCE, SOURCE.c.title, SOURCE.c.url, SOURCE.c.type, SOURCE.c.accessed)
        .select_from(EVIDENCE.outerjoin(SOURCE, on))
        .where(EVIDENCE.c.claim_id.in_(claim_ids))
        .order_by(EVIDENCE.c.claim_id, EVIDENCE.c.position)
    )
    for row in scope.session.execute(query).mappings():
        packet = _present(
            [
                ("sourceId", row["source_id"]),
                ("snippet", row["snippet"]),
                ("supports", row["supports"]),
                ("location", row["location"]),
                ("assessedAt", row["assessed_at"]),
                ("notes", row["notes"]),
            ]
        )
        source = None
        if row["title"] is not None:
            source = {"title": row["title"], "url": row["url"], "type": row["type"], "accessed": row["accessed"]}
        out[row["claim_id"]].append({**packet, "source": source})
    return out


def counterevidence(scope: Scope, claim_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not claim_ids:
        return out
    query = select(COUNTER).where(COUNTER.c.claim_id.in_(claim_ids)).order_by(COUNTER.c.claim_id, COUNTER.c.position)
    for row in scope.session.execute(query).mappings():
        out[row["claim_id"]].append(_present([
            ("summary", row["summary"]), ("sourceId", row["source_id"]), ("snippet", row["snippet"]),
            ("assessedAt", row["assessed_at"]), ("notes", row["notes"]),
        ]))  # fmt: skip
    return out


def article_claims(scope: Scope, slug: str, include: Sequence[str]) -> list[dict[str, Any]]:
    """Every claim of one visible article, in artifact order."""
    article = find_article(scope.session, slug, scope.preview)
    query = (
        select(*CLAIM_ROW)
        .select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id))
        .where(CLAIM.c.article_id == article["id"])
        .order_by(CLAIM.c.position)
    )
    return claim_items(scope, scope.session.execute(query).mappings().all(), include)


#: The statements of one claim's detail, built once (app.queries.common).
_CLAIM_OF_ARTICLE = (
    select(*CLAIM_ROW)
    .select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id))
    .where(CLAIM.c.article_id == bindparam("article"), CLAIM.c.local_id == bindparam("local"))
)
_ARTIFACT = select(DOCUMENT.c.artifact_json).where(DOCUMENT.c.article_id == bindparam("article"))
_FINDINGS = (
    select(DIAGNOSTIC.c.rule, DIAGNOSTIC.c.severity, DIAGNOSTIC.c.claim_local_id, DIAGNOSTIC.c.message,
           DIAGNOSTIC.c.active_from, DIAGNOSTIC.c.origin)
    .where(DIAGNOSTIC.c.article_id == bindparam("article"))
    .order_by(DIAGNOSTIC.c.position)
)  # fmt: skip


def get_claim(scope: Scope, claim_id: str) -> dict[str, Any]:
    """One claim by its global id ``article:<slug>:claim-NNN``, with everything known about it."""
    slug, _, local = claim_id.removeprefix("article:").rpartition(":")
    article = find_article(scope.session, slug, scope.preview, parameter="claim_id") if slug else None
    row = None
    if article is not None:
        row = scope.session.execute(_CLAIM_OF_ARTICLE, {"article": article["id"], "local": local}).mappings().first()
    if article is None or row is None:
        raise NotFound(f"No claim '{claim_id}'; claim ids look like article:<slug>:claim-001.", "claim_id")
    [item] = claim_items(scope, [row], ("evidence", "counterevidence"))
    artifact = orjson.loads(scope.session.execute(_ARTIFACT, {"article": article["id"]}).scalar_one())
    raw = next(claim for claim in artifact["claims"] if claim.get("id") == local)
    findings = scope.session.execute(_FINDINGS, {"article": article["id"]}).mappings()
    today = scope.today.isoformat()
    item["verification"] = raw.get("verification")
    item["diagnostics"] = [
        {"rule": f["rule"], "severity": f["severity"], "message": f["message"], "origin": f["origin"]}
        for f in findings
        if derive.concerns_claim(f["rule"], f["claim_local_id"], f["message"], local)
        and (f["active_from"] is None or f["active_from"] <= today)
    ]
    item["article"] = {
        "id": f"article:{article['slug']}", "slug": article["slug"], "title": article["title"],
        "summary": article["summary"], "thesis": article["thesis"], "articleUrl": item["articleUrl"],
    }  # fmt: skip
    item["citationUrl"] = f"{item['articleUrl']}#{local}"
    return item
