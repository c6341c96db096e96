"""The MCP server: the API's claims, articles, briefs, series and topics as Model Context Protocol tools and resources.

Tools and resources call the same query code as the REST routes (``app.queries``), with the same visibility:
anonymous callers see published articles only; ``Authorization: Bearer <GARDEN_PREVIEW_TOKEN>`` on the HTTP
request that carries an MCP message grants preview access (drafts, review, archived). There is no SQL here.

Tools answer with ``structuredContent`` (exactly the REST body) and the same JSON as text; their return annotation
``Annotated[CallToolResult, Model]`` publishes ``Model``'s JSON schema as the tool's ``outputSchema`` and makes the
SDK validate each result against it. An error the query layer raises (``app.queries.errors``: unknown id, archived
article, bad cursor), a wrong token or an argument the SDK refuses becomes a tool error (``isError: true``) of one
sentence naming the argument (``app.mcp_sentences``).

Resources: ``article://{slug}``, ``claim://{claim_id}`` (``claim://article:<slug>:claim-001``: the SDK's
RFC 6570 matcher lets a simple ``{var}`` take ``:``, and stops it only at ``/``, ``?`` and ``#``) and
``brief://{slug}`` (Markdown). An unknown or unpublished one answers JSON-RPC ``-32602`` (the SDK's
``ResourceNotFoundError``), a wrong token ``-32600``.

How a call reaches the query layer (visibility, session, errors) is ``app.mcp_access``; ``app.mcp_http.McpHttp``
serves the server over streamable HTTP inside the FastAPI app (``app.main``): stateless, with JSON responses
rather than SSE streams, so that any of several server processes can answer any message.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from app.content.schema import ClaimKind, Confidence, Supports, VerificationStatus
from app.mcp_access import as_json, page_result, resource_query, structured, tool_params, tool_query, url_for
from app.mcp_sentences import install
from app.queries import articles, claims, series, topics
from app.queries.params import ClaimParams, SearchParams, State
from app.queries.search import search
from app.responses import ArticleDetail, Brief, ClaimDetail, ClaimItem
from app.responses_series import SeriesDetail, SeriesList, TopicList

INSTRUCTIONS = """\
garden-api: agent-readable articles. Every article states claims (ids like article:<slug>:claim-001), each with
a confidence, a verification status, a computed state, evidence from cited sources and counterevidence.
search_claims ranks claims by relevance to words; list_claims filters them (topic, series, confidence, state,
...); get_claim gives one claim with its evidence, sources, counterevidence and diagnostics; get_article gives
an article's packet; get_brief its agent brief.
list_series / get_series and list_topics show how articles group. Cite a claim by its citationUrl."""


def _server() -> MCPServer:
    """The server, without the side effect its constructor has on the process's logging.

    MCPServer's constructor calls ``logging.basicConfig(level="INFO")`` with a rich handler on the root logger;
    the application's logging belongs to whoever runs it (uvicorn, the tests), so that is undone here.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return install(MCPServer("garden-api", title="garden-api", instructions=INSTRUCTIONS, version="0.1.0"))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


mcp = _server()

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


# --- Tools ------------------------------------------------------------------------------------------------------------

_NO_NUL = r"^[^\x00]*$"  # no stored id holds a NUL character (PostgreSQL's text cannot): refused by name
ClaimId = Annotated[str, Field(description="The global claim id: article:<slug>:claim-NNN.", max_length=300,
                               pattern=_NO_NUL)]  # fmt: skip
ArticleSlug = Annotated[str, Field(description="The article slug, or its id article:<slug>.", max_length=200,
                                   pattern=_NO_NUL)]  # fmt: skip
SeriesSlug = Annotated[str, Field(description="The series slug (artifact series.slug).", max_length=200,
                                  pattern=_NO_NUL)]  # fmt: skip


def _filter(name: str) -> str:
    return f"{ClaimParams.model_fields[name].description} One value or a list (values are ORed)."


# The /claims filters, as list_claims and search_claims both take them (the SDK reads each tool's signature).
TopicFilter = Annotated[str | list[str] | None, Field(description=_filter("topic"))]
SeriesFilter = Annotated[str | list[str] | None, Field(description=_filter("series"))]
ArticleFilter = Annotated[str | list[str] | None, Field(description=_filter("article"))]
ConfidenceFilter = Annotated[Confidence | list[Confidence] | None, Field(description=_filter("confidence"))]
MinConfidence = Annotated[
    Confidence | None, Field(description="This confidence or higher (low < medium < medium-high < high).")
]
KindFilter = Annotated[ClaimKind | list[ClaimKind] | None, Field(description=_filter("status"))]
VerificationFilter = Annotated[
    VerificationStatus | list[VerificationStatus] | None, Field(description=_filter("verification"))
]
StateFilter = Annotated[State | list[State] | None, Field(description=_filter("state"))]
HasCounterevidence = Annotated[bool | None, Field(description="Claims with (true) or without (false) counterevidence.")]
SupportsFilter = Annotated[Supports | list[Supports] | None, Field(description=_filter("supports"))]
SourceFilter = Annotated[str | list[str] | None, Field(description=_filter("source"))]
ClaimLimit = Annotated[int, Field(ge=1, le=500, description="Claims per page (at most 500).")]
ClaimCursor = Annotated[
    str | None, Field(max_length=2048, description="The previous page's nextCursor, to get the next page.")
]
ClaimBudget = Annotated[int | None, Field(ge=1, description="Return as many whole claims as fit in this many tokens.")]


class ClaimPage(BaseModel):
    """A page of claims in feed order (the publisher's article order, then claim order)."""

    items: list[ClaimItem]
    total: int = Field(description="How many claims match the filters, over all pages (see totalRelation).")
    totalRelation: Literal["eq", "gte"] = Field(
        "eq", description="eq: total is exact; gte: at least total claims match (counting stopped there)."
    )
    nextCursor: str | None = Field(description="Pass as `cursor` (same filters) for the next page; null on the last.")
    truncated: bool | None = Field(None, description="With max_tokens: whether claims were left for nextCursor.")


class ClaimHit(ClaimItem):
    """A claim found by search: its /claims row plus the hit's type, score and snippet."""

    type: str = Field(description="Always 'claim' here.")
    score: float = Field(description="Relevance (bm25 on SQLite, ts_rank on PostgreSQL); higher is better.")
    snippet: str = Field(description="The best matching passage, matches wrapped in <mark>…</mark>.")


class ClaimSearchPage(BaseModel):
    """A page of claims ranked by relevance."""

    items: list[ClaimHit]
    total: int = Field(description="How many claims match, over all pages (at least, with totalRelation gte).")
    totalRelation: Literal["eq", "gte"] = Field(
        "eq", description="eq: total is exact; gte: more claims match than one search ranks, total is a floor."
    )
    nextCursor: str | None = Field(description="Pass as `cursor` (same query and filters) for the next page.")
    truncated: bool | None = Field(None, description="With max_tokens: whether hits were left for nextCursor.")
    facets: dict[str, list[dict[str, Any]]] | None = Field(
        None, description="First page only: the matching claims counted by confidence, state, topic and series."
    )


@mcp.tool(title="Get a claim", annotations=READ_ONLY)
def get_claim(claim_id: ClaimId, ctx: Context) -> Annotated[CallToolResult, ClaimDetail]:
    """One claim by its global id (article:<slug>:claim-NNN) with its evidence resolved to sources,
    counterevidence, verification, diagnostics, its article and its citationUrl."""
    return structured(tool_query(ctx, lambda scope: claims.get_claim(scope, claim_id)))


@mcp.tool(title="List claims", annotations=READ_ONLY)
def list_claims(
    ctx: Context,
    topic: TopicFilter = None,
    series: SeriesFilter = None,
    article: ArticleFilter = None,
    confidence: ConfidenceFilter = None,
    min_confidence: MinConfidence = None,
    status: KindFilter = None,
    verification: VerificationFilter = None,
    state: StateFilter = None,
    has_counterevidence: HasCounterevidence = None,
    supports: SupportsFilter = None,
    source: SourceFilter = None,
    limit: ClaimLimit = 50,
    cursor: ClaimCursor = None,
    max_tokens: ClaimBudget = None,
    q: Annotated[
        str | None, Field(min_length=1, max_length=200, description="Case-insensitive text in the claim.")
    ] = None,
) -> Annotated[CallToolResult, ClaimPage]:
    """Claims in feed order, filtered like GET /claims: different filters are ANDed, the values of one filter
    ORed. Each claim carries its confidence, verification status, computed state, evidence and
    counterevidence counts, topics and series; get_claim gives the evidence itself."""
    params = tool_params(ClaimParams, dict(locals()) | {"ctx": None})
    return page_result(tool_query(ctx, lambda scope: claims.list_claims(scope, params)))


@mcp.tool(title="Search claims", annotations=READ_ONLY)
def search_claims(
    query: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description="Words to look for in claims, their "
            "evidence and counterevidence; punctuation and operators are ignored.",
        ),
    ],
    ctx: Context,
    topic: TopicFilter = None,
    series: SeriesFilter = None,
    article: ArticleFilter = None,
    confidence: ConfidenceFilter = None,
    min_confidence: MinConfidence = None,
    status: KindFilter = None,
    verification: VerificationFilter = None,
    state: StateFilter = None,
    has_counterevidence: HasCounterevidence = None,
    supports: SupportsFilter = None,
    source: SourceFilter = None,
    limit: ClaimLimit = 50,
    cursor: ClaimCursor = None,
    max_tokens: ClaimBudget = None,
) -> Annotated[CallToolResult, ClaimSearchPage]:
    """Claims ranked by relevance to ``query`` (over claim text, evidence snippets and counterevidence),
    with the /claims filters, highlighted snippets and, on the first page, facets of the matching claims."""
    given = dict(locals()) | {"ctx": None, "query": None, "q": query, "type": ["claims"]}
    params = tool_params(SearchParams, given, renamed={"q": "query"})
    return page_result(tool_query(ctx, lambda scope: search(scope, params), renamed={"q": "query"}))


@mcp.tool(title="Get an article", annotations=READ_ONLY)
def get_article(slug: ArticleSlug, ctx: Context) -> Annotated[CallToolResult, ArticleDetail]:
    """One article: the publisher's packet (thesis, claims with evidence, sources, section outline, URLs),
    its front matter and its place in its series."""
    return structured(tool_query(ctx, lambda scope: articles.get_article(scope, slug)))


@mcp.tool(title="Get an article's agent brief", annotations=READ_ONLY)
def get_brief(slug: ArticleSlug, ctx: Context) -> Annotated[CallToolResult, Brief]:
    """An article's agent brief: a compact summary for agents, as its sections, the claims it lists, its
    token budget and estimate, and the Markdown itself."""
    return structured(tool_query(ctx, lambda scope: articles.get_brief(scope, slug)))


@mcp.tool(title="List the series", annotations=READ_ONLY)
def list_series(ctx: Context) -> Annotated[CallToolResult, SeriesList]:
    """Every series of articles with its title, season, guide and member count, newest first."""
    items = tool_query(ctx, lambda scope: series.list_series(scope, url_for(ctx)))
    return structured({"items": items, "total": len(items)})


@mcp.tool(title="Get a series", annotations=READ_ONLY)
def get_series(slug: SeriesSlug, ctx: Context) -> Annotated[CallToolResult, SeriesDetail]:
    """One series: its members in reading order (with arc titles and parts) and any ordering warnings."""
    return structured(tool_query(ctx, lambda scope: series.get_series(scope, slug, url_for(ctx))))


@mcp.tool(title="List the topics", annotations=READ_ONLY)
def list_topics(ctx: Context) -> Annotated[CallToolResult, TopicList]:
    """Every topic with its label and how many articles and claims have it (filter list_claims by topic)."""
    items = tool_query(ctx, lambda scope: topics.list_topics(scope, url_for(ctx)))
    return structured({"items": items, "total": len(items)})


# --- Resources --------------------------------------------------------------------------------------------------------


@mcp.resource("article://{slug}", name="article", title="Article", mime_type="application/json")
def article_resource(slug: str, ctx: Context) -> str:
    """An article's packet with its front matter and series navigation (as the get_article tool)."""
    return as_json(resource_query(ctx, lambda scope: articles.get_article(scope, slug)))


@mcp.resource("claim://{claim_id}", name="claim", title="Claim", mime_type="application/json")
def claim_resource(claim_id: str, ctx: Context) -> str:
    """One claim with everything about it (as the get_claim tool), e.g. claim://article:<slug>:claim-001."""
    return as_json(resource_query(ctx, lambda scope: claims.get_claim(scope, claim_id)))


@mcp.resource("brief://{slug}", name="brief", title="Agent brief", mime_type="text/markdown")
def brief_resource(slug: str, ctx: Context) -> str:
    """An article's agent brief, byte for byte, as Markdown."""
    return resource_query(ctx, lambda scope: articles.brief_markdown(scope, slug)[2])
