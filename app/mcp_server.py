"""The MCP server: the API's claims, articles, briefs, series and topics as Model Context Protocol tools, with
the articles as resources and a prompt (``app.mcp_resources``).

Tools and resources call the same query code as the REST routes (``app.queries``), with the same visibility:
anonymous callers see published articles only; ``Authorization: Bearer <GARDEN_PREVIEW_TOKEN>`` on the HTTP
request that carries an MCP message grants preview access (drafts, review, archived). There is no SQL here.

Tools answer with ``structuredContent`` (the REST body; a page without REST's ``next`` URL) and the same JSON as
text; their return annotation ``Annotated[CallToolResult, Model]`` makes the SDK validate each result against
``Model`` (from ``app.responses*``, as the OpenAPI document's), and its JSON schema, compacted (``app.mcp_schema``),
is the tool's ``outputSchema``. An error the query layer raises (``app.queries.errors``: unknown id, archived
article, bad cursor), a wrong token or an argument the SDK refuses becomes a tool error (``isError: true``) of one
sentence naming the argument (``app.mcp_sentences``).

What every tool shares (ids, filters, paging, budgets, the path from search to citation) is said once, in the
server's ``instructions``; each tool's description says only what it does. ``tools/list`` is kept under 12 KB
(tests/test_mcp_context.py measures it). Decided where the issue is silent: ``search_claims`` is the one claims
tool, ranked by ``query`` when given and the claims feed (``GET /claims``) otherwise. A separate ``list_claims``
would repeat its fifteen filters, their enums and the page schema (4.5 KB, measured), which left no room under
12 KB; its substring filter ``q`` is not offered (``query`` finds claims by their words).

Issue 17: ``changes_since`` is ``GET /changes`` as a tool (its filters and cursor; the result adds the corpus
version it read, the ``since`` of the next call), and ``get_claim`` takes a ``version`` (the claim as it was then,
``GET /claims/{id}?version=N``) and always lists the claim's latest versions (``history``: version, action and
fields only, to keep the result small; get_claim with one of them gives its values) and the ``corpusVersion`` it
read, to cite the claim with. Decided: no separate history tool (tools/list has no room for another); a claim
removed since is a not-found without ``version`` (as in REST) and answers with any version it had, its history
included, so that a citation made through MCP stays answerable through MCP.

How a call reaches the query layer (visibility, session, errors) is ``app.mcp_access``; ``app.mcp_http.McpHttp``
serves the server over streamable HTTP inside the FastAPI app (``app.main``): stateless, with JSON responses
rather than SSE streams, so that any of several server processes can answer any message.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ListResourcesResult, PaginatedRequestParams, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import AfterValidator, Field

from app.mcp_access import page_result, structured, tool_params, tool_query, url_for
from app.mcp_resources import article_resources, install_resources
from app.mcp_schema import (
    ChangeTypes,
    ClaimKinds,
    Confidence,
    Confidences,
    States,
    Supports,
    Texts,
    Verifications,
    compact,
)
from app.mcp_sentences import install
from app.queries import articles, changes, claims, series, topics
from app.queries.common import Listing, Scope
from app.queries.corpus import stored_version
from app.queries.history import claim_at_version, versions
from app.queries.params import MAX_BUDGET, ChangeParams, ClaimParams, SearchParams
from app.queries.search import search
from app.responses import ArticleDetail, Brief
from app.responses_changes import ToolChangePage
from app.responses_history import ToolClaimDetail
from app.responses_search import ToolClaimPage
from app.responses_series import SeriesDetail, SeriesList, TopicList

INSTRUCTIONS = """\
garden-api: agent-readable articles. Each article states claims (ids article:<slug>:claim-NNN) with a confidence,
a kind (status), a verification status, a computed state, evidence from cited sources and counterevidence.
Path: search_claims to find claims; get_claim for a claim's evidence, sources and counterevidence; get_article
or get_brief for its article. Cite a claim by its citationUrl and get_claim's corpusVersion: get_claim with that
version shows it as it was then; its history lists the versions at which it changed.
Sync: changes_since(since=<the last corpusVersion you read>) lists what changed since; pass its corpusVersion next.
Filters: omit one to not filter; one value or a list (ORed); different filters are ANDed.
Pages: pass a page's nextCursor as cursor, with the same other arguments, for the next one (null: last page).
max_tokens: return only the whole items that fit that many tokens; truncated says if some were left.
Resources: article://{slug} (listed), claim://{claim_id}, brief://{slug}."""


class GardenServer(MCPServer):
    """The SDK's server, listing its tools with compact schemas (``app.mcp_schema.compact``) and its articles as
    paged resources (``app.mcp_resources``)."""

    _listed: list[MCPTool] | None = None

    async def list_tools(self) -> list[MCPTool]:
        """The tools, their schemas compacted once (the SDK still validates results against the response models)."""
        if self._listed is None:
            self._listed = [
                tool.model_copy(update={
                    "description": " ".join((tool.description or "").split()),  # a docstring's lines, as one
                    "input_schema": compact(tool.input_schema, describe=True),
                    "output_schema": tool.output_schema and compact(tool.output_schema, describe=False),
                })
                for tool in await super().list_tools()
            ]  # fmt: skip
        return self._listed

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        """resources/list with the MCP cursor, which MCPServer's own handler drops: the SDK's one hook for it."""
        context = Context(request_context=ctx, mcp_server=self)
        cursor = params.cursor if params is not None else None
        return await anyio.to_thread.run_sync(article_resources, context, cursor)


def _server() -> GardenServer:
    """The server, without the side effect its constructor has on the process's logging.

    MCPServer's constructor calls ``logging.basicConfig(level="INFO")`` with a rich handler on the root logger;
    the application's logging belongs to whoever runs it (uvicorn, the tests), so that is undone here.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return install(GardenServer("garden-api", title="garden-api", instructions=INSTRUCTIONS, version="0.1.0"))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


mcp = _server()
install_resources(mcp)

# The spec reads destructiveHint and idempotentHint only when readOnlyHint is false: they would be noise.
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


# --- Tools ------------------------------------------------------------------------------------------------------------


def _no_nul(value: str) -> str:
    """No stored id holds a NUL character (PostgreSQL's text cannot): refused by name (app.mcp_sentences). A
    validator rather than a schema ``pattern``, which every id argument would carry in tools/list for nothing."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


NoNul = AfterValidator(_no_nul)
ClaimId = Annotated[str, Field(description="The claim id, article:<slug>:claim-NNN.", max_length=300), NoNul]
ArticleSlug = Annotated[str, Field(description="The article's slug or id (article:<slug>).", max_length=200), NoNul]
SeriesSlug = Annotated[str, Field(description="The series slug.", max_length=200), NoNul]


def _said(name: str) -> str:
    """The REST parameter's description (app.queries.params): one text for both."""
    return ClaimParams.model_fields[name].description or name


# The /claims filters, as search_claims takes them (the SDK reads the tool's signature).
TopicFilter = Annotated[Texts | None, Field(description=_said("topic"))]
SeriesFilter = Annotated[Texts | None, Field(description=_said("series"))]
ArticleFilter = Annotated[Texts | None, Field(description=_said("article"))]
ConfidenceFilter = Annotated[Confidences | None, Field(description="Claims at this confidence.")]
MinConfidence = Annotated[Confidence | None, Field(description="This confidence or higher.")]
KindFilter = Annotated[ClaimKinds | None, Field(description="The claim kind.")]
VerificationFilter = Annotated[Verifications | None, Field(description=_said("verification"))]
StateFilter = Annotated[States | None, Field(description=_said("state"))]
HasCounterevidence = Annotated[bool | None, Field(description=_said("has_counterevidence"))]
SupportsFilter = Annotated[Supports | None, Field(description=_said("supports"))]
SourceFilter = Annotated[Texts | None, Field(description=_said("source"))]
ClaimLimit = Annotated[int, Field(ge=1, le=500, description="Claims per page.")]
#: No maxLength in the schema: the REST parameter model still refuses a cursor past 2,048 characters, by name.
ClaimCursor = Annotated[str | None, Field(description="The previous page's nextCursor.")]
ClaimBudget = Annotated[int | None, Field(ge=1, le=MAX_BUDGET, description="Token budget for the page.")]


#: How many of a claim's versions get_claim's ``history`` lists: the latest, which an agent checking a citation
#: needs (GET /claims/{claim_id}/history pages through all of them, with their values).
HISTORY_LENGTH = 50
QUERY = "Words to rank claims by; omit for feed order."


Version = Annotated[int | None, Field(ge=1, description="The claim as at this corpus version.")]


@mcp.tool(title="Get a claim", annotations=READ_ONLY)
def get_claim(claim_id: ClaimId, ctx: Context, version: Version = None) -> Annotated[CallToolResult, ToolClaimDetail]:
    """A claim with evidence and sources, counterevidence, verification, diagnostics, citationUrl and history (its
    versions)."""

    def run(scope: Scope) -> dict[str, Any]:
        read = stored_version(scope.session)[0]  # the session's first read: the version the answer is of
        found = claims.get_claim(scope, claim_id) if version is None else claim_at_version(scope, claim_id, version)
        return found | {"corpusVersion": read, "history": versions(scope, claim_id, HISTORY_LENGTH)}

    return structured(tool_query(ctx, run))


@mcp.tool(title="List changes", annotations=READ_ONLY)
def changes_since(
    ctx: Context,
    since: Annotated[int, Field(ge=0, description="A corpus version (corpusVersion).")],
    type: Annotated[ChangeTypes | None, Field(description="Only these.")] = None,
    topic: Annotated[Texts | None, Field(description="In articles with this topic.")] = None,
    series: Annotated[Texts | None, Field(description="In articles of this series.")] = None,
    article: Annotated[Texts | None, Field(description="In this article.")] = None,
    limit: Annotated[int, Field(ge=1, le=500, description="Changes per page.")] = 50,
    cursor: ClaimCursor = None,
) -> Annotated[CallToolResult, ToolChangePage]:
    """Changes made after since (GET /changes), with old and new values."""
    params = tool_params(ChangeParams, dict(locals()) | {"ctx": None})

    def run(scope: Scope) -> tuple[int, Listing]:
        return stored_version(scope.session)[0], changes.list_changes(scope, params)

    version, listing = tool_query(ctx, run)
    return page_result(listing, corpusVersion=version)


@mcp.tool(title="Search claims", annotations=READ_ONLY)
def search_claims(
    ctx: Context,
    query: Annotated[str | None, Field(min_length=1, max_length=500, description=QUERY)] = None,
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
) -> Annotated[CallToolResult, ToolClaimPage]:
    """Claims matching the filters, ranked by query (with <mark>ed snippets and facets) or else in feed order
    (GET /claims)."""
    given = dict(locals()) | {"ctx": None, "query": None}
    if query is None:
        listed = tool_params(ClaimParams, given)
        return page_result(tool_query(ctx, lambda scope: claims.list_claims(scope, listed)))
    renamed = {"q": "query"}
    params = tool_params(SearchParams, given | {"q": query, "type": ["claims"]}, renamed=renamed)
    return page_result(tool_query(ctx, lambda scope: search(scope, params), renamed=renamed))


@mcp.tool(title="Get an article", annotations=READ_ONLY)
def get_article(slug: ArticleSlug, ctx: Context) -> Annotated[CallToolResult, ArticleDetail]:
    """An article's packet (thesis, claims, evidence, sources, outline), front matter and series navigation."""
    return structured(tool_query(ctx, lambda scope: articles.get_article(scope, slug)))


@mcp.tool(title="Get a brief", annotations=READ_ONLY)
def get_brief(slug: ArticleSlug, ctx: Context) -> Annotated[CallToolResult, Brief]:
    """An article's agent brief: its sections, claims, token estimate and Markdown."""
    return structured(tool_query(ctx, lambda scope: articles.get_brief(scope, slug)))


@mcp.tool(title="List series", annotations=READ_ONLY)
def list_series(ctx: Context) -> Annotated[CallToolResult, SeriesList]:
    """Every series with its title, season, guide and member count, newest first."""
    items = tool_query(ctx, lambda scope: series.list_series(scope, url_for(ctx)))
    return structured({"items": items, "total": len(items)})


@mcp.tool(title="Get a series", annotations=READ_ONLY)
def get_series(slug: SeriesSlug, ctx: Context) -> Annotated[CallToolResult, SeriesDetail]:
    """A series' members in reading order, with arcs and parts, and any ordering warnings."""
    return structured(tool_query(ctx, lambda scope: series.get_series(scope, slug, url_for(ctx))))


@mcp.tool(title="List topics", annotations=READ_ONLY)
def list_topics(ctx: Context) -> Annotated[CallToolResult, TopicList]:
    """Every topic with its label and its counts of articles and claims."""
    items = tool_query(ctx, lambda scope: topics.list_topics(scope, url_for(ctx)))
    return structured({"items": items, "total": len(items)})
