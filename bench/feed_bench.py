"""Feed benchmark: time ``/agents/feeds/claims.jsonl`` and the server's memory while it streams.

Usage::

    python bench/feed_bench.py --database sqlite:////tmp/g10.db [--rounds 3]

Starts ``garden serve`` (one worker) on the database, downloads the feed ``--rounds`` times with httpx, and
reports rows, bytes, seconds, MB/s, and the server's resident memory before (VmRSS) and at its peak (VmHWM).
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _memory(pid: int, field: str) -> int:
    """A /proc/<pid>/status field in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) // 1024
    raise KeyError(field)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="GARDEN_DATABASE_URL of an ingested corpus")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = _free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": args.database}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        before = _memory(server.pid, "VmRSS")
        print("| round | rows | MB | seconds | MB/s |\n|---|---|---|---|---|")
        for round_number in range(1, args.rounds + 1):
            start, size, rows = time.perf_counter(), 0, 0
            headers = {"Accept-Encoding": "identity"}  # measure the bytes a client parses, not gzip
            with httpx.stream("GET", f"{base}/agents/feeds/claims.jsonl", headers=headers, timeout=300) as response:
                for chunk in response.iter_raw():
                    size += len(chunk)
                    rows += chunk.count(b"\n")
            seconds = time.perf_counter() - start
            print(f"| {round_number} | {rows:,} | {size / 1e6:.1f} | {seconds:.2f} | {size / 1e6 / seconds:.1f} |")
        print(f"\nserver memory: {before} MB before, {_memory(server.pid, 'VmHWM')} MB at its peak")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
