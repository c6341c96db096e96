"""/series and /topics against ingested corpora, with every expectation computed here from the input files.

Three corpora, each ingested once per session: our sample content/ (a guide, chapters and an appendix; an
archived member colliding at order 3 in preview only; arcs in pollinator-corridors), the publisher's corpus in
../shared (public members, the archived duplicate at order 29 in preview, topic counts and dir order), and the
packet in ../shared/seeds (packet layout: no front-matter date, no summary, a series without its guide). The
tests that take ``dataset`` run on content/ and on the corpus; the corpus and packet variants skip without
../shared.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app import db, settings
from app.main import create_app
from app.queries.series import ARC_PART, ARCS, series_warnings
from app.responses_series import SeriesDetail, SeriesList, TopicDetail, TopicList
from app.routers import series, topics
from tests.conftest import CONTENT, CORPUS, SEEDS, SHARED, Databases, ingest_json, need_shared

TOKEN = "preview-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SERIES_ITEM_KEYS = ["slug", "title", "season", "memberCount", "guide", "newestUpdate", "url"]
MEMBER_KEYS = [
    "order", "role", "arc", "arcTitle", "arcPart", "slug", "title", "summary", "articleUrl", "agentJsonPath",
    "agentMarkdownPath", "apiUrl",
]  # fmt: skip


# --------------------------------------------------------------------------------------------------------
# The input files, read independently of the service's reader.


@dataclass(frozen=True)
class Article:
    year: str
    slug: str
    public: bool  # front matter status published and artifact status published (P)
    date: str  # front matter date
    updated_at: str
    title: str
    summary: str
    topics: list[str]
    claims: int
    series: dict[str, Any]  # artifact.series, {} for a standalone article

    @property
    def dir_key(self) -> str:
        return f"{self.year}/{self.slug}"


def _front_matter(path: Path) -> dict[str, Any]:
    match = re.match(r"---\r?\n(.*?)\r?\n---", path.read_text(encoding="utf-8"), re.S)
    assert match, path
    data = yaml.safe_load(match.group(1))
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


def read_articles(content: Path) -> list[Article]:
    """Every article under ``content/articles/<year>/<slug>/``."""
    out = []
    for directory in sorted((content / "articles").glob("*/*")):
        artifact = json.loads((directory / "artifact.json").read_text(encoding="utf-8"))
        fm = _front_matter(directory / "article.md")
        out.append(Article(
            year=directory.parent.name, slug=directory.name,
            public=fm["status"] == "published" and artifact["status"] == "published",
            date=str(fm["date"]), updated_at=artifact["updatedAt"], title=artifact["title"],
            summary=fm["summary"], topics=artifact["topics"], claims=len(artifact["claims"]),
            series=artifact.get("series") or {},
        ))  # fmt: skip
    assert out, f"no articles under {content}"
    return out


def series_members(articles: list[Article], *, preview: bool = False) -> dict[str, list[Article]]:
    """{series slug: members the caller sees, by (order ascending, date descending, slug)}."""
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        if article.series and (preview or article.public):
            groups[article.series["slug"]].append(article)
    for members in groups.values():
        members.sort(key=lambda a: a.slug)
        members.sort(key=lambda a: a.date, reverse=True)
        members.sort(key=lambda a: a.series["order"])
    return groups


def expected_codes(members: list[Article]) -> list[str]:
    """The warning codes the publisher's group checks (§3) give for ``members``, in the API's order."""
    orders = [m.series["order"] for m in members]
    guides = [m for m in members if m.series["role"] == "guide"]
    codes = []
    if len(set(orders)) < len(orders):
        codes.append("duplicate-order")
    if set(range(max(orders) + 1)) - set(orders):
        codes.append("missing-order")
    if not guides:
        codes.append("missing-guide")
    elif len(guides) > 1 or guides[0].series["order"] != 0:
        codes.append("misplaced-guide")
    if any(m.series.get("arc") not in (None, *ARC_TABLE) for m in members):
        codes.append("unknown-arc")
    return codes


#: The site's kicker table (DATA-CONTRACT §3, "arc → Title"), written out here: {arc: (arcTitle, arcPart)}.
ARC_TABLE: dict[str, tuple[str, int]] = {
    "diagnosis": ("The Diagnosis", 1),
    "historical-frames": ("Historical and Human Frames", 2),
    "ai-opportunity-cost": ("The AI Opportunity Cost", 3),
    "building-substance": ("Building Substance", 4),
    "designing-for-substance": ("Designing for Substance", 5),
    "synthesis": ("Synthesis and Action", 6),
}


# --------------------------------------------------------------------------------------------------------
# Databases and clients (``corpus_db``, the publisher's corpus ingested once per session, is in conftest).


def _ingest(root: Path, databases: Databases, name: str) -> str:
    url = databases.new(name)
    code, report = ingest_json(root, db_url=url)
    assert code == 0, report["errors"]
    return url


@pytest.fixture(scope="module")
def packet_db(databases: Databases) -> str:
    return _ingest(need_shared(SEEDS), databases, "seeds")


@pytest.fixture(params=["content", "corpus"])
def dataset(request: pytest.FixtureRequest) -> str:
    """``content`` (our content/) or ``corpus`` (the publisher's, skipped without ../shared)."""
    if request.param == "corpus":
        need_shared(CORPUS)
    return str(request.param)


#: What each data set holds for the tests that name things: a series with a guide at order 0 (and, on the
#: corpus, gaps), a series whose members carry arcs, the series whose archived member takes an order a public
#: member holds (and that order), and a topic.
NAMES: dict[str, dict[str, Any]] = {
    "content": {"series": "soil-from-the-ground-up", "arcs": "pollinator-corridors",
                "duplicate": ("soil-from-the-ground-up", 3), "topic": "soil-health"},
    "corpus": {"series": "ai-demystified", "arcs": "attention-substance-ai-moment",
               "duplicate": ("attention-substance-ai-moment", 29), "topic": "ai-literacy"},
}  # fmt: skip


@pytest.fixture
def articles(dataset: str) -> list[Article]:
    return read_articles(CONTENT if dataset == "content" else CORPUS / "content")


@pytest.fixture(scope="module")
def sample_articles() -> list[Article]:
    return read_articles(CONTENT)


def _reset() -> None:
    settings.get_settings.cache_clear()
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    db.get_engine.cache_clear()


def _client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("GARDEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GARDEN_PREVIEW_TOKEN", TOKEN)
    _reset()
    app = create_app()
    if not any(getattr(route, "path", None) == "/series" for route in app.routes):
        app.include_router(series.router)
        app.include_router(topics.router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    _reset()


@pytest.fixture
def client(
    dataset: str, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A client of content/ or of the publisher's corpus (``backend``: the database picked by name runs on each)."""
    yield from _client(request.getfixturevalue(f"{dataset}_db"), monkeypatch)


@pytest.fixture
def sample_client(content_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from _client(content_db, monkeypatch)  # content/ as ingested once per session (conftest)


@pytest.fixture
def packet_client(packet_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from _client(packet_db, monkeypatch)


def _get(client: TestClient, path: str, *, preview: bool = False) -> Any:
    response = client.get(path, headers=BEARER if preview else {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# --------------------------------------------------------------------------------------------------------
# /series


def _expected_series_list(articles: list[Article]) -> list[dict[str, Any]]:
    expected = []
    for slug, members in series_members(articles).items():
        guide = next((m for m in members if m.series["role"] == "guide"), None)
        first = members[0].series
        expected.append({
            "slug": slug, "title": first["title"], "season": first.get("season"), "memberCount": len(members),
            "guide": {"slug": guide.slug, "title": guide.title} if guide else None,
            "newestUpdate": max(m.updated_at for m in members),
            "_newest": max(m.date for m in members),
        })  # fmt: skip
    expected.sort(key=lambda item: item["slug"])
    expected.sort(key=lambda item: item.pop("_newest"), reverse=True)
    return expected


def test_series_list_has_every_series_with_its_public_member_count(client: TestClient, articles: list[Article]) -> None:
    body = _get(client, "/series")
    SeriesList.model_validate(body)
    expected = _expected_series_list(articles)
    assert len(expected) > 1
    assert body["total"] == len(expected)
    for item in body["items"]:
        assert list(item) == SERIES_ITEM_KEYS
        assert item.pop("url") == f"/series/{item['slug']}"
    assert body["items"] == expected


def test_series_member_counts_include_non_public_members_in_preview(
    client: TestClient, articles: list[Article]
) -> None:
    counts = {item["slug"]: item["memberCount"] for item in _get(client, "/series", preview=True)["items"]}
    assert counts == {slug: len(m) for slug, m in series_members(articles, preview=True).items()}


def test_a_series_lists_its_public_members_in_order(dataset: str, client: TestClient, articles: list[Article]) -> None:
    slug = NAMES[dataset]["series"]
    members = series_members(articles)[slug]
    body = _get(client, f"/series/{slug}")
    SeriesDetail.model_validate(body)
    assert list(body) == ["slug", "title", "season", "memberCount", "members", "warnings"]
    assert body["memberCount"] == len(body["members"]) == len(members)
    assert [(m["order"], m["slug"]) for m in body["members"]] == [(a.series["order"], a.slug) for a in members]
    orders = [m["order"] for m in body["members"]]
    assert orders[0] == 0 and orders == sorted(orders)
    assert max(orders) == max(a.series["order"] for a in members)
    # The corpus is a part of the publisher's: the warnings are what its files give, nothing more.
    assert [w["code"] for w in body["warnings"]] == expected_codes(members)
    missing = sorted(set(range(max(orders) + 1)) - set(orders))
    for warning in body["warnings"]:
        if warning["code"] == "missing-order":
            assert re.findall(r"\d+", warning["message"].split("missing")[1]) == [str(o) for o in missing]
    first = body["members"][0]
    assert list(first) == MEMBER_KEYS
    guide = members[0]
    assert first == {
        "order": 0, "role": "guide", "arc": None, "arcTitle": None, "arcPart": None, "slug": guide.slug,
        "title": guide.title, "summary": guide.summary,
        "articleUrl": f"https://aura-knowledge.github.io/articles/{guide.slug}/",
        "agentJsonPath": f"/agents/articles/{guide.slug}.json",
        "agentMarkdownPath": f"/agents/articles/{guide.slug}.md",
        "apiUrl": f"/articles/{guide.slug}",
    }  # fmt: skip


def test_every_series_matches_its_files(client: TestClient, articles: list[Article]) -> None:
    for preview in (False, True):
        for slug, members in series_members(articles, preview=preview).items():
            body = _get(client, f"/series/{slug}", preview=preview)
            assert [m["slug"] for m in body["members"]] == [a.slug for a in members]
            assert [w["code"] for w in body["warnings"]] == expected_codes(members), (slug, preview)
            assert body["title"] == members[0].series["title"]
            assert body["season"] == members[0].series.get("season")


def _contract_arcs() -> dict[str, str]:
    """The kicker table as DATA-CONTRACT §3 prints it: ``arc → Title, …``."""
    text = " ".join(need_shared(SHARED / "docs" / "DATA-CONTRACT.md").read_text(encoding="utf-8").split())
    table = text.split("It exists only for the attention series:")[1].split(". The API must carry")[0]
    return dict(pair.split(" → ") for pair in table.strip().split(", "))


def test_the_written_arc_table_is_the_contracts() -> None:
    """ARC_TABLE below is the contract's table, word for word and in its order (the parts are its positions)."""
    contract = _contract_arcs()
    assert {arc: title for arc, (title, _) in ARC_TABLE.items()} == contract
    assert list(ARC_TABLE) == list(contract)


def test_the_apps_arc_table_is_the_written_one() -> None:
    assert {arc: title for arc, (title, _) in ARC_TABLE.items()} == ARCS
    assert {arc: part for arc, (_, part) in ARC_TABLE.items()} == ARC_PART


def test_arc_titles_and_parts_follow_the_sites_table(dataset: str, client: TestClient, articles: list[Article]) -> None:
    slug = NAMES[dataset]["arcs"]
    arcs = {a.slug: a.series.get("arc") for a in series_members(articles)[slug]}
    assert set(arcs.values()) - {None}, f"no member of {slug} has an arc"
    body = _get(client, f"/series/{slug}")
    seen = set()
    for member in body["members"]:
        arc = arcs[member["slug"]]
        assert member["arc"] == arc
        if arc is None:
            assert member["arcTitle"] is None and member["arcPart"] is None
        else:
            seen.add(arc)
            assert (member["arcTitle"], member["arcPart"]) == ARC_TABLE[arc]
    assert seen == set(arcs.values()) - {None}
    assert "unknown-arc" not in [w["code"] for w in body["warnings"]]


def test_preview_shows_the_archived_member_and_its_duplicate_order(
    dataset: str, client: TestClient, articles: list[Article]
) -> None:
    slug, duplicated = NAMES[dataset]["duplicate"]
    everyone = series_members(articles, preview=True)[slug]
    hidden = {a.slug for a in everyone if not a.public}
    assert hidden, f"the data has a non-public member in {slug}"
    orders = Counter(a.series["order"] for a in everyone)
    clashes = {order for order, count in orders.items() if count > 1}
    assert clashes, "the archived member collides with a public one"

    anonymous = _get(client, f"/series/{slug}")
    assert hidden.isdisjoint(m["slug"] for m in anonymous["members"])
    assert "duplicate-order" not in [w["code"] for w in anonymous["warnings"]]

    body = _get(client, f"/series/{slug}", preview=True)
    SeriesDetail.model_validate(body)
    assert hidden <= {m["slug"] for m in body["members"]}
    assert body["memberCount"] == len(everyone) == anonymous["memberCount"] + len(hidden)
    duplicates = [w["message"] for w in body["warnings"] if w["code"] == "duplicate-order"]
    assert len(duplicates) == len(clashes)
    for order, message in zip(sorted(clashes), duplicates, strict=True):
        assert f"Order {order} " in message
        for article in everyone:
            if article.series["order"] == order:
                assert article.slug in message
    assert duplicated in clashes  # the corpus: DATA-CONTRACT §3, the-small-rep-theory duplicates order 29
    response = client.get(f"/series/{slug}", headers=BEARER)
    assert response.headers["cache-control"] == "private, no-store"


def test_unknown_series_is_a_404_problem(client: TestClient) -> None:
    for path in ("/series/no-such-series", "/series/%00", "/series/%C3%A9t%C3%A9"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 404 and problem["title"] == "Not Found" and problem["type"] == "about:blank"


# --------------------------------------------------------------------------------------------------------
# /topics


def _expected_topics(articles: list[Article]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"articleCount": 0, "claimCount": 0})
    for article in articles:
        if article.public:
            for topic in set(article.topics):
                out[topic]["articleCount"] += 1
                out[topic]["claimCount"] += article.claims
    return dict(out)


def test_topics_count_public_articles_and_their_claims(client: TestClient, articles: list[Article]) -> None:
    body = _get(client, "/topics")
    TopicList.model_validate(body)
    expected = _expected_topics(articles)
    assert body["total"] == len(body["items"]) == len(expected)
    assert [item["topic"] for item in body["items"]] == sorted(expected)
    for item in body["items"]:
        topic = item["topic"]
        assert item == {
            "topic": topic, "label": topic.replace("-", " "), **expected[topic],
            "url": f"/topics/{topic}",
        }  # fmt: skip


def test_topics_in_preview_count_every_article(client: TestClient, articles: list[Article]) -> None:
    everything = [Article(**{**a.__dict__, "public": True}) for a in articles]
    body = _get(client, "/topics", preview=True)
    counts = {item["topic"]: {"articleCount": item["articleCount"], "claimCount": item["claimCount"]}
              for item in body["items"]}  # fmt: skip
    assert counts == _expected_topics(everything)


def test_topic_lists_its_articles_in_dir_order(client: TestClient, articles: list[Article]) -> None:
    public = [a for a in articles if a.public]
    topics_seen = sorted({t for a in public for t in a.topics})
    for topic in topics_seen:
        expected = sorted((a for a in public if topic in a.topics), key=lambda a: a.dir_key)
        body = _get(client, f"/topics/{topic}")
        assert list(body) == ["topic", "label", "articleCount", "claimCount", "articles"]
        assert [item["slug"] for item in body["articles"]] == [a.slug for a in expected], topic
        assert body["articleCount"] == len(expected)
        assert body["claimCount"] == sum(a.claims for a in expected)
        assert body["label"] == topic.replace("-", " ")


def test_topic_articles_are_the_article_list_items(client: TestClient) -> None:
    biggest = max(_get(client, "/topics")["items"], key=lambda item: item["articleCount"])
    body = _get(client, f"/topics/{biggest['topic']}")
    TopicDetail.model_validate(body)
    listed = _get(client, f"/articles?topic={biggest['topic']}&limit=500")["items"]
    assert sorted(body["articles"], key=lambda a: a["slug"]) == sorted(listed, key=lambda a: a["slug"])


def test_unknown_or_hidden_topic_is_a_404_problem(client: TestClient, articles: list[Article]) -> None:
    public_topics = {t for a in articles if a.public for t in a.topics}
    hidden_only = {t for a in articles if not a.public for t in a.topics} - public_topics
    for topic in ["no-such-topic", "%00", *sorted(hidden_only)]:
        response = client.get(f"/topics/{topic}")
        assert response.status_code == 404, topic
        assert response.headers["content-type"] == "application/problem+json"
    for topic in hidden_only:
        assert _get(client, f"/topics/{topic}", preview=True)["articleCount"] >= 1


# --------------------------------------------------------------------------------------------------------
# HTTP behaviour shared with the other resources.


@pytest.mark.parametrize("path", ["/series", "/series/{series}", "/topics", "/topics/{topic}"])
def test_head_etag_and_unknown_parameters(dataset: str, client: TestClient, path: str) -> None:
    path = path.format(**NAMES[dataset])
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert client.get(path, headers={"If-None-Match": got.headers["etag"]}).status_code == 304
    unknown = client.get(path, params={"limit": "5"})
    assert unknown.status_code == 400 and unknown.json()["parameter"] == "limit"


@pytest.mark.parametrize("path", ["/series/" + "a" * 201, "/topics/" + "a" * 201])
def test_overlong_path_parameters_are_422(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_wrong_token_is_401(client: TestClient) -> None:
    assert client.get("/series", headers={"Authorization": "Bearer nope"}).status_code == 401


# --------------------------------------------------------------------------------------------------------
# Our sample corpus and the packet layout.


def test_sample_series_has_a_guide_chapters_and_an_appendix(
    sample_client: TestClient, sample_articles: list[Article]
) -> None:
    slug = "soil-from-the-ground-up"
    assert _get(sample_client, "/series")["items"] == [
        {**item, "url": f"/series/{item['slug']}"} for item in _expected_series_list(sample_articles)
    ]
    members = series_members(sample_articles)[slug]
    body = _get(sample_client, f"/series/{slug}")
    SeriesDetail.model_validate(body)
    assert [(m["order"], m["role"], m["slug"]) for m in body["members"]] == [
        (a.series["order"], a.series["role"], a.slug) for a in members
    ]
    assert {m["role"] for m in body["members"]} >= {"guide", "chapter", "appendix"}
    assert body["warnings"] == [] == expected_codes(members)
    assert body["season"] == members[0].series.get("season")


def test_sample_archived_member_collides_only_in_preview(
    sample_client: TestClient, sample_articles: list[Article]
) -> None:
    slug = "soil-from-the-ground-up"
    everyone = series_members(sample_articles, preview=True)[slug]
    hidden = [a for a in everyone if not a.public]
    assert len(hidden) == 1
    order = hidden[0].series["order"]
    colliding = [a.slug for a in everyone if a.series["order"] == order]
    assert len(colliding) == 2

    anonymous = _get(sample_client, f"/series/{slug}")
    assert hidden[0].slug not in [m["slug"] for m in anonymous["members"]]
    assert anonymous["warnings"] == []

    body = _get(sample_client, f"/series/{slug}", preview=True)
    assert [m["slug"] for m in body["members"]] == [a.slug for a in everyone]
    assert body["warnings"] == [{
        "code": "duplicate-order", "message": f"Order {order} is held by 2 members: {', '.join(colliding)}.",
    }]  # fmt: skip


def test_sample_topics(sample_client: TestClient, sample_articles: list[Article]) -> None:
    body = _get(sample_client, "/topics")
    expected = _expected_topics(sample_articles)
    assert {item["topic"]: {k: item[k] for k in ("articleCount", "claimCount")} for item in body["items"]} == expected
    for topic in expected:
        want = sorted((a for a in sample_articles if a.public and topic in a.topics), key=lambda a: a.dir_key)
        got = _get(sample_client, f"/topics/{topic}")["articles"]
        assert [item["slug"] for item in got] == [a.slug for a in want]


def test_packet_layout_member_falls_back_to_publishedAt(packet_client: TestClient) -> None:
    packet = json.loads((need_shared(SEEDS) / "fine-tuning.json").read_text(encoding="utf-8"))
    listed = _get(packet_client, "/series")
    SeriesList.model_validate(listed)
    assert [(item["slug"], item["memberCount"], item["guide"]) for item in listed["items"]] == [
        (packet["series"]["slug"], 1, None)
    ]
    body = _get(packet_client, f"/series/{packet['series']['slug']}")
    SeriesDetail.model_validate(body)
    member = body["members"][0]
    assert member["slug"] == packet["slug"] and member["summary"] is None
    codes = [w["code"] for w in body["warnings"]]
    assert "missing-guide" in codes
    assert ("missing-order" in codes) == (packet["series"]["order"] != 0)


# --------------------------------------------------------------------------------------------------------
# The warning rules on synthetic members.


def _m(slug: str, order: int, role: str = "chapter", arc: str | None = None) -> dict[str, Any]:
    return {"slug": slug, "series_order": order, "series_role": role, "series_arc": arc}


def test_warning_rules() -> None:
    assert series_warnings([_m("g", 0, "guide"), _m("a", 1, arc="diagnosis"), _m("b", 2, "appendix")]) == []
    codes = [w["code"] for w in series_warnings([_m("g", 1, "guide"), _m("a", 1), _m("b", 4, arc="nope")])]
    assert codes == ["duplicate-order", "missing-order", "misplaced-guide", "unknown-arc"]
    gaps = series_warnings([_m("g", 0, "guide"), _m("a", 2), _m("b", 5), _m("c", 7)])
    assert gaps == [{"code": "missing-order", "message": "The orders are not contiguous from 0: missing 1, 3-4, 6."}]
    two = series_warnings([_m("g", 0, "guide"), _m("h", 1, "guide")])
    assert [w["code"] for w in two] == ["misplaced-guide"] and "g (order 0), h (order 1)" in two[0]["message"]
    assert [w["code"] for w in series_warnings([_m("a", 0)])] == ["missing-guide"]
    assert [w["code"] for w in series_warnings([_m("g", 0, "guide"), _m("a", 1, arc="synthesis")])] == []


# --------------------------------------------------------------------------------------------------------
# The stored aggregates follow every ingest (app.aggregates)


def _aggregates(client: TestClient) -> dict[str, Any]:
    """/topics and /series as anonymous and preview callers see them, without the URLs."""
    out: dict[str, Any] = {}
    for preview in (False, True):
        topics_body = _get(client, "/topics", preview=preview)
        out[f"topics-{preview}"] = {
            item["topic"]: {"articleCount": item["articleCount"], "claimCount": item["claimCount"]}
            for item in topics_body["items"]
        }
        out[f"series-{preview}"] = [{k: v for k, v in item.items() if k != "url"}
                                    for item in _get(client, "/series", preview=preview)["items"]]  # fmt: skip
    return out


def _expected_aggregates(articles: list[Article]) -> dict[str, Any]:
    everything = [Article(**{**a.__dict__, "public": True}) for a in articles]
    return {
        "topics-False": _expected_topics(articles),
        "series-False": _expected_series_list(articles),
        "topics-True": _expected_topics(everything),
        "series-True": _expected_series_list(everything),
    }


def test_an_ingest_that_changes_or_removes_one_article_keeps_topics_and_series_right(
    databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    url = _ingest(root, databases, "aggregates")
    monkeypatch.setenv("GARDEN_RESPONSE_CACHE_MB", "0")  # answered afresh at once after each ingest, on PostgreSQL too
    with contextmanager(_client)(url, monkeypatch) as client:
        assert _aggregates(client) == _expected_aggregates(read_articles(root))

        # The guide of pollinator-corridors goes back to review (hidden from anonymous callers) with a new topic.
        artifact = root / "articles/2026/pollinator-corridors/artifact.json"
        data = json.loads(artifact.read_text(encoding="utf-8"))
        data["status"], data["topics"] = "review", [*data["topics"], "hedgerows"]
        artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        code, report = ingest_json(root, db_url=url)
        assert code == 0 and report["changes"]["updated"] == ["pollinator-corridors"], report
        changed = _aggregates(client)
        assert changed == _expected_aggregates(read_articles(root))
        assert "hedgerows" in changed["topics-True"] and "hedgerows" not in changed["topics-False"]
        assert next(s for s in changed["series-False"] if s["slug"] == "pollinator-corridors")["guide"] is None

        shutil.rmtree(root / "articles/2026/rainwater-harvesting-for-small-gardens")
        code, report = ingest_json(root, db_url=url, flags=("--prune",))
        assert code == 0 and report["changes"]["removed"] == ["rainwater-harvesting-for-small-gardens"], report
        assert _aggregates(client) == _expected_aggregates(read_articles(root))
