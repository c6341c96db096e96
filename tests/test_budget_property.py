"""Token budgets hold, on every budgeted endpoint and tool, for every budget (hypothesis).

For each of REST's ``/claims``, ``/search``, ``/articles/{slug}/claims`` and ``/articles/{slug}/brief``, and
MCP's ``search_claims`` (with and without ``query``), hypothesis draws a variant of the request (filters that make long
``next`` URLs, ``fields=``, a path naming the article by its id, a cursor from the middle of the list) and a
budget from 1 to the full size of the unbudgeted answer, edges included. Each answer is either

* a 200 whose body, as received, is estimated within the budget, ``X-Token-Estimate`` being exactly that
  estimate (MCP: the result's JSON text, which is its structured content), holding at least one item; or
* a 422 (MCP: a tool error) naming ``max_tokens`` and ``needed``: a larger budget with which the first item
  would not fit either at ``needed - 1``, and with which asking again gets a 200 with at least one item within
  ``needed``.

REST runs in process on SQLite, twice: with relative ``next`` URLs and under a ``GARDEN_PUBLIC_URL`` whose
scheme and port add words to every ``next``. MCP runs through the real streamable HTTP transport on a
``garden serve`` subprocess, with one client session for the whole run. The profile is deterministic
(``derandomize``) with a fixed number of examples per endpoint and URL form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.from_thread
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mcp import types

from app.budget import estimate
from tests.conftest import CONTENT, api_client, ingest_json, running_server
from tests.test_mcp import connect

#: A deterministic profile: the same examples on every run, a fixed number per endpoint and URL form.
PROFILE = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
#: A public base URL whose scheme and port are words of their own in every ``next``.
PUBLIC = "https://garden.example.org:8443/api"
ARTICLE = "native-plants-for-bees"

#: Each endpoint's variants: a path and query, and whether to take a cursor from the middle of the list first.
REST: dict[str, list[tuple[str, bool]]] = {
    "claims": [
        ("/claims?limit=20", False),
        ("/claims?limit=20", True),
        ("/claims?topic=soil-health,pollinators&min_confidence=medium&state=verified,stale,contested"
         "&include=evidence,counterevidence,sources&limit=30", False),
        ("/claims?fields=claimId,claim,state&limit=40", True),
    ],
    "search": [
        ("/search?q=soil+water&limit=30", False),
        ("/search?q=soil&limit=8", True),
        ("/search?q=bees+flowers&type=claims&confidence=medium-high,high&topic=pollinators", False),
        ("/search?q=compost&fields=type,score,snippet", False),
    ],
    "article-claims": [
        (f"/articles/{ARTICLE}/claims", False),
        (f"/articles/article:{ARTICLE}/claims?include=evidence,counterevidence,sources", True),
        ("/articles/pollinator-corridors/claims", True),
    ],
    "brief": [
        (f"/articles/{ARTICLE}/brief", False),
        ("/articles/nesting-habitat-for-solitary-bees/brief", True),
        (f"/articles/article:{ARTICLE}/brief", True),
    ],
}  # fmt: skip
MCP: dict[str, list[tuple[dict[str, Any], bool]]] = {
    "search_claims": [  # without query, the claims feed (GET /claims); with it, ranked hits with facets
        ({"limit": 20}, False),
        ({"limit": 20}, True),
        ({"topic": ["soil-health", "pollinators"], "confidence": ["medium", "high"], "limit": 30}, False),
        ({"query": "soil water", "limit": 30}, False),
        ({"query": "soil", "limit": 8}, True),
        ({"query": "bees flowers", "min_confidence": "medium-high"}, False),
    ],
}


def budgets(full: int) -> st.SearchStrategy[int]:
    """Budgets from 1 to ``full``, the edges drawn often."""
    return st.one_of(st.sampled_from(sorted({1, 2, max(full - 1, 1), full})), st.integers(1, full))


def with_budget(url: str, budget: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}max_tokens={budget}"


# --- REST ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_content(tmp_path_factory: pytest.TempPathFactory) -> str:
    """content/ ingested into a SQLite database of this module's own (budgets do not depend on the database)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('budgets') / 'garden.db'}"
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    return db_url


@dataclass
class Rest:
    client: TestClient
    public: str
    fulls: dict[str, int] = field(default_factory=dict)
    starts: dict[str, str] = field(default_factory=dict)

    def get(self, url: str) -> Any:
        return self.client.get(url.removeprefix(self.public))

    def start(self, path: str, middle: bool) -> str:
        """``path``, or with ``middle`` the same with the cursor that a small budget's first page ends with."""
        if not middle:
            return path
        if path not in self.starts:
            response = self.get(with_budget(path, self.full(path) // 2))
            if response.status_code == 422:
                response = self.get(with_budget(path, response.json()["needed"]))
            assert response.status_code == 200, response.text
            cursor = response.json()["next"]
            assert cursor is not None, f"{path}: the first page should leave items for a second one"
            [self.starts[path]] = parse_qs(urlsplit(cursor).query)["cursor"]
        return f"{path}{'&' if '?' in path else '?'}cursor={self.starts[path]}"

    def full(self, url: str) -> int:
        """The full size of the budgeted answer: its estimate with a budget that holds every item."""
        if url not in self.fulls:
            response = self.get(with_budget(url, 10_000_000))
            assert response.status_code == 200, response.text
            self.fulls[url] = estimate(response.content)
        return self.fulls[url]


@pytest.fixture(scope="module", params=["", PUBLIC], ids=["relative", "public-url"])
def rest(request: pytest.FixtureRequest, sqlite_content: str) -> Iterator[Rest]:
    env = {"GARDEN_PUBLIC_URL": request.param} if request.param else {}
    with api_client(sqlite_content, **env) as client:
        yield Rest(client, request.param)


def items_of(body: dict[str, Any]) -> list[Any]:
    items: list[Any] = body["sections"] if "sections" in body else body["items"]
    return items


def within(response: Any, budget: int) -> dict[str, Any]:
    """The body of a 200 within ``budget``, with at least one item; X-Token-Estimate is its estimate."""
    assert response.status_code == 200, response.text
    said, measured = int(response.headers["x-token-estimate"]), estimate(response.content)
    assert said == measured, f"X-Token-Estimate {said}, the body received {measured}"
    assert measured <= budget, f"{response.url}: X-Token-Estimate {measured} > max_tokens={budget}"
    body: dict[str, Any] = response.json()
    assert items_of(body), f"{response.url}: a 200 with no item"
    assert not body["truncated"] or body["next"] is not None, "truncated, with no next"
    return body


def check_rest(rest: Rest, url: str, budget: int) -> None:
    response = rest.get(with_budget(url, budget))
    event(f"HTTP {response.status_code}")
    if response.status_code != 422:
        within(response, budget)
        return
    problem = response.json()
    assert problem["parameter"] == "max_tokens", problem
    needed = problem["needed"]
    assert needed > budget, problem
    within(rest.get(with_budget(url, needed)), needed)
    assert rest.get(with_budget(url, needed - 1)).status_code == 422, f"{url}: needed={needed} is not the least"


@pytest.mark.parametrize("endpoint", list(REST))
@PROFILE
@given(data=st.data())
def test_a_rest_budget_holds_on_the_bytes_sent(rest: Rest, endpoint: str, data: st.DataObject) -> None:
    path, middle = data.draw(st.sampled_from(REST[endpoint]), label="variant")
    url = rest.start(path, middle)
    check_rest(rest, url, data.draw(budgets(rest.full(url)), label="max_tokens"))


# --- MCP ----------------------------------------------------------------------------------------------------------


class Mcp:
    """One MCP client session over streamable HTTP, called from synchronous code."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, session: Any) -> None:
        self.portal, self.session = portal, session
        self.fulls: dict[str, int] = {}
        self.starts: dict[str, str] = {}

    def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        result: types.CallToolResult = self.portal.call(self.session.call_tool, tool, arguments)
        return result

    def start(self, tool: str, arguments: dict[str, Any], middle: bool) -> dict[str, Any]:
        if not middle:
            return arguments
        key = json.dumps([tool, arguments], sort_keys=True)
        if key not in self.starts:
            result = self.call(tool, {**arguments, "max_tokens": self.full(tool, arguments) // 2})
            if result.is_error:
                result = self.call(tool, {**arguments, "max_tokens": needed_of(result)})
            cursor = page_text(result)[1]["nextCursor"]
            assert cursor is not None, f"{tool}: the first page should leave items for a second one"
            self.starts[key] = cursor
        return {**arguments, "cursor": self.starts[key]}

    def full(self, tool: str, arguments: dict[str, Any]) -> int:
        key = json.dumps([tool, arguments], sort_keys=True)
        if key not in self.fulls:
            result = self.call(tool, {**arguments, "max_tokens": 10_000_000})
            self.fulls[key] = estimate(page_text(result)[0].encode())
        return self.fulls[key]


@pytest.fixture(scope="module")
def mcp(sqlite_content: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    log: Path = tmp_path_factory.mktemp("budgets-mcp") / "server.log"
    with (
        running_server(sqlite_content, log) as base,
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connect(f"{base}/mcp")) as session,
    ):
        yield Mcp(portal, session)


def page_text(result: types.CallToolResult) -> tuple[str, dict[str, Any]]:
    """The JSON text of a successful tool result, and its structured content (which it must be)."""
    assert not result.is_error, result.content
    [content] = result.content
    assert isinstance(content, types.TextContent)
    assert json.loads(content.text) == result.structured_content
    return content.text, result.structured_content


def mcp_within(result: types.CallToolResult, budget: int) -> None:
    text, page = page_text(result)
    assert estimate(text.encode()) <= budget, f"the page is estimated at {estimate(text.encode())} > {budget}"
    assert page["items"], "a page with no item"


def needed_of(result: types.CallToolResult) -> int:
    """The budget a tool error says would do; it must name max_tokens."""
    [content] = result.content
    assert isinstance(content, types.TextContent)
    found = re.search(r"max_tokens\b.*?\b(\d+) tokens", content.text)
    assert found, f"the error names neither max_tokens nor the budget needed: {content.text!r}"
    return int(found[1])


def check_mcp(mcp: Mcp, tool: str, arguments: dict[str, Any], budget: int) -> None:
    result = mcp.call(tool, {**arguments, "max_tokens": budget})
    event("a tool error" if result.is_error else "a page")
    if not result.is_error:
        mcp_within(result, budget)
        return
    needed = needed_of(result)
    assert needed > budget, result.content
    mcp_within(mcp.call(tool, {**arguments, "max_tokens": needed}), needed)
    assert mcp.call(tool, {**arguments, "max_tokens": needed - 1}).is_error, f"needed={needed} is not the least"


@pytest.mark.parametrize("tool", list(MCP))
@PROFILE
@given(data=st.data())
def test_an_mcp_budget_holds_on_the_page_returned(mcp: Mcp, tool: str, data: st.DataObject) -> None:
    given_arguments, middle = data.draw(st.sampled_from(MCP[tool]), label="variant")
    arguments = mcp.start(tool, given_arguments, middle)
    check_mcp(mcp, tool, arguments, data.draw(budgets(mcp.full(tool, arguments)), label="max_tokens"))


# --- nextCursor -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/claims?limit=3", "/claims?limit=3&max_tokens=400", "/search?q=soil&limit=3", "/articles?limit=3",
    "/sources?limit=3", f"/articles/{ARTICLE}/claims?max_tokens=200", f"/articles/{ARTICLE}/brief?max_tokens=150",
])  # fmt: skip
def test_every_page_body_carries_next_cursor_right_after_next(rest: Rest, path: str) -> None:
    body = rest.get(path).json()
    keys = list(body)
    assert keys[keys.index("next") + 1] == "nextCursor"
    assert body["nextCursor"] is not None
    assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [body["nextCursor"]]
    last = rest.get(re.sub(r"max_tokens=\d+", "max_tokens=1000000", path.replace("limit=3", "limit=500")))
    assert last.json()["next"] is None and last.json()["nextCursor"] is None
