"""``/schemas/artifact.json``, ``/schemas/article-front-matter.json``, ``/schemas/agent-front-matter.json``: the JSON
Schemas of the input files (app.content.json_schema), the bytes ``garden schema`` prints.

They depend on the code and ``GARDEN_PUBLIC_URL`` (their ``$id``) only, never on the corpus: built once per
process, answered without the database, with a strong ETag of the bytes, ``304`` on a matching ``If-None-Match``,
``Cache-Control: public`` for ``GARDEN_CACHE_MAX_AGE`` and gzip when the client takes it.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.budget import estimate
from app.content.json_schema import SPECS, json_schema, schema_bytes
from app.negotiation import accepts_gzip, not_modified
from app.settings import get_settings

router = APIRouter(tags=["schemas"])
MEDIA_TYPE = "application/schema+json"


class SchemaResponse(Response):
    media_type = MEDIA_TYPE


@lru_cache(maxsize=16)
def _encoded(name: str, public_url: str | None) -> tuple[bytes, bytes, str, int]:
    """The body, gzipped, the tag of its bytes and its token estimate."""
    body = schema_bytes(name, public_url)
    tag = hashlib.blake2b(body, digest_size=12).hexdigest()
    return body, gzip.compress(body, compresslevel=9, mtime=0), tag, estimate(body)


def _example(name: str) -> dict[str, Any]:
    """The head of the real schema (the whole one is served), for the OpenAPI document."""
    schema = json_schema(name)
    return {key: schema[key] for key in ("$schema", "$id", "title", "description", "type", "required")}


def _route(name: str) -> Any:
    async def serve(request: Request) -> Response:  # no I/O: answered on the event loop
        settings = get_settings()
        gzipped = accepts_gzip(request.headers.get("accept-encoding", ""))
        body, packed, tag, tokens = _encoded(name, settings.public_url)
        etag = f'"{tag}-gz"' if gzipped else f'"{tag}"'  # a strong tag per content coding (app.http)
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={settings.cache_max_age}",
            "Vary": "Accept-Encoding",
        }
        if not_modified(request.headers.get("if-none-match", ""), "", etag, None):
            return Response(status_code=304, headers=headers)
        headers["X-Token-Estimate"] = str(tokens)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
            body = packed
        return SchemaResponse(body, headers=headers)

    return serve


for _spec in SPECS.values():
    router.add_api_route(
        f"/schemas/{_spec.file}",
        _route(_spec.name),
        methods=["GET"],
        name=f"schema_{_spec.name}",
        summary=f"JSON Schema of {_spec.title.removeprefix('garden-api ')}",
        description=f"The draft 2020-12 JSON Schema `garden schema {_spec.name}` prints, generated from the models "
        "ingest validates with. Point an editor at it to check the file while typing; docs/content-format.md "
        "explains every field and what ingest checks beyond the schema.",
        response_class=SchemaResponse,
        responses={200: {"content": {MEDIA_TYPE: {"schema": {"type": "object"}, "example": _example(_spec.name)}}}},
    )
