"""Whose site this is comes from settings: GARDEN_SITE_NAME and GARDEN_SITE_DESCRIPTION head llms.txt,
GARDEN_REPO_URL is behind each packet's sourceGitHubUrl, GARDEN_SCHEMA_BASE_URL names garden-queries.json's schema,
and GARDEN_LLMS_LINKS=api makes llms.txt link only what this server serves. With the defaults the files stay the
publisher's (tests/test_agent_layer.py compares them byte for byte with ../shared)."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import api_client

SLUG = "composting-without-the-guesswork"
OURS = {
    "GARDEN_SITE_NAME": "Soil & Pollinator Notes",
    "GARDEN_SITE_DESCRIPTION": "Sample essays on soil and bees.",
    "GARDEN_REPO_URL": "https://git.example.org/me/garden-notes/",
    "GARDEN_SCHEMA_BASE_URL": "https://schemas.example.org/garden",
}
LINK = re.compile(r"^- \[[^\]]*\]\(([^)]*)\)$", re.MULTILINE)


def test_settings_change_the_heading_repository_and_schema(content_db: str) -> None:
    """The defaults give the publisher's values; the settings replace each."""
    with api_client(content_db) as client:
        llms = client.get("/llms.txt").text
        head = "# Aura Knowledge\n\n> Focused essays for humans, backed by compact agent-auditable research packets."
        assert llms.startswith(head + "\n\n## Primary Pages\n- [Home](https://aura-knowledge.github.io/)\n")
        publisher = "https://github.com/aura-knowledge/aura-knowledge.github.io/blob/main/content/articles/2026"
        assert client.get(f"/agents/articles/{SLUG}.json").json()["sourceGitHubUrl"] == f"{publisher}/{SLUG}/article.md"
        queries = client.get("/agents/garden-queries.json").json()
        assert queries["schema"] == "https://aura-knowledge.github.io/schemas/garden-queries.schema.json"
    with api_client(content_db, **OURS) as client:
        llms = client.get("/llms.txt").text
        assert llms.startswith("# Soil & Pollinator Notes\n\n> Sample essays on soil and bees.\n\n## Primary Pages\n")
        assert "Aura Knowledge" not in llms and "Focused essays" not in llms
        expected = f"https://git.example.org/me/garden-notes/blob/main/content/articles/2026/{SLUG}/article.md"
        assert client.get(f"/agents/articles/{SLUG}.json").json()["sourceGitHubUrl"] == expected
        assert client.get(f"/articles/{SLUG}").json()["sourceGitHubUrl"] == expected  # the REST packet too
        queries = client.get("/agents/garden-queries.json").json()
        assert queries["schema"] == "https://schemas.example.org/garden/garden-queries.schema.json"


def test_an_empty_description_leaves_the_line_out(content_db: str) -> None:
    with api_client(content_db, GARDEN_SITE_NAME="Notes", GARDEN_SITE_DESCRIPTION="") as client:
        assert client.get("/llms.txt").text.startswith("# Notes\n\n## Primary Pages\n")


def test_stored_files_and_etags_follow_the_settings(content_db: str) -> None:
    """The agent files are stored on disk per generation, and ETags name what made the bytes: a file stored, or a
    tag given, under the publisher's name is never served or confirmed under another."""
    with api_client(content_db) as client:
        first = client.get("/llms.txt")
        packet_tag = client.get(f"/agents/articles/{SLUG}.json").headers["etag"]
    assert first.text.startswith("# Aura Knowledge\n")
    with api_client(content_db, **OURS) as client:
        again = client.get("/llms.txt", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 200
        assert again.text.startswith("# Soil & Pollinator Notes\n")
        assert client.get(f"/agents/articles/{SLUG}.json", headers={"If-None-Match": packet_tag}).status_code == 200


def _targets(llms: str) -> list[str]:
    return LINK.findall(llms)


@pytest.mark.parametrize("public_url", ["", "https://api.example.org"], ids=["relative", "public-url"])
def test_api_links_are_all_served(content_db: str, public_url: str) -> None:
    """GARDEN_LLMS_LINKS=api: every link of llms.txt answers 200 here, and none points at the website."""
    env = {"GARDEN_LLMS_LINKS": "api", "GARDEN_SITE_NAME": "Soil Notes"}
    if public_url:
        env["GARDEN_PUBLIC_URL"] = public_url
    with api_client(content_db, **env) as client:
        llms = client.get("/llms.txt").text
        assert llms.startswith("# Soil Notes\n")
        targets = _targets(llms)
        assert len(targets) > 40, llms
        assert all(target.startswith(f"{public_url}/") for target in targets), targets
        assert not any("eval-report" in target or "aura-knowledge" in target for target in targets)
        for section in ("## Primary Pages", "## Articles", "## Agent Artifacts", "## Use"):
            assert f"\n{section}\n" in llms
        failed = {}
        for target in targets:
            response = client.get(target.removeprefix(public_url), follow_redirects=False)
            if response.status_code != 200:
                failed[target] = response.status_code
        assert failed == {}
        assert f"- [Composting Without the Guesswork]({public_url}/articles/{SLUG})" in llms
        assert "/docs)" in llms and f"({public_url}/)" in llms


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("repo_url", "github.com/me/notes", "absolute http(s) URL"),
        ("schema_base_url", "ftp://example.org/schemas", "absolute http(s) URL"),
        ("site_name", "", "must not be empty"),
        ("site_name", "Two\nlines", "one line"),
        ("llms_links", "website", "'site' or 'api'"),
    ],
)
def test_bad_values_name_the_setting(field: str, value: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})  # type: ignore[arg-type]
    error = caught.value.errors()[0]
    assert error["loc"] == (field,)
    assert expected in str(caught.value)
