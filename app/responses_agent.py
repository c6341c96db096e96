"""Models of the publisher's agent files, for the OpenAPI document (the routes serve the publisher's bytes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SITE = "https://aura-knowledge.github.io"
GENERATED = "2026-10-05T00:00:00.000Z"


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


class AgentIndex(BaseModel):
    """``/agents/index.json``: every public article's index entry, and the topics."""

    model_config = _example(schemaVersion=3, generatedAt=GENERATED, site=SITE, base="", articles=[], topics=[],
                            archives=[], roadmaps=[])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    site: str
    base: str
    articles: list[dict[str, Any]] = Field(description="Index entries of public articles, in dir order.")
    topics: list[dict[str, Any]]
    archives: list[dict[str, Any]]
    roadmaps: list[dict[str, Any]]


class TopicFile(BaseModel):
    """``/agents/topics/<topic>.json``."""

    model_config = _example(schemaVersion=1, topic="composting", articleIds=["article:x"],
                            pageUrl=f"{SITE}/topics/composting/", agentJsonPath="/agents/topics/composting.json",
                            articles=[])  # fmt: skip

    schemaVersion: int
    topic: str
    articleIds: list[str]
    pageUrl: str
    agentJsonPath: str
    articles: list[dict[str, Any]]


class Packet(BaseModel):
    """``/agents/articles/<slug>.json``: the artifact with its derived keys."""

    model_config = _example(schemaVersion=3, id="article:x", slug="x", title="An Article", claims=[], sources=[],
                            generatedAt=GENERATED, articleUrl=f"{SITE}/articles/x/", tokenEstimate=342,
                            sectionOutline=[])  # fmt: skip

    schemaVersion: int
    id: str
    slug: str
    title: str
    claims: list[dict[str, Any]]
    sources: list[dict[str, Any]]


class FeedsManifest(BaseModel):
    """``/agents/feeds/manifest.json``."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, site=SITE, base="",
                            counts={"claims": 50, "sources": 55, "roadmap": 0, "edges": 300},
                            files={"claims": {"path": "/agents/feeds/claims.jsonl", "count": 50}})  # fmt: skip

    schemaVersion: int
    generatedAt: str
    site: str
    base: str
    counts: dict[str, int]
    files: dict[str, dict[str, Any]]


class GardenQueries(BaseModel):
    """``/agents/garden-queries.json``."""

    model_config = _example(schemaVersion=1, schema=f"{SITE}/schemas/garden-queries.schema.json", site=SITE, base="",
                            generatedAt=GENERATED, catalogSize={"queryCount": 6, "totalResults": 120},
                            dimensions=[], queries=[])  # fmt: skip

    schemaVersion: int
    site: str
    base: str
    generatedAt: str
    catalogSize: dict[str, int]
    dimensions: list[dict[str, Any]]
    queries: list[dict[str, Any]]


class VerificationReport(BaseModel):
    """``/agents/verification-report.json``: claim states and findings of every article (with the preview
    token; anonymous callers: every article but drafts and reviews, app.queries.common.hides)."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, articles=[])

    schemaVersion: int
    generatedAt: str
    articles: list[dict[str, Any]]


class Diagnostics(BaseModel):
    """``/agents/diagnostics.json``."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, summary={"errors": 0, "warnings": 1, "total": 1},
                            findings=[])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    summary: dict[str, int]
    findings: list[dict[str, Any]]


class GraphNode(BaseModel):
    """A node of ``/graph/nodes.json``."""

    model_config = _example(id="article:x", type="article", label="An Article", path="/articles/x/", maturity="seed")

    id: str
    type: str
    label: str


class GraphEdges(BaseModel):
    """``/graph/edges.json``."""

    model_config = _example(schemaVersion=2, generatedAt=GENERATED, edges=[{
        "from": "article:x", "to": "article:x:claim-001", "type": "argues",
        "provenance": {"reviewedAt": "2026-10-05", "reviewer": "generator", "status": "machine-generated"},
    }])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    edges: list[dict[str, Any]]
