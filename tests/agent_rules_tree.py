"""The tree builder of the agent-layer rule tests (tests/test_agent_layer_rules_*.py): it writes a tiny content
tree (2-3 articles) holding one of the traps DATA-CONTRACT §2 and §9 describe, ingests it into a fresh database
and fetches the agent files. The expected values are written by hand in each test, with the fixed key orders of
tests/agent_rules_shapes.py; no expected value comes from the app's code.

Visibility: the publisher's files are served exactly as its generator writes them to a caller holding the
preview token; so every test of a tree that holds a draft, review or archived article asks with the token
(``api_client(db_url, **PREVIEW)`` and ``get(client, path, PREVIEW_HEADERS)``), and checks separately what an
anonymous caller gets: the same files without the hidden articles (app.queries.common.hides).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ingest_json

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
