"""Agent-file benchmark: single-item latency while large agent files download, before and after the file store.

Usage::

    python bench/agent_files_bench.py --work /tmp/agent_bench [--count 5000] [--database URL] \\
        [--before-rev main] [--downloads 8] [--seconds 20] [--path /agents/garden-queries.json] [--only after]

Builds a ``--count``-article corpus (bench/generate_corpus.py, from ``--source``) and ingests it into
``--database`` if that holds no claims (default: a SQLite file under ``--work``; both are kept for the next
run), and a copy of the code at ``--before-rev`` (``git archive``).
Then, for the old code and this checkout in turn, it starts ``garden serve`` (one worker, response cache off),
waits until it has stored the agent files, downloads ``--path`` once, times uncached ``/claims/{id}``
requests alone for 4 s, then runs ``--downloads`` concurrent downloads of ``--path`` in a loop
(``Accept-Encoding: identity``: the largest bytes) and, for ``--seconds``, times ``/claims/{id}`` for a
different public claim id each time (one every 0.1 s after the last answer). It reports median, p95 and max
latency, the downloads finished and their throughput, and the worker's peak resident memory during the
downloads (VmHWM after resetting it through /proc/<pid>/clear_refs). Linux only.
"""

from __future__ import annotations

import argparse
import io
import os
import runpy
import socket
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _memory_mb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) // 1024
    raise KeyError(field)


def prepare(args: argparse.Namespace) -> tuple[str, list[str], Path]:
    """The database URL, public claim ids, and the old code's directory."""
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus{args.count}"
    if not corpus.exists():
        generate = runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"]
        print("generated", generate(args.source, corpus, args.count))
    url = args.database or f"sqlite:///{work / f'garden{args.count}.db'}"
    if not _claim_ids(url):
        started = time.perf_counter()
        env = {**os.environ, "GARDEN_DATABASE_URL": url, "GARDEN_CACHE_DIR": str(work / "cache")}
        subprocess.run([sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        print(f"ingested {args.count} articles (and stored the agent files) in {time.perf_counter() - started:.1f} s")
    ids = _claim_ids(url)
    before = work / f"before-{args.before_rev}"
    if not before.exists():
        archive = subprocess.run(["git", "archive", args.before_rev], cwd=ROOT, check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(before, filter="data")
    return url, ids, before


def _claim_ids(url: str) -> list[str]:
    """The public claim ids stored at ``url`` (none before the first ingest)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT c.claim_id FROM claim c JOIN article a ON a.id = c.article_id WHERE a.is_public ORDER BY c.id"
            )).scalars())  # fmt: skip
    except DBAPIError:  # no tables yet
        return []
    finally:
        engine.dispose()


def _wait_for_children(pid: int, timeout: float = 900) -> None:
    """Until the process ``pid`` has no child processes left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(path.read_text().split() for path in Path(f"/proc/{pid}/task").glob("*/children")):
            return
        time.sleep(0.2)


def _downloader(base: str, path: str, stop: threading.Event, totals: dict[str, int], lock: threading.Lock) -> None:
    with httpx.Client(timeout=600, headers={"Accept-Encoding": "identity"}) as client:
        while not stop.is_set():
            read = 0
            try:
                with client.stream("GET", base + path) as response:
                    for chunk in response.iter_raw(65536):
                        read += len(chunk)
                        if stop.is_set():
                            break
                    else:
                        with lock:
                            totals["downloads"] += 1
            except httpx.HTTPError:
                with lock:
                    totals["errors"] += 1
            with lock:
                totals["bytes"] += read


def _time_claims(client: httpx.Client, base: str, ids: list[str], seconds: float, pause: float) -> list[float]:
    """Latencies (ms) of /claims/{id}, a different id each time, for ``seconds`` (at least one request)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    for claim_id in ids:
        started = time.perf_counter()
        response = client.get(f"{base}/claims/{claim_id}")
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (claim_id, response.status_code, response.text[:200])
        if time.perf_counter() > deadline:
            return latencies
        time.sleep(pause)
    return latencies


def _summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):8.1f} {p95:8.1f} {ordered[-1]:8.1f}"


def run(label: str, code: Path, url: str, ids: list[str], args: argparse.Namespace) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GARDEN_DATABASE_URL": url, "GARDEN_RESPONSE_CACHE_MB": "0",
           "GARDEN_CACHE_DIR": str(args.work / "cache")}  # fmt: skip
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=code, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        _wait_for_children(server.pid)  # garden serve stores the agent files in a process of its own
        started = time.perf_counter()
        size = len(httpx.get(base + args.path, headers={"Accept-Encoding": "identity"}, timeout=600).content)
        first = time.perf_counter() - started
        with httpx.Client(timeout=600) as client:
            idle = _time_claims(client, base, ids[-40:], 4, 0.05)
            stop, lock = threading.Event(), threading.Lock()
            totals = {"downloads": 0, "bytes": 0, "errors": 0}
            threads = [threading.Thread(target=_downloader, args=(base, args.path, stop, totals, lock))
                       for _ in range(args.downloads)]  # fmt: skip
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            rss_before = _memory_mb(server.pid, "VmRSS")
            for thread in threads:
                thread.start()
            time.sleep(2)  # every download under way
            started = time.perf_counter()
            busy = _time_claims(client, base, ids, args.seconds, 0.1)
            elapsed = time.perf_counter() - started
            peak = _memory_mb(server.pid, "VmHWM")
            stop.set()
            for thread in threads:
                thread.join()
        mb_s = totals["bytes"] / 1e6 / (elapsed + 2)
        print(f"| {label:6} | {size / 1e6:5.1f} MB | {first:6.2f} s | {_summary(idle)} | {_summary(busy)} | "
              f"{len(busy):4} | {totals['downloads']:3} ({totals['errors']} err) {mb_s:7.1f} MB/s | "
              f"{rss_before:5} -> {peak:5} MB |", flush=True)  # fmt: skip
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # the old code finishes its builds before it exits
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="directory for the corpus, database, old code")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared/corpus")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--database", help="GARDEN_DATABASE_URL (default: a SQLite file under --work)")
    parser.add_argument("--before-rev", default="main", help="git revision of the code to compare with")
    parser.add_argument("--downloads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--path", default="/agents/garden-queries.json")
    parser.add_argument("--only", choices=["before", "after"], help="run one side only")
    args = parser.parse_args()
    url, ids, before = prepare(args)
    print(f"\n{args.downloads} concurrent downloads of {args.path} at {args.count} articles; "
          f"/claims/{{id}} latency in ms (median, p95, max), alone and during the downloads\n")  # fmt: skip
    print(
        "| code   | file     | first    |   median      p95      max (alone) |   median      p95      max "
        "(downloading) | reqs | downloads done, throughput | worker RSS -> peak |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, code in (("before", before), ("after", ROOT)):
        if args.only in (None, label):
            run(label, code, url, ids, args)


if __name__ == "__main__":
    main()
