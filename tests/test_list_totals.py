"""Totals that stay true (issue 13 review): a value given twice is one filter, and a cursor carries its total
only for the caller it was made for. On the sample content/, both backends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CONTENT, api_client, app_statements, ingest_json

TOKEN = "list-totals-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(content_db: str) -> Iterator[TestClient]:
    with api_client(content_db, GARDEN_RESPONSE_CACHE_MB="0", GARDEN_PREVIEW_TOKEN=TOKEN) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("once", "twice"),
    [("/claims?status=core", "/claims?status=core,core"),
     ("/claims?series=soil-from-the-ground-up", "/claims?series=soil-from-the-ground-up&series=soil-from-the-ground-up"),  # noqa: E501
     ("/articles?maturity=evergreen", "/articles?maturity=evergreen,evergreen"),
     ("/sources?type=paper", "/sources?type=paper,paper")],
)  # fmt: skip
def test_a_value_given_twice_counts_once(client: TestClient, once: str, twice: str) -> None:
    single, double = client.get(once).json(), client.get(twice).json()
    assert single["items"], once
    assert (double["total"], double["totalRelation"]) == (single["total"], single["totalRelation"])
    assert double["items"] == single["items"]


@pytest.mark.parametrize("path", ["/articles", "/claims", "/sources"])
def test_a_preview_cursor_carries_no_total_to_anonymous_callers(client: TestClient, path: str) -> None:
    public = client.get(path, params={"limit": 2}).json()
    preview = client.get(path, params={"limit": 2}, headers=BEARER).json()
    assert preview["total"] > public["total"], "the sample holds hidden articles"
    shared = client.get(preview["next"]).json()  # the preview caller's next link, followed anonymously
    assert (shared["total"], shared["totalRelation"]) == (public["total"], public["totalRelation"])
    back = client.get(public["next"], headers=BEARER).json()
    assert (back["total"], back["totalRelation"]) == (preview["total"], preview["totalRelation"])


def test_filter_values_are_taken_once_whatever_the_spelling() -> None:
    from app.queries.params import ClaimParams

    params = ClaimParams.model_validate({"status": ["core,core", "core"], "topic": "a,b,a"})
    assert params.status == ["core"] and params.topic == ["a", "b"]


def test_stored_counts_are_read_once_per_corpus_and_again_after_an_ingest(db_url: str, tmp_path: Path) -> None:
    """app.queries.plan keeps ``list_count`` per corpus version in each worker: a second list reads none of it,
    and a list after an ingest that changed the counts gives the new total."""
    from tests.agent_rules_tree import write_article

    repo = tmp_path / "repo"
    shutil.copytree(CONTENT, repo / "content")
    assert ingest_json(repo / "content", db_url=db_url)[0] == 0
    with api_client(db_url, GARDEN_RESPONSE_CACHE_MB="0") as client:
        with app_statements() as first:
            before = client.get("/articles", params={"limit": 1}).json()
        with app_statements() as second:
            assert client.get("/articles", params={"limit": 2}).json()["total"] == before["total"]
        assert any("list_count" in statement for statement in first)
        assert not any("list_count" in statement for statement in second)
        write_article(repo, "a-new-article-for-the-count")
        assert ingest_json(repo / "content", db_url=db_url)[0] == 0
        after = client.get("/articles", params={"limit": 3}).json()  # the cache is off: the new corpus at once
        assert (after["total"], after["totalRelation"]) == (before["total"] + 1, "eq")
