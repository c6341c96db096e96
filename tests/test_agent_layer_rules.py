"""The agent-layer rules of DATA-CONTRACT §2 and §9 hold on trees of our own, not only on the publisher's corpus.

tests/test_agent_layer.py compares the publisher's real files byte for byte. Here each test writes a tiny content
tree (2-3 articles) that holds one of the traps §2 and §9 describe, ingests it into a fresh SQLite database and
compares the full bytes of the affected agent files with expected values written out by hand from the rule: the
lists are literals in the order the rule gives, with a comment saying why each item sits where it does. The small
helpers below only spell out an item's fixed key order (an index entry, a graph node...); no expected value comes
from the app's code.

Visibility: the publisher's files are served exactly as its generator writes them to a caller holding the
preview token; so every test of a tree that holds a draft, review or archived article asks with the token
(``api_client(db_url, **PREVIEW)`` and ``get(client, path, PREVIEW_HEADERS)``), and checks separately what an
anonymous caller gets: the same files without the hidden articles (app.queries.common.hides).

Ordering reminders (§2.0): dir order is the code-unit order of ``<year>/<slug>`` (a prefix first); localeCompare
ranks ``-`` < ``:`` < digits < letters, compares free text case-insensitively and puts lower case before upper
case on a tie; the garden-queries dimension values use plain code-unit order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import api_client, ingest_json

SITE = "https://aura-knowledge.github.io"
REPO = "https://github.com/aura-knowledge/aura-knowledge.github.io"
TOKEN = "preview-2f9c41-agent-rules"
PREVIEW = {"GARDEN_PREVIEW_TOKEN": TOKEN}
PREVIEW_HEADERS = {"Authorization": f"Bearer {TOKEN}"}


# --- the tree builder ------------------------------------------------------------------------------------------


def source(sid: str, title: str, kind: str, url: str | None = None) -> dict[str, Any]:
    """An artifact source (§1.4)."""
    return {
        "id": sid,
        "title": title,
        "url": url or f"https://example.org/{sid}",
        "type": kind,
        "accessed": "2026-06-20",
    }


def claim(
    cid: str,
    text: str,
    cites: Iterable[str | tuple[str, str]],
    *,
    confidence: str = "medium",
    kind: str = "core",
    verification: str | None = "verified",
    counter: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """An artifact claim. ``cites`` holds source ids or (source id, assessedAt); assessedAt defaults to 2026-07-05.
    ``verification=None`` leaves the verification object out."""
    evidence = []
    for cite in cites:
        sid, assessed = (cite, "2026-07-05") if isinstance(cite, str) else cite
        evidence.append(
            {"sourceId": sid, "snippet": f"A snippet quoted from {sid}.", "supports": "direct", "assessedAt": assessed}
        )
    item: dict[str, Any] = {"id": cid, "claim": text, "confidence": confidence, "status": kind}
    if verification is not None:
        item["verification"] = {"reviewedAt": "2026-07-09", "reviewer": "human", "status": verification}
    return item | {"evidence": evidence, "counterevidence": list(counter)}


@dataclass
class Article:
    """What ``write_article`` wrote, for the expected values."""

    slug: str
    year: str
    title: str
    summary: str
    maturity: str
    topics: list[str]
    tags: list[str]
    updated_at: str
    claims: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    content_hash: str
    artifact: dict[str, Any]  # artifact.json as written (key order kept)
    agent_md: bytes


def write_article(
    repo: Path,
    slug: str,
    *,
    year: str = "2026",
    title: str | None = None,
    fm_status: str = "published",
    status: str = "published",
    maturity: str = "seed",
    topics: Sequence[str] = ("garden",),
    tags: Sequence[str] = ("notes",),
    published_at: str = "2026-07-01",
    updated_at: str = "2026-07-10",
    sources: list[dict[str, Any]] | None = None,
    claims: list[dict[str, Any]] | None = None,
    related: Sequence[tuple[str, str]] = (),
    body: Sequence[str] = (),
    brief: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Article:
    """Write ``content/articles/<year>/<slug>/{article.md, agent.md, artifact.json}``: valid input (§1) whose
    fm and brief status is ``fm_status`` and artifact status ``status``. By default the article has two sources
    of different types (source-<slug>-1 paper, source-<slug>-2 dataset) and one verified claim citing both, so
    that it raises no diagnostic; its brief body has 12 words (tokenEstimate ceil(12 × 1.35 = 16.2) = 17).
    ``extra`` keys go into artifact.json right after ``thesis``."""
    title = title or f"Field notes: {slug}"
    summary = f"A short summary of the {slug} article, written for the rule tests."
    if sources is None:
        sources = [
            source(f"source-{slug}-1", f"A paper on {slug}", "paper"),
            source(f"source-{slug}-2", f"A dataset on {slug}", "dataset"),
        ]
    if claims is None:
        claims = [claim("claim-001", f"The {slug} article makes one claim worth checking.", [s["id"] for s in sources])]
    if brief is None:
        brief = f"Agent brief for {slug}: read the claims first and cite source ids."
    folder = repo / "content" / "articles" / year / slug
    folder.mkdir(parents=True)

    paragraphs = [f"An opening paragraph about {slug}.", *body]
    paragraphs += [
        f'<span id="{c["id"]}" class="claim-marker">C{n}</span> {c["claim"]}' for n, c in enumerate(claims, 1)
    ]
    front = [
        "schemaVersion: 1",
        f"id: article:{slug}",
        f"slug: {slug}",
        f"title: {json.dumps(title)}",
        'dek: "A small article written for the agent-layer rule tests."',
        f"date: {published_at}",
        f"updated: {published_at}",
        f"status: {fm_status}",
        f"maturity: {maturity}",
        f"topic: {topics[0]}",
        "tags:",
        *(f"  - {tag}" for tag in tags),
        f"summary: {json.dumps(summary)}",
        "readingTime: 3 min",
        f"agentArtifact: /agents/articles/{slug}.json",
        f"sourcePath: content/articles/{year}/{slug}/article.md",
    ]
    article_md = ("---\n" + "\n".join(front) + "\n---\n\n" + "\n\n".join(paragraphs) + "\n").encode()
    content_hash = hashlib.sha256(article_md).hexdigest()
    agent_front = [
        "schemaVersion: 1",
        f"id: agent-brief:{slug}",
        f"articleId: article:{slug}",
        f"slug: {slug}",
        f'title: "Agent brief for {slug}"',
        "tokenBudget: 1200",
        f"status: {fm_status}",
        f"updated: {updated_at}",
    ]
    agent_md = ("---\n" + "\n".join(agent_front) + "\n---\n\n" + brief + "\n").encode()
    artifact = {
        "schemaVersion": 3,
        "id": f"article:{slug}",
        "slug": slug,
        "title": title,
        "canonicalPath": f"/articles/{slug}/",
        "sourcePath": f"content/articles/{year}/{slug}/article.md",
        "agentBriefPath": f"content/articles/{year}/{slug}/agent.md",
        "thesis": f"The {slug} article argues one small point, at enough length to pass the eighty-character minimum.",
        **(extra or {}),
        "status": status,
        "maturity": maturity,
        "publishedAt": published_at,
        "updatedAt": updated_at,
        "audiences": ["general"],
        "topics": list(topics),
        "claims": claims,
        "sources": sources,
        "related": [{"type": kind, "id": target} for kind, target in related],
        "agentInstructions": ["Use claim IDs as the retrieval unit."],
        "provenance": {
            "createdAt": published_at,
            "createdBy": "human",
            "agents": [],
            "reviews": [
                {
                    "reviewer": "human",
                    "reviewedAt": updated_at,
                    "status": "approved",
                    "scope": [],
                    "notes": "ok",
                    "contentHash": content_hash,
                }
            ],
            "policy": {"id": "policy:default", "version": "1.0.0"},
        },
        "contentHash": content_hash,
    }
    (folder / "article.md").write_bytes(article_md)
    (folder / "agent.md").write_bytes(agent_md)
    (folder / "artifact.json").write_text(json.dumps(artifact, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return Article(
        slug,
        year,
        title,
        summary,
        maturity,
        list(topics),
        list(tags),
        updated_at,
        claims,
        sources,
        content_hash,
        json.loads(json.dumps(artifact)),
        agent_md,
    )


def ingest(tmp_path: Path, db_url: str) -> str:
    """Ingest ``tmp_path/repo`` into the fresh database ``db_url``; the tree must be accepted whole."""
    code, report = ingest_json(tmp_path / "repo", db_url=db_url)
    assert code == 0, report
    assert report["errors"] == [], report["errors"]
    return db_url


def get(client: Any, path: str, headers: dict[str, str] | None = None) -> bytes:
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.text[:500])
    return response.content


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


# --- 1. collation ------------------------------------------------------------------------------------------------


def test_collation_puts_colon_before_digits_and_ignores_case_in_free_text(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # Slugs ab, ab-c, ab2: dir order is code-unit order of "2026/<slug>": "ab" (a prefix) < "ab-c" < "ab2"
    # ("-" 0x2D < "2" 0x32). Graph ids then put ":" right after "ab", where localeCompare and code units disagree.
    ab = write_article(
        repo,
        "ab",
        topics=["ai2", "a-i"],
        related=[("article", "article:ab2")],
        sources=[
            source("source-ab-1", "A post on agents", "Blog Post"),
            source("source-ab-2", "A blog on agents", "blog"),
        ],
    )
    abc = write_article(
        repo,
        "ab-c",
        topics=["ai-agents", "ai"],
        sources=[
            source("source-abc-1", "A lower-case post", "blog post"),
            source("source-abc-2", "A capital blog", "Blog"),
        ],
    )
    ab2 = write_article(
        repo,
        "ab2",
        topics=["aix", "ai"],
        sources=[
            source("source-ab2-1", "Many blogs at once", "blogs"),
            source("source-ab2-2", "Yet another blog", "blog"),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"  # every updatedAt is 2026-07-10
    c_ab, c_abc, c_ab2 = ab.claims[0], abc.claims[0], ab2.claims[0]
    s_ab1, s_ab2 = ab.sources
    s_abc1, s_abc2 = abc.sources
    s_ab21, s_ab22 = ab2.sources

    with api_client(db_url) as client:
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                [entry(ab, 17), entry(abc, 17), entry(ab2, 17)],  # dir order
                # Topics by localeCompare: "a-i" first ("-" < "i"), then "ai" (a prefix of the rest), then the third
                # character decides: "-" < "2" < "x". Ids within a topic in dir order.
                [
                    topic_item("a-i", "a i", ["article:ab"]),
                    topic_item("ai", "ai", ["article:ab-c", "article:ab2"]),
                    topic_item("ai-agents", "ai agents", ["article:ab-c"]),
                    topic_item("ai2", "ai2", ["article:ab"]),
                    topic_item("aix", "aix", ["article:ab2"]),
                ],
                [
                    year(
                        "2026",
                        ["article:ab", "article:ab-c", "article:ab2"],
                        [month("2026-07", "July", ["article:ab", "article:ab-c", "article:ab2"])],
                    )
                ],
            )
        )

        # Node ids by localeCompare. After "article:ab" come "" (the prefix), "-c…", ":claim-001" and "2…", ranked
        # "" < "-" < ":" < "2". So article:ab-c and its claim come BEFORE article:ab:claim-001, and article:ab2
        # comes after it (code-unit order would put "2" 0x32 before ":" 0x3A). Sources: after "source-ab" the
        # next character ranks "-" < "2" < "c". Topics as in index.json. Kinds split by first letter: a < s < t.
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(ab),
                article_node(abc),
                claim_node(abc, c_abc),
                claim_node(ab, c_ab),
                article_node(ab2),
                claim_node(ab2, c_ab2),
                source_node(s_ab1),
                source_node(s_ab2),
                source_node(s_ab21),
                source_node(s_ab22),
                source_node(s_abc1),
                source_node(s_abc2),
                topic_node("a-i"),
                topic_node("ai"),
                topic_node("ai-agents"),
                topic_node("ai2"),
                topic_node("aix"),
            ]
        )

        # Edges by the key "from:type:to". The three article groups: "article:ab-c:…" < "article:ab:…" <
        # "article:ab2:…" ("-" < ":" < "2"; code units would put ab2 before ab). Within a group the type decides
        # ("argues" < "article" < "covers": "g" < "t" after "ar"), then the target ("topic:a-i" < "topic:ai2",
        # "topic:ai" < "topic:ai-agents" / "topic:aix" by prefix). Source edges last ("s" > "a"), by source id.
        # reviewedAt: updatedAt 2026-07-10, except supports edges, which take the packet's assessedAt 2026-07-05.
        edges = [
            edge("article:ab-c", "argues", "article:ab-c:claim-001", "2026-07-10"),
            edge("article:ab-c", "covers", "topic:ai", "2026-07-10"),
            edge("article:ab-c", "covers", "topic:ai-agents", "2026-07-10"),
            edge("article:ab", "argues", "article:ab:claim-001", "2026-07-10"),
            edge("article:ab", "article", "article:ab2", "2026-07-10"),  # related[].type taken verbatim
            edge("article:ab", "covers", "topic:a-i", "2026-07-10"),
            edge("article:ab", "covers", "topic:ai2", "2026-07-10"),
            edge("article:ab2", "argues", "article:ab2:claim-001", "2026-07-10"),
            edge("article:ab2", "covers", "topic:ai", "2026-07-10"),
            edge("article:ab2", "covers", "topic:aix", "2026-07-10"),
            edge("source-ab-1", "supports", "article:ab:claim-001", "2026-07-05"),
            edge("source-ab-2", "supports", "article:ab:claim-001", "2026-07-05"),
            edge("source-ab2-1", "supports", "article:ab2:claim-001", "2026-07-05"),
            edge("source-ab2-2", "supports", "article:ab2:claim-001", "2026-07-05"),
            edge("source-abc-1", "supports", "article:ab-c:claim-001", "2026-07-05"),
            edge("source-abc-2", "supports", "article:ab-c:claim-001", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)

        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["a-i", "ai", "ai-agents", "ai2", "aix"],  # code units: "-" 0x2D < "2" 0x32 < "x"
                tags=["notes"],
                # Dimension values in plain code-unit order: upper case (0x42 "B") before lower case (0x62 "b").
                source_types=["Blog", "Blog Post", "blog", "blog post", "blogs"],
                by_topic=[  # topics by localeCompare, articles in dir order
                    topic_row("ab", "a-i"),
                    topic_row("ab-c", "ai"),
                    topic_row("ab2", "ai"),
                    topic_row("ab-c", "ai-agents"),
                    topic_row("ab", "ai2"),
                    topic_row("ab2", "aix"),
                ],
                # Types by localeCompare: case is ignored, and only a tie is broken lower-before-upper, so
                # blog < Blog < "blog post" (longer, the tie on "blog" is not a tie on the whole string) < "Blog Post"
                # < blogs (" " ranks before "s"). Within a type the rows keep dir/array order (ab before ab2).
                by_type=[
                    source_row("ab", s_ab2),
                    source_row("ab2", s_ab22),
                    source_row("ab-c", s_abc2),
                    source_row("ab-c", s_abc1),
                    source_row("ab", s_ab1),
                    source_row("ab2", s_ab21),
                ],
            )
        )


# --- 2. a topic repeated in one article --------------------------------------------------------------------------


def test_a_topic_repeated_in_one_article_repeats_the_id_in_topic_lists(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    alpha = write_article(repo, "alpha", topics=["soil", "water", "soil"])
    beta = write_article(repo, "beta", topics=["soil"])
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    alpha_entry, beta_entry = entry(alpha, 17), entry(beta, 17)
    assert alpha_entry["topics"] == ["soil", "water", "soil"]  # the entry keeps the artifact's list, repeat included

    with api_client(db_url) as client:
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                [alpha_entry, beta_entry],
                # The id is pushed once per occurrence: alpha twice under soil (its 1st and 3rd topic), then beta.
                [
                    topic_item("soil", "soil", ["article:alpha", "article:alpha", "article:beta"]),
                    topic_item("water", "water", ["article:alpha"]),
                ],
                [
                    year(
                        "2026",
                        ["article:alpha", "article:beta"],
                        [month("2026-07", "July", ["article:alpha", "article:beta"])],
                    )
                ],
            )
        )
        # topics/<t>.json: articleIds as in the index (duplicates kept), but each index entry listed once.
        assert get(client, "/agents/topics/soil.json") == pretty(
            {
                "schemaVersion": 1,
                "topic": "soil",
                "articleIds": ["article:alpha", "article:alpha", "article:beta"],
                "pageUrl": f"{SITE}/topics/soil/",
                "agentJsonPath": "/agents/topics/soil.json",
                "articles": [alpha_entry, beta_entry],
            }
        )
        assert get(client, "/agents/topics/water.json") == pretty(
            {
                "schemaVersion": 1,
                "topic": "water",
                "articleIds": ["article:alpha"],
                "pageUrl": f"{SITE}/topics/water/",
                "agentJsonPath": "/agents/topics/water.json",
                "articles": [alpha_entry],
            }
        )

        # The two "article:alpha:covers:topic:soil" edges share a key: one edge is kept, so 9 edges, not 10.
        edges = [
            edge("article:alpha", "argues", "article:alpha:claim-001", "2026-07-10"),
            edge("article:alpha", "covers", "topic:soil", "2026-07-10"),
            edge("article:alpha", "covers", "topic:water", "2026-07-10"),
            edge("article:beta", "argues", "article:beta:claim-001", "2026-07-10"),
            edge("article:beta", "covers", "topic:soil", "2026-07-10"),
            edge("source-alpha-1", "supports", "article:alpha:claim-001", "2026-07-05"),
            edge("source-alpha-2", "supports", "article:alpha:claim-001", "2026-07-05"),
            edge("source-beta-1", "supports", "article:beta:claim-001", "2026-07-05"),
            edge("source-beta-2", "supports", "article:beta:claim-001", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)
        assert get(client, "/agents/feeds/manifest.json") == pretty(manifest(generated, claims=2, sources=4, edges=9))

        # articles-by-topic deduplicates per article: alpha appears once under soil.
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["soil", "water"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("alpha", "soil"), topic_row("beta", "soil"), topic_row("alpha", "water")],
                by_type=[  # "dataset" < "paper"; within a type, dir order
                    source_row("alpha", alpha.sources[1]),
                    source_row("beta", beta.sources[1]),
                    source_row("alpha", alpha.sources[0]),
                    source_row("beta", beta.sources[0]),
                ],
            )
        )


# --- 3. a source id reused by two articles -----------------------------------------------------------------------


def test_a_source_id_reused_with_different_titles_keeps_the_first_node_and_both_rows(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    first_shared = source("source-shared", "Shared report, first edition", "report", "https://example.org/first")
    second_shared = source("source-shared", "Shared dataset, second take", "dataset", "https://example.net/second")
    first = write_article(
        repo,
        "first",
        sources=[first_shared, source("source-first-only", "First-only memo", "memo")],
        claims=[
            claim(
                "claim-001",
                "The first article relies on the shared report.",
                [("source-shared", "2026-07-03"), ("source-first-only", "2026-07-03")],
            )
        ],
    )
    second = write_article(
        repo,
        "second",
        sources=[source("source-second-only", "Second-only note", "note"), second_shared],
        # source-shared is cited twice by this claim: one edge, carrying the LAST packet's assessedAt (07-02),
        # not the latest date (07-06).
        claims=[
            claim(
                "claim-001",
                "The second article relies on the shared dataset.",
                [
                    ("source-shared", "2026-07-06"),
                    ("source-second-only", "2026-07-04"),
                    ("source-shared", "2026-07-02"),
                ],
            )
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # Sources are per article, not deduplicated: both source-shared rows, each with its own article's data.
        assert get(client, "/agents/feeds/sources.jsonl") == jsonl(
            [
                feed_source(first, first_shared),
                feed_source(first, first.sources[1]),
                feed_source(second, second.sources[0]),
                feed_source(second, second_shared),
            ]
        )
        # The node for source-shared is the FIRST article's (dir order: first < second): its label, url and type.
        # "source-first-only" < "source-second-only" < "source-shared" ("f" < "s"; then "e" < "h").
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(first),
                claim_node(first, first.claims[0]),
                article_node(second),
                claim_node(second, second.claims[0]),
                source_node(first.sources[1]),
                source_node(second.sources[0]),
                source_node(first_shared),
                topic_node("garden"),  # one node for the topic both articles cover
            ]
        )
        # supports edges from source-shared reach both articles' claims (merged under one source node).
        edges = [
            edge("article:first", "argues", "article:first:claim-001", "2026-07-10"),
            edge("article:first", "covers", "topic:garden", "2026-07-10"),
            edge("article:second", "argues", "article:second:claim-001", "2026-07-10"),
            edge("article:second", "covers", "topic:garden", "2026-07-10"),
            edge("source-first-only", "supports", "article:first:claim-001", "2026-07-03"),
            edge("source-second-only", "supports", "article:second:claim-001", "2026-07-04"),
            edge("source-shared", "supports", "article:first:claim-001", "2026-07-03"),
            edge("source-shared", "supports", "article:second:claim-001", "2026-07-02"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)


# --- 4. claim-id gaps --------------------------------------------------------------------------------------------


def test_claim_id_gaps_are_kept_and_never_renumbered(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    ids = ["source-gappy-1", "source-gappy-2"]
    gappy = write_article(
        repo,
        "gappy",
        claims=[
            claim("claim-001", "The gappy article states its first claim.", ids),
            # No claim-002. asOf is the string-max of assessedAt (07-09), although it is listed first.
            claim(
                "claim-003",
                "The gappy article skips straight to claim three.",
                [("source-gappy-1", "2026-07-09"), ("source-gappy-2", "2026-06-30")],
                confidence="high",
                kind="forecast",
                counter=[{"summary": "A later survey found the effect smaller.", "assessedAt": "2026-07-09"}],
            ),
        ],
    )
    plain = write_article(repo, "plain")
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    g1, g3 = gappy.claims

    with api_client(db_url) as client:
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(gappy, g1, "verified", "2026-07-05"),
                feed_claim(gappy, g3, "verified", "2026-07-09"),  # claimId article:gappy:claim-003, not claim-002
                feed_claim(plain, plain.claims[0], "verified", "2026-07-05"),
            ]
        )
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        gappy,
                        "published",
                        [report_claim(g1, "verified"), report_claim(g3, "verified")],
                        summary(verified=2),
                    ),
                    report_article(
                        plain, "published", [report_claim(plain.claims[0], "verified")], summary(verified=1)
                    ),
                ],
            )
        )
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(gappy),
                claim_node(gappy, g1),
                claim_node(gappy, g3),  # article:gappy:claim-003
                article_node(plain),
                claim_node(plain, plain.claims[0]),
                source_node(gappy.sources[0]),
                source_node(gappy.sources[1]),
                source_node(plain.sources[0]),
                source_node(plain.sources[1]),
                topic_node("garden"),
            ]
        )
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("gappy", "garden"), topic_row("plain", "garden")],
                by_type=[  # "dataset" < "paper"; within a type, dir order
                    source_row("gappy", gappy.sources[1]),
                    source_row("plain", plain.sources[1]),
                    source_row("gappy", gappy.sources[0]),
                    source_row("plain", plain.sources[0]),
                ],
                high_confidence=[claim_row("gappy", g3)],  # the local id: claim-003
            )
        )


# --- 5. front matter and artifact disagree on status -------------------------------------------------------------


def test_status_disagreement_keeps_an_article_out_of_public_files_but_in_the_reports(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    both = write_article(repo, "both")
    # Each disagreeing article has one claim citing a single source, which raises the two low-source-diversity
    # warnings whatever the status, so that it shows up in diagnostics.json. Their updatedAt is later than
    # both's, but only published (P) articles count for generatedAt.
    front_draft = write_article(
        repo,
        "draft-front",
        fm_status="draft",
        status="published",
        updated_at="2026-08-01",
        topics=["meadow"],
        tags=["wildflowers"],
        sources=[source("source-draft-front-1", "Meadow survey notes", "survey")],
    )
    artifact_draft = write_article(
        repo,
        "draft-artifact",
        fm_status="published",
        status="draft",
        updated_at="2026-08-02",
        topics=["orchard"],
        tags=["fruit"],
        sources=[source("source-draft-artifact-1", "Orchard ledger book", "ledger")],
        # No verification: published-claim-missing-verification needs P, so it must NOT fire here.
        claims=[
            claim(
                "claim-001", "The orchard ledger shows a steady yield.", ["source-draft-artifact-1"], verification=None
            )
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"  # both's updatedAt; 2026-08-01/02 are not P

    with api_client(db_url, **PREVIEW) as client:
        # Only "both" is P: index, feeds, graph, the same for every caller. Dir order of all three: both <
        # draft-artifact < draft-front.
        for headers in ({}, PREVIEW_HEADERS):
            assert_only_both_in_p_files(client, both, generated, headers)

        # With the token, the reports cover every article, in dir order, with the artifact's status.
        def single_source(slug: str) -> list[dict[str, str]]:
            return [
                {
                    "rule": "low-source-diversity",
                    "severity": "warning",
                    "message": f"2026/{slug}: claim-001 relies on a single source for evidence.",
                },
                {
                    "rule": "low-source-diversity",
                    "severity": "warning",
                    "message": f"2026/{slug}: claim-001 relies on a single source type for evidence.",
                },
            ]

        assert get(client, "/agents/verification-report.json", PREVIEW_HEADERS) == pretty(
            report(
                generated,
                [
                    report_article(both, "published", [report_claim(both.claims[0], "verified")], summary(verified=1)),
                    # No verification and no blocking finding: state draft (§2.7 rule 7).
                    report_article(
                        artifact_draft,
                        "draft",
                        [report_claim(artifact_draft.claims[0], "draft", single_source("draft-artifact"))],
                        summary(draft=1),
                    ),
                    report_article(
                        front_draft,
                        "published",
                        [report_claim(front_draft.claims[0], "verified", single_source("draft-front"))],
                        summary(verified=1),
                    ),
                ],
            )
        )
        assert get(client, "/agents/diagnostics.json", PREVIEW_HEADERS) == pretty(
            diagnostics(
                generated,
                0,
                4,
                [
                    {"rule": f["rule"], "severity": f["severity"], "claimId": "claim-001", "message": f["message"]}
                    for slug in ("draft-artifact", "draft-front")
                    for f in single_source(slug)
                ],
            )
        )

        # garden-queries looks at the artifact status only: draft-front (fm draft, artifact published) is in it,
        # draft-artifact is not. Its generatedAt is still the P one.
        assert get(client, "/agents/garden-queries.json", PREVIEW_HEADERS) == pretty(
            garden_queries(
                generated,
                topics=["garden", "meadow"],
                tags=["notes", "wildflowers"],
                source_types=["dataset", "paper", "survey"],
                by_topic=[topic_row("both", "garden"), topic_row("draft-front", "meadow")],
                by_type=[
                    source_row("both", both.sources[1]),
                    source_row("both", both.sources[0]),
                    source_row("draft-front", front_draft.sources[0]),
                ],
            )
        )

        # Anonymous callers get the same files without the two drafts: the stricter status wins, so neither
        # draft-front (fm draft) nor draft-artifact (artifact draft) is named, counted or described.
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [report_article(both, "published", [report_claim(both.claims[0], "verified")], summary(verified=1))],
            )
        )
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("both", "garden")],
                by_type=[source_row("both", both.sources[1]), source_row("both", both.sources[0])],
            )
        )


def test_review_hides_like_draft_and_archived_stays_where_the_publisher_lists_it(tmp_path: Path, db_url: str) -> None:
    """One rule (app.queries.common.hides): draft or review in either file hides an article from anonymous
    callers everywhere; archived (with no draft or review) stays in the reports and, artifact published, in
    garden-queries, and is a 410 on REST; archived in one file and draft in the other is hidden (a 404)."""
    repo = tmp_path / "repo"
    write_article(repo, "both")
    write_article(repo, "gone", fm_status="archived", status="archived")
    write_article(repo, "gone-draft", fm_status="draft", status="archived", topics=["secret-draft-topic"])
    write_article(repo, "gone-front", fm_status="archived", status="published", topics=["old-topic"])
    write_article(repo, "in-review", fm_status="published", status="review", tags=["secret-review-tag"])
    db_url = ingest(tmp_path, db_url)
    every = ["both", "gone", "gone-draft", "gone-front", "in-review"]  # dir order

    def report_slugs(headers: dict[str, str]) -> list[str]:
        return [a["slug"] for a in json.loads(get(client, "/agents/verification-report.json", headers))["articles"]]

    def catalog(headers: dict[str, str]) -> dict[str, Any]:
        body = json.loads(get(client, "/agents/garden-queries.json", headers))
        by_topic = body["queries"][0]["results"]
        return {"slugs": sorted({row["slug"] for row in by_topic}), "topics": body["dimensions"][0]["values"]}

    with api_client(db_url, **PREVIEW) as client:
        assert report_slugs(PREVIEW_HEADERS) == every
        assert report_slugs({}) == ["both", "gone", "gone-front"]
        # garden-queries takes artifact-published articles (both, gone-front), for everyone: none is hidden.
        assert catalog(PREVIEW_HEADERS) == catalog({}) == {"slugs": ["both", "gone-front"],
                                                          "topics": ["garden", "old-topic"]}  # fmt: skip
        for slug, anonymous in (("gone", 410), ("gone-front", 410), ("gone-draft", 404), ("in-review", 404)):
            assert client.get(f"/articles/{slug}").status_code == anonymous, slug
            assert client.get(f"/articles/{slug}", headers=PREVIEW_HEADERS).status_code == 200, slug
        anonymous_text = b"".join(
            get(client, path)
            for path in ("/agents/verification-report.json", "/agents/diagnostics.json", "/agents/garden-queries.json")
        )
        for word in (b"gone-draft", b"secret-draft-topic", b"in-review", b"secret-review-tag"):
            assert word not in anonymous_text, word
        assert json.loads(get(client, "/readyz"))["corpus"] | {"ingestedAt": None} == {
            "version": 1, "ingestedAt": None, "articles": 1, "publicArticles": 1, "claims": 1}  # fmt: skip
        assert json.loads(get(client, "/readyz", PREVIEW_HEADERS))["corpus"] | {"ingestedAt": None} == {
            "version": 1, "ingestedAt": None, "articles": 5, "publicArticles": 1, "claims": 5}  # fmt: skip


def assert_only_both_in_p_files(client: Any, both: Article, generated: str, headers: dict[str, str]) -> None:
    """The files of published (P) articles hold "both" alone (test_status_disagreement_…), whoever asks."""
    assert get(client, "/agents/index.json", headers) == pretty(
        index(
            generated,
            [entry(both, 17)],
            [topic_item("garden", "garden", ["article:both"])],
            [year("2026", ["article:both"], [month("2026-07", "July", ["article:both"])])],
        )
    )
    assert get(client, "/agents/feeds/claims.jsonl", headers) == jsonl(
        [feed_claim(both, both.claims[0], "verified", "2026-07-05")]
    )
    assert get(client, "/agents/feeds/sources.jsonl", headers) == jsonl([feed_source(both, s) for s in both.sources])
    assert get(client, "/graph/nodes.json", headers) == pretty(
        [
            article_node(both),
            claim_node(both, both.claims[0]),
            source_node(both.sources[0]),
            source_node(both.sources[1]),
            topic_node("garden"),
        ]
    )
    for path in (
        "/agents/articles/draft-front.json",
        "/agents/articles/draft-front.md",
        "/agents/articles/draft-artifact.json",
        "/agents/articles/draft-artifact.md",
        "/agents/topics/meadow.json",
        "/agents/topics/orchard.json",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    assert "draft-" not in get(client, "/llms.txt", headers).decode()


# --- 6. a missing verification -----------------------------------------------------------------------------------


def test_a_published_claim_without_verification_is_draft_with_an_error(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    checked = write_article(repo, "checked")
    ids = ["source-unchecked-1", "source-unchecked-2"]
    unchecked = write_article(
        repo,
        "unchecked",
        claims=[
            claim("claim-001", "The unchecked claim has no verification at all.", ids, verification=None),
            claim("claim-002", "The second claim of this article was verified.", ids),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    u1, u2 = unchecked.claims

    with api_client(db_url) as client:
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(checked, checked.claims[0], "verified", "2026-07-05"),
                feed_claim(unchecked, u1, "draft", "2026-07-05"),  # a missing verification is published as "draft"
                feed_claim(unchecked, u2, "verified", "2026-07-05"),
            ]
        )

        # The publisher's wording of this message is unknown (the corpus has none), so only its
        # "<year>/<slug>: claim-NNN" prefix is asserted; the rest of both files is compared byte for byte.
        found = json.loads(get(client, "/agents/diagnostics.json"))["findings"]
        assert len(found) == 1
        message = found[0]["message"]
        assert message.startswith("2026/unchecked: claim-001 "), message
        finding = {"rule": "published-claim-missing-verification", "severity": "error", "message": message}
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                1,
                0,
                [
                    {"rule": finding["rule"], "severity": "error", "claimId": "claim-001", "message": message},
                ],
            )
        )
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        checked, "published", [report_claim(checked.claims[0], "verified")], summary(verified=1)
                    ),
                    # The error does not block: no verification status, no needs-evidence/counterevidence/stale rule,
                    # so the state is draft (§2.7 rule 7).
                    report_article(
                        unchecked,
                        "published",
                        [report_claim(u1, "draft", [finding]), report_claim(u2, "verified")],
                        summary(verified=1, draft=1),
                    ),
                ],
            )
        )
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("checked", "garden"), topic_row("unchecked", "garden")],
                by_type=[
                    source_row("checked", checked.sources[1]),
                    source_row("unchecked", unchecked.sources[1]),
                    source_row("checked", checked.sources[0]),
                    source_row("unchecked", unchecked.sources[0]),
                ],
                with_draft=[ref("unchecked")],
            )
        )


# --- 6b. empty evidence; an explicit verification status wins ---------------------------------------------------


def test_empty_evidence_gives_null_as_of_and_an_explicit_verification_beats_every_finding(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    thin = write_article(
        repo,
        "thin",
        claims=[
            claim("claim-001", "The thin article offers a claim with no evidence.", [], verification=None),
            claim("claim-002", "This one has no evidence either but is verified.", []),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    t1, t2 = thin.claims

    with api_client(db_url) as client:
        # No evidence: asOf is an explicit null, one of the two nulls the files ever hold (§2.0).
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(thin, t1, "draft", None),
                feed_claim(thin, t2, "verified", None),
            ]
        )
        # Per claim, in table order: empty-evidence, then published-claim-missing-verification (claim-001 only).
        # The publisher's wording of these messages is unknown: the prefixes are asserted, the rest byte for byte.
        found = json.loads(get(client, "/agents/diagnostics.json"))["findings"]
        assert [(f["rule"], f["severity"], f["claimId"]) for f in found] == [
            ("empty-evidence", "error", "claim-001"),
            ("published-claim-missing-verification", "error", "claim-001"),
            ("empty-evidence", "error", "claim-002"),
        ]
        messages = [f["message"] for f in found]
        assert [m[: len("2026/thin: claim-00N ")] for m in messages] == [
            "2026/thin: claim-001 ",
            "2026/thin: claim-001 ",
            "2026/thin: claim-002 ",
        ]
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                3,
                0,
                [
                    {"rule": "empty-evidence", "severity": "error", "claimId": "claim-001", "message": messages[0]},
                    {
                        "rule": "published-claim-missing-verification",
                        "severity": "error",
                        "claimId": "claim-001",
                        "message": messages[1],
                    },
                    {"rule": "empty-evidence", "severity": "error", "claimId": "claim-002", "message": messages[2]},
                ],
            )
        )
        # claim-001: no verification status, empty-evidence present -> needs-evidence (§2.7 rule 4).
        # claim-002: verified -> verified (rule 1), whatever its findings say.
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        thin,
                        "published",
                        [
                            report_claim(
                                t1,
                                "needs-evidence",
                                [
                                    {"rule": "empty-evidence", "severity": "error", "message": messages[0]},
                                    {
                                        "rule": "published-claim-missing-verification",
                                        "severity": "error",
                                        "message": messages[1],
                                    },
                                ],
                            ),
                            report_claim(
                                t2,
                                "verified",
                                [{"rule": "empty-evidence", "severity": "error", "message": messages[2]}],
                            ),
                        ],
                        summary(verified=1, needs_evidence=1),
                    ),
                ],
            )
        )
        # claims-needing-evidence holds claim-001; needs-evidence is not draft, so no article with draft claims.
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("thin", "garden")],
                by_type=[source_row("thin", thin.sources[1]), source_row("thin", thin.sources[0])],
                needing_evidence=[claim_row("thin", t1)],
            )
        )


# --- 1b. free-text collation beyond ASCII --------------------------------------------------------------


def test_free_text_collation_beyond_ascii_follows_icu(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    note = write_article(
        repo,
        "note",
        sources=[
            source("source-note-1", "A French study", "Étude"),
            source("source-note-2", "A small zine", "zine"),
            source("source-note-3", "An English study", "etude"),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    s1, s2, s3 = note.sources

    with api_client(db_url) as client:
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                "2026-07-10T00:00:00.000Z",
                topics=["garden"],
                tags=["notes"],
                source_types=["etude", "zine", "Étude"],  # code units: "É" is U+00C9, after "z" U+007A
                by_topic=[topic_row("note", "garden")],
                # ICU root: "e" and "É" differ only at the accent (secondary) level, so etude and Étude are neighbours,
                # the unaccented one first; both come before zine at the first letter.
                by_type=[source_row("note", s3), source_row("note", s1), source_row("note", s2)],
            )
        )


# --- 7. counterevidence that names a source ----------------------------------------------------------------------


def test_counterevidence_naming_a_source_adds_a_contests_edge(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    other = write_article(repo, "other")
    ids = ["source-rebutted-1", "source-rebutted-2"]
    rebutted = write_article(
        repo,
        "rebutted",
        sources=[
            source("source-rebutted-1", "A paper on rebuttals", "paper"),
            source("source-rebutted-2", "A dataset on rebuttals", "dataset"),
            source("source-critique", "A published critique", "critique"),
        ],
        claims=[
            claim(
                "claim-001",
                "The rebutted claim is disputed by a named critique.",
                ids,
                counter=[
                    {
                        "summary": "A critique disputes the measured effect.",
                        "sourceId": "source-critique",
                        "snippet": "The effect vanished on replication.",
                        "assessedAt": "2026-07-08",
                    }
                ],
            ),
            # Counterevidence without a sourceId gives no edge.
            claim(
                "claim-002",
                "The second claim meets only unsourced doubts.",
                ids,
                counter=[{"summary": "Unsourced doubts remain about scope.", "assessedAt": "2026-07-07"}],
            ),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # Keys: "article:other:…" < "article:rebutted:…"; then the sources, "source-critique" < "source-other-…"
        # < "source-rebutted-…". The contests edge takes the counterevidence packet's assessedAt (07-08).
        edges = [
            edge("article:other", "argues", "article:other:claim-001", "2026-07-10"),
            edge("article:other", "covers", "topic:garden", "2026-07-10"),
            edge("article:rebutted", "argues", "article:rebutted:claim-001", "2026-07-10"),
            edge("article:rebutted", "argues", "article:rebutted:claim-002", "2026-07-10"),
            edge("article:rebutted", "covers", "topic:garden", "2026-07-10"),
            edge("source-critique", "contests", "article:rebutted:claim-001", "2026-07-08"),
            edge("source-other-1", "supports", "article:other:claim-001", "2026-07-05"),
            edge("source-other-2", "supports", "article:other:claim-001", "2026-07-05"),
            edge("source-rebutted-1", "supports", "article:rebutted:claim-001", "2026-07-05"),
            edge("source-rebutted-1", "supports", "article:rebutted:claim-002", "2026-07-05"),
            edge("source-rebutted-2", "supports", "article:rebutted:claim-001", "2026-07-05"),
            edge("source-rebutted-2", "supports", "article:rebutted:claim-002", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)
        assert get(client, "/agents/feeds/manifest.json") == pretty(manifest(generated, claims=3, sources=5, edges=12))
        assert get(client, "/agents/feeds/roadmap.jsonl") == b"\n"  # an empty feed is exactly one newline
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(other, other.claims[0], "verified", "2026-07-05"),
                feed_claim(rebutted, rebutted.claims[0], "verified", "2026-07-05"),
                feed_claim(rebutted, rebutted.claims[1], "verified", "2026-07-05"),
            ]
        )
        # The named source is one of the article's own: no dangling-graph-edge, no finding at all.
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))


# --- 8. an article filed under another year ----------------------------------------------------------------------


def test_an_article_filed_under_another_year(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # zeta sits in 2025/ but was updated in 2026-07; its claim cites one source (two findings, prefixed 2025/zeta).
    zeta = write_article(
        repo,
        "zeta",
        year="2025",
        published_at="2025-12-20",
        updated_at="2026-07-12",
        claims=[claim("claim-001", "The zeta article was filed under the year before.", ["source-zeta-1"])],
        # Only raw <h2 id> tags count, titles raw (entities not decoded); a Markdown heading does not.
        body=['<h2 id="roots">Roots &amp; Shoots</h2>', "## A Markdown heading", '<h2 id="yield">Yield</h2>'],
    )
    alpha = write_article(repo, "alpha", published_at="2025-10-01", updated_at="2025-11-03")
    beta = write_article(repo, "beta", published_at="2026-06-01", updated_at="2026-06-30")
    db_url = ingest(tmp_path, db_url)
    # The string-max of the P updatedAt values (zeta's, though zeta comes first in dir order).
    generated = "2026-07-12T00:00:00.000Z"

    with api_client(db_url) as client:
        # Dir order: "2025/zeta" < "2026/alpha" < "2026/beta". Archives group by artifact updatedAt, not by the
        # folder year nor by publishedAt: zeta under 2026-07, beta 2026-06, alpha 2025-11; years and months
        # descending, ids within a group in dir order.
        entries = [entry(zeta, 17), entry(alpha, 17), entry(beta, 17)]
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                entries,
                [topic_item("garden", "garden", ["article:zeta", "article:alpha", "article:beta"])],
                [
                    year(
                        "2026",
                        ["article:zeta", "article:beta"],
                        [month("2026-07", "July", ["article:zeta"]), month("2026-06", "June", ["article:beta"])],
                    ),
                    year("2025", ["article:alpha"], [month("2025-11", "November", ["article:alpha"])]),
                ],
            )
        )
        assert get(client, "/agents/index.jsonl") == jsonl(entries)
        # The packet's repo paths come from the folder: 2025.
        assert get(client, "/agents/articles/zeta.json") == pretty(
            packet(
                zeta, generated, 17, [{"id": "roots", "title": "Roots &amp; Shoots"}, {"id": "yield", "title": "Yield"}]
            )
        )
        assert get(client, "/agents/articles/zeta.md") == zeta.agent_md  # agent.md byte for byte
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                0,
                2,
                [
                    {
                        "rule": "low-source-diversity",
                        "severity": "warning",
                        "claimId": "claim-001",
                        "message": "2025/zeta: claim-001 relies on a single source for evidence.",
                    },
                    {
                        "rule": "low-source-diversity",
                        "severity": "warning",
                        "claimId": "claim-001",
                        "message": "2025/zeta: claim-001 relies on a single source type for evidence.",
                    },
                ],
            )
        )


# --- 9. a brief of exactly 180 words -----------------------------------------------------------------------------


def test_a_brief_of_180_words_estimates_244_tokens(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # 15 lines of 12 words = 180 words; a tab and a double space split words like a single space.
    brief = "\n".join(" ".join(f"word{n}" for n in range(row * 12, row * 12 + 12)) for row in range(15))
    brief = brief.replace("word3 word4", "word3\tword4").replace("word7 word8", "word7  word8")
    assert len(brief.split()) == 180
    # This artifact already carries two of the derived keys: they keep their place and get the derived value.
    long_brief = write_article(
        repo,
        "long-brief",
        brief=brief,
        extra={"tokenEstimate": 1, "articleUrl": "https://old.example/", "x-note": "kept"},
    )
    no_brief = write_article(repo, "no-brief", brief="")  # an empty body: tokenEstimate 0
    short_brief = write_article(repo, "short-brief")  # 12 words: ceil(16.2) = 17
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # 180 × 1.35 is 243.00000000000003 in float, so ceil gives 244 (exact arithmetic would give 243).
        body = get(client, "/agents/articles/long-brief.json")
        assert body == pretty(packet(long_brief, generated, 244, []))
        assert list(json.loads(body))[7:20] == [
            "thesis",
            "tokenEstimate",
            "articleUrl",
            "x-note",
            "status",
            "maturity",
            "publishedAt",
            "updatedAt",
            "audiences",
            "topics",
            "claims",
            "sources",
            "related",
        ]
        assert list(json.loads(body))[-7:] == [
            "contentHash",
            "generatedAt",
            "agentJsonPath",
            "agentMarkdownPath",
            "sourceRepoPath",
            "sourceGitHubUrl",
            "sectionOutline",
        ]
        assert get(client, "/agents/index.jsonl") == jsonl(
            [entry(long_brief, 244), entry(no_brief, 0), entry(short_brief, 17)]
        )


# --- generatedAt with no public article, empty feeds ------------------------------------------------------------


def test_a_tree_without_public_articles_gives_empty_files(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    seedling = write_article(repo, "seedling", fm_status="draft", status="draft", updated_at="2026-09-09")
    db_url = ingest(tmp_path, db_url)
    generated = "1970-01-01T00:00:00.000Z"  # no P article

    with api_client(db_url, **PREVIEW) as client:
        for headers in ({}, PREVIEW_HEADERS):
            assert get(client, "/agents/index.json", headers) == pretty(index(generated, [], [], []))
            for feed in ("index", "feeds/claims", "feeds/sources", "feeds/edges", "feeds/roadmap"):
                assert get(client, f"/agents/{feed}.jsonl", headers) == b"\n", feed
            assert get(client, "/agents/feeds/manifest.json", headers) == pretty(
                manifest(generated, claims=0, sources=0, edges=0)
            )
            assert get(client, "/graph/nodes.json", headers) == b"[]\n"
            assert get(client, "/graph/edges.json", headers) == pretty(
                {"schemaVersion": 2, "generatedAt": generated, "edges": []}
            )
        # The publisher's report still lists the draft article: with the token, so does this one.
        assert get(client, "/agents/verification-report.json", PREVIEW_HEADERS) == pretty(
            report(
                generated,
                [
                    report_article(
                        seedling, "draft", [report_claim(seedling.claims[0], "verified")], summary(verified=1)
                    ),
                ],
            )
        )
        # Anonymous callers learn nothing of it: an empty report, an empty catalog.
        assert get(client, "/agents/verification-report.json") == pretty(report(generated, []))
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(generated, topics=[], tags=[], source_types=[], by_topic=[], by_type=[])
        )


# --- llms.txt ----------------------------------------------------------------------------------------------------

LLMS_USE = (
    "Use article packets as the retrieval unit. Treat maturity values as uncertainty markers. Prefer claim IDs and "
    "source IDs over inferred citations. Article artifacts use schemaVersion 3 with a provenance block (agents, "
    "reviews, policy) and typed evidence/counterevidence packets. Trust a published packet only when its provenance "
    "contains a human-approved review whose contentHash matches the current article.md hash."
)


def test_llms_txt_for_a_two_article_tree(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    write_article(repo, "oak", title='Oak & "bark": a [field] guide', topics=["trees", "bark"])
    write_article(repo, "oak-grove", topics=["trees-and-soil", "trees"])
    write_article(repo, "oak-draft", fm_status="draft", topics=["acorns"])  # not P: nowhere in llms.txt
    db_url = ingest(tmp_path, db_url)

    # Articles and packet links in dir order: "oak" < "oak-draft" (skipped) < "oak-grove". Titles unescaped.
    # Topic links by localeCompare: bark < trees < trees-and-soil (a prefix first).
    expected = f"""# Aura Knowledge

> Focused essays for humans, backed by compact agent-auditable research packets.

## Primary Pages
- [Home]({SITE}/)
- [Roadmap]({SITE}/roadmap/)
- [Evidence Canvas]({SITE}/evidence-canvas/)
- [Agent Entry]({SITE}/agents/)
- [Knowledge Graph]({SITE}/graph/)

## Articles
- [Oak & "bark": a [field] guide]({SITE}/articles/oak/)
- [Field notes: oak-grove]({SITE}/articles/oak-grove/)

## Agent Artifacts
- [Agent Index JSON]({SITE}/agents/index.json)
- [Agent Index JSONL]({SITE}/agents/index.jsonl)
- [Garden Query Catalog]({SITE}/agents/garden-queries.json)
- [Brief Eval Report]({SITE}/agents/eval-report.json)
- [Claim Verification Report]({SITE}/agents/verification-report.json)
- [Graph Nodes]({SITE}/graph/nodes.json)
- [Graph Edges]({SITE}/graph/edges.json)
- [oak JSON]({SITE}/agents/articles/oak.json)
- [oak Markdown]({SITE}/agents/articles/oak.md)
- [oak-grove JSON]({SITE}/agents/articles/oak-grove.json)
- [oak-grove Markdown]({SITE}/agents/articles/oak-grove.md)
- [bark topic JSON]({SITE}/agents/topics/bark.json)
- [trees topic JSON]({SITE}/agents/topics/trees.json)
- [trees-and-soil topic JSON]({SITE}/agents/topics/trees-and-soil.json)
- [Agent Feeds Manifest]({SITE}/agents/feeds/manifest.json)
- [Claims Feed JSONL]({SITE}/agents/feeds/claims.jsonl)
- [Sources Feed JSONL]({SITE}/agents/feeds/sources.jsonl)
- [Roadmap Feed JSONL]({SITE}/agents/feeds/roadmap.jsonl)
- [Edges Feed JSONL]({SITE}/agents/feeds/edges.jsonl)

## Use
{LLMS_USE}
"""
    with api_client(db_url, **PREVIEW) as client:
        for headers in ({}, PREVIEW_HEADERS):  # llms.txt is built from P articles: the same for every caller
            assert get(client, "/llms.txt", headers) == expected.encode()


def test_orders_left_to_the_database_are_code_point_orders_on_every_backend(tmp_path: Path, db_url: str) -> None:
    """``sort=title`` and ``sort=published`` are ordered by the database (keyset paging): by code point, as
    SQLite's BINARY collation does, never by a locale's rules. (PostgreSQL's test database is created with
    ICU's en-US collation, under which "aï x" would come second and "ai's view" last.)"""
    repo = tmp_path / "repo"
    titles = {"t-1": "AI-native tools", "t-2": "AI's view here", "t-3": "Ai agents at work", "t-4": "AI_z notes here",
              "t-5": "Aï x and more"}  # fmt: skip
    for slug, title in titles.items():
        write_article(repo, slug, title=title)
    db_url = ingest(tmp_path, db_url)
    expected = sorted(titles, key=lambda slug: ("".join(c.lower() if c.isascii() else c for c in titles[slug]), slug))
    assert expected == ["t-3", "t-2", "t-1", "t-4", "t-5"]  # " " < "'" < "-" < "_" < "ï" by code point
    with api_client(db_url) as client:
        for limit in (5, 2):  # one page, and pages joined through their keyset cursors
            slugs, url = [], f"/articles?sort=title&limit={limit}&fields=slug"
            while url:
                body = client.get(url).json()
                slugs += [item["slug"] for item in body["items"]]
                url = body["next"]
            assert slugs == expected
