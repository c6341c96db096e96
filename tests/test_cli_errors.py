"""A command line without tracebacks (issue 15, item 6): bad settings are one ``Error:`` line naming the variable,
a failed first ``garden serve`` takes away the database file it created and names GARDEN_CONTENT_DIR, and a 401
says whether the server has preview access configured at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import api_client, free_port, run_garden

DRAFT_PATH = "/articles?limit=1"


@pytest.mark.parametrize("command", ["migrate", "ingest", "check", "serve", "agent-files"])
@pytest.mark.parametrize(
    ("variable", "value", "expects"),
    [
        ("GARDEN_POOL_SIZE", "abc", "valid integer"),
        ("GARDEN_POOL_SIZE", "0", "greater than or equal to 1"),
        ("GARDEN_CORS_ORIGINS", "x", "JSON"),
        ("GARDEN_PUBLIC_URL", "ftp://x", "absolute http(s) URL"),
    ],
)
def test_a_bad_setting_is_one_error_line(command: str, variable: str, value: str, expects: str, tmp_path: Path) -> None:
    database = tmp_path / "garden.db"
    result = run_garden(command, db_url=f"sqlite:///{database}", env={variable: value}, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {variable}={value!r}"), line
    assert expects in line
    assert not database.exists()


@pytest.mark.parametrize(
    ("variable", "value", "expects"),
    [
        ("GARDEN_WEBHOOKS", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", "not valid JSON"),
        ("GARDEN_WEBHOOKS", '[{"url": "ftp://x", "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]', "http(s)"),
    ],
)
def test_a_secret_setting_is_named_not_quoted(variable: str, value: str, expects: str, tmp_path: Path) -> None:
    """Error output ends up in logs: a setting that may hold a secret is named, its value withheld."""
    result = run_garden("ingest", db_url=f"sqlite:///{tmp_path / 'garden.db'}", env={variable: value}, timeout=60)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {variable}=<not shown"), line
    assert expects in line
    assert "whsec_" not in line and "c2VjcmV0" not in line


@pytest.mark.parametrize("command", ["migrate", "ingest", "serve"])
@pytest.mark.parametrize("url", ["not a url", "mysql://user:secret@host/db"])
def test_a_bad_database_url_is_one_error_line(command: str, url: str) -> None:
    result = run_garden(command, db_url=url, timeout=60)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: GARDEN_DATABASE_URL ") and "sqlite:///" in line, line
    assert "secret" not in line


def test_a_failed_first_serve_removes_the_database_it_created(tmp_path: Path) -> None:
    database = tmp_path / "garden.db"
    missing = tmp_path / "no-such-content"
    env = {"GARDEN_CONTENT_DIR": str(missing)}
    result = run_garden("serve", "--port", str(free_port()), db_url=f"sqlite:///{database}", env=env, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Error: GARDEN_CONTENT_DIR={missing} did not ingest cleanly" in result.stderr, result.stderr
    assert f"{database} (created by this run) was removed" in result.stderr
    assert not list(tmp_path.glob("garden.db*"))


def test_a_failed_first_serve_keeps_a_database_that_was_there(tmp_path: Path) -> None:
    database = tmp_path / "garden.db"
    assert run_garden("migrate", db_url=f"sqlite:///{database}").returncode == 0
    before = database.stat().st_size
    invalid = tmp_path / "content" / "articles" / "2026" / "broken"
    invalid.mkdir(parents=True)
    (invalid / "artifact.json").write_text("{", "utf-8")
    env = {"GARDEN_CONTENT_DIR": str(tmp_path / "content")}
    result = run_garden("serve", "--port", str(free_port()), db_url=f"sqlite:///{database}", env=env, timeout=120)
    assert result.returncode == 1
    assert f"Error: GARDEN_CONTENT_DIR={tmp_path / 'content'} did not ingest cleanly" in result.stderr
    assert "removed" not in result.stderr
    assert database.exists() and database.stat().st_size >= before


def test_a_401_says_when_no_preview_token_is_configured(content_db: str) -> None:
    with api_client(content_db) as client:
        response = client.get(DRAFT_PATH, headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert "no preview access configured" in detail and "GARDEN_PREVIEW_TOKEN is not set" in detail
    assert "some-token" not in response.text


def test_a_401_says_a_wrong_token_is_wrong(content_db: str) -> None:
    with api_client(content_db, GARDEN_PREVIEW_TOKEN="the-real-token") as client:
        wrong = client.get(DRAFT_PATH, headers={"Authorization": "Bearer the-real-tokem"})
        scheme = client.get(DRAFT_PATH, headers={"Authorization": "Basic the-real-token"})
        right = client.get(DRAFT_PATH, headers={"Authorization": "Bearer the-real-token"})
    assert wrong.status_code == scheme.status_code == 401
    assert "is not this server's GARDEN_PREVIEW_TOKEN" in wrong.json()["detail"]
    assert "must be 'Bearer <token>'" in scheme.json()["detail"]
    assert "the-real-tok" not in wrong.text + scheme.text
    assert right.status_code == 200
