"""Time /search uncached on a synthetic corpus: first pages, the pages their ``next`` links name, preview.

    python bench/search_bench.py --articles 1000 [--postgres URL] [--baseline /path/to/older/checkout]

The corpus is bench/out/corpus-<N> (generated once, shared with http_bench.py). For this checkout (and, with
``--baseline``, another one: an older commit exported with ``git archive``) each backend gets a new database
(a SQLite file; a PostgreSQL database with ``--postgres``), which that checkout's own ``garden ingest`` fills,
and one ``garden serve`` worker with the response cache off. The queries are http_bench.py's workload E:
words and two-word phrases from the public titles. Requests alternate between the two servers query by query
(which one goes first alternates too), so that a busy machine slows both alike; the report gives the median,
p90 and mean milliseconds of each kind of request, and the median over queries of this checkout's time over
the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TOKEN = "search-bench-token"
PREVIEW = {"Authorization": f"Bearer {TOKEN}"}
KINDS = ("first page", "next page", "first page, preview")


def corpus(source: Path, articles: int) -> Path:
    path = OUT / f"corpus-{articles}"
    marker = path / ".http-bench-complete"  # http_bench.py's marker: the two share the corpus
    if not marker.exists():
        generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
        marker.write_text(json.dumps(generate(source, path, articles, force=True)) + "\n")
    return path


def fresh_database(backend: str, name: str, postgres: str | None) -> str:
    from sqlalchemy import create_engine, make_url, text

    if backend == "sqlite":
        for leftover in OUT.glob(f"{name}.db*"):
            leftover.unlink()
        return f"sqlite:///{OUT / name}.db"
    assert postgres
    server = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(postgres).set(database=name).render_as_string(hide_password=False)


def ingest(root: Path, path: Path, url: str) -> float:
    started = time.perf_counter()
    env = {**os.environ, "GARDEN_DATABASE_URL": url}
    result = subprocess.run([sys.executable, "-m", "app.cli", "ingest", "--json", str(path)], cwd=root, env=env,
                            capture_output=True, text=True, check=False)  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"ingest into {url} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.perf_counter() - started


def terms(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        titles = list(conn.execute(text("SELECT title FROM article WHERE is_public ORDER BY slug")).scalars())
    engine.dispose()
    found: list[str] = runpy.run_path(str(ROOT / "bench" / "http_bench.py"))["search_terms"](titles, 100, 50)
    return found


@contextmanager
def serve(root: Path, url: str, log: Path) -> Iterator[str]:
    """One ``garden serve`` worker of the checkout at ``root`` on ``url``'s database, response cache off."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GARDEN_DATABASE_URL": url, "GARDEN_RESPONSE_CACHE_MB": "0", "GARDEN_PREVIEW_TOKEN": TOKEN}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"garden serve ({root}) did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def _timed(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:500]}")
    return elapsed, response


def measure(bases: dict[str, str], queries: Sequence[str], rounds: int) -> dict[str, dict[str, list[float]]]:
    """{system: {kind of request: [ms per request, in query order, round after round]}}."""
    times = {system: {kind: [] for kind in KINDS} for system in bases}
    with httpx.Client(timeout=60) as client:
        for number in range(rounds + 1):  # round 0 warms up
            for index, query in enumerate(queries):
                order = list(bases) if (index + number) % 2 == 0 else list(reversed(bases))
                for system in order:
                    path = f"{bases[system]}/search?q={query.replace(' ', '+')}"
                    first, response = _timed(client, path)
                    following = response.json()["next"]  # absolute or relative: on the same server
                    later = _timed(client, str(httpx.URL(path).join(following)))[0] if following else None
                    preview = _timed(client, path, PREVIEW)[0]
                    if number:
                        times[system]["first page"].append(first)
                        times[system]["first page, preview"].append(preview)
                        times[system]["next page"].append(later if later is not None else float("nan"))
    return times


def report(times: dict[str, dict[str, list[float]]]) -> None:
    for system, kinds in times.items():
        for kind, values in kinds.items():
            real = sorted(value for value in values if value == value)
            p90 = real[int(len(real) * 0.9)]
            print(f"  {system:<9} {kind:<20} median {statistics.median(real):6.1f} ms  p90 {p90:6.1f} ms  "
                  f"mean {statistics.fmean(real):6.1f} ms  (n={len(real)})")  # fmt: skip
    if "baseline" in times:
        for kind in KINDS:
            pairs = zip(times["this"][kind], times["baseline"][kind], strict=True)
            ratios = [new / old for new, old in pairs if new == new and old == old]
            print(f"  this ÷ baseline, {kind:<20} median {statistics.median(ratios):.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: measure there too")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with, request by request")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = corpus(args.source, args.articles)
    roots = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    for backend in ["sqlite", *(["postgresql"] if args.postgres else [])]:
        urls = {}
        for system, root in roots.items():
            urls[system] = fresh_database(backend, f"search_bench_{args.articles}_{system}", args.postgres)
            seconds = ingest(root, path, urls[system])
            print(f"{backend}, {system}: ingest of {args.articles} articles {seconds:.1f} s")
        queries = terms(urls["this"])
        print(f"{backend}: {len(queries)} queries x {args.rounds} rounds")
        with ExitStack() as stack:
            bases = {system: stack.enter_context(serve(root, urls[system], OUT / f"search-bench-{system}.log"))
                     for system, root in roots.items()}  # fmt: skip
            report(measure(bases, queries, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
