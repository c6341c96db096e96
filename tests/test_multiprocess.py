"""Several server processes on one database while it is re-ingested: every answer is one corpus version's.

Two ``garden serve`` processes share the test's database (on PostgreSQL, and on SQLite too): one with two
workers and the response cache, one with one worker and no cache. A steady stream of requests goes to both
while a third process re-ingests the corpus again and again, alternating between two versions of the tree.
Every response must be a 200 carrying ``X-Corpus-Version``, and its body must be exactly the body that corpus
version gives: the references are fetched beforehand, with nothing else running, for both trees. A body
mixing the two (a count from one snapshot, rows from the other), or an old body under a new version number
(a cache entry outliving its version), fails the test.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import CONTENT, ingest_json, running_server

pytestmark = pytest.mark.slow

#: Resources whose bytes depend on the corpus only (not on the clock or the version number itself).
PATHS = [
    "/articles?limit=50",
    "/articles?sort=title&limit=5",
    "/articles/pollinator-corridors",
    "/articles/soil-testing-glossary",
    "/claims?limit=200",
    "/claims?confidence=high&limit=50",
    "/claims/article:pollinator-corridors:claim-001",
    "/sources?limit=100",
    "/search?q=corridor",
    "/series",
    "/topics",
    "/agents/index.json",
    "/agents/articles/pollinator-corridors.json",
    "/agents/articles/pollinator-corridors.md",
    "/agents/feeds/claims.jsonl",
    "/agents/feeds/edges.jsonl",
    "/agents/verification-report.json",
]
REINGESTS = 6


def _second_version(tree: Path) -> Path:
    """A copy of ``tree`` that changes several articles at once: titles, a claim's text, a dropped claim."""
    changed = tree.parent / "v2"
    shutil.copytree(tree, changed)
    for path in sorted(changed.glob("content/articles/*/*/artifact.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["title"] = data["title"] + " (revised)"
        data["claims"][0]["claim"] = "Revised: " + data["claims"][0]["claim"]
        if path.parent.name == "pollinator-corridors" and len(data["claims"]) > 1:
            data["claims"] = data["claims"][:-1]
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


@dataclass
class Seen:
    server: str
    path: str
    status: int
    version: str | None
    body: bytes


def _body(base: str, content: bytes) -> bytes:
    """A body with its server's own address (in ``next`` links) taken out, so that two servers compare."""
    return content.replace(base.encode(), b"http://server")


def _fetch_all(base: str) -> tuple[str, dict[str, bytes]]:
    """Every path's body from ``base``, and the one corpus version they all carry."""
    bodies, versions = {}, set()
    for path in PATHS:
        response = httpx.get(base + path, timeout=30)
        assert response.status_code == 200, (path, response.text[:300])
        versions.add(response.headers["x-corpus-version"])
        bodies[path] = _body(base, response.content)
    assert len(versions) == 1, versions
    return versions.pop(), bodies


def _wait_for_version(base: str, version: int) -> None:
    deadline = time.monotonic() + 10
    while int(httpx.get(f"{base}/articles?limit=1").headers["x-corpus-version"]) != version:
        assert time.monotonic() < deadline, f"{base} still serves an older corpus than version {version}"
        time.sleep(0.05)


def test_servers_on_one_database_answer_from_one_corpus_version_through_reingests(db_url: str, tmp_path: Path) -> None:
    first = tmp_path / "v1"
    shutil.copytree(CONTENT, first / "content")
    second = _second_version(first)
    trees = [first, second]

    code, report = ingest_json(first, db_url=db_url)
    assert code == 0, report["errors"]
    base_version = report["corpusVersion"]
    cached_env = {"GARDEN_POOL_SIZE": "4"}
    uncached_env = {"GARDEN_POOL_SIZE": "4", "GARDEN_RESPONSE_CACHE_MB": "0"}
    with (
        running_server(db_url, tmp_path / "a.log", workers=2, env=cached_env) as a,
        running_server(db_url, tmp_path / "b.log", env=uncached_env) as b,
    ):
        # The reference bodies of each tree, with nothing else running: version v holds trees[(v - base) % 2].
        references: list[dict[str, bytes]] = []
        for index, tree in enumerate(trees):
            if index:
                code, report = ingest_json(tree, db_url=db_url)
                assert code == 0 and report["corpusVersion"] == base_version + index, report
                _wait_for_version(a, base_version + index)
            version, bodies = _fetch_all(a)
            assert int(version) == base_version + index
            assert _fetch_all(b) == (version, bodies)
            references.append(bodies)
        differing = [path for path in PATHS if references[0][path] != references[1][path]]
        assert len(differing) >= len(PATHS) - 3, f"too few resources change between the trees: {differing}"

        seen: list[Seen] = []
        failures: list[str] = []
        stop = threading.Event()

        def stream(worker: int) -> None:
            bases = {"a": a, "b": b}
            clients = {name: httpx.Client(base_url=base, timeout=30) for name, base in bases.items()}
            step = worker
            try:
                while not stop.is_set():
                    server = "ab"[step % 2]
                    path = PATHS[step % len(PATHS)]
                    headers = {"Accept-Encoding": "gzip" if step % 3 else "identity"}
                    step += 1
                    try:
                        response = clients[server].get(path, headers=headers)
                    except httpx.HTTPError as error:
                        failures.append(f"{server} {path}: {error!r}")
                        continue
                    version = response.headers.get("x-corpus-version")
                    body = _body(bases[server], response.content)
                    seen.append(Seen(server, path, response.status_code, version, body))
            finally:
                for client in clients.values():
                    client.close()

        threads = [threading.Thread(target=stream, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(0.5)
            for n in range(REINGESTS):  # versions base+2, base+3, …: trees[0], trees[1], …
                code, report = ingest_json(trees[n % 2], db_url=db_url)
                assert code == 0, report["errors"]
                assert report["corpusVersion"] == base_version + 2 + n
                time.sleep(0.3)
            final = base_version + 1 + REINGESTS
            _wait_for_version(a, final)
            _wait_for_version(b, final)
            time.sleep(0.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    by_version = sorted(Counter((s.server, str(s.version)) for s in seen).items())
    print(f"{len(seen)} responses; by server and corpus version: {by_version}")
    assert not failures, failures[:10]
    assert len(seen) > 200, len(seen)
    errors = Counter((s.server, s.path, s.status) for s in seen if s.status != 200)
    assert not errors, errors
    mixed = []
    for s in seen:
        assert s.version is not None, (s.server, s.path)
        expected = references[(int(s.version) - base_version) % 2][s.path]
        if s.body != expected:
            mixed.append((s.server, s.path, s.version))
    assert not mixed, f"{len(mixed)} responses do not match their corpus version: {mixed[:10]}"
    versions = Counter((s.server, int(s.version or 0)) for s in seen)
    for server in "ab":  # both servers followed the re-ingests without a restart
        assert {v for (name, v) in versions if name == server} >= {base_version + 1, final}, versions
