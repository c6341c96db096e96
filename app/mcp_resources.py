"""The MCP server's resources and its prompt (``app.mcp_server`` installs them on its server).

Resources: ``article://{slug}``, ``claim://{claim_id}`` (``claim://article:<slug>:claim-001``: the SDK's RFC 6570
matcher lets a simple ``{var}`` take ``:``, and stops it only at ``/``, ``?`` and ``#``) and ``brief://{slug}``
(Markdown) as templates; an unknown or unpublished one answers JSON-RPC ``-32602`` (the SDK's
``ResourceNotFoundError``), a wrong token ``-32600``.

``resources/list`` names every article the caller may read as a concrete ``article://{slug}`` resource, paged
with MCP cursors (``nextCursor`` in, ``cursor`` back). Decided where the issue is silent: a page holds
``PAGE_SIZE`` articles, which a client cannot change (the MCP request has no size); the order is /articles'
default (newest first), and the MCP cursor is the query layer's own article cursor (keyset, opaque), so the
walk is the one ``GET /articles`` does. A cursor this server did not give is JSON-RPC invalid params (-32602);
a wrong preview token is -32600, as for a resource read.

The prompt, ``answer_with_cited_claims``, shows an agent the intended path: search, claim, evidence, source.
"""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, INVALID_REQUEST, ListResourcesResult, Resource
from pydantic import ValidationError

from app.mcp_access import as_json, query, resource_query
from app.mcp_sentences import error_sentence
from app.problems import ApiProblem
from app.queries import articles, claims
from app.queries.errors import CursorMismatch, MalformedCursor, QueryError
from app.queries.params import ArticleParams

#: Articles per resources/list page.
PAGE_SIZE = 100
ARTICLE_MIME = "application/json"


def article_resources(ctx: Context, cursor: str | None) -> ListResourcesResult:
    """One page of resources/list: the articles the caller may read, as ``article://{slug}`` resources."""
    bad_cursor = MCPError(code=INVALID_PARAMS, message="cursor: not a nextCursor this server gave; omit it to start.")
    try:
        params = ArticleParams.model_validate({"limit": PAGE_SIZE, "cursor": cursor, "fields": ["slug", "title"]})
        listing = query(ctx, lambda scope: articles.list_articles(scope, params))
    except (ValidationError, MalformedCursor, CursorMismatch) as error:  # ValidationError: longer than any we make
        raise bad_cursor from error
    except (QueryError, ApiProblem) as error:  # a wrong token (ApiProblem 401) or any other refusal
        raise MCPError(code=INVALID_REQUEST, message=error_sentence(error, {})) from error
    resources = [Resource(uri=f"article://{item['slug']}", name=item["slug"], title=item["title"],
                          mime_type=ARTICLE_MIME) for item in listing.items]  # fmt: skip
    return ListResourcesResult(resources=resources, next_cursor=listing.next_cursor)


def install_resources(server: MCPServer) -> None:
    """The resource templates and the prompt, on ``server``."""

    @server.resource("article://{slug}", name="article", title="Article", mime_type=ARTICLE_MIME)
    def article_resource(slug: str, ctx: Context) -> str:
        """An article's packet with its front matter and series navigation (as get_article)."""
        return as_json(resource_query(ctx, lambda scope: articles.get_article(scope, slug)))

    @server.resource("claim://{claim_id}", name="claim", title="Claim", mime_type="application/json")
    def claim_resource(claim_id: str, ctx: Context) -> str:
        """One claim with its evidence and sources (as get_claim)."""
        return as_json(resource_query(ctx, lambda scope: claims.get_claim(scope, claim_id)))

    @server.resource("brief://{slug}", name="brief", title="Agent brief", mime_type="text/markdown")
    def brief_resource(slug: str, ctx: Context) -> str:
        """An article's agent brief, byte for byte, as Markdown."""
        return resource_query(ctx, lambda scope: articles.brief_markdown(scope, slug)[2])

    @server.prompt(name="answer_with_cited_claims", title="Answer a question from this garden with cited claims")
    def answer_with_cited_claims(question: str) -> str:
        """Answer a question from this garden with cited claims."""
        return ANSWER.format(question=question)


ANSWER = """\
Answer this question from the garden's claims, and cite them: {question}

1. Call search_claims with the question's key words as query (add filters such as min_confidence or topic if
   the question asks for them). Read the hits' claim, confidence and state; page on with nextCursor if needed.
2. For each claim you may rely on, call get_claim with its claimId: read its evidence (each packet's snippet
   and how it supports the claim), its counterevidence and its verification.
3. Check the sources: each evidence packet names its source (title, url, type, accessed). Prefer claims whose
   evidence is direct and whose state is verified; say so when a claim is contested, stale or needs evidence.
4. Answer in a few sentences. After each statement, cite the claim it rests on by its citationUrl, and name the
   source that supports it. If no claim answers the question, say that the garden does not answer it.
"""
