"""The response bodies as Pydantic models: they document the API (OpenAPI, with examples) and the tests
validate real responses against them. Routes build the bodies themselves (orjson, publisher key order);
these models describe them. A key that may be absent is declared optional with no default in the JSON.

Decided for generated clients (app.responses_parts says the rest): an item as the API builds it in full
(``ClaimItem``, ``ArticleSummary``, ``SourceItem``: what MCP returns and what a detail extends) requires its keys;
a list's item (``ClaimListItem``, ``ArticleListItem``, ``SourceListItem``) is the same model with no key required,
because ``fields=`` trims it. Every page has ``next`` (a URL) and ``nextCursor`` (the cursor alone), both null on
the last page, so a client pages without parsing URLs.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.responses_agent import ClaimFeedRow, IndexEntry, SourceFeedRow
from app.responses_parts import (
    ArticleRef,
    ArticleStatus,
    ArtifactClaim,
    ArtifactSource,
    BriefClaim,
    BriefSection,
    ClaimKind,
    ClaimSource,
    ClaimState,
    Confidence,
    Counterevidence,
    Diagnostic,
    EvidencePacket,
    Maturity,
    SectionRef,
    SeriesNavigation,
    SeriesRef,
    TopicRef,
    TotalRelation,
    Verification,
    VerificationStatus,
    make_partial,
    partial_config,
)
from app.responses_parts import Body as _Body
from app.responses_parts import example as _example

EXAMPLE_SLUG = "composting-without-the-guesswork"


CURSOR = "eyJmIjoiMmE3MzA4NDYyODk5M2E5YyIsImsiOlsiMjAyNiJdfQ"
NEXT = f"https://garden.example/articles?limit=1&cursor={CURSOR}"

#: ``total`` and ``totalRelation`` of every paged list (app.queries.plan decides them).
TOTAL = (
    "How many items match the filters, over all pages: exactly when `totalRelation` is `eq`, at least when it is "
    "`gte`. Counted once, on the first page; later pages repeat the first page's answer."
)
RELATION = (
    "`eq`: `total` is exact. `gte`: at least `total` items match (counting stopped there; a list with many "
    "matches under several filters)."
)


class ArticleSummary(IndexEntry, _Body):
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

    # The index entry's fields (IndexEntry), the open strings narrowed to what garden-api stores.
    summary: str | None = Field(None, description="Absent for articles loaded as packets.")
    status: ArticleStatus
    maturity: Maturity
    tags: list[str] | None = Field(None, description="Absent for articles loaded as packets.")
    publishedAt: str
    dek: str | None = None
    readingTime: str | None = None
    audiences: list[str]
    series: SeriesRef | None


class ArticleListItem(ArticleSummary):
    """An article in a list: every ArticleSummary field, or those that `fields=` names (so none is required)."""

    model_config = partial_config(ArticleSummary)


make_partial(ArticleListItem)


def _page(what: str) -> str:
    return f"A page of {what}: `next` (a URL) and `nextCursor` (its cursor alone) lead to the following page."


NEXT_URL = "URL of the next page (relative unless GARDEN_PUBLIC_URL is set), or null on the last page."
NEXT_CURSOR = "The `cursor` of the next page (the one in `next`), or null on the last page."


class ArticleList(_Body):
    __doc__ = _page("articles")

    model_config = _example(
        items=[{"slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork"}],
        total=10, totalRelation="eq", next=NEXT, nextCursor=CURSOR,
    )  # fmt: skip

    items: list[ArticleListItem]
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)


class RelatedItem(_Body):
    """A related link of the artifact, resolved: ``target`` is the article (as /articles lists it) or the topic,
    or null for an article the caller cannot see (or a claim or source link)."""

    type: str = Field(description="The relation, as the artifact names it.")
    id: str = Field(description="The target: article:<slug>, topic:<topic>, claim-NNN or source-….")
    target: ArticleSummary | TopicRef | None


class ItemList(_Body):
    """A list that is not paged (a handful of items): the article's related links."""

    model_config = _example(
        items=[
            {"type": "article", "id": "article:soil-from-the-ground-up", "target": {"slug": "soil-from-the-ground-up"}}
        ],
        total=1,
    )

    items: list[RelatedItem]
    total: int


class RelatedLink(_Body):
    type: str
    id: str


class ArticleDetail(_Body):
    """The publisher's packet (the artifact in its own key order plus generatedAt, articleUrl, agentJsonPath,
    agentMarkdownPath, sourceRepoPath, sourceGitHubUrl, tokenEstimate, sectionOutline: docs/content-format.md,
    "What ingest computes"), plus ``frontMatter`` (null for packet-layout articles) and ``seriesNavigation``.
    Keys other than those required may be absent from a packet-layout article."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "schemaVersion": 3, "id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG,
        "title": "Composting Without the Guesswork", "claims": [], "sources": [],
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "tokenEstimate": 342,
        "frontMatter": {"dek": "Ratios, not recipes.", "readingTime": "7 min"},
        "seriesNavigation": {"series": "soil-from-the-ground-up", "order": 3, "position": 4, "total": 6,
                             "previous": None, "next": None},
    }]})  # fmt: skip

    schemaVersion: int | None = None
    id: str
    slug: str
    title: str
    thesis: str | None = None
    status: ArticleStatus | None = None
    maturity: Maturity | None = None
    publishedAt: str | None = None
    updatedAt: str | None = None
    audiences: list[str] | None = None
    topics: list[str] | None = None
    series: SeriesRef | None = None
    claims: list[ArtifactClaim]
    sources: list[ArtifactSource]
    related: list[RelatedLink] | None = None
    articleUrl: str | None = None
    agentJsonPath: str | None = None
    agentMarkdownPath: str | None = None
    tokenEstimate: int | None = None
    sectionOutline: list[SectionRef] | None = None
    frontMatter: dict[str, Any] | None = Field(
        description="The article's Markdown front matter as written (open: the publisher may add keys), or null."
    )
    seriesNavigation: SeriesNavigation | None


class ClaimItem(ClaimFeedRow, _Body):
    """A claims-feed row (``/agents/feeds/claims.jsonl``) plus the computed state, the article's topics and series."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "articleId": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "claimId": f"article:{EXAMPLE_SLUG}:claim-001",
        "localClaimId": "claim-001", "claim": "A compost pile heats up when carbon and nitrogen are balanced.",
        "confidence": "high", "status": "core", "verificationStatus": "verified", "asOf": "2026-09-01",
        "evidenceCount": 2, "counterevidenceCount": 1,
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "state": "verified",
        "topics": ["composting"], "series": None,
    }]})  # fmt: skip

    # The feed row's fields (ClaimFeedRow), the open strings narrowed to the artifact's enums.
    confidence: Confidence
    status: ClaimKind
    verificationStatus: VerificationStatus
    state: ClaimState
    topics: list[str]
    series: SeriesRef | None
    evidence: list[EvidencePacket] | None = Field(None, description="With include=evidence.")
    counterevidence: list[Counterevidence] | None = Field(None, description="With include=counterevidence.")
    sources: list[ClaimSource] | None = Field(None, description="With include=sources.")


class ClaimListItem(ClaimItem):
    """A claim in a list: every ClaimItem field, or those that `fields=` names (so none is required)."""

    model_config = partial_config(ClaimItem)


make_partial(ClaimListItem)


class ClaimList(_Body):
    __doc__ = _page("claims")

    model_config = _example(
        items=[{"claimId": f"article:{EXAMPLE_SLUG}:claim-001", "confidence": "high"}],
        total=50, totalRelation="eq", next=None, nextCursor=None,
    )  # fmt: skip

    items: list[ClaimListItem]
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)
    truncated: bool | None = Field(None, description="With max_tokens: whether claims were left for the next page.")


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

    verification: Verification | None
    diagnostics: list[Diagnostic]
    article: ArticleRef
    citationUrl: str = Field(description="articleUrl#claim-NNN: the claim's anchor on the article page.")


class SourceItem(SourceFeedRow, _Body):
    """A sources-feed row (``/agents/feeds/sources.jsonl``) plus citedBy."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "articleId": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "sourceId": "source-cornell-composting",
        "title": "Cornell Composting: Compost Chemistry", "type": "extension-guide",
        "url": "https://compost.css.cornell.edu/chemistry.html", "accessed": "2026-03-30",
        "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/", "citedBy": 2,
    }]})  # fmt: skip

    citedBy: int = Field(description="How many of the article's claims cite this source as evidence.")


class SourceListItem(SourceItem):
    """A source in a list: every SourceItem field, or those that `fields=` names (so none is required)."""

    model_config = partial_config(SourceItem)


make_partial(SourceListItem)


class SourceList(_Body):
    __doc__ = _page("sources")

    model_config = _example(items=[{"sourceId": "source-cornell-composting", "citedBy": 2}], total=64,
                            totalRelation="eq", next=None, nextCursor=None)  # fmt: skip

    items: list[SourceListItem]
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)


class SourceDetail(SourceItem):
    """One source with the claims that cite it."""

    model_config = _example(
        sourceId="source-cornell-composting",
        title="Cornell Composting",
        citedBy=1,
        claims=[{"claimId": f"article:{EXAMPLE_SLUG}:claim-001"}],
    )

    claims: list[ClaimItem] = Field(description="The claims citing this source, as /claims lists them.")


class Brief(_Body):
    """The agent brief as data. With ``max_tokens`` it holds the whole sections that fit and ``truncated``,
    ``next`` (and the cursor alone, ``nextCursor``), and leaves out ``frontMatter``, ``claims`` and ``markdown``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": f"agent-brief:{EXAMPLE_SLUG}", "articleId": f"article:{EXAMPLE_SLUG}",
        "frontMatter": {"tokenBudget": 1200, "status": "published"}, "tokenBudget": 1200, "tokenEstimate": 342,
        "sections": [{"heading": "Thesis", "markdown": "Compost is managed decomposition."}],
        "claims": [{"id": "claim-001", "claim": "A compost pile heats up when carbon and nitrogen are balanced."}],
        "markdown": "---\n…\n---\n\n## Thesis\n\nCompost is managed decomposition.\n",
    }]})  # fmt: skip

    id: str
    articleId: str
    frontMatter: dict[str, Any] | None = Field(
        None, description="The brief's front matter as written (open); absent with max_tokens."
    )
    tokenBudget: int | None
    tokenEstimate: int
    sections: list[BriefSection] = Field(description="With max_tokens: the whole sections that fit.")
    claims: list[BriefClaim] | None = Field(None, description="Absent with max_tokens.")
    markdown: str | None = Field(None, description="Absent with max_tokens.")
    truncated: bool | None = Field(None, description="With max_tokens: whether sections were left for `next`.")
    next: str | None = Field(None, description="With max_tokens: the URL of the following sections, or null.")
    nextCursor: str | None = Field(None, description="With max_tokens: the cursor in `next`, or null.")
