"""The HTTP behaviour clients rely on, through the real app: conditional GET, gzip, CORS, visibility and the
preview token, the problem+json error shape, HEAD, the brief and body representations, claim citations,
reloading a corpus without a restart, and readiness.

Expectations are computed from the input files (our content/, and ../shared/corpus where a test also runs on
the publisher's corpus), never from the code under test. The read-only databases come from conftest:
``content_db`` (our content/, with the draft ``street-trees-and-urban-heat`` and the archived
``hot-composting-in-seven-days``), served with and without a preview token, and ``corpus_db`` (the publisher's
corpus: its variants skip without ../shared).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import shutil
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import CONTENT, CORPUS, after_reingest, api_client, app_statements, ingest_json, need_shared

TOKEN = "preview-7d1c9e2a-http-tests"  # distinctive, so a leak anywhere is found by a substring search
BEARER = {"Authorization": f"Bearer {TOKEN}"}
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}
PROBLEM = "application/problem+json"

PUBLIC = "mulch-cover-crops-and-no-dig"  # a published article of content/, its body well over 1 KB
CORPUS_ARCHIVED = "the-small-rep-theory"  # the publisher's archived article
DRAFT = "street-trees-and-urban-heat"  # in content/
ARCHIVED = "hot-composting-in-seven-days"  # in content/
STRONG_ETAG = re.compile(r'"[^"\s]+"')


@pytest.fixture
def corpus(content_db: str) -> Iterator[TestClient]:
    """A client on an app serving content/ with no preview token configured."""
    with api_client(content_db) as client:
        yield client


@pytest.fixture
def content(content_db: str) -> Iterator[TestClient]:
    """A client on an app serving content/, with a preview token configured."""
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        yield client


def article_dir(articles: Path, slug: str) -> Path:
    """The directory of an article under a ``content/articles`` tree."""
    [found] = articles.glob(f"*/{slug}")
    return found


@pytest.fixture(params=["content", "corpus"])
def tree(request: pytest.FixtureRequest, backend: str) -> Iterator[tuple[TestClient, Path]]:
    """(a client, the ``content/articles`` tree it serves): our content/, and the publisher's corpus when
    ../shared is there (its 73 articles hold odder front matter and bodies than ours)."""
    if request.param == "content":
        database, articles = "content_db", CONTENT / "articles"
    else:
        database, articles = "corpus_db", need_shared(CORPUS / "content" / "articles")
    with api_client(request.getfixturevalue(database)) as client:
        yield client, articles


def assert_problem(response: httpx.Response, status: int, parameter: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with ``status`` (and names ``parameter`` if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if parameter is not None:
        assert body.get("parameter") == parameter, body
    return body


def slugs_of(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None and body["total"] == len(body["items"]), "the page should hold every item"
    return {item["slug"] for item in body["items"]}


# --------------------------------------------------------------------------------------------------------
# Conditional GET


def test_a_200_carries_a_strong_etag_and_if_none_match_with_it_answers_304(corpus: TestClient) -> None:
    first = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert STRONG_ETAG.fullmatch(etag), f"not a strong entity tag: {etag}"

    again = corpus.get(f"/articles/{PUBLIC}", headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    for name in ("cache-control", "last-modified", "x-corpus-version", "vary"):
        assert again.headers[name] == first.headers[name], name
    assert "content-encoding" not in again.headers


def test_a_different_etag_answers_200_with_the_body(corpus: TestClient) -> None:
    first = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY)
    other = corpus.get(f"/articles/{PUBLIC}", headers={**IDENTITY, "If-None-Match": '"0123456789abcdef"'})
    assert other.status_code == 200
    assert other.content == first.content
    assert other.headers["etag"] == first.headers["etag"]


def test_weak_form_and_lists_of_etags_match(corpus: TestClient) -> None:
    etag = corpus.get("/claims?limit=5", headers=IDENTITY).headers["etag"]
    for header in (f"W/{etag}", f'"nope", {etag}', f'W/"nope",W/{etag}', f'"a", "b",  {etag} ', "*"):
        response = corpus.get("/claims?limit=5", headers={**IDENTITY, "If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
    missing = corpus.get("/claims?limit=5", headers={**IDENTITY, "If-None-Match": '"nope", W/"other"'})
    assert missing.status_code == 200


def test_a_gzip_negotiated_etag_validates_too(corpus: TestClient) -> None:
    plain = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY)
    zipped = corpus.get(f"/articles/{PUBLIC}", headers=GZIP)
    assert zipped.headers["content-encoding"] == "gzip"
    etag = zipped.headers["etag"]
    assert etag.endswith('-gz"') and STRONG_ETAG.fullmatch(etag)
    assert etag != plain.headers["etag"], "a strong validator differs per content coding"

    revalidated = corpus.get(f"/articles/{PUBLIC}", headers={**GZIP, "If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag


def test_if_modified_since_equal_to_last_modified_answers_304(corpus: TestClient) -> None:
    first = corpus.get("/articles?limit=3", headers=IDENTITY)
    last_modified = first.headers["last-modified"]
    assert parsedate_to_datetime(last_modified).tzinfo is not None  # an HTTP-date, in GMT

    same = corpus.get("/articles?limit=3", headers={**IDENTITY, "If-Modified-Since": last_modified})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == first.headers["etag"]

    earlier = parsedate_to_datetime(last_modified) - dt.timedelta(days=1)
    stale = corpus.get("/articles?limit=3", headers={**IDENTITY, "If-Modified-Since": earlier.strftime(
        "%a, %d %b %Y %H:%M:%S GMT")})  # fmt: skip
    assert stale.status_code == 200
    assert stale.content == first.content


@pytest.mark.parametrize(
    "path",
    [f"/articles/{PUBLIC}", f"/claims/article:{PUBLIC}:claim-001", "/claims?limit=5", "/topics", "/series",
     "/search?q=soil", f"/agents/articles/{PUBLIC}.json", "/agents/index.json", "/agents/feeds/claims.jsonl"],
)  # fmt: skip
def test_a_304_runs_no_query_beyond_the_corpus_version(content_db: str, tmp_path: Path, path: str) -> None:
    """The ETag is known before the route runs (app.http.revalidate): a matching If-None-Match is answered
    right after the corpus version is read, without building the body; the 200 runs the route's queries."""
    env = {"GARDEN_RESPONSE_CACHE_MB": "0", "GARDEN_CACHE_DIR": str(tmp_path / "files")}
    with api_client(content_db, **env) as client:
        with app_statements() as full:
            first = client.get(path, headers=GZIP)
        assert first.status_code == 200 and len(full) > 1, full
        for headers in (GZIP, IDENTITY):  # any content coding's tag validates (weak comparison)
            with app_statements() as seen:
                again = client.get(path, headers={**headers, "If-None-Match": first.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            assert len(seen) == 1 and "FROM corpus" in seen[0], seen
        assert again.headers["etag"] == first.headers["etag"].removesuffix('-gz"') + '"'
        assert again.headers["x-corpus-version"] == first.headers["x-corpus-version"]
        assert again.headers["last-modified"] == first.headers["last-modified"]


def test_the_etag_changes_with_the_date_and_the_callers_visibility(content_db: str) -> None:
    """Claim states turn stale with the date, and preview callers see other articles: either gives another tag
    for the same URL at the same corpus version, and the other's tag is answered 200."""
    path = "/articles/composting-without-the-guesswork"
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN, GARDEN_TODAY="2026-11-22") as client:
        today = client.get(path, headers=IDENTITY)
        preview = client.get(path, headers={**IDENTITY, **BEARER})
        assert preview.status_code == today.status_code == 200
        assert preview.headers["etag"] != today.headers["etag"]
        assert (
            client.get(path, headers={**IDENTITY, **BEARER, "If-None-Match": today.headers["etag"]}).status_code == 200
        )
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN, GARDEN_TODAY="2026-11-23") as client:
        tomorrow = client.get(path, headers=IDENTITY)
        assert tomorrow.status_code == 200 and tomorrow.headers["etag"] != today.headers["etag"]
        assert client.get(path, headers={**IDENTITY, "If-None-Match": today.headers["etag"]}).status_code == 200


def test_only_a_matching_if_none_match_is_decided_before_the_route(corpus: TestClient) -> None:
    """``*`` and If-Modified-Since wait for the route: a URL that is a 404 stays a 404 under them; another URL's
    tag is another URL's."""
    first = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY)
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    for headers in ({"If-None-Match": "*"}, {"If-Modified-Since": later}):
        assert corpus.get("/articles/no-such-article", headers=headers).status_code == 404
        assert corpus.get("/topics/no-such-topic", headers=headers).status_code == 404
        assert corpus.get(f"/articles/{PUBLIC}", headers={**IDENTITY, **headers}).status_code == 304
    elsewhere = corpus.get(f"/articles/{PUBLIC}/claims", headers={**IDENTITY, "If-None-Match": first.headers["etag"]})
    assert elsewhere.status_code == 200 and elsewhere.headers["etag"] != first.headers["etag"]
    query = corpus.get(f"/articles/{PUBLIC}?x=1", headers={**IDENTITY, "If-None-Match": first.headers["etag"]})
    assert query.status_code == 400


# --------------------------------------------------------------------------------------------------------
# gzip


def test_gzip_compresses_a_large_body_to_the_same_json(corpus: TestClient) -> None:
    plain = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY)
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert len(plain.content) > 1024

    with corpus.stream("GET", f"/articles/{PUBLIC}", headers=GZIP) as zipped:
        raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert int(zipped.headers["content-length"]) == len(raw)
    assert len(raw) < len(plain.content)
    assert gzip.decompress(raw) == plain.content
    assert json.loads(gzip.decompress(raw)) == plain.json()


@pytest.mark.parametrize(
    ("accept_encoding", "compressed"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("br", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("identity, gzip;q=0", False),
        ("GZIP", True),
    ],
)  # fmt: skip
def test_gzip_follows_accept_encoding(corpus: TestClient, accept_encoding: str, compressed: bool) -> None:
    response = corpus.get(f"/articles/{PUBLIC}", headers={"Accept-Encoding": accept_encoding})
    assert response.status_code == 200
    assert (response.headers.get("content-encoding") == "gzip") is compressed
    assert response.headers["etag"].endswith('-gz"') is compressed


def test_a_small_body_is_not_compressed(corpus: TestClient) -> None:
    response = corpus.get("/healthz", headers=GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.json() == {"status": "ok"}


# --------------------------------------------------------------------------------------------------------
# CORS


def test_a_preflight_is_answered_with_the_allowed_origin_and_methods(corpus: TestClient) -> None:
    response = corpus.options(
        "/articles",
        headers={
            "Origin": "https://reader.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, If-None-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://reader.example")
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "HEAD"} <= methods
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "if-none-match"} <= allowed


def test_a_cross_origin_get_may_read_etag_and_link(corpus: TestClient) -> None:
    response = corpus.get("/articles?limit=1", headers={"Origin": "https://reader.example"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://reader.example")
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "link"} <= exposed
    assert "etag" in response.headers and 'rel="next"' in response.headers["link"]


# --------------------------------------------------------------------------------------------------------
# Visibility and the preview token


@pytest.mark.parametrize(("database", "slug"), [("corpus_db", CORPUS_ARCHIVED), ("content_db", ARCHIVED)])
def test_an_archived_article_is_gone(request: pytest.FixtureRequest, backend: str, database: str, slug: str) -> None:
    # ``backend`` is asked for so that the database fixture picked by name runs on each backend.
    with api_client(request.getfixturevalue(database)) as client:
        for path in (f"/articles/{slug}", f"/articles/article:{slug}", f"/articles/{slug}/brief"):
            body = assert_problem(client.get(path), 410)
            assert slug in body["detail"]


def test_a_draft_is_404_without_the_token_and_200_with_it(content: TestClient) -> None:
    for path in (f"/articles/{DRAFT}", f"/articles/{DRAFT}/body", f"/articles/{DRAFT}/brief.md"):
        assert_problem(content.get(path), 404)
        assert content.get(path, headers=BEARER).status_code == 200, path
    article = content.get(f"/articles/{DRAFT}", headers=BEARER).json()
    assert article["slug"] == DRAFT and article["status"] == "draft"
    archived = content.get(f"/articles/{ARCHIVED}", headers=BEARER)
    assert archived.status_code == 200 and archived.json()["slug"] == ARCHIVED


def test_anonymous_lists_never_contain_the_draft_or_the_archived_article(content: TestClient) -> None:
    hidden = {DRAFT, ARCHIVED}
    for path in ("/articles?limit=500", "/claims?limit=500", "/sources?limit=500"):
        assert not slugs_of(content.get(path)) & hidden, path
    for path in (f"/claims?article={DRAFT}", f"/sources?article={ARCHIVED}", f"/articles?q={DRAFT.split('-')[0]}"):
        assert not slugs_of(content.get(path)) & hidden, path


def test_preview_lists_contain_them_and_status_filters(content: TestClient) -> None:
    every = slugs_of(content.get("/articles?limit=500", headers=BEARER))
    public = slugs_of(content.get("/articles?limit=500"))
    assert {DRAFT, ARCHIVED} <= every
    assert every - public == {DRAFT, ARCHIVED}
    assert {DRAFT, ARCHIVED} <= slugs_of(content.get("/claims?limit=500", headers=BEARER))
    assert slugs_of(content.get("/articles?status=draft", headers=BEARER)) == {DRAFT}
    assert slugs_of(content.get("/articles?status=archived", headers=BEARER)) == {ARCHIVED}
    assert slugs_of(content.get("/articles?status=draft,archived", headers=BEARER)) == {DRAFT, ARCHIVED}
    # Filtering by status is a preview feature.
    assert_problem(content.get("/articles?status=draft"), 403, parameter="status")


def test_preview_responses_are_private_and_anonymous_ones_public(content: TestClient) -> None:
    for path in ("/articles", f"/articles/{DRAFT}", f"/articles/{DRAFT}/brief.md", "/claims?limit=3"):
        preview = content.get(path, headers=BEARER)
        assert preview.status_code == 200
        assert preview.headers["cache-control"] == "private, no-store", path
        assert "Authorization" in preview.headers["vary"]
    for path in ("/articles", "/articles/composting-without-the-guesswork", "/claims?limit=3", "/sources"):
        anonymous = content.get(path)
        assert anonymous.status_code == 200
        assert anonymous.headers["cache-control"] == "public, max-age=60", path
        assert "Authorization" in anonymous.headers["vary"]


@pytest.mark.parametrize("authorization", ["Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer"])
def test_a_wrong_token_is_401_with_www_authenticate(content: TestClient, authorization: str) -> None:
    response = content.get("/articles", headers={"Authorization": authorization, "Origin": "https://reader.example"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["access-control-allow-origin"] in ("*", "https://reader.example")


def test_a_non_ascii_token_is_401_not_500(content: TestClient) -> None:
    client = TestClient(content.app, raise_server_exceptions=False)
    response = client.get("/articles", headers={"Authorization": "Bearer t\xe9k".encode("latin-1")})
    assert_problem(response, 401)


def test_no_token_configured_means_no_preview(content_db: str) -> None:
    with api_client(content_db) as client:
        assert_problem(client.get(f"/articles/{DRAFT}", headers=BEARER), 401)


def test_the_token_never_appears_in_a_response(content: TestClient) -> None:
    paths = [
        "/articles?limit=2", f"/articles/{DRAFT}", f"/articles/{DRAFT}/body", f"/articles/{DRAFT}/brief",
        f"/articles/{DRAFT}/brief.md", f"/articles/{DRAFT}/claims?include=evidence,counterevidence,sources",
        f"/articles/{DRAFT}/sources", f"/articles/{DRAFT}/related", f"/claims/article:{DRAFT}:claim-001",
        "/claims?limit=2", "/sources?limit=2", "/articles?status=draft", "/healthz", "/readyz", "/openapi.json",
        "/articles/nope", "/articles?colour=red", "/articles?limit=0", "/articles?cursor=bad", "/nowhere",
    ]  # fmt: skip
    seen = 0
    for path in paths:
        for headers in (BEARER, {"Authorization": f"Bearer {TOKEN}-wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            for method in ("GET", "HEAD"):
                response = content.request(method, path, headers={**headers, "Origin": "https://reader.example"})
                seen += 1
                assert TOKEN not in response.text, (method, path, headers)
                for name, value in response.headers.items():
                    assert TOKEN not in value, (method, path, name)
    assert seen == len(paths) * 6


# --------------------------------------------------------------------------------------------------------
# Errors: every one is application/problem+json


@pytest.mark.parametrize(
    ("method", "path", "status", "parameter"),
    [
        ("GET", "/no/such/path", 404, None),
        ("GET", "/articles/no-such-article", 404, None),
        ("GET", "/articles/no-such-article/body", 404, None),
        ("GET", f"/articles/{PUBLIC}/sources/source-nope", 404, None),
        ("POST", "/articles", 405, None),
        ("DELETE", f"/articles/{PUBLIC}", 405, None),
        ("GET", "/articles?colour=red", 400, "colour"),
        ("GET", f"/articles/{PUBLIC}?verbose=1", 400, "verbose"),
        ("GET", "/claims?page=2", 400, "page"),
        ("GET", "/articles?limit=0", 422, "limit"),
        ("GET", "/articles?limit=501", 422, "limit"),
        ("GET", "/articles?sort=random", 422, "sort"),
        ("GET", "/articles?min_confidence=certain", 422, "min_confidence"),
        ("GET", "/claims?confidence=certain", 422, "confidence"),  # a repeatable filter: not "confidence.0"
        ("GET", "/articles?maturity=seed,ripe", 422, "maturity"),
        ("GET", f"/articles/{PUBLIC}/claims?include=evidence&include=everything", 422, "include"),
        ("GET", "/articles?updated_since=2026-02-30", 422, "updated_since"),
        ("GET", "/sources?cited=perhaps", 422, "cited"),
        ("GET", "/articles?fields=title,colour", 422, "fields"),
        ("GET", "/articles?cursor=not-a-cursor", 400, "cursor"),
        ("GET", "/claims?cursor=e30", 400, "cursor"),  # base64 of {}
        ("GET", f"/claims/article:{PUBLIC}:claim-999", 404, None),
        ("GET", "/claims/no-such-claim", 404, None),
        ("GET", f"/articles/{ARCHIVED}", 410, None),
        ("GET", f"/claims/article:{ARCHIVED}:claim-001", 410, None),
    ],
)
def test_every_error_is_problem_json(
    corpus: TestClient, method: str, path: str, status: int, parameter: str | None
) -> None:
    response = corpus.request(method, path)
    assert_problem(response, status, parameter)
    if status == 405:
        assert "GET" in response.headers["allow"]


def test_a_cursor_is_refused_under_another_filter_or_sort(corpus: TestClient) -> None:
    first = corpus.get("/articles?limit=2&sort=title")
    next_url = first.json()["next"]
    assert first.headers["link"] == f'<{next_url}>; rel="next"'
    [cursor] = parse_qs(urlsplit(next_url).query)["cursor"]
    assert corpus.get(next_url).status_code == 200  # the link itself works
    assert corpus.get("/articles", params={"limit": 5, "sort": "title", "cursor": cursor}).status_code == 200
    for params in ({"sort": "-published"}, {"sort": "title", "maturity": "seed"}, {"sort": "title", "q": "ai"}):
        body = assert_problem(corpus.get("/articles", params={**params, "cursor": cursor}), 400, "cursor")
        assert "another sort or other filters" in body["detail"]
    # A cursor from one list is no cursor for another.
    assert_problem(corpus.get("/claims", params={"cursor": cursor}), 400, "cursor")


@pytest.mark.parametrize("path", ["/articles/pollinator-corridors/claims", "/articles/pollinator-corridors/brief"])
def test_a_cursor_without_a_budget_is_refused_not_ignored(corpus: TestClient, path: str) -> None:
    """These lists are paged only by max_tokens: a cursor alone would silently answer the first page."""
    budgeted = corpus.get(path, params={"max_tokens": 120}).json()
    assert budgeted["nextCursor"] is not None
    body = assert_problem(corpus.get(path, params={"cursor": budgeted["nextCursor"]}), 422, "cursor")
    assert body["detail"] == "cursor: only with max_tokens: without a budget the whole list comes at once"
    assert corpus.get(budgeted["next"]).status_code == 200


@pytest.mark.parametrize("key", [["a\x00", 1], ["2026/x", "not-a-position"], [1, 1], ["2026/x"]])
def test_a_forged_cursor_with_a_well_formed_digest_is_a_400(corpus: TestClient, key: list[Any]) -> None:
    """The digest binds a cursor to its filters but holds no secret: anyone can make one around any key. A key
    that PostgreSQL would refuse (a NUL, a string for an integer column) is a 400, as on SQLite, never a 500."""
    from app.queries.paging import encode_cursor
    from app.queries.params import ClaimParams

    cursor = encode_cursor(ClaimParams(), key)
    response = corpus.get("/claims", params={"cursor": cursor})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_problem(response, 400, "cursor")


def _mistyped_keys() -> list[tuple[str, dict[str, str], list[Any]]]:
    """For every keyset of /articles (each sort), /claims and /sources: a key with one position of the wrong
    type (an integer for text, text for an integer), the rest well-typed."""
    from app.queries import articles, claims, sources
    from app.queries.paging import Keyset, key_kind

    keysets: list[tuple[str, dict[str, str], Keyset]] = [
        *(("/articles", {"sort": sort}, keyset) for sort, keyset in articles.SORTS.items()),
        ("/claims", {}, claims.KEYSET),
        ("/sources", {}, sources.KEYSET),
    ]
    cases = []
    for path, params, keyset in keysets:
        good: list[Any] = [0 if key_kind(column) is int else "m" for column in keyset.columns]
        for position in range(len(good)):
            key = list(good)
            key[position] = "m" if isinstance(key[position], int) else 7
            cases.append((path, params, key))
    return cases


@pytest.mark.parametrize(("path", "params", "key"), _mistyped_keys())
def test_a_cursor_key_of_the_wrong_type_is_a_400_on_every_sort(
    content: TestClient, path: str, params: dict[str, str], key: list[Any]
) -> None:
    """An integer where a sort column holds text (PostgreSQL: "operator does not exist: text > integer", once a
    500 under sort=title, whose lower(title) had no declared type) or text where it holds an integer."""
    from app.queries.params import ArticleParams, ClaimParams, SourceParams

    model = {"/articles": ArticleParams, "/claims": ClaimParams, "/sources": SourceParams}[path]
    from app.queries.paging import encode_cursor

    cursor = encode_cursor(model(**params), key)
    assert_problem(content.get(path, params={**params, "cursor": cursor}), 400, "cursor")


def _list_filters() -> list[tuple[str, str]]:
    from app.queries.params import ArticleParams, ClaimParams, SearchParams, SourceParams

    lists = []
    for path, model in (("/articles", ArticleParams), ("/claims", ClaimParams), ("/sources", SourceParams),
                        ("/search?q=soil", SearchParams)):  # fmt: skip
        lists += [(path, name) for name, info in model.model_fields.items() if "list" in str(info.annotation)]
    return lists


@pytest.mark.parametrize(("path", "name"), _list_filters())
@pytest.mark.parametrize("empty", ["", " ", ","])
def test_an_empty_list_filter_is_a_422_naming_it(content: TestClient, path: str, name: str, empty: str) -> None:
    """``/articles?audience=&claim_state=`` once answered 200 with every article: an empty filter was no filter."""
    separator = "&" if "?" in path else "?"
    body = assert_problem(content.get(f"{path}{separator}{name}={empty}"), 422, name)
    assert "empty" in body["detail"]


# --------------------------------------------------------------------------------------------------------
# HEAD


@pytest.mark.parametrize(
    "path",
    [
        "/articles?limit=3",
        f"/articles/{PUBLIC}",
        f"/articles/{PUBLIC}/brief.md",
        f"/claims/article:{PUBLIC}:claim-001",
        "/healthz",
        "/articles/no-such-article",
        f"/articles/{ARCHIVED}",
        "/articles?colour=red",
    ],
)
@pytest.mark.parametrize("encoding", [IDENTITY, GZIP])
def test_head_answers_like_get_without_a_body(corpus: TestClient, path: str, encoding: dict[str, str]) -> None:
    get = corpus.get(path, headers=encoding)
    head = corpus.head(path, headers=encoding)
    assert head.status_code == get.status_code
    assert dict(head.headers) == dict(get.headers)
    assert head.content == b""


def test_head_revalidates_like_get(corpus: TestClient) -> None:
    etag = corpus.get(f"/articles/{PUBLIC}", headers=IDENTITY).headers["etag"]
    head = corpus.head(f"/articles/{PUBLIC}", headers={**IDENTITY, "If-None-Match": etag})
    assert head.status_code == 304 and head.headers["etag"] == etag and head.content == b""


# --------------------------------------------------------------------------------------------------------
# Representations: brief, brief.md, body


def link_targets(response: httpx.Response, rel: str) -> list[str]:
    return re.findall(rf'<([^>]+)>\s*;\s*rel="{rel}"', response.headers.get("link", ""))


def public_slugs(articles: Path) -> list[str]:
    slugs = []
    for artifact in sorted(articles.glob("*/*/artifact.json")):
        data = json.loads(artifact.read_text(encoding="utf-8"))
        if data["status"] == "published":
            slugs.append(data["slug"])
    return slugs


def test_brief_and_brief_md_name_each_other(corpus: TestClient) -> None:
    brief = corpus.get(f"/articles/{PUBLIC}/brief")
    markdown = corpus.get(f"/articles/{PUBLIC}/brief.md")
    assert brief.status_code == markdown.status_code == 200
    assert brief.headers["content-type"] == "application/json"
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert link_targets(brief, "alternate") == [f"/articles/{PUBLIC}/brief.md"]
    assert link_targets(markdown, "alternate") == [f"/articles/{PUBLIC}/brief"]
    assert 'type="text/markdown"' in brief.headers["link"]
    assert 'type="application/json"' in markdown.headers["link"]
    # Following each link lands on the other representation.
    assert corpus.get(link_targets(brief, "alternate")[0]).content == markdown.content
    assert corpus.get(link_targets(markdown, "alternate")[0]).json() == brief.json()
    assert brief.json()["markdown"] == markdown.text


def test_brief_md_is_the_stored_agent_md_and_body_is_article_md_without_front_matter(
    tree: tuple[TestClient, Path],
) -> None:
    corpus, articles = tree
    slugs = public_slugs(articles)
    assert len(slugs) >= 9
    for slug in slugs:
        folder = article_dir(articles, slug)
        brief = corpus.get(f"/articles/{slug}/brief.md")
        assert brief.status_code == 200, slug
        assert brief.headers["content-type"] == "text/markdown; charset=utf-8"
        assert brief.content == (folder / "agent.md").read_bytes(), slug

        markdown = (folder / "article.md").read_text(encoding="utf-8")
        assert markdown.startswith("---\n")
        end = markdown.index("\n---\n", 4) + len("\n---\n")
        body = corpus.get(f"/articles/{slug}/body")
        assert body.status_code == 200, slug
        assert body.headers["content-type"] == "text/markdown; charset=utf-8"
        assert body.text == markdown[end:], slug
        assert not body.text.lstrip().startswith("---")


# --------------------------------------------------------------------------------------------------------
# /claims/{id}


def test_a_claim_cites_its_anchor_evidence_and_verification(tree: tuple[TestClient, Path]) -> None:
    corpus, articles = tree
    for slug in public_slugs(articles):
        check_claims(corpus, slug, json.loads((article_dir(articles, slug) / "artifact.json").read_text("utf-8")))


def check_claims(corpus: TestClient, slug: str, artifact: dict[str, Any]) -> None:
    """Every claim of one article as /claims/{id} serves it: anchor, evidence resolved to its sources, verification."""
    sources = {source["id"]: source for source in artifact["sources"]}
    assert artifact["claims"]
    for claim in artifact["claims"]:
        claim_id = f"article:{slug}:{claim['id']}"
        response = corpus.get(f"/claims/{claim_id}")
        assert response.status_code == 200, claim_id
        body = response.json()
        assert body["claimId"] == claim_id and body["localClaimId"] == claim["id"]
        assert re.fullmatch(r"claim-\d{3}", claim["id"])
        assert body["articleUrl"].endswith(f"/articles/{slug}/")
        assert body["citationUrl"] == f"{body['articleUrl']}#{claim['id']}"
        assert body["claim"] == claim["claim"]
        assert body["verification"] == claim.get("verification")
        assert len(body["evidence"]) == len(claim["evidence"])
        for served, packet in zip(body["evidence"], claim["evidence"], strict=True):
            assert served["sourceId"] == packet["sourceId"]
            assert served["snippet"] == packet["snippet"]
            source = sources.get(packet["sourceId"])
            if source is None:
                assert served["source"] is None
            else:
                assert served["source"]["title"] == source["title"]
                assert served["source"]["url"] == source["url"]
        assert body["article"]["slug"] == slug and body["article"]["title"] == artifact["title"]


# --------------------------------------------------------------------------------------------------------
# Reload without restart; readiness


def retitle(tree: Path, slug: str, old: str, new: str) -> None:
    """Change an article's title in its article.md front matter and its artifact.json."""
    [folder] = (tree / "articles").glob(f"*/{slug}")
    markdown = folder / "article.md"
    text = markdown.read_text(encoding="utf-8")
    assert f"\ntitle: {old}\n" in text
    markdown.write_text(text.replace(f"\ntitle: {old}\n", f"\ntitle: {new}\n", 1), encoding="utf-8")
    artifact = folder / "artifact.json"
    data = json.loads(artifact.read_text(encoding="utf-8"))
    assert data["title"] == old
    data["title"] = new
    artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def test_a_new_ingest_is_served_without_a_restart(tmp_path: Path, db_url: str) -> None:
    slug, old, new = "composting-without-the-guesswork", "Composting Without the Guesswork", "Compost, Reconsidered"
    tree = tmp_path / "content"
    shutil.copytree(CONTENT, tree)
    code, report = ingest_json(tree, db_url=db_url)
    assert code == 0, report["errors"]

    with api_client(db_url) as client:
        before = client.get(f"/articles/{slug}", headers=IDENTITY)
        assert before.status_code == 200 and before.json()["title"] == old
        version = int(before.headers["x-corpus-version"])
        topics_before = client.get("/topics", headers=IDENTITY)

        retitle(tree, slug, old, new)
        code, report = ingest_json(tree, db_url=db_url)
        assert code == 0, report["errors"]
        assert report["changes"]["updated"] == [slug]

        after = after_reingest(client, f"/articles/{slug}", version, headers=IDENTITY)
        assert after.status_code == 200 and after.json()["title"] == new
        assert int(after.headers["x-corpus-version"]) > version
        assert after.headers["etag"] != before.headers["etag"]
        # The tag names the corpus, not the bytes: /topics reads the same (no topic changed), under a new tag.
        assert client.get("/topics", headers=IDENTITY).content == topics_before.content
        assert client.get("/topics", headers=IDENTITY).headers["etag"] != topics_before.headers["etag"]
        # The old validator no longer holds; the list shows the new title too.
        stale = client.get(f"/articles/{slug}", headers={**IDENTITY, "If-None-Match": before.headers["etag"]})
        assert stale.status_code == 200
        titles = {item["slug"]: item["title"] for item in client.get("/articles?limit=500").json()["items"]}
        assert titles[slug] == new
        assert client.get("/readyz").json()["corpus"]["version"] == int(after.headers["x-corpus-version"])


def test_readyz_reports_the_corpus_counts_and_last_ingest(tmp_path: Path, db_url: str, backend: str) -> None:
    started = dt.datetime.now(dt.UTC)
    code, report = ingest_json(CONTENT, db_url=db_url)
    finished = dt.datetime.now(dt.UTC)
    assert code == 0, report["errors"]
    artifacts = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CONTENT.glob("articles/*/*/artifact.json"))]

    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        response = client.get("/readyz", headers=BEARER)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready" and body["database"] == backend
        corpus = body["corpus"]
        assert corpus["version"] == report["corpusVersion"]
        assert corpus["articles"] == report["counts"]["articles"] == len(artifacts)
        assert corpus["publicArticles"] == report["counts"]["public_articles"]
        assert corpus["publicArticles"] == len(artifacts) - 2  # all but the draft and the archived article
        assert corpus["claims"] == report["counts"]["claims"] == sum(len(a["claims"]) for a in artifacts)
        # Anonymous callers learn only the public counts: not how many drafts, reviews or archived articles
        # are stored (app.queries.common.hides).
        anonymous = client.get("/readyz").json()["corpus"]
        assert anonymous | {"articles": None, "claims": None} == corpus | {"articles": None, "claims": None}
        assert anonymous["articles"] == anonymous["publicArticles"] == report["counts"]["public_articles"]
        assert anonymous["claims"] == report["counts"]["public_claims"]
        ingested = dt.datetime.fromisoformat(corpus["ingestedAt"])
        assert ingested.tzinfo is not None
        assert started - dt.timedelta(seconds=1) <= ingested <= finished + dt.timedelta(seconds=1)
        # Last-Modified on the resources is that same moment, to the second.
        last_modified = parsedate_to_datetime(client.get("/articles?limit=1").headers["last-modified"])
        assert last_modified == ingested.replace(microsecond=0)
