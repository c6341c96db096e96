"""The JSON Schemas of the input files (``garden schema``, ``/schemas/…``): valid draft 2020-12, true to the models
on our sample content and on broken documents, and the same bytes from the command and the route."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from app.content.frontmatter import load_front_matter, split_front_matter
from app.content.json_schema import SPECS, json_schema
from tests.conftest import CONTENT, api_client, run_garden
from tests.test_authoring import complete_example

ARTICLE_DIRS = sorted((CONTENT / "articles").glob("*/*"))
FILE_OF = {"artifact": "artifact.json", "article": "article.md", "agent": "agent.md"}


def validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(name), format_checker=jsonschema.FormatChecker())


def document(name: str, raw: bytes) -> dict[str, Any]:
    """A file's data as ingest reads it: the artifact's JSON, or the front matter with its dates normalised."""
    text = raw.decode("utf-8")
    return json.loads(text) if name == "artifact" else load_front_matter(split_front_matter(text)[0])


def problems(name: str, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator(name).iter_errors(data)]


def model_accepts(name: str, data: Any) -> bool:
    model: type[BaseModel] = SPECS[name].model
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", list(SPECS))
def test_each_schema_is_a_valid_draft_2020_12_schema_an_editor_can_use(name: str) -> None:
    generated = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(generated)
    assert generated["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert generated["$id"] == f"urn:garden-api:schemas:{SPECS[name].file}"
    assert generated["title"] and generated["description"] and generated["required"]
    for node in [generated, *generated.get("$defs", {}).values()]:
        for field, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{name}: {field} has no description"
            assert prop.get("title") == field


def test_the_schemas_state_what_the_models_check() -> None:
    artifact = json_schema("artifact")
    props, defs = artifact["properties"], artifact["$defs"]
    assert props["status"]["enum"] == ["draft", "review", "published", "archived"]
    assert props["publishedAt"]["format"] == "date"
    assert props["slug"]["pattern"] == "^[a-z0-9-]+$" and props["slug"]["maxLength"] == 192
    assert props["thesis"]["minLength"] == 80
    assert defs["Source"]["properties"]["url"]["format"] == "uri"
    assert defs["Series"]["additionalProperties"] is False
    assert defs["Claim"]["additionalProperties"] is True
    assert "contentHash" in artifact["required"] and "series" not in artifact["required"]
    brief = json_schema("agent")["properties"]["tokenBudget"]
    assert (brief["type"], brief["minimum"]) == ("integer", 100)


@pytest.mark.parametrize("article_dir", ARTICLE_DIRS, ids=lambda p: p.name)
def test_every_sample_article_validates(article_dir: Path) -> None:
    for name, file in FILE_OF.items():
        assert problems(name, document(name, (article_dir / file).read_bytes())) == [], f"{article_dir.name}/{file}"


def test_the_docs_complete_example_validates() -> None:
    files = complete_example()
    for name, file in FILE_OF.items():
        assert problems(name, document(name, files[file])) == [], file


def _samples() -> dict[str, dict[str, Any]]:
    files = complete_example()
    return {name: document(name, files[file]) for name, file in FILE_OF.items()}


BROKEN = [
    ("artifact", lambda d: d.pop("contentHash"), "contentHash"),
    ("artifact", lambda d: d["provenance"]["reviews"][0].pop("notes"), "notes"),
    ("artifact", lambda d: d.update(status="live"), "status"),
    ("artifact", lambda d: d["claims"][0].update(confidence="certain"), "confidence"),
    ("artifact", lambda d: d["sources"][0].update(url="ftp://example.org/x"), "url"),
    ("artifact", lambda d: d.update(publishedAt="2026-02-30"), "publishedAt"),
    (
        "artifact",
        lambda d: d.update(series={"slug": "s", "title": "Series title", "order": 0, "role": "guide", "x": 1}),
        "series",
    ),
    ("artifact", lambda d: d.update(slug="x" * 193), "slug"),
    ("article", lambda d: d.pop("summary"), "summary"),
    ("article", lambda d: d.update(maturity="ripe"), "maturity"),
    ("article", lambda d: d.update(readingTime="4 minutes"), "readingTime"),
    ("agent", lambda d: d.pop("tokenBudget"), "tokenBudget"),
    ("agent", lambda d: d.update(tokenBudget=50), "tokenBudget"),
    ("agent", lambda d: d.update(status="done"), "status"),
]


@pytest.mark.parametrize(
    ("name", "breaks", "field"), BROKEN, ids=[f"{n}-{f}-{i}" for i, (n, _, f) in enumerate(BROKEN)]
)
def test_a_broken_document_fails_the_schema_as_it_fails_ingest(name: str, breaks: Any, field: str) -> None:
    data = copy.deepcopy(_samples()[name])
    assert model_accepts(name, data) and problems(name, data) == []
    breaks(data)
    assert not model_accepts(name, data)
    assert problems(name, data), f"the {name} schema accepts a document with a bad {field}"


def _mutations(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each top-level field of ``data`` set to values of the wrong shape, one at a time."""
    out = []
    for key in data:
        for value in (None, 7, "", "x", "2026-13-01", [], {}, True):
            changed = dict(data)
            changed[key] = value
            out.append((f"{key}={value!r}", changed))
    return out


@pytest.mark.parametrize("name", list(SPECS))
def test_the_schema_and_the_model_agree_on_every_top_level_field(name: str) -> None:
    disagreements = []
    for label, data in _mutations(_samples()[name]):
        if model_accepts(name, data) != (problems(name, data) == []):
            disagreements.append(label)
    assert disagreements == []


def test_the_command_and_the_route_serve_the_same_bytes(db_url: str, tmp_path: Path) -> None:
    written = run_garden("schema", "--out", str(tmp_path / "schemas"), db_url=db_url)
    assert written.returncode == 0, written.stderr
    with api_client(db_url) as client:
        for name, spec in SPECS.items():
            printed = run_garden("schema", name, db_url=db_url)
            assert printed.returncode == 0, printed.stderr
            response = client.get(f"/schemas/{spec.file}", headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/schema+json"
            assert response.content == printed.stdout.encode() == (tmp_path / "schemas" / spec.file).read_bytes()
            assert response.headers["cache-control"].startswith("public, max-age=")
            etag = response.headers["etag"]
            again = client.get(f"/schemas/{spec.file}", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
            assert (again.status_code, again.content) == (304, b"")
            zipped = client.get(f"/schemas/{spec.file}", headers={"Accept-Encoding": "gzip"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.content == response.content  # httpx undoes the gzip
            head = client.head(f"/schemas/{spec.file}")
            assert (head.status_code, head.content) == (200, b"")
        assert client.get("/schemas/nothing.json").status_code == 404
        paths = client.get("/openapi.json").json()["paths"]
        assert {f"/schemas/{spec.file}" for spec in SPECS.values()} <= set(paths)


def test_the_schema_id_follows_the_public_url(db_url: str) -> None:
    printed = run_garden("schema", "artifact", db_url=db_url, env={"GARDEN_PUBLIC_URL": "https://api.example.org"})
    assert json.loads(printed.stdout)["$id"] == "https://api.example.org/schemas/artifact.json"
    with api_client(db_url, GARDEN_PUBLIC_URL="https://api.example.org") as client:
        assert client.get("/schemas/artifact.json").content == printed.stdout.encode()


def test_bad_schema_arguments_get_one_error_line(db_url: str) -> None:
    for args in [("schema",), ("schema", "packet")]:
        result = run_garden(*args, db_url=db_url)
        assert result.returncode == 1
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
