"""Connection limits of ``garden serve`` (issue 12, finding 6): head size, read timeouts, request cap.

Each test talks raw HTTP/1.1 over a socket to a real ``garden serve`` (app/server.py's protocol under uvicorn),
because the limits live below the application. The timeouts are set to 2 s here so the tests are quick; the
assertions allow generous margins. The limits do not touch the database, so one SQLite server serves them all.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import CONTENT, ingest_json, running_server

pytestmark = pytest.mark.slow

TIMEOUT = 2.0  # GARDEN_KEEP_ALIVE_TIMEOUT, GARDEN_HEADER_TIMEOUT and GARDEN_BODY_TIMEOUT of the server below
CAP = 2  # GARDEN_MAX_CONCURRENCY
CONNECTIONS = 16  # GARDEN_MAX_CONNECTIONS (its least value)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A ``garden serve`` over content/ with short timeouts, a cap of two requests and of 16 connections."""
    folder = tmp_path_factory.mktemp("limits")
    db_url = f"sqlite:///{folder / 'garden.db'}"
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    env = {
        "GARDEN_KEEP_ALIVE_TIMEOUT": str(TIMEOUT),
        "GARDEN_HEADER_TIMEOUT": str(TIMEOUT),
        "GARDEN_BODY_TIMEOUT": str(TIMEOUT),
        "GARDEN_MAX_CONCURRENCY": str(CAP),
        "GARDEN_MAX_CONNECTIONS": str(CONNECTIONS),
    }
    with running_server(db_url, folder / "server.log", env=env) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def connect(server: tuple[str, int]) -> socket.socket:
    return socket.create_connection(server, timeout=30)


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def seconds_until_closed(sock: socket.socket) -> float:
    """How long the server keeps this connection open while the client sends nothing more."""
    start = time.monotonic()
    with contextlib.suppress(ConnectionResetError):
        read_response(sock)
    return time.monotonic() - start


def is_closed(sock: socket.socket) -> bool:
    """Whether the server closed this connection, without waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def get(path: str, extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: garden\r\n" + extra


def test_a_one_megabyte_header_is_a_431_and_the_connection_closes(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        start = time.monotonic()
        sock.sendall(get("/healthz", b"Authorization: Bearer " + b"a" * 1024 * 1024 + b"\r\n\r\n"))
        answer = read_response(sock)  # returns only once the server closed the connection
        elapsed = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer
    assert elapsed < 5


def test_a_head_over_the_limit_in_one_piece_is_a_431(server: tuple[str, int]) -> None:
    """40 KB sent at once: refused whether it arrives in one read (measured whole) or in several (counted)."""
    with connect(server) as sock:
        sock.sendall(get("/healthz", b"X-Padding: " + b"a" * 40_000 + b"\r\n\r\n"))
        assert read_response(sock).startswith(b"HTTP/1.1 431 ")


def test_a_head_just_under_the_limit_is_served(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(get("/healthz", b"X-Padding: " + b"a" * 30_000 + b"\r\nConnection: close\r\n\r\n"))
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")


def test_a_100_megabyte_header_is_cut_off_before_it_is_read(server: tuple[str, int]) -> None:
    total = 100 * 1024 * 1024
    sent = 0
    failed = threading.Event()

    def send() -> None:
        nonlocal sent
        chunk = b"a" * (1024 * 1024)
        try:
            sock.sendall(get("/healthz", b"Authorization: Bearer "))
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            failed.set()

    with connect(server) as sock:
        sender = threading.Thread(target=send)
        sender.start()
        try:
            answer = read_response(sock)
        except ConnectionResetError:
            answer = b""
        sender.join(timeout=120)
    # The server answered 431 (or reset) and closed while the client was still far from done sending.
    assert failed.is_set(), f"the server read all {sent} bytes"
    assert sent < total // 4, sent
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_connection_that_sends_nothing_is_closed_after_the_keep_alive_timeout(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        assert TIMEOUT - 0.5 < seconds_until_closed(sock) < TIMEOUT + 2.5


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(get("/healthz", b"\r\n"))
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert TIMEOUT - 0.5 < seconds_until_closed(sock) < TIMEOUT + 2.5


def test_a_head_sent_a_byte_at_a_time_is_cut_off_after_the_header_timeout(server: tuple[str, int]) -> None:
    """Slowloris: every byte arrives well within the keep-alive timeout, but the head never ends."""
    with connect(server) as sock:
        start = time.monotonic()
        sock.sendall(get("/healthz"))
        closed = False
        while time.monotonic() - start < TIMEOUT + 6:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.25)
            except OSError:
                closed = True
                break
            sock.setblocking(False)
            try:
                closed = sock.recv(1) == b""
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed = True
            sock.setblocking(True)
            if closed:
                break
        elapsed = time.monotonic() - start
    assert closed, "the server still reads the head"
    assert elapsed < TIMEOUT + 2.5


def test_a_body_never_finished_is_cut_off_after_the_body_timeout(server: tuple[str, int]) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: garden\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"
        )
        assert seconds_until_closed(sock) < TIMEOUT + 2.5


def test_beyond_the_concurrency_cap_the_answer_is_a_fast_503(server: tuple[str, int]) -> None:
    """Two requests held in progress (their bodies never come) fill the cap; a third is refused at once."""
    held = [connect(server) for _ in range(CAP)]
    try:
        for sock in held:
            sock.sendall(
                b"POST /mcp HTTP/1.1\r\nHost: garden\r\nContent-Type: application/json\r\n"
                b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"
            )
        time.sleep(0.3)
        with connect(server) as sock:
            start = time.monotonic()
            sock.sendall(get("/healthz", b"\r\n"))
            answer = read_response(sock)
            elapsed = time.monotonic() - start
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
        assert b"retry-after: 1" in answer.lower()
        assert elapsed < 1
    finally:
        for sock in held:
            sock.close()
    # Once they are gone, requests are served again; idle connections never count against the cap.
    time.sleep(0.3)
    idle = [connect(server) for _ in range(CAP * 4)]
    try:
        with connect(server) as sock:
            sock.sendall(get("/healthz", b"Connection: close\r\n\r\n"))
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in idle:
            sock.close()


def test_idle_sockets_beyond_the_connection_cap_make_way_for_a_request(server: tuple[str, int]) -> None:
    """Each new connection beyond the cap closes the one idle longest: file descriptors stay bounded."""
    idle = [connect(server) for _ in range(CONNECTIONS * 3)]
    try:
        time.sleep(0.3)
        with connect(server) as sock:
            sock.sendall(get("/healthz", b"Connection: close\r\n\r\n"))
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        closed = [is_closed(sock) for sock in idle]
        # Well before the keep-alive timeout, the oldest were closed and the newest are still open.
        assert sum(closed) >= CONNECTIONS * 2, closed
        assert closed[0] and not closed[-1]
    finally:
        for sock in idle:
            sock.close()


MCP_HEAD = (
    b"POST /mcp HTTP/1.1\r\nHost: garden\r\nContent-Type: application/json\r\n"
    b"Accept: application/json, text/event-stream\r\nConnection: close\r\n"
)


def test_a_body_declared_over_the_limit_is_a_413_before_it_is_read(server: tuple[str, int]) -> None:
    """uvicorn would buffer any body; POST /mcp is the one route that takes one (GARDEN_MAX_BODY_BYTES, 1 MiB)."""
    with connect(server) as sock:
        sock.sendall(MCP_HEAD + b"Content-Length: %d\r\n\r\n" % (64 * 1024 * 1024))  # and no body at all
        answer = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"GARDEN_MAX_BODY_BYTES" in answer


def test_a_chunked_body_past_the_limit_closes_the_connection(server: tuple[str, int]) -> None:
    chunk = b"a" * 65536
    with connect(server) as sock:
        sock.sendall(MCP_HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
        with contextlib.suppress(OSError):
            for _ in range(64):  # 4 MiB offered
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        assert seconds_until_closed(sock) < TIMEOUT / 2  # closed at the limit, not by the body timeout


def test_a_small_body_is_served(server: tuple[str, int]) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    with connect(server) as sock:
        sock.sendall(MCP_HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
