"""Every MCP error path answers one sentence that names the argument as the tool (or resource) calls it.

Through the real streamable HTTP transport, with tests/test_mcp.py's server and client. A sentence here is: one
line, ending with a period, starting ``<argument>: `` (but for the wrong token, which is no argument), with no
pydantic dump ("validation error", errors.pydantic.dev) and no "Error executing tool" prefix.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import types
from mcp.client.session import ClientSession

from tests.test_mcp import ARCHIVED, ARTICLE, CLAIM, TOKEN, Server, call, error_text, in_session, ok, read_error
from tests.test_mcp import server as server  # the module's fixture: garden serve on content/

CONFIDENCES = "one of low, medium, medium-high, high"


def sentence(text: str, argument: str | None) -> str:
    """``text``, after checking it is one sentence naming ``argument`` first."""
    assert "\n" not in text and text.endswith("."), text
    assert "pydantic" not in text and "validation error" not in text and "Error executing" not in text, text
    if argument is not None:
        assert text.startswith(f"{argument}: "), text
    return text


def tool_error(server: Server, tool: str, argument: str | None, token: str | None = None, **arguments: Any) -> str:
    return sentence(error_text(call(server, tool, token, **arguments)), argument)


# --- Arguments the SDK refuses before the tool runs ------------------------------------------------------------------


def test_a_value_outside_an_enum_lists_the_values(server: Server) -> None:
    expected = f"confidence: expected {CONFIDENCES} (or a list of them); got 'bogus'."
    assert tool_error(server, "search_claims", "confidence", confidence="bogus") == expected
    assert tool_error(server, "search_claims", "confidence", confidence=["low", "bogus"]) == expected
    assert tool_error(server, "search_claims", "min_confidence", query="bees", min_confidence="certain") == (
        f"min_confidence: expected {CONFIDENCES}; got 'certain'."
    )


@pytest.mark.parametrize("limit", [0, 501, "many"])
def test_a_limit_out_of_range_or_not_a_number_gives_the_range(server: Server, limit: Any) -> None:
    assert tool_error(server, "search_claims", "limit", limit=limit) == (
        f"limit: expected an integer from 1 to 500; got {limit!r}."
    )


def test_a_wrong_type_says_what_the_argument_takes(server: Server) -> None:
    assert tool_error(server, "search_claims", "has_counterevidence", has_counterevidence="maybe") == (
        "has_counterevidence: expected true or false; got 'maybe'."
    )
    assert (
        tool_error(server, "search_claims", "topic", topic=5) == "topic: expected a string (or a list of them); got 5."
    )
    assert tool_error(server, "get_claim", "claim_id", claim_id=5) == (
        "claim_id: expected a string of at most 300 characters; got 5."
    )


def test_a_missing_argument_is_named(server: Server) -> None:
    assert tool_error(server, "get_claim", "claim_id") == (
        "claim_id: required; expected a string of at most 300 characters."
    )


def test_an_empty_or_too_long_query_is_named_query_not_q(server: Server) -> None:
    assert tool_error(server, "search_claims", "query", query="") == (
        "query: expected a non-empty string of at most 500 characters; got ''."
    )
    assert tool_error(server, "search_claims", "query", query="bee " * 200) == (
        "query: expected a non-empty string of at most 500 characters; got a string of 800 characters."
    )


# --- Arguments the query layer refuses ------------------------------------------------------------------------------


def test_a_query_without_a_word_is_named_query_not_q(server: Server) -> None:
    assert tool_error(server, "search_claims", "query", query="?! --") == "query: give at least one word to search for."


@pytest.mark.parametrize(
    ("tool", "argument", "arguments"),
    [
        ("search_claims", "topic", {"topic": "soil\x00"}),
        ("search_claims", "series", {"series": ["a", "b\x00"]}),
        ("search_claims", "query", {"query": "soil\x00"}),
        ("get_claim", "claim_id", {"claim_id": "article:a\x00:claim-001"}),
        ("get_article", "slug", {"slug": "a\x00"}),
    ],
)
def test_a_nul_character_is_refused_by_name(server: Server, tool: str, argument: str, arguments: Any) -> None:
    assert tool_error(server, tool, argument, **arguments) == f"{argument}: must not contain the NUL character."


def test_a_malformed_cursor_asks_for_next_cursor_unchanged(server: Server) -> None:
    expected = "cursor: malformed; pass back the previous page's nextCursor unchanged."
    assert tool_error(server, "search_claims", "cursor", cursor="not-a-cursor") == expected
    assert tool_error(server, "search_claims", "cursor", query="bees", cursor="bm90IGpzb24") == expected


def test_a_cursor_of_other_filters_says_so(server: Server) -> None:
    cursor = ok(call(server, "search_claims", limit=1, confidence="high"))["nextCursor"]
    assert tool_error(server, "search_claims", "cursor", limit=1, confidence="low", cursor=cursor) == (
        "cursor: made under other filters; start again without a cursor, or keep the arguments the first page had."
    )


def test_an_empty_filter_value_is_named(server: Server) -> None:
    assert tool_error(server, "search_claims", "topic", topic="") == (
        "topic: is empty: give a value, or leave the parameter out; got ''."
    )


def test_a_budget_too_small_for_one_claim_says_how_much_would_do(server: Server) -> None:
    message = tool_error(server, "search_claims", "max_tokens", max_tokens=1)
    needed = int(message.rsplit(" ", 1)[1].rstrip("."))
    assert message == (
        f"max_tokens: not even one item fits; the first needs {needed} tokens with its envelope, so ask for at "
        f"least {needed}."
    )
    # The MCP page has no `next` URL: it needs less than REST's body, and exactly what it says.
    assert needed < server.rest("/claims?max_tokens=1").json()["needed"]
    assert len(ok(call(server, "search_claims", max_tokens=needed))["items"]) == 1
    assert tool_error(server, "search_claims", "max_tokens", max_tokens=needed - 1) == message


def test_a_budget_past_the_limit_is_named(server: Server) -> None:
    assert tool_error(server, "search_claims", "max_tokens", max_tokens=20_000_000) == (
        "max_tokens: expected an integer from 1 to 10000000; got 20000000."
    )


# --- Things that are not there -------------------------------------------------------------------------------------


def test_an_unknown_claim_article_or_series_is_named_by_its_argument(server: Server) -> None:
    missing = f"article:{ARTICLE}:claim-999"
    hint = "claim ids look like article:<slug>:claim-001"
    assert tool_error(server, "get_claim", "claim_id", claim_id=missing) == f"claim_id: no claim '{missing}'; {hint}."
    assert tool_error(server, "get_claim", "claim_id", claim_id="nonsense") == f"claim_id: no claim 'nonsense'; {hint}."
    assert tool_error(server, "get_claim", "claim_id", claim_id="article:nowhere:claim-001") == (
        "claim_id: no article 'nowhere'."
    )
    assert tool_error(server, "get_article", "slug", slug="no-such-article") == "slug: no article 'no-such-article'."
    assert tool_error(server, "get_brief", "slug", slug="no-such-article") == "slug: no article 'no-such-article'."
    assert tool_error(server, "get_series", "slug", slug="no-such-series") == "slug: no series 'no-such-series'."


def test_an_archived_article_is_gone_by_its_argument(server: Server) -> None:
    gone = f"the article '{ARCHIVED}' has been archived."
    assert tool_error(server, "get_article", "slug", slug=ARCHIVED) == f"slug: {gone}"
    assert tool_error(server, "get_brief", "slug", slug=ARCHIVED) == f"slug: {gone}"
    assert tool_error(server, "get_claim", "claim_id", claim_id=f"article:{ARCHIVED}:claim-001") == f"claim_id: {gone}"


def test_an_unknown_tool_is_one_sentence(server: Server) -> None:
    assert (
        tool_error(server, "get_everything", "name") == "name: no tool 'get_everything'; tools/list names every tool."
    )


def test_a_wrong_preview_token_is_one_sentence_for_a_tool_and_a_resource(server: Server) -> None:
    """The token is no argument (it is the Authorization header), so this sentence names none."""
    wrong = "The bearer token does not grant preview access: it is not this server's GARDEN_PREVIEW_TOKEN."
    assert tool_error(server, "get_claim", None, TOKEN + "x", claim_id=CLAIM) == wrong
    error = read_error(server, f"claim://{CLAIM}", TOKEN + "x")
    assert error.code == types.INVALID_REQUEST
    assert sentence(error.message, None) == wrong


# --- Resources keep their JSON-RPC codes, with the same sentences ----------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("article://no-such-article", "slug: no article 'no-such-article'."),
        (f"article://{ARCHIVED}", f"slug: the article '{ARCHIVED}' has been archived."),
        (f"brief://{ARCHIVED}", f"slug: the article '{ARCHIVED}' has been archived."),
        (f"claim://{CLAIM[:-3]}999", f"claim_id: no claim '{CLAIM[:-3]}999'; claim ids look like "
                                     "article:<slug>:claim-001."),
        (f"nope://{ARTICLE}", f"uri: no resource at 'nope://{ARTICLE}'; resources/templates/list names the URI "
                              "templates."),
    ],
)  # fmt: skip
def test_an_unknown_or_archived_resource_is_not_found_in_one_sentence(server: Server, uri: str, message: str) -> None:
    error = read_error(server, uri)
    assert error.code == types.INVALID_PARAMS
    assert sentence(error.message, message.split(":")[0]) == message


def test_every_tool_error_of_a_session_is_a_sentence(server: Server) -> None:
    """Each tool with an argument of every wrong kind at once: whichever it names first, it is one sentence."""

    async def work(session: ClientSession) -> list[str]:
        texts = []
        for tool in (await session.list_tools()).tools:
            wrong = {name: {"wrong": True} for name in tool.input_schema.get("properties", {})}
            result = await session.call_tool(tool.name, wrong)
            if result.is_error:
                [content] = result.content
                assert isinstance(content, types.TextContent)
                texts.append(content.text)
        return texts

    texts = in_session(server.mcp, work)
    assert len(texts) >= 5
    for text in texts:
        sentence(text, text.split(":")[0])


# --- A database that cannot answer ------------------------------------------------------------------------------------


def test_a_database_that_cannot_answer_is_one_sentence_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """REST answers 503 with Retry-After; a tool answers the same sentence as a tool error, a resource as -32603
    (in process: the engine points at a database file that cannot be opened, a real OperationalError)."""
    import anyio
    from mcp.shared.exceptions import MCPError
    from sqlalchemy import create_engine

    import app.mcp_access
    from app.mcp_server import mcp

    monkeypatch.setattr(app.mcp_access, "get_engine", lambda: create_engine("sqlite:////nonexistent-dir/garden.db"))
    busy = "The database is busy or unreachable; retry shortly."

    async def run() -> None:
        result = await mcp.call_tool("get_claim", {"claim_id": CLAIM})
        assert isinstance(result, types.CallToolResult) and result.is_error
        assert [content.text for content in result.content if isinstance(content, types.TextContent)] == [busy]
        with pytest.raises(MCPError) as raised:
            await mcp.read_resource(f"claim://{CLAIM}")
        assert (raised.value.error.code, raised.value.error.message) == (types.INTERNAL_ERROR, busy)

    anyio.run(run)
