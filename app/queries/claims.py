"""Claims: the filtered feed-shaped list, one claim with everything about it, and an article's claims."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, or_, select

from app import derive, fulltext, shapes
from app.content.schema import CONFIDENCE_RANK
from app.problems import ApiProblem
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
from app.queries.paging import Keyset, fetch_page, finish
from app.queries.params import ClaimParams

#: Feed order: the publisher's dir order, then the claim's position in its article.
KEYSET = Keyset([ARTICLE.c.dir_key, CLAIM.c.position])
ITEM_FIELDS = (
    "articleId", "slug", "claimId", "localClaimId", "claim", "confidence", "status", "verificationStatus", "asOf",
    "evidenceCount", "counterevidenceCount", "articleUrl", "state", "topics", "series",
    "evidence", "counterevidence", "sources",
)  # fmt: skip
CLAIM_ROW = [*CLAIM.c, ARTICLE.c.slug, ARTICLE.c.canonical_path, *SERIES_COLUMNS]


def _evidence_where(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return CLAIM.c.id.in_(select(EVIDENCE.c.claim_id).where(condition))


def conditions(scope: Scope, params: ClaimParams) -> list[ColumnElement[bool]]:
    """The WHERE clauses for ``params`` over claim ⋈ article."""
    where = [visible(scope.preview)]
    if params.topic:
        where.append(CLAIM.c.article_id.in_(select(TOPIC.c.article_id).where(TOPIC.c.topic.in_(params.topic))))
    if params.series:
        where.append(ARTICLE.c.series_slug.in_(params.series))
    if params.article:
        where.append(ARTICLE.c.slug.in_([article_slug(value) for value in params.article]))
    if params.confidence:
        where.append(CLAIM.c.confidence_rank.in_([CONFIDENCE_RANK[value] for value in params.confidence]))
    if params.min_confidence:
        where.append(CLAIM.c.confidence_rank >= CONFIDENCE_RANK[params.min_confidence])
    if params.status:
        where.append(CLAIM.c.kind.in_(params.status))
    if params.verification:
        # A claim without verification is published as "draft" (§2.5), so it matches draft.
        matches = CLAIM.c.verification_status.in_(params.verification)
        where.append(or_(matches, CLAIM.c.verification_status.is_(None)) if "draft" in params.verification else matches)
    if params.state:
        where.append(state_condition(params.state, scope.today))
    if params.has_counterevidence is not None:
        having = CLAIM.c.counterevidence_count > 0
        where.append(having if params.has_counterevidence else ~having)
    if params.supports:
        where.append(_evidence_where(EVIDENCE.c.supports.in_(params.supports)))
    if params.source:
        where.append(_evidence_where(EVIDENCE.c.source_id.in_(params.source)))
    if params.q:
        where.append(fulltext.contains(scope.dialect, CLAIM.c.text, CLAIM.c.id, params.q.lower()))
    return where


def list_claims(scope: Scope, params: ClaimParams) -> Listing:
    """One page of claims in feed order."""
    where = conditions(scope, params)
    joined = CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
    page = fetch_page(scope.session, params, CLAIM_ROW, joined, where, KEYSET)
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


def get_claim(scope: Scope, claim_id: str) -> dict[str, Any]:
    """One claim by its global id ``article:<slug>:claim-NNN``, with everything known about it."""
    slug, _, local = claim_id.removeprefix("article:").rpartition(":")
    article = find_article(scope.session, slug or claim_id, scope.preview) if slug else None
    row = None
    if article is not None:
        query = (
            select(*CLAIM_ROW)
            .select_from(CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id))
            .where(CLAIM.c.article_id == article["id"], CLAIM.c.local_id == local)
        )
        row = scope.session.execute(query).mappings().first()
    if article is None or row is None:
        raise ApiProblem(404, "Not Found", f"No claim '{claim_id}'; claim ids look like article:<slug>:claim-001.")
    [item] = claim_items(scope, [row], ("evidence", "counterevidence"))
    artifact = orjson.loads(
        scope.session.execute(
            select(DOCUMENT.c.artifact_json).where(DOCUMENT.c.article_id == article["id"])
        ).scalar_one()
    )
    raw = next(claim for claim in artifact["claims"] if claim.get("id") == local)
    findings = scope.session.execute(
        select(DIAGNOSTIC.c.rule, DIAGNOSTIC.c.severity, DIAGNOSTIC.c.claim_local_id, DIAGNOSTIC.c.message,
               DIAGNOSTIC.c.active_from, DIAGNOSTIC.c.origin)
        .where(DIAGNOSTIC.c.article_id == article["id"])
        .order_by(DIAGNOSTIC.c.position)
    ).mappings()  # fmt: skip
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
