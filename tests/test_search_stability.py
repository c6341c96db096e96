"""/search is stable (issue 12, finding 13): hidden articles move no public score, ties keep one order through
any re-ingest, and cursors are keyset positions that never repeat, skip or drift.

Each test runs on both backends. Trees are copies of the sample content/ (13 articles, a draft and an archived
one among them), with hidden copies of a public article added or articles removed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.queries.paging import encode_cursor
from app.queries.params import SearchParams
from tests.conftest import CONTENT, Databases, api_client, ingest_json, running_server, sql_rows

TOKEN = "stability-preview-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HIDDEN = ("street-trees-and-urban-heat", "hot-composting-in-seven-days")  # draft in both; archived
COPIED = "rainwater-harvesting-for-small-gardens"  # no series: a copy of it changes no series
#: Queries whose words the hidden articles hold too, and ones with ties (sources cited by two articles).
QUERIES = [
    {"q": "rainwater harvesting water butt"},
    {"q": "soil compost heat trees", "limit": 7},
    {"q": "water", "type": "claims", "limit": 4},
    {"q": "compost sludge", "type": "sources"},
    {"q": "fao soils portal", "type": "sources", "limit": 1},
    {"q": "pollinator conservation", "limit": 3},
    {"q": "garden", "type": ["articles", "sources"], "limit": 5},
]


def _tree(root: Path) -> Path:
    """A writable copy of content/ under ``root``; the path of its articles directory."""
    shutil.copytree(CONTENT, root / "content")
    return root / "content" / "articles"


def _article(articles: Path, slug: str) -> Path:
    return next(articles.glob(f"*/{slug}"))


def _hidden_copy(articles: Path, slug: str, *, front_matter: str | None = None, artifact: str | None = None) -> None:
    """A copy of ``COPIED`` named ``slug``, with its front matter's or its artifact's status changed."""
    source = _article(articles, COPIED)
    target = source.parent / slug
    target.mkdir()
    for name in ("article.md", "agent.md", "artifact.json"):
        text = (source / name).read_text(encoding="utf-8").replace(COPIED, slug)
        if name == "article.md" and front_matter:
            text = text.replace("\nstatus: published\n", f"\nstatus: {front_matter}\n", 1)
        if name == "artifact.json" and artifact:
            data = json.loads(text)
            data["status"] = artifact
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        (target / name).write_text(text, encoding="utf-8")


def _ingest(content: Path, db_url: str) -> None:
    code, report = ingest_json(content, db_url=db_url, flags=("--prune",))
    assert code == 0, report["errors"]


def _walk(client: TestClient, params: dict[str, Any], headers: dict[str, str] | None = None) -> list[bytes]:
    """Every page's body, following ``next`` to the end."""
    bodies, response = [], client.get("/search", params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        url = response.json()["next"]
        if url is None:
            return bodies
        response = client.get(url, headers=headers)


def _answers(db_url: str, headers: dict[str, str] | None = None) -> list[list[bytes]]:
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        return [_walk(client, params, headers) for params in QUERIES]


def _with_hidden(root: Path) -> Path:
    """content/ with three hidden copies of a public article: draft in front matter only, review in the
    artifact only, draft in both (besides content/'s own draft and archived articles)."""
    articles = _tree(root)
    _hidden_copy(articles, "rainwater-draft-in-front-matter", front_matter="draft")
    _hidden_copy(articles, "rainwater-review-in-artifact", artifact="review")
    _hidden_copy(articles, "rainwater-draft-in-both", front_matter="draft", artifact="draft")
    return articles


def test_hidden_articles_change_no_anonymous_search_answer(tmp_path: Path, databases: Databases) -> None:
    """The same public articles with and without hidden ones holding the query words: every anonymous page
    (scores, order, snippets, facets, totals and next links) is byte for byte the same. On SQLite bm25 reads
    statistics over the documents it ranks, so anonymous searches rank over the public ones only; PostgreSQL's
    ts_rank reads only the document itself."""
    with_hidden = _with_hidden(tmp_path / "with")
    without = _tree(tmp_path / "without")
    for slug in HIDDEN:
        shutil.rmtree(_article(without, slug))
    urls = databases.new("with"), databases.new("without")
    for tree, url in zip((with_hidden, without), urls, strict=True):
        _ingest(tree.parent, url)
    hidden, public = (_answers(url) for url in urls)
    assert hidden == public
    assert sum(map(len, public)) > len(QUERIES)  # some queries have several pages
    # The hidden copies are there, and found, for the preview: the comparison is not vacuous.
    preview = _answers(urls[0], BEARER)
    assert b"rainwater-draft-in-both" in b"".join(page for pages in preview for page in pages)


def _status(articles: Path, slug: str, status: str) -> None:
    """Set an article's front matter status (its artifact's is left as it is)."""
    path = _article(articles, slug) / "article.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nstatus: published\n", f"\nstatus: {status}\n", 1).replace(
        "\nstatus: draft\n", f"\nstatus: {status}\n", 1), encoding="utf-8")  # fmt: skip


def test_the_public_index_follows_articles_that_turn_hidden_or_public(tmp_path: Path, databases: Databases) -> None:
    """Re-ingests that hide a public article, publish a hidden one and remove one of each leave every answer
    exactly as a fresh ingest of the final tree gives it (on SQLite: the public full-text table follows)."""
    articles = _with_hidden(tmp_path / "tree")
    updated = databases.new("updated")
    _ingest(articles.parent, updated)
    _status(articles, "rainwater-draft-in-front-matter", "published")
    _status(articles, "composting-without-the-guesswork", "draft")
    for slug in ("soil-testing-glossary", "rainwater-draft-in-both"):  # a public article and a hidden one go
        shutil.rmtree(_article(articles, slug))
    _ingest(articles.parent, updated)
    if databases.backend == "sqlite":  # each public document, with its rowid, and no other
        public = "SELECT rowid, kind, ref FROM search_fts_public ORDER BY 1"
        of_public = ("SELECT f.rowid, f.kind, f.ref FROM search_fts f JOIN article a ON a.id = f.article_id "
                     "WHERE a.is_public ORDER BY 1")  # fmt: skip
        assert sql_rows(updated, public) == sql_rows(updated, of_public) != []
    fresh = databases.new("fresh")
    _ingest(articles.parent, fresh)
    assert _answers(updated) == _answers(fresh)
    assert _answers(updated, BEARER) == _answers(fresh, BEARER)
    with api_client(updated) as client:
        found = client.get("/search", params={"q": "rainwater", "type": "articles"}).json()["items"]
        assert "rainwater-draft-in-front-matter" in {hit["slug"] for hit in found}
        found = client.get("/search", params={"q": "composting guesswork", "limit": 500}).json()["items"]
        assert "composting-without-the-guesswork" not in {hit["slug"] for hit in found}


def test_migration_0008_indexes_the_stored_public_documents(tmp_path: Path, db_url: str) -> None:
    """Down to 0007 and up again on a loaded database: every search answers as after the ingest (0008 builds
    SQLite's public full-text table from what is stored; on PostgreSQL it does nothing)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from app.db import MIGRATIONS_DIR, make_engine, upgrade_to_head

    _ingest(_with_hidden(tmp_path).parent, db_url)
    before = _answers(db_url), _answers(db_url, BEARER)
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    assert "search_fts_public" not in inspect(engine).get_table_names()
    upgrade_to_head(engine)
    engine.dispose()
    assert (_answers(db_url), _answers(db_url, BEARER)) == before


def _ties(client: TestClient, q: str, headers: dict[str, str] | None = None) -> list[tuple[float, str]]:
    items = client.get("/search", params={"q": q, "type": "sources"}, headers=headers).json()["items"]
    return [(hit["score"], hit["slug"]) for hit in items]


def test_ties_keep_one_order_through_a_reingest(tmp_path: Path, databases: Databases) -> None:
    """Equal scores are ordered by the hit's own id (here: the article slug of two copies of one source), so a
    database that re-ingested identical content (new row ids) answers exactly as one that ingested it once."""
    articles = _tree(tmp_path / "tree")
    once, twice = databases.new("once"), databases.new("twice")
    _ingest(articles.parent, once)
    changed = tmp_path / "changed"
    shutil.copytree(articles.parent, changed / "content")
    for slug in ("soil-from-the-ground-up", "native-plants-for-bees"):  # the first of each tied pair
        with (_article(changed / "content" / "articles", slug) / "article.md").open("a", encoding="utf-8") as file:
            file.write("\nEdited.\n")
    _ingest(changed / "content", twice)
    _ingest(articles.parent, twice)  # back to the same content: these two articles now have the newest row ids
    with api_client(twice, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for q, first, second in [
            ("fao soils portal", "soil-from-the-ground-up", "the-living-soil-food-web"),
            ("pollinator conservation xerces", "native-plants-for-bees", "pollinator-corridors"),
        ]:
            for headers in (None, BEARER):
                ties = _ties(client, q, headers)
                assert [slug for _, slug in ties[:2]] == [first, second], ties
                assert ties[0][0] == ties[1][0]
    assert _answers(once) == _answers(twice)
    assert _answers(once, BEARER) == _answers(twice, BEARER)


def _ids(hits: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(hit["type"], hit.get("claimId") or f"{hit['slug']}/{hit.get('sourceId', '')}") for hit in hits]


@pytest.mark.parametrize("preview", [False, True])
def test_keyset_pages_walk_every_hit_once_at_any_limit(content_db: str, preview: bool) -> None:
    headers = BEARER if preview else None
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for query in [
            {"q": "soil water compost bees"},
            {"q": "compost sludge cornell soils portal", "type": "sources"},
        ]:
            single = client.get("/search", params={**query, "limit": 500}, headers=headers).json()
            assert single["next"] is None and len(single["items"]) == single["total"] > 4
            expected = _ids(single["items"])
            assert len(set(expected)) == len(expected)
            for limit in (1, 2, 3, 7, 10):
                pages = _walk(client, {**query, "limit": limit}, headers)
                assert _ids([hit for page in pages for hit in json.loads(page)["items"]]) == expected, limit
                assert {json.loads(page)["total"] for page in pages} == {single["total"]}
                assert len(pages) == -(-len(expected) // limit)  # no empty last page
            again = _walk(client, {**query, "limit": 3}, headers)
            assert again == _walk(client, {**query, "limit": 3}, headers)  # the same boundaries every time


def test_a_cursor_keeps_its_boundary_when_hits_above_it_go(tmp_path: Path, db_url: str) -> None:
    """A cursor is the last hit's place in the ranking, not an offset: when hits ranked before it leave the
    results (here: claims no longer matching a filter after a re-ingest; their texts, and so every score,
    unchanged), the next page still starts right after the hit the previous page ended with."""
    articles = _tree(tmp_path)
    _ingest(articles.parent, db_url)
    params = {"q": "compost soil water heap", "confidence": "high", "limit": 3}
    with api_client(db_url) as client:
        first = client.get("/search", params=params).json()
        before = client.get("/search", params={**params, "limit": 500}).json()["items"]
    assert first["next"] and len(before) > 6
    leaving = {hit["claimId"] for hit in first["items"][:2]}
    for slug in {claim_id.split(":")[1] for claim_id in leaving}:
        path = _article(articles, slug) / "artifact.json"
        artifact = json.loads(path.read_text(encoding="utf-8"))
        for claim in artifact["claims"]:
            if f"article:{slug}:{claim['id']}" in leaving:
                claim["confidence"] = "medium"
        path.write_text(json.dumps(artifact, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _ingest(articles.parent, db_url)
    with api_client(db_url) as client:
        after = client.get("/search", params={**params, "limit": 500}).json()["items"]
        second = client.get(first["next"]).json()
    assert [hit["claimId"] for hit in after] == [hit["claimId"] for hit in before if hit["claimId"] not in leaving]
    last = first["items"][-1]["claimId"]
    resumed = [hit["claimId"] for hit in after]
    start = resumed.index(last) + 1
    assert [hit["claimId"] for hit in second["items"]] == resumed[start : start + 3]


def _cursor(params: dict[str, Any], key: list[Any]) -> str:
    return encode_cursor(SearchParams.model_validate(params), key)


@pytest.mark.parametrize(
    "key",
    [
        [3],  # an offset, as cursors were: no longer a position
        [0],
        ["1.5", "claim", "article:x:claim-001"],  # too short
        ["nan", "claim", "article:x:claim-001", ""],
        ["inf", "article", "x", ""],
        ["high", "claim", "article:x:claim-001", ""],
        [1, "claim", "article:x:claim-001", ""],  # a number where the text form is expected
        ["1.5", "chapter", "x", ""],  # not a kind of hit
        ["1.5", "claim", 7, ""],  # an integer where PostgreSQL compares text
        ["1.5", "source", "x", 7],
        ["1.5", "article", "x" * 1001, ""],
        ["1.5", "claim", "a\x00b", ""],
    ],
)
def test_forged_search_cursors_are_a_400(content_db: str, key: list[Any]) -> None:
    params = {"q": "soil water", "limit": 2}
    with api_client(content_db) as client:
        response = client.get("/search", params={**params, "cursor": _cursor(params, key)})
        assert response.status_code == 400, response.text
        assert response.json()["parameter"] == "cursor"
        # A key of the right form made under other parameters is a 400 too.
        made = client.get("/search", params=params).json()["next"]
        other = client.get(made.replace("q=soil", "q=compost"))
        assert other.status_code == 400 and other.json()["parameter"] == "cursor"


def test_a_hand_made_key_of_the_right_form_is_a_position(content_db: str) -> None:
    """A key no hit has is still a place in the ranking: before every hit, or after the last (no 500)."""
    params = {"q": "soil water", "limit": 500}
    with api_client(content_db) as client:
        every = client.get("/search", params=params).json()["items"]
        top = client.get("/search", params={**params, "cursor": _cursor(params, ["1e9", "article", "", ""])})
        assert top.status_code == 200 and top.json()["items"] == every
        end = client.get("/search", params={**params, "cursor": _cursor(params, ["-1.0", "source", "~", "~"])})
        assert end.status_code == 200 and end.json()["items"] == [] and end.json()["next"] is None


def test_mcp_search_claims_walks_the_same_keyset_pages(content_db: str, tmp_path: Path) -> None:
    """search_claims shares the search query: its nextCursor walks every claim hit once, in /search's order, and
    a forged cursor is an error naming the cursor."""
    from tests.test_mcp import Server, call, error_text, ok

    with running_server(content_db, tmp_path / "server.log") as base:
        server = Server(base, tmp_path / "server.log")
        expected = [
            hit["claimId"] for hit in server.rest("/search?q=soil+water+compost&type=claims&limit=500").json()["items"]
        ]
        seen, cursor = [], None
        while True:
            page = ok(call(server, "search_claims", query="soil water compost", limit=4, cursor=cursor))
            seen += [item["claimId"] for item in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                break
        assert seen == expected and len(expected) > 8
        forged = _cursor({"q": "soil water compost", "type": ["claims"]}, [4])
        assert "cursor" in error_text(call(server, "search_claims", query="soil water compost", cursor=forged))
