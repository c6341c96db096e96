"""The MCP server sized for an agent's context (issue 16, item 4): tools/list's size and its typed, described
inputs; the articles as paged resources; the cited-answer prompt; CORS for a browser client on /mcp.

Runs over real HTTP against ``garden serve`` on content/ (tests/test_mcp.py's server fixture).
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_type_hints

import httpx
import pytest
from mcp import types
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, TypeAdapter

from app.mcp_schema import compact
from tests.conftest import CONTENT
from tests.oracle import read_tree
from tests.test_mcp import TOKEN, Server, in_session
from tests.test_mcp import server as server  # the module's fixture

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
ORIGIN = "https://agent.example"


def rpc(server: Server, method: str, params: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    """One JSON-RPC request to /mcp (stateless: no initialize needed)."""
    message = {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params else {})}
    return httpx.post(server.mcp, json=message, headers={**ACCEPT, **headers}, timeout=30)


# --- tools/list -------------------------------------------------------------------------------------------------------


def test_tools_list_is_at_most_12_kb_on_the_wire(server: Server) -> None:
    response = rpc(server, "tools/list")
    assert response.status_code == 200, response.text
    assert len(response.json()["result"]["tools"]) == 8
    assert len(response.content) <= 12_288, len(response.content)


def _typed(schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    if "type" in schema or "enum" in schema:
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _typed(defs[ref.removeprefix("#/$defs/")], defs)
    return any(_typed(branch, defs) for branch in schema.get("anyOf", [])) and all(
        _typed(branch, defs) for branch in schema.get("anyOf", [])
    )


def test_every_input_is_typed_and_described(server: Server) -> None:
    tools = rpc(server, "tools/list").json()["result"]["tools"]
    properties = 0
    for tool in tools:
        schema = tool["inputSchema"]
        for name, prop in schema.get("properties", {}).items():
            properties += 1
            assert _typed(prop, schema.get("$defs", {})), (tool["name"], name, prop)
            assert prop.get("description"), (tool["name"], name)
    assert properties >= 19


def test_enums_and_value_or_list_shapes_are_defined_once_per_tool(server: Server) -> None:
    [search] = [tool for tool in rpc(server, "tools/list").json()["result"]["tools"] if tool["name"] == "search_claims"]
    text = json.dumps(search["inputSchema"])
    assert text.count('"medium-high"') == 1 and text.count('"needs-evidence"') == 1
    defs = search["inputSchema"]["$defs"]
    assert defs["Confidences"]["anyOf"][1] == {"items": {"$ref": "#/$defs/Confidence"}, "type": "array"}
    assert search["inputSchema"]["properties"]["confidence"]["$ref"] == "#/$defs/Confidences"


def test_output_schemas_keep_types_required_and_enums_without_prose(server: Server) -> None:
    tools = {tool["name"]: tool for tool in rpc(server, "tools/list").json()["result"]["tools"]}
    for tool in tools.values():
        assert not _keywords(tool["outputSchema"]) & {"description", "title", "examples"}, tool["name"]
    page = tools["search_claims"]["outputSchema"]
    assert page["properties"]["totalRelation"] == {"type": "string"}
    item = page["properties"]["items"]["items"]
    assert {"claimId", "claim", "confidence", "state"} <= set(item["required"])
    assert item["properties"]["evidenceCount"] == {"type": "integer"}
    assert "citationUrl" in tools["get_claim"]["outputSchema"]["required"]


def test_output_schemas_are_generated_from_the_response_models(server: Server) -> None:
    """Each outputSchema is ``compact`` of the model its tool returns (app.responses*, shared with OpenAPI)."""
    from app import mcp_server

    for tool in rpc(server, "tools/list").json()["result"]["tools"]:
        returned = get_type_hints(getattr(mcp_server, tool["name"]), include_extras=True)["return"]
        model = get_args(returned)[1]
        assert tool["outputSchema"] == compact(TypeAdapter(model).json_schema(), describe=False), tool["name"]


class _Source(BaseModel):
    title: str


class _Evidence(BaseModel):
    snippet: str
    source: _Source | None


class _Claim(BaseModel):
    claimId: str
    confidence: Literal["low", "high"]
    evidence: list[_Evidence]
    kind: Literal["claim"]
    before: dict[str, str | list[dict[str, str]]] | None  # a change's old values: a map


class _Page(BaseModel):
    items: list[_Claim]
    nextCursor: str | None
    first: _Claim | None
    level: Literal["low", "high"]


def test_an_output_schema_types_the_result_and_the_items_it_lists() -> None:
    """The result's fields and its listed items' fields keep types and required; any other object is typed
    object (a map too), a list of them array, and an enum or a constant string, so that new fields on embedded
    models (the typed models of the OpenAPI document) cost an agent's context nothing."""
    schema = compact(_Page.model_json_schema(), describe=False)
    assert schema == {
        "properties": {
            "items": {"items": {
                "properties": {
                    "claimId": {"type": "string"},
                    "confidence": {"type": "string"},
                    "evidence": {"type": "array"},
                    "kind": {"type": "string"},
                    "before": {"type": ["object", "null"]},
                },
                "required": ["claimId", "confidence", "evidence", "kind", "before"],
                "type": "object",
            }, "type": "array"},
            "nextCursor": {"type": ["string", "null"]},
            "first": {"type": ["object", "null"]},
            "level": {"type": "string"},
        },
        "required": ["items", "nextCursor", "first", "level"],
        "type": "object",
    }  # fmt: skip


def _keywords(schema: Any) -> set[str]:
    """The keywords used anywhere in ``schema`` (not the property names)."""
    if isinstance(schema, list):
        return {key for item in schema for key in _keywords(item)}
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        subs = value.values() if key in ("properties", "$defs") and isinstance(value, dict) else [value]
        found |= {k for sub in subs for k in _keywords(sub)}
    return found


def test_server_instructions_carry_the_shared_prose(server: Server) -> None:
    result = in_session(server.mcp, lambda session: _initialize(session))
    assert "nextCursor" in result and "citationUrl" in result and "ANDed" in result


async def _initialize(session: ClientSession) -> str:
    result = await session.initialize()
    return result.instructions or ""


# --- resources/list ---------------------------------------------------------------------------------------------------


def _walk(server: Server, token: str | None) -> list[list[types.Resource]]:
    async def work(session: ClientSession) -> list[list[types.Resource]]:
        pages, cursor = [], None
        while True:
            page = await session.list_resources(params=types.PaginatedRequestParams(cursor=cursor))
            pages.append(page.resources)
            cursor = page.next_cursor
            if cursor is None:
                return pages

    return in_session(server.mcp, work, token)


@pytest.mark.parametrize("token", [None, TOKEN])
def test_resources_list_walks_every_visible_article_once(server: Server, token: str | None) -> None:
    pages = _walk(server, token)
    listed = [resource for page in pages for resource in page]
    articles = {a.slug: a for a in read_tree(CONTENT) if a.public or token}
    assert [r.uri for r in listed] == [f"article://{r.name}" for r in listed]
    assert sorted(r.name for r in listed) == sorted(articles)  # every one, none twice
    for resource in listed:
        assert resource.mime_type == "application/json"
        assert resource.title == articles[resource.name].artifact["title"]
    assert all(len(page) <= 100 for page in pages)


def test_drafts_are_listed_only_with_the_preview_token(server: Server) -> None:
    anonymous = {r.name for page in _walk(server, None) for r in page}
    preview = {r.name for page in _walk(server, TOKEN) for r in page}
    hidden = {a.slug for a in read_tree(CONTENT) if not a.public}
    assert hidden and anonymous.isdisjoint(hidden) and preview >= hidden


def test_resources_list_pages_by_100(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """content/ has fewer than 100 articles: one page, no nextCursor; the page size is the module's constant."""
    from app import mcp_resources

    assert mcp_resources.PAGE_SIZE == 100
    [page] = _walk(server, TOKEN)
    assert len(page) == len(read_tree(CONTENT))


def test_a_listed_resource_reads_as_the_article(server: Server) -> None:
    [first, *_] = _walk(server, None)[0]
    result = in_session(server.mcp, lambda session: session.read_resource(first.uri))
    [contents] = result.contents
    assert isinstance(contents, types.TextResourceContents)
    assert json.loads(contents.text)["slug"] == first.name


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJmIjoxfQ", "a" * 3000])
def test_a_malformed_cursor_is_invalid_params_in_one_sentence(server: Server, cursor: str) -> None:
    async def work(session: ClientSession) -> MCPError:
        with pytest.raises(MCPError) as caught:
            await session.list_resources(params=types.PaginatedRequestParams(cursor=cursor))
        return caught.value

    error = in_session(server.mcp, work)
    assert error.code == types.INVALID_PARAMS
    assert error.message.startswith("cursor: ") and error.message.count(". ") == 0 and error.message.endswith(".")


# --- The prompt -------------------------------------------------------------------------------------------------------


def test_the_prompt_is_listed_with_its_question_argument(server: Server) -> None:
    listed = in_session(server.mcp, lambda session: session.list_prompts())
    [prompt] = listed.prompts
    assert prompt.name == "answer_with_cited_claims"
    assert prompt.title == "Answer a question from this garden with cited claims"
    assert [(a.name, a.required) for a in prompt.arguments or []] == [("question", True)]


def test_the_prompt_shows_the_path_from_search_to_citation(server: Server) -> None:
    question = "Do native plants help bees?"
    result = in_session(
        server.mcp, lambda session: session.get_prompt("answer_with_cited_claims", {"question": question})
    )
    [message] = result.messages
    assert message.role == "user" and isinstance(message.content, types.TextContent)
    text = message.content.text
    assert question in text
    steps = [text.index(word) for word in ("search_claims", "get_claim", "source", "citationUrl")]
    assert steps == sorted(steps)


# --- CORS -------------------------------------------------------------------------------------------------------------


def test_a_browser_preflight_for_post_on_mcp_is_allowed(server: Server) -> None:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type,accept,authorization,mcp-protocol-version,"
               "mcp-session-id,last-event-id"}  # fmt: skip
    response = httpx.options(server.mcp, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for name in ("content-type", "accept", "authorization", "mcp-protocol-version", "mcp-session-id",
                 "last-event-id"):  # fmt: skip
        assert name in allowed


def test_a_preflight_for_post_on_the_rest_api_is_refused(server: Server) -> None:
    headers = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    response = httpx.options(f"{server.base}/claims", headers=headers, timeout=10)
    assert response.status_code == 400
    get = httpx.options(f"{server.base}/claims", headers={**headers, "Access-Control-Request-Method": "GET"})
    assert get.status_code == 200 and "POST" not in get.headers["access-control-allow-methods"]


def test_a_cross_origin_post_can_read_the_mcp_headers(server: Server) -> None:
    response = rpc(server, "tools/list", Origin=ORIGIN, **{"Mcp-Protocol-Version": "2025-06-18"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    exposed = {name.strip().lower() for name in response.headers["access-control-expose-headers"].split(",")}
    assert {"mcp-session-id", "mcp-protocol-version"} <= exposed
    rest = httpx.get(f"{server.base}/claims?limit=1", headers={"Origin": ORIGIN}, timeout=10)
    assert "etag" in rest.headers["access-control-expose-headers"].lower()


def test_resources_list_with_a_wrong_token_is_an_invalid_request(server: Server) -> None:
    response = rpc(server, "resources/list", Authorization="Bearer wrong-token")
    error = response.json()["error"]
    assert error["code"] == types.INVALID_REQUEST
    assert "bearer token does not grant preview access" in error["message"] and TOKEN not in error["message"]


def test_a_cursor_of_another_list_is_refused_as_a_cursor(server: Server) -> None:
    claims_cursor = httpx.get(f"{server.base}/claims?limit=1", timeout=10).json()["next"].split("cursor=")[1]
    error = rpc(server, "resources/list", {"cursor": claims_cursor}).json()["error"]
    assert error["code"] == types.INVALID_PARAMS and error["message"].startswith("cursor: ")
