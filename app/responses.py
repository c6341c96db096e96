"""The response bodies as Pydantic models: they document the API (OpenAPI, with examples) and the tests
validate real responses against them. Routes build the bodies themselves (orjson, publisher key order);
these models describe them. A key that may be absent is declared optional with no default in the JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_SLUG = "composting-without-the-guesswork"


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


def _example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


NEXT = "https://garden.example/articles?limit=1&cursor=eyJmIjoiMmE3MzA4NDYyODk5M2E5YyIsImsiOlsiMjAyNiJdfQ"

#: ``total`` and ``totalRelation`` of every paged list (app.queries.plan decides them).
TOTAL = (
    "How many items match the filters, over all pages: exactly when `totalRelation` is `eq`, at least when it is "
    "`gte`. Counted once, on the first page; later pages repeat the first page's answer."
)
RELATION = (
    "`eq`: `total` is exact. `gte`: at least `total` items match (counting stopped there; a list with many "
    "matches under several filters)."
)
TotalRelation = Literal["eq", "gte"]


class SeriesRef(_Body):
    """The artifact's series object."""

    model_config = _example(
        slug="soil-from-the-ground-up", title="Soil from the Ground Up", season="Season 1", order=3, role="chapter"
    )

    slug: str
    title: str
    season: str | None = None
    order: int
    role: str
    arc: str | None = None


class ArticleSummary(_Body):
    """An article in a list: the publisher's index entry plus publishedAt, dek, readingTime, audiences, series."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{
            "id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork",
            "summary": "Hot and cold composting explained by the carbon-to-nitrogen ratio, moisture and air.",
            "status": "published", "maturity": "sprout", "topics": ["composting", "soil-health"],
            "tags": ["compost"], "canonicalPath": f"/articles/{EXAMPLE_SLUG}/",
            "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/",
            "agentJsonPath": f"/agents/articles/{EXAMPLE_SLUG}.json",
            "agentMarkdownPath": f"/agents/articles/{EXAMPLE_SLUG}.md", "updatedAt": "2026-09-14",
            "claimCount": 5, "sourceCount": 6, "tokenEstimate": 342, "contentHash": "3f1c…",
            "publishedAt": "2026-04-02", "dek": "Ratios, not recipes.", "readingTime": "7 min",
            "audiences": ["home gardeners"],
            "series": {"slug": "soil-from-the-ground-up", "title": "Soil from the Ground Up", "season": "Season 1",
                       "order": 3, "role": "chapter"},
        }]},
    )  # fmt: skip

    id: str
    slug: str
    title: str
    summary: str | None = Field(None, description="Absent for articles loaded as packets.")
    status: str
    maturity: str
    topics: list[str]
    tags: list[str] | None = Field(None, description="Absent for articles loaded as packets.")
    canonicalPath: str
    articleUrl: str
    agentJsonPath: str
    agentMarkdownPath: str
    updatedAt: str
    claimCount: int
    sourceCount: int
    tokenEstimate: int
    contentHash: str
    publishedAt: str
    dek: str | None = None
    readingTime: str | None = None
    audiences: list[str]
    series: SeriesRef | None


class ArticleList(_Body):
    """A page of articles."""

    model_config = _example(
        items=[{"slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork"}],
        total=10,
        totalRelation="eq",
        next=NEXT,
    )

    items: list[dict[str, Any]] = Field(description="ArticleSummary objects (all fields unless `fields=`).")
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description="URL of the next page, or null on the last page.")


class ItemList(_Body):
    """A list that is not paged (a handful of items)."""

    model_config = _example(
        items=[
            {"type": "article", "id": "article:soil-from-the-ground-up", "target": {"slug": "soil-from-the-ground-up"}}
        ],
        total=1,
    )

    items: list[dict[str, Any]]
    total: int


class ArticleDetail(_Body):
    """The publisher's packet (the artifact in its own key order plus generatedAt, articleUrl, agentJsonPath,
    agentMarkdownPath, sourceRepoPath, sourceGitHubUrl, tokenEstimate, sectionOutline: docs/content-format.md,
    "What ingest computes"), plus ``frontMatter`` (null for packet-layout articles) and ``seriesNavigation``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schemaVersion": 3, "id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG,
        "title": "Composting Without the Guesswork", "claims": [], "sources": [],
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "tokenEstimate": 342,
        "frontMatter": {"dek": "Ratios, not recipes.", "readingTime": "7 min"},
        "seriesNavigation": {"series": "soil-from-the-ground-up", "order": 3, "position": 4, "total": 6,
                             "previous": None, "next": None},
    }]})  # fmt: skip

    id: str
    slug: str
    title: str
    claims: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    frontMatter: dict[str, Any] | None
    seriesNavigation: dict[str, Any] | None


class EvidencePacket(_Body):
    """An evidence packet with its source resolved within the article."""

    model_config = _example(
        sourceId="source-cornell-composting",
        snippet="A C:N ratio near 30:1 heats fastest.",
        supports="direct",
        assessedAt="2026-09-01",
        source={
            "title": "Cornell Composting",
            "url": "https://compost.css.cornell.edu/",
            "type": "extension-guide",
            "accessed": "2026-03-30",
        },
    )

    sourceId: str
    snippet: str
    supports: str
    source: dict[str, Any] | None = Field(description="The cited source (title, url, type, accessed), or null.")


class ClaimItem(_Body):
    """A claims-feed row (``/agents/feeds/claims.jsonl``) plus the computed state, the article's topics and series."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "articleId": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "claimId": f"article:{EXAMPLE_SLUG}:claim-001",
        "localClaimId": "claim-001", "claim": "A compost pile heats up when carbon and nitrogen are balanced.",
        "confidence": "high", "status": "core", "verificationStatus": "verified", "asOf": "2026-09-01",
        "evidenceCount": 2, "counterevidenceCount": 1,
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "state": "verified",
        "topics": ["composting"], "series": None,
    }]})  # fmt: skip

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
    state: str
    topics: list[str]
    series: SeriesRef | None
    evidence: list[EvidencePacket] | None = Field(None, description="With include=evidence.")
    counterevidence: list[dict[str, Any]] | None = Field(None, description="With include=counterevidence.")
    sources: list[dict[str, Any]] | None = Field(None, description="With include=sources.")


class ClaimList(_Body):
    """A page of claims."""

    model_config = _example(
        items=[{"claimId": f"article:{EXAMPLE_SLUG}:claim-001", "confidence": "high"}],
        total=50,
        totalRelation="eq",
        next=None,
    )

    items: list[dict[str, Any]] = Field(description="ClaimItem objects (all fields unless `fields=`).")
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None


class ClaimDetail(ClaimItem):
    """One claim with its evidence resolved to sources, counterevidence, verification, diagnostics and article."""

    model_config = _example(
        claimId=f"article:{EXAMPLE_SLUG}:claim-001", localClaimId="claim-001", state="verified",
        verification={"status": "verified", "reviewer": "human", "reviewedAt": "2026-09-14"},
        evidence=[{"sourceId": "source-cornell-composting", "snippet": "A C:N ratio near 30:1 heats fastest.",
                   "supports": "direct", "source": {"title": "Cornell Composting", "type": "extension-guide"}}],
        counterevidence=[{"summary": "Cold piles also finish, only slower."}], diagnostics=[],
        article={"id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork"},
        citationUrl=f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/#claim-001",
    )  # fmt: skip

    verification: dict[str, Any] | None
    diagnostics: list[dict[str, Any]]
    article: dict[str, Any]
    citationUrl: str = Field(description="articleUrl#claim-NNN: the claim's anchor on the article page.")


class SourceItem(_Body):
    """A sources-feed row (``/agents/feeds/sources.jsonl``) plus citedBy."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "articleId": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "sourceId": "source-cornell-composting",
        "title": "Cornell Composting: Compost Chemistry", "type": "extension-guide",
        "url": "https://compost.css.cornell.edu/chemistry.html", "accessed": "2026-03-30",
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "citedBy": 2,
    }]})  # fmt: skip

    articleId: str
    slug: str
    sourceId: str
    title: str
    type: str
    url: str
    accessed: str
    articleUrl: str
    citedBy: int = Field(description="How many of the article's claims cite this source as evidence.")


class SourceList(_Body):
    """A page of sources."""

    model_config = _example(
        items=[{"sourceId": "source-cornell-composting", "citedBy": 2}], total=64, totalRelation="eq", next=None
    )

    items: list[dict[str, Any]] = Field(description="SourceItem objects (all fields unless `fields=`).")
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None


class SourceDetail(SourceItem):
    """One source with the claims that cite it."""

    model_config = _example(
        sourceId="source-cornell-composting",
        title="Cornell Composting",
        citedBy=1,
        claims=[{"claimId": f"article:{EXAMPLE_SLUG}:claim-001"}],
    )

    claims: list[dict[str, Any]] = Field(description="ClaimItem objects: the claims citing this source.")


class Brief(_Body):
    """The agent brief as data."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": f"agent-brief:{EXAMPLE_SLUG}", "articleId": f"article:{EXAMPLE_SLUG}",
        "frontMatter": {"tokenBudget": 1200, "status": "published"}, "tokenBudget": 1200, "tokenEstimate": 342,
        "sections": [{"heading": "Thesis", "markdown": "Compost is managed decomposition."}],
        "claims": [{"id": "claim-001", "claim": "A compost pile heats up when carbon and nitrogen are balanced."}],
        "markdown": "---\n…\n---\n\n## Thesis\n\nCompost is managed decomposition.\n",
    }]})  # fmt: skip

    id: str
    articleId: str
    frontMatter: dict[str, Any] | None = Field(None, description="Absent with max_tokens.")
    tokenBudget: int | None
    tokenEstimate: int
    sections: list[dict[str, str]] = Field(description="With max_tokens: the whole sections that fit.")
    claims: list[dict[str, str]] | None = Field(None, description="Absent with max_tokens.")
    markdown: str | None = Field(None, description="Absent with max_tokens.")
    truncated: bool | None = Field(None, description="With max_tokens: whether sections were left for `next`.")
    next: str | None = Field(None, description="With max_tokens: the URL of the following sections, or null.")


class SearchResults(_Body):
    """A page of search hits, best first. Each hit has ``type`` (claim, article, source), ``score`` (bm25 on
    SQLite, ts_rank on PostgreSQL; higher is better), ``snippet`` (with <mark>…</mark> around matches) and the
    fields of its row in /claims, /articles or /sources; ``facets`` count the matching claims."""

    model_config = _example(
        items=[{"type": "claim", "score": 9.71, "snippet": "A compost pile heats up when <mark>carbon</mark>…",
                "claimId": f"article:{EXAMPLE_SLUG}:claim-001", "confidence": "high", "state": "verified"}],
        total=7, totalRelation="eq", next=None, facets={"confidence": [{"confidence": "high", "count": 3}],
                                    "state": [{"state": "verified", "count": 6}], "topic": [], "series": []},
    )  # fmt: skip

    items: list[dict[str, Any]]
    total: int = Field(description="How many documents match, over all pages (at least, with totalRelation gte).")
    totalRelation: Literal["eq", "gte"] = Field(
        description="eq: total is exact; gte: more documents match than one search ranks (its window of each "
        "kind: 5,000 on SQLite, 1,000 on PostgreSQL), and total is a floor."
    )
    next: str | None
    facets: dict[str, list[dict[str, Any]]] | None = Field(
        None,
        description="First page: the best (at most 500) claim hits counted by confidence, state, topic and series. "
        "Absent on later pages, when claims are not searched (type without claims) and when it does not fit "
        "max_tokens.",
    )
    truncated: bool | None = Field(None, description="With max_tokens: whether hits were left for the next page.")
