"""The MCP server: the API's claims, articles, briefs, series and topics as Model Context Protocol tools and resources.

Tools and resources call the same query code as the REST routes (``app.queries``), with the same visibility:
anonymous callers see published articles only; ``Authorization: Bearer <GARDEN_PREVIEW_TOKEN>`` on the HTTP
request that carries an MCP message grants preview access (drafts, review, archived). There is no SQL here.

Tools answer with ``structuredContent`` (exactly the REST body) and the same JSON as text; their return annotation
``Annotated[CallToolResult, Model]`` publishes ``Model``'s JSON schema as the tool's ``outputSchema`` and makes the
SDK validate each result against it. A problem the query layer raises (``ApiProblem``: unknown id, archived
article, bad cursor, wrong token) becomes a tool error (``isError: true``) carrying its detail.

Resources: ``article://{slug}``, ``claim://{claim_id}`` (``claim://article:<slug>:claim-001``: the SDK's
RFC 6570 matcher lets a simple ``{var}`` take ``:``, and stops it only at ``/``, ``?`` and ``#``) and
``brief://{slug}`` (Markdown). An unknown or unpublished one answers JSON-RPC ``-32602`` (the SDK's
``ResourceNotFoundError``), a wrong token ``-32600``.

``McpHttp`` serves the server over streamable HTTP inside the FastAPI app (``app.main``): stateless, with JSON
responses rather than SSE streams, so that any of several server processes can answer any message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, TypeVar

import orjson
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_REQUEST, CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DataError
from sqlmodel import Session
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from app.content.schema import ClaimKind, Confidence, Supports, VerificationStatus
from app.db import get_engine
from app.deadline import GUARD_KEY, current_guard
from app.http import api_url, holding_nul, preview_access
from app.problems import ApiProblem
from app.queries import articles, claims, series, topics
from app.queries.common import Listing, Scope
from app.queries.params import ClaimParams, SearchParams, State
from app.queries.search import search
from app.responses import ArticleDetail, Brief, ClaimDetail, ClaimItem
from app.responses_series import SeriesDetail, SeriesList, TopicList
from app.settings import get_settings

T = TypeVar("T")

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
        return MCPServer("garden-api", title="garden-api", instructions=INSTRUCTIONS, version="0.1.0")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


mcp = _server()

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


# --- Who is asking, and the query layer's problems as MCP errors ------------------------------------------------------


def http_request(ctx: Context) -> Request | None:
    """The HTTP request that carried this MCP message (None in-process, or on a transport without one)."""
    try:
        request = ctx.request_context.request
    except ValueError:  # no request context: a direct in-process call
        return None
    return request if isinstance(request, Request) else None


def query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``run(scope)`` in a fresh session, with the caller's visibility; ApiProblem propagates.

    Preview follows the REST rule (``app.http``): no Authorization header is anonymous; a bearer token equal
    (constant-time) to GARDEN_PREVIEW_TOKEN is preview; anything else is a 401 problem.
    """
    settings = get_settings()
    request = http_request(ctx)
    preview = preview_access(request, settings) if request is not None else False
    # The SDK runs tools in tasks of its own, which do not inherit the HTTP request's context: its deadline
    # (app.deadline) is handed over through the ASGI scope, so that the database layer bounds this work too.
    token = current_guard.set(request.scope.get(GUARD_KEY)) if request is not None else None
    try:
        with Session(get_engine()) as session:
            today = settings.effective_today()
            return run(Scope(session, preview=preview, today=today, site=settings.site_url, repo=settings.repo_url))
    except DataError as error:  # a value PostgreSQL refuses for its column: only a forged cursor gets here
        raise ApiProblem(400, "Invalid cursor", "cursor is malformed: pass back nextCursor unchanged.",
                         parameter="cursor") from error  # fmt: skip
    finally:
        if token is not None:
            current_guard.reset(token)


def tool_query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``query()`` for a tool: a problem becomes a tool error (``isError: true`` with its detail)."""
    try:
        return query(ctx, run)
    except ApiProblem as problem:
        raise ToolError(problem.detail) from problem


def resource_query(ctx: Context, run: Callable[[Scope], T]) -> T:
    """``query()`` for a resource: absent or unpublished is "not found" (-32602), any other problem -32600."""
    try:
        return query(ctx, run)
    except ApiProblem as problem:
        if problem.status in (404, 410):
            raise ResourceNotFoundError(problem.detail) from problem
        raise MCPError(code=INVALID_REQUEST, message=problem.detail) from problem


def url_for(_ctx: Context) -> Callable[[str], str]:
    """URLs on the serving API, as the REST bodies carry them (``app.http.api_url``: GARDEN_PUBLIC_URL or relative)."""
    settings = get_settings()
    return lambda path: api_url(settings, path)


def structured(payload: dict[str, Any]) -> CallToolResult:
    """A tool result: ``payload`` as structuredContent and, for clients that read text only, as JSON text."""
    return CallToolResult(
        content=[TextContent(type="text", text=orjson.dumps(payload).decode())], structured_content=payload
    )


def _json(payload: Any) -> str:
    return orjson.dumps(payload).decode()


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


_Params = TypeVar("_Params", bound=ClaimParams)


def _params(model: type[_Params], given: dict[str, Any]) -> _Params:
    """The REST API's parameter model from a tool's arguments (the ones given); a NUL character in any of
    them is refused by name, as the REST API refuses it (``app.http.reject_nul``)."""
    name = holding_nul(given.items())
    if name is not None:
        raise ToolError(f"{name}: must not contain the NUL character.")
    try:
        return model.model_validate({name: value for name, value in given.items() if value is not None})
    except ValidationError as error:
        raise ToolError(str(error)) from error


def _page(listing: Listing) -> CallToolResult:
    page = {"items": listing.items, "total": listing.total, "totalRelation": listing.relation,
            "nextCursor": listing.next_cursor}  # fmt: skip
    if listing.truncated is not None:
        page["truncated"] = listing.truncated
    if listing.facets is not None:
        page["facets"] = listing.facets
    return structured(page)


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
    params = _params(ClaimParams, dict(locals()) | {"ctx": None})
    return _page(tool_query(ctx, lambda scope: claims.list_claims(scope, params)))


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
    params = _params(SearchParams, given)
    return _page(tool_query(ctx, lambda scope: search(scope, params)))


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
    return _json(resource_query(ctx, lambda scope: articles.get_article(scope, slug)))


@mcp.resource("claim://{claim_id}", name="claim", title="Claim", mime_type="application/json")
def claim_resource(claim_id: str, ctx: Context) -> str:
    """One claim with everything about it (as the get_claim tool), e.g. claim://article:<slug>:claim-001."""
    return _json(resource_query(ctx, lambda scope: claims.get_claim(scope, claim_id)))


@mcp.resource("brief://{slug}", name="brief", title="Agent brief", mime_type="text/markdown")
def brief_resource(slug: str, ctx: Context) -> str:
    """An article's agent brief, byte for byte, as Markdown."""
    return resource_query(ctx, lambda scope: articles.brief_markdown(scope, slug)[2])


# --- Streamable HTTP --------------------------------------------------------------------------------------------------


# streamable_http_app() builds a session manager whose ``app`` is the low-level server it drives: the one public way
# to it. McpHttp makes a manager of its own for each lifespan run, since a manager may run only once.
mcp.streamable_http_app()
LOW_LEVEL_SERVER = mcp.session_manager.app


class McpHttp:
    """The server over streamable HTTP for one FastAPI app: an ASGI endpoint, its routes, and the lifespan that
    runs a session manager for it.

    Stateless (no session id, any process answers any message) with JSON responses rather than SSE streams.
    ``routes(path)`` answers both ``path`` and ``path/`` directly: no redirect, which a client could not follow
    for a POST behind a TLS-terminating proxy. They take POST only: a stateless server has no messages of its
    own to stream, and the SDK would hold a GET's SSE stream open, idle, until the client leaves; the transport
    spec's answer for "no SSE stream here" is 405. Host/Origin (DNS-rebinding) checks are off: this is a public,
    read-only API whose preview access rests on a bearer token, not on cookies or the network.

    Each run of the lifespan gets a new session manager (one may run only once, and an app's lifespan may run
    more than once: a TestClient runs it on each ``with``).
    """

    def __init__(self) -> None:
        self.session_manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if self.session_manager is None:
            raise RuntimeError("The MCP session manager is not running: serve the app with its lifespan.")
        await self.session_manager.handle_request(scope, receive, send)

    def routes(self, path: str) -> list[Route]:
        path = path.rstrip("/")
        return [Route(p, endpoint=self, methods=["POST"], include_in_schema=False) for p in (path, f"{path}/")]

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        manager = StreamableHTTPSessionManager(
            LOW_LEVEL_SERVER,
            stateless=True,
            json_response=True,
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with manager.run():
            self.session_manager = manager
            try:
                yield
            finally:
                self.session_manager = None
