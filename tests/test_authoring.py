"""docs/content-format.md stays true to the code: every field with its required flag and a valid example, the
complete example ingests cleanly, and every diagnostic rule the code can store is documented."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from app.content import schema
from app.content.frontmatter import load_front_matter
from app.content.reader import InputArticle, parse
from tests.conftest import ROOT, ingest_json, run_garden

DOC_PATH = ROOT / "docs" / "content-format.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
ROOTS = {"article.md": schema.ArticleFrontMatter, "agent.md": schema.BriefFrontMatter, "artifact.json": schema.Artifact}


def sections(level: str = "## ") -> dict[str, str]:
    """The doc cut at its headings of ``level``: heading text → the section's text."""
    found: dict[str, str] = {}
    heading = None
    fenced = False
    for line in DOC.splitlines(keepends=True):
        fenced ^= line.startswith("```")
        if line.startswith(level) and not fenced:
            heading = line[len(level) :].strip()
            found[heading] = ""
        elif heading is not None:
            found[heading] += line
    return found


def file_section(file: str) -> str:
    [text] = [text for heading, text in sections().items() if heading.startswith(f"`{file}`")]
    return text


def table_rows(text: str) -> dict[str, list[str]]:
    """Field rows of the tables in ``text``: the field path → its cells (required, type and limits, example)."""
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 4 and re.fullmatch(r"`[^`]+`", cells[0]) and cells[1] in ("yes", "no"):
            assert cells[0] not in rows, f"{cells[0]} is documented twice"
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside ``X``, ``X | None`` or ``list[X]``, and whether it is in a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    if origin is list:
        inner, _ = _inner_model(typing.get_args(annotation)[0])
        return inner, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            inner, in_list = _inner_model(arg)
            if inner is not None:
                return inner, in_list
    return None, False


def model_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every field reachable from ``model``, as the doc names it (``claims[].evidence[].snippet``)."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info
        inner, in_list = _inner_model(info.annotation)
        if inner is not None:
            yield from model_fields(inner, f"{path}[]." if in_list else f"{path}.")


FIELDS = [(file, path, info) for file, model in ROOTS.items() for path, info in model_fields(model)]


@pytest.mark.parametrize(("file", "path", "info"), FIELDS, ids=[f"{f}:{p}" for f, p, _ in FIELDS])
def test_every_field_is_documented_with_whether_it_is_required(file: str, path: str, info: FieldInfo) -> None:
    rows = table_rows(file_section(file))
    assert path in rows, f"docs/content-format.md does not document {file} field {path}"
    expected = "yes" if info.is_required() else "no"
    assert rows[path][0] == expected, f"{file} {path}: the doc says required={rows[path][0]}, the model {expected}"


def test_the_doc_documents_no_field_the_models_lack() -> None:
    for file, model in ROOTS.items():
        known = {path for path, _ in model_fields(model)}
        assert set(table_rows(file_section(file))) <= known, file


def _example_value(file: str, path: str, cell: str) -> Any:
    literal = cell[1:-1]
    if file == "artifact.json":
        return json.loads(literal)
    return load_front_matter(f"{path}: {literal}")[path]  # as ingest reads it: dates become YYYY-MM-DD


@pytest.mark.parametrize(("file", "path", "info"), FIELDS, ids=[f"{f}:{p}" for f, p, _ in FIELDS])
def test_every_example_is_valid_for_its_field(file: str, path: str, info: FieldInfo) -> None:
    cell = table_rows(file_section(file))[path][2]
    if not re.fullmatch(r"`[^`]+`", cell):
        assert "[the complete example](#a-complete-article)" in cell, f"{file} {path}: no example"
        return
    value = _example_value(file, path, cell)
    try:
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            info.annotation.model_validate(value)  # strict by the model's own config
        else:
            annotated = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            TypeAdapter(annotated, config=ConfigDict(strict=True)).validate_python(value)
    except ValidationError as exc:
        raise AssertionError(f"{file} {path}: the example {cell} is not valid: {exc}") from None


# --- The complete example -------------------------------------------------------------------------------------


def complete_example() -> dict[str, bytes]:
    """The fenced blocks marked ``example=<file>``, as the files they show."""
    blocks = re.findall(r"^```\w+ example=(\S+)\n(.*?)^```$", DOC, flags=re.MULTILINE | re.DOTALL)
    return {name: text.encode() for name, text in blocks}


def test_the_complete_example_has_the_three_files_and_the_hash_of_its_article() -> None:
    files = complete_example()
    assert set(files) == {"article.md", "agent.md", "artifact.json"}
    artifact = json.loads(files["artifact.json"])
    digest = hashlib.sha256(files["article.md"]).hexdigest()
    assert artifact["contentHash"] == digest, f"write {digest} as the example's contentHash"
    assert artifact["provenance"]["reviews"][-1]["contentHash"] == digest, f"and as its review's ({digest})"


def write_example(root: Path) -> Path:
    files = complete_example()
    source_path = json.loads(files["artifact.json"])["sourcePath"]
    directory = root / Path(source_path).parent
    directory.mkdir(parents=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


def test_the_complete_example_is_valid_and_has_no_diagnostic(tmp_path: Path) -> None:
    directory = write_example(tmp_path)
    files = {"article": "article.md", "brief": "agent.md", "artifact": "artifact.json"}
    paths = {role: str(directory / name) for role, name in files.items()}
    raw = {role: (directory / name).read_bytes() for role, name in files.items()}
    parsed = parse(InputArticle(directory.name, directory.parent.name, "source", str(directory), paths, raw))
    assert parsed.is_public
    assert [f.message for f in parsed.findings if f.active_from is None] == []
    assert {state.on(dt.date(2026, 11, 22)) for state in parsed.states.values()} == {"verified"}
    assert parsed.token_estimate > 0 and parsed.section_outline


def test_the_complete_example_ingests(tmp_path: Path, db_url: str) -> None:
    write_example(tmp_path)
    code, report = ingest_json(tmp_path, db_url=db_url)
    assert (code, report["errors"], report["diagnostics"]) == (0, [], {"error": 0, "warning": 0})
    assert report["counts"]["public_articles"] == 1


# --- Diagnostics ----------------------------------------------------------------------------------------------


def emitted_rules() -> set[str]:
    """Every rule name the code can store: the first argument of each ``Finding(…)``, and of each call to a
    function whose first parameter is ``rule`` (derive's ``add``), in app/."""
    rules: set[str] = set()
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        emitters = {"Finding"} | {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.args.args and node.args.args[0].arg == "rule"
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name not in emitters:
                continue
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "rule"), None)
            if isinstance(first, ast.Name) and first.id == "rule":
                continue  # inside an emitter (derive's add): its callers name the rule
            if name == "Finding" or isinstance(first, ast.Constant):
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.relative_to(ROOT)}:{node.lineno}: a rule name must be a literal, for this test to see it"
                )
                rules.add(first.value)
    return rules


def documented_rules() -> list[str]:
    return re.findall(r"^### `([a-z][a-zA-Z-]+)`$", sections()["Diagnostics"], flags=re.MULTILINE)


def test_every_diagnostic_rule_is_documented_and_no_other() -> None:
    emitted = emitted_rules()
    assert {"orphan-claim", "stale-source", "content-hash-rewritten", "brief-claim-omitted"} <= emitted
    assert len(emitted) >= 20
    documented = documented_rules()
    assert len(documented) == len(set(documented))
    assert sorted(emitted - set(documented)) == [], "diagnostic rules missing from docs/content-format.md"
    assert sorted(set(documented) - emitted) == [], "docs/content-format.md documents rules the code never stores"
    for rule in documented:
        text = DOC.split(f"### `{rule}`", 1)[1].split("\n### ", 1)[0]
        assert "**Fix:**" in text, f"{rule}: the doc says what it means but not how to fix it"


def github_anchor(heading: str, seen: dict[str, int]) -> str:
    """The anchor GitHub gives a heading: lowercased, punctuation but ``-`` and ``_`` dropped, spaces to ``-``,
    ``-1``, ``-2`` … on repeats."""
    anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    count = seen.get(anchor, 0)
    seen[anchor] = count + 1
    return f"{anchor}-{count}" if count else anchor


def test_every_link_to_a_section_of_the_doc_finds_it() -> None:
    seen: dict[str, int] = {}
    fenced = False
    anchors = set()
    for line in DOC.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and (match := re.match(r"#{1,6} (.+)", line)):
            anchors.add(github_anchor(match.group(1), seen))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(#([^)]+)\)", DOC) + re.findall(r"docs/content-format\.md#([^)\s]+)\)", readme)
    assert len(linked) > 30
    assert sorted(set(linked) - anchors) == []


def test_no_user_facing_text_cites_the_publishers_contract() -> None:
    """A user has no DATA-CONTRACT: --help, the README, this doc and the OpenAPI document cite docs instead."""
    from app.main import create_app

    help_texts = [run_garden(*args, "--help", db_url="sqlite://").stdout for args in [(), ("ingest",), ("new",)]]
    openapi = json.dumps(create_app().openapi(), ensure_ascii=False)
    for text in [*help_texts, (ROOT / "README.md").read_text(encoding="utf-8"), DOC, openapi]:
        assert "DATA-CONTRACT" not in text
        assert not re.search(r"\(§\d", text), re.search(r".{60}\(§\d.{20}", text)
