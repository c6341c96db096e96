"""Live events (issue 17, item 4): /changes/stream sends one Server-Sent Event per committed corpus version, counted
as the caller may see it, resumes from Last-Event-ID (or since), and reaches the clients of every server process.

In-process tests on both backends read the stream through the TestClient (the wire format is parsed here: a few
lines, no client library needed); the multi-process ones run real ``garden serve`` and ``garden ingest``
subprocesses. No timed assertion but the issue's "within 2 s" and a prompt exit on SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.cache import ResponseCache, _storable
from app.db import make_engine, upgrade_to_head
from app.responses_stream import ReadyEvent, ResyncEvent, VersionEvent
from tests.conftest import CONTENT, ROOT, api_client, app_statements, free_port, ingest_json, running_server
from tests.test_changes import HIDDEN, _artifact, _ingest, _version_two

TOKEN = "stream-preview-token"
PREVIEW = {"Authorization": f"Bearer {TOKEN}"}
EDITED = Path("articles") / "2026" / "composting-without-the-guesswork"
ZERO = {kind: {"added": 0, "updated": 0, "removed": 0} for kind in ("article", "claim", "source")}


def parse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Server-Sent Events from the lines of a stream (comments skipped): event, id, data (parsed), retry."""
    event: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if "data" in event:
                yield {**event, "data": json.loads(event["data"])}
            event = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            event["data"] = event["data"] + "\n" + value if "data" in event else value
        elif name == "retry":
            event["retry"] = int(value)
        else:
            event[name] = value


@contextmanager
def stream(client: TestClient, query: str = "", headers: dict[str, str] | None = None) -> Iterator[Iterator[dict]]:
    """The events of /changes/stream<query>; a watchdog closes the stream after 30 s, so a missing event fails
    the test (StopIteration) rather than hanging it."""
    with client.stream("GET", f"/changes/stream{query}", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        timer = threading.Timer(30, response.close)
        timer.start()
        try:
            yield parse(response.iter_lines())
        finally:
            timer.cancel()


def edit(tree: Path, engine: Engine, n: int) -> int:
    """A new version: the edited article's first claim gets another sentence."""
    _artifact(tree / EDITED, lambda data: data["claims"][0].update(claim=data["claims"][0]["claim"] + f" Edit {n}."))
    return _ingest(engine, tree)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


def counted(client: TestClient, since: int, headers: dict[str, str] | None) -> dict[int, dict[str, dict[str, int]]]:
    """/changes.jsonl?since= counted by version, type and action: what the events must say."""
    response = client.get(f"/changes.jsonl?since={since}", headers=headers)
    assert response.status_code == 200
    entries = [json.loads(line) for line in response.text.splitlines()]
    tally = Counter((entry["version"], entry["type"], entry["action"]) for entry in entries)
    found: dict[int, dict[str, dict[str, int]]] = {}
    for (version, kind, action), number in tally.items():
        found.setdefault(version, json.loads(json.dumps(ZERO)))[kind][action] = number
    return found


# --- In-process, both backends ------------------------------------------------------------------------------------


def test_each_version_event_counts_its_changes_as_the_caller_may_see_them(engine: Engine, tree: Path,
                                                                           db_url: str) -> None:  # fmt: skip
    assert _ingest(engine, tree) == 1
    _version_two(tree)  # edits, a removal, a draft published, a published article hidden
    assert _ingest(engine, tree) == 2
    draft_edit = "A draft's claim, edited while a draft."
    _artifact(tree / "articles" / "2026" / HIDDEN, lambda data: data["claims"][0].update(claim=draft_edit))
    assert _ingest(engine, tree) == 3  # changes a draft only
    with api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        for headers in (None, PREVIEW):
            with stream(client, "?since=1", headers) as events:
                ready, two, three = next(events), next(events), next(events)
            assert (ready["event"], ready["id"], ready["retry"]) == ("ready", "1", 3000)
            assert ReadyEvent.model_validate(ready["data"]).version == 3
            expected = counted(client, 1, headers)
            for event, version in ((two, 2), (three, 3)):
                assert (event["event"], event["id"]) == ("version", str(version))
                data = VersionEvent.model_validate(event["data"]).model_dump()
                assert data["counts"] == expected.get(version, ZERO)
                assert data["changes"] == sum(sum(actions.values()) for actions in data["counts"].values())
                assert data["url"] == f"/changes?since={version - 1}" and data["committedAt"].endswith("Z")
            if headers is None:  # the draft's edit is a version with nothing to see, and says so
                assert three["data"]["changes"] == 0 and three["data"]["counts"] == ZERO
                assert two["data"]["counts"]["article"] == {"added": 1, "updated": 0, "removed": 2}
                assert HIDDEN not in json.dumps([two, three])
            else:
                assert three["data"]["counts"]["claim"] == {"added": 0, "updated": 1, "removed": 0}
                assert two["data"]["counts"]["article"] == {"added": 0, "updated": 2, "removed": 1}


def test_an_open_stream_gets_each_new_version_and_a_reconnect_gets_what_it_missed(engine: Engine, tree: Path,
                                                                                 db_url: str) -> None:  # fmt: skip
    assert _ingest(engine, tree) == 1
    with api_client(db_url) as client:
        with stream(client) as events:
            ready = next(events)
            assert (ready["event"], ready["id"]) == ("ready", "1")  # no position: from the current version
            assert edit(tree, engine, 2) == 2
            live = next(events)
            assert (live["event"], live["id"], live["data"]["counts"]["claim"]["updated"]) == ("version", "2", 1)
        assert edit(tree, engine, 3) == 3 and edit(tree, engine, 4) == 4  # while the client is away
        # EventSource sends the last id it saw; the header wins over a `since` left in the URL.
        with stream(client, "?since=1", {"Last-Event-ID": "2"}) as events:
            assert next(events)["id"] == "2"
            assert [next(events)["id"], next(events)["id"]] == ["3", "4"]
            assert edit(tree, engine, 5) == 5  # then live again
            assert next(events)["id"] == "5"


def test_a_position_the_log_cannot_continue_from_is_a_resync_event_then_the_live_stream(
    engine: Engine, tree: Path, db_url: str
) -> None:
    assert _ingest(engine, tree) == 1
    assert edit(tree, engine, 2) == 2  # the log starts after version 1: since=0 is older than it keeps
    with api_client(db_url) as client:
        for query, headers, parameter, why in (("", {"Last-Event-ID": "99"}, "Last-Event-ID", "ahead"),
                                               ("?since=0", None, "since", "no longer kept")):  # fmt: skip
            with stream(client, query, headers) as events:
                resync = next(events)
                assert (resync["event"], resync["id"], resync["retry"]) == ("resync", "2", 3000)
                data = ResyncEvent.model_validate(resync["data"])
                assert (data.status, data.parameter, data.version) == (410, parameter, 2)
                assert why in data.detail and "Resync" in data.detail
                if parameter == "since":
                    assert edit(tree, engine, 3) == 3
                    assert next(events)["id"] == "3"  # the stream goes on from the current version


def test_a_malformed_position_is_a_problem_naming_it(engine: Engine, tree: Path, db_url: str) -> None:
    assert _ingest(engine, tree) == 1
    with api_client(db_url) as client:
        for query, headers, status, parameter in (
            ("", {"Last-Event-ID": "abc"}, 422, "Last-Event-ID"),
            ("", {"Last-Event-ID": "-1"}, 422, "Last-Event-ID"),
            ("", {"Last-Event-ID": "1" * 30}, 422, "Last-Event-ID"),
            ("?since=-1", None, 422, "since"),
            ("?since=x", None, 422, "since"),
            ("?since=" + "9" * 30, None, 422, "since"),
            ("?from=1", None, 400, "from"),
        ):
            response = client.get(f"/changes/stream{query}", headers=headers)
            assert response.status_code == status, (query, headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["parameter"] == parameter
        with stream(client, "", {"Last-Event-ID": ""}) as events:  # an empty id resets it: no position
            assert next(events)["id"] == "1"


def test_open_streams_are_capped_per_process_and_never_stored(engine: Engine, tree: Path, db_url: str) -> None:
    assert _ingest(engine, tree) == 1
    with api_client(db_url, GARDEN_MAX_STREAMS="1") as client:
        with client.stream("GET", "/changes/stream", headers={"Origin": "https://site.example"}) as response:
            events = parse(response.iter_lines())  # held: a generator dropped would close the stream
            assert next(events)["event"] == "ready"
            headers = response.headers
            refused = client.get("/changes/stream")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert "GARDEN_MAX_STREAMS" in refused.json()["detail"]
            assert client.get("/articles?limit=1").status_code == 200  # ordinary requests are not held up
            preflight = client.options("/changes/stream", headers={
                "Origin": "https://site.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "last-event-id"})  # fmt: skip
            assert preflight.status_code == 200, preflight.text  # a browser's EventSource may resume cross-origin
            head = client.head("/changes/stream")  # headers only, and it ends
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-type"] == headers["content-type"]
        with stream(client) as again:  # the closed stream gave its place back
            assert next(again)["event"] == "ready"
        cache = client.app.middleware_stack  # type: ignore[attr-defined]
        while not isinstance(cache, ResponseCache):
            cache = getattr(cache, "app", None) or cache.rest  # PathCors keeps its CORS middleware as `rest`
        assert not [key for key in cache.entries if key[0] == "/changes/stream"]
    assert headers["cache-control"] == "no-store" and headers["x-accel-buffering"] == "no"
    assert "etag" not in headers and headers["x-corpus-version"] == "1"
    assert headers["access-control-allow-origin"] in ("*", "https://site.example")
    event_stream = [
        (b"etag", b'"v1"'),
        (b"cache-control", b"public, max-age=60"),
        (b"content-type", b"text/event-stream"),
    ]
    assert not _storable(event_stream)  # even a stream that looked cacheable


def test_a_new_version_is_read_once_per_process_whatever_the_number_of_clients(engine: Engine, tree: Path,
                                                                                db_url: str) -> None:  # fmt: skip
    assert _ingest(engine, tree) == 1
    with (
        api_client(db_url, GARDEN_PREVIEW_TOKEN=TOKEN) as client,
        stream(client) as anonymous,
        stream(client, "", PREVIEW) as preview,
        stream(client) as third,
    ):
        assert [next(anonymous)["id"], next(preview)["id"], next(third)["id"]] == ["1", "1", "1"]
        with app_statements() as statements:
            assert edit(tree, engine, 2) == 2
            assert [next(anonymous)["id"], next(preview)["id"], next(third)["id"]] == ["2", "2", "2"]
    assert len([sql for sql in statements if "GROUP BY" in sql and "change" in sql]) == 1, statements


# --- Real processes ---------------------------------------------------------------------------------------------


def _listen(base: str, received: queue.Queue[tuple[float, dict[str, Any]]], headers: dict[str, str]) -> None:
    """Read the events of ``base``'s stream into ``received`` with the time each arrived, until it ends."""
    try:
        with httpx.stream("GET", f"{base}/changes/stream", headers=headers, timeout=httpx.Timeout(10, read=60)) as r:
            for event in parse(r.iter_lines()):
                received.put((time.time(), event))  # wall clock: compared with the event's committedAt
    except httpx.HTTPError as error:
        received.put((time.time(), {"event": "error", "data": repr(error)}))
    received.put((time.time(), {"event": "end"}))


def _ingest_process(tree: Path, db_url: str, n: int) -> tuple[int, float]:
    """A third process's ``garden ingest`` of one more edit: (its version, when it exited, by the wall clock)."""
    _artifact(tree / EDITED, lambda data: data["claims"][0].update(claim=data["claims"][0]["claim"] + f" Edit {n}."))
    code, report = ingest_json(tree, db_url=db_url)
    assert code == 0, report["errors"]
    return report["corpusVersion"], time.time()


def test_two_servers_on_postgresql_each_send_the_version_event_of_a_third_process_ingest(
    backend: str, engine: Engine, db_url: str, tree: Path, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("the issue's setting: several garden serve processes on PostgreSQL")
    first = _ingest(engine, tree)
    with running_server(db_url, tmp_path / "a.log") as a, running_server(db_url, tmp_path / "b.log") as b:
        queues: dict[str, queue.Queue[tuple[float, dict[str, Any]]]] = {"a": queue.Queue(), "b": queue.Queue()}
        for name, base in (("a", a), ("b", b)):
            threading.Thread(target=_listen, args=(base, queues[name], {}), daemon=True).start()
            assert queues[name].get(timeout=10)[1]["id"] == str(first)  # ready
        version, committed = _ingest_process(tree, db_url, 1)
        for name, events in queues.items():
            arrived, event = events.get(timeout=10)
            assert (event["event"], event["id"]) == ("version", str(version)), (name, event)
            assert arrived - committed < 2.0, f"{name}: the event came {arrived - committed:.2f} s after the ingest"
            since_commit = arrived - dt.datetime.fromisoformat(event["data"]["committedAt"]).timestamp()
            assert since_commit < 2.0, f"{name}: the event came {since_commit:.2f} s after the commit"
        # A client away for two ingests reconnects (to the other server) with its Last-Event-ID.
        missed = [edit(tree, engine, n) for n in (2, 3)]  # in this process: a third one was shown above
        again: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=_listen, args=(b, again, {"Last-Event-ID": str(version)}), daemon=True).start()
        events = [again.get(timeout=10)[1] for _ in range(3)]
        assert [(event["event"], event["id"]) for event in events] == [
            ("ready", str(version)), *(("version", str(v)) for v in missed)]  # fmt: skip
        assert all(event["data"]["counts"]["claim"]["updated"] == 1 for event in events[1:])


def test_garden_serve_with_an_open_stream_exits_promptly_on_sigterm(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'garden.db'}"
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    assert _ingest(engine, CONTENT) == 1
    engine.dispose()
    port = free_port()
    environment = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22"}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT,
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        events: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=_listen, args=(f"http://127.0.0.1:{port}", events, {}), daemon=True).start()
        assert events.get(timeout=10)[1]["event"] == "ready"
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        assert time.monotonic() - sent < 5, (tmp_path / "serve.log").read_text()
        assert events.get(timeout=5)[1]["event"] == "end"  # the stream ended cleanly, not with an error
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
