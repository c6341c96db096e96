"""The OpenAPI document is complete: every response has a real model and an example, every parameter a
description, and every error is declared as application/problem+json."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.main import create_app
from app.problems import PROBLEM
from tests.conftest import api_client

SPEC = create_app().openapi()
OPERATIONS = [(path, method, op) for path, item in SPEC["paths"].items() for method, op in item.items()
              if method != "head"]  # fmt: skip


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_is_documented(path: str, method: str, op: dict[str, Any]) -> None:
    assert op.get("summary"), f"{method} {path} has no summary"
    for parameter in op.get("parameters", []):
        assert parameter.get("description"), f"{method} {path}: parameter {parameter['name']} has no description"
    [(media_type, content)] = op["responses"]["200"]["content"].items()
    schema = _resolve(content["schema"])
    if media_type == "application/json":
        model = _resolve(schema["items"]) if schema.get("type") == "array" else schema
        for each in [_resolve(branch) for branch in model["anyOf"]] if "anyOf" in model else [model]:  # ?version=
            assert each.get("properties"), f"{method} {path}: the 200 response has no real model"
            assert "example" in content or each.get("examples"), f"{method} {path}: the 200 response has no example"
    else:
        assert "example" in content, f"{method} {path}: the 200 response has no example"
    for status in ("400", "404", "422"):
        [(media_type, content)] = op["responses"][status]["content"].items()
        assert (media_type, content["schema"]) == ("application/problem+json", {"$ref": "#/components/schemas/Problem"})


# --- Made for generators (issue 16): these fail on a document with the error schema inline in every response,
# untyped list items, FastAPI's operation ids, no HEAD, no headers, no nextCursor, and feeds typed as strings.

SCHEMAS = SPEC["components"]["schemas"]
GETS = [(path, item["get"]) for path, item in SPEC["paths"].items() if "get" in item]


def test_the_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    validate(SPEC)


def test_operation_ids_are_readable_unique_and_named_on_purpose() -> None:
    from app.openapi import OPERATION_IDS

    ids = [op["operationId"] for item in SPEC["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", op_id) for op_id in ids), ids
    assert {path: op["operationId"] for path, op in GETS} == OPERATION_IDS
    assert OPERATION_IDS["/claims"] == "list_claims" and OPERATION_IDS["/articles/{slug}/brief"] == "get_article_brief"


def test_every_error_response_refers_to_the_one_problem_schema() -> None:
    text = json.dumps(SPEC)
    assert text.count('"title": "Problem"') == 1  # written once, in components
    for item in SPEC["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if int(status) >= 400 and "content" in response:
                    assert response["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.mark.parametrize(("path", "get"), GETS, ids=[path for path, _ in GETS])
def test_every_get_has_a_head_twin_without_a_body(path: str, get: dict[str, Any]) -> None:
    head = SPEC["paths"][path]["head"]
    assert head["operationId"] == f"head_{get['operationId']}"
    assert head.get("parameters") == get.get("parameters")
    assert set(head["responses"]) == set(get["responses"])
    for status, response in head["responses"].items():
        assert "content" not in response
        assert response.get("headers") == get["responses"][status].get("headers")


@pytest.mark.parametrize(("path", "get"), GETS, ids=[path for path, _ in GETS])
def test_response_headers_are_declared_as_components(path: str, get: dict[str, Any]) -> None:
    responses = get["responses"]
    if path.startswith(("/articles", "/claims", "/agents")):
        for name in ("ETag", "Last-Modified", "Cache-Control", "X-Corpus-Version"):
            assert responses["304"]["headers"][name] == {"$ref": f"#/components/headers/{name}"}
    assert "WWW-Authenticate" in responses["401"]["headers"] and "Retry-After" in responses["503"]["headers"]
    if "application/json" in responses["200"]["content"]:
        assert "X-Token-Estimate" in responses["200"]["headers"]
    if path in ("/claims", "/articles", "/sources", "/search", "/articles/{slug}/brief"):
        assert "Link" in responses["200"]["headers"]
    assert set(SPEC["components"]["headers"]) >= {"ETag", "Link", "X-Corpus-Version", "X-Token-Estimate"}


#: Free-form members, open on purpose: front matter as the author wrote it, a catalog query's parameters.
FREE_FORM = {"frontMatter", "params"}


def _walk(schema: dict[str, Any], seen: set[str]) -> Iterator[dict[str, Any]]:
    """Every object schema reachable from ``schema`` (each named component once), free-form members aside."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            yield from _walk(SCHEMAS[name], seen)
        return
    yield schema
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _walk(schema[key], seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            yield from _walk(branch, seen)
    for name, prop in schema.get("properties", {}).items():
        if name not in FREE_FORM:
            yield from _walk(prop, seen)


LISTS = ["ClaimList", "ArticleList", "SourceList", "SearchResults", "SeriesList", "TopicList", "ItemList"]


@pytest.mark.parametrize("name", LISTS)
def test_list_items_are_named_typed_models(name: str) -> None:
    items = SCHEMAS[name]["properties"]["items"]["items"]
    for branch in items.get("anyOf", [items]):
        assert set(branch) == {"$ref"}, f"{name}: items are not a named schema"
        assert _resolve(branch).get("properties"), f"{name}: items have no properties"


def test_no_json_response_holds_an_untyped_object() -> None:
    """Every object in a JSON or NDJSON 200 has properties, or is a map of typed values (``FREE_FORM`` aside)."""
    for path, get in GETS:
        for media_type, content in get["responses"]["200"]["content"].items():
            if media_type not in ("application/json", "application/x-ndjson"):
                continue
            for schema in _walk(content["schema"], set()):
                if schema.get("type") == "object" and not schema.get("properties"):
                    values = schema.get("additionalProperties")
                    assert isinstance(values, dict) and values, f"{path}: an untyped object {schema}"


@pytest.mark.parametrize("name", ["ClaimList", "ArticleList", "SourceList", "SearchResults"])
def test_every_page_declares_next_cursor_beside_next(name: str) -> None:
    properties = SCHEMAS[name]["properties"]
    assert list(properties).index("nextCursor") == list(properties).index("next") + 1
    assert "nextCursor" in SCHEMAS[name]["required"]


def test_enums_are_named_schemas() -> None:
    claim = SCHEMAS["ClaimItem"]["properties"]
    assert claim["confidence"] == {"$ref": "#/components/schemas/Confidence"}
    assert claim["state"] == {"$ref": "#/components/schemas/ClaimState"}
    assert SCHEMAS["Confidence"]["enum"] == ["low", "medium", "medium-high", "high"]


FEEDS = {"/agents/index.jsonl": "IndexEntry", "/agents/feeds/claims.jsonl": "ClaimFeedRow",
         "/agents/feeds/sources.jsonl": "SourceFeedRow", "/agents/feeds/edges.jsonl": "EdgeRow",
         "/agents/feeds/roadmap.jsonl": "RoadmapRow"}  # fmt: skip


@pytest.mark.parametrize(("path", "row"), FEEDS.items())
def test_ndjson_feeds_name_their_row_schema(path: str, row: str) -> None:
    content = SPEC["paths"][path]["get"]["responses"]["200"]["content"]
    assert content["application/x-ndjson"]["schema"] == {"$ref": f"#/components/schemas/{row}"}


PAGED = ["/claims", "/articles", "/sources", "/search?q=soil", "/articles/composting-without-the-guesswork/claims",
         "/articles/composting-without-the-guesswork/sources"]  # fmt: skip


def test_every_page_body_carries_next_cursor(content_db: str) -> None:
    with api_client(content_db) as client:
        for path in PAGED:
            url = f"{path}{'&' if '?' in path else '?'}limit=2" if not path.startswith("/articles/") else path
            first = client.get(url).json()
            if first["next"] is not None:
                assert first["nextCursor"] == parse_qs(urlsplit(first["next"]).query)["cursor"][0], path
                follow = client.get(first["next"]).json()
                assert list(follow)[:5] == ["items", "total", "totalRelation", "next", "nextCursor"], path
            assert "nextCursor" in first and list(first).index("nextCursor") == list(first).index("next") + 1, path
            last = client.get(url.replace("limit=2", "limit=500")).json()
            assert (last["next"], last["nextCursor"]) == (None, None), path
