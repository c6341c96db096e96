"""The agent layer serves the publisher's agent files byte for byte, live from the database.

The byte-for-byte comparisons need the publisher's corpus and its expected files (../shared) and skip without
them; the rest runs on our content/ (tests/test_agent_layer_rules_*.py builds the files' rules on small trees)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import api_client, ingest_json

MEDIA_TYPES = {".json": "application/json", ".jsonl": "application/x-ndjson", ".md": "text/markdown; charset=utf-8",
               ".txt": "text/plain; charset=utf-8"}  # fmt: skip


TOKEN = "preview-5c0a3e-agent-layer"


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "anonymous"])
def test_every_expected_file_is_served_byte_for_byte(corpus_db: str, expected_dir: Path, preview: bool) -> None:
    """With the preview token the files are the publisher's over every article. The corpus holds no draft or
    review article (73 published, 1 archived, which the reports list for everyone), so an anonymous caller
    gets the very same bytes; tests/test_agent_layer_rules_*.py and tests/test_visibility_leaks.py cover trees
    that hold hidden articles."""
    expected = sorted(p for p in expected_dir.rglob("*") if p.is_file())
    compared, different = 0, []
    headers = {"Authorization": f"Bearer {TOKEN}"} if preview else {}
    with api_client(corpus_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for path in expected:
            url = "/" + path.relative_to(expected_dir).as_posix()
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.text[:300])
            assert response.headers["content-type"] == MEDIA_TYPES[path.suffix], url
            compared += 1
            if response.content != path.read_bytes():
                different.append(url)
    print(f"compared {compared} files byte for byte")
    assert different == []
    assert compared == len(expected) > 280


def test_feeds_stream_with_etag_304_and_gzip_of_the_publishers_bytes(corpus_db: str, expected_dir: Path) -> None:
    with api_client(corpus_db) as client:
        first = client.get("/agents/feeds/claims.jsonl")
        assert first.headers.get("content-length") is None  # streamed, not buffered
        etag = first.headers["etag"]
        assert client.get("/agents/feeds/claims.jsonl", headers={"If-None-Match": etag}).status_code == 304
        raw = client.get("/agents/feeds/claims.jsonl", headers={"Accept-Encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.content == (expected_dir / "agents/feeds/claims.jsonl").read_bytes()  # httpx decoded it


def test_feeds_stream_with_etag_304_and_gzip(content_db: str) -> None:
    with api_client(content_db) as client:
        first = client.get("/agents/feeds/claims.jsonl")
        assert first.headers.get("content-length") is None  # streamed, not buffered
        lines = first.text.splitlines()
        assert len(lines) > 40 and all(line.startswith('{"articleId":"article:') for line in lines)
        etag = first.headers["etag"]
        assert client.get("/agents/feeds/claims.jsonl", headers={"If-None-Match": etag}).status_code == 304
        raw = client.get("/agents/feeds/claims.jsonl", headers={"Accept-Encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip"
        assert raw.content == first.content  # httpx decoded it


def test_urls_follow_garden_site_url(content_db: str) -> None:
    with api_client(content_db, GARDEN_SITE_URL="https://garden.example") as client:
        index = client.get("/agents/index.json").json()
        assert index["site"] == "https://garden.example"
        assert all(a["articleUrl"].startswith("https://garden.example/articles/") for a in index["articles"])
        assert "https://aura-knowledge.github.io" not in client.get("/llms.txt").text


def test_packet_layout_is_served_unchanged(seeds_dir: Path, db_url: str) -> None:
    assert ingest_json(seeds_dir, db_url=db_url)[0] == 0
    with api_client(db_url) as client:
        assert client.get("/agents/articles/fine-tuning.json").content == (seeds_dir / "fine-tuning.json").read_bytes()
        assert client.get("/agents/articles/fine-tuning.md").content == (seeds_dir / "fine-tuning.md").read_bytes()


@pytest.mark.parametrize("path", ["/agents/articles/hot-composting-in-seven-days.json",
                                  "/agents/articles/street-trees-and-urban-heat.md", "/agents/articles/nope.md",
                                  "/agents/topics/no-such-topic.json"])  # fmt: skip
def test_unpublished_or_unknown_files_are_404(content_db: str, path: str) -> None:
    with api_client(content_db) as client:
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_rest_api_and_agent_layer_agree_on_claim_state(content_db: str) -> None:
    with api_client(content_db) as client:
        report = client.get("/agents/verification-report.json").json()
        states = {(a["slug"], c["id"]): c["state"] for a in report["articles"] for c in a["claims"]}
        claims = client.get("/claims", params={"limit": 500}).json()["items"]
        assert claims and all(states[(c["slug"], c["localClaimId"])] == c["state"] for c in claims)
