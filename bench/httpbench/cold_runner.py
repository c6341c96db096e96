"""The sequential cold runner: one client, one request at a time, each URL once per system.

Latency, not throughput: each request is timed from sending it to having read the whole body (the standard
library's http.client on a kept-alive connection, ``Accept-Encoding: identity``; httpx added 1.1-1.3 ms to every
request on this machine, against 0.4 ms for all of /healthz as wrk times it, which pulled every ratio towards
1). The systems are interleaved request by request, so that machine noise hits them alike: for request *i* of a
workload every system answers its own URL for the same logical query before request *i + 1* goes out, and the
order rotates with *i*, so that no system always comes first (garden on SQLite and Datasette read the same
file: whichever reads a page first warms the OS cache for the other).
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from .cold import ColdPlan, ColdRequest
from .common import IDENTITY


@dataclass
class Timing:
    """One request of a cold run."""

    index: int
    ms: float
    status: int
    items: int  # items (garden) or rows (Datasette) in a 200's JSON body; -1 if it has none
    flagged: str = ""  # why this answer is wrong: "status 500", "no items"


@dataclass
class ColdSeries:
    """Every request of one workload on one system."""

    workload: str
    system: str
    urls: int
    timings: list[Timing] = field(default_factory=list)


def count_items(body: bytes, peer: bool) -> int:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return -1
    if not isinstance(data, dict):
        return -1
    found = data.get("rows" if peer else "items")
    return len(found) if isinstance(found, list) else -1


class Client:
    """GET on one kept-alive HTTP/1.1 connection (opened again after an error)."""

    def __init__(self, base: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.headers, self.timeout = parts.hostname or "", parts.port or 80, headers, timeout
        self.connection: http.client.HTTPConnection | None = None

    def get(self, url: str) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.connection.request("GET", url, headers=self.headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def timed_get(client: Client, url: str, request: ColdRequest, index: int, peer: bool) -> Timing:
    started = time.perf_counter()
    try:
        status, body = client.get(url)
    except (OSError, http.client.HTTPException) as error:
        ms = (time.perf_counter() - started) * 1e3
        return Timing(index, ms, 0, -1, f"{type(error).__name__}")
    ms = (time.perf_counter() - started) * 1e3
    items = count_items(body, peer) if status == 200 else -1
    flagged = f"status {status}" if status != 200 else ("no items" if request.items and items < 1 else "")
    return Timing(index, ms, status, items, flagged)


def run_workload(
    name: str, requests: list[ColdRequest], clients: dict[str, Client], peer: str | None
) -> list[ColdSeries]:
    """Every request of ``name`` on every system, interleaved and rotated request by request."""
    systems = list(clients)
    series = {system: ColdSeries(name, system, 0) for system in systems}
    for index, request in enumerate(requests):
        turn = index % len(systems)
        for system in systems[turn:] + systems[:turn]:
            is_peer = system == peer
            url = request.peer if is_peer else request.path
            if url is None:
                continue
            series[system].urls += 1
            series[system].timings.append(timed_get(clients[system], url, request, index, is_peer))
    return [one for one in series.values() if one.timings]


def run_cold(
    plan: ColdPlan, bases: dict[str, str], peer: str | None, timeout: float, order: list[str]
) -> list[ColdSeries]:
    """The workloads of ``plan`` in ``order`` on every system of ``bases`` (name: base URL); ``peer`` names the
    Datasette system, if any, which answers the requests' ``peer`` URLs."""
    clients = {name: Client(base, IDENTITY, timeout) for name, base in bases.items()}
    out: list[ColdSeries] = []
    try:
        for name in order:
            requests = plan.requests.get(name)
            if not requests:
                continue
            started = time.monotonic()
            done = run_workload(name, requests, clients, peer)
            out += done
            summary = "; ".join(
                f"{one.system} p50 {sorted(t.ms for t in one.timings)[len(one.timings) // 2]:.1f} ms, "
                f"max {max(t.ms for t in one.timings):.1f} ms, {sum(bool(t.flagged) for t in one.timings)} flagged"
                for one in done
            )
            print(f"  {name}: {len(requests)} requests in {time.monotonic() - started:.1f} s: {summary}", flush=True)
    finally:
        for client in clients.values():
            client.close()
    return out
