"""Content written to hurt: issue 12, findings 1 (alias bomb), 7 (NUL), 8 (symlink loops), 9 (duplicate keys,
anchors) and 10 (a slug the routes cannot serve), plus the value caps.

Every case copies ``content/`` (our sample corpus), ingests it, breaks one article and ingests again with the
real ``garden ingest --json``: exit 1, an error naming the file and the field, and the database exactly as it
was (``stored_state``), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.content.decode import load_json
from app.content.limits import MAX_ITEMS, MAX_SLUG, MAX_STRING
from tests.conftest import CONTENT, ROOT, api_client, ingest_json, stored_state

YEAR, VICTIM = "2025", "soil-from-the-ground-up"
MD, BRIEF, ART = "article.md", "agent.md", "artifact.json"
FILE = "(file)"


class Tree:
    """A copy of content/ already ingested into ``db_url``, with the victim article's files at hand."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.root = tmp_path / "repo"
        shutil.copytree(CONTENT, self.root / "content")
        self.db_url = db_url
        code, report = ingest_json(self.root, db_url=db_url)
        assert code == 0, report["errors"]
        self.state = stored_state(db_url)

    def path(self, name: str, slug: str = VICTIM) -> Path:
        return self.root / "content" / "articles" / YEAR / slug / name

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        path = self.path(name)
        text = path.read_text(encoding="utf-8")
        new = change(text)
        assert new != text, f"the edit changed nothing in {path}"
        path.write_text(new, encoding="utf-8")

    def add_front_matter(self, name: str, lines: str) -> None:
        self.edit(name, lambda text: "---\n" + lines.rstrip("\n") + "\n" + text.removeprefix("---\n"))

    def refused(self, *expected: tuple[str, str, str], slug: str = VICTIM) -> list[dict[str, str]]:
        """Ingest again: exit 1, each (file, field, words) among the errors, only those files blamed, and the
        database unchanged. Returns the errors."""
        code, report = ingest_json(self.root, db_url=self.db_url)
        errors: list[dict[str, str]] = report["errors"]
        assert code == 1, report
        for name, field, words in expected:
            file = str(self.path(name, slug))
            named = [e for e in errors if e["file"] == file and e["field"] == field]
            assert named, f"no error for {file} / {field}: {json.dumps(errors, indent=2)}"
            assert any(words in e["message"] for e in named), (words, named)
        assert {e["file"] for e in errors} <= {str(self.path(name, slug)) for name, _, _ in expected}, errors
        assert report["articles"]["added"] == report["articles"]["updated"] == 0
        assert stored_state(self.db_url) == self.state
        return errors


@pytest.fixture
def tree(tmp_path: Path, db_url: str) -> Tree:
    return Tree(tmp_path, db_url)


def _set_json(tree: Tree, change: Callable[[dict[str, Any]], object]) -> None:
    path = tree.path(ART)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------
# Finding 1: the scalar-alias bomb, at the three sizes of the issue.


def _alias_bomb(tree: Tree, target_bytes: int) -> int:
    """One 20,000-character anchored string, aliased until article.md is ``target_bytes`` long."""
    size = tree.path(MD).stat().st_size
    anchor = 'bomb: &s "' + "x" * 20_000 + '"\n'
    copies = max(1, (target_bytes - size - len(anchor) - len("copies: []\n")) // 4)
    tree.add_front_matter(MD, anchor + "copies: [" + ", ".join(["*s"] * copies) + "]\n")
    return tree.path(MD).stat().st_size


# Runs Python with the arguments given and prints the child's peak RSS (KiB) on stderr. The child is forked from
# this small process, not from pytest: a child forked from a large process (Popen from a long test session)
# counts its parent's pages in its own peak until it execs, which measured 428 MB for the pytest process.
PEAK_OF = """import os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("target", [66_000, 146_000, 1_300_000], ids=["66KB", "146KB", "1.3MB"])
def test_the_alias_bomb_is_refused_by_name_in_little_memory(tree: Tree, target: int) -> None:
    size = _alias_bomb(tree, target)
    assert abs(size - target) < target * 0.05, size
    env = {**os.environ, "GARDEN_DATABASE_URL": tree.db_url, "GARDEN_TODAY": "2026-11-22"}
    command = [sys.executable, "-c", PEAK_OF, "-m", "app.cli", "ingest", "--json", str(tree.root)]
    child = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    output = child.stdout

    assert child.returncode == 1, output[-2000:]
    errors = json.loads(output)["errors"]
    assert errors == [
        {
            "file": str(tree.path(MD)),
            "field": "bomb",
            "message": "YAML anchors and aliases are not allowed in front matter (found the anchor &s) "
            "(at line 2, column 7)",
        }
    ]
    assert stored_state(tree.db_url) == tree.state
    peak_mb = int(child.stderr.decode().split()[-1]) / 1024  # KiB on Linux
    assert peak_mb < 300, f"garden ingest peaked at {peak_mb:.0f} MB on a {size:,}-byte article.md"


# --------------------------------------------------------------------------------------------------------
# Finding 9: duplicate keys, and plain anchors and aliases.


def test_a_duplicate_json_key_is_refused_at_any_depth(tree: Tree) -> None:
    def duplicate(text: str) -> str:
        text = text.replace('\n  "title": ', '\n  "title": "A title given first",\n  "title": ', 1)
        return text.replace('"confidence": ', '"confidence": "low", "confidence": ', 1)

    tree.edit(ART, duplicate)
    tree.refused(
        (ART, "title", "the key 'title' is given twice in one object"),
        (ART, "claims[0].confidence", "the key 'confidence' is given twice in one object"),
    )


@pytest.mark.parametrize(
    ("name", "lines", "field", "words"),
    [
        (MD, "title: A first title\n", "title", "the key 'title' is given twice in one mapping"),
        (BRIEF, "extra:\n  note: one\n  note: two\n", "extra.note", "the key 'note' is given twice"),
        (MD, "note: &n plain\nagain: *n\n", "note", "found the anchor &n"),
        (BRIEF, "lone: &unused value\n", "lone", "YAML anchors and aliases are not allowed"),
    ],
    ids=["yaml-top-level", "yaml-nested", "yaml-scalar-alias", "yaml-lone-anchor"],
)
def test_duplicate_yaml_keys_anchors_and_aliases_are_refused(
    tree: Tree, name: str, lines: str, field: str, words: str
) -> None:
    tree.add_front_matter(name, lines)
    tree.refused((name, field, words))


# --------------------------------------------------------------------------------------------------------
# Finding 7: NUL characters, the same refusal on both backends.


def _nul_cases() -> list[Any]:
    def body(tree: Tree) -> None:
        tree.edit(MD, lambda text: text + "\nA line with a \x00 in it.\n")

    def raw_in_front_matter(tree: Tree) -> None:
        tree.add_front_matter(BRIEF, "remark: caf\u00e9 \x00 here\n")

    def escaped_in_front_matter(tree: Tree) -> None:
        tree.add_front_matter(MD, 'remark: "a \\0 b"\n')

    def json_value(tree: Tree) -> None:
        _set_json(tree, lambda d: d["claims"][0].update(claim=d["claims"][0]["claim"] + "\x00"))

    def json_key(tree: Tree) -> None:
        _set_json(tree, lambda d: d.update({"odd\x00key": 1}))

    return [
        pytest.param(body, (MD, "body", "NUL character"), id="raw-in-body"),
        pytest.param(raw_in_front_matter, (BRIEF, "remark", "NUL character"), id="raw-in-front-matter"),
        pytest.param(escaped_in_front_matter, (MD, "remark", "NUL character"), id="escaped-in-front-matter"),
        pytest.param(json_value, (ART, "claims[0].claim", "NUL character"), id="json-string"),
        pytest.param(json_key, (ART, "odd\\x00key", "the key holds a NUL character"), id="json-key"),
    ]


@pytest.mark.parametrize(("mutate", "expected"), _nul_cases())
def test_a_nul_character_is_refused_by_name_on_both_backends(
    tree: Tree, mutate: Callable[[Tree], None], expected: tuple[str, str, str]
) -> None:
    mutate(tree)
    tree.refused(expected)


# --------------------------------------------------------------------------------------------------------
# Finding 8: symlink loops.


def test_a_looping_file_symlink_is_an_error_naming_the_file(tree: Tree) -> None:
    brief = tree.path(BRIEF)
    brief.unlink()
    brief.symlink_to(BRIEF)  # agent.md -> agent.md
    tree.refused((BRIEF, FILE, "is a symlink loop"))


def test_a_looping_directory_symlink_is_an_error_naming_it(tree: Tree) -> None:
    year = tree.root / "content" / "articles" / YEAR
    (year / "loop-a").symlink_to("loop-b")
    (year / "loop-b").symlink_to("loop-a")
    code, report = ingest_json(tree.root, db_url=tree.db_url)
    assert code == 1, report
    assert {(e["file"], e["field"]) for e in report["errors"]} == {
        (str(year / "loop-a"), FILE),
        (str(year / "loop-b"), FILE),
    }
    assert all("is a symlink loop" in e["message"] for e in report["errors"])
    assert stored_state(tree.db_url) == tree.state


# --------------------------------------------------------------------------------------------------------
# Finding 10: slugs the routes cannot serve.


def _rename(tree: Tree, new: str) -> None:
    """Give the victim a new slug everywhere: its directory, and the slug in each of its three files."""
    old_dir = tree.path("")
    for name in (MD, BRIEF, ART):
        path = old_dir / name
        path.write_text(path.read_text(encoding="utf-8").replace(VICTIM, new), encoding="utf-8")
    old_dir.rename(old_dir.with_name(new))


def test_a_slug_longer_than_the_routes_take_is_refused_by_name(tree: Tree) -> None:
    slug = "s" * 250
    _rename(tree, slug)
    errors = tree.refused(
        (ART, "slug", f"is 250 characters long; a slug has at most {MAX_SLUG}"),
        (MD, "slug", f"is 250 characters long; a slug has at most {MAX_SLUG}"),
        (BRIEF, "slug", f"is 250 characters long; a slug has at most {MAX_SLUG}"),
        slug=slug,
    )
    assert any(e["field"] == "id" for e in errors)


def test_the_longest_slug_accepted_is_served_by_every_detail_route(tree: Tree) -> None:
    slug = "s" * MAX_SLUG
    _rename(tree, slug)
    code, report = ingest_json(tree.root, db_url=tree.db_url)
    assert code == 0, report["errors"]
    article_id = f"article:{slug}"
    with api_client(tree.db_url) as client:
        claim = client.get(f"/articles/{slug}/claims").json()["items"][0]["claimId"]
        source = client.get(f"/articles/{slug}/sources").json()["items"][0]["sourceId"]
        for path in (
            f"/articles/{slug}",
            f"/articles/{article_id}",
            f"/articles/{slug}/body",
            f"/articles/{slug}/related",
            f"/articles/{slug}/brief",
            f"/articles/{slug}/sources/{source}",
            f"/claims/{claim}",
            f"/agents/articles/{slug}.json",
        ):
            assert client.get(path).status_code == 200, path


# --------------------------------------------------------------------------------------------------------
# The value caps: one per kind, each naming the field.


def _nested(lists: int) -> Any:
    value: Any = 1
    for _ in range(lists):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d.update(thesis="t" * (MAX_STRING + 1)), "thesis", f"over the cap of {MAX_STRING:,}"),
        (lambda d: d.update(agentInstructions=["do"] * (MAX_ITEMS + 1)), "agentInstructions", "items, over the cap"),
        (lambda d: d.update(extra={"k" * 201: 1}), "extra." + "k" * 57 + "...", "the key is 201 characters"),
        (lambda d: d.update(deep=_nested(16)), "deep" + "[0]" * 15, "nests deeper than 16"),  # 17 with the top
    ],
    ids=["string", "list", "key", "depth"],
)
def test_a_json_value_over_its_cap_is_refused_by_name(
    tree: Tree, change: Callable[[dict[str, Any]], object], field: str, words: str
) -> None:
    _set_json(tree, change)
    tree.refused((ART, field, words))


def test_a_front_matter_value_over_its_cap_is_refused_by_name(tree: Tree) -> None:
    tree.add_front_matter(MD, "remark: " + "r" * (MAX_STRING + 1) + "\nlist: [" + "1, " * MAX_ITEMS + "1]\n")
    tree.refused((MD, "remark", f"over the cap of {MAX_STRING:,}"), (MD, "list", "items, over the cap"))


# --------------------------------------------------------------------------------------------------------
# The duplicate-key count, on the texts that could fool it.


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (b'{"a": 1, "b": "say \\": here", "c": {"d": "\\":"}}', []),  # '":' inside strings: no duplicate
        (b'{"a" : 1, "a"\n:\t2}', [("a", "the key 'a' is given twice in one object")]),  # whitespace before ':'
        (b'{"x": [{"k": 1}, {"k": 1, "k": 2}]}', [("x[1].k", "the key 'k' is given twice in one object")]),
        (b'{"a": "\\\\u0000"}', []),  # an escaped backslash, then "u0000": no NUL
    ],
    ids=["colon-in-string", "whitespace", "nested", "escaped-backslash"],
)
def test_duplicate_keys_are_counted_exactly(text: bytes, problems: list[tuple[str, str]]) -> None:
    errors: list[Any] = []
    data = load_json(text, "f.json", errors)
    assert [(e.field, e.message) for e in errors] == problems
    assert (data is None) == bool(problems)
