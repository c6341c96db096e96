"""A client generated from the live /openapi.json works against a running server.

``openapi-python-client`` (a dev dependency) generates a package from the document a real ``garden serve``
answers at /openapi.json; it must do so with no warning but one per NDJSON feed (the generator reads no
``application/x-ndjson``: those operations lose their typed 200, and nothing else is lost). The package is then
imported and used against that server: it walks /claims by ``nextCursor`` to the end (every public claim of
content/ exactly once, in feed order: the oracle of tests/oracle.py says which), gets one claim as a typed
``ClaimDetail``, and reads a 404 as the typed ``Problem`` rather than raising ``UnexpectedStatus``.

The server and the package are made once for the module (generation takes a few seconds), on SQLite only:
what is tested is the document and the client, which do not depend on the database.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from tests.conftest import CONTENT, ingest_json, running_server
from tests.oracle import read_tree

PACKAGE = "garden_api_client"
FEEDS = {"/agents/index.jsonl", "/agents/feeds/claims.jsonl", "/agents/feeds/sources.jsonl",
         "/agents/feeds/edges.jsonl", "/agents/feeds/roadmap.jsonl", "/changes.jsonl"}  # fmt: skip
#: Server-Sent Events (app.change_stream): no generator reads text/event-stream; a client follows it with an SSE
#: library (or EventSource in a browser).
EVENT_STREAMS = {"/changes/stream": "text/event-stream"}
#: The XML files (app.routers.frontend), by media type: the generator reads no XML either (their functions are
#: generated all the same; the body is the response's content).
XML_FILES = {"/feed.atom": "application/atom+xml", "/sitemap.xml": "application/xml",
             "/sitemaps/{page}.xml": "application/xml"}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``garden serve`` over content/ on an SQLite database of its own: its base URL."""
    directory = tmp_path_factory.mktemp("generated-client-server")
    db_url = f"sqlite:///{directory / 'garden.db'}"
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    with running_server(db_url, directory / "serve.log") as base:
        yield base


@pytest.fixture(scope="module")
def generated(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ModuleType]:
    """(the generator's output, the generated package imported) from the server's /openapi.json."""
    directory = tmp_path_factory.mktemp("generated-client")
    document = directory / "openapi.json"
    document.write_bytes(httpx.get(f"{server}/openapi.json", timeout=30).raise_for_status().content)
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(directory / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False, cwd=directory,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(directory))
    try:
        package = importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
    return output, package


def _warnings(output: str) -> list[str]:
    """The generator's warnings, one block each (a WARNING or ERROR line and what follows, to the next)."""
    return [block.strip() for block in re.split(r"(?m)^(?=WARNING|ERROR)", output) if re.match(r"WARNING|ERROR", block)]


def test_the_generator_warns_of_nothing_but_the_ndjson_feeds_and_xml(generated: tuple[str, ModuleType]) -> None:
    output, _ = generated
    warned = set()
    for warning in _warnings(output):
        operation = re.match(r"WARNING parsing GET (\S+) within", warning)
        assert operation, warning
        media_type = {**XML_FILES, **EVENT_STREAMS}.get(operation.group(1), "application/x-ndjson")
        assert f"Unsupported content_type {media_type}" in warning, warning
        warned.add(operation.group(1))
    # the feeds, XML files and event stream lose their typed 200 only while the generator reads none of them
    assert warned <= FEEDS | set(XML_FILES) | set(EVENT_STREAMS)


def _module(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_client_walks_the_claims_by_next_cursor(server: str, generated: tuple[str, ModuleType]) -> None:
    _, package = generated
    list_claims = _module(package, "api.claims.list_claims")
    models, types = _module(package, "models"), _module(package, "types")
    client = package.Client(base_url=server, raise_on_unexpected_status=True)
    seen: list[str] = []
    cursor = types.UNSET
    pages = 0
    while True:
        page = list_claims.sync(client=client, limit=7, cursor=cursor)
        assert isinstance(page, models.ClaimList), page
        pages += 1
        for item in page.items:
            assert isinstance(item, models.ClaimListItem)
            assert isinstance(item.confidence, models.Confidence)
            seen.append(item.claim_id)
        if page.next_cursor is None:
            assert page.next_ is None
            break
        assert f"cursor={page.next_cursor}" in page.next_  # `next` is a Python builtin: the generator says next_
        cursor = page.next_cursor
    expected = [row["claimId"] for article in read_tree(CONTENT) if article.public for row in article.claim_rows()]
    assert seen == expected
    assert pages == -(-len(expected) // 7) and pages > 1


def test_the_client_gets_a_claim_and_types_a_404(server: str, generated: tuple[str, ModuleType]) -> None:
    _, package = generated
    get_claim = _module(package, "api.claims.get_claim")
    models = _module(package, "models")
    client = package.Client(base_url=server, raise_on_unexpected_status=True)
    article = next(article for article in read_tree(CONTENT) if article.public)
    claim_id = f"article:{article.slug}:{article.artifact['claims'][0]['id']}"

    claim = get_claim.sync(client=client, claim_id=claim_id)
    assert isinstance(claim, models.ClaimDetail), claim
    assert (claim.claim_id, claim.claim) == (claim_id, article.artifact["claims"][0]["claim"])
    assert isinstance(claim.state, models.ClaimState) and isinstance(claim.article, models.ArticleRef)
    assert all(isinstance(packet, models.EvidencePacket) for packet in claim.evidence)

    missing = get_claim.sync_detailed(client=client, claim_id=f"article:{article.slug}:claim-999")
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem), missing.parsed
    assert missing.parsed.status == 404 and missing.parsed.title == "Not Found" and missing.parsed.detail
