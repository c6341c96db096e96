"""Claim history and stable citations (issue 17, item 3): /claims/{id}/history and /claims/{id}?version=N, rebuilt
from the change log, on both backends, on tests/test_changes.py's two-version tree (version 2 edits a claim's text,
raises a confidence, marks a claim contested, removes an article, publishes a draft and hides a published one)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.db import make_engine, upgrade_to_head
from app.responses_changes import ChangeList
from app.responses_history import ClaimHistory, ClaimVersion
from tests.conftest import CONTENT, Databases, api_client
from tests.test_changes import EDITED, HIDDEN, PREVIEW, PUBLISHED, REMOVED, TOKEN, _artifact, _ingest, _version_two
from tests.test_changes import tree as tree  # the module's fixture

TEXT, CONFIDENCE, CONTESTED = (f"article:{EDITED}:claim-{n:03}" for n in (1, 2, 3))


@pytest.fixture(scope="module")
def versions_db(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """tests/test_changes.py's two versions, ingested once per module and backend (the tests only read them)."""
    tree = tmp_path_factory.mktemp("history") / "content"
    shutil.copytree(CONTENT, tree)
    db_url = databases.new("history")
    engine = make_engine(db_url)
    try:
        upgrade_to_head(engine)
        assert _ingest(engine, tree) == 1
        _version_two(tree)
        assert _ingest(engine, tree) == 2
    finally:
        engine.dispose()
    return db_url, tree


@pytest.fixture
def two_versions(versions_db: tuple[str, Path]) -> Iterator[tuple[TestClient, Path]]:
    db_url, tree = versions_db
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        yield client, tree


def _claims(slug: str) -> list[dict[str, Any]]:
    """The claims of ``slug`` in content/ (version 1 of every test here)."""
    [directory] = CONTENT.glob(f"articles/*/{slug}")
    claims: list[dict[str, Any]] = json.loads((directory / "artifact.json").read_text(encoding="utf-8"))["claims"]
    return claims


def _version(client: TestClient, claim_id: str, version: int, headers: dict[str, str] | None = None) -> Any:
    response = client.get(f"/claims/{claim_id}?version={version}", headers=headers)
    assert response.status_code == 200, response.text
    return ClaimVersion.model_validate(response.json()).model_dump(exclude_unset=True)


def _history(client: TestClient, claim_id: str, headers: dict[str, str] | None = None, limit: int = 50) -> list[Any]:
    """Every form of the claim, page by page (each body checked against its model)."""
    items: list[dict[str, Any]] = []
    url: str | None = f"/claims/{claim_id}/history?limit={limit}"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = ClaimHistory.model_validate(response.json()).model_dump(exclude_unset=True)
        assert body["total"] >= len(items) + len(body["items"])
        items += body["items"]
        url = body["next"]
    return items


def _problem(client: TestClient, url: str, status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    return problem


def test_version_1_returns_the_first_text_after_the_edit(two_versions: tuple[TestClient, Path]) -> None:
    """The issue's check: /claims/{id}?version=1 returns the first version's text after the edit."""
    client, _ = two_versions
    first = _claims(EDITED)[0]["claim"]
    today = client.get(f"/claims/{TEXT}").json()
    assert today["claim"] == first + " Edited."
    old = _version(client, TEXT, 1)
    assert old["claim"] == first and old["version"] == 1 and old["formVersion"] == 1 and not old["orEarlier"]
    assert old["changedAt"] is None  # the first ingest records nothing: when it took that form is not known
    assert _version(client, TEXT, 2)["claim"] == first + " Edited."
    assert _version(client, TEXT, 2)["formVersion"] == 2 and _version(client, TEXT, 2)["changedAt"]
    # The other fields are the version's too, and the rest of the claim is as the claim shows it today.
    assert _version(client, CONFIDENCE, 1)["confidence"] == "medium-high"
    assert _version(client, CONFIDENCE, 2)["confidence"] == "high"
    statuses = [_version(client, CONTESTED, version)["verificationStatus"] for version in (1, 2)]
    assert statuses == ["verified", "contested"]
    for name in ("evidence", "counterevidence", "citationUrl", "articleUrl", "localClaimId", "status"):
        assert old[name] == today[name], name
    assert old["article"]["title"] == today["article"]["title"]
    # The id as /claims/{id} also takes it, without "article:": the same versions, the same history.
    short = TEXT.removeprefix("article:")
    assert _version(client, short, 1) == old and _version(client, short, 2)["claim"] == first + " Edited."
    assert _history(client, short) == _history(client, TEXT)


def test_a_versioned_answer_is_immutable_to_public_caches(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    anonymous = client.get(f"/claims/{TEXT}?version=1")
    assert anonymous.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(f"/claims/{TEXT}?version=1", headers=PREVIEW).headers["cache-control"] == "private, no-store"
    assert "immutable" not in client.get(f"/claims/{TEXT}").headers["cache-control"]


def test_history_lists_each_form_oldest_first(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    first = _claims(EDITED)[0]
    for headers in (None, PREVIEW):
        items = _history(client, TEXT, headers)
        assert [(item["version"], item["action"], item["fields"], item["claim"]) for item in items] == [
            (1, None, [], first["claim"]), (2, "updated", ["text"], first["claim"] + " Edited.")]  # fmt: skip
        assert items[0]["changedAt"] is None and items[1]["changedAt"].endswith("Z")
        assert items[0]["evidenceCount"] == len(first["evidence"])
    assert [item["confidence"] for item in _history(client, CONFIDENCE)] == ["medium-high", "high"]
    unchanged = f"article:{EDITED}:claim-004"
    assert [(item["version"], item["action"]) for item in _history(client, unchanged)] == [(1, None)]


def test_history_is_keyset_paged(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    first = client.get(f"/claims/{TEXT}/history?limit=1").json()
    assert first["total"] == 2 and len(first["items"]) == 1 and first["nextCursor"]
    assert first["next"] == f"/claims/{TEXT}/history?limit=1&cursor={first['nextCursor']}"
    assert _history(client, TEXT, limit=1) == _history(client, TEXT)
    assert client.get(f"/claims/{TEXT}/history?fields=version,claim").json()["items"][0].keys() == {"version", "claim"}
    assert _problem(client, f"/claims/{TEXT}/history?cursor=bm90LWEtY3Vyc29y", 400)["parameter"] == "cursor"
    assert _problem(client, f"/claims/{TEXT}/history?limit=0", 422)["parameter"] == "limit"


def test_a_removed_claim_keeps_its_history(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    claim_id, first = f"article:{REMOVED}:claim-001", _claims(REMOVED)[0]
    assert client.get(f"/claims/{claim_id}").status_code == 404
    for headers in (None, PREVIEW):
        items = _history(client, claim_id, headers)
        assert [(item["version"], item["action"], item["claim"]) for item in items] == [
            (1, None, first["claim"]), (2, "removed", None)]  # fmt: skip
        cited = _version(client, claim_id, 1, headers)
        assert cited["claim"] == first["claim"] and cited["confidence"] == first["confidence"]
        assert [packet["snippet"] for packet in cited["evidence"]] == [e["snippet"] for e in first["evidence"]]
        assert all(packet["source"] and packet["source"]["title"] for packet in cited["evidence"])
        assert cited["articleUrl"] is None and cited["citationUrl"] is None and cited["article"]["title"]
        gone = _problem(client, f"/claims/{claim_id}?version=2", 404, headers)
        assert gone["detail"].startswith(f"No claim '{claim_id}' at version 2: it did not exist then")


def test_anonymous_callers_see_only_public_versions(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    published, hidden = f"article:{PUBLISHED}:claim-001", f"article:{HIDDEN}:claim-001"
    # A draft published at version 2: anonymous callers see it from then on, and nothing of its draft.
    assert [(item["version"], item["action"]) for item in _history(client, published)] == [(2, "added")]
    draft = _problem(client, f"/claims/{published}?version=1", 404)
    assert draft["detail"] == (
        f"No claim '{published}' at version 1: it did not exist then, or was not published "
        "(its history lists the versions it has)."
    )
    assert _version(client, published, 2)["claim"] == _claims(PUBLISHED)[0]["claim"]
    assert [(item["version"], item["action"], item["fields"]) for item in _history(client, published, PREVIEW)] == [
        (1, None, []), (2, "updated", ["public"])]  # fmt: skip
    assert _version(client, published, 1, PREVIEW)["claim"] == _claims(PUBLISHED)[0]["claim"]
    # A published article sent back to draft at version 2: its claim's last public form stays citable.
    items = _history(client, hidden)
    assert [(item["version"], item["action"]) for item in items] == [(1, None), (2, "removed")]
    assert items[1]["claim"] is None and items[1]["confidence"] is None
    assert _version(client, hidden, 1)["claim"] == _claims(HIDDEN)[0]["claim"]
    assert _version(client, hidden, 1)["articleUrl"] is None  # gone, for them: not today's (draft's) URL
    assert _version(client, hidden, 1, PREVIEW)["articleUrl"]
    assert "at version 2" in _problem(client, f"/claims/{hidden}?version=2", 404)["detail"]
    assert _version(client, hidden, 2, PREVIEW)["claim"] == _claims(HIDDEN)[0]["claim"]


def test_a_claim_never_public_is_unknown_to_anonymous_callers(engine: Engine, tree: Path, db_url: str) -> None:
    draft = f"article:{PUBLISHED}:claim-001"
    _ingest(engine, tree)
    _artifact(tree / "articles/2026" / PUBLISHED, lambda data: data["claims"][0].update(confidence="low"))
    _ingest(engine, tree)
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for url in (f"/claims/{draft}/history", f"/claims/{draft}?version=1", f"/claims/{draft}?version=2"):
            problem = _problem(client, url, 404)
            assert problem["detail"] == f"No claim '{draft}'; claim ids look like article:<slug>:claim-001."
        before = _claims(PUBLISHED)[0]["confidence"]
        assert [item["confidence"] for item in _history(client, draft, PREVIEW)] == [before, "low"]


def test_unknown_ids_and_versions_outside_the_corpus(two_versions: tuple[TestClient, Path]) -> None:
    client, _ = two_versions
    for url in ("/claims/article:nope:claim-001/history", "/claims/article:nope:claim-001?version=1",
                "/claims/nonsense/history", f"/claims/article:{EDITED}:claim-999/history"):  # fmt: skip
        assert _problem(client, url, 404)["title"] == "Not Found"
    ahead = _problem(client, f"/claims/{TEXT}?version=3", 422)
    assert ahead["parameter"] == "version" and "ahead of the corpus version (2)" in ahead["detail"]
    for bad in ("0", "-1", "two"):
        assert _problem(client, f"/claims/{TEXT}?version={bad}", 422)["parameter"] == "version"
    assert _problem(client, f"/claims/{TEXT}?bogus=1", 400)["parameter"] == "bogus"


def test_a_version_older_than_the_log_is_gone(engine: Engine, tree: Path, db_url: str) -> None:
    """Retention of one version: after three versions the log starts after version 2. Version 1 is a 410 that
    says so; the history's first form is "as of version 2 or earlier"."""
    _ingest(engine, tree, change_retention=1)
    for confidence in ("low", "medium"):
        _artifact(tree / "articles/2026" / EDITED, lambda data, c=confidence: data["claims"][0].update(confidence=c))
        _ingest(engine, tree, change_retention=1)
    with api_client(db_url) as client:
        gone = _problem(client, f"/claims/{TEXT}?version=1", 410)
        assert gone["parameter"] == "version" and "starts after version 2" in gone["detail"]
        items = _history(client, TEXT)
        assert [(item["version"], item["orEarlier"], item["confidence"]) for item in items] == [
            (2, True, "low"), (3, False, "medium")]  # fmt: skip
        old = _version(client, TEXT, 2)
        assert (old["confidence"], old["formVersion"], old["orEarlier"]) == ("low", 2, True)
        unchanged = _version(client, f"article:{EDITED}:claim-004", 3)
        assert (unchanged["formVersion"], unchanged["orEarlier"]) == (2, True)


def test_evidence_and_sources_as_they_were(engine: Engine, tree: Path, db_url: str) -> None:
    """Evidence changes are kept in the log's claim entries (before and after), and sources in theirs, so a
    version shows the evidence and each source's title as they were; /changes shows the lists too."""
    directory = tree / "articles/2026" / EDITED
    _ingest(engine, tree)
    first = _claims(EDITED)[0]
    cited = first["evidence"][0]["sourceId"]

    def edit(data: dict[str, Any]) -> None:
        data["claims"][0]["evidence"][0]["snippet"] = "A new snippet."
        [source] = [source for source in data["sources"] if source["id"] == cited]
        source["title"] = "A renamed source"

    _artifact(directory, edit)
    _ingest(engine, tree)
    with api_client(db_url) as client:
        old, new = _version(client, TEXT, 1), _version(client, TEXT, 2)
        assert old["evidence"][0]["snippet"] == first["evidence"][0]["snippet"]
        assert new["evidence"][0]["snippet"] == "A new snippet."
        assert new["evidence"][0]["source"]["title"] == "A renamed source"
        assert old["evidence"][0]["source"]["title"] != "A renamed source"
        assert old["evidence"][1:] == new["evidence"][1:] or len(old["evidence"]) == 1
        assert [(item["version"], item["fields"]) for item in _history(client, TEXT)] == [(1, []), (2, ["evidence"])]
        changes = ChangeList.model_validate(client.get("/changes?since=1&type=claim").json()).model_dump()
        [entry] = changes["items"]
        assert entry["fields"] == ["evidence"] and entry["after"]["evidence"][0]["snippet"] == "A new snippet."
        assert entry["before"]["evidence"][0]["snippet"] == first["evidence"][0]["snippet"]


def test_every_answer_conforms_to_the_openapi_document(two_versions: tuple[TestClient, Path]) -> None:
    """Bodies and statuses as tests/test_openapi_bodies.py checks them: 200s, 404s, 422s and paged answers."""
    from tests.test_openapi_bodies import _check

    client, _ = two_versions
    removed, published = f"article:{REMOVED}:claim-001", f"article:{PUBLISHED}:claim-001"
    found = []
    for headers in ({}, PREVIEW):
        for claim_id in (TEXT, CONFIDENCE, CONTESTED, removed, published, "article:nope:claim-001"):
            found += _check(client, f"/claims/{claim_id}/history", "/claims/{claim_id}/history", headers)
            found += _check(client, f"/claims/{claim_id}/history?limit=1", "/claims/{claim_id}/history", headers)
            for version in (1, 2, 3):
                found += _check(client, f"/claims/{claim_id}?version={version}", "/claims/{claim_id}", headers)
    assert found == []


def test_answers_are_documented_in_the_openapi_document() -> None:
    from tests.test_openapi_bodies import DOCUMENT

    history, claim = (DOCUMENT["paths"][path]["get"] for path in ("/claims/{claim_id}/history", "/claims/{claim_id}"))
    assert (history["operationId"], claim["operationId"]) == ("get_claim_history", "get_claim")
    for operation, model in ((history, "ClaimHistory"), (claim, "ClaimVersion")):
        assert model in json.dumps(operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert "version" in {parameter["name"] for parameter in claim["parameters"]}


def test_evidence_the_log_did_not_keep_is_unknown(engine: Engine, tree: Path, db_url: str) -> None:
    """An entry written before the log kept evidence lists names the change without the values: the evidence
    before it is null (not known), never today's evidence passed off as then's."""
    _ingest(engine, tree)
    _artifact(
        tree / "articles/2026" / EDITED,
        lambda data: data["claims"][0]["evidence"][0].update(snippet="A newer snippet."),
    )
    _ingest(engine, tree)
    with engine.begin() as conn:  # the entry as the log wrote it before evidence lists were kept
        conn.execute(text("UPDATE change SET before = NULL, after = NULL WHERE ref = :ref"), {"ref": TEXT})
    with api_client(db_url) as client:
        old, new = _version(client, TEXT, 1), _version(client, TEXT, 2)
        assert (old["evidence"], old["evidenceCount"]) == (None, None) and old["claim"] == new["claim"]
        assert new["evidence"][0]["snippet"] == "A newer snippet." and new["evidenceCount"] == len(new["evidence"])
        assert [item["evidenceCount"] for item in _history(client, TEXT)] == [None, new["evidenceCount"]]


def test_a_claim_removed_from_an_article_that_stays(engine: Engine, tree: Path, db_url: str) -> None:
    """Its version still resolves its sources and gives the article's URL (the article is still there)."""
    claims = _claims(EDITED)
    last = f"article:{EDITED}:{claims[-1]['id']}"
    _ingest(engine, tree)
    _artifact(tree / "articles/2026" / EDITED, lambda data: data["claims"].pop())
    _ingest(engine, tree)
    with api_client(db_url) as client:
        assert client.get(f"/claims/{last}").status_code == 404
        assert [item["action"] for item in _history(client, last)] == [None, "removed"]
        cited = _version(client, last, 1)
        assert cited["claim"] == claims[-1]["claim"] and cited["citationUrl"].endswith(f"#{claims[-1]['id']}")
        assert all(packet["source"] for packet in cited["evidence"]) and cited["evidence"]
