"""Links on this API (``next``, Link headers, series and topic URLs) come from GARDEN_PUBLIC_URL or are relative:
never from the ``Host`` header, which any client sets (issue 12, finding 11: a cache-poisoning path)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import api_client

FORGED = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example", "Accept-Encoding": "identity"}
LINKED = ["/articles?limit=2", "/claims?limit=2", "/series", "/topics"]


def _brief_with_next(client: object) -> str:
    slug = client.get("/articles?limit=1").json()["items"][0]["slug"]  # type: ignore[attr-defined]
    return f"/articles/{slug}/brief?max_tokens=200"


def test_a_forged_host_leaves_no_trace_in_links(content_db: str) -> None:
    with api_client(content_db) as client:
        paths = [*LINKED, _brief_with_next(client)]
        for path in paths:
            response = client.get(path, headers=FORGED)
            assert response.status_code == 200, (path, response.text)
            assert b"attacker" not in response.content, path
            assert "attacker" not in str(response.headers), path
        page = client.get("/articles?limit=2", headers=FORGED)
        assert page.json()["next"].startswith("/articles?limit=2&cursor=")
        assert page.headers["link"] == f'<{page.json()["next"]}>; rel="next"'
        assert client.get("/series", headers=FORGED).json()["items"][0]["url"].startswith("/series/")
        brief = client.get(paths[-1], headers=FORGED).json()
        assert brief["next"] is not None and brief["next"].startswith("/articles/")


def test_with_a_public_url_every_link_starts_with_it(content_db: str) -> None:
    base = "https://api.example.org/garden"
    with api_client(content_db, GARDEN_PUBLIC_URL=base + "/") as client:
        page = client.get("/articles?limit=2", headers=FORGED)
        assert page.json()["next"].startswith(f"{base}/articles?limit=2&cursor=")
        assert page.headers["link"] == f'<{page.json()["next"]}>; rel="next"'
        assert "attacker" not in page.text
        topics = client.get("/topics", headers=FORGED).json()["items"]
        assert topics and all(item["url"] == f"{base}/topics/{item['topic']}" for item in topics)
        members = client.get("/series", headers=FORGED).json()["items"]
        assert members and all(item["url"].startswith(f"{base}/series/") for item in members)
        brief = client.get(_brief_with_next(client), headers=FORGED).json()
        assert brief["next"].startswith(f"{base}/articles/")


@pytest.mark.parametrize("value", ["api.example.org", "ftp://api.example.org", "https://api.example.org/?a=1"])
def test_a_public_url_that_is_not_an_http_base_is_refused_by_name(value: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=value)
