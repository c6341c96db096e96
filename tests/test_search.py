"""/search: relevance, safety for any query string, budgets and facets, on our content/ (and relevance on the
publisher's corpus too, where ../shared is there: 483 claims are a harder ranking than ours)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CONTENT, EXPECTED, api_client, need_shared
from tests.oracle import read_tree

WORD = re.compile(r"[A-Za-z]{4,}")


def _claims(dataset: str = "content") -> list[dict]:
    """The public claims as feed rows: the publisher's claims.jsonl, or built from content/ by tests/oracle.py."""
    if dataset == "corpus":
        lines = (need_shared(EXPECTED) / "agents/feeds/claims.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]
    return [row for article in read_tree(CONTENT) if article.public for row in article.claim_rows()]


def _distinctive_queries(claims: list[dict], count: int = 20, words: int = 4) -> list[tuple[str, str]]:
    """(query, claimId) for ``count`` claims spread over the feed: each claim's rarest words across all claims."""
    document_frequency = Counter(word for claim in claims for word in {w.lower() for w in WORD.findall(claim["claim"])})
    step = len(claims) // count
    queries = []
    for claim in claims[::step][:count]:
        unique = list(dict.fromkeys(w.lower() for w in WORD.findall(claim["claim"])))
        rarest = sorted(unique, key=lambda w: (document_frequency[w], w))[:words]
        queries.append((" ".join(rarest), claim["claimId"]))
    return queries


@pytest.mark.parametrize("dataset", ["content", "corpus"])
def test_a_claim_ranks_first_for_its_own_distinctive_words(
    request: pytest.FixtureRequest, backend: str, dataset: str
) -> None:
    # ``backend`` is asked for so that the database fixture picked by name runs on each backend.
    queries = _distinctive_queries(_claims(dataset))
    assert len(queries) == 20
    first = []
    with api_client(request.getfixturevalue(f"{dataset}_db")) as client:
        for query, claim_id in queries:
            response = client.get("/search", params={"q": query, "type": "claims", "limit": 5})
            assert response.status_code == 200, response.text
            top = response.json()["items"]
            first.append(bool(top) and top[0]["claimId"] == claim_id)
    print(f"{sum(first)} of {len(first)} claims ranked first")
    assert sum(first) >= 18, [q for q, hit in zip(queries, first, strict=True) if not hit]


def test_hits_carry_type_score_snippet_and_their_row(content_db: str) -> None:
    rows = {claim["claimId"]: claim for claim in _claims()}
    with api_client(content_db) as client:
        body = client.get("/search", params={"q": "soil compost", "limit": 50}).json()
    kinds = {hit["type"] for hit in body["items"]}
    assert {"claim", "article"} <= kinds
    scores = [hit["score"] for hit in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for hit in body["items"]:
        assert "<mark>" in hit["snippet"]
        if hit["type"] == "claim":
            assert {k: hit[k] for k in rows[hit["claimId"]]} == rows[hit["claimId"]]  # the /claims row, unchanged
            assert hit["state"] in ("verified", "contested", "stale")
        if hit["type"] == "article":
            assert hit["articleUrl"].endswith(f"/articles/{hit['slug']}/")
    assert set(body["facets"]) == {"confidence", "state", "topic", "series"}
    claim_total = client_total = sum(f["count"] for f in body["facets"]["confidence"])
    assert client_total == claim_total > 0


def test_facets_count_the_matching_claims(content_db: str) -> None:
    with api_client(content_db) as client:
        body = client.get("/search", params={"q": "soil", "type": "claims", "limit": 500}).json()
    hits = body["items"]
    assert body["total"] == len(hits) > 5
    assert {f["confidence"]: f["count"] for f in body["facets"]["confidence"]} == Counter(h["confidence"] for h in hits)
    assert {f["state"]: f["count"] for f in body["facets"]["state"]} == Counter(h["state"] for h in hits)
    series = Counter(h["series"]["slug"] for h in hits if h["series"])
    assert {f["series"]: f["count"] for f in body["facets"]["series"]} == series
    topics = Counter(t for h in hits for t in set(h["topics"]))
    assert {f["topic"]: f["count"] for f in body["facets"]["topic"]} == topics


def test_claim_filters_apply_to_hits(content_db: str) -> None:
    with api_client(content_db) as client:
        body = client.get("/search", params={"q": "soil", "confidence": "high", "topic": "soil-health"}).json()
        assert body["items"] and all(h["type"] == "claim" and h["confidence"] == "high" for h in body["items"])
        assert all("soil-health" in h["topics"] for h in body["items"])
        unfiltered = client.get("/search", params={"q": "soil", "type": "claims", "limit": 500}).json()["items"]
        assert len(unfiltered) > len(body["items"])  # the filters took some hits away
        sources = client.get("/search", params={"q": "guide", "type": "sources", "limit": 5}).json()["items"]
        assert sources and all(h["type"] == "source" and "sourceType" in h for h in sources)


@pytest.mark.parametrize("budget", [800, 1500, 4000])
def test_budgeted_search_never_exceeds_and_cursors_yield_every_hit_once(content_db: str, budget: int) -> None:
    with api_client(content_db) as client:
        everything = client.get("/search", params={"q": "soil water", "limit": 500}).json()
        expected = [
            (h["type"], h.get("claimId") or h.get("sourceId") or h["slug"], h.get("slug")) for h in everything["items"]
        ]
        assert len(everything["items"]) > 10
        seen, url, pages = [], f"/search?q=soil+water&limit=40&max_tokens={budget}", 0
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text
            assert int(response.headers["x-token-estimate"]) <= budget
            body = response.json()
            seen += [
                (h["type"], h.get("claimId") or h.get("sourceId") or h["slug"], h.get("slug")) for h in body["items"]
            ]
            url, pages = body["next"], pages + 1
        assert seen == expected
        assert pages > 1 or budget == 4000


@pytest.mark.parametrize(
    "path", ["/claims?topic=soil-health", "/articles/native-plants-for-bees/claims?include=evidence"]
)
@pytest.mark.parametrize("budget", [500, 1000, 2500])
def test_budgeted_lists_never_exceed_and_walk_every_item_once(content_db: str, path: str, budget: int) -> None:
    with api_client(content_db) as client:
        full_path = path + "&limit=500" if path.startswith("/claims") else path
        full = [item["claimId"] for item in client.get(full_path).json()["items"]]
        seen, url, truncated = [], f"{path}&max_tokens={budget}", []
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text
            assert int(response.headers["x-token-estimate"]) <= budget
            body = response.json()
            seen += [item["claimId"] for item in body["items"]]
            truncated.append(body["truncated"])
            url = body["next"]
        assert seen == full
        assert truncated[-1] is False and all(truncated[:-1])


def test_budgeted_brief_returns_whole_sections(content_db: str) -> None:
    with api_client(content_db) as client:
        whole = client.get("/articles/native-plants-for-bees/brief").json()["sections"]
        seen, url = [], "/articles/native-plants-for-bees/brief?max_tokens=300"
        while url:
            response = client.get(url)
            assert int(response.headers["x-token-estimate"]) <= 300
            body = response.json()
            seen += body["sections"]
            url = body["next"]
        assert seen == whole


def test_a_budget_too_small_for_one_item_says_what_would_do(content_db: str) -> None:
    with api_client(content_db) as client:
        response = client.get("/claims", params={"max_tokens": 10})
        assert response.status_code == 422
        body = response.json()
        assert body["parameter"] == "max_tokens" and body["needed"] > 10
        assert client.get("/claims", params={"max_tokens": body["needed"]}).status_code == 200


@pytest.mark.parametrize(
    "query",
    ['"', '"unbalanced', "(((", "a AND", "OR", "NEAR(a b)", "col:value", "*", "-x", "^", "日本語", "🌱", "x" * 500,
     "\u0000", "' OR 1=1 --", "%", "_"],
)  # fmt: skip
def test_any_query_string_is_an_answer_or_a_clear_400(content_db: str, query: str) -> None:
    with api_client(content_db) as client:
        response = client.get("/search", params={"q": query})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["parameter"] == "q"


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(query=st.text(max_size=60))
def test_property_no_query_string_causes_a_5xx(content_db: str, query: str) -> None:
    with api_client(content_db) as client:
        response = client.get("/search", params={"q": query, "limit": 3})
    assert response.status_code < 500, (query, response.text)
    assert response.status_code in (200, 422)


def test_search_follows_every_ingest(tmp_path: Path, db_url: str) -> None:
    import shutil

    from tests.conftest import after_reingest, ingest_json

    tree = tmp_path / "repo"
    shutil.copytree(CONTENT, tree / "content")
    assert ingest_json(tree, db_url=db_url)[0] == 0
    with api_client(db_url) as client:
        first = client.get("/search", params={"q": "zyzzyvaquark"})
        assert first.json()["total"] == 0
        artifact = next((tree / "content/articles").glob("*/rainwater-harvesting-for-small-gardens/artifact.json"))
        data = json.loads(artifact.read_text(encoding="utf-8"))
        data["claims"][0]["claim"] = "A zyzzyvaquark barrel holds the first flush of every storm."
        artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        assert ingest_json(tree, db_url=db_url)[0] == 0
        version = int(first.headers["x-corpus-version"])
        hits = after_reingest(client, "/search", version, params={"q": "zyzzyvaquark"}).json()["items"]
        assert [h["claimId"] for h in hits] == ["article:rainwater-harvesting-for-small-gardens:claim-001"]
        assert math.isfinite(hits[0]["score"])


JSON_PATHS = ["/healthz", "/readyz", "/articles?limit=3", "/claims/article:native-plants-for-bees:claim-001",
              "/search?q=bees", "/agents/index.json", "/articles/nope", "/claims?bogus=1"]  # fmt: skip


@pytest.mark.parametrize("path", JSON_PATHS)
def test_every_json_response_carries_its_token_estimate(content_db: str, path: str) -> None:
    from app.budget import estimate

    with api_client(content_db) as client:
        response = client.get(path)
    assert "json" in response.headers["content-type"]
    assert int(response.headers["x-token-estimate"]) == estimate(response.content) > 0
