"""Webhooks across processes (issue 17, item 5, "What it must show"): a loopback receiver that fails the first two
attempts of each delivery gets exactly one successful, verifiable delivery per commit from two `garden serve`
replicas on PostgreSQL, with ingests from a third process; a server killed mid-delivery, and an ingest made while
no server runs, lose nothing; and `garden webhooks` add/list/remove/log, with bad input refused in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, ingest_json, run_garden
from tests.test_webhooks_outbox import EDITED, SECRET, Receiver, tree

__all__ = ["tree"]  # the fixture, shared with tests/test_webhooks_outbox.py

FAST = {"GARDEN_WEBHOOK_RETRY_BASE": "0.2", "GARDEN_WEBHOOK_POLL_INTERVAL": "0.1", "GARDEN_WEBHOOK_TIMEOUT": "0.5"}


def _wait(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.05)


@contextmanager
def _servers(db_url: str, *logs: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], str]]]:
    """`garden serve` processes (one per log, started together) until the block ends, or until the test kills
    them: (process, base URL) each."""
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_TODAY": "2026-11-22", **FAST}
    started: list[tuple[subprocess.Popen[bytes], int, Path]] = []
    try:
        for log in logs:
            port = free_port()
            command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            with log.open("ab") as out:
                started.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT),
                                port, log))  # fmt: skip
        for process, port, log in started:
            _wait(lambda process=process, port=port, log=log: _up(process, port, log), "garden serve answering", 60)
        yield [(process, f"http://127.0.0.1:{port}") for process, port, _ in started]
    finally:
        for process, _, _ in started:
            if process.poll() is None:
                process.terminate()
                process.wait(15)


def _up(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    assert process.poll() is None, log.read_text()
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _log(db_url: str) -> list[dict]:
    result = run_garden("webhooks", "log", "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def _edit(tree: Path) -> None:
    artifact = tree / "articles" / "2026" / EDITED / "artifact.json"
    data = json.loads(artifact.read_text(encoding="utf-8"))
    data["claims"][0]["claim"] += " Edited."
    artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def test_two_replicas_deliver_each_commit_exactly_once_to_a_receiver_failing_twice(
    backend: str, db_url: str, tree: Path, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("replicas share a PostgreSQL database")
    with Receiver(SECRET, fail_first=2) as receiver:
        added = run_garden("webhooks", "add", receiver.url, "--secret", SECRET, db_url=db_url)
        assert added.returncode == 0, added.stderr
        assert ingest_json(tree, db_url=db_url)[0] == 0  # version 1, enqueued while no server runs
        with _servers(db_url, tmp_path / "one.log", tmp_path / "two.log"):
            _wait(lambda: len(receiver.successes()) == 1, "the delivery of version 1")
            _edit(tree)
            assert ingest_json(tree, db_url=db_url)[0] == 0  # version 2, from a third process
            _wait(lambda: len(receiver.successes()) == 2, "the delivery of version 2")
            time.sleep(1)  # retries are 0.2-0.5 s apart: a second delivery of either would have come by now
        successes = receiver.successes()
    assert sorted(event["data"]["version"] for _, event in successes) == [1, 2]
    assert len({event_id for event_id, _ in successes}) == 2
    for event_id, _ in successes:
        assert [status for sent, status, _ in receiver.calls if sent == event_id] == [500, 500, 200]
    second = next(event for _, event in successes if event["data"]["version"] == 2)["data"]
    assert second["changesUrl"] == "/changes?since=1" and second["changes"]["claim"]["updated"] == 1
    logged = _log(db_url)
    assert [(item["version"], item["state"], item["attempts"]) for item in logged] == [(2, "delivered", 3),
                                                                                       (1, "delivered", 3)]  # fmt: skip
    assert all([attempt["status_code"] for attempt in item["log"]] == [500, 500, 200] for item in logged)


def test_a_server_killed_mid_delivery_loses_nothing(backend: str, db_url: str, tree: Path, tmp_path: Path) -> None:
    """Enqueued with no server running; the server that claims it is killed (-9) while the receiver stalls; the
    next server sends it again once the claim's lease ran out (GARDEN_WEBHOOK_TIMEOUT 0.5 s: 3.5 s): one success."""
    if backend != "sqlite":
        pytest.skip("one backend is enough here: the replicas test covers PostgreSQL's claims and a late server")
    with Receiver(SECRET, fail_first=1) as receiver:
        receiver.stall.clear()
        assert run_garden("webhooks", "add", receiver.url, "--secret", SECRET, db_url=db_url).returncode == 0
        assert ingest_json(tree, db_url=db_url)[0] == 0
        with _servers(db_url, tmp_path / "serve.log") as [(process, base)]:
            assert receiver.arrived.wait(30), "the first server never sent the delivery"
            # A delivery waiting on its receiver holds nothing requests need (its own thread and connection).
            assert httpx.get(f"{base}/articles?limit=5", timeout=5).status_code == 200
            os.kill(process.pid, signal.SIGKILL)
            process.wait(15)
        receiver.stall.set()  # the killed server's attempt is answered 500, to nobody
        assert [item["state"] for item in _log(db_url)] == ["pending"]
        with _servers(db_url, tmp_path / "serve.log"):
            _wait(lambda: len(receiver.successes()) == 1, "the delivery after the restart")
            time.sleep(1)
        [(event_id, event)] = receiver.successes()
    assert event["data"]["version"] == 1
    assert [status for sent, status, _ in receiver.calls] == [500, 200]
    assert {sent for sent, _, _ in receiver.calls} == {event_id}
    [logged] = _log(db_url)
    assert logged["state"] == "delivered" and [a["status_code"] for a in logged["log"]] == [200]  # the kill: no row


def test_garden_webhooks_add_list_remove(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'garden.db'}"
    added = run_garden("webhooks", "add", "https://example.org/hook", db_url=db_url)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.split("Secret (give it to the receiver; it is not shown again): ")[1].split()[0]
    assert secret.startswith("whsec_")
    assert run_garden("webhooks", "add", "http://127.0.0.1:8080/b", "--secret", SECRET, db_url=db_url).returncode == 0
    env = {"GARDEN_WEBHOOKS": json.dumps([{"url": "http://127.0.0.1:8080/c", "secret": SECRET}])}
    listed = run_garden("webhooks", "list", "--json", db_url=db_url, env=env)
    assert json.loads(listed.stdout) == [
        {"url": "https://example.org/hook", "origin": "added", "pending": 0},
        {"url": "http://127.0.0.1:8080/b", "origin": "added", "pending": 0},
        {"url": "http://127.0.0.1:8080/c", "origin": "GARDEN_WEBHOOKS", "pending": None},
    ]
    assert secret not in listed.stdout and SECRET not in listed.stdout
    removed = run_garden("webhooks", "remove", "https://example.org/hook", db_url=db_url)
    assert removed.returncode == 0 and "Removed https://example.org/hook" in removed.stdout
    listed = run_garden("webhooks", "list", db_url=db_url)
    assert "example.org" not in listed.stdout and "http://127.0.0.1:8080/b  (added)" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "ftp://example.org/hook"), "Error: URL: 'ftp://example.org/hook' is not an http(s) URL"),
        (("add", "example.org/hook"), "Error: URL: 'example.org/hook' is not an http(s) URL"),
        (("add", "https://exa mple.org/h"), "Error: URL: 'https://exa mple.org/h' holds spaces"),
        (("add", "https://example.org:port/h"), "Error: URL: 'https://example.org:port/h' is not a URL"),
        (("add", "https://example.org/h", "--secret", "s3cret"), "Error: --secret: a secret starts with whsec_"),
        (("add", "https://example.org/h", "--secret", "whsec_!!"), "Error: --secret: the secret after whsec_ is not"),
        (("add", "https://example.org/h", "--secret", "whsec_c2hvcnQ="), "Error: --secret: the secret holds 5 bytes"),
    ],
)
def test_bad_input_is_one_line_naming_the_argument(args: tuple[str, ...], message: str) -> None:
    """Refused before the database is opened (in process: the command line's own run is below)."""
    from typer.testing import CliRunner

    from app.cli import cli

    result = CliRunner().invoke(cli, ["webhooks", *args])
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_settings_and_unknown_receivers_are_one_line_in_the_real_command(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'garden.db'}"
    env = {"GARDEN_WEBHOOKS": '[{"url": "file:///etc/passwd", "secret": "whsec_c2hvcnQ="}]'}
    for args, environment, message in (
        (("remove", "https://example.org/none"), {}, "Error: URL: no receiver is subscribed at https://example.org/"),
        (("list",), env, "Error: GARDEN_WEBHOOKS="),
        (("list",), {"GARDEN_WEBHOOKS": '[{"url": "https://a.org/h"}]'}, "one has no 'secret' string"),
    ):
        result = run_garden("webhooks", *args, db_url=db_url, env=environment)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        if args == ("list",) and environment is env:
            assert "is not an http(s) URL" in result.stderr and "holds 5 bytes" in result.stderr
