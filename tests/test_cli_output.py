"""What ``garden ingest`` and ``garden check`` print: every diagnostic listed (JSON, terminal, plain lines), every
error of an article even when one of its files does not parse, plain unwrapped lines off a terminal, and a
``garden check`` that writes nothing and needs no database (issue 15, items 4 and 5)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import CONTENT, ingest_json, run_garden

SLUG = "pollinator-corridors"
BOX = re.compile("[─━│┃┏┓┗┛┡┩└┘╭╮╰╯]")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the sample content/ under a deep path (longer than 80 columns once a file name is added)."""
    copy = tmp_path / ("a-directory-name-long-enough-that-a-table-would-wrap-it" * 2) / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def article_dir(content: Path, slug: str = SLUG) -> Path:
    return next(content.glob(f"articles/*/{slug}"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def stale_hash(content: Path) -> None:
    """Change the article's body, so that its artifact's contentHash no longer matches: content-hash-rewritten."""
    article = article_dir(content) / "article.md"
    article.write_text(article.read_text("utf-8") + "\nOne more sentence.\n", "utf-8")


def test_ingest_json_lists_every_diagnostic_and_keeps_the_counts(content: Path, db_url: str) -> None:
    stale_hash(content)
    code, report = ingest_json(content, db_url=db_url)
    assert code == 0, report["errors"]
    counts = report["diagnostics"]
    assert set(counts) == {"error", "warning"}  # the counts object scripts read is unchanged
    findings = report["findings"]
    assert len(findings) == counts["error"] + counts["warning"] > 0
    for item in findings:
        assert set(item) == {"file", "slug", "severity", "rule", "claimId", "message", "origin"}
        assert item["severity"] in ("error", "warning") and item["rule"] and item["message"]
        assert item["file"].startswith("content/articles/") and item["file"].endswith(item["slug"])
    rewritten = [item for item in findings if item["rule"] == "content-hash-rewritten"]
    assert [item["slug"] for item in rewritten] == [SLUG]
    # Unchanged on a second run: the same findings, read back from the database.
    code, again = ingest_json(content, db_url=db_url)
    assert code == 0 and again["articles"]["unchanged"] == report["counts"]["articles"]
    key = lambda item: json.dumps(item, sort_keys=True)  # noqa: E731
    assert sorted(map(key, again["findings"])) == sorted(map(key, findings))
    assert again["diagnostics"] == counts


def test_a_yaml_error_hides_no_other_error_of_the_article(content: Path, db_url: str) -> None:
    folder = article_dir(content)
    edit(folder / "article.md", "title: Pollinator Corridors", "title: [Pollinator Corridors")
    edit(folder / "artifact.json", '"maturity": "sprout"', '"maturity": "ripe"')
    edit(folder / "agent.md", "tokenBudget: 1200", "tokenBudget: lots")
    code, report = ingest_json(content, db_url=db_url, flags=("--dry-run",))
    assert code == 1
    failed = {(Path(error["file"]).name, error["field"]) for error in report["errors"]}
    assert ("artifact.json", "maturity") in failed, report["errors"]
    assert ("agent.md", "tokenBudget") in failed, report["errors"]
    assert any(name == "article.md" for name, _ in failed), report["errors"]
    assert report["changes"]["invalid"] == [SLUG]


def test_off_a_terminal_output_is_plain_unwrapped_lines(content: Path, db_url: str) -> None:
    stale_hash(content)
    edit(article_dir(content, "native-plants-for-bees") / "artifact.json", '"maturity": "', '"maturity": "x')
    result = run_garden("ingest", str(content), db_url=db_url)
    assert result.returncode == 1
    assert not BOX.search(result.stdout + result.stderr)
    artifact = article_dir(content, "native-plants-for-bees") / "artifact.json"
    [error] = [line for line in result.stderr.splitlines() if not line.startswith("Error:")]
    assert error.startswith(f"{artifact}: maturity: "), result.stderr  # the whole path, on one line
    assert "Error: 1 invalid article; nothing was written." in result.stderr
    findings = [line for line in result.stdout.splitlines() if line.startswith("content/articles/")]
    expected = f"content/articles/2026/{SLUG}: warning: content-hash-rewritten: artifact contentHash"
    assert any(line.startswith(expected) for line in findings), result.stdout
    assert re.search(r"^Diagnostics: \d+ errors?, \d+ warnings?$", result.stdout, re.MULTILINE), result.stdout


def test_on_a_terminal_tables_and_a_capped_list(content: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import cli, cli_output
    from app.db import get_engine
    from app.settings import get_settings

    monkeypatch.setenv("GARDEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GARDEN_TODAY", "2026-11-22")
    monkeypatch.setattr(cli, "_on_terminal", lambda console: True)
    monkeypatch.setattr(cli_output, "TERMINAL_FINDINGS", 2)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        result = CliRunner().invoke(cli.cli, ["ingest", str(content)])
    finally:
        get_engine().dispose()
        get_settings.cache_clear()
        get_engine.cache_clear()
    assert result.exit_code == 0, result.output
    total = re.search(r"(\d+) diagnostics \((\d+) errors?, (\d+) warnings?\)", result.output)
    assert total, result.output
    assert f"… and {int(total[1]) - 2} more: --json lists them all" in result.output
    assert BOX.search(result.output)  # tables, on a terminal


def test_check_lists_everything_writes_nothing_and_needs_no_database(content: Path, tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    db_url = f"sqlite:///{database}"
    result = run_garden("check", str(content), db_url=db_url)
    assert result.returncode == 0, result.stderr
    articles = len(list(content.glob("articles/*/*")))
    assert f"Checked {articles} articles: {articles} valid, 0 invalid; nothing written." in result.stdout
    listed = [line for line in result.stdout.splitlines() if re.match(r"content/articles/\S+: (error|warning): ", line)]
    diagnostics = re.search(r"^Diagnostics: (\d+) errors?, (\d+) warnings?$", result.stdout, re.MULTILINE)
    assert diagnostics and len(listed) == int(diagnostics[1]) + int(diagnostics[2]), result.stdout

    edit(article_dir(content) / "artifact.json", '"maturity": "sprout"', '"maturity": "ripe"')
    code, report = (lambda r: (r.returncode, json.loads(r.stdout)))(run_garden("check", "--json", str(content),
                                                                               db_url=db_url))  # fmt: skip
    assert code == 1
    assert [(Path(e["file"]).name, e["field"]) for e in report["errors"]] == [("artifact.json", "maturity")]
    assert report["changes"]["invalid"] == [SLUG] and report["dryRun"] is True
    assert len(report["findings"]) == report["diagnostics"]["error"] + report["diagnostics"]["warning"]
    assert not database.exists() and not list(tmp_path.glob("never.db*"))
    if report["diagnostics"]["error"]:  # --strict fails on diagnostics of severity error too
        edit(article_dir(content) / "artifact.json", '"maturity": "ripe"', '"maturity": "sprout"')
        assert run_garden("check", str(content), db_url=db_url).returncode == 0
        assert run_garden("check", "--strict", str(content), db_url=db_url).returncode == 1


@pytest.mark.parametrize("command", ["ingest", "check", "serve"])
def test_help_shows_flags_as_flags(command: str, tmp_path: Path) -> None:
    result = run_garden(command, "--help", db_url=f"sqlite:///{tmp_path}/x.db", env={"COLUMNS": "200"})
    assert result.returncode == 0
    for noise in ("--no-", "[default: False]", "<bool>"):  # a flag takes no value, has no default
        assert noise not in result.stdout, result.stdout
    assert "--json" in result.stdout or command == "serve"
    assert "--watch" in result.stdout or command != "serve"
