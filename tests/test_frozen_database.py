"""A frozen database (issue 12, finding 5): PostgreSQL stopped with SIGSTOP under load hung every request.

The test starts a PostgreSQL server of its own (it must stop every process of it), loads content/ into it,
serves it with ``garden serve``, and sends a steady mix of requests while the postmaster and all its backends
are stopped: every request is answered within GARDEN_REQUEST_TIMEOUT and a margin, with a 503 carrying
Retry-After or with a 200 from the response cache. After SIGCONT the service answers 200 again by itself.

A stopped server is the hard case: its kernel still accepts connections and acknowledges every packet, so no
TCP timeout fires and its statement_timeout cannot run; only the API giving up on its side answers in time.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CONTENT, free_port, run_garden, running_server

pytestmark = pytest.mark.slow

TIMEOUT = 2.0  # GARDEN_REQUEST_TIMEOUT of the served API
MARGIN = 1.5  # for the client, the server's scheduling and a loaded machine
FREEZE = 8.0  # seconds the database stays stopped


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found or not (found[-1].parent / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (initdb, postgres)")
    return found[-1].parent


def _as_postgres() -> dict[str, Any]:
    """Popen arguments: PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user (set by
    Popen itself: a supervising ``runuser`` would stop itself when its child is stopped, and stay stopped)."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


class Cluster:
    """A throwaway PostgreSQL server on a free port, in a directory of its own, that a test may stop and start."""

    def __init__(self) -> None:
        self.bin_dir = _postgres_bin()
        self.owner = _as_postgres()
        self.home = Path(tempfile.mkdtemp(prefix="garden-frozen-"))
        if self.owner:
            os.chown(self.home, self.owner["user"], self.owner["group"])
        self.data, self.port = self.home / "data", free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.server: subprocess.Popen[bytes] | None = None
        self.postmaster = 0
        initdb = [str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
        subprocess.run(initdb, check=True, capture_output=True, cwd=self.home, **self.owner)

    def start(self) -> None:
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.home),
                   "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]  # fmt: skip
        with (self.home / "log").open("ab") as log:
            self.server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, cwd=self.home, **self.owner)
        deadline = time.monotonic() + 30
        while not self._accepts():
            if self.server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL did not start:\n{(self.home / 'log').read_text()}")
            time.sleep(0.2)
        self.postmaster = int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        """A fast shutdown (every process continued first): its connections are closed, new ones refused."""
        if self.server is None:
            return
        _signal_all(self.postmaster, signal.SIGCONT)
        with suppress(ProcessLookupError):
            os.kill(self.postmaster, signal.SIGINT)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.server = None

    def _accepts(self) -> bool:
        command = [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(command, capture_output=True).returncode == 0


@contextmanager
def own_postgres() -> Iterator[Cluster]:
    """A started ``Cluster``, stopped and removed at the end."""
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.home, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _signal_all(postmaster: int, sig: signal.Signals) -> None:
    """The postmaster first when stopping (it forks no new backend then), last when continuing."""
    order = [postmaster, *_children(postmaster)]
    for pid in order if sig == signal.SIGSTOP else reversed(order):
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


Answer = tuple[str, int, float, "str | None"]  # path, status (0: no answer), seconds, Retry-After


class Traffic:
    """A steady mix of reads on a served API: single items, and lists whose varying limits keep most of them out
    of the response cache."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.claims = client.get("/claims?limit=20").json()["items"]
        self.fresh = count()

    def path(self, i: int) -> str:
        claim, n = self.claims[i % len(self.claims)], next(self.fresh)
        paths = [f"/claims/{claim['claimId']}", f"/articles/{claim['slug']}", "/topics", "/readyz",
                 f"/articles?limit={1 + n % 99}&sort=title", f"/search?q=soil&limit={1 + n % 50}",
                 f"/claims?limit={1 + n % 200}"]  # fmt: skip
        return paths[i % len(paths)]

    def fetch(self, path: str) -> Answer:
        start = time.monotonic()
        try:
            response = self.client.get(path, timeout=TIMEOUT + 20)
        except httpx.TimeoutException:
            return path, 0, time.monotonic() - start, None
        return path, response.status_code, time.monotonic() - start, response.headers.get("retry-after")

    def during(self, seconds: float, threads: int = 6) -> list[Answer]:
        """Answers to ``threads`` requests at a time, for ``seconds``."""
        answers: list[Answer] = []
        until, batch = time.monotonic() + seconds, 0
        with ThreadPoolExecutor(threads) as pool:
            while time.monotonic() < until:
                answers += pool.map(self.fetch, [self.path(batch * threads + k) for k in range(threads)])
                batch += 1
        return answers

    def recovers(self, within: float) -> float:
        """Seconds until a round of every kind of read is all 200, then 60 more reads are too."""
        start = time.monotonic()
        while True:
            statuses = [self.fetch(self.path(i))[1] for i in range(7)]
            if statuses == [200] * 7:
                break
            assert time.monotonic() - start < within, f"still {statuses} {within} s later"
            time.sleep(0.2)
        took = time.monotonic() - start
        with ThreadPoolExecutor(6) as pool:
            after = list(pool.map(self.fetch, [self.path(i) for i in range(60)]))
        assert [a for a in after if a[1] != 200] == []
        return took


def in_time(answers: list[Answer]) -> list[Answer]:
    """The 503s among ``answers``, after checking every answer came within the deadline: a 503 with Retry-After,
    or a 200 (from the response cache)."""
    late = [a for a in answers if a[2] > TIMEOUT + MARGIN or a[1] not in (200, 503)]
    assert late == [], f"{len(late)} of {len(answers)} answers were late or wrong: {late[:10]}"
    refused = [a for a in answers if a[1] == 503]
    assert refused, "no request reached the database"
    assert all(a[3] == "1" for a in refused), "a 503 without Retry-After"
    return refused


@contextmanager
def served(tmp_path: Path) -> Iterator[tuple[Cluster, Traffic]]:
    """content/ in a PostgreSQL of the test's own, served by ``garden serve`` with a 2 s request timeout."""
    with own_postgres() as cluster:
        ingest = run_garden("ingest", str(CONTENT), db_url=cluster.url)
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        env = {"GARDEN_REQUEST_TIMEOUT": str(TIMEOUT), "GARDEN_POOL_SIZE": "2", "GARDEN_POOL_TIMEOUT": "1"}
        with (
            running_server(cluster.url, tmp_path / "server.log", env=env) as base,
            httpx.Client(base_url=base) as client,
        ):
            traffic = Traffic(client)
            assert all(traffic.fetch(traffic.path(i))[1] == 200 for i in range(14))  # some answers are cached now
            yield cluster, traffic


def test_a_frozen_database_gets_503s_in_time_and_the_service_recovers_by_itself(tmp_path: Path) -> None:
    with served(tmp_path) as (cluster, traffic):
        _signal_all(cluster.postmaster, signal.SIGSTOP)
        try:
            answers = traffic.during(FREEZE)
        finally:
            _signal_all(cluster.postmaster, signal.SIGCONT)
        in_time(answers)
        assert traffic.recovers(within=10) < 10


def test_a_database_shut_down_and_restarted_gets_503s_then_200s(tmp_path: Path) -> None:
    """The killed-database case, kept working: the pooled connections are dead after the restart, and each
    checkout's ping replaces them (app.db.guard_checkouts)."""
    with served(tmp_path) as (cluster, traffic):
        cluster.stop()
        in_time(traffic.during(3))
        cluster.start()
        assert traffic.recovers(within=10) < 10
