"""The MCP server at /mcp, through the SDK's own client over real HTTP: a uvicorn subprocess serves
``app.main:create_app()`` on our content/, and ``mcp.client.streamable_http`` + ``ClientSession`` talk to it.

Expectations come from content/'s files (the claims feed rows and index entries built from them by
tests/oracle.py, the articles' agent.md and artifact.json); where a tool promises the REST body, it is compared
with what the same server answers over REST.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
import pytest
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import CONTENT, running_server
from tests.oracle import read_tree

T = TypeVar("T")

TOKEN = "preview-4b1f0c7e-mcp-tests"
ARCHIVED = "hot-composting-in-seven-days"
ARTICLE = "native-plants-for-bees"  # published, in the series pollinator-corridors, topic pollinators
SERIES = "pollinator-corridors"
CLAIM = f"article:{ARTICLE}:claim-001"
TOOLS = {"get_claim", "search_claims", "get_article", "get_brief", "list_series", "get_series", "list_topics"}


# --- The server and the client ----------------------------------------------------------------------------------------


class Server:
    def __init__(self, base: str, log: Path) -> None:
        self.base, self.log = base, log
        self.mcp = f"{base}/mcp"

    def rest(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=30)


@pytest.fixture(scope="module")
def server(content_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """garden serve on content/ with a preview token configured, until the module's tests are done."""
    log = tmp_path_factory.mktemp("mcp") / "server.log"
    with running_server(content_db, log, env={"GARDEN_PREVIEW_TOKEN": TOKEN}) as base:
        yield Server(base, log)


@asynccontextmanager
async def connect(url: str, token: str | None = None) -> AsyncIterator[ClientSession]:
    """An initialized MCP session on ``url``; ``token`` goes in every HTTP request's Authorization header."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def in_session(url: str, work: Callable[[ClientSession], Awaitable[T]], token: str | None = None) -> T:
    async def main() -> T:
        async with connect(url, token) as session:
            return await work(session)

    return anyio.run(main)


def call(server: Server, tool: str, token: str | None = None, **arguments: Any) -> types.CallToolResult:
    return in_session(server.mcp, lambda session: session.call_tool(tool, arguments), token)


def ok(result: types.CallToolResult) -> Any:
    """The structured content of a successful call, after checking the text content carries the same JSON."""
    assert not result.is_error, result.content
    [text] = result.content
    assert isinstance(text, types.TextContent)
    assert json.loads(text.text) == result.structured_content
    return result.structured_content


def error_text(result: types.CallToolResult) -> str:
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    [text] = result.content
    assert isinstance(text, types.TextContent)
    return text.text


def read(server: Server, uri: str, token: str | None = None) -> types.TextResourceContents:
    result = in_session(server.mcp, lambda session: session.read_resource(uri), token)
    [contents] = result.contents
    assert isinstance(contents, types.TextResourceContents)
    assert contents.uri == uri
    return contents


def read_error(server: Server, uri: str, token: str | None = None) -> MCPError:
    """The JSON-RPC error reading ``uri`` answers (caught inside the session, not in its task group)."""

    async def work(session: ClientSession) -> MCPError:
        with pytest.raises(MCPError) as caught:
            await session.read_resource(uri)
        return caught.value

    return in_session(server.mcp, work, token)


# --- What content/'s files say ----------------------------------------------------------------------------------------


def feed() -> list[dict[str, Any]]:
    """The claims feed: every published claim, in feed order (dir order, then artifact order)."""
    return [row for article in read_tree(CONTENT) if article.public for row in article.claim_rows()]


def topics_of() -> dict[str, list[str]]:
    """{slug: topics} of the published articles."""
    return {article.slug: article.artifact["topics"] for article in read_tree(CONTENT) if article.public}


def article_file(slug: str, name: str) -> Path:
    [found] = CONTENT.joinpath("articles").glob(f"*/{slug}/{name}")
    return found


# --- Listing ----------------------------------------------------------------------------------------------------------


def test_tools_are_listed_with_input_and_output_schemas(server: Server) -> None:
    listed = in_session(server.mcp, lambda session: session.list_tools())
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) >= TOOLS
    for tool in tools.values():
        assert tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    assert tools["get_claim"].input_schema["required"] == ["claim_id"]
    assert "claimId" in tools["get_claim"].output_schema["properties"]  # type: ignore[index]
    search_inputs = tools["search_claims"].input_schema
    claim_filters = search_inputs["properties"]
    assert {"topic", "series", "article", "confidence", "min_confidence", "status", "verification", "state",
            "has_counterevidence", "supports", "source", "query", "limit", "cursor"} <= set(claim_filters)  # fmt: skip
    confidence = json.dumps(search_inputs["$defs"]["Confidence"])
    for value in ("low", "medium", "medium-high", "high"):
        assert f'"{value}"' in confidence
    assert "needs-evidence" in json.dumps(search_inputs["$defs"]["State"])
    assert claim_filters["limit"]["maximum"] == 500
    page_keys = {"items", "total", "totalRelation", "nextCursor", "truncated", "facets"}
    assert set(tools["search_claims"].output_schema["properties"]) == page_keys  # type: ignore[index]
    assert "required" not in search_inputs and {"max_tokens", "topic", "state"} <= set(claim_filters)


def test_resource_templates_are_listed(server: Server) -> None:
    listed = in_session(server.mcp, lambda session: session.list_resource_templates())
    templates = {template.uri_template: template.mime_type for template in listed.resource_templates}
    assert templates == {
        "article://{slug}": "application/json",
        "claim://{claim_id}": "application/json",
        "brief://{slug}": "text/markdown",
    }


# --- Tools ------------------------------------------------------------------------------------------------------------


def test_get_claim_returns_the_claim_with_its_evidence(server: Server) -> None:
    [expected] = [row for row in feed() if row["claimId"] == CLAIM]
    claim = ok(call(server, "get_claim", claim_id=CLAIM))
    for key in ("claimId", "localClaimId", "claim", "confidence", "status", "verificationStatus", "evidenceCount",
                "counterevidenceCount", "articleUrl"):  # fmt: skip
        assert claim[key] == expected[key], key
    assert len(claim["evidence"]) == expected["evidenceCount"]
    assert len(claim["counterevidence"]) == expected["counterevidenceCount"]
    assert claim["citationUrl"] == f"{expected['articleUrl']}#claim-001"
    rest = server.rest(f"/claims/{CLAIM}")  # and the version read, and the claim's versions (issue 17)
    first = {"version": 1, "action": None, "fields": []}  # content/ was ingested once: the log starts there
    assert claim == rest.json() | {"corpusVersion": int(rest.headers["x-corpus-version"]), "history": [first]}


@pytest.mark.parametrize(
    ("tool", "arguments", "path"),
    [
        ("get_article", {"slug": ARTICLE}, f"/articles/{ARTICLE}"),
        ("get_article", {"slug": f"article:{ARTICLE}"}, f"/articles/{ARTICLE}"),
        ("get_brief", {"slug": ARTICLE}, f"/articles/{ARTICLE}/brief"),
        ("list_series", {}, "/series"),
        ("get_series", {"slug": SERIES}, f"/series/{SERIES}"),
        ("list_topics", {}, "/topics"),
    ],
)
def test_a_tool_answers_the_rest_body(server: Server, tool: str, arguments: dict[str, str], path: str) -> None:
    assert ok(call(server, tool, **arguments)) == server.rest(path).json()


def test_get_article_and_get_brief_match_the_publisher_files(server: Server) -> None:
    artifact = json.loads(article_file(ARTICLE, "artifact.json").read_text(encoding="utf-8"))
    article = ok(call(server, "get_article", slug=ARTICLE))
    assert (article["id"], article["title"]) == (artifact["id"], artifact["title"])
    assert [c["id"] for c in article["claims"]] == [c["id"] for c in artifact["claims"]]
    brief = ok(call(server, "get_brief", slug=ARTICLE))
    assert brief["markdown"] == article_file(ARTICLE, "agent.md").read_text(encoding="utf-8")
    assert brief["articleId"] == f"article:{ARTICLE}"


def test_list_topics_and_series_count_the_published_articles(server: Server) -> None:
    counts: dict[str, int] = {}
    for slug_topics in topics_of().values():
        for topic in set(slug_topics):
            counts[topic] = counts.get(topic, 0) + 1
    listed = ok(call(server, "list_topics"))
    assert {item["topic"]: item["articleCount"] for item in listed["items"]} == counts
    assert listed["total"] == len(counts)
    series = ok(call(server, "list_series"))
    assert series["total"] == len(series["items"]) == 2
    assert SERIES in {item["slug"] for item in series["items"]}


# --- search_claims without a query: the claims feed, filtered ------------------------------------------------------


def _all_pages(server: Server, token: str | None = None, **filters: Any) -> tuple[list[str], int]:
    """Every claim id matching ``filters``, walking the pages with nextCursor (in one session)."""

    async def walk(session: ClientSession) -> tuple[list[str], int]:
        ids: list[str] = []
        cursor: str | None = None
        totals = set()
        while True:
            arguments = {**filters, **({"cursor": cursor} if cursor else {})}
            page = ok(await session.call_tool("search_claims", arguments))
            ids += [item["claimId"] for item in page["items"]]
            totals.add(page["total"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
        [total] = totals
        return ids, total

    return in_session(server.mcp, walk, token)


def test_search_claims_without_query_by_topic_and_confidence_matches_the_feed(server: Server) -> None:
    topics = topics_of()
    wanted = {"soil-health"}, {"medium-high"}
    expected = [r["claimId"] for r in feed() if wanted[0] & set(topics[r["slug"]]) and r["confidence"] in wanted[1]]
    assert len(expected) > 10
    ids, total = _all_pages(server, topic="soil-health", confidence="medium-high", limit=10)
    assert ids == expected
    assert total == len(expected)
    listed, _ = _all_pages(server, topic=["soil-health"], confidence=["medium-high"], limit=500)
    assert listed == expected


def test_search_claims_without_query_filters_and_with_many_values_or(server: Server) -> None:
    rows = feed()
    wanted = {"low", "medium"}
    expected = [r["claimId"] for r in rows if r["slug"] == ARTICLE and r["confidence"] in wanted]
    ids, _ = _all_pages(server, article=ARTICLE, confidence=sorted(wanted))
    assert ids == expected and len(expected) == 2
    no_counter = [r["claimId"] for r in rows if r["counterevidenceCount"] == 0]
    ids, _ = _all_pages(server, has_counterevidence=False, limit=500)
    assert ids == no_counter and 0 < len(no_counter) < len(rows)
    core_verified = [r["claimId"] for r in rows if r["status"] == "core" and r["verificationStatus"] == "verified"]
    ids, _ = _all_pages(server, status="core", verification="verified", limit=500)
    assert ids == core_verified and len(core_verified) > 1


def test_search_claims_without_query_items_are_the_feed_rows(server: Server) -> None:
    page = ok(call(server, "search_claims", article=ARTICLE))
    expected = [row for row in feed() if row["slug"] == ARTICLE]
    assert page["total"] == len(expected) > 1 and page["nextCursor"] is None
    for item, row in zip(page["items"], expected, strict=True):
        assert {key: item[key] for key in row} == row
        assert "pollinators" in item["topics"]


def test_search_claims_without_query_rejects_a_value_outside_its_enum_with_a_tool_error(server: Server) -> None:
    assert "confidence" in error_text(call(server, "search_claims", confidence="certain"))
    assert "limit" in error_text(call(server, "search_claims", limit=501))
    assert "cursor" in error_text(call(server, "search_claims", cursor="not-a-cursor"))
    assert "topic" in error_text(call(server, "search_claims", topic="soil\x00"))  # no stored text holds a NUL
    assert "NUL" in error_text(call(server, "search_claims", query="soil", series=["a\x00"]))
    assert "claim_id" in error_text(call(server, "get_claim", claim_id="article:a\x00:claim-001"))


# --- Resources --------------------------------------------------------------------------------------------------------


def test_article_resource_is_the_article_json(server: Server) -> None:
    contents = read(server, f"article://{ARTICLE}")
    assert contents.mime_type == "application/json"
    assert json.loads(contents.text) == server.rest(f"/articles/{ARTICLE}").json()


def test_claim_resource_takes_a_claim_id_with_colons(server: Server) -> None:
    [expected] = [row for row in feed() if row["claimId"] == CLAIM]
    contents = read(server, f"claim://{CLAIM}")
    assert contents.mime_type == "application/json"
    claim = json.loads(contents.text)
    assert claim["claim"] == expected["claim"]
    assert claim == server.rest(f"/claims/{CLAIM}").json()


def test_brief_resource_is_the_agent_markdown_byte_for_byte(server: Server) -> None:
    contents = read(server, f"brief://{ARTICLE}")
    assert contents.mime_type == "text/markdown"
    assert contents.text == article_file(ARTICLE, "agent.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("uri", ["article://no-such-article", f"claim://{CLAIM[:-3]}999", "brief://no-such-article",
                                 f"article://{ARCHIVED}", f"nope://{ARTICLE}"])  # fmt: skip
def test_an_unknown_resource_is_a_not_found_error(server: Server, uri: str) -> None:
    assert read_error(server, uri).code == types.INVALID_PARAMS


# --- Errors and visibility --------------------------------------------------------------------------------------------


def test_an_unknown_claim_is_a_clear_tool_error(server: Server) -> None:
    text = error_text(call(server, "get_claim", claim_id=f"article:{ARTICLE}:claim-999"))
    assert f"no claim 'article:{ARTICLE}:claim-999'" in text
    assert "no claim 'nonsense'" in error_text(call(server, "get_claim", claim_id="nonsense"))
    assert "no article 'no-such-article'" in error_text(call(server, "get_article", slug="no-such-article"))
    assert "no series 'no-such-series'" in error_text(call(server, "get_series", slug="no-such-series"))
    assert "claim_id" in error_text(call(server, "get_claim"))  # the argument is missing


def test_an_archived_article_is_hidden_anonymously_and_shown_with_the_token(server: Server) -> None:
    assert "archived" in error_text(call(server, "get_article", slug=ARCHIVED))
    assert "archived" in error_text(call(server, "get_claim", claim_id=f"article:{ARCHIVED}:claim-001"))
    page = ok(call(server, "search_claims", article=ARCHIVED))
    assert (page["items"], page["total"]) == ([], 0)

    article = ok(call(server, "get_article", TOKEN, slug=ARCHIVED))
    assert article["id"] == f"article:{ARCHIVED}"
    assert article == server.rest(f"/articles/{ARCHIVED}", TOKEN).json()
    assert ok(call(server, "get_claim", TOKEN, claim_id=f"article:{ARCHIVED}:claim-001"))["slug"] == ARCHIVED
    page = ok(call(server, "search_claims", TOKEN, article=ARCHIVED))
    assert page["total"] == len(page["items"]) > 0
    contents = read(server, f"article://{ARCHIVED}", TOKEN)
    assert json.loads(contents.text)["slug"] == ARCHIVED
    assert read(server, f"brief://{ARCHIVED}", TOKEN).text == article_file(ARCHIVED, "agent.md").read_text("utf-8")


def test_preview_lists_more_claims_than_anonymous(server: Server) -> None:
    anonymous = ok(call(server, "search_claims", limit=1))["total"]
    preview = ok(call(server, "search_claims", TOKEN, limit=1))["total"]
    assert anonymous == len(feed()) < preview


@pytest.mark.parametrize("token", ["wrong-token", TOKEN + "x", TOKEN[:-1]])
def test_a_wrong_token_is_a_tool_error_not_a_crash(server: Server, token: str) -> None:
    text = error_text(call(server, "get_claim", token, claim_id=CLAIM))
    assert "bearer token does not grant preview access" in text
    assert TOKEN not in text
    error = read_error(server, f"claim://{CLAIM}", token)
    assert error.code == types.INVALID_REQUEST
    assert "bearer token does not grant preview access" in error.message


def test_a_non_ascii_token_is_a_tool_error_too(server: Server) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_claim", "arguments": {"claim_id": CLAIM}}}  # fmt: skip
    headers = {b"Accept": b"application/json, text/event-stream", b"Authorization": "Bearer ünïcode".encode()}
    response = httpx.post(server.mcp, json=message, headers=headers)  # stateless: no initialize needed
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is True
    assert "bearer token does not grant preview access" in result["content"][0]["text"]


# --- The endpoint -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/mcp", "/mcp/"])
def test_both_paths_answer_without_a_redirect(server: Server, path: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}  # fmt: skip
    headers = {"Accept": "application/json, text/event-stream"}
    response = httpx.post(f"{server.base}{path}", json=initialize, headers=headers, follow_redirects=False)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["result"]["serverInfo"]["name"] == "garden-api"
    assert "mcp-session-id" not in response.headers  # stateless
    result = in_session(f"{server.base}{path}", lambda session: session.call_tool("get_claim", {"claim_id": CLAIM}))
    assert ok(result)["claimId"] == CLAIM


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_the_endpoint_takes_post_only(server: Server, method: str) -> None:
    """A stateless server offers no SSE stream for GET (and no session to DELETE): 405, not a stream held open."""
    response = httpx.request(method, server.mcp, headers={"Accept": "text/event-stream"}, timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_the_app_lifespan_can_run_again_with_a_fresh_session_manager() -> None:
    """A TestClient runs the lifespan on each ``with`` (schemathesis does, per call); a session manager runs once."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app()
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    for _ in range(2):
        with TestClient(app) as client:
            response = client.post("/mcp", json=listing, headers=headers)
            assert response.status_code == 200, response.text
            assert {tool["name"] for tool in response.json()["result"]["tools"]} >= TOOLS


def test_the_mcp_endpoint_is_not_in_the_openapi_document(server: Server) -> None:
    assert not any(path.startswith("/mcp") for path in server.rest("/openapi.json").json()["paths"])


def test_the_server_logged_no_crash(server: Server) -> None:
    """Runs last: every call above answered without an unexpected exception on the server."""
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "unexpected exception" not in log, log


def test_search_claims_ranks_a_claim_first_for_its_own_words(server: Server) -> None:
    row = next(r for r in feed() if r["claimId"] == CLAIM)
    page = ok(call(server, "search_claims", query=row["claim"], limit=3))
    assert page["items"][0]["claimId"] == row["claimId"]
    assert page["items"][0]["type"] == "claim" and "<mark>" in page["items"][0]["snippet"]
    assert set(page["facets"]) == {"confidence", "state", "topic", "series"}


def test_search_claims_applies_the_claim_filters_and_the_budget(server: Server) -> None:
    page = ok(call(server, "search_claims", query="soil water plants", confidence="medium-high", max_tokens=700))
    assert page["items"] and all(item["confidence"] == "medium-high" for item in page["items"])
    assert page["truncated"] is True and page["nextCursor"]
    # Quotes, brackets and operators are dropped, never interpreted: the answer is the plain words' answer.
    plain = ok(call(server, "search_claims", query="bees", limit=500))
    assert plain["total"] == len(plain["items"]) >= 5  # "bees" is in claims of three articles at least
    quoted = ok(call(server, "search_claims", query='"bees ( AND', limit=500))
    assert (quoted["total"], [item["claimId"] for item in quoted["items"]]) == (
        plain["total"],
        [item["claimId"] for item in plain["items"]],
    )
    assert not [row for row in feed() if "unbalanced" in row["claim"].lower()]
    nothing = ok(call(server, "search_claims", query='"unbalanced ( AND', limit=2))
    assert (nothing["total"], nothing["items"], nothing["nextCursor"]) == (0, [], None)
