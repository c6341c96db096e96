"""MCP for issue 17 (item 7): the changes_since tool and the history on get_claim, on both backends, over the app's
/mcp endpoint (stateless JSON-RPC, as a client posts it), on tests/test_changes.py's two-version tree.

changes_since is /changes as a tool (same entries, filters and cursor; the corpus version it read to continue
from); get_claim takes a ``version`` (the claim as it was then, /claims/{id}?version=N) and lists the claim's
versions (``history``). Every new error path answers one sentence naming the argument (tests/test_mcp_errors.py's
rule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from tests.conftest import api_client
from tests.test_changes import EDITED, HIDDEN, PREVIEW, PUBLISHED, REMOVED, _artifact, _ingest
from tests.test_changes import tree as tree  # the modules' fixtures
from tests.test_claim_history import two_versions as two_versions
from tests.test_claim_history import versions_db as versions_db
from tests.test_mcp_errors import sentence

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CLAIM = f"article:{EDITED}:claim-001"


def _call(client: TestClient, tool: str, headers: dict[str, str] | None = None, **arguments: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    response = client.post("/mcp", json=body, headers={**HEADERS, **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _ok(client: TestClient, tool: str, headers: dict[str, str] | None = None, **arguments: Any) -> Any:
    result = _call(client, tool, headers, **arguments)
    assert not result.get("isError"), result
    [text] = result["content"]
    assert json.loads(text["text"]) == result["structuredContent"]
    return result["structuredContent"]


def _error(client: TestClient, tool: str, argument: str, **arguments: Any) -> str:
    result = _call(client, tool, **arguments)
    assert result.get("isError"), result
    [text] = result["content"]
    return sentence(text["text"], argument)


def _rest_pages(client: TestClient, query: str, headers: dict[str, str] | None) -> list[dict[str, Any]]:
    items, url = [], f"/changes?{query}"
    while url:
        body = client.get(url, headers=headers).json()
        items += body["items"]
        url = body["next"]
    return items


def _tool_pages(client: TestClient, headers: dict[str, str] | None, **arguments: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = _ok(client, "changes_since", headers, **arguments, **({"cursor": cursor} if cursor else {}))
        assert page["corpusVersion"] == 2 and page["totalRelation"] == "eq"
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items


def test_changes_since_is_the_change_feed(two_versions: tuple[TestClient, Path]) -> None:
    """The same entries as /changes, page by page, anonymously and with preview access, with each filter."""
    client, tree = two_versions
    hidden_title = json.loads((tree / "articles/2026" / HIDDEN / "artifact.json").read_text())["title"]
    for headers in (None, PREVIEW):
        everything = _tool_pages(client, headers, since=1, limit=4)
        assert everything == _rest_pages(client, "since=1", headers) and len(everything) > 4
        assert (hidden_title in json.dumps(everything)) == (headers is not None)
    filters = (({"type": "claim"}, "type=claim"), ({"type": ["article", "source"]}, "type=article,source"),
               ({"article": EDITED}, f"article={EDITED}"), ({"series": ["no-such"]}, "series=no-such"),
               ({"topic": "composting"}, "topic=composting"))  # fmt: skip
    for arguments, query in filters:
        assert _tool_pages(client, PREVIEW, since=1, **arguments) == _rest_pages(client, f"since=1&{query}", PREVIEW)
    latest = _ok(client, "changes_since", since=2)
    assert (latest["items"], latest["total"], latest["nextCursor"], latest["corpusVersion"]) == ([], 0, None, 2)


def test_get_claim_takes_a_version_and_lists_the_versions(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    today, then = _ok(client, "get_claim", claim_id=CLAIM), _ok(client, "get_claim", claim_id=CLAIM, version=1)
    assert today["claim"] == then["claim"] + " Edited."
    history = [{"version": 1, "action": None, "fields": []}, {"version": 2, "action": "updated", "fields": ["text"]}]
    assert today["history"] == then["history"] == history
    assert today["corpusVersion"] == then["corpusVersion"] == 2
    rest = client.get(f"/claims/{CLAIM}?version=1").json()
    assert then == rest | {"corpusVersion": 2, "history": history}
    assert today == client.get(f"/claims/{CLAIM}").json() | {"corpusVersion": 2, "history": history}
    removed = _ok(client, "get_claim", claim_id=f"article:{REMOVED}:claim-001", version=1)
    assert removed["history"] == [{"version": 1, "action": None, "fields": []}, {"version": 2, "action": "removed",
                                                                                 "fields": []}]  # fmt: skip
    draft = f"article:{PUBLISHED}:claim-001"
    assert _ok(client, "get_claim", PREVIEW, claim_id=draft, version=1)["claim"]
    assert [step["action"] for step in _ok(client, "get_claim", claim_id=draft)["history"]] == ["added"]


def test_every_new_error_path_is_one_sentence(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    ahead = "is ahead of the corpus version (2): pass a version this server has served (a corpusVersion)."
    assert _error(client, "changes_since", "since", since=3) == f"since: {ahead}"
    assert _error(client, "get_claim", "version", claim_id=CLAIM, version=3) == f"version: {ahead}"
    assert _error(client, "changes_since", "since") == "since: required; expected an integer of at least 0."
    assert _error(client, "changes_since", "since", since=-1) == "since: expected an integer of at least 0; got -1."
    assert _error(client, "get_claim", "version", claim_id=CLAIM, version=0) == (
        "version: expected an integer of at least 1; got 0.")  # fmt: skip
    assert _error(client, "changes_since", "type", since=1, type="bogus") == (
        "type: expected one of article, claim, source (or a list of them); got 'bogus'.")  # fmt: skip
    assert _error(client, "changes_since", "limit", since=1, limit=501) == (
        "limit: expected an integer from 1 to 500; got 501.")  # fmt: skip
    assert _error(client, "changes_since", "cursor", since=1, cursor="bm90LWEtY3Vyc29y") == (
        "cursor: malformed; pass back the previous page's nextCursor unchanged.")  # fmt: skip
    cursor = _ok(client, "changes_since", since=1, limit=1)["nextCursor"]
    assert _error(client, "changes_since", "cursor", since=1, type="claim", cursor=cursor).startswith(
        "cursor: made under other filters")  # fmt: skip
    assert _error(client, "changes_since", "cursor", since=1, cursor="x" * 3000) == (
        "cursor: string should have at most 2048 characters; got a string of 3000 characters.")  # fmt: skip
    assert _error(client, "changes_since", "topic", since=1, topic="soil\x00") == (
        "topic: must not contain the NUL character.")  # fmt: skip
    draft = f"article:{PUBLISHED}:claim-001"
    assert _error(client, "get_claim", "version", claim_id=draft, version=1) == (
        f"version: no claim '{draft}' at version 1: it did not exist then, or was not published (its history lists "
        "the versions it has).")  # fmt: skip
    assert _error(client, "get_claim", "claim_id", claim_id="article:nope:claim-001", version=1) == (
        "claim_id: no claim 'article:nope:claim-001'; claim ids look like article:<slug>:claim-001.")  # fmt: skip


def test_versions_older_than_the_log_say_how_to_go_on(engine: Engine, tree: Path, db_url: str) -> None:
    """Retention of one version, three versions: since=1 and version=1 are older than the log."""
    _ingest(engine, tree, change_retention=1)
    for confidence in ("low", "medium"):
        _artifact(tree / "articles/2026" / EDITED, lambda data, c=confidence: data["claims"][0].update(confidence=c))
        _ingest(engine, tree, change_retention=1)
    with api_client(db_url) as client:
        assert _error(client, "changes_since", "since", since=1) == (
            "since: the change log starts after version 2, so the changes since 1 are no longer kept; re-read what "
            "you cache, then pass since=2 from then on.")  # fmt: skip
        assert _error(client, "get_claim", "version", claim_id=CLAIM, version=1) == (
            "version: the change log starts after version 2, so the claim's form at version 1 is no longer kept "
            "(nor whether it changed since); the oldest version answered is 2.")  # fmt: skip
        assert [step["version"] for step in _ok(client, "get_claim", claim_id=CLAIM)["history"]] == [2, 3]
        assert _ok(client, "changes_since", since=2)["items"][0]["after"] == {"confidence": "medium"}


def test_results_conform_to_the_listed_output_schemas(two_versions: tuple[TestClient, Path]) -> None:
    """What a client validating with tools/list's (compacted) output schemas checks: today's claim, a claim at a
    version, a removed claim's version and a page of changes all conform."""
    client, _ = two_versions
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    tools = {tool["name"]: tool for tool in client.post("/mcp", json=body, headers=HEADERS).json()["result"]["tools"]}
    results = [("get_claim", _ok(client, "get_claim", claim_id=CLAIM)),
               ("get_claim", _ok(client, "get_claim", claim_id=CLAIM, version=1)),
               ("get_claim", _ok(client, "get_claim", claim_id=f"article:{REMOVED}:claim-001", version=1)),
               ("changes_since", _ok(client, "changes_since", PREVIEW, since=1, limit=20))]  # fmt: skip
    for tool, result in results:
        assert list(Draft202012Validator(tools[tool]["outputSchema"]).iter_errors(result)) == [], tool
