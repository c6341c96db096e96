"""The change log (issue 17): ingest records what each version changed, and /changes?since= and /changes.jsonl
list exactly that, as each caller may see it. Both backends, on temporary copies of content/."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.ingest import ingest
from app.responses_changes import ChangeEntry, ChangeList
from tests.conftest import CONTENT, api_client, sql_rows

TODAY = dt.date(2026, 11, 22)
TOKEN = "change-preview-token"
PREVIEW = {"Authorization": f"Bearer {TOKEN}"}
EDITED = "composting-without-the-guesswork"
REMOVED = "leaf-mould-from-autumn-leaves"
PUBLISHED = "street-trees-and-urban-heat"  # a draft in content/
HIDDEN = "rainwater-harvesting-for-small-gardens"


def _artifact(directory: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = directory / "artifact.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _status(directory: Path, status: str) -> None:
    """Front matter (article.md, agent.md) and artifact status, together."""
    for name in ("article.md", "agent.md"):
        path = directory / name
        text = re.sub(r"^status: \w+$", f"status: {status}", path.read_text(encoding="utf-8"), count=1, flags=re.M)
        path.write_text(text, encoding="utf-8")
    _artifact(directory, lambda data: data.update(status=status))


def _edit_claims(data: dict[str, Any]) -> None:
    claims = data["claims"]
    claims[0]["claim"] += " Edited."
    assert claims[1]["confidence"] == "medium-high"
    claims[1]["confidence"] = "high"
    claims[2]["verification"]["status"] = "contested"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


def _version_two(tree: Path) -> None:
    articles = tree / "articles"
    _artifact(articles / "2026" / EDITED, _edit_claims)
    shutil.rmtree(articles / "2025" / REMOVED)
    _status(articles / "2026" / PUBLISHED, "published")
    _status(articles / "2026" / HIDDEN, "draft")


def _ingest(engine: Engine, tree: Path, **options: Any) -> int:
    report = ingest(engine, [tree], today=TODAY, prune=True, **options)
    assert report.ok, report.errors
    return report.corpus_version


@pytest.fixture
def two_versions(engine: Engine, tree: Path, db_url: str) -> Iterator[tuple[TestClient, Path]]:
    assert _ingest(engine, tree) == 1
    _version_two(tree)
    assert _ingest(engine, tree) == 2
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        yield client, tree


def _claims(slug: str, count: int) -> list[str]:
    return [f"article:{slug}:claim-{n:03}" for n in range(1, count + 1)]


def _sources(tree: Path, slug: str) -> list[str]:
    [directory] = tree.glob(f"articles/*/{slug}")  # content/ itself: the removed article is gone from the copy
    return [source["id"] for source in json.loads((directory / "artifact.json").read_text())["sources"]]


def _all(client: TestClient, query: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every entry of /changes?<query>, page by page (checking each body), and the same through the stream."""
    items: list[dict[str, Any]] = []
    url: str | None = f"/changes?{query}"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = ChangeList.model_validate(response.json()).model_dump(exclude_unset=True)
        items += body["items"]
        url = body["next"]
    stream = client.get(f"/changes.jsonl?{query.replace('&limit=3', '')}", headers=headers)
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in stream.text.splitlines()]
    for line in lines:
        ChangeEntry.model_validate(line)
    assert lines == items
    return items


Summary = set[tuple[str, str, str, tuple[str, ...], str]]


def _summary(items: list[dict[str, Any]]) -> Summary:
    """(type, action, id, fields, article) of each entry: a sourceId is only unique within its article."""
    return {(item["type"], item["action"], item["id"], tuple(item["fields"]), item["article"]) for item in items}


def _expected(preview: bool) -> Summary:
    claims, sources = {slug: _claims(slug, count) for slug, count in ((REMOVED, 4), (PUBLISHED, 6), (HIDDEN, 6))}, {
        slug: _sources(CONTENT, slug) for slug in (REMOVED, PUBLISHED, HIDDEN)}  # fmt: skip
    found: Summary = {
        ("claim", "updated", f"article:{EDITED}:claim-001", ("text",), EDITED),
        ("claim", "updated", f"article:{EDITED}:claim-002", ("confidence",), EDITED),
        ("claim", "updated", f"article:{EDITED}:claim-003", ("verificationStatus",), EDITED),
        ("article", "removed", REMOVED, (), REMOVED),
        *(("claim", "removed", claim, (), REMOVED) for claim in claims[REMOVED]),
        *(("source", "removed", source, (), REMOVED) for source in sources[REMOVED]),
    }
    if not preview:  # a draft published is added, a published article hidden is removed
        for slug, action in ((PUBLISHED, "added"), (HIDDEN, "removed")):
            found |= {("article", action, slug, (), slug),
                      *(("claim", action, claim, (), slug) for claim in claims[slug]),
                      *(("source", action, source, (), slug) for source in sources[slug])}  # fmt: skip
        return found
    flipped = ("status", "frontMatterStatus", "contentHash", "public")
    for slug in (PUBLISHED, HIDDEN):
        found |= {("article", "updated", slug, flipped, slug),
                  *(("claim", "updated", claim, ("public",), slug) for claim in claims[slug]),
                  *(("source", "updated", source, ("public",), slug) for source in sources[slug])}  # fmt: skip
    return found


@pytest.mark.parametrize("preview", [False, True], ids=["anonymous", "preview"])
def test_change_feed_is_exact(two_versions: tuple[TestClient, Path], preview: bool) -> None:
    client, tree = two_versions
    items = _all(client, "since=1&limit=3", PREVIEW if preview else None)
    assert len(items) == len(_summary(items))  # no entry twice
    assert _summary(items) == _expected(preview)
    assert {item["version"] for item in items} == {2}
    by_id = {item["id"]: item for item in items}
    text = by_id[f"article:{EDITED}:claim-001"]
    assert text["after"]["text"] == text["before"]["text"] + " Edited."
    confidence = by_id[f"article:{EDITED}:claim-002"]
    assert (confidence["before"], confidence["after"]) == ({"confidence": "medium-high"}, {"confidence": "high"})
    contested = by_id[f"article:{EDITED}:claim-003"]
    assert (contested["before"], contested["after"]) == ({"verificationStatus": "verified"},
                                                         {"verificationStatus": "contested"})  # fmt: skip
    hidden_title = json.loads((tree / "articles/2026" / HIDDEN / "artifact.json").read_text())["title"]
    if not preview:
        assert by_id[HIDDEN]["before"] is None and by_id[HIDDEN]["after"] is None
        assert hidden_title not in json.dumps(items)
        assert by_id[PUBLISHED]["after"]["title"] and by_id[PUBLISHED]["before"] is None
    else:
        assert by_id[HIDDEN]["before"]["title"] == by_id[HIDDEN]["after"]["title"] == hidden_title
        assert (by_id[HIDDEN]["before"]["status"], by_id[HIDDEN]["after"]["status"]) == ("published", "draft")


def test_a_draft_never_reaches_anonymous_callers(engine: Engine, tree: Path, db_url: str) -> None:
    """A draft edited, and a new draft added: preview callers see both, anonymous callers nothing of them."""
    _ingest(engine, tree)
    _artifact(tree / "articles/2026" / PUBLISHED, lambda data: data["claims"][0].update(confidence="low"))
    shutil.copytree(tree / "articles/2026" / PUBLISHED, tree / "articles/2026/a-secret-draft")
    for name in ("article.md", "agent.md", "artifact.json"):
        path = tree / "articles/2026/a-secret-draft" / name
        path.write_text(path.read_text().replace(PUBLISHED, "a-secret-draft").replace("Street Trees", "Secret Trees"))
    _ingest(engine, tree)
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        anonymous = client.get("/changes?since=1")
        assert anonymous.json()["items"] == [] and anonymous.json()["total"] == 0
        assert "secret" not in client.get("/changes.jsonl?since=1").text.lower()
        preview = _all(client, "since=1", PREVIEW)
        assert {(item["type"], item["id"]) for item in preview} >= {
            ("claim", f"article:{PUBLISHED}:claim-001"), ("article", "a-secret-draft")}  # fmt: skip


def test_an_unchanged_ingest_adds_nothing(two_versions: tuple[TestClient, Path], engine: Engine, db_url: str) -> None:
    client, tree = two_versions
    before = sql_rows(db_url, "SELECT * FROM change ORDER BY id")
    assert _ingest(engine, tree) == 2
    assert sql_rows(db_url, "SELECT * FROM change ORDER BY id") == before
    assert client.get("/changes?since=2").json()["items"] == []


def test_filters(two_versions: tuple[TestClient, Path]) -> None:
    client, tree = two_versions
    everything = _all(client, "since=1", PREVIEW)
    claims = _all(client, "since=1&type=claim", PREVIEW)
    assert claims == [item for item in everything if item["type"] == "claim"]
    articles_sources = _all(client, "since=1&type=article,source", PREVIEW)
    assert articles_sources == [item for item in everything if item["type"] != "claim"]
    edited = _all(client, f"since=1&article={EDITED}", PREVIEW)
    assert edited and edited == [item for item in everything if item["article"] == EDITED]
    by_id = _all(client, f"since=1&article=article:{EDITED}", PREVIEW)
    assert by_id == edited
    topic = json.loads((tree / "articles/2026" / HIDDEN / "artifact.json").read_text())["topics"][0]
    in_topic = _all(client, f"since=1&topic={topic}", PREVIEW)
    assert {item["article"] for item in in_topic} >= {HIDDEN}
    assert all(item["article"] != EDITED for item in in_topic) or topic in _topics(tree, EDITED)
    series = json.loads((tree / "articles/2026" / EDITED / "artifact.json").read_text())["series"]["slug"]
    in_series = _all(client, f"since=1&series={series}", PREVIEW)
    assert in_series == [item for item in everything if item["article"] == EDITED]
    assert _all(client, "since=1&series=no-such-series", PREVIEW) == []


def _topics(tree: Path, slug: str) -> list[str]:
    [directory] = tree.glob(f"articles/*/{slug}")
    topics: list[str] = json.loads((directory / "artifact.json").read_text())["topics"]
    return topics


def test_paging_is_keyset_and_bound_to_its_filters(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    first = client.get("/changes?since=1&limit=2").json()
    assert len(first["items"]) == 2 and first["total"] > 2 and first["nextCursor"]
    second = client.get(f"/changes?since=1&limit=2&cursor={first['nextCursor']}").json()
    assert second["total"] == first["total"] and second["items"][0] != first["items"][-1]
    mismatch = client.get(f"/changes?since=2&limit=2&cursor={first['nextCursor']}")
    assert mismatch.status_code == 400 and mismatch.json()["parameter"] == "cursor"
    forged = client.get("/changes?since=1&cursor=bm90LWEtY3Vyc29y")
    assert forged.status_code == 400
    fields = client.get("/changes?since=1&fields=id,action").json()["items"]
    assert fields and all(set(item) == {"id", "action"} for item in fields)


def test_since_outside_the_log_is_a_problem(engine: Engine, tree: Path, db_url: str) -> None:
    """The first ingest records nothing: since=0 is older than the log. Retention of one version: after three
    versions, since=1 is too old and says how to resync; a since ahead of the corpus names the parameter."""
    _ingest(engine, tree, change_retention=1)
    for confidence in ("low", "medium"):
        _artifact(tree / "articles/2026" / EDITED, lambda data, c=confidence: data["claims"][0].update(confidence=c))
        _ingest(engine, tree, change_retention=1)
    with api_client(db_url) as client:
        for since in (0, 1):
            for path in ("/changes", "/changes.jsonl"):
                gone = client.get(f"{path}?since={since}")
                assert gone.status_code == 410, gone.text
                problem = gone.json()
                assert problem["parameter"] == "since" and "X-Corpus-Version" in problem["detail"]
                assert "/agents/feeds/claims.jsonl" in problem["detail"]
        kept = client.get("/changes?since=2").json()["items"]
        assert [(item["version"], item["after"]) for item in kept] == [(3, {"confidence": "medium"})]
        ahead = client.get("/changes?since=4")
        assert ahead.status_code == 422 and ahead.json()["parameter"] == "since"
        missing = client.get("/changes")
        assert missing.status_code == 422 and missing.json()["parameter"] == "since"
    assert sql_rows(db_url, "SELECT DISTINCT version FROM change") == [(3,)]


def test_an_article_sent_back_to_draft_matches_the_filters_by_what_anonymous_readers_saw(
    engine: Engine, tree: Path, db_url: str
) -> None:
    """The draft's new topic is not probed through ?topic=: its removal matches the topics it had when public."""
    _ingest(engine, tree)
    old_topics = _topics(tree, HIDDEN)
    new_topic = next(topic for topic in _topics(tree, EDITED) if topic not in old_topics)
    _status(tree / "articles/2026" / HIDDEN, "draft")
    _artifact(tree / "articles/2026" / HIDDEN, lambda data: data.update(topics=[new_topic]))
    _ingest(engine, tree)
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        assert _all(client, f"since=1&topic={new_topic}") == []
        removed = _all(client, f"since=1&topic={old_topics[0]}")
        assert removed and {(item["article"], item["action"]) for item in removed} == {(HIDDEN, "removed")}
