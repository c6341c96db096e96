"""Paging and plans of /articles, /claims and /sources: a cursor walks every row once, in order, whatever the
page size; ``total`` counts every matching row and ``next``/``Link: rel="next"`` walk them by cursor; every query
plan (app.queries.plan) reads the same rows; later pages run no count; a capped total says it is a lower bound.

The filter tables of tests/test_api_filters_articles.py, _claims.py and _sources.py are walked again here under
each forced plan; the oracle is tests/filters_oracle.py.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests import filters_support as support
from tests.conftest import app_statements
from tests.filters_oracle import Oracle
from tests.filters_support import PAGE_LIMIT, SORTS, _article_order, _expected, per_dataset, tables_on_the_corpus, walk
from tests.test_api_filters_articles import ARTICLE_CASES
from tests.test_api_filters_claims import BUSY_TOPIC, CLAIM_CASES
from tests.test_api_filters_sources import ASER, KANTAR, ODD_URL, SOURCE_CASES, XERCES

# The module-scoped fixtures (a client and an oracle per data set), this module's own.
dataset, client, o = support.dataset, support.client, support.o


# --------------------------------------------------------------------------------------------------------
# Pagination: a small page walks the same rows, once each, as one big page.

CONTENT_PAGED = [
    *((f"/articles?sort={sort}", 3) for sort in SORTS),
    ("/articles?topic=soil-health&sort=title", 2),
    ("/articles?topic=pollinators,water&sort=-updated&fields=slug,title", 2),
    ("/articles?topic=pollinators&topic=water&sort=-updated", 2),
    ("/articles?q=e&sort=series", 3),
    ("/claims", PAGE_LIMIT),
    ("/claims?topic=soil-health&include=evidence", PAGE_LIMIT),
    ("/claims?article=native-plants-for-bees&article=pollinator-corridors", 3),
    ("/claims?article=native-plants-for-bees", 1),
    ("/sources", PAGE_LIMIT),
    ("/sources?cited=true", PAGE_LIMIT),
    # the %20 inside a URL must survive the re-encoding of `next`
    (f"/sources?url={quote(ODD_URL, safe='')},{quote(XERCES, safe='')}", 1),
    (f"/sources?url={quote(ODD_URL, safe='')}&url={quote(XERCES, safe='')}", 1),
]

CORPUS_PAGED = [
    *((f"/articles?sort={sort}", PAGE_LIMIT) for sort in SORTS),
    ("/articles?topic=india&sort=title", PAGE_LIMIT),
    ("/articles?topic=ai-agents,history&sort=-updated&fields=slug,title", PAGE_LIMIT),
    ("/articles?topic=ai-agents&topic=history&sort=-updated", PAGE_LIMIT),
    ("/articles?q=0%25&sort=series", 3),
    ("/claims", PAGE_LIMIT),
    ("/claims?topic=ai-agents&include=evidence", PAGE_LIMIT),
    ("/claims?article=agents&article=tool-use", PAGE_LIMIT),
    ("/claims?article=a-map-of-levers", 1),
    ("/sources", PAGE_LIMIT),
    ("/sources?cited=false", PAGE_LIMIT),
    # the %20 inside a URL must survive the re-encoding of `next`
    (f"/sources?url={quote(KANTAR, safe='')},{quote(ASER, safe='')}", PAGE_LIMIT),
    (f"/sources?url={quote(KANTAR, safe='')}&url={quote(ASER, safe='')}", PAGE_LIMIT),
]


def _url_id(url: str, limit: int) -> str:
    return re.sub(r"url=[^&]*", "url=…", url) + f"-limit{limit}"


@per_dataset("url,limit", {"content": CONTENT_PAGED, "corpus": CORPUS_PAGED}, _url_id)
def test_cursor_walk_returns_every_row_once_in_order(client: TestClient, url: str, limit: int) -> None:
    path, _, query = url.partition("?")
    whole = walk(client, path, query)
    paged = walk(client, path, query, limit=limit)
    assert len(whole) > limit
    assert paged == whole
    key = {"/articles": ("slug",), "/claims": ("claimId",), "/sources": ("slug", "sourceId")}[path]
    assert len({tuple(item[k] for k in key) for item in paged}) == len(paged), "a row came twice"


def test_a_cursor_survives_a_new_limit_but_not_new_filters(client: TestClient) -> None:
    """limit and fields do not change which rows a cursor walks; a filter does, and the cursor is refused."""
    first = client.get("/claims?limit=7").json()
    cursor = first["next"].partition("cursor=")[2]
    rest = client.get(f"/claims?limit=500&cursor={cursor}").json()
    assert first["items"] + rest["items"] == walk(client, "/claims", "")
    refused = client.get(f"/claims?limit=7&topic=water&cursor={cursor}")
    assert refused.status_code == 400 and refused.json()["parameter"] == "cursor"


# --------------------------------------------------------------------------------------------------------
# Plans and totals (app.queries.plan): every plan reads the same rows; later pages do not count.

PLANS = ["walk", "window", "first"]


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """Force one plan for every list: walk the order index; walk 2 index rows, then read the rest from the
    most selective filter (a page that crosses that switch); or read that filter first."""
    from app.queries import plan

    mode = str(request.param)
    chosen = plan.choose

    def choose(filters: Any, everything: int, limit: int) -> tuple[bool, int]:
        _, driver = chosen(filters, everything, limit)
        return mode != "first" or driver < 0, driver

    monkeypatch.setattr(plan, "choose", choose)
    monkeypatch.setattr(plan, "WALK_WINDOW", 2 if mode == "window" else 10**9)
    return mode


@pytest.mark.parametrize("forced", PLANS, indirect=True)
def test_every_plan_reads_the_same_rows(dataset: str, client: TestClient, o: Oracle, forced: str) -> None:
    topic = BUSY_TOPIC[dataset]
    for case in ARTICLE_CASES[dataset]:
        expected = _article_order("-published")(_expected(o.articles, case))
        assert [i["slug"] for i in walk(client, "/articles", case.query, limit=3)] == [a.slug for a in expected], case
    for sort in SORTS:
        expected = _article_order(sort)(o.articles)
        assert [i["slug"] for i in walk(client, "/articles", f"topic={topic}&sort={sort}", limit=5)] == [
            a.slug for a in expected if topic in a.topics
        ], sort
    for case in CLAIM_CASES[dataset]:
        expected = _expected(o.claims, case)
        assert [i["claimId"] for i in walk(client, "/claims", case.query, limit=7)] == [c.id for c in expected], case
    for case in SOURCE_CASES[dataset]:
        expected = [(s.article.slug, s.id) for s in _expected(o.sources, case)]
        assert [(i["slug"], i["sourceId"]) for i in walk(client, "/sources", case.query, limit=7)] == expected, case


def _statements(client: TestClient, url: str) -> tuple[dict[str, Any], list[str]]:
    with app_statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json(), seen


@per_dataset("url", {
    "content": [(url,) for url in (
        "/articles?limit=5", "/articles?topic=soil-health&sort=-updated&limit=2", "/articles?q=bee&sort=title&limit=2",
        "/claims?limit=7", "/claims?topic=soil-health&confidence=high&limit=3",
        "/claims?article=native-plants-for-bees&limit=2", "/sources?limit=7", "/sources?type=paper&cited=true&limit=3",
    )],
    "corpus": [(url,) for url in (
        "/articles?limit=5", "/articles?topic=ai-agents&sort=-updated&limit=5", "/articles?q=india&sort=title&limit=3",
        "/claims?limit=7", "/claims?topic=ai-agents&confidence=high&limit=3", "/claims?article=agents&limit=2",
        "/sources?limit=7", "/sources?type=paper&cited=true&limit=3",
    )],
}, lambda url: url)  # fmt: skip
def test_later_pages_carry_the_total(client: TestClient, url: str) -> None:
    """Page 2 runs no count and no estimate: the first page's total and plan travel in its cursor."""
    first, _ = _statements(client, url)
    assert first["next"], f"{url} has a single page: pick a filter with more rows"
    second, statements = _statements(client, first["next"])
    assert not [sql for sql in statements if "count(" in sql.lower() or "list_count" in sql], statements
    assert (second["total"], second["totalRelation"]) == (first["total"], first["totalRelation"])


ONE_ARTICLE = {"content": "native-plants-for-bees", "corpus": "agents"}


def test_a_capped_total_is_a_lower_bound(dataset: str, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap the total says so (gte) and is at most the number of rows; a list with no filter, or one
    whose filter the stored counts answer, stays exact whatever the cap."""
    from app.queries import plan

    url = f"topic={BUSY_TOPIC[dataset]}&confidence=high,medium"
    every = walk(client, "/claims", url)
    monkeypatch.setattr(plan, "CAP", 3)
    body = client.get(f"/claims?{url}&limit=2").json()
    assert (body["total"], body["totalRelation"]) == (3, "gte") and len(every) > 3
    monkeypatch.setattr(plan, "COUNT_ROWS", 0)  # never from the driver: the matches among the first rows
    monkeypatch.setattr(plan, "COUNT_WINDOW", 4)
    body = client.get(f"/claims?{url}&limit=1").json()
    assert body["totalRelation"] == "gte" and 2 <= body["total"] <= len(every)
    assert len(walk(client, "/claims", "")) == client.get("/claims?limit=1").json()["total"]
    mine = client.get(f"/claims?article={ONE_ARTICLE[dataset]}&limit=1").json()  # counted by the estimating probe
    assert (mine["total"], mine["totalRelation"]) == (
        len(walk(client, "/claims", f"article={ONE_ARTICLE[dataset]}")),
        "eq",
    )


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).

test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
