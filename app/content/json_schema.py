"""JSON Schemas (draft 2020-12) of the three input files, generated from the models of app.content.schema.

``garden schema`` prints them and ``/schemas/…`` serves them, byte for byte the same, so that an editor can
validate ``artifact.json`` and the two front matters while an author types. They say what the models check on
one file: required fields, types, enums, patterns, lengths, real calendar dates (``format: date``), http(s)
URLs and the slug lengths the API can serve. What no JSON Schema can say is left to ingest and documented in
docs/content-format.md ("What the schemas cannot check"): agreement between the three files and the directory
name, unique claim and source ids, the caps on every value (app.content.limits), and the diagnostics.

Decisions: a field's title is its own name and its description comes from app.content.field_docs; ``$id`` is
``GARDEN_PUBLIC_URL`` + ``/schemas/<file>`` when that is set, else ``urn:garden-api:schemas:<file>`` (a name,
not a place: the schema must not claim a host it is not served from).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from app.content import schema as models
from app.content.field_docs import DESCRIPTIONS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# ECMA-262 has no inline flags: the scheme is matched in either case, as urlsplit does.
HTTP_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+"


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    """One published schema: the model behind it, the file it is served as, and its title."""

    name: str
    model: type[BaseModel]
    file: str
    title: str


SPECS: dict[str, SchemaSpec] = {
    spec.name: spec
    for spec in (
        SchemaSpec("artifact", models.Artifact, "artifact.json", "garden-api artifact.json (schemaVersion 3)"),
        SchemaSpec(
            "article", models.ArticleFrontMatter, "article-front-matter.json", "garden-api article.md front matter"
        ),
        SchemaSpec("agent", models.BriefFrontMatter, "agent-front-matter.json", "garden-api agent.md front matter"),
    )
}


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, plus what the models' after-validators check, where JSON Schema can say it."""

    def get_title_from_name(self, name: str) -> str:
        return name  # "schemaVersion", not pydantic's "Schemaversion"

    def function_after_schema(self, schema: core_schema.AfterValidatorFunctionSchema) -> JsonSchemaValue:
        result = super().function_after_schema(schema)
        check = schema["function"]["function"]
        if check is models._real_date:
            result["format"] = "date"
        elif check is models._http_url:
            result.update(format="uri", pattern=HTTP_URL_PATTERN)
        elif getattr(check, "__qualname__", "").startswith(models._servable.__qualname__ + "."):
            limit = inspect.getclosurevars(check).nonlocals["limit"]
            result["maxLength"] = min(limit, result.get("maxLength", limit))
        return result


def _describe(node: dict[str, Any], model_name: str) -> None:
    """Set the descriptions of one model's schema (root or ``$defs`` entry) and of its properties."""
    described = DESCRIPTIONS[model_name]
    node["description"] = described[""]
    for field_name, prop in node.get("properties", {}).items():
        prop["title"] = field_name  # pydantic leaves it off a property that refers to a model
        prop["description"] = described[field_name]


def json_schema(name: str, public_url: str | None = None) -> dict[str, Any]:
    """The JSON Schema named ``name`` (a key of :data:`SPECS`) as a dict, ``$schema`` and ``$id`` first."""
    spec = SPECS[name]
    body = spec.model.model_json_schema(schema_generator=_Generator)
    _describe(body, spec.model.__name__)
    for def_name, node in body.get("$defs", {}).items():
        _describe(node, def_name)
    schema_id = f"{public_url}/schemas/{spec.file}" if public_url else f"urn:garden-api:schemas:{spec.file}"
    head = {"$schema": DRAFT, "$id": schema_id, "title": spec.title, "description": body.pop("description")}
    defs = body.pop("$defs", None)
    body.pop("title")
    return head | body | ({"$defs": defs} if defs else {})


def schema_bytes(name: str, public_url: str | None = None) -> bytes:
    """:func:`json_schema` as the bytes ``garden schema`` prints and ``/schemas/<file>`` serves."""
    return orjson.dumps(json_schema(name, public_url), option=orjson.OPT_INDENT_2) + b"\n"
