"""The large agent files are stored once per corpus version and streamed from the store (app.agent.store)."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import runpy
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.agent import files, reports, store
from app.db import make_engine
from tests.conftest import CONTENT, ROOT, Databases, api_client, free_port, ingest_json

TODAY = dt.date(2026, 11, 22)  # api_client's and run_garden's GARDEN_TODAY
SITE = "https://aura-knowledge.github.io"
TOKEN = "store-preview-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def built(db_url: str, spec: store.Spec, *, preview: bool) -> bytes:
    """What the builder of app.agent.files makes, read from a session of its own."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            out = spec.build(files.Corpus(session, SITE, TODAY, preview=preview))
            assert out is not None
            return out if isinstance(out, bytes) else b"".join(out)
    finally:
        engine.dispose()


def stored_dirs(cache: Path) -> dict[str, Path]:
    """{visibility: its generation directory} under a cache directory."""
    return {path.name.rsplit("-", 1)[1]: path for path in cache.glob("*/v*/*") if path.is_dir()}


@pytest.mark.parametrize("preview", [False, True], ids=["anonymous", "preview"])
def test_every_stored_file_is_the_builders_bytes_and_its_gzip_too(
    content_db: str, tmp_path: Path, preview: bool
) -> None:
    headers = AUTH if preview else {}
    with api_client(content_db, GARDEN_CACHE_DIR=str(tmp_path), GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for path, spec in store.SPECS.items():
            expected = built(content_db, spec, preview=preview)
            plain = client.get(path, headers={**headers, "Accept-Encoding": "identity"})
            assert plain.status_code == 200, (path, plain.text[:300])
            assert plain.content == expected, path
            assert plain.headers["content-type"].startswith(spec.media_type.split(";")[0]), path
            packed = client.get(path, headers={**headers, "Accept-Encoding": "gzip"})
            assert packed.content == expected, path  # httpx decoded the stored gzip
            if len(expected) >= 1024:
                assert packed.headers["content-encoding"] == "gzip", path
                assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gz"', path
            if not spec.chunked:
                assert int(plain.headers["content-length"]) == len(expected), path
            again = client.get(path, headers={**headers, "If-None-Match": plain.headers["etag"]})
            assert again.status_code == 304, path
            head = client.head(path, headers=headers)
            assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == packed.headers["etag"]
            assert plain.headers["x-corpus-version"] == "1"
            cache_control = "private, no-store" if preview else "public, max-age=60"
            assert plain.headers["cache-control"] == cache_control
    directory = stored_dirs(tmp_path)["preview" if preview else "public"]
    for spec in store.SPECS.values():
        expected = built(content_db, spec, preview=preview)
        assert (directory / spec.name).read_bytes() == expected, spec.path
        if len(expected) >= 1024:
            assert gzip.decompress((directory / f"{spec.name}.gz").read_bytes()) == expected, spec.path


def test_topic_files_are_stored_when_first_asked_for_and_unknown_ones_are_not(content_db: str, tmp_path: Path) -> None:
    with api_client(content_db, GARDEN_CACHE_DIR=str(tmp_path)) as client:
        topics = [item["topic"] for item in client.get("/agents/index.json").json()["topics"]]
        assert topics
        for topic in topics:
            spec = store.topic_spec(topic)
            assert client.get(spec.path).content == built(content_db, spec, preview=False)
            assert client.get(spec.path).content == built(content_db, spec, preview=False)  # from the store
        missing = client.get("/agents/topics/no-such-topic.json")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
    directory = stored_dirs(tmp_path)["public"]
    for topic in topics:
        assert (directory / store.topic_spec(topic).name).read_bytes() == built(
            content_db, store.topic_spec(topic), preview=False
        )
    assert not list(directory.glob("*no-such-topic*"))


def test_a_reingest_serves_the_new_versions_bytes_at_once(db_url: str, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    assert ingest_json(content, db_url=db_url)[0] == 0
    env = {"GARDEN_CACHE_DIR": str(tmp_path / "cache"), "GARDEN_RESPONSE_CACHE_MB": "0"}
    with api_client(db_url, **env) as client:
        first = {path: client.get(path).content for path in store.SPECS}
        listed = first["/agents/index.json"]
        gone = next(p for p in sorted((content / "articles").glob("*/*")) if f'"{p.name}"'.encode() in listed)
        shutil.rmtree(gone)
        assert ingest_json(content, db_url=db_url, flags=("--prune",))[0] == 0
        for path, spec in store.SPECS.items():
            response = client.get(path)
            assert response.headers["x-corpus-version"] == "2", path
            assert response.content == built(db_url, spec, preview=False), path
        assert client.get("/agents/index.json").content != first["/agents/index.json"]
        assert gone.name.encode() not in client.get("/agents/garden-queries.json").content


def test_without_a_usable_store_directory_files_are_built_per_request(content_db: str, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    with api_client(content_db, GARDEN_CACHE_DIR=str(blocked)) as client:
        for path in ("/agents/garden-queries.json", "/agents/feeds/claims.jsonl"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.content == files_bytes(content_db, path), path


def test_generations_of_old_versions_and_dates_are_collected(db_url: str, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    cache = tmp_path / "cache"
    with api_client(db_url, GARDEN_CACHE_DIR=str(cache), GARDEN_RESPONSE_CACHE_MB="0") as client:
        articles = sorted((content / "articles").glob("*/*"))
        for version in (1, 2, 3):
            if version > 1:
                shutil.rmtree(articles[version])
            assert ingest_json(content, db_url=db_url, flags=("--prune",))[0] == 0
            assert client.get("/agents/index.json").headers["x-corpus-version"] == str(version)
        versions = sorted(path.name[:13] for path in cache.glob("*/v*"))
        assert versions == ["v000000000002", "v000000000003"]  # the current one and the one before
        current = next(cache.glob("*/v000000000003-*"))
        stale = current / "2026-11-20-0000000000000000-public"  # two days before GARDEN_TODAY
        stale.mkdir()
        topic = client.get("/agents/index.json").json()["topics"][0]["topic"]
        assert client.get(f"/agents/topics/{topic}.json").status_code == 200  # a build, then a collection
        assert {path.name[:10] for path in current.iterdir()} == {"2026-11-22"}


def test_concurrent_first_requests_build_once_and_waiters_hold_no_slot(
    content_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = "/agents/garden-queries.json"
    calls: list[float] = []

    def slow(corpus: files.Corpus) -> bytes:
        calls.append(time.monotonic())
        time.sleep(1.5)
        return reports.garden_queries_json(corpus)

    monkeypatch.setitem(store.SPECS, path, replace(store.SPECS[path], build=slow))
    env = {"GARDEN_CACHE_DIR": str(tmp_path), "GARDEN_POOL_SIZE": "2", "GARDEN_RESPONSE_CACHE_MB": "0"}
    with api_client(content_db, **env) as client:
        claim_id = client.get("/claims", params={"limit": 1}).json()["items"][0]["claimId"]
        bodies: list[bytes] = []
        finished: list[float] = []

        def download() -> None:
            bodies.append(client.get(path).content)
            finished.append(time.monotonic())

        threads = [threading.Thread(target=download) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.4)
        claim = client.get(f"/claims/{claim_id}")
        claim_done = time.monotonic()
        for thread in threads:
            thread.join()
    assert len(calls) == 1, f"built {len(calls)} times"
    assert bodies == [files_bytes(content_db, path)] * 8
    assert claim.status_code == 200
    assert claim_done < min(finished), "a single-item read waited for the build"


def files_bytes(db_url: str, path: str) -> bytes:
    return built(db_url, store.SPECS[path], preview=False)


# --- a real server on a 3,000-article corpus ---------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 copies of content/'s articles (enough for a garden-queries.json over 10 MB)."""
    out = tmp_path_factory.mktemp("generated")
    runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"](CONTENT / "articles", out, 3000)
    return out


class Server:
    def __init__(self, process: subprocess.Popen[bytes], base: str, cache: Path) -> None:
        self.process, self.base, self.cache = process, base, cache

    def memory_mb(self, field: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        raise KeyError(field)


@pytest.fixture(scope="module")
def big_server(databases: Databases, generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``garden serve`` (one worker, one database slot, no response cache) over 3,000 articles, its files stored."""
    db_url = databases.new("big")
    assert ingest_json(generated, db_url=db_url)[0] == 0
    cache = tmp_path_factory.mktemp("cache")
    port = free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", "GARDEN_POOL_SIZE": "1",
           "GARDEN_RESPONSE_CACHE_MB": "0", "GARDEN_CACHE_DIR": str(cache)}  # fmt: skip
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(process, f"http://127.0.0.1:{port}", cache)
    try:
        deadline = time.monotonic() + 180
        while len(list(cache.glob("*/v*/*public/*.meta"))) < len(store.SPECS):  # garden serve stores them
            assert process.poll() is None and time.monotonic() < deadline, "the agent files were not stored"
            time.sleep(0.2)
        httpx.get(f"{server.base}/healthz", timeout=30).raise_for_status()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def paused_download(base: str, path: str) -> socket.socket:
    """A GET of ``path`` whose client reads the headers and then nothing (a small receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = base.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n".encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return sock


def test_a_download_in_progress_holds_no_database_slot(big_server: Server) -> None:
    claim_id = httpx.get(f"{big_server.base}/claims", params={"limit": 1}).json()["items"][0]["claimId"]
    paused = [paused_download(big_server.base, path)
              for path in ("/agents/garden-queries.json", "/agents/feeds/claims.jsonl")]  # fmt: skip
    try:
        time.sleep(1)  # both stuck on a full socket
        started = time.monotonic()
        response = httpx.get(f"{big_server.base}/claims/{claim_id}", timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 2, "the only database slot was held by a download"
    finally:
        for sock in paused:
            sock.close()


def test_memory_stays_flat_during_eight_downloads_of_the_largest_file(big_server: Server) -> None:
    path = "/agents/garden-queries.json"
    size = len(httpx.get(big_server.base + path, headers={"Accept-Encoding": "identity"}, timeout=60).content)
    assert size > 10_000_000
    Path(f"/proc/{big_server.process.pid}/clear_refs").write_text("5")  # the peak (VmHWM) restarts from now
    before = big_server.memory_mb("VmRSS")
    sizes: list[int] = []

    def download() -> None:
        with httpx.Client(timeout=120, headers={"Accept-Encoding": "identity"}) as client:
            sizes.append(len(client.get(big_server.base + path).content))

    threads = [threading.Thread(target=download) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grown = big_server.memory_mb("VmHWM") - before
    assert sizes == [size] * 8
    assert grown < size / 1e6 / 2, f"the worker grew by {grown:.0f} MB for 8 downloads of {size / 1e6:.0f} MB"


def test_a_build_longer_than_the_request_deadline_is_still_stored(
    content_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request after midnight, or on a large corpus, may take longer to build a file than
    GARDEN_REQUEST_TIMEOUT allows: it is answered 503, but the build goes on outside its deadline and a later
    request finds the file (built under the request's deadline, the statements past it were interrupted or their
    connection aborted, so nothing was ever stored and every request failed the same way)."""
    path = "/agents/garden-queries.json"

    def slow(corpus: files.Corpus) -> bytes:
        time.sleep(2.5)  # past the 1 s deadline and its 1 s grace
        long_statement = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
        corpus.session.execute(text(long_statement + "SELECT count(*) FROM n")).scalar_one()
        return reports.garden_queries_json(corpus)

    monkeypatch.setitem(store.SPECS, path, replace(store.SPECS[path], build=slow))
    env = {"GARDEN_CACHE_DIR": str(tmp_path), "GARDEN_REQUEST_TIMEOUT": "1", "GARDEN_RESPONSE_CACHE_MB": "0"}
    with api_client(content_db, **env) as client:
        first = client.get(path)
        assert first.status_code == 503, first.text[:300]
        deadline = time.monotonic() + 20
        while (later := client.get(path)).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
    assert later.status_code == 200, later.text[:300]
    assert later.content == files_bytes(content_db, path)


def test_a_database_made_again_keeps_its_stored_files(content_db: str, tmp_path: Path) -> None:
    """A database deleted and ingested again starts at corpus version 1 again, below the versions its
    predecessor left in the store: the collection after a build must not remove the generation just built."""
    with api_client(content_db, GARDEN_CACHE_DIR=str(tmp_path), GARDEN_RESPONSE_CACHE_MB="0") as client:
        assert client.get("/agents/index.json").status_code == 200
        [current] = [path for path in tmp_path.glob("*/v*") if path.is_dir()]
        for stale in (4, 5):
            made = current.parent / f"v{stale:012d}-0000000000000000"
            made.mkdir()
            os.utime(made, (time.time() - 100 + stale, time.time() - 100 + stale))  # 5 written after 4
        shutil.rmtree(current)  # as if this version had not been stored yet
        assert client.get("/agents/index.json").status_code == 200  # a build, then a collection
        assert list(current.glob("*/*index.json.meta")), "the generation just built was collected"
        names = sorted(path.name[:13] for path in current.parent.iterdir())
        assert names == [current.name[:13], "v000000000005"]  # the current one and the one written last
