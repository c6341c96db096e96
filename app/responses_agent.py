"""Models of the publisher's agent files, for the OpenAPI document (the routes serve the publisher's bytes),
and of the rows of its NDJSON feeds (one model per row kind: each line of the feed is one such object)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.responses_parts import ArtifactClaim, ArtifactSource

SITE = "https://aura-knowledge.github.io"
GENERATED = "2026-10-05T00:00:00.000Z"


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


class _Open(BaseModel):
    """A record of an agent file: open, as the publisher may add keys."""

    model_config = ConfigDict(extra="allow")


class IndexEntry(BaseModel):
    """An article's entry in the agent index (``/agents/index.json``'s articles, ``/agents/index.jsonl``'s rows,
    a topic file's articles). ``summary`` and ``tags`` are absent for articles loaded as packets."""

    model_config = _example(id="article:x", slug="x", title="An Article", status="published", maturity="seed",
                            topics=["composting"], canonicalPath="/articles/x/", articleUrl=f"{SITE}/articles/x/",
                            agentJsonPath="/agents/articles/x.json", agentMarkdownPath="/agents/articles/x.md",
                            updatedAt="2026-10-05", claimCount=5, sourceCount=4, tokenEstimate=342,
                            contentHash="3f1c…")  # fmt: skip

    id: str
    slug: str
    title: str
    summary: str | None = None
    status: str
    maturity: str
    topics: list[str]
    tags: list[str] | None = None
    canonicalPath: str
    articleUrl: str
    agentJsonPath: str
    agentMarkdownPath: str
    updatedAt: str
    claimCount: int
    sourceCount: int
    tokenEstimate: int
    contentHash: str


class ClaimFeedRow(BaseModel):
    """A line of ``/agents/feeds/claims.jsonl``: one public claim."""

    model_config = _example(articleId="article:x", slug="x", claimId="article:x:claim-001", localClaimId="claim-001",
                            claim="A compost pile heats up when carbon and nitrogen are balanced.", confidence="high",
                            status="core", verificationStatus="verified", asOf="2026-09-01", evidenceCount=2,
                            counterevidenceCount=1, articleUrl=f"{SITE}/articles/x/")  # fmt: skip

    articleId: str
    slug: str
    claimId: str
    localClaimId: str
    claim: str
    confidence: str
    status: str
    verificationStatus: str
    asOf: str | None
    evidenceCount: int
    counterevidenceCount: int
    articleUrl: str


class SourceFeedRow(BaseModel):
    """A line of ``/agents/feeds/sources.jsonl``: one source as one article lists it."""

    model_config = _example(articleId="article:x", slug="x", sourceId="source-cornell-composting",
                            title="Cornell Composting", type="extension-guide", url="https://compost.css.cornell.edu/",
                            accessed="2026-03-30", articleUrl=f"{SITE}/articles/x/")  # fmt: skip

    articleId: str
    slug: str
    sourceId: str
    title: str
    type: str
    url: str
    accessed: str
    articleUrl: str


class EdgeRow(BaseModel):
    """A line of ``/agents/feeds/edges.jsonl``: one graph edge."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, json_schema_extra={
        "examples": [{"from": "article:x", "to": "article:x:claim-001", "type": "argues"}]})  # fmt: skip

    from_: str = Field(alias="from")
    to: str
    type: str


class RoadmapRow(BaseModel):
    """A line of ``/agents/feeds/roadmap.jsonl``, one roadmap idea, as the publisher writes it. This server
    serves no roadmaps (out of scope), so the feed is always empty; the row is declared as the publisher has it."""

    model_config = ConfigDict(extra="allow")

    roadmapId: str
    ideaId: str
    title: str
    priority: str
    category: str
    phaseId: str | None = Field(description="The last phase listing the idea, or null.")


class RoadmapEntry(_Open):
    """An entry of ``roadmaps`` in the agent index, as the publisher writes it; always absent here (roadmaps are
    out of scope)."""

    id: str
    slug: str
    title: str
    summary: str
    status: str
    updatedAt: str
    priorityCounts: dict[str, int]
    pageUrl: str
    agentJsonPath: str
    sourceRepoPath: str


#: The row models of the NDJSON feeds, for components/schemas (app.openapi).
FEED_ROWS: tuple[type[BaseModel], ...] = (IndexEntry, ClaimFeedRow, SourceFeedRow, EdgeRow, RoadmapRow)


class IndexTopic(_Open):
    topic: str
    label: str
    articleIds: list[str]
    pageUrl: str
    agentJsonPath: str


class ArchiveMonth(_Open):
    yearMonth: str
    monthName: str
    articleIds: list[str]
    pageUrl: str


class Archive(_Open):
    """A year of the archive, with its months (newest first)."""

    year: str
    articleIds: list[str]
    pageUrl: str
    months: list[ArchiveMonth]


class AgentIndex(BaseModel):
    """``/agents/index.json``: every public article's index entry, and the topics."""

    model_config = _example(schemaVersion=3, generatedAt=GENERATED, site=SITE, base="", articles=[], topics=[],
                            archives=[], roadmaps=[])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    site: str
    base: str
    articles: list[IndexEntry] = Field(description="Index entries of public articles, in dir order.")
    topics: list[IndexTopic]
    archives: list[Archive]
    roadmaps: list[RoadmapEntry] = Field(description="Always empty: roadmaps are out of scope.")


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
    articles: list[IndexEntry]


class Packet(BaseModel):
    """``/agents/articles/<slug>.json``: the artifact with its derived keys."""

    model_config = _example(schemaVersion=3, id="article:x", slug="x", title="An Article", claims=[], sources=[],
                            generatedAt=GENERATED, articleUrl=f"{SITE}/articles/x/", tokenEstimate=342,
                            sectionOutline=[])  # fmt: skip

    schemaVersion: int
    id: str
    slug: str
    title: str
    claims: list[ArtifactClaim]
    sources: list[ArtifactSource]


class FeedFile(_Open):
    path: str
    count: int


class FeedsManifest(BaseModel):
    """``/agents/feeds/manifest.json``."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, site=SITE, base="",
                            counts={"claims": 50, "sources": 55, "roadmap": 0, "edges": 300},
                            files={"claims": {"path": "/agents/feeds/claims.jsonl", "count": 50}})  # fmt: skip

    schemaVersion: int
    generatedAt: str
    site: str
    base: str
    counts: dict[str, int] = Field(description="Rows per feed: claims, sources, roadmap, edges.")
    files: dict[str, FeedFile] = Field(description="Each feed's path and row count, by feed name.")


class QueryDimension(_Open):
    name: str
    description: str
    values: list[str] | None = None


class QueryResult(_Open):
    """A result of a catalog query: the article, and the claim, source or topic it was found by."""

    articleId: str
    slug: str
    articleUrl: str
    agentJsonPath: str
    topic: str | None = None
    claimId: str | None = None
    claim: str | None = None
    confidence: str | None = None
    status: str | None = None
    sourceId: str | None = None
    sourceTitle: str | None = None
    sourceType: str | None = None
    sourceUrl: str | None = None


class GardenQuery(_Open):
    name: str
    description: str
    params: dict[str, Any] = Field(description="The query's parameters, as the publisher's catalog writes them.")
    resultType: str
    resultCount: int
    results: list[QueryResult]


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
    dimensions: list[QueryDimension]
    queries: list[GardenQuery]


class Finding(_Open):
    rule: str
    severity: str
    message: str


class ReportClaim(_Open):
    id: str
    claim: str
    confidence: str
    status: str
    state: str
    evidenceCount: int
    counterevidenceCount: int
    findings: list[Finding]


class ReportArticle(_Open):
    slug: str
    title: str
    status: str
    claims: list[ReportClaim]
    summary: dict[str, int] = Field(description="Claims per state.")


class VerificationReport(BaseModel):
    """``/agents/verification-report.json``: claim states and findings of every article (with the preview
    token; anonymous callers: every article but drafts and reviews, app.queries.common.hides)."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, articles=[])

    schemaVersion: int
    generatedAt: str
    articles: list[ReportArticle]


class DiagnosticFinding(_Open):
    rule: str
    severity: str
    claimId: str | None = None
    message: str


class Diagnostics(BaseModel):
    """``/agents/diagnostics.json``."""

    model_config = _example(schemaVersion=1, generatedAt=GENERATED, summary={"errors": 0, "warnings": 1, "total": 1},
                            findings=[])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    summary: dict[str, int] = Field(description="errors, warnings and total.")
    findings: list[DiagnosticFinding]


class GraphNode(BaseModel):
    """A node of ``/graph/nodes.json``."""

    model_config = _example(id="article:x", type="article", label="An Article", path="/articles/x/", maturity="seed")

    id: str
    type: str = Field(description="article, topic, claim or source.")
    label: str
    path: str | None = Field(None, description="Articles: the canonical path.")
    maturity: str | None = Field(None, description="Articles.")
    localId: str | None = Field(None, description="Claims: claim-NNN.")
    confidence: str | None = Field(None, description="Claims.")
    status: str | None = Field(None, description="Claims: the claim kind.")
    url: str | None = Field(None, description="Sources.")
    sourceType: str | None = Field(None, description="Sources.")


class EdgeProvenance(_Open):
    reviewedAt: str
    reviewer: str
    status: str


class GraphEdge(EdgeRow):
    """An edge of ``/graph/edges.json``: a feed edge with its provenance."""

    provenance: EdgeProvenance | None = None


class GraphEdges(BaseModel):
    """``/graph/edges.json``."""

    model_config = _example(schemaVersion=2, generatedAt=GENERATED, edges=[{
        "from": "article:x", "to": "article:x:claim-001", "type": "argues",
        "provenance": {"reviewedAt": "2026-10-05", "reviewer": "generator", "status": "machine-generated"},
    }])  # fmt: skip

    schemaVersion: int
    generatedAt: str
    edges: list[GraphEdge]
