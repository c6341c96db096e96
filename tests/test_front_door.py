"""The front door, ``/``: an HTML page for a browser, JSON for a program, both cacheable like every public answer."""

from __future__ import annotations

import re

import pytest

from tests.conftest import api_client

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
TOKEN = "preview-front-door"


def _totals(client, preview: bool = False) -> dict[str, int]:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    return {kind: client.get(f"/{kind}", params={"limit": 1}, headers=headers).json()["total"]
            for kind in ("articles", "claims", "sources")}  # fmt: skip


@pytest.mark.parametrize("lane", [True, False], ids=["lane", "fastapi"])
@pytest.mark.parametrize("accept", [None, "text/html", BROWSER, "*/*"], ids=["none", "html", "browser", "any"])
def test_a_browser_gets_a_self_contained_page(content_db: str, accept: str | None, lane: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    with api_client(content_db, lane=lane) as client:
        response = client.get("/", headers=headers)
        totals = _totals(client)
        ready = client.get("/readyz").json()["corpus"]
        series = client.get("/series").json()
    first_series = (series["items"] if isinstance(series, dict) else series)[0]["slug"]
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert page.startswith("<!doctype html>") and "<title>Aura Knowledge</title>" in page
    assert totals == {"articles": 11, "claims": 54, "sources": 60}
    for label, value in (("Articles", 11), ("Claims", 54), ("Sources", 60), ("Corpus version", ready["version"])):
        assert f"<tr><th>{label}</th><td>{value}</td></tr>" in page
    assert "<tr><th>Last ingest</th><td>20" in page
    for path in ("/docs", "/redoc", "/llms.txt", "/agents/feeds/manifest.json", "/agents/feeds/claims.jsonl", "/mcp"):
        assert f'href="{path}"' in page
    # No external asset, and nothing that would load one: no script, stylesheet link, image, font or frame.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page)
    assert "url(" not in page and "@import" not in page and "@font-face" not in page
    assert all(href.startswith("/") for href in re.findall(r'href="([^"]*)"', page))
    # A curl example for each kind of user, with a topic and a series the corpus holds.
    assert page.count("curl -s &quot;$GARDEN/") == 3
    assert "$GARDEN/claims?topic=" in page and "$GARDEN/articles?limit=5" in page
    assert f"$GARDEN/series/{first_series}&quot;" in page


def test_a_program_gets_json_with_the_same_counts_and_links(content_db: str) -> None:
    with api_client(content_db) as client:
        response = client.get("/", headers={"Accept": "application/json"})
        html = client.get("/").text
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        corpus = body["corpus"]
        assert {k: corpus[k] for k in ("articles", "claims", "sources")} == _totals(client)
        assert corpus["version"] == int(response.headers["x-corpus-version"])
        assert corpus["ingestedAt"].endswith("Z")
        links = body["links"]
        for key in ("docs", "redoc", "llmsTxt", "mcp", "feedsManifest", "claimsFeed", "agentIndex"):
            assert links[key].startswith("/"), key
            assert f'href="{links[key]}"' in html  # the page shows the same links
        for key, url in links.items():
            if key != "mcp":  # MCP takes POSTed JSON-RPC
                assert client.get(url).status_code == 200, url
        assert [example["user"] for example in body["examples"]] == ["agent", "frontend", "script"]
        for example in body["examples"]:  # every example answers, with something in it
            answer = client.get(example["url"])
            assert answer.status_code == 200, example
            assert answer.json().get("items") or answer.json().get("members"), example
            assert example["command"] == f'curl -s "$GARDEN{example["url"]}"'


def test_counts_follow_the_callers_visibility(content_db: str) -> None:
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        anonymous = client.get("/", headers={"Accept": "application/json"}).json()["corpus"]
        preview = client.get("/", headers={"Accept": "application/json", "Authorization": f"Bearer {TOKEN}"})
        assert preview.headers["cache-control"] == "private, no-store"
        counts = preview.json()["corpus"]
        assert {k: counts[k] for k in ("articles", "claims", "sources")} == _totals(client, preview=True)
    assert counts["articles"] == 13 and anonymous["articles"] == 11


def test_cacheable_per_representation(content_db: str) -> None:
    """ETag, 304 and HEAD as elsewhere; the tag names the representation, so a JSON tag never confirms the page,
    and the in-process response cache never answers one Accept with the other's body."""
    json_accept = {"Accept": "application/json"}
    with api_client(content_db) as client:
        for _ in range(2):  # the second round would come from the response cache, were it kept there
            page, document = client.get("/"), client.get("/", headers=json_accept)
            assert page.headers["content-type"].startswith("text/html")
            assert document.headers["content-type"] == "application/json"
        assert page.headers["etag"] != document.headers["etag"]
        for response in (page, document):
            assert response.headers["cache-control"].startswith("public, max-age=")
            assert "Accept" in response.headers["vary"].split(", ")
            assert response.headers["x-corpus-version"] and response.headers["last-modified"]
        assert client.get("/", headers={"If-None-Match": page.headers["etag"]}).status_code == 304
        assert client.get("/", headers={**json_accept, "If-None-Match": document.headers["etag"]}).status_code == 304
        assert client.get("/", headers={"If-None-Match": document.headers["etag"]}).status_code == 200
        gzipped = client.get("/", headers={"Accept-Encoding": "gzip"})
        assert gzipped.headers["content-encoding"] == "gzip" and gzipped.text == page.text
        head = client.head("/")
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == page.headers["etag"]


def test_values_are_escaped(content_db: str) -> None:
    name = '<script>alert("x")</script> & Co'
    with api_client(content_db, GARDEN_SITE_NAME=name, GARDEN_SITE_DESCRIPTION="<b>bold</b>") as client:
        page = client.get("/").text
        assert client.get("/", headers={"Accept": "application/json"}).json()["name"] == name
    assert "<script>" not in page and "<b>" not in page
    assert "<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</h1>" in page


def test_public_url_makes_links_and_examples_absolute(content_db: str) -> None:
    with api_client(content_db, GARDEN_PUBLIC_URL="https://api.example.org") as client:
        body = client.get("/", headers={"Accept": "application/json"}).json()
    assert body["links"]["docs"] == "https://api.example.org/docs"
    assert body["shell"] == "GARDEN=https://api.example.org"
    assert body["examples"][1]["url"].startswith("https://api.example.org/articles?")


@pytest.mark.parametrize(
    ("headers", "url", "status"),
    [
        ({"Accept": "image/png"}, "/", 406),
        ({"Accept": "application/json;q=0, text/html;q=0"}, "/", 406),
        ({}, "/?x=1", 400),
    ],
    ids=["png", "refused", "unknown-parameter"],
)
def test_what_it_cannot_answer_is_a_problem(content_db: str, headers: dict[str, str], url: str, status: int) -> None:
    with api_client(content_db) as client:
        response = client.get(url, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
