"""The lane (app.lane) answers exactly what FastAPI answers: every status, header (but ``date``) and byte.

One database holds content/ plus the hidden articles of tests/test_visibility_leaks.py (drafts, a review, an
archived one). Two applications read it, one with the lane and one without, and each is asked the same
requests: every GET route of the OpenAPI document with every path value and filter value, lists followed
page by page, searches, and the requests the lane must hand back to FastAPI or answer with an error the way
FastAPI would (unknown and invalid parameters, repeated ones, NUL characters, a forged cursor, an overlong
slug, 404s and 410s, preview tokens good and bad, conditional and gzip requests).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.lane import Lane, lane_route
from app.main import create_app
from app.routers import articles, changes, claims, frontend, search, series, sources, topics
from tests.conftest import api_client
from tests.test_visibility_leaks import (  # noqa: F401 - trees is a fixture
    BEARER,
    HIDDEN,
    SETTINGS,
    Answer,
    Pools,
    _answer,
    page_starts,
    read_pools,
    rest_urls,
    search_urls,
    trees,
)

Request = tuple[str, dict[str, str]]


def client_on(db_url: str, *, lane: bool) -> Any:
    return api_client(db_url, lane=lane, **SETTINGS)


def odd_requests(pools: Pools) -> list[Request]:
    """Requests the lane hands back to FastAPI, or answers with an error, a 304 or gzip."""
    slug, hidden, claim_id = pools.slugs[0], HIDDEN[0], pools.claim_ids[0]
    plain = [
        "/articles?bogus=1", "/articles?limit=0", "/articles?limit=abc", "/articles?limit=2&limit=3",
        "/articles?maturity=ripe", "/articles?topic=", "/articles?topic=a&topic=b,c", "/articles?sort=size",
        "/articles?cursor=not-a-cursor", "/articles?q=%00", "/articles?topic=soil%00", "/articles/%00",
        f"/articles/{'x' * 201}", f"/articles/{'x' * 200}", "/articles/no-such-article", f"/articles/{hidden}",
        f"/articles/article:{slug}", f"/articles/{slug}?x=1", f"/articles/{slug}/brief?max_tokens=0",
        f"/articles/{slug}/brief?max_tokens=1", "/claims?confidence=high&confidence=high", "/claims?max_tokens=1",
        "/claims?has_counterevidence=maybe", "/claims?limit=501", f"/claims/{claim_id}?fields=x",
        "/claims/article:nope:claim-001", "/search", "/search?q=", "/search?q=%21%21", "/search?q=soil&type=x",
        "/search?q=soil&max_tokens=1", "/sources?cited=perhaps", "/topics?limit=3", "/series/no-such-series",
        "/topics/no-such-topic", "/healthz", "/readyz", "/agents/index.json", "/openapi.json",
    ]  # fmt: skip
    requests: list[Request] = [(url, {}) for url in plain]
    for url in ("/articles", f"/articles/{slug}", f"/articles/{hidden}", "/claims?limit=3", "/series"):
        requests += [(url, BEARER), (url, {"Authorization": "Bearer wrong"}), (url, {"Authorization": "Basic x"})]
        later = "Sun, 01 Jan 2090 00:00:00 GMT"
        requests += [(url, {"Accept-Encoding": "gzip"}), (url, {"If-None-Match": "*"}),
                     (url, {"If-None-Match": '"nope"'}), (url, {"If-Modified-Since": later})]  # fmt: skip
    return requests


def ask(client: TestClient, requests: list[Request], pages: list[str]) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    for url, headers in requests:
        response = client.get(url, headers=headers)
        answers[f"{url} {sorted(headers.items())}"] = _answer(response)
        etag = response.headers.get("etag")
        if etag is not None:  # the 304 decided before the route, and the tag of the other coding
            answers[f"{url} {sorted(headers.items())} if-none-match"] = _answer(
                client.get(url, headers={**headers, "If-None-Match": etag})
            )
    for start in pages:
        url: str | None = start
        for number in range(40):
            if url is None:
                break
            response = client.get(url)
            answers[f"{start} page {number}"] = _answer(response)
            url = response.json().get("next") if response.status_code == 200 else None
    return answers


def test_the_lane_answers_every_request_as_fastapi_does(trees: Any) -> None:  # noqa: F811 - the fixture
    with client_on(trees.a, lane=False) as client:
        pools = read_pools(client)
        urls = rest_urls(client, pools) + search_urls(pools)
        requests = [(url, {}) for url in urls] + odd_requests(pools)
        without = ask(client, requests, page_starts())
    with client_on(trees.a, lane=True) as client:
        with_lane = ask(client, requests, page_starts())
    assert with_lane.keys() == without.keys()
    different = [
        f"{key}:\n  lane    {with_lane[key][0]} {with_lane[key][1]} {with_lane[key][2][:200]!r}\n"
        f"  FastAPI {answer[0]} {answer[1]} {answer[2][:200]!r}"
        for key, answer in without.items()
        if with_lane[key] != answer
    ]
    assert not different, f"{len(different)} of {len(without)} answers differ:\n" + "\n".join(different[:10])
    statuses = {answer[0] for answer in without.values()}
    assert {200, 304, 400, 401, 404, 410, 422} <= statuses, statuses  # the set reaches every kind of answer


#: The REST routers, every GET of which the lane answers (the feeds and the event stream are not among them).
REST_ROUTERS = (articles.router, claims.router, search.router, sources.router, series.router, topics.router,
                frontend.router, changes.router)  # fmt: skip


def test_the_lane_takes_every_rest_route_and_nothing_else() -> None:
    """Every GET of the REST routers is a lane route (a new one that is not would lose its speed silently)."""
    for router in REST_ROUTERS:
        for route in router.routes:
            assert lane_route(route) is not None, f"{route.path} is not answered by the lane"  # type: ignore[attr-defined]
    app = create_app()
    lanes = [layer for layer in app.user_middleware if layer.cls is Lane]
    assert len(lanes) == 1
    answering = lanes[0].kwargs["answering"]
    assert {route.path for route in answering} == {  # type: ignore[attr-defined]
        route.path for router in REST_ROUTERS for route in router.routes
    }


@pytest.mark.parametrize("path", ["/agents/index.json", "/healthz", "/readyz", "/agents/articles/x.json"])
def test_agent_files_and_health_are_left_to_fastapi(path: str) -> None:
    app = create_app()
    layer = next(layer for layer in app.user_middleware if layer.cls is Lane)
    lane = Lane(app, **layer.kwargs)
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "query_string": b"", "headers": []}
    assert lane._match(scope) is None


def test_the_lane_answers_good_requests_itself_and_hands_bad_ones_back(
    trees: Any,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import app.lane

    answered: list[str] = []
    run = app.lane._run

    def counting(lane: Any, request: Any, values: Any, preview: bool) -> Any:
        answered.append(request.url.path)
        return run(lane, request, values, preview)

    monkeypatch.setattr(app.lane, "_run", counting)
    with client_on(trees.a, lane=True) as client:
        slug = client.get("/articles?limit=1").json()["items"][0]["slug"]
        answered.clear()
        for url in (f"/articles/{slug}", "/claims?limit=3", "/series", "/topics", "/search?q=soil"):
            assert client.get(url).status_code == 200
        assert client.get(f"/articles/{slug}?bogus=1").status_code == 400
        assert client.get("/articles?maturity=ripe").status_code == 422
        assert client.get("/healthz").status_code == 200
    assert answered == [f"/articles/{slug}", "/claims", "/series", "/topics", "/search"]
