"""Differential leak test: an anonymous caller of a server holding hidden articles gets exactly the answers of a
server that never held them (app.queries.common.hides: draft or review in front matter or artifact).

Tree A is the bundled content/ plus four hidden articles written here: a draft in front matter only (artifact
published), a review in the artifact only, a draft in both, and one archived in its artifact but in review in
its front matter (the stricter wins: hidden, so a 404 and not a 410). Each has distinctive words in its title,
thesis, claims, sources and brief, topics and tags of its own and shared with public articles, an audience no
public article has, a place in a public series (at an order a public member holds, or as a second guide) or in
a series of its own, a source id a public article also uses, and related links to public articles. Tree B is
content/ alone. Each is ingested once into a database of its own; both then get the same corpus version and
the same ingest time (written into the corpus row: the moment of an ingest says nothing about what it holds),
and both servers run with the same settings (GARDEN_TODAY, a preview token, the response cache off).

Every anonymous answer is then compared, body byte for byte and every header but ``date``:

* every GET route of the OpenAPI document, with its path parameters drawn from both trees' slugs, claim ids,
  (article, source) pairs, topics and series, the hidden ones included (a 404 on both sides), and every list
  filter with each value the trees hold (hidden topics, tags, audiences, series, sources, URLs, words) and
  every enum value; list pages followed through their ``next`` links;
* every agent file: /agents/*, /graph/*, /llms.txt, the feeds, the packets and topic files, /readyz;
* MCP (JSON-RPC over /mcp): tools/list, the resource templates and resources, every tool with arguments
  drawing on the same values (hidden ids included), and resources/read of every article, claim and brief;
* search (``test_search_answers_are_the_same_with_or_without_hidden_articles``): /search and the MCP tool
  search_claims with the hidden articles' own words and with common ones, bodies compared with their scores
  and facets. NOTE: on SQLite, FTS5's bm25 takes its statistics (document count, average length, how many
  documents hold a word) over the whole index, hidden documents included, so public scores shift when hidden
  articles are stored: that test fails on SQLite until the search index keeps public statistics apart
  (issue 12, "hidden articles do not change public scores", done on another branch in app/queries/search.py
  and app/fulltext.py). It is left strict on purpose.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, update
from sqlalchemy.pool import NullPool

from app import models
from app.models import table
from tests.agent_rules_tree import claim, source, write_article
from tests.conftest import CONTENT, Databases, api_client, ingest_json

TOKEN = "preview-9e0b7d-visibility-leaks"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = {"GARDEN_PREVIEW_TOKEN": TOKEN, "GARDEN_RESPONSE_CACHE_MB": "0"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
HIDDEN = ("quillwort-draft-notes", "mulch-review-xerophyte", "zeppelin-draft-both", "brachiopod-archive-review")
#: Words only the hidden articles use, and words the public articles use too.
HIDDEN_WORDS = ("quillwort", "zymurgy", "xerophyte", "fandangle", "zeppelinwort", "gallimaufry", "brachiopod")
COMMON_WORDS = ("compost", "soil", "bees", "water heat", "garden")
MAX_PAGES = 40


def write_hidden(repo: Path) -> None:
    """The four hidden articles of tree A (see the module docstring), in content/ of ``repo``."""
    write_article(
        repo, "quillwort-draft-notes", year="2025", fm_status="draft", status="published",
        title="Quillwort zymurgy for compost heaps", topics=["composting", "quillwort-ecology"],
        tags=["zymurgy-tag", "pollinators"], published_at="2026-09-01", updated_at="2026-10-01",
        sources=[source("source-cornell-composting", "Quillwort composting ledger", "ledger",
                        url="https://example.org/quillwort-ledger"),
                 source("source-quillwort-1", "Zymurgy survey of quillwort", "zymurgy-survey")],
        claims=[claim("claim-001", "Quillwort zymurgy doubles compost heat in seven days.",
                      ["source-cornell-composting", "source-quillwort-1"], confidence="high"),
                claim("claim-002", "Quillwort mats keep soil water for zymurgy.", ["source-quillwort-1"],
                      verification=None)],
        related=[("article", "article:soil-from-the-ground-up"), ("topic", "topic:composting")],
        brief="Quillwort zymurgy brief: compost heat and soil water, cite source-quillwort-1.",
        extra={"series": {"slug": "soil-from-the-ground-up", "title": "Soil from the Ground Up",
                          "season": "Season 1", "order": 1, "role": "chapter"}},
    )  # fmt: skip
    write_article(
        repo, "mulch-review-xerophyte", fm_status="published", status="review",
        title="Xerophyte fandangle beds for bees", topics=["soil-health", "xerophyte-beds", "pollinators"],
        tags=["fandangle"], published_at="2026-08-01", updated_at="2026-10-02",
        sources=[source("source-xerophyte-1", "Fandangle field notes on xerophyte bees", "field-notes"),
                 source("source-001", "Xerophyte rain gauge", "gauge")],
        claims=[claim("claim-001", "Xerophyte fandangle beds feed bees in drought.",
                      ["source-xerophyte-1", "source-001"], verification="contested")],
        related=[("article", "article:pollinator-corridors"), ("article", "article:native-plants-for-bees")],
        brief="Xerophyte fandangle brief for bees and water in drought.",
        extra={"series": {"slug": "pollinator-corridors", "title": "Pollinator Corridors", "order": 0,
                          "role": "guide"}},
    )  # fmt: skip
    write_article(
        repo, "zeppelin-draft-both", fm_status="draft", status="draft",
        title="Zeppelinwort gallimaufry of soil life", topics=["biodiversity", "gallimaufry-studies"],
        tags=["zeppelin-tag"], published_at="2026-07-20", updated_at="2026-10-03",
        sources=[source("source-zeppelin-1", "Gallimaufry census of zeppelinwort", "census")],
        claims=[claim("claim-001", "Zeppelinwort gallimaufry shelters soil fungi and bees.",
                      ["source-zeppelin-1"], verification="stale")],
        related=[("article", "article:the-living-soil-food-web"), ("topic", "topic:biodiversity")],
        brief="Zeppelinwort gallimaufry brief about soil life.",
        extra={"series": {"slug": "zeppelin-secret-series", "title": "Zeppelin secret series", "order": 0,
                          "role": "guide"}},
    )  # fmt: skip
    write_article(
        repo, "brachiopod-archive-review", fm_status="review", status="archived",
        title="Brachiopod water butts", topics=["water", "brachiopod-hydrology"], tags=["brachiopod-tag"],
        updated_at="2026-10-04",
        sources=[source("source-brachiopod-1", "Brachiopod water ledger", "ledger")],
        claims=[claim("claim-001", "Brachiopod water butts store rain heat.", ["source-brachiopod-1"])],
        related=[("article", "article:rainwater-harvesting-for-small-gardens")],
        brief="Brachiopod brief on water butts.",
        extra={"series": {"slug": "soil-from-the-ground-up", "title": "Soil from the Ground Up",
                          "season": "Season 1", "order": 7, "role": "chapter"}},
    )  # fmt: skip


@dataclass
class Trees:
    """The databases of tree A (content/ + hidden) and tree B (content/)."""

    a: str
    b: str


@pytest.fixture(scope="module")
def trees(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Trees:
    repo = tmp_path_factory.mktemp("leaks") / "a"
    shutil.copytree(CONTENT, repo / "content")
    write_hidden(repo)
    dbs = Trees(databases.new("leaks_a"), databases.new("leaks_b"))
    for path, db_url in ((repo / "content", dbs.a), (CONTENT, dbs.b)):
        code, report = ingest_json(path, db_url=db_url)
        assert code == 0 and report["corpusVersion"] == 1, report["errors"]
    corpus = table(models.Corpus)
    engines = [create_engine(url, poolclass=NullPool) for url in (dbs.a, dbs.b)]
    try:
        with engines[0].connect() as conn:
            moment = conn.execute(select(corpus.c.ingested_at)).scalar_one()
        with engines[1].begin() as conn:
            conn.execute(update(corpus).values(ingested_at=moment))
    finally:
        for engine in engines:
            engine.dispose()
    return dbs


# --- what to ask -----------------------------------------------------------------------------------------------


@dataclass
class Pools:
    """Every value tree A holds (a superset of B's), read with the preview token."""

    slugs: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, *items: Any) -> None:
        bucket = self.values.setdefault(name, [])
        for item in items:
            if item is not None and str(item) not in bucket:
                bucket.append(str(item))


def read_pools(client: TestClient) -> Pools:
    pools = Pools()
    articles = client.get("/articles?limit=500", headers=BEARER).json()["items"]
    assert set(HIDDEN) <= {a["slug"] for a in articles}
    for item in articles:
        pools.slugs.append(item["slug"])
        pools.add("topic", *item["topics"])
        pools.add("tag", *item["tags"])
        pools.add("audience", *item["audiences"])
        pools.add("series", (item["series"] or {}).get("slug"))
    pools.add("series", "no-such-series")
    for item in client.get("/claims?limit=500", headers=BEARER).json()["items"]:
        pools.claim_ids.append(item["claimId"])
    for item in client.get("/sources?limit=500", headers=BEARER).json()["items"]:
        pools.pairs.append((item["slug"], item["sourceId"]))
        pools.add("source", item["sourceId"])
        pools.add("source_type", item["type"])
        pools.add("url", item["url"])
    pools.add("q", *HIDDEN_WORDS, *COMMON_WORDS, "draft", "review")
    return pools


def _enums(schema: Any, components: dict[str, Any]) -> list[Any]:
    """The enum values (or true/false) a parameter's schema allows, $refs followed."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _enums(components[schema["$ref"].rsplit("/", 1)[1]], components)
        if "enum" in schema:
            return list(schema["enum"])
        if schema.get("type") == "boolean":
            return ["true", "false"]
        found: list[Any] = []
        for value in schema.values():
            found += [v for v in _enums(value, components) if v not in found]
        return found
    if isinstance(schema, list):
        return [v for item in schema for v in _enums(item, components)]
    return []


#: A query parameter's pool, by name (per path where the name means something else).
FILTER_POOLS = {"topic": "topic", "tag": "tag", "series": "series", "audience": "audience", "source": "source",
                "source_type": "source_type", "url": "url", "q": "q"}  # fmt: skip
SKIPPED = {"limit", "cursor", "max_tokens", "fields"}  # paging: exercised by following next links


def with_query(path: str, *pairs: tuple[str, str]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _path_urls(template: str, pools: Pools) -> list[str]:
    """Every URL of a templated path, from the pools (an unknown parameter fails: a new route needs a pool)."""
    if "{source_id}" in template:
        return [template.format(slug=slug, source_id=sid) for slug, sid in pools.pairs]
    if "{claim_id}" in template:
        return [template.format(claim_id=cid) for cid in pools.claim_ids]
    if "{topic}" in template:
        return [template.format(topic=topic) for topic in pools.values["topic"]]
    if template.startswith("/series/"):
        return [template.format(slug=slug) for slug in pools.values["series"]]
    if "{page}" in template:  # the numbered sitemaps: the first, and one past the last
        return [template.format(page=page) for page in (1, 2)]
    assert template.count("{") == 1 and "{slug}" in template, f"no pool for the parameters of {template}"
    slugs = [*pools.slugs, *(f"article:{slug}" for slug in HIDDEN)]
    return [template.format(slug=slug) for slug in slugs]


def _filter_urls(path: str, operation: dict[str, Any], pools: Pools, components: dict[str, Any]) -> list[str]:
    """The list ``path`` alone and with each filter value; /search always with a word."""
    base: tuple[tuple[str, str], ...] = (("q", "soil"),) if path == "/search" else ()
    urls = [with_query(path, *base)]
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] != "query" or name in SKIPPED:
            continue
        if name in ("article", "related_to"):
            values = [*pools.slugs, *(f"article:{slug}" for slug in HIDDEN)]
        elif path == "/sources" and name == "type":
            values = pools.values["source_type"]
        elif name in FILTER_POOLS:
            values = pools.values[FILTER_POOLS[name]]
        elif "since" in name or "until" in name:
            values = ["2026-06-15", "2026-09-15"]
        else:
            values = _enums(parameter["schema"], components)
            assert values, f"no values for {path}?{name}"
        rest = [pair for pair in base if pair[0] != name]
        urls += [with_query(path, *rest, (name, str(value))) for value in values]
    return urls


def rest_urls(client: TestClient, pools: Pools) -> list[str]:
    """Every GET route of the OpenAPI document, with every path parameter and every list filter value."""
    document = client.get("/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    urls = ["/openapi.json", "/docs"]
    for path, item in document["paths"].items():
        if "get" not in item or "text/event-stream" in item["get"]["responses"]["200"].get("content", {}):
            continue  # an event stream (/changes/stream) never ends: tests/test_change_stream.py reads it
        urls += _path_urls(path, pools) if "{" in path else _filter_urls(path, item["get"], pools, components)
    for slug in pools.slugs:
        urls += [f"/articles/{slug}/claims?include=evidence,counterevidence,sources&max_tokens=400",
                 f"/articles/{slug}/brief?max_tokens=120"]  # fmt: skip
    urls += ["/articles?fields=slug,title,series", "/claims?include=evidence,counterevidence,sources&limit=500",
             "/articles?related_to=soil-from-the-ground-up", "/articles?related_to=pollinator-corridors"]  # fmt: skip
    return [url for url in urls if not url.startswith("/search")]


def page_starts() -> list[str]:
    """Lists read page by page through their next links."""
    return [
        "/articles?limit=3", "/articles?limit=2&sort=title", "/articles?limit=2&sort=series",
        "/articles?limit=4&sort=-updated", "/articles?limit=2&topic=composting", "/claims?limit=7",
        "/claims?max_tokens=400", "/claims?limit=3&topic=biodiversity", "/sources?limit=9",
        "/sources?limit=4&type=ledger",
    ]  # fmt: skip


def search_urls(pools: Pools) -> list[str]:
    urls = []
    for word in pools.values["q"]:
        urls.append(with_query("/search", ("q", word)))
        urls += [with_query("/search", ("q", word), ("type", kind)) for kind in ("claims", "articles", "sources")]
        urls.append(with_query("/search", ("q", word), ("limit", "3")))
    for name in ("topic", "series"):
        urls += [with_query("/search", ("q", "soil bees"), (name, value)) for value in pools.values[name]]
    urls += [with_query("/search", ("q", "compost"), ("article", slug)) for slug in pools.slugs]
    urls += [with_query("/search", ("q", "heat"), ("state", state)) for state in ("verified", "contested", "stale")]
    return urls


def mcp_calls(pools: Pools) -> list[tuple[str, dict[str, Any]]]:
    """(method, params) of every MCP request but search."""
    calls: list[tuple[str, dict[str, Any]]] = [("tools/list", {}), ("resources/templates/list", {}),
                                               ("resources/list", {})]  # fmt: skip

    def tool(name: str, **arguments: Any) -> None:
        calls.append(("tools/call", {"name": name, "arguments": arguments}))

    tool("list_series")
    tool("list_topics")
    tool("search_claims")
    tool("search_claims", limit=5)
    for cid in pools.claim_ids:
        tool("get_claim", claim_id=cid)
        calls.append(("resources/read", {"uri": f"claim://{cid}"}))
    for slug in [*pools.slugs, *(f"article:{slug}" for slug in HIDDEN)]:
        tool("get_article", slug=slug)
        tool("get_brief", slug=slug)
        tool("search_claims", article=slug)
        calls.append(("resources/read", {"uri": f"article://{slug}"}))
        calls.append(("resources/read", {"uri": f"brief://{slug}"}))
    for name in ("topic", "series", "source"):
        for value in pools.values[name]:
            tool("search_claims", **{name: value})
    for value in pools.values["series"]:
        tool("get_series", slug=value)
    return calls


def search_mcp_calls(pools: Pools) -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for word in pools.values["q"]:
        calls.append(("tools/call", {"name": "search_claims", "arguments": {"query": word}}))
    for topic in pools.values["topic"]:
        calls.append(("tools/call", {"name": "search_claims", "arguments": {"query": "soil bees", "topic": topic}}))
    return calls


# --- asking and comparing ----------------------------------------------------------------------------------------

Answer = tuple[int, list[tuple[str, str]], bytes]


def _answer(response: Any) -> Answer:
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, headers, response.content


def ask(
    client: TestClient, urls: list[str], pages: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> dict[str, Answer]:
    """Every anonymous answer, by what was asked."""
    answers: dict[str, Answer] = {}
    for url in urls:
        answers[url] = _answer(client.get(url))
    for start in pages:
        url: str | None = start
        for number in range(MAX_PAGES):
            if url is None:
                break
            response = client.get(url)
            answers[f"{start} page {number}"] = _answer(response)
            url = response.json().get("next") if response.status_code == 200 else None
    for number, (method, params) in enumerate(calls):
        body = {"jsonrpc": "2.0", "id": number, "method": method, "params": params}
        response = client.post("/mcp", content=orjson.dumps(body), headers=MCP_HEADERS)
        answers[f"mcp {method} {orjson.dumps(params).decode()}"] = _answer(response)
    return answers


def differences(a: dict[str, Answer], b: dict[str, Answer]) -> list[str]:
    assert a.keys() == b.keys()
    out = []
    for key, (status, headers, body) in a.items():
        other = b[key]
        if (status, body) != (other[0], other[2]):
            out.append(f"{key}: A {status} {body[:300]!r}\n   B {other[0]} {other[2][:300]!r}")
        elif headers != other[1]:
            out.append(f"{key}: headers differ: {sorted(set(headers) ^ set(other[1]))}")
    return out


def compare(trees: Trees, plan: Any) -> tuple[dict[str, Answer], list[str]]:
    """Ask both servers what ``plan(client, pools)`` lists; the answers of A and what differs from B."""
    with api_client(trees.a, **SETTINGS) as client:
        pools = read_pools(client)
        urls, pages, calls = plan(client, pools)
        on_a = ask(client, urls, pages, calls)
    with api_client(trees.b, **SETTINGS) as client:
        on_b = ask(client, urls, pages, calls)
    return on_a, differences(on_a, on_b)


# --- the tests -------------------------------------------------------------------------------------------------


def test_every_anonymous_answer_is_the_same_with_or_without_hidden_articles(trees: Trees) -> None:
    """REST (every OpenAPI GET route, every filter, pages), the agent files, /readyz and MCP."""

    def plan(client: TestClient, pools: Pools) -> tuple[list[str], list[str], list[tuple[str, dict[str, Any]]]]:
        return rest_urls(client, pools), page_starts(), mcp_calls(pools)

    answers, different = compare(trees, plan)
    print(f"compared {len(answers)} anonymous answers of each server")
    assert len(answers) > 1000
    assert different == [], "\n".join(different[:25]) + f"\n… {len(different)} differ"
    for slug in HIDDEN:  # and the hidden articles are unknown, not gone
        assert answers[f"/articles/{slug}"][0] == 404
        assert answers[f"/agents/articles/{slug}.json"][0] == 404
    assert answers["/articles/hot-composting-in-seven-days"][0] == 410  # archived, as the publisher lists it
    assert b"hot-composting-in-seven-days" in answers["/agents/verification-report.json"][2]


def test_search_answers_are_the_same_with_or_without_hidden_articles(trees: Trees) -> None:
    """/search and MCP search_claims: hits, order, totals, snippets, scores and facets. On SQLite this fails
    until public scores stop counting hidden documents (see the module docstring)."""

    def plan(_client: TestClient, pools: Pools) -> tuple[list[str], list[str], list[tuple[str, dict[str, Any]]]]:
        return search_urls(pools), ["/search?q=soil+bees+water&limit=4"], search_mcp_calls(pools)

    answers, different = compare(trees, plan)
    assert len(answers) > 100
    assert different == [], "\n".join(different[:25]) + f"\n… {len(different)} differ"


def test_the_preview_token_shows_the_hidden_articles_everywhere(trees: Trees) -> None:
    """The other side of the rule: with the token the hidden articles are there, so the anonymous answers above
    are equal because they are filtered, not because the hidden articles failed to load."""
    with api_client(trees.a, **SETTINGS) as client:
        for slug in HIDDEN:
            assert client.get(f"/articles/{slug}", headers=BEARER).status_code == 200
        report = client.get("/agents/verification-report.json", headers=BEARER).json()
        assert set(HIDDEN) <= {a["slug"] for a in report["articles"]}
        catalog = client.get("/agents/garden-queries.json", headers=BEARER).content
        assert b"quillwort-draft-notes" in catalog  # front matter draft, artifact published: "published (A)"
        assert b"zeppelin-draft-both" not in catalog
        readyz = client.get("/readyz", headers=BEARER).json()["corpus"]
        assert readyz["articles"] == client.get("/readyz").json()["corpus"]["articles"] + 2 + len(HIDDEN)
        hits = client.get("/search?q=quillwort", headers=BEARER).json()
        assert hits["total"] > 0
