"""``garden new``: a skeleton article that ingests with no errors and no diagnostics, is then served, and is
refused with one ``Error:`` line when the slug or title is bad or the article exists."""

from __future__ import annotations

import json
from pathlib import Path

from app.content.frontmatter import load_front_matter, split_front_matter
from app.content.reader import InputArticle, parse
from tests.conftest import api_client, ingest_json, run_garden

TOKEN = "preview-secret"


def garden_new(content: Path, db_url: str, *args: str) -> tuple[int, str, str]:
    result = run_garden("new", *args, db_url=db_url, env={"GARDEN_CONTENT_DIR": str(content)})
    return result.returncode, result.stdout, result.stderr


def parsed(directory: Path) -> object:
    files = {"article": "article.md", "brief": "agent.md", "artifact": "artifact.json"}
    paths = {role: str(directory / name) for role, name in files.items()}
    raw = {role: (directory / name).read_bytes() for role, name in files.items()}
    return parse(InputArticle(directory.name, directory.parent.name, "source", str(directory), paths, raw))


def test_a_new_article_ingests_cleanly_and_is_served(tmp_path: Path, db_url: str) -> None:
    content = tmp_path / "content"
    code, out, err = garden_new(content, db_url, "my-article")
    assert code == 0, err
    directory = content / "articles" / "2026" / "my-article"  # GARDEN_TODAY is 2026-11-22 in the tests
    assert sorted(p.name for p in directory.iterdir()) == ["agent.md", "article.md", "artifact.json"]
    assert str(directory / "article.md") in out

    code, report = ingest_json(content, db_url=db_url, flags=("--dry-run",))
    assert (code, report["errors"], report["diagnostics"]) == (0, [], {"error": 0, "warning": 0})
    record = parsed(directory)
    assert [f.rule for f in record.findings if f.active_from is None] == []  # type: ignore[attr-defined]
    assert "Replace" in (directory / "article.md").read_text()
    # What the README promises: `garden new my-article && garden check` reports nothing, and writes nothing.
    checked = run_garden("check", "--json", str(content), db_url=db_url, env={"GARDEN_CONTENT_DIR": str(content)})
    assert checked.returncode == 0, checked.stderr
    summary = json.loads(checked.stdout)
    assert (summary["errors"], summary["diagnostics"], summary["findings"]) == ([], {"error": 0, "warning": 0}, [])

    code, report = ingest_json(content, db_url=db_url)
    assert (code, report["changes"]["added"]) == (0, ["my-article"])
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        assert client.get("/articles/my-article").status_code == 404  # a draft: not public
        shown = client.get("/articles/my-article", headers={"Authorization": f"Bearer {TOKEN}"})
        assert shown.status_code == 200
        body = shown.json()
        assert (body["title"], body["status"]) == ("My article", "draft")
        claims = client.get("/claims/article:my-article:claim-001", headers={"Authorization": f"Bearer {TOKEN}"})
        assert claims.json()["state"] == "draft"


def test_title_and_series(tmp_path: Path, db_url: str) -> None:
    content = tmp_path / "content"
    assert garden_new(content, db_url, "first-one", "--series", "leaf-work")[0] == 0
    title = 'Leaves, "Mould" & Time: a Guide'
    code, _, err = garden_new(content, db_url, "second-one", "--title", title, "--series", "leaf-work")
    assert code == 0, err
    first = json.loads((content / "articles/2026/first-one/artifact.json").read_text())
    second = json.loads((content / "articles/2026/second-one/artifact.json").read_text())
    assert first["series"] == {"slug": "leaf-work", "title": "Leaf work", "order": 0, "role": "guide"}
    assert second["series"] == {**first["series"], "order": 1, "role": "chapter"}
    assert second["title"] == title
    brief = split_front_matter((content / "articles/2026/second-one/agent.md").read_text())[0]
    assert load_front_matter(brief)["title"] == f'Agent Brief for "{title}"'
    code, report = ingest_json(content, db_url=db_url)
    assert (code, report["errors"], report["diagnostics"]) == (0, [], {"error": 0, "warning": 0})
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        series = client.get("/series/leaf-work", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert [m["slug"] for m in series["members"]] == ["first-one", "second-one"]
        assert series["warnings"] == []


def test_refusals_are_one_error_line_and_write_nothing(tmp_path: Path, db_url: str) -> None:
    content = tmp_path / "content"
    (content / "articles" / "2025" / "taken-slug").mkdir(parents=True)
    cases = {
        ("My Article",): "'my-article'",  # the message suggests a valid slug
        ("x" * 193,): "192",
        ("taken-slug",): "already exists",
        ("fine-slug", "--title", "Short"): "at least 8 characters",
        ("fine-slug", "--series", "Bad Series"): "--series",
    }
    for args, expected in cases.items():
        code, out, err = garden_new(content, db_url, *args)
        assert code == 1, args
        assert err.startswith("Error: ") and err.count("\n") == 1 and expected in err, (args, err)
        assert "Traceback" not in err and out == ""
    assert sorted(str(p.relative_to(content)) for p in content.rglob("*")) == [
        "articles", "articles/2025", "articles/2025/taken-slug"
    ]  # fmt: skip


def test_the_content_dir_layouts_ingest_finds(tmp_path: Path, db_url: str) -> None:
    repository = tmp_path / "repo"
    (repository / "content" / "articles").mkdir(parents=True)
    assert garden_new(repository, db_url, "in-a-repository")[0] == 0
    assert (repository / "content/articles/2026/in-a-repository/article.md").is_file()
    articles = tmp_path / "bare"
    (articles / "2024").mkdir(parents=True)
    assert garden_new(articles, db_url, "in-articles")[0] == 0
    assert (articles / "2026/in-articles/article.md").is_file()
