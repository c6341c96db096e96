"""Bad input: every broken file is rejected by name, field and expectation, and the database keeps its bytes.

DATA-CONTRACT §0: a record is rejected when it cannot be read or breaks identity (unreadable UTF-8, JSON or
YAML; a schema violation; an artifact ``schemaVersion`` other than 3; slug, id or path disagreeing across the
files and the directory; a slug used twice). ``garden ingest --json`` then exits 1, lists every error as
``{file, field, message}`` and, without ``--keep-going``, writes nothing at all.

The suite loads a small valid corpus (three articles copied from our own ``content/``) into a fresh SQLite
database once, then, for each case, copies that tree and that database, breaks one thing in the article
``native-plants-for-bees`` and ingests again (only the packet case reads ../shared: a publisher's packet).
Each run also carries a valid change to another article (the "canary"), so a run that wrongly wrote the valid
part would change the database and fail the byte-for-byte check.
"""

from __future__ import annotations

import builtins
import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from app.db import make_engine, upgrade_to_head
from app.ingest import ingest
from app.ingest.discover import Walk
from tests.conftest import CONTENT, SEEDS, ingest_json, need_shared, sql_rows, stored_state

SOURCE_ARTICLES = CONTENT / "articles" / "2026"  # our own sample articles
VICTIM, CANARY, BYSTANDER = "native-plants-for-bees", "pollinator-corridors", "nesting-habitat-for-solitary-bees"
SLUGS = (VICTIM, CANARY, BYSTANDER)

ARTICLES = "content/articles"
DIR = f"{ARTICLES}/2026/{VICTIM}"
ART, MD, BRIEF = f"{DIR}/artifact.json", f"{DIR}/article.md", f"{DIR}/agent.md"
FILE = "(file)"  # the field of whole-file problems
FM = "front matter"  # the field of front matter that is not a readable YAML mapping
LIMIT = 8 * 1024 * 1024  # GARDEN_MAX_FILE_BYTES default

Mutation = Callable[[Path], "list[Path] | None"]
Message = str | tuple[str, ...] | re.Pattern[str]


# --------------------------------------------------------------------------------------------------------
# Baseline: a valid tree and the database it was loaded into, built once for the module.


@dataclass(frozen=True)
class Baseline:
    tree: Path  # holds content/articles/2026/<slug>/
    db: Path
    state: dict[str, str]  # sha256 of garden.db (and of a -wal file, if one is left)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """Three valid articles of content/ ingested into a fresh SQLite database."""
    work = tmp_path_factory.mktemp("baseline")
    tree = work / "tree"
    for slug in SLUGS:
        target = tree / ARTICLES / "2026" / slug
        target.mkdir(parents=True)
        for name in ("article.md", "agent.md", "artifact.json"):
            # copyfile, not copy2: the copies must be editable even where the checkout is read-only.
            shutil.copyfile(SOURCE_ARTICLES / slug / name, target / name)
    db = work / "garden.db"
    code, report = ingest_json(tree, db_url=f"sqlite:///{db}")
    assert code == 0, report["errors"]
    assert report["changes"]["added"] == sorted(SLUGS)
    return Baseline(tree, db, stored_state(f"sqlite:///{db}"))


@dataclass(frozen=True)
class Workspace:
    root: Path  # a copy of the baseline tree: root/content/articles/2026/<slug>/
    db_url: str  # a copy of the baseline database


@pytest.fixture
def workspace(baseline: Baseline, tmp_path: Path, db_url: str) -> Workspace:
    """Private copies of the baseline tree and database: on SQLite a copy of the baseline's file, on PostgreSQL
    the baseline tree ingested into this test's own fresh schema."""
    root = tmp_path / "repo"
    shutil.copytree(baseline.tree, root)
    if db_url.startswith("sqlite"):
        db = Path(make_url(db_url).database or "")
        shutil.copyfile(baseline.db, db)
        assert stored_state(db_url) == baseline.state
    else:
        engine = make_engine(db_url)
        upgrade_to_head(engine)
        assert ingest(engine, [baseline.tree], today=dt.date(2026, 11, 22)).added == sorted(SLUGS)
        engine.dispose()
    return Workspace(root, db_url)


# --------------------------------------------------------------------------------------------------------
# Small editors. The front-matter ones fail loudly if the line they edit is not there, so a change in the
# sample articles cannot turn a case into a silent no-op.


def _fm_line(path: Path, key: str, line: str | None) -> None:
    """Replace the top-level front-matter line ``key: …`` with ``line`` (None: delete it)."""
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(rf"^{key}:.*\n", "" if line is None else line + "\n", text, count=1, flags=re.M)
    assert count == 1, f"no {key}: line in {path}"
    path.write_text(new, encoding="utf-8")


def _fm_add(path: Path, lines: str) -> None:
    """Add ``lines`` to the front matter, right after its opening ``---``."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    path.write_text("---\n" + lines.rstrip("\n") + "\n" + text[4:], encoding="utf-8")


def _json(path: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _body(path: Path) -> str:
    """article.md without its front matter."""
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4)
    return text[end + 5 :]


def _alias_bomb() -> str:
    """Billion laughs: 10 levels of 9 aliases each, 9**10 "lol"s if anything expanded it."""
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join(lines)


def _python_object(root: Path) -> None:
    marker = root.parent / "pwned"
    _fm_add(root / MD, f'exploit: !!python/object/apply:os.system ["touch {marker}"]')


def _no_code_ran(root: Path) -> None:
    assert not (root.parent / "pwned").exists(), "the YAML tag ran a shell command"


def _outside_symlink(root: Path) -> None:
    outside = root.parent / "elsewhere" / "article.md"
    outside.parent.mkdir()
    shutil.copyfile(root / MD, outside)
    (root / MD).unlink()
    (root / MD).symlink_to(outside)


def _fifty_megabytes(root: Path) -> None:
    with (root / ART).open("r+b") as handle:  # sparse: no 50 MB is written to disk
        handle.truncate(50 * 1024 * 1024)


def _second_year(root: Path) -> None:
    shutil.copytree(root / DIR, root / ARTICLES / "2025" / VICTIM)


def _directory_instead_of_file(root: Path) -> None:
    (root / ART).unlink()
    (root / ART).mkdir()


def _missing_path(root: Path) -> list[Path]:
    return [root / "no-such-dir"]


def _packet_slug(root: Path) -> list[Path]:
    need_shared(SEEDS)  # the publisher's own packet: content/ has none in the packet layout
    packets = root / "packets"
    packets.mkdir()
    shutil.copyfile(SEEDS / "fine-tuning.md", packets / "fine-tuning.md")
    data = json.loads((SEEDS / "fine-tuning.json").read_text(encoding="utf-8"))
    data["slug"] = "fine-tuning-renamed"
    (packets / "fine-tuning.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return [packets]


def _mark_canary(root: Path) -> None:
    """A valid change to another article: an unknown top-level key, which the contract keeps and serves."""
    _json(root / ARTICLES / "2026" / CANARY / "artifact.json", lambda d: d.update(xBadInputCanary=True))


# --------------------------------------------------------------------------------------------------------
# The cases. Each expectation is (file relative to the ingested tree, exact field, message): the message is
# a substring, a tuple of substrings that must all appear, or a regular expression.


@dataclass(frozen=True)
class Case:
    mutate: Mutation
    expected: tuple[tuple[str, str, Message], ...]
    after: Callable[[Path], None] | None = None


def bad(
    case_id: str,
    mutate: Mutation,
    *expected: tuple[str, str, Message],
    after: Callable[[Path], None] | None = None,
) -> Any:
    return pytest.param(Case(mutate, expected, after), id=case_id)


def edit_artifact(edit: Callable[[dict[str, Any]], object]) -> Mutation:
    """A mutation that edits the victim's artifact.json as JSON data."""
    return lambda root: _json(root / ART, edit)


def set_line(file: str, key: str, line: str | None) -> Mutation:
    """A mutation that replaces (None: deletes) the front-matter line ``key: …`` of ``file``."""
    return lambda root: _fm_line(root / file, key, line)


def write(file: str, content: str | Callable[[Path], bytes]) -> Mutation:
    """A mutation that overwrites ``file`` with text, or with the bytes ``content(path)`` returns."""

    def mutate(root: Path) -> None:
        path = root / file
        path.write_bytes(content.encode() if isinstance(content, str) else content(path))

    return mutate


MISSING = "required field is missing"

# fmt: off
CASES = [
    # --- unreadable files
    bad("json-syntax", write(ART, f'{{"schemaVersion": 3, "slug": "{VICTIM}",\n'),
        (ART, FILE, "invalid JSON at line")),
    bad("json-array", write(ART, "[1, 2, 3]\n"),
        (ART, FILE, "must hold a JSON object, not list")),
    bad("yaml-syntax", set_line(MD, "title", "title: [an unclosed flow sequence"),
        (MD, FM, "invalid YAML at line")),
    bad("yaml-python-object", _python_object,
        (MD, FM, ("invalid YAML", "python/object/apply:os.system")), after=_no_code_ran),
    bad("yaml-alias-bomb", lambda r: _fm_add(r / MD, _alias_bomb()),
        (MD, "lol0", ("anchors and aliases are not allowed", "&a0", "line 2"))),
    bad("yaml-not-a-mapping", write(MD, lambda p: b"---\n- a\n- b\n---\n" + _body(p).encode()),
        (MD, FM, "must be a mapping of keys to values, not list")),
    bad("no-front-matter", write(MD, lambda p: _body(p).encode()),
        (MD, FM, "no front matter: the file must start with a '---' line")),
    bad("utf8-bom", write(MD, lambda p: b"\xef\xbb\xbf" + p.read_bytes()),
        (MD, FM, "byte-order mark")),
    bad("latin-1-bytes", write(MD, lambda p: p.read_bytes() + b"\nCaf\xe9 cr\xe8me\n"),
        (MD, FILE, "is not valid UTF-8")),
    bad("empty-file", write(BRIEF, ""),
        (BRIEF, FILE, "file is empty")),
    bad("missing-agent-md", lambda r: (r / BRIEF).unlink(),
        (BRIEF, FILE, "file is missing")),
    bad("symlink-outside-root", _outside_symlink,
        (MD, FILE, "is a symlink that leads outside the content root")),
    bad("file-over-size-limit", _fifty_megabytes,
        (ART, FILE, ("52,428,800 bytes", f"over the {LIMIT:,}-byte limit", "GARDEN_MAX_FILE_BYTES"))),
    bad("directory-not-file", _directory_instead_of_file,
        (ART, FILE, "is not a regular file")),
    # --- artifact schema version (§5): only 3 is read
    bad("schema-version-2", edit_artifact(lambda d: d.update(schemaVersion=2)),
        (ART, "schemaVersion",
         ("is 2, which is not supported", "schemaVersion 3 only", "Version 1 had", "version 2 made"))),
    bad("schema-version-1", edit_artifact(lambda d: d.update(schemaVersion=1)),
        (ART, "schemaVersion", ("is 1, which is not supported", "schemaVersion 3 only", "version 2 made"))),
    bad("schema-version-4", edit_artifact(lambda d: d.update(schemaVersion=4)),
        (ART, "schemaVersion", ("Input should be 3", "got 4"))),
    # --- schema violations: enums, required fields, types, ranges, patterns, closed objects, unique ids
    bad("claim-confidence-enum", edit_artifact(lambda d: d["claims"][0].update(confidence="very-high")),
        (ART, "claims[0].confidence", ("'low', 'medium', 'medium-high' or 'high'", "got 'very-high'"))),
    bad("evidence-supports-enum",
        edit_artifact(lambda d: d["claims"][0]["evidence"][0].update(supports="proves")),
        (ART, "claims[0].evidence[0].supports",
         ("'direct', 'indirect', 'analogous' or 'background'", "got 'proves'"))),
    bad("artifact-thesis-missing", edit_artifact(lambda d: d.pop("thesis")),
        (ART, "thesis", MISSING)),
    bad("front-matter-summary-missing", set_line(MD, "summary", None),
        (MD, "summary", MISSING)),
    bad("series-order-string", edit_artifact(lambda d: d["series"].update(order="3")),
        (ART, "series.order", ("valid integer", "got '3'"))),
    bad("token-budget-string", set_line(BRIEF, "tokenBudget", 'tokenBudget: "1200"'),
        (BRIEF, "tokenBudget", ("valid integer", "got '1200'"))),
    bad("token-budget-below-100", set_line(BRIEF, "tokenBudget", "tokenBudget: 99"),
        (BRIEF, "tokenBudget", ("greater than or equal to 100", "got 99"))),
    bad("series-extra-key", edit_artifact(lambda d: d["series"].update(colour="green")),
        (ART, "series.colour", "unexpected key")),
    bad("related-invalid-id", edit_artifact(lambda d: d["related"][0].update(id="article:Not A Slug")),
        (ART, "related[0].id", ("should match pattern", "got 'article:Not A Slug'"))),
    bad("source-url-not-http", edit_artifact(lambda d: d["sources"][0].update(url="ftp://example.org/x")),
        (ART, "sources[0].url", ("expected an absolute http:// or https:// URL", "'ftp://example.org/x'"))),
    bad("impossible-date", set_line(MD, "date", "date: 2026-02-30"),
        (MD, "date", ("not a real calendar date (expected YYYY-MM-DD)", "got '2026-02-30'"))),
    bad("date-not-a-date", set_line(MD, "updated", "updated: yesterday"),
        (MD, "updated", ("should match pattern", "got 'yesterday'"))),
    bad("duplicate-claim-id", edit_artifact(lambda d: d["claims"][1].update(id=d["claims"][0]["id"])),
        (ART, "claims[1].id", ("'claim-001' is used twice", "also claims[0]"))),
    # --- identity: slug, id and paths must agree with the directory (or the packet file name)
    bad("artifact-slug-vs-directory", edit_artifact(lambda d: d.update(slug=f"{VICTIM}-renamed")),
        (ART, "slug", (f"is '{VICTIM}-renamed' but must be '{VICTIM}'", "the directory name"))),
    bad("brief-article-id-vs-directory", set_line(BRIEF, "articleId", f"articleId: article:{VICTIM}-v2"),
        (BRIEF, "articleId", f"is 'article:{VICTIM}-v2' but must be 'article:{VICTIM}'")),
    bad("source-path-vs-location",
        edit_artifact(lambda d: d.update(sourcePath=f"content/articles/2025/{VICTIM}/article.md")),
        (ART, "sourcePath", (f"must be 'content/articles/2026/{VICTIM}/article.md'", "file's own location"))),
    bad("slug-in-two-years", _second_year,
        (f"{ARTICLES}/2025/{VICTIM}/artifact.json", "slug", (f"slug '{VICTIM}' is used twice", "also at ")),
        (ART, "slug", (f"slug '{VICTIM}' is used twice", f"{ARTICLES}/2025/{VICTIM}"))),
    bad("packet-slug-vs-file-name", _packet_slug,
        ("packets/fine-tuning.json", "slug",
         ("is 'fine-tuning-renamed' but must be 'fine-tuning'", "the packet file name"))),
    # --- the PATH itself
    bad("path-does-not-exist", _missing_path,
        ("no-such-dir", FILE, ("does not exist", "expected a content repository"))),
    # --- odd explicit tags and out-of-range numbers: a named rejection, never a traceback
    bad("yaml-bad-explicit-timestamp", set_line(MD, "updated", "updated: !!timestamp yesterday"),
        (MD, FM, "invalid YAML")),
    bad("yaml-binary-value", lambda r: _fm_add(r / MD, "cover: !!binary aGVsbG8="),
        (MD, "cover", re.compile(r"binary|bytes|plain data|JSON", re.I))),
    bad("token-budget-over-int64", set_line(BRIEF, "tokenBudget", "tokenBudget: 99999999999999999999999"),
        (BRIEF, "tokenBudget", re.compile(r"too large|out of range|less than or equal|at most", re.I))),
]
# fmt: on


def _matches(message: str, expected: Message) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.search(message) is not None
    return all(part in message for part in ((expected,) if isinstance(expected, str) else expected))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_rejected_by_name_and_nothing_is_written(case: Case, workspace: Workspace) -> None:
    """One broken input: exit 1, an error naming the file, the field and what was expected, and the
    previously loaded database byte for byte unchanged (the canary's valid change is not written either)."""
    root = workspace.root
    _mark_canary(root)
    result = case.mutate(root)
    extra = result if isinstance(result, list) else []  # a list of further PATHs to ingest, if any
    before = stored_state(workspace.db_url)

    code, report = ingest_json(root, *extra, db_url=workspace.db_url)

    errors = report["errors"]
    assert code == 1, report
    for rel, field, message in case.expected:
        file = str(root / rel)
        named = [e for e in errors if e["file"] == file and e["field"] == field]
        assert named, f"no error for {file} / {field}; errors: {json.dumps(errors, indent=2)}"
        assert any(_matches(e["message"], message) for e in named), f"{message!r} not in {named}"
    # Only the broken files are blamed: never the canary or the untouched article.
    assert {e["file"] for e in errors} == {str(root / rel) for rel, _, _ in case.expected}, errors
    # All or nothing: the valid canary change was not written and the database kept its bytes.
    assert report["articles"]["added"] == report["articles"]["updated"] == report["articles"]["removed"] == 0
    assert stored_state(workspace.db_url) == before
    if case.after:
        case.after(root)


def test_the_suite_has_at_least_25_distinct_rejected_inputs() -> None:
    """The acceptance requirement: at least 25 distinct broken inputs that the app rejects today."""
    ids = [param.id for param in CASES]
    assert len(set(ids)) == len(ids) >= 25, ids


def _titles_and_fingerprints(db_url: str) -> dict[str, tuple[str, str]]:
    rows = sql_rows(db_url, "SELECT slug, title, fingerprint FROM article")  # its own connection, closed at once
    return {slug: (title, fingerprint) for slug, title, fingerprint in rows}


def test_every_broken_article_and_every_error_is_listed(workspace: Workspace) -> None:
    """Three articles broken in four ways in one run: every error is reported, not only the first one."""
    root = workspace.root
    victim_art = root / ART

    def two_errors(d: dict[str, Any]) -> None:
        d["claims"][0]["confidence"] = "certain"
        d["claims"][0]["evidence"][0]["supports"] = "proves"

    _json(victim_art, two_errors)
    _fm_line(root / ARTICLES / "2026" / CANARY / "agent.md", "tokenBudget", "tokenBudget: 50")
    bystander_md = root / ARTICLES / "2026" / BYSTANDER / "article.md"
    bystander_md.write_text(_body(bystander_md), encoding="utf-8")
    before = stored_state(workspace.db_url)

    code, report = ingest_json(root, db_url=workspace.db_url)

    assert code == 1
    found = {(e["file"], e["field"]) for e in report["errors"]}
    assert found == {
        (str(victim_art), "claims[0].confidence"),
        (str(victim_art), "claims[0].evidence[0].supports"),
        (str(root / ARTICLES / "2026" / CANARY / "agent.md"), "tokenBudget"),
        (str(bystander_md), FM),
    }, report["errors"]
    assert report["changes"]["invalid"] == sorted(SLUGS)
    assert report["articles"]["invalid"] == 3
    assert stored_state(workspace.db_url) == before


def test_keep_going_loads_the_valid_articles_and_keeps_the_stored_invalid_one(workspace: Workspace) -> None:
    """--keep-going writes the valid change, keeps the invalid article's stored version and still exits 1."""
    root = workspace.root
    stored = _titles_and_fingerprints(workspace.db_url)
    assert set(stored) == set(SLUGS)
    canary = root / ARTICLES / "2026" / CANARY / "artifact.json"
    _json(canary, lambda d: d.update(title="A canary title for AI"))

    def retitle_and_break(d: dict[str, Any]) -> None:
        d["title"] = "This title must not be stored"
        d["claims"][0]["confidence"] = "very-high"

    _json(root / ART, retitle_and_break)

    code, report = ingest_json(root, db_url=workspace.db_url, flags=("--keep-going",))

    assert code == 1
    assert [(e["file"], e["field"]) for e in report["errors"]] == [(str(root / ART), "claims[0].confidence")]
    assert report["changes"]["updated"] == [CANARY]
    assert report["changes"]["invalid"] == [VICTIM]
    stored_state(workspace.db_url)  # the write was checkpointed: no WAL frames are left pending
    now = _titles_and_fingerprints(workspace.db_url)
    assert now[VICTIM] == stored[VICTIM]  # the invalid article keeps its stored title and fingerprint
    assert now[BYSTANDER] == stored[BYSTANDER]
    assert now[CANARY][0] == "A canary title for AI"
    assert now[CANARY][1] != stored[CANARY][1]


def test_a_far_future_source_date_ends_in_a_report_not_a_traceback(workspace: Workspace) -> None:
    """A schema-valid but absurd date ends in a JSON report (accepted, or rejected by name), never a crash."""
    root = workspace.root
    _json(root / ART, lambda d: [source.update(accessed="9999-12-31") for source in d["sources"]])
    before = stored_state(workspace.db_url)

    code, report = ingest_json(root, db_url=workspace.db_url)  # raises when the output is not a JSON report

    if code == 0:
        assert report["changes"]["updated"] == [VICTIM]
    else:
        assert code == 1
        assert {e["file"] for e in report["errors"]} == {str(root / ART)}, report["errors"]
        assert all(e["field"].startswith("sources[") for e in report["errors"]), report["errors"]
        assert stored_state(workspace.db_url) == before


def test_an_oversized_file_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, baseline: Baseline
) -> None:
    """The size limit is checked on the file's size before any read: a 50 MB file is never opened."""
    root = tmp_path / "repo"
    shutil.copytree(baseline.tree, root)
    _fifty_megabytes(root)
    big = (root / ART).resolve()
    real_open = io.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path) and Path(file).resolve() == big:
            raise AssertionError(f"{big} was opened")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(builtins, "open", guarded_open)

    found = Walk([root], LIMIT)
    found.census()
    assert VICTIM not in {article.slug for article in found.found()}  # the walk reads nothing, only stats
    assert [(e.file, e.field) for e in found.errors] == [(str(root / ART), FILE)]
    assert f"over the {LIMIT:,}-byte limit" in found.errors[0].message
    assert VICTIM in found.invalid_slugs
