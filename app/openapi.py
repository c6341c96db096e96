"""The OpenAPI document, made for code generators (``install_openapi`` replaces FastAPI's ``app.openapi``).

FastAPI writes the document from the routes and the response models (app.responses*); this module finishes it:

* **One ``Problem`` schema** (components/schemas/Problem) that every error response references
  (app.problems.PROBLEM_RESPONSES), so a generator makes one error class, not one per operation.
* **Readable operation ids** (``OPERATION_IDS``: ``list_claims``, ``get_article_brief``, ...): a generated
  client's function names. A route missing from the table gets one made from its path (``route_id``), and
  tests/test_openapi.py fails on it, so that a new route is named on purpose.
* **Response headers** as reusable components/headers, declared on the responses that send them: the caching
  headers and ``X-Corpus-Version`` on 200 and 304, ``Link`` on paged lists and the brief, ``X-Token-Estimate``,
  ``WWW-Authenticate`` on 401 and ``Retry-After`` on 503. None is marked required: a 200 answered from the
  response cache or a stored file carries the same headers, but a schema checker has no need to insist.
* **HEAD**: app.http.HeadAsGet answers HEAD for every GET route, so every GET operation has a HEAD twin with
  the same parameters and headers and no body (operation id ``head_`` + the GET's).
* **NDJSON feeds** (``application/x-ndjson``) name their row schema (app.responses_agent: ``ClaimFeedRow``, ...):
  the schema describes one line. OpenAPI 3.1 has no way to say "a sequence of these"; 3.2's ``itemSchema`` is not
  read by today's generators, so the description says it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.problems import Problem
from app.responses_agent import FEED_ROWS
from app.responses_changes import ChangeEntry
from app.responses_stream import STREAM_EVENTS

#: GET path -> operation id (snake_case, unique; the HEAD twin is ``head_`` + it).
OPERATION_IDS = {
    "/articles": "list_articles",
    "/articles/{slug}": "get_article",
    "/articles/{slug}/body": "get_article_body",
    "/articles/{slug}/claims": "list_article_claims",
    "/articles/{slug}/sources": "list_article_sources",
    "/articles/{slug}/sources/{source_id}": "get_article_source",
    "/articles/{slug}/related": "list_related",
    "/articles/{slug}/brief": "get_article_brief",
    "/articles/{slug}/brief.md": "get_article_brief_markdown",
    "/articles/{slug}/body.html": "get_article_body_html",
    "/feed.atom": "get_atom_feed",
    "/sitemap.xml": "get_sitemap",
    "/sitemaps/{page}.xml": "get_numbered_sitemap",
    "/claims": "list_claims",
    "/claims/{claim_id}": "get_claim",
    "/claims/{claim_id}/history": "get_claim_history",
    "/search": "search",
    "/sources": "list_sources",
    "/changes": "list_changes",
    "/changes.jsonl": "get_changes_feed",
    "/changes/stream": "stream_changes",
    "/series": "list_series",
    "/series/{slug}": "get_series",
    "/topics": "list_topics",
    "/topics/{topic}": "get_topic",
    "/agents/index.json": "get_agent_index",
    "/agents/index.jsonl": "get_agent_index_feed",
    "/agents/feeds/manifest.json": "get_feeds_manifest",
    "/agents/feeds/claims.jsonl": "get_claims_feed",
    "/agents/feeds/sources.jsonl": "get_sources_feed",
    "/agents/feeds/edges.jsonl": "get_edges_feed",
    "/agents/feeds/roadmap.jsonl": "get_roadmap_feed",
    "/agents/garden-queries.json": "get_garden_queries",
    "/agents/verification-report.json": "get_verification_report",
    "/agents/diagnostics.json": "get_diagnostics",
    "/graph/nodes.json": "get_graph_nodes",
    "/graph/edges.json": "get_graph_edges",
    "/llms.txt": "get_llms_txt",
    "/agents/articles/{slug}.json": "get_article_packet",
    "/agents/articles/{slug}.md": "get_article_packet_markdown",
    "/agents/topics/{topic}.json": "get_topic_file",
    "/healthz": "get_health",
    "/readyz": "get_readiness",
    "/schemas/artifact.json": "get_artifact_schema",
    "/schemas/article-front-matter.json": "get_article_front_matter_schema",
    "/schemas/agent-front-matter.json": "get_agent_front_matter_schema",
}

_INTEGER = {"type": "integer", "minimum": 0}
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "Strong validator of this URL's representation; send it back in If-None-Match.",
             "schema": {"type": "string"}},
    "Last-Modified": {"description": "The last ingest (or midnight today, if later: claim states age with the "
                      "date).", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=GARDEN_CACHE_MAX_AGE for anonymous answers; private, no-store "
                      "with the preview token; no-store on errors.", "schema": {"type": "string"}},
    "X-Corpus-Version": {"description": "The version of the corpus the answer was read from (one per ingest).",
                         "schema": _INTEGER},
    "X-Token-Estimate": {"description": "The publisher's token estimate of the JSON body: ceil(words x 1.35).",
                         "schema": _INTEGER},
    "Link": {"description": 'RFC 8288 links: rel="next" to the next page (the `next` of the body), rel="alternate" '
             "to another representation.", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": _INTEGER},
    "WWW-Authenticate": {"description": 'The preview scheme: Bearer realm="garden-api preview".',
                         "schema": {"type": "string"}},
}  # fmt: skip
CACHING = ("ETag", "Last-Modified", "Cache-Control", "X-Corpus-Version")
#: GET paths whose 200 may carry Link (paged lists; the brief and its Markdown link each other).
LINKED = {"/articles", "/claims", "/sources", "/changes", "/search", "/articles/{slug}/claims",
          "/articles/{slug}/brief", "/articles/{slug}/brief.md"}  # fmt: skip


def route_id(path: str) -> str:
    """An operation id made from a path, for a route ``OPERATION_IDS`` does not name: ``get_`` + its words."""
    return "get_" + "_".join(word for word in re.split(r"[^a-z0-9]+", path.lower()) if word)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _headers(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _ref("headers", name) for name in names}


def _caching(path: str) -> tuple[str, ...]:
    """The caching headers a path's 200 and 304 carry: none on the health checks, no corpus on the schemas."""
    if path in ("/healthz", "/readyz"):
        return ()
    if path == "/changes/stream":  # no validator: an event stream is never cached
        return ("Cache-Control", "X-Corpus-Version")
    return ("ETag", "Cache-Control") if path.startswith("/schemas/") else CACHING


def _declare_headers(path: str, operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        if status == "200":
            json = "application/json" in response.get("content", {}) or path.startswith("/schemas/")
            names = (*_caching(path), *(("X-Token-Estimate",) if json else ()), *(("Link",) if path in LINKED else ()))
        elif status == "304":
            names = _caching(path)
        else:
            names = ("Cache-Control", "X-Token-Estimate", *{"401": ("WWW-Authenticate",),
                                                             "503": ("Retry-After",)}.get(status, ()))  # fmt: skip
        if names:
            response["headers"] = {**response.get("headers", {}), **_headers(names)}


def _head(operation: dict[str, Any]) -> dict[str, Any]:
    """The HEAD twin of a GET operation: the same parameters and headers, no body."""
    responses = {status: {key: value for key, value in response.items() if key != "content"}
                 for status, response in operation["responses"].items()}  # fmt: skip
    head = {key: value for key, value in operation.items() if key not in ("responses", "operationId", "summary",
                                                                          "description")}  # fmt: skip
    return {**head, "summary": f"Headers only: {operation.get('summary', '')}".strip(),
            "description": "Answered like GET, without the body.",
            "operationId": f"head_{operation['operationId']}", "responses": responses}  # fmt: skip


def _components(models: list[type[BaseModel]]) -> dict[str, Any]:
    """The JSON Schemas of ``models`` and of what they refer to, as components/schemas."""
    _, top = models_json_schema([(model, "serialization") for model in models],
                                ref_template="#/components/schemas/{model}")  # fmt: skip
    return dict(top.get("$defs", {}))


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document, finished for generators (see the module's docstring)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in _components([Problem, *FEED_ROWS, ChangeEntry, *STREAM_EVENTS]).items():
        schemas.setdefault(name, schema)
    components["headers"] = HEADERS
    for path, item in document["paths"].items():
        get = item.get("get")
        if get is None:
            continue
        get["operationId"] = OPERATION_IDS.get(path) or route_id(path)
        _declare_headers(path, get)
        item["head"] = _head(get)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the finished document at /openapi.json (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version, summary=app.summary,
                description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers,
            ))  # fmt: skip
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
