"""/search costs what its page costs (issue 13): statements per request, stop words, common words, windows,
narrow filters and budgets. Not timed: the timings are bench/'s (bench/http_bench.py --cold).

The sample content/ is small, so the tests that need common words shrink the ranking window
(``app.fulltext.query.WINDOWS``) to a few documents: a word in more documents than that is common there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from app.budget import estimate
from app.fulltext import query as fulltext_query
from tests.conftest import api_client, app_statements

SMALL_WINDOW = 4


def _ranking(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "bm25(" in sql or "ts_rank(" in sql]


@pytest.fixture
def client(content_db: str) -> Iterator[TestClient]:
    with api_client(content_db, GARDEN_RESPONSE_CACHE_MB="0") as test_client:
        yield test_client


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[str]:
    return [hit.get("claimId") or hit.get("sourceId") or hit["slug"] for hit in body["items"]]


def test_one_ranking_statement_per_kind_and_a_bounded_count_in_all(client: TestClient) -> None:
    with app_statements() as seen:
        first = _search(client, q="compost soil water", limit=40)
    assert {hit["type"] for hit in first["items"]} >= {"claim", "article"}
    assert len(_ranking(seen)) == 3, "each kind's hits are found by one statement, never walked again"
    assert len(seen) <= 15, seen
    assert first["facets"] is not None and first["totalRelation"] == "eq"

    with app_statements() as seen:
        second = client.get(first["next"]).json()
    assert len(_ranking(seen)) == 3 and len(seen) <= 14, seen
    assert "facets" not in second and second["total"] == first["total"]


def test_stop_words_select_nothing_and_a_word_nothing_holds_answers_at_once(client: TestClient) -> None:
    for query in ("the and of", "xylophonezzz", "the xylophonezzz"):
        with app_statements() as seen:
            body = _search(client, q=query)
        assert body["items"] == [] and body["total"] == 0 and body["next"] is None, query
        assert _ranking(seen) == [], f"{query}: nothing to rank, so no ranking statement"
    assert _ids(_search(client, q="the compost and the", limit=50)) == _ids(_search(client, q="compost", limit=50))


def test_a_common_word_does_not_select_documents_beside_a_rarer_one(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext_query, "WINDOWS", dict.fromkeys(fulltext_query.WINDOWS, SMALL_WINDOW))
    alone = _search(client, q="corridors", limit=50)
    assert 0 < alone["total"] <= SMALL_WINDOW and alone["totalRelation"] == "eq"
    assert _ids(_search(client, q="soil corridors garden", limit=50)) == _ids(alone)


def test_common_words_alone_rank_a_window_and_say_the_total_is_a_floor(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = _search(client, q="soil", type="claims", limit=100)
    assert exact["total"] > SMALL_WINDOW and exact["totalRelation"] == "eq"
    monkeypatch.setattr(fulltext_query, "WINDOWS", dict.fromkeys(fulltext_query.WINDOWS, SMALL_WINDOW))
    windowed = _search(client, q="soil", type="claims", limit=100)
    assert windowed["total"] == SMALL_WINDOW and windowed["totalRelation"] == "gte"
    assert len(windowed["items"]) == SMALL_WINDOW and windowed["next"] is None
    assert set(_ids(windowed)) <= set(_ids(exact))
    scores = [hit["score"] for hit in windowed["items"]]
    assert scores == sorted(scores, reverse=True)
    # Two common words: the documents holding both.
    both = _search(client, q="soil garden", type="claims", limit=100, include="evidence,counterevidence")
    assert both["items"], "some claims hold both words"
    for hit in both["items"]:
        text = " ".join([hit["claim"], *(e["snippet"] for e in hit["evidence"]),
                         *(c["summary"] for c in hit["counterevidence"])]).lower()  # fmt: skip
        assert "soil" in text and "garden" in text, hit["claimId"]


def test_a_narrow_filter_finds_its_own_documents_however_full_the_window(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    slugs = {hit["slug"] for hit in _search(client, q="soil", type="claims", limit=100)["items"]}
    monkeypatch.setattr(fulltext_query, "WINDOWS", dict.fromkeys(fulltext_query.WINDOWS, SMALL_WINDOW))
    windowed = {hit["slug"] for hit in _search(client, q="soil", type="claims", limit=100)["items"]}
    assert slugs - windowed, "the test needs an article whose hits the window leaves out"
    for slug in slugs:
        body = _search(client, q="soil", type="claims", article=slug, limit=100)
        assert body["items"] and {hit["slug"] for hit in body["items"]} == {slug}, slug


def test_a_budgeted_search_returns_the_best_hits_that_fit_and_drops_facets_that_do_not(client: TestClient) -> None:
    full = _search(client, q="soil", type="claims", limit=20)
    one = client.get("/search", params={"q": "soil", "type": "claims", "limit": 1}).json()
    facets = one.pop("facets")
    budget = estimate(orjson.dumps(one)) + 10  # room for the first hit and the envelope, not for the facets too
    assert estimate(orjson.dumps(facets)) > 10
    response = client.get("/search", params={"q": "soil", "type": "claims", "limit": 20, "max_tokens": budget})
    assert response.status_code == 200, response.text
    body = response.json()
    assert int(response.headers["x-token-estimate"]) <= budget
    assert body["items"] and body["truncated"] is True and "facets" not in body
    assert _ids(body) == _ids(full)[: len(body["items"])]


def test_kinds_searched_together_count_their_own_documents(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fulltext_query, "WINDOWS", dict.fromkeys(fulltext_query.WINDOWS, 30))
    sources = _search(client, q="soil bees", type="sources", limit=100)
    both = _search(client, q="soil bees", type="articles,sources", limit=100)
    assert {hit["sourceId"] for hit in sources["items"]} <= {hit.get("sourceId") for hit in both["items"]}


def test_a_query_without_a_word_is_a_422_and_stop_words_alone_an_empty_page(client: TestClient) -> None:
    for query in ("___", "!!! ?", "_ __"):
        response = client.get("/search", params={"q": query})
        assert response.status_code == 422 and response.json()["parameter"] == "q", query
    assert _search(client, q="the of and")["items"] == []


@pytest.mark.parametrize("among", [False, True])
def test_postgresql_reads_a_window_from_the_kinds_index_not_a_scan_that_stops_at_its_end(among: bool) -> None:
    """PostgreSQL: a kind's matches are a MATERIALIZED CTE without a LIMIT (read only as far as the window, but
    planned for all its rows: from the kind's GIN index); the window's LIMIT is outside it. Under the LIMIT the
    planner chose a sequential scan stopping at the window's end, from a word's frequency over every kind (a
    word common in claims, rare in sources: 48,519 sources estimated, 1,351 there, 600,000 rows read, 370 ms)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from app.queries.common import SOURCE

    ids = select(SOURCE.c.id) if among else None
    hits = fulltext_query.hits("postgresql", "source", public=True, among=ids)
    sql = " ".join(str(hits.compile(dialect=postgresql.dialect())).split())
    found, _, outer = sql.partition(") SELECT ")
    assert found.startswith("WITH found AS MATERIALIZED (SELECT search_fts.ref AS ref, search_fts.document"), sql
    assert "LIMIT" not in found and "@@ to_tsquery" in found and "search_fts.kind =" in found, sql
    assert "ts_rank(" in outer and "FROM found LIMIT" in outer, sql
