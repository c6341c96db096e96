"""Starvation benchmark: how long single-item reads wait while heavy requests are in flight.

Usage::

    python bench/starvation_bench.py --database sqlite:////tmp/g5k.db [--heavy /agents/garden-queries.json]
        [--concurrent 8] [--reads 40] [--checkout .] [--env GARDEN_POOL_SIZE=8 ...]

Starts ``garden serve`` (one worker, response cache off, so that every read reaches the database) from
``--checkout`` (this repository by default; another checkout compares its code on the same database), then
reads ``/claims/{id}`` ``--reads`` times alone, and again while ``--concurrent`` clients download ``--heavy``
over and over (a ``/search`` path gets a different word per download). Prints the reads' latency (median,
95th percentile, worst) and statuses in both phases, and the heavy requests' statuses and durations.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["soil", "compost", "water", "seed", "bee", "mulch", "root", "leaf", "rain", "pest", "clay", "worm"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reads(base: str, ids: list[str], count: int) -> tuple[list[float], Counter[int]]:
    seconds: list[float] = []
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        for i in range(count):
            start = time.monotonic()
            statuses[client.get(f"/claims/{ids[i % len(ids)]}").status_code] += 1
            seconds.append(time.monotonic() - start)
            time.sleep(0.05)
    return seconds, statuses


def _heavy(base: str, path: str, stop: threading.Event, out: list[tuple[int, float]], n: int) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            words = f"{WORDS[n % len(WORDS)]}+{WORDS[(n * 7 + 3) % len(WORDS)]}"
            target = f"{path}?q={words}" if path == "/search" else path
            n += 1000
            start = time.monotonic()
            status = client.get(target).status_code
            out.append((status, time.monotonic() - start))


def _summary(label: str, seconds: list[float], statuses: Counter[int]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (f"| {label} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} | "
            f"{dict(sorted(statuses.items()))} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="GARDEN_DATABASE_URL of an ingested corpus")
    parser.add_argument("--heavy", default="/agents/garden-queries.json", help="the heavy path (or /search)")
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--reads", type=int, default=40)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the repository whose code serves")
    parser.add_argument("--env", nargs="*", default=[], help="NAME=VALUE settings for the server")
    args = parser.parse_args()
    port = _free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": args.database, "GARDEN_RESPONSE_CACHE_MB": "0",
           **dict(item.split("=", 1) for item in args.env)}  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=args.checkout,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        ids = [item["claimId"] for item in httpx.get(f"{base}/claims?limit=500", timeout=60).json()["items"]]
        print("| phase | reads | median ms | p95 ms | worst ms | statuses |\n|---|---|---|---|---|---|")
        print(_summary("alone", *_reads(base, ids, args.reads)))
        stop, heavy = threading.Event(), []
        threads = [threading.Thread(target=_heavy, args=(base, args.heavy, stop, heavy, n))
                   for n in range(args.concurrent)]  # fmt: skip
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        print(_summary(f"{args.concurrent} × {args.heavy} in flight", *_reads(base, ids, args.reads)))
        stop.set()
        for thread in threads:
            thread.join()
        durations = sorted(seconds for _, seconds in heavy)
        print(f"\nheavy requests: {dict(Counter(status for status, _ in heavy))}, median "
              f"{statistics.median(durations):.2f} s, worst {durations[-1]:.2f} s")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
