"""What the request deadline (app.deadline.RequestDeadline) costs per request, measured in-process.

Usage::

    PYTHONPATH=. python bench/deadline_overhead.py [--requests 20000]

Calls a trivial ASGI application (one start and one body message) ``--requests`` times directly, and again
through ``RequestDeadline``, on one event loop, and prints the microseconds per request of each and the
difference: the price of running each request in a task of its own with a timer.
"""

from __future__ import annotations

import argparse
import time

import anyio
from starlette.types import Message, Receive, Send
from starlette.types import Scope as AsgiScope

from app.deadline import DetachedTasks, RequestDeadline


async def trivial(_scope: AsgiScope, _receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def measure(count: int) -> tuple[float, float]:
    tasks = DetachedTasks()
    guarded = RequestDeadline(trivial, timeout=5, tasks=tasks)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(_message: Message) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    async with tasks.running():
        results = []
        for app in (trivial, guarded):
            start = time.perf_counter()
            for _ in range(count):
                await app(dict(scope), receive, send)
            results.append((time.perf_counter() - start) / count * 1e6)
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    plain, guarded = anyio.run(measure, args.requests)
    print(f"plain {plain:.1f} µs/request, with the deadline {guarded:.1f} µs/request: +{guarded - plain:.1f} µs")


if __name__ == "__main__":
    main()
