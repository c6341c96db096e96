"""Hot reads benchmark (issue 13, parts 2c-4): aggregates, single items, 304 against 200, and the claims feed.

Usage::

    python bench/hot_bench.py --database sqlite:////work/data/hot/g50k.db [--code /work/main] [--sample 5000]
                              [--only topics,series,series_item,topic_item,article,claim,conditional,feed]

Starts ``garden serve --workers 1`` from ``--code`` (a checkout; default this one) with the response cache off
(``GARDEN_RESPONSE_CACHE_MB=0``) and, except for the feed, no agent-file store (GARDEN_CACHE_DIR unusable, so the
background build that ``garden serve`` starts does not take CPU from the measurement). Then, one request at a
time on one keep-alive connection, with ``Accept-Encoding: gzip`` as a typical client sends it:

* ``topics``, ``series``: ``/topics`` and ``/series``, ``--repeat`` times each;
* ``topic_item``, ``series_item``: ``/topics/{topic}`` for every topic, ``/series/{slug}`` for every series;
* ``article``: ``/articles/{slug}`` for ``--sample`` public articles (``--sample 0``: every one), each once;
* ``claim``: ``/claims/{id}`` for ``--sample`` public claims, each once;
* ``conditional``: for ``--sample`` article URLs not yet asked for: the 200 and then its 304
  (``If-None-Match`` with the ETag just received);
* ``feed``: a fresh server with a store of its own; once the background build has stored the files, the
  first download of ``/agents/feeds/claims.jsonl`` (identity coding): MB/s, and the worker's VmRSS before and
  after and its VmHWM; ``cold_feed`` (not in the default set): the same download as soon as the server answers,
  the store still empty (the request builds the file, or waits for the background build).

Prints a Markdown table of p50/p95/p99/max in milliseconds (client side, whole response read). Linux only.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ALL = ("topics", "series", "topic_item", "series_item", "article", "claim", "conditional", "feed")  # and cold_feed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(code: Path, database: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """``garden serve`` from ``code``; yields its base URL and pid."""
    port = _free_port()
    environment = {**os.environ, "GARDEN_DATABASE_URL": database, "GARDEN_RESPONSE_CACHE_MB": "0", **env}
    with log.open("wb") as out:
        process = subprocess.Popen([PYTHON, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"],
                                   cwd=code, env=environment, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # an in-place upgrade of a 50k database may take a while
        while True:
            if process.poll() is not None:
                raise SystemExit(f"garden serve exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("garden serve did not start")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _rows(database: str, sql: str) -> list[str]:
    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _sample(items: list[str], size: int, seed: int) -> list[str]:
    if size and len(items) > size:
        return random.Random(seed).sample(items, size)
    return items


def _timed(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    response.read()
    return (time.perf_counter() - start) * 1000, response


def _row(name: str, times: list[float], statuses: set[int], note: str = "") -> str:
    ordered = sorted(times)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    return (f"| {name} | {len(times)} | {pct(50):.2f} | {pct(95):.2f} | {pct(99):.2f} | {ordered[-1]:.2f} | "
            f"{statistics.fmean(times):.2f} | {','.join(map(str, sorted(statuses)))} | {note} |")  # fmt: skip


def _run(client: httpx.Client, name: str, urls: list[str]) -> str:
    times, statuses, sizes = [], set(), []
    for url in urls:
        elapsed, response = _timed(client, url)
        times.append(elapsed)
        statuses.add(response.status_code)
        sizes.append(len(response.content))
    return _row(name, times, statuses, f"{statistics.fmean(sizes) / 1024:.1f} KB mean body")


def _conditional(client: httpx.Client, urls: list[str]) -> list[str]:
    full, revalidated, statuses_200, statuses_304 = [], [], set(), set()
    for url in urls:
        elapsed, response = _timed(client, url)
        full.append(elapsed)
        statuses_200.add(response.status_code)
        elapsed, again = _timed(client, url, {"If-None-Match": response.headers.get("etag", '"none"')})
        revalidated.append(elapsed)
        statuses_304.add(again.status_code)
    return [_row("article 200 (then:)", full, statuses_200), _row("article 304", revalidated, statuses_304)]


def _memory(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def feed(code: Path, database: str, *, cold: bool = False) -> str:
    """The first download of the claims feed from a fresh worker whose store holds it (built in the background),
    or, ``cold``, at once: the store is empty, and the request builds the file (or waits for the background
    build) before the first byte."""
    with tempfile.TemporaryDirectory() as store:
        log = Path(store) / "serve.log"
        os.chmod(store, 0o700)
        with serving(code, database, {"GARDEN_CACHE_DIR": str(Path(store) / "files")}, log) as (base, pid):
            deadline = time.monotonic() + 1800
            while not cold and "Agent files stored ahead of requests" not in log.read_text():
                if time.monotonic() > deadline or "Storing the agent files ahead of requests failed" in log.read_text():
                    raise SystemExit(f"the background build did not finish:\n{log.read_text()[-3000:]}")
                time.sleep(1)
            before = _memory(pid, "VmRSS")
            start, size = time.perf_counter(), 0
            headers = {"Accept-Encoding": "identity"}
            with httpx.stream("GET", f"{base}/agents/feeds/claims.jsonl", headers=headers, timeout=600) as response:
                for chunk in response.iter_raw():
                    size += len(chunk)
            seconds = time.perf_counter() - start
            after, peak = _memory(pid, "VmRSS"), _memory(pid, "VmHWM")
    return (f"claims feed: {size / 1e6:.1f} MB in {seconds:.2f} s = {size / 1e6 / seconds:.0f} MB/s "
            f"(status {response.status_code}); worker RSS {before:.0f} MB before, {after:.0f} MB after "
            f"(+{after - before:.0f} MB), peak {peak:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="GARDEN_DATABASE_URL of an ingested corpus")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose app to serve")
    parser.add_argument("--sample", type=int, default=5000, help="articles and claims asked for (0: all)")
    parser.add_argument("--repeat", type=int, default=30, help="requests of /topics and of /series")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    only = set(args.only.split(","))
    public = "SELECT a.slug FROM article a WHERE a.is_public ORDER BY a.slug"
    claims = "SELECT c.claim_id FROM claim c JOIN article a ON a.id = c.article_id WHERE a.is_public ORDER BY 1"
    slugs = _sample(_rows(args.database, public), args.sample, args.seed) if only & {"article", "conditional"} else []
    ids = _sample(_rows(args.database, claims), args.sample, args.seed) if "claim" in only else []
    print(f"code {args.code}, database {args.database.split('@')[-1]}, response cache off, Accept-Encoding: gzip\n")
    if only - {"feed"}:
        with tempfile.TemporaryDirectory() as scratch:
            unusable = Path(scratch) / "not-a-directory"
            unusable.write_text("")
            log = Path(scratch) / "serve.log"
            env = {"GARDEN_CACHE_DIR": str(unusable)}
            with (
                serving(args.code, args.database, env, log) as (base, _),
                httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=60) as client,
            ):
                lines = _measure(client, only, args.repeat, slugs, ids)
        print("| workload | n | p50 ms | p95 ms | p99 ms | max ms | mean ms | statuses | note |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(lines))
    if "feed" in only:
        print("\n" + feed(args.code, args.database))
    if "cold_feed" in only:
        print("\ncold store: " + feed(args.code, args.database, cold=True))


def _measure(client: httpx.Client, only: set[str], repeat: int, slugs: list[str], ids: list[str]) -> list[str]:
    for _ in range(3):  # warm the worker: imports, first connections
        client.get("/healthz")
        client.get("/articles?limit=1")
    lines = []
    topics = [item["topic"] for item in client.get("/topics").json()["items"]]
    series = [item["slug"] for item in client.get("/series").json()["items"]]
    if "topics" in only:
        lines.append(_run(client, "/topics", ["/topics"] * repeat))
    if "series" in only:
        lines.append(_run(client, "/series", ["/series"] * repeat))
    if "topic_item" in only:
        lines.append(_run(client, "/topics/{topic}", [f"/topics/{topic}" for topic in topics]))
    if "series_item" in only:
        lines.append(_run(client, "/series/{slug}", [f"/series/{slug}" for slug in series]))
    half = len(slugs) // 2
    if "article" in only:
        lines.append(_run(client, "/articles/{slug}", [f"/articles/{slug}" for slug in slugs[:half]]))
    if "claim" in only:
        lines.append(_run(client, "/claims/{id}", [f"/claims/{claim}" for claim in ids]))
    if "conditional" in only:
        lines += _conditional(client, [f"/articles/{slug}" for slug in slugs[half:]])
    return lines


if __name__ == "__main__":
    main()
