"""The expected shapes of the agent-layer rule tests (tests/test_agent_layer_rules_*.py): the fixed key orders of
DATA-CONTRACT §2 (an index entry, a packet, a graph node or edge, a feed row, a report item, the garden-queries
catalog...). The values and the list orders are given by each test, written out by hand from the rule.

Ordering reminders (§2.0): dir order is the code-unit order of ``<year>/<slug>`` (a prefix first); localeCompare
ranks ``-`` < ``:`` < digits < letters, compares free text case-insensitively and puts lower case before upper
case on a tie; the garden-queries dimension values use plain code-unit order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.agent_rules_tree import REPO, SITE, Article

# --- expected shapes (fixed key orders of §2; the values and list orders are given by each test) -------------


def pretty(value: Any) -> bytes:
    """A JSON file (§2.0): 2-space indent, raw UTF-8, one final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def jsonl(rows: Sequence[dict[str, Any]]) -> bytes:
    """A JSONL file (§2.0): compact rows, each followed by a newline; an empty feed is just a newline."""
    return "".join(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n" for row in rows).encode() or b"\n"


def url(slug: str) -> str:
    return f"{SITE}/articles/{slug}/"


def entry(a: Article, tokens: int) -> dict[str, Any]:
    """An index entry (§2.2); ``tokens`` is the hand-computed tokenEstimate."""
    return {
        "id": f"article:{a.slug}",
        "slug": a.slug,
        "title": a.title,
        "summary": a.summary,
        "status": "published",
        "maturity": a.maturity,
        "topics": a.topics,
        "tags": a.tags,
        "canonicalPath": f"/articles/{a.slug}/",
        "articleUrl": url(a.slug),
        "agentJsonPath": f"/agents/articles/{a.slug}.json",
        "agentMarkdownPath": f"/agents/articles/{a.slug}.md",
        "updatedAt": a.updated_at,
        "claimCount": len(a.claims),
        "sourceCount": len(a.sources),
        "tokenEstimate": tokens,
        "contentHash": a.content_hash,
    }


def topic_item(topic: str, label: str, article_ids: list[str]) -> dict[str, Any]:
    """An index.json ``topics[]`` item (§2.2)."""
    return {
        "topic": topic,
        "label": label,
        "articleIds": article_ids,
        "pageUrl": f"{SITE}/topics/{topic}/",
        "agentJsonPath": f"/agents/topics/{topic}.json",
    }


def month(year_month: str, name: str, article_ids: list[str]) -> dict[str, Any]:
    return {
        "yearMonth": year_month,
        "monthName": name,
        "articleIds": article_ids,
        "pageUrl": f"{SITE}/articles/{year_month[:4]}/{year_month[5:]}/",
    }


def year(year_: str, article_ids: list[str], months: list[dict[str, Any]]) -> dict[str, Any]:
    return {"year": year_, "articleIds": article_ids, "pageUrl": f"{SITE}/articles/{year_}/", "months": months}


def index(generated_at: str, articles: list[Any], topics: list[Any], archives: list[Any]) -> dict[str, Any]:
    return {
        "schemaVersion": 3,
        "generatedAt": generated_at,
        "site": SITE,
        "base": "",
        "articles": articles,
        "topics": topics,
        "archives": archives,
        "roadmaps": [],
    }


def packet(a: Article, generated_at: str, tokens: int, outline: list[dict[str, str]]) -> dict[str, Any]:
    """``agents/articles/<slug>.json`` (§2.1): the artifact as written (its contentHash is already current) plus
    the derived keys, appended in this order."""
    repo_path = f"content/articles/{a.year}/{a.slug}/article.md"
    return a.artifact | {
        "generatedAt": generated_at,
        "articleUrl": url(a.slug),
        "agentJsonPath": f"/agents/articles/{a.slug}.json",
        "agentMarkdownPath": f"/agents/articles/{a.slug}.md",
        "sourceRepoPath": repo_path,
        "sourceGitHubUrl": f"{REPO}/blob/main/{repo_path}",
        "tokenEstimate": tokens,
        "sectionOutline": outline,
    }


def article_node(a: Article) -> dict[str, Any]:
    return {
        "id": f"article:{a.slug}",
        "type": "article",
        "label": a.title,
        "path": f"/articles/{a.slug}/",
        "maturity": a.maturity,
    }


def claim_node(a: Article, c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"article:{a.slug}:{c['id']}",
        "type": "claim",
        "label": c["claim"],
        "localId": c["id"],
        "confidence": c["confidence"],
        "status": c["status"],
    }


def source_node(s: dict[str, Any]) -> dict[str, Any]:
    return {"id": s["id"], "type": "source", "label": s["title"], "url": s["url"], "sourceType": s["type"]}


def topic_node(topic: str) -> dict[str, Any]:
    return {"id": f"topic:{topic}", "type": "topic", "label": topic}


def edge(frm: str, kind: str, to: str, reviewed_at: str) -> dict[str, Any]:
    """A graph/edges.json edge (§2.4)."""
    return {
        "from": frm,
        "to": to,
        "type": kind,
        "provenance": {"reviewedAt": reviewed_at, "reviewer": "generator", "status": "machine-generated"},
    }


def feed_edges(edges: list[dict[str, Any]]) -> bytes:
    """edges.jsonl: the same edges in the same order, provenance dropped (§2.5)."""
    return jsonl([{"from": e["from"], "to": e["to"], "type": e["type"]} for e in edges])


def feed_claim(a: Article, c: dict[str, Any], verification: str, as_of: str | None) -> dict[str, Any]:
    """A claims.jsonl row (§2.5); ``verification`` and ``as_of`` are worked out by hand."""
    return {
        "articleId": f"article:{a.slug}",
        "slug": a.slug,
        "claimId": f"article:{a.slug}:{c['id']}",
        "localClaimId": c["id"],
        "claim": c["claim"],
        "confidence": c["confidence"],
        "status": c["status"],
        "verificationStatus": verification,
        "asOf": as_of,
        "evidenceCount": len(c["evidence"]),
        "counterevidenceCount": len(c["counterevidence"]),
        "articleUrl": url(a.slug),
    }


def feed_source(a: Article, s: dict[str, Any]) -> dict[str, Any]:
    return {
        "articleId": f"article:{a.slug}",
        "slug": a.slug,
        "sourceId": s["id"],
        "title": s["title"],
        "type": s["type"],
        "url": s["url"],
        "accessed": s["accessed"],
        "articleUrl": url(a.slug),
    }


def manifest(generated_at: str, claims: int, sources: int, edges: int) -> dict[str, Any]:
    counts = {"claims": claims, "sources": sources, "roadmap": 0, "edges": edges}
    return {
        "schemaVersion": 1,
        "generatedAt": generated_at,
        "site": SITE,
        "base": "",
        "counts": counts,
        "files": {name: {"path": f"/agents/feeds/{name}.jsonl", "count": n} for name, n in counts.items()},
    }


def summary(
    verified: int = 0,
    contested: int = 0,
    stale: int = 0,
    needs_evidence: int = 0,
    missing_counterevidence: int = 0,
    draft: int = 0,
) -> dict[str, int]:
    """A verification-report ``summary``: the six states in their fixed order (§2.7)."""
    return {
        "verified": verified,
        "contested": contested,
        "stale": stale,
        "needs-evidence": needs_evidence,
        "missing-counterevidence": missing_counterevidence,
        "draft": draft,
    }


def report_claim(c: dict[str, Any], state: str, findings: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """A verification-report claim (§2.7): local id, the hand-derived state and findings {rule, severity, message}."""
    return {
        "id": c["id"],
        "claim": c["claim"],
        "confidence": c["confidence"],
        "status": c["status"],
        "state": state,
        "evidenceCount": len(c["evidence"]),
        "counterevidenceCount": len(c["counterevidence"]),
        "findings": list(findings),
    }


def report_article(a: Article, status: str, claims: list[dict[str, Any]], counts: dict[str, int]) -> dict[str, Any]:
    return {"slug": a.slug, "title": a.title, "status": status, "claims": claims, "summary": counts}


def report(generated_at: str, articles: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemaVersion": 1, "generatedAt": generated_at, "articles": articles}


def diagnostics(generated_at: str, errors: int, warnings: int, findings: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "generatedAt": generated_at,
        "summary": {"errors": errors, "warnings": warnings, "total": len(findings)},
        "findings": findings,
    }


def ref(slug: str) -> dict[str, str]:
    """A garden-queries article entry (§2.8)."""
    return {
        "articleId": f"article:{slug}",
        "slug": slug,
        "articleUrl": url(slug),
        "agentJsonPath": f"/agents/articles/{slug}.json",
    }


def topic_row(slug: str, topic: str) -> dict[str, str]:
    return ref(slug) | {"topic": topic}


def source_row(slug: str, s: dict[str, Any]) -> dict[str, Any]:
    return ref(slug) | {"sourceId": s["id"], "sourceTitle": s["title"], "sourceType": s["type"], "sourceUrl": s["url"]}


def claim_row(slug: str, c: dict[str, Any]) -> dict[str, Any]:
    return ref(slug) | {"claimId": c["id"], "claim": c["claim"], "confidence": c["confidence"], "status": c["status"]}


def garden_queries(
    generated_at: str,
    *,
    topics: list[str],
    tags: list[str],
    source_types: list[str],
    by_topic: list[dict[str, Any]],
    by_type: list[dict[str, Any]],
    needing_evidence: Sequence[dict[str, Any]] = (),
    contested_or_stale: Sequence[dict[str, Any]] = (),
    high_confidence: Sequence[dict[str, Any]] = (),
    with_draft: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """garden-queries.json (§2.8): the fixed catalog around the hand-derived value lists and result rows."""
    queries = [
        ("articles-by-topic", "Published articles grouped by topic.", {"groupBy": "topic"}, "articles", by_topic),
        (
            "claims-needing-evidence",
            "Claims whose computed verification state is needs-evidence.",
            {"claimState": "needs-evidence"},
            "claims",
            needing_evidence,
        ),
        (
            "claims-contested-or-stale",
            "Claims whose computed verification state is contested or stale.",
            {"claimState": ["contested", "stale"]},
            "claims",
            contested_or_stale,
        ),
        ("high-confidence-claims", "Claims with confidence high.", {"confidence": "high"}, "claims", high_confidence),
        ("sources-by-type", "Sources grouped by source type.", {"groupBy": "sourceType"}, "sources", by_type),
        (
            "articles-with-draft-claims",
            "Published articles that contain at least one draft-state claim.",
            {"claimState": "draft", "status": "published"},
            "articles",
            with_draft,
        ),
    ]
    return {
        "schemaVersion": 1,
        "schema": "https://aura-knowledge.github.io/schemas/garden-queries.schema.json",
        "site": SITE,
        "base": "",
        "generatedAt": generated_at,
        "catalogSize": {"queryCount": 6, "totalResults": sum(len(q[4]) for q in queries)},
        "dimensions": [
            {"name": "topic", "description": "Article topic.", "values": topics},
            {"name": "tag", "description": "Article tag.", "values": tags},
            {
                "name": "maturity",
                "description": "Article maturity.",
                "values": ["seed", "sprout", "evergreen", "contested", "superseded"],
            },
            {
                "name": "status",
                "description": "Article publication status.",
                "values": ["draft", "review", "published", "archived"],
            },
            {"name": "citesSourceType", "description": "Source type cited by the article.", "values": source_types},
            {
                "name": "claimState",
                "description": "Computed verification state of a claim.",
                "values": ["verified", "contested", "stale", "needs-evidence", "missing-counterevidence", "draft"],
            },
            {
                "name": "keyword",
                "description": "Case-insensitive phrase match across title, summary, thesis, claims, "
                "sources, tags, and topics.",
            },
            {"name": "relatedTo", "description": "Articles related by shared topic or graph edge to the given slug."},
        ],
        "queries": [
            {
                "name": name,
                "description": text,
                "params": params,
                "resultType": kind,
                "resultCount": len(rows),
                "results": list(rows),
            }
            for name, text, params, kind, rows in queries
        ],
    }
