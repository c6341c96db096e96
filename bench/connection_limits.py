"""Connection limits of ``garden serve`` (app/server.py) against plain uvicorn, on the same corpus, same run.

Usage::

    python bench/connection_limits.py [--idle 5000] [--requests 200] [--flood 1024] [--wrk-rounds 3]
                                      [--duration 10] [--servers garden-asyncio,garden-uvloop,plain]
                                      [--skip-wrk] [--skip-flood]

It ingests content/ into a temporary SQLite database and starts, over it, one server of each ``--servers`` kind
with one worker each: ``garden serve`` with the limits on either event loop (GARDEN_EVENT_LOOP), and plain uvicorn
as ``garden serve`` ran it before (httptools, uvloop, no limits). Then, for each server:

* **1 MB header**: a GET /healthz with a 1 MB ``Authorization`` header, ten times; the status, the time to the
  first byte of the answer and to the connection closed. A 100 MB one on garden only (plain uvicorn reads it
  all, 38 s in the issue): how many MB the client got to send before the server answered and closed.
* **Idle sockets**: ``--idle`` connections opened and left silent, then ``--requests`` GET /articles/<slug>,
  each on a new connection, timed (median, p99, max); then how many idle sockets the server closed by itself.
* **Flood** (``--flood`` connections from wrk on /articles/<slug> for ``--duration`` s): GET /healthz timed on
  new connections meanwhile (median, max, failures), and wrk's count of non-2xx answers (garden's 503s).
* **Throughput**: wrk, 2 threads, 32 connections, ``--duration`` s, on /healthz and /articles/<slug>, in
  ``--wrk-rounds`` interleaved rounds: requests/s and the server's CPU time per request (steadier than
  requests/s on a shared machine), each with its ratio to plain uvicorn (median of per-round ratios).
* **Cost**: the protocols alone, fed the same requests in-process (no network, no other process involved):
  the CPU the limits add per request, to hold against the CPU per request of the whole server above.

Needs wrk (apt-get install -y wrk). Prints one plain-text report. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# `garden serve` as it was before the limits (app/cli.py at 0182cb3): migrate, check, then plain uvicorn.
PLAIN = """
import sys, uvicorn
from app.db import get_engine, upgrade_to_head
from app.ingest import stored_article_count
engine = get_engine()
upgrade_to_head(engine)
assert stored_article_count(engine) > 0
engine.dispose()
uvicorn.run("app.main:app", host="127.0.0.1", port=int(sys.argv[1]), workers=1, log_level="info", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(kind: str, db_url: str, log: Path) -> Iterator[tuple[int, int]]:
    """A server on a free port until the block ends; yields (port, pid).

    kind: "garden" (``garden serve``, its default loop), "garden-asyncio" or "garden-uvloop" (``garden serve``
    with GARDEN_EVENT_LOOP set), "plain" (``garden serve`` as it was before: the same start, then uvicorn with
    httptools and uvloop, no limits).
    """
    port = free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
    if kind.startswith("garden"):
        if "-" in kind:
            env["GARDEN_EVENT_LOOP"] = kind.split("-")[1]
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"]
    else:
        command = [sys.executable, "-c", PLAIN, str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{kind} server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exchange(port: int, request: bytes, timeout: float = 30) -> tuple[bytes, float, float]:
    """Send ``request`` on a new connection and read until the server closes it.

    Returns (answer, seconds to its first byte, seconds to the close), both from the first byte sent.
    """
    start = time.monotonic()
    first = None
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                first = first or time.monotonic()
                chunks.append(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass
    end = time.monotonic()
    return b"".join(chunks), (first or end) - start, end - start


def status(answer: bytes) -> str:
    return answer[9:12].decode() if answer.startswith(b"HTTP/1.1 ") else "closed"


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median, top = statistics.median(ordered) * 1000, ordered[-1] * 1000
    return f"median {median:.1f} ms, p99 {p99 * 1000:.1f} ms, max {top:.1f} ms"


def big_header(port: int) -> str:
    """A 1 MB Authorization header (with Connection: close), ten times on new connections."""
    head = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nAuthorization: Bearer "
    results = [exchange(port, head + b"a" * 1024 * 1024 + b"\r\n\r\n") for _ in range(10)]
    statuses = sorted({status(answer) for answer, _, _ in results})
    return (
        f"1 MB header: status {'/'.join(statuses)}; answer {ms([first for _, first, _ in results])}; "
        f"closed {ms([closed for _, _, closed in results])}"
    )


def huge_header(port: int) -> str:
    """A 100 MB header sent as fast as the client can; how far it got before the server answered and closed."""
    sent, total = 0, 100 * 1024 * 1024
    start = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        stop = threading.Event()

        def read() -> None:
            nonlocal answer
            with suppress(OSError):
                while chunk := sock.recv(65536):
                    answer += chunk
            stop.set()

        reader = threading.Thread(target=read)
        reader.start()
        chunk = b"a" * 1024 * 1024
        with suppress(OSError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ")
            while sent < total and not stop.is_set():
                sock.sendall(chunk)
                sent += len(chunk)
        reader.join(timeout=60)
    elapsed = time.monotonic() - start
    return f"100 MB header: status {status(answer)} after {elapsed * 1000:.0f} ms; the client had sent {sent >> 20} MB"


def idle_sockets(port: int, count: int, requests: int, path: str, keep_alive: float) -> list[str]:
    idle = []
    start = time.monotonic()
    for _ in range(count):
        idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    opened = time.monotonic() - start
    while accept_queue(port) and time.monotonic() - start < 30:  # established; now wait until all are accepted
        time.sleep(0.01)
    accepted = time.monotonic() - start
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()
    timings, statuses = [], set()
    for _ in range(requests):
        answer, _, seconds = exchange(port, request, timeout=30)
        timings.append(seconds)
        statuses.add(status(answer))
    time.sleep(max(0.0, start + opened + keep_alive + 1.5 - time.monotonic()))
    closed = sum(1 for sock in idle if is_closed(sock))
    for sock in idle:
        sock.close()
    return [
        f"{count} idle sockets opened in {opened:.2f} s, all accepted by the server after {accepted:.2f} s; "
        f"{requests} GET {path} meanwhile "
        f"(status {'/'.join(sorted(statuses))}): {ms(timings)}",
        f"idle sockets closed by the server {keep_alive + 1.5:.1f} s after the last was opened: {closed} of {count}",
    ]


def accept_queue(port: int) -> int:
    """Connections waiting in the kernel for the server's accept() (``ss``: Recv-Q of the listening socket)."""
    output = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return sum(int(line.split()[1]) for line in output.splitlines() if line.strip())


def is_closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def wrk(port: int, path: str, connections: int, duration: int, threads: int = 2) -> tuple[int, float, int, int]:
    """(requests, requests/s, non-2xx answers, socket errors) of one wrk run."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
               f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    done = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return done, rate, int(non2xx.group(1)) if non2xx else 0, sum(map(int, errors.groups())) if errors else 0


def flood(port: int, path: str, connections: int, duration: int) -> str:
    result: list[tuple[int, float, int, int]] = []
    runner = threading.Thread(target=lambda: result.append(wrk(port, path, connections, duration)))
    runner.start()
    time.sleep(1)
    timings, timeouts, statuses = [], 0, set()
    request = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    while runner.is_alive() and len(timings) + timeouts < 200:
        try:
            answer, _, seconds = exchange(port, request, timeout=30)
            timings.append(seconds)
            statuses.add(status(answer))
        except OSError:
            timeouts += 1
        time.sleep(0.05)
    runner.join()
    _, rate, non2xx, errors = result[0]
    healthz = ms(timings) if timings else "none answered"
    return (
        f"{connections} connections on {path} for {duration} s: {rate:.0f} req/s, {non2xx} non-2xx, "
        f"{errors} socket errors; /healthz meanwhile (status {'/'.join(sorted(statuses))}): {healthz}, "
        f"{timeouts} timed out or failed"
    )


class _Transport:
    """Just enough of an asyncio transport for a protocol fed in-process."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _feed(cls: type[asyncio.Protocol], count: int) -> float:
    """CPU µs per request of ``count`` keep-alive GETs fed to one connection of ``cls``, answered at once."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    config = Config(app=_ok, http=cls, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    protocol = cls(config=config, server_state=state, app_state={})  # type: ignore[call-arg]
    protocol.connection_made(_Transport())  # type: ignore[arg-type]
    request = (b"GET /articles/some-slug HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n"
               b"Accept-Encoding: gzip\r\n\r\n")  # fmt: skip
    start = time.process_time()
    for _ in range(count):
        protocol.data_received(request)
        await asyncio.gather(*state.tasks)
    return (time.process_time() - start) / count * 1e6


def protocol_cost(rounds: int = 7, count: int = 20_000) -> str:
    """The limits' own cost: uvicorn's protocol and garden's fed the same requests in-process, on uvloop.

    Independent of other load on the machine, unlike wrk: this is the figure to hold against "a few percent".
    """
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from app.server import LimitedHttpToolsProtocol

    async def measure() -> dict[str, list[float]]:
        costs: dict[str, list[float]] = {"plain": [], "garden": []}
        for _ in range(rounds):
            costs["plain"].append(await _feed(HttpToolsProtocol, count))
            costs["garden"].append(await _feed(LimitedHttpToolsProtocol, count))
        return costs

    costs = uvloop.run(measure())
    plain, garden = statistics.median(costs["plain"]), statistics.median(costs["garden"])
    return (
        f"protocol alone (in-process, uvloop, {rounds} rounds of {count} keep-alive GETs, median): uvicorn's "
        f"httptools {plain:.2f} µs/request, garden's {garden:.2f} µs/request: +{garden - plain:.2f} µs per request"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--flood", type=int, default=1024)
    parser.add_argument("--wrk-rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--servers", default="garden-asyncio,garden-uvloop,plain")
    parser.add_argument("--skip-wrk", action="store_true")
    parser.add_argument("--skip-flood", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this client holds --idle sockets too
    sys.path.insert(0, str(ROOT))
    from app.settings import Settings

    keep_alive = Settings().keep_alive_timeout
    kinds = args.servers.split(",")
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        db_url = f"sqlite:///{folder}/garden.db"
        env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
        subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(ROOT / "content")], cwd=ROOT, env=env,
                       check=True, capture_output=True)  # fmt: skip
        servers = {kind: stack.enter_context(server(kind, db_url, Path(folder) / f"{kind}.log")) for kind in kinds}
        first = next(iter(servers.values()))[0]
        slug = httpx.get(f"http://127.0.0.1:{first}/articles?limit=1").json()["items"][0]["slug"]
        article = f"/articles/{slug}"
        print(f"open-file limit of this client: {hard} (was {soft}); one worker per server; {article}")
        for kind, (port, _pid) in servers.items():
            print(f"\n== {kind}")
            print(big_header(port))
            if kind.startswith("garden"):
                print(huge_header(port))
            for line in idle_sockets(port, args.idle, args.requests, article, keep_alive):
                print(line)
            if not args.skip_flood:
                time.sleep(2)
                print(flood(port, article, args.flood, args.duration))
        if not args.skip_wrk:
            throughput(servers, ["/healthz", article], args.wrk_rounds, args.duration)
        print(f"\n== cost\n{protocol_cost()}")


def throughput(servers: dict[str, tuple[int, int]], paths: list[str], rounds: int, duration: int) -> None:
    """Interleaved wrk rounds; requests/s and the server's CPU time per request (steadier on a shared machine)."""
    print(f"\n== throughput: wrk -t2 -c32 -d{duration}s, {rounds} interleaved rounds; medians over rounds")
    for path in paths:
        rates: dict[str, list[float]] = {kind: [] for kind in servers}
        costs: dict[str, list[float]] = {kind: [] for kind in servers}
        for _ in range(rounds):
            for kind, (port, pid) in servers.items():
                before = cpu_seconds(pid)
                done, rate, _, _ = wrk(port, path, 32, duration)
                costs[kind].append((cpu_seconds(pid) - before) / done * 1e6)
                rates[kind].append(rate)
        for kind in servers:
            rate, cost = statistics.median(rates[kind]), statistics.median(costs[kind])
            line = f"{path} {kind}: {rate:.0f} req/s, {cost:.1f} µs CPU/request"
            if "plain" in servers and kind != "plain":
                rate_ratio = statistics.median(a / b for a, b in zip(rates[kind], rates["plain"], strict=True))
                cost_ratio = statistics.median(a / b for a, b in zip(costs[kind], costs["plain"], strict=True))
                line += f"; ÷ plain: req/s {rate_ratio:.3f}, CPU/request {cost_ratio:.3f}"
            print(line)


if __name__ == "__main__":
    main()
