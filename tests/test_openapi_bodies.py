"""The response models are true: every body the API really sends validates against the OpenAPI document.

A body that fails its own schema breaks a typed client (a generated ``from_dict`` raises on it), so this walks
every JSON and NDJSON resource over a whole corpus (every article, claim, topic and series, with ``include=``,
``fields=`` and ``max_tokens``, anonymous and with the preview token, which shows drafts, reviews and archived
articles) and validates each body, and each feed line, against the schema the document declares for its status
code and media type. content/ always; the publisher's corpus too where ../shared has it (anonymous, the first
claims and sources of each article: its scale and odder data, not its every claim again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from app.main import create_app
from tests.conftest import api_client

TOKEN = "bodies-preview-token"
DOCUMENT = create_app().openapi()
REGISTRY = Registry().with_resource(
    "urn:garden-api", Resource.from_contents({**DOCUMENT, "$schema": "https://json-schema.org/draft/2020-12/schema"})
)
LISTS = ["/articles?limit=500", "/articles?limit=3&fields=slug,series",
         "/claims?limit=500&include=evidence,counterevidence,sources", "/claims?limit=7&fields=claimId,state",
         "/claims?max_tokens=300", "/sources?limit=500", "/sources?fields=url", "/search?q=soil&limit=100",
         "/search?q=soil&include=evidence", "/search?q=compost&fields=snippet,title", "/search?q=water&max_tokens=200",
         "/series", "/topics"]  # fmt: skip
FILES = ["/agents/index.json", "/agents/index.jsonl", "/agents/feeds/manifest.json", "/agents/feeds/claims.jsonl",
         "/agents/feeds/sources.jsonl", "/agents/feeds/edges.jsonl", "/agents/feeds/roadmap.jsonl",
         "/agents/garden-queries.json", "/agents/verification-report.json", "/agents/diagnostics.json",
         "/graph/nodes.json", "/graph/edges.json", "/healthz", "/readyz"]  # fmt: skip
ARTICLE = ["", "/claims", "/claims?include=evidence,counterevidence,sources", "/sources", "/related", "/brief",
           "/brief?max_tokens=150"]  # fmt: skip
ERRORS = [("/claims/article:nope:claim-001", "/claims/{claim_id}"), ("/articles/nope", "/articles/{slug}"),
          ("/claims?limit=0", "/claims"), ("/claims?bogus=1", "/claims"),
          ("/claims?max_tokens=1", "/claims")]  # fmt: skip


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    text = json.dumps(schema).replace('"#/components/', '"urn:garden-api#/components/')
    return Draft202012Validator(json.loads(text), registry=REGISTRY)


def _problems(response: httpx.Response, template: str) -> Iterator[str]:
    """What is wrong with ``response`` by the document's operation GET ``template`` (nothing: it conforms)."""
    declared = DOCUMENT["paths"][template]["get"]["responses"].get(str(response.status_code))
    if declared is None:
        yield f"{response.status_code} is not declared"
        return
    media_type = response.headers.get("content-type", "").split(";")[0]
    content = declared.get("content", {}).get(media_type)
    if content is None:
        yield f"{response.status_code} {media_type} is not declared"
        return
    validator = _validator(content["schema"])
    if media_type == "application/x-ndjson":
        bodies = [json.loads(line) for line in response.text.splitlines() if line]
    elif media_type in ("application/json", "application/problem+json"):
        bodies = [response.json()]
    else:
        bodies = []
    for body in bodies:
        for error in validator.iter_errors(body):
            yield f"{list(error.absolute_path)}: {error.message[:300]}"


def _check(client: TestClient, path: str, template: str, headers: dict[str, str]) -> list[str]:
    return [f"{path}: {problem}" for problem in _problems(client.get(path, headers=headers), template)]


def _walk(client: TestClient, headers: dict[str, str], *, each: int | None) -> list[str]:
    """Check every resource of the corpus as the caller of ``headers`` sees it; ``each`` caps claims and sources
    per article."""
    found = [problem for path in [*LISTS, *FILES] for problem in _check(client, path, path.split("?")[0], headers)]
    for topic in client.get("/topics", headers=headers).json()["items"]:
        found += _check(client, f"/topics/{topic['topic']}", "/topics/{topic}", headers)
        found += _check(client, f"/agents/topics/{topic['topic']}.json", "/agents/topics/{topic}.json", headers)
    for series in client.get("/series", headers=headers).json()["items"]:
        found += _check(client, f"/series/{series['slug']}", "/series/{slug}", headers)
    for article in client.get("/articles?limit=500", headers=headers).json()["items"]:
        slug = article["slug"]
        for suffix in ARTICLE:
            found += _check(client, f"/articles/{slug}{suffix}", "/articles/{slug}" + suffix.split("?")[0], headers)
        found += _check(client, f"/agents/articles/{slug}.json", "/agents/articles/{slug}.json", headers)
        packet = client.get(f"/articles/{slug}", headers=headers).json()
        for claim in packet["claims"][:each]:
            found += _check(client, f"/claims/article:{slug}:{claim['id']}", "/claims/{claim_id}", headers)
        for source in packet["sources"][:each]:
            found += _check(client, f"/articles/{slug}/sources/{source['id']}",
                            "/articles/{slug}/sources/{source_id}", headers)  # fmt: skip
    return found


def test_every_body_on_content_conforms_to_the_document(content_db: str) -> None:
    with api_client(content_db, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        found = _walk(client, {}, each=None) + _walk(client, {"Authorization": f"Bearer {TOKEN}"}, each=None)
        found += [problem for path, template in ERRORS for problem in _check(client, path, template, {})]
    assert not found, "\n".join(found[:20])


def test_every_body_on_the_publishers_corpus_conforms_to_the_document(corpus_db: str) -> None:
    with api_client(corpus_db) as client:
        found = _walk(client, {}, each=2)
    assert not found, "\n".join(found[:20])


def test_the_check_finds_a_body_that_breaks_its_schema() -> None:
    """The validator is not vacuous: a claim list whose item has a confidence outside the enum is reported."""
    body = {"items": [{"confidence": "certain"}], "total": 1, "totalRelation": "eq", "next": None, "nextCursor": None}
    response = httpx.Response(200, json=body)
    assert any("'certain' is not one of" in problem for problem in _problems(response, "/claims"))
    assert not list(_problems(httpx.Response(200, json={**body, "items": [{"confidence": "high"}]}), "/claims"))
