"""The OpenAPI document is complete: every response has a real model and an example, every parameter a
description, and every error is declared as application/problem+json."""

from __future__ import annotations

from typing import Any

import pytest

from app.main import create_app

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
        assert model.get("properties"), f"{method} {path}: the 200 response has no real model"
        assert "example" in content or model.get("examples"), f"{method} {path}: the 200 response has no example"
    else:
        assert "example" in content, f"{method} {path}: the 200 response has no example"
    for status in ("400", "404", "422"):
        [(media_type, content)] = op["responses"][status]["content"].items()
        assert (media_type, content["schema"]) == ("application/problem+json", {"$ref": "#/components/schemas/Problem"})
