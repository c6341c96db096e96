"""Property-based run over the app's own OpenAPI document (schemathesis 4).

For requests generated to every operation (the examples, coverage and fuzzing phases, valid and invalid
input), against an app serving our content/: no 5xx, and every response conforms to what the document
declares: a declared status code, a declared media type, a body valid against the declared schema, declared
headers, and a declared media type for every response that has a body. Path parameters are drawn from
content/ as well as at random, so the 200s (and the archived article's 410s, the draft's 404s) are checked
too, not only the 404s a random slug gets. Runs are deterministic (``derandomize``) and bounded (``max_examples``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from tests.conftest import CONTENT, api_client

# The document is read at collection time (it does not touch the database); requests go to ``content_app``.
# GET /changes/stream is left out: a valid request opens an event stream that never ends by itself (its inputs and
# events are tested in tests/test_change_stream.py); its HEAD twin, which ends, stays in.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app()).exclude(path="/changes/stream", method="GET")

SLUG_TEMPLATES = [
    f"/articles/{{slug}}{suffix}" for suffix in ("", "/body", "/claims", "/sources", "/related", "/brief", "/brief.md")
]


def _content_path_parameters() -> tuple[dict[str, list[dict[str, str]]], dict[str, list[dict[str, str]]]]:
    """({path template: path parameters naming things in content/}, the same for unpublished articles)."""
    real: dict[str, list[dict[str, str]]] = {}
    unpublished: dict[str, list[dict[str, str]]] = {}
    for path in sorted(CONTENT.glob("articles/*/*/artifact.json")):
        artifact = json.loads(path.read_text(encoding="utf-8"))
        slug = artifact["slug"]
        found = {template: [{"slug": slug}] for template in SLUG_TEMPLATES}
        found["/articles/{slug}/sources/{source_id}"] = [
            {"slug": slug, "source_id": source["id"]} for source in artifact.get("sources", [])
        ]
        found["/claims/{claim_id}"] = [{"claim_id": f"article:{slug}:{claim['id']}"} for claim in artifact["claims"]]
        found["/topics/{topic}"] = [{"topic": topic} for topic in artifact.get("topics", [])]
        found["/series/{slug}"] = [{"slug": artifact["series"]["slug"]}] if artifact.get("series") else []
        for template, params in found.items():
            real.setdefault(template, []).extend(p for p in params if p not in real[template])
            if artifact.get("status") != "published" and template.startswith(("/articles", "/claims")):
                unpublished.setdefault(template, []).extend(params)
    return real, unpublished


REAL, UNPUBLISHED = _content_path_parameters()


@schema.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> st.SearchStrategy[Any]:
    """Keep the generated path parameters, or swap in ones that exist (often an unpublished article's)."""
    template = context.operation.path if context.operation is not None else ""
    branches = [st.sampled_from(params) for params in (REAL.get(template), UNPUBLISHED.get(template)) if params]
    return st.one_of(st.just(path_parameters), *branches)


def body_media_type_is_declared(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """A response with a body must match a declared response that names its media type: otherwise the
    content-type and response-schema checks have nothing to check it against, and pass without a word."""
    if not response.content or case.operation.responses.find_by_status_code(response.status_code) is None:
        return  # no body, or an undeclared status code: status_code_conformance reports that
    if not case.operation.schema.get_content_types(case.operation, response):
        media_type = response.headers.get("content-type", ["(none)"])[0]
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} with a {media_type} body, but the "
            f"document's {response.status_code} response for it declares no content (media type and schema)"
        )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    body_media_type_is_declared,
]


@pytest.fixture(scope="module")
def content_app(content_db: str) -> Iterator[Any]:
    """An app serving content/ (a draft and an archived article among them), for the whole module."""
    with api_client(content_db) as client:
        yield client.app


@schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_its_openapi_document(case: schemathesis.Case[Any], content_app: Any) -> None:
    case.call_and_validate(app=content_app, checks=CHECKS)
