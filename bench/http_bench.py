"""HTTP load benchmark: garden-api under wrk, beside nginx (static packets) and Datasette (canned queries).

Usage::

    python bench/http_bench.py [--articles 1000] [--workers 1,2] [--rounds 3] [--duration 10]
                               [--only A,C,D] [--garden-env GARDEN_RESPONSE_CACHE_MB=0] [--datasette /work/dsvenv]

One command reproduces everything. It makes sure wrk, nginx and a Datasette (in its own venv, never the
project's) are there, generates and ingests a synthetic corpus of ``--articles`` articles (both cached under
``bench/out`` by size; ``--rebuild`` starts again), starts ``garden serve`` for each ``--workers`` count and its
peers (nginx serving the packets garden itself produced, byte for byte; Datasette serving the same SQLite file
with the canned queries of ``bench/datasette/metadata.yaml``), checks that the peers return the same data, then
runs the workloads in ``--rounds`` interleaved rounds (garden, then its peer, back to back) with
``bench/wrk/rotate.lua``:

* A ``/articles/{slug}`` (all slugs)                 vs Datasette ``article_by_slug``
* B ``/agents/articles/{slug}.json`` (all slugs)     vs nginx serving the same bytes from files
* C ``/claims?topic=T&confidence=high&limit=50``      vs Datasette ``claims_by_topic``
* D ``/articles?topic=T&sort=-updated&limit=20`` and its next page   vs Datasette ``articles_by_topic[_after]``
* E ``/search?q=W`` (words and phrases from titles)
* F ``/agents/feeds/claims.jsonl``, a few full downloads with curl: MB/s and the workers' memory
* G B's URLs with ``If-None-Match``: every answer must be 304
* H ``/healthz``: the stack's own ceiling

Every workload rotates over many URLs and is also run on its single most typical URL. Each wrk run checks
every status in Lua; a run with an unexpected status or a socket error is flagged. The Markdown report (medians
over rounds, ratios taken within a round, pass/fail of the targets, versions, machine, CPU use per run, worker
memory) is printed and written to ``bench/out/results-<N>[-<label>].md``, the raw runs to the ``.json`` beside it.
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import fcntl
import importlib.metadata
import itertools
import json
import math
import os
import platform
import re
import resource
import runpy
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WRK_SCRIPT = ROOT / "bench" / "wrk" / "rotate.lua"
DATASETTE_METADATA = ROOT / "bench" / "datasette" / "metadata.yaml"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IDENTITY = {"Accept-Encoding": "identity"}  # the bytes a client parses, and the ETag of the uncompressed body

#: Workload letter: (what it asks for, its peer or None).
WORKLOADS: dict[str, tuple[str, str | None]] = {
    "A": ("/articles/{slug}", "datasette"),
    "B": ("/agents/articles/{slug}.json", "nginx"),
    "C": ("/claims?topic=T&confidence=high&limit=50", "datasette"),
    "D": ("/articles?topic=T&sort=-updated&limit=20 + next page", "datasette"),
    "E": ("/search?q=W", None),
    "F": ("/agents/feeds/claims.jsonl (MB/s)", None),
    "G": ("B with If-None-Match (304)", None),
    "H": ("/healthz", None),
}
#: Packages whose versions the report lists (those not installed say so).
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "pydantic", "orjson", "httpx")
_STOPWORDS = (
    "about after again against also among and are because been before being between both but can cannot does "
    "doing down during each every for from have having here into its itself just like make more most much "
    "must not now off once only other our out over own same should some such than that the their them then "
    "there these they this those through too under until very was were what when where which while who whom "
    "why will with without you your"
)
TITLE_STOPWORDS = frozenset(_STOPWORDS.split())


class BenchError(Exception):
    """A step that cannot go on: a tool is missing, a server does not start, a request fails."""


# ---------------------------------------------------------------------------------------------------------------
# Processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """The direct children of ``pid`` (every thread's children file)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def _status_kb(pid: int, field_name: str) -> int:
    """A /proc/<pid>/status field (VmRSS, VmHWM) in kB, 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_ticks(pids: Sequence[int]) -> int:
    """utime + stime of ``pids`` (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5), counted after the comm
    return total


def wait_quiet(threshold: float, max_wait: float) -> tuple[float, float]:
    """Wait (at most ``max_wait`` s) until the machine, with our servers idle, is busy below ``threshold`` cores
    over half a second; (seconds waited, last load seen). The development machine is shared: tests may be running.
    """
    started = time.monotonic()
    while True:
        before = _busy_ticks()
        time.sleep(0.5)
        load = (_busy_ticks() - before) / CLK_TCK / 0.5
        waited = time.monotonic() - started
        if load <= threshold or waited >= max_wait:
            return waited, load
        time.sleep(2)


def _busy_ticks() -> int:
    """Clock ticks the whole machine spent busy (everything but idle and iowait), from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return user + nice + system + irq + softirq + steal


class Server:
    """A server started in its own process group, so that it and its children can be stopped together."""

    def __init__(
        self, name: str, command: list[str], base: str, *, env: dict[str, str] | None = None, log: Path
    ) -> None:
        self.name, self.command, self.base, self.log = name, command, base, log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        return _tree(self.pid)

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with status {self.process.returncode}: {self.tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer {url} within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-1500:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # Children that outlived the leader are still in its process group.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextmanager
def servers() -> Iterator[list[Server]]:
    """A list to put started servers in; every one is stopped on the way out, whatever happens."""
    started: list[Server] = []

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------------------------------------------
# Tools


def _run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _which(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (str(path) for path in (Path("/usr/sbin") / binary, Path("/sbin") / binary) if path.exists()), None
    )


def ensure_apt(binary: str, package: str) -> str:
    """The path of ``binary``, installing the Debian ``package`` first if it is missing (as root)."""
    found = _which(binary)
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError(f"{binary} is missing: install the `{package}` package (apt-get install -y {package})")
    print(f"installing {package} (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if _run(["apt-get", "install", "-y", package], env=env).returncode != 0:
        _run(["apt-get", "update"], env=env)
        result = _run(["apt-get", "install", "-y", package], env=env)
        if result.returncode != 0:
            raise BenchError(f"apt-get install -y {package} failed:\n{result.stderr[-1500:]}")
    found = _which(binary)
    if not found:
        raise BenchError(f"{package} is installed but {binary} is not on PATH")
    return found


def ensure_datasette(option: Path | None) -> Path:
    """The datasette executable: ``--datasette`` (a venv or the executable), else bench/out/datasette-venv,
    created with ``python3 -m venv`` and ``pip install datasette`` when missing. Never the project's venv."""
    if option is not None:
        executable = option / "bin" / "datasette" if option.is_dir() else option
        if not executable.exists():
            raise BenchError(f"--datasette {option}: no datasette executable there")
        return executable
    venv = OUT / "datasette-venv"
    executable = venv / "bin" / "datasette"
    if executable.exists():
        return executable
    python3 = shutil.which("python3") or sys.executable
    print(f"creating {venv} and installing datasette (pip) ...", flush=True)
    for command in (
        [python3, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", "datasette"],
    ):
        result = _run(command)
        if result.returncode != 0:
            raise BenchError(f"{' '.join(command)} failed:\n{result.stdout[-800:]}{result.stderr[-1500:]}")
    return executable


# ---------------------------------------------------------------------------------------------------------------
# Corpus and database


def build_database(source: Path, articles: int, rebuild: bool) -> tuple[Path, str]:
    """Generate (once) the synthetic corpus and ingest it into bench/out/http-<N>.db; (db path, a summary line).

    The ingest runs every time: an unchanged corpus is only fingerprinted (about a second at 1,000 articles), and
    a changed app re-derives what it must, so the database always matches the code under test.
    """
    corpus = OUT / f"corpus-{articles}"
    marker = corpus / ".http-bench-complete"
    db = OUT / f"http-{articles}.db"
    if rebuild:
        marker.unlink(missing_ok=True)
        for leftover in OUT.glob(f"http-{articles}.db*"):
            leftover.unlink()
    notes = []
    if not marker.exists():
        generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
        summary = generate(source, corpus, articles, force=True)
        marker.write_text(json.dumps(summary) + "\n")
        notes.append(f"generated {articles} articles in {summary['seconds']:.1f} s")
    env = {**os.environ, "GARDEN_DATABASE_URL": f"sqlite:///{db}"}
    started = time.perf_counter()
    result = _run([sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)], cwd=ROOT, env=env)
    if result.returncode != 0:
        raise BenchError(f"garden ingest {corpus} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
    report = json.loads(result.stdout)
    counts = report["articles"]
    notes.append(
        f"ingest {time.perf_counter() - started:.1f} s (added {counts['added']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}); {report['counts']['public_articles']} public articles, "
        f"{report['counts']['public_claims']} public claims; database {db.stat().st_size / 1e6:.0f} MB"
    )
    return db, "; ".join(notes)


# ---------------------------------------------------------------------------------------------------------------
# Servers


def start_garden(db: Path, workers: int, extra_env: dict[str, str], retry_wait: float, notes: list[str]) -> Server:
    """``garden serve`` on a free port with ``workers`` workers, waited for on /healthz.

    Its stdout (uvicorn's access log) goes to /dev/null, its stderr to bench/out/garden-<W>.log. If it does not
    start (another engineer's work in app/ may be mid-edit), wait ``retry_wait`` seconds and try once more.
    """
    env = {**os.environ, "GARDEN_DATABASE_URL": f"sqlite:///{db}", **extra_env}
    for attempt in (1, 2):
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        server = Server(
            f"garden ({workers} workers)",
            command,
            f"http://127.0.0.1:{port}",
            env=env,
            log=OUT / f"garden-{workers}.log",
        )
        try:
            server.wait_ready(f"{server.base}/healthz")
            return server
        except BenchError as error:
            server.stop()
            if attempt == 2:
                raise
            notes.append(
                f"garden serve --workers {workers} failed to start; retried after {retry_wait:.0f} s: "
                f"{str(error)[:300]}"
            )
            print(f"garden did not start ({error}); retrying in {retry_wait:.0f} s", flush=True)
            time.sleep(retry_wait)
    raise AssertionError("unreachable")


def garden_log_summary(log: Path) -> str:
    """How many lines besides uvicorn's INFO lines the server wrote to stderr, and the first few kinds."""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    others = [line for line in lines if not line.startswith("INFO:")]
    if not others:
        return ""
    kinds: dict[str, int] = {}
    for line in others:
        kind = re.sub(r"/[^ :]+|\d+(\.\d+)?", "…", line)[:160]  # paths and numbers vary between occurrences
        kinds[kind] = kinds.get(kind, 0) + 1
    top = sorted(kinds.items(), key=lambda item: -item[1])[:3]
    return f"{len(others)} non-INFO lines on stderr ({log.name}), e.g. " + "; ".join(f"{n}× `{k}`" for k, n in top)


def garden_workers(server: Server) -> list[int]:
    """The uvicorn worker processes: the spawned children with several workers, the server itself with one."""
    children = [pid for pid in _children(server.pid) if "multiprocessing-fork" in _cmdline(pid)]
    return children or [server.pid]


def start_nginx(nginx: str, static: Path) -> Server:
    """nginx serving ``static`` on a free port: 2 worker processes, sendfile, no access log, in the foreground."""
    home = OUT / "nginx"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (home / "tmp" / name).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    conf = home / "nginx.conf"
    conf.write_text(
        f"""# Generated by bench/http_bench.py
worker_processes 2;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=100000 inactive=60s;
    open_file_cache_valid 60s;
    types {{ application/json json; }}
    default_type application/octet-stream;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {static};
        location / {{ try_files $uri =404; }}
    }}
}}
"""
    )
    command = [nginx, "-p", str(home), "-c", str(conf), "-e", str(home / "error.log")]
    check = _run([*command, "-t"])
    if check.returncode != 0:
        raise BenchError(f"nginx -t failed:\n{check.stderr[-1500:]}")
    return Server("nginx", command, f"http://127.0.0.1:{port}", log=home / "stderr.log")


def datasette_version(datasette: Path) -> str:
    result = _run([str(datasette), "--version"])
    return result.stdout.strip().rpartition(" ")[2] or "unknown"


def start_datasette(datasette: Path, db: Path) -> Server:
    """Datasette (one process, as it runs) on the same SQLite file, immutable, with the canned queries."""
    link = OUT / "datasette" / "garden.db"  # the database is named after the file: `garden`, as the metadata says
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(db)
    port = _free_port()
    config_flag = "-c" if datasette_version(datasette).startswith("1") else "-m"  # 1.x moved queries to config
    command = [
        str(datasette),
        "serve",
        "-i",
        str(link),
        config_flag,
        str(DATASETTE_METADATA),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "10000",
    ]
    return Server("datasette", command, f"http://127.0.0.1:{port}", log=OUT / "datasette" / "stderr.log")


# ---------------------------------------------------------------------------------------------------------------
# URL lists and equivalence checks


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _get(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return response


def _all_items(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = _get(client, next_url).json()
        items += body["items"]
        next_url = body.get("next")
    return items


def search_terms(titles: Sequence[str], words: int, phrases: int) -> list[str]:
    """Words (4+ letters, no stopwords) and two-word phrases taken from ``titles``, spread over the sorted lists."""
    found_words: set[str] = set()
    found_phrases: set[str] = set()
    for title in titles:
        tokens = re.findall(r"[a-z][a-z'-]+", title.lower())
        kept = [token for token in tokens if len(token) >= 4 and token not in TITLE_STOPWORDS]
        found_words.update(kept)
        found_phrases.update(f"{a} {b}" for a, b in itertools.pairwise(tokens) if a in kept and b in kept)

    def spread(values: set[str], count: int) -> list[str]:
        ordered = sorted(values)
        if len(ordered) <= count:
            return ordered
        return [ordered[i * len(ordered) // count] for i in range(count)]

    return spread(found_words, words) + spread(found_phrases, phrases)


@dataclass
class Plan:
    """What each workload asks for: request lines (path, optionally a tab and an ETag) per (workload, server)."""

    lines: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    single: dict[tuple[str, str], str] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    # kept for the peers' URL lists and the checks
    slugs: list[str] = field(default_factory=list)
    topics_c: dict[str, list[str]] = field(default_factory=dict)  # topic: claim ids of garden's page
    topics_d: dict[str, tuple[list[str], list[str] | None, int]] = field(default_factory=dict)  # p1, p2, total
    etags: dict[str, str] = field(default_factory=dict)


def prepare_garden(base: str, static: Path, only: set[str], search_words: int, search_phrases: int) -> Plan:
    """Collect every URL from the running garden server; export the packets (B) as files for nginx."""
    plan = Plan()
    with httpx.Client(base_url=base, headers=IDENTITY, timeout=120) as client:
        listed = _all_items(client, "/articles?sort=published&limit=500&fields=slug,title")
        plan.slugs = [item["slug"] for item in listed]
        topics = [item["topic"] for item in _get(client, "/topics").json()["items"]]
        typical = plan.slugs[len(plan.slugs) // 2]
        plan.facts.append(f"{len(plan.slugs)} public articles, {len(topics)} topics")

        plan.lines["A", "garden"] = [f"/articles/{slug}" for slug in plan.slugs]
        plan.single["A", "garden"] = f"/articles/{typical}"

        if {"B", "G"} & only:
            # The packets, fetched once so that nginx serves exactly garden's bytes; their ETags feed G.
            articles_dir = static / "agents" / "articles"
            if articles_dir.exists():
                shutil.rmtree(articles_dir)
            articles_dir.mkdir(parents=True)

            def export(slug: str) -> tuple[str, str, int]:
                response = _get(client, f"/agents/articles/{slug}.json")
                (articles_dir / f"{slug}.json").write_bytes(response.content)
                return slug, response.headers["etag"], len(response.content)

            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                exported = list(pool.map(export, plan.slugs))
            plan.etags = {slug: etag for slug, etag, _size in exported}
            sizes = [size for _slug, _etag, size in exported]
            plan.facts.append(
                f"B: {len(sizes)} packets exported to {static.relative_to(ROOT)} "
                f"({sum(sizes) / 1e6:.1f} MB, median {statistics.median(sizes) / 1e3:.1f} kB)"
            )
            plan.lines["B", "garden"] = [f"/agents/articles/{slug}.json" for slug in plan.slugs]
            plan.single["B", "garden"] = f"/agents/articles/{typical}.json"
            plan.lines["G", "garden"] = [f"/agents/articles/{slug}.json\t{plan.etags[slug]}" for slug in plan.slugs]
            plan.single["G", "garden"] = f"/agents/articles/{typical}.json\t{plan.etags[typical]}"

        if "C" in only:
            for topic in topics:
                body = _get(client, f"/claims?topic={quote(topic)}&confidence=high&limit=50").json()
                if body["items"]:
                    plan.topics_c[topic] = [item["claimId"] for item in body["items"]]
            plan.lines["C", "garden"] = [f"/claims?topic={quote(t)}&confidence=high&limit=50" for t in plan.topics_c]
            largest = max(plan.topics_c, key=lambda t: len(plan.topics_c[t]))
            plan.single["C", "garden"] = f"/claims?topic={quote(largest)}&confidence=high&limit=50"
            plan.facts.append(f"C: {len(plan.topics_c)} topics with high-confidence claims (of {len(topics)})")

        if "D" in only:
            lines = []
            for topic in topics:
                first = f"/articles?topic={quote(topic)}&sort=-updated&limit=20"
                body = _get(client, first).json()
                page_two = None
                lines.append(first)
                if body.get("next"):
                    second = _path_of(body["next"])
                    lines.append(second)
                    page_two = [item["slug"] for item in _get(client, second).json()["items"]]
                plan.topics_d[topic] = ([item["slug"] for item in body["items"]], page_two, body["total"])
            plan.lines["D", "garden"] = lines
            largest = max(plan.topics_d, key=lambda t: plan.topics_d[t][2])
            plan.single["D", "garden"] = f"/articles?topic={quote(largest)}&sort=-updated&limit=20"
            seconds = sum(1 for _p1, p2, _total in plan.topics_d.values() if p2 is not None)
            plan.facts.append(f"D: {len(topics)} first pages and {seconds} next pages")

        if "E" in only:
            titles = sorted({item["title"] for item in listed})
            terms = search_terms(titles, search_words, search_phrases)
            kept = [term for term in terms if client.get("/search", params={"q": term}).status_code == 200]
            plan.lines["E", "garden"] = ["/search?" + urlencode({"q": term}) for term in kept]
            plan.single["E", "garden"] = "/search?" + urlencode({"q": "attention" if "attention" in kept else kept[0]})
            plan.facts.append(f"E: {len(kept)} search terms from {len(titles)} distinct titles")

        plan.lines["H", "garden"] = ["/healthz"]
        plan.single["H", "garden"] = "/healthz"
    plan.expected = {letter: 304 if letter == "G" else 200 for letter in WORKLOADS}
    return plan


def prepare_peers(plan: Plan, nginx_base: str | None, datasette_base: str | None, static: Path, sample: int) -> None:
    """The peers' URL lists, and checks that each peer returns the same data as garden."""
    if nginx_base and ("B", "garden") in plan.lines:
        plan.lines["B", "nginx"] = plan.lines["B", "garden"]
        plan.single["B", "nginx"] = plan.single["B", "garden"]
        same = 0
        checked = plan.slugs[:: max(1, len(plan.slugs) // sample)]
        with httpx.Client(base_url=nginx_base, headers=IDENTITY, timeout=60) as client:
            for slug in checked:
                response = _get(client, f"/agents/articles/{slug}.json")
                stored = (static / "agents" / "articles" / f"{slug}.json").read_bytes()
                same += response.content == stored and response.headers["content-type"] == "application/json"
        plan.checks.append(
            f"B: nginx returned garden's exact bytes (application/json) for {same}/{len(checked)} sampled packets"
        )
    if not datasette_base:
        return
    db = "/garden"
    with httpx.Client(base_url=datasette_base, timeout=120) as client:

        def rows(path: str, **params: Any) -> list[dict[str, Any]]:
            query = urlencode({**params, "_shape": "objects"})
            result: list[dict[str, Any]] = _get(client, f"{db}/{path}.json?{query}").json()["rows"]
            return result

        if ("A", "garden") in plan.lines:
            plan.lines["A", "datasette"] = [
                f"{db}/article_by_slug.json?" + urlencode({"slug": s, "_shape": "objects"}) for s in plan.slugs
            ]
            typical = plan.single["A", "garden"].rpartition("/")[2]
            plan.single["A", "datasette"] = f"{db}/article_by_slug.json?" + urlencode(
                {"slug": typical, "_shape": "objects"}
            )
            checked = plan.slugs[:: max(1, len(plan.slugs) // sample)]
            same = sum([row["slug"] for row in rows("article_by_slug", slug=slug)] == [slug] for slug in checked)
            plan.checks.append(f"A: Datasette found the same article for {same}/{len(checked)} sampled slugs")
        if plan.topics_c:
            lines, same = [], 0
            for topic, claim_ids in plan.topics_c.items():
                lines.append(
                    f"{db}/claims_by_topic.json?"
                    + urlencode({"topic": topic, "confidence": "high", "_shape": "objects"})
                )
                same += [
                    row["claim_id"] for row in rows("claims_by_topic", topic=topic, confidence="high")
                ] == claim_ids
            plan.lines["C", "datasette"] = lines
            largest = max(plan.topics_c, key=lambda t: len(plan.topics_c[t]))
            plan.single["C", "datasette"] = f"{db}/claims_by_topic.json?" + urlencode(
                {"topic": largest, "confidence": "high", "_shape": "objects"}
            )
            plan.checks.append(
                f"C: Datasette returned the same claims in the same order for {same}/{len(lines)} topics"
            )
        if plan.topics_d:
            lines, same_first, same_next, nexts = [], 0, 0, 0
            for topic, (page_one, page_two, total) in plan.topics_d.items():
                lines.append(f"{db}/articles_by_topic.json?" + urlencode({"topic": topic, "_shape": "objects"}))
                first = rows("articles_by_topic", topic=topic)
                same_first += [row["slug"] for row in first] == page_one and first[0]["total"] == total
                if page_two is not None:
                    nexts += 1
                    after = {"topic": topic, "updated_at": first[-1]["updated_at"], "slug": first[-1]["slug"]}
                    lines.append(f"{db}/articles_by_topic_after.json?" + urlencode({**after, "_shape": "objects"}))
                    same_next += [row["slug"] for row in rows("articles_by_topic_after", **after)] == page_two
            plan.lines["D", "datasette"] = lines
            largest = max(plan.topics_d, key=lambda t: plan.topics_d[t][2])
            plan.single["D", "datasette"] = f"{db}/articles_by_topic.json?" + urlencode(
                {"topic": largest, "_shape": "objects"}
            )
            plan.checks.append(
                f"D: Datasette returned the same articles in the same order (and total) for "
                f"{same_first}/{len(plan.topics_d)} first pages and {same_next}/{nexts} next pages"
            )


# ---------------------------------------------------------------------------------------------------------------
# Running wrk


@dataclass
class Run:
    """One measured wrk run."""

    workers: int
    round: int
    workload: str
    server: str
    variant: str  # "many" (rotating) or "one" (single URL)
    urls: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    kb_per_response: float
    errors: int
    error_detail: str
    cpu_server: float  # cores
    cpu_wrk: float
    cpu_other: float
    worker_cpu_share: list[float] = field(default_factory=list)
    # garden used almost no CPU while wrk waited: the server was stuck, not busy (see the README)
    stalled: bool = False


def run_wrk(
    wrk: str,
    base: str,
    lines: list[str],
    expected: int,
    seconds: int,
    args: argparse.Namespace,
    server_pids: list[int],
    worker_pids: list[int],
) -> dict[str, Any]:
    """One wrk run over ``lines``; the Lua summary plus CPU use (cores) of the server, wrk and everything else."""
    urls_file = OUT / "wrk-urls.txt"
    urls_file.write_text("\n".join(lines) + "\n")
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        base,
        "--",
        str(urls_file),
        str(expected),
    ]
    busy0, server0 = _busy_ticks(), _cpu_ticks(server_pids)
    workers0 = [_cpu_ticks([pid]) for pid in worker_pids]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = _run(command, timeout=seconds + 120)
    wall = time.monotonic() - started
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, server1 = _busy_ticks(), _cpu_ticks(server_pids)
    workers1 = [_cpu_ticks([pid]) for pid in worker_pids]
    line = next((row for row in result.stdout.splitlines() if row.startswith("WRK_RESULT ")), None)
    if line is None:
        raise BenchError(f"wrk gave no result (status {result.returncode}):\n{result.stdout[-800:]}{result.stderr}")
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    wrk_seconds = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    server_seconds = (server1 - server0) / CLK_TCK
    busy_seconds = (busy1 - busy0) / CLK_TCK
    summary["cpu_server"] = server_seconds / wall
    summary["cpu_wrk"] = wrk_seconds / wall
    summary["cpu_other"] = max(0.0, busy_seconds - server_seconds - wrk_seconds) / wall
    spent = [after - before for before, after in zip(workers0, workers1, strict=True)]
    summary["worker_cpu_share"] = [round(s / sum(spent), 3) if sum(spent) else 0.0 for s in spent]
    return summary


def measure(
    wrk: str,
    server: Server,
    name: str,
    workers: int,
    round_number: int,
    letter: str,
    variant: str,
    lines: list[str],
    plan: Plan,
    args: argparse.Namespace,
    worker_pids: list[int],
) -> Run:
    seconds = args.duration if variant == "many" else args.single_duration
    result = run_wrk(wrk, server.base, lines, plan.expected[letter], seconds, args, server.pids(), worker_pids)
    shares = result["worker_cpu_share"] if name == "garden" else []
    # The server as a whole idle, or one of several workers doing (almost) none of the work: stuck, not busy.
    stalled = name == "garden" and (
        result["cpu_server"] < args.stall_cores or (len(shares) > 1 and sum(shares) > 0 and min(shares) < 0.05)
    )
    socket_errors = {k: result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts") if result[k]}
    errors = sum(socket_errors.values()) + result["unexpected"]
    detail = ", ".join(
        [f"{k} {v}" for k, v in socket_errors.items()]
        + (
            [f"{result['unexpected']} unexpected status ({result['unexpected_statuses']})"]
            if result["unexpected"]
            else []
        )
    )
    run = Run(
        workers=workers,
        round=round_number,
        workload=letter,
        server=name,
        variant=variant,
        urls=len(lines),
        seconds=result["seconds"],
        requests=result["requests"],
        rps=result["rps"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        kb_per_response=result["bytes"] / max(1, result["requests"]) / 1e3,
        errors=errors,
        error_detail=detail,
        cpu_server=result["cpu_server"],
        cpu_wrk=result["cpu_wrk"],
        cpu_other=result["cpu_other"],
        worker_cpu_share=shares,
        stalled=stalled,
    )
    flag = (f"  ERRORS: {detail}" if errors else "") + (
        f"  STALLED: garden used {run.cpu_server:.2f} cores, worker shares {shares}" if stalled else ""
    )
    print(
        f"  W={workers} r{round_number} {letter} {name:9} {variant:4} {run.rps:9.0f} req/s  p50 {run.p50_ms:7.2f} ms"
        f"  p99 {run.p99_ms:7.2f} ms  cpu srv/wrk/other {run.cpu_server:.2f}/{run.cpu_wrk:.2f}/"
        f"{run.cpu_other:.2f}{flag}",
        flush=True,
    )
    return run


def feed_downloads(base: str, worker_pids: list[int], downloads: int) -> dict[str, Any]:
    """F: ``downloads`` sequential full downloads of the claims feed, uncompressed; MB/s and worker memory."""
    before = {pid: _status_kb(pid, "VmRSS") for pid in worker_pids}
    peak = dict(before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in worker_pids:
                peak[pid] = max(peak[pid], _status_kb(pid, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rounds = []
    try:
        for _ in range(downloads):
            # curl, not a Python client: at these rates the client's own parsing would be what is measured.
            result = subprocess.run(
                ["curl", "-s", "-o", str(OUT / "feed.jsonl"), "-H", "Accept-Encoding: identity",
                 "-w", "%{http_code} %{size_download} %{time_total}", f"{base}/agents/feeds/claims.jsonl"],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            code, size_text, seconds_text = [*result.stdout.split(), "0", "0", "1"][:3]
            status, size, seconds = int(code), int(size_text), float(seconds_text)
            with (OUT / "feed.jsonl").open("rb") as feed:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: feed.read(1 << 20), b""))
            rounds.append(
                {"status": status, "rows": rows, "mb": size / 1e6, "seconds": seconds, "mb_s": size / 1e6 / seconds}
            )
    finally:
        stop.set()
        sampler.join()
    return {
        "downloads": rounds,
        "mb_s": statistics.median(r["mb_s"] for r in rounds),
        "errors": sum(r["status"] != 200 for r in rounds),
        "rss_before_mb": {str(pid): kb / 1024 for pid, kb in before.items()},
        "rss_peak_mb": {str(pid): kb / 1024 for pid, kb in peak.items()},
    }


# ---------------------------------------------------------------------------------------------------------------
# Report


def _versions(datasette: Path, nginx: str, wrk: str) -> list[tuple[str, str]]:
    found = [("python", platform.python_version())]
    for package in PACKAGES:
        try:
            found.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    found.append(("sqlite (project)", sqlite3.sqlite_version))
    found.append(("nginx", _run([nginx, "-v"]).stderr.strip().rpartition("/")[2]))
    found.append(("wrk", (_run([wrk, "-v"]).stdout.splitlines() or ["?"])[0].split(" [")[0].removeprefix("wrk ")))
    found.append(("datasette", datasette_version(datasette)))
    ds_python = datasette.parent / "python"
    if ds_python.exists():
        sqlite_ds = _run([str(ds_python), "-c", "import sqlite3; print(sqlite3.sqlite_version)"]).stdout.strip()
        found.append(("sqlite (datasette venv)", sqlite_ds))
    return found


def _machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
    )
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("CPU", model),
        ("RAM", f"{mem_kb / 1024 / 1024:.1f} GiB"),
        ("kernel", platform.release()),
    ]


def _git() -> str:
    head = _run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
    dirty = [line for line in _run(["git", "status", "--porcelain", "app", "migrations"], cwd=ROOT).stdout.splitlines()]
    return f"{head}" + (
        f", with {len(dirty)} uncommitted change(s) in app/ or migrations/" if dirty else ", clean app/"
    )


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt(value: float, digits: int = 0) -> str:
    return "—" if value != value else f"{value:,.{digits}f}"  # NaN check


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")


def summarise(runs: list[Run], workers: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Medians over rounds for each (workload, server, variant) at ``workers``."""
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        if run.workers == workers:
            groups.setdefault((run.workload, run.server, run.variant), []).append(run)
    return {
        key: {
            "rps": _median([r.rps for r in group]),
            "rps_min": min(r.rps for r in group),
            "rps_max": max(r.rps for r in group),
            "p50": _median([r.p50_ms for r in group]),
            "p99": _median([r.p99_ms for r in group]),
            "kb": _median([r.kb_per_response for r in group]),
            "errors": sum(r.errors for r in group),
            "error_detail": "; ".join(sorted({r.error_detail for r in group if r.error_detail})),
            "stalled": sum(r.stalled for r in group),
            "cpu": (
                _median([r.cpu_server for r in group]),
                _median([r.cpu_wrk for r in group]),
                _median([r.cpu_other for r in group]),
            ),
            "urls": group[0].urls,
            "rounds": len(group),
        }
        for key, group in groups.items()
    }


def ratio(runs: list[Run], workers: int, top: tuple[str, str, str], bottom: tuple[str, str, str]) -> float:
    """The median over rounds of req/s(top) ÷ req/s(bottom), each ratio taken within one round."""
    by_key = {(r.round, r.workload, r.server, r.variant): r.rps for r in runs if r.workers == workers}
    values = [
        by_key[(n, *top)] / by_key[(n, *bottom)]
        for n in sorted({r.round for r in runs})
        if (n, *top) in by_key and (n, *bottom) in by_key and by_key[(n, *bottom)] > 0
    ]
    return _median(values)


def render(
    context: dict[str, Any],
    runs: list[Run],
    feeds: dict[int, dict[str, Any]],
    memory: dict[int, dict[str, Any]],
    args: argparse.Namespace,
) -> str:
    """The Markdown report."""
    out: list[str] = [f"# garden-api HTTP benchmark: {args.articles:,} articles", ""]
    out.append(f"{context['started']} · {context['elapsed']:.0f} s · commit {context['git']}")
    out.append("")
    out.append(f"Command: `{context['command']}`")
    out.append("")
    total_errors = sum(run.errors for run in runs) + sum(feed["errors"] for feed in feeds.values())
    if total_errors:
        bad = sorted({f"{r.workload}/{r.server}/{r.variant} at {r.workers}w" for r in runs if r.errors})
        out.append(
            f"> **WARNING: {total_errors} errors** (unexpected statuses or socket errors) in: {', '.join(bad)}. "
            "Those rows are marked ⚠; their numbers are not comparable."
        )
        out.append("")
    stalled = sorted({f"{r.workload}/{r.variant} at {r.workers}w" for r in runs if r.stalled})
    if stalled:
        out.append(
            f"> **WARNING: garden stalled in {sum(r.stalled for r in runs)} runs** ({', '.join(stalled)}): it used "
            f"less than {args.stall_cores} core while wrk waited on it, so it was stuck, not busy. Those rows are "
            "marked ⏸; their numbers measure the stall, not the code path."
        )
        out.append("")
    noisy = [r for r in runs if r.cpu_other > args.noise_cores]
    if noisy:
        out.append(
            f"> **Note: {len(noisy)} of {len(runs)} runs shared the machine**: processes other than wrk and "
            f"the server under test used more than {args.noise_cores} core during them (worst "
            f"{max(r.cpu_other for r in noisy):.2f} cores). Medians over rounds damp this; the per-run "
            "numbers are in the JSON file."
        )
        out.append("")
    out.append("Machine: " + " · ".join(f"{k} {v}" for k, v in context["machine"]))
    out.append("")
    out.append("Versions: " + " · ".join(f"{k} {v}" for k, v in context["versions"]))
    out.append("")
    out.append(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per rotating run, "
        f"{args.single_duration} s per single-URL run, a warm-up of at least {args.warmup} s before each run; "
        f"{args.rounds} rounds, medians shown. Extra garden env: "
        f"{' '.join(args.garden_env) if args.garden_env else 'none'}."
    )
    out.append("")
    for line in context["notes"]:
        out.append(f"* {line}")
    out.append("")
    for workers in args.worker_counts:
        table = summarise(runs, workers)
        if not table and workers not in feeds:
            continue
        out.append(f"## {workers} worker{'s' if workers > 1 else ''}")
        out.append("")
        out.append(
            "| workload | URLs | server | req/s (median) | min–max | p50 ms | p99 ms | kB/resp | errors "
            "| CPU cores srv/wrk/other | garden ÷ peer |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for letter in WORKLOADS:
            peer = WORKLOADS[letter][1]
            for variant in ("many", "one"):
                for server in ("garden", peer):
                    row = table.get((letter, server or "", variant))
                    if row is None:
                        continue
                    versus = ""
                    if server == "garden" and peer and (letter, peer, variant) in table:
                        versus = f"{ratio(runs, workers, (letter, 'garden', variant), (letter, peer, variant)):.2f}×"
                    label = f"{letter} {WORKLOADS[letter][0]}" if server == "garden" else ""
                    flag = (" ⚠" if row["errors"] else "") + (" ⏸" if row["stalled"] else "")
                    cpu = "/".join(f"{value:.2f}" for value in row["cpu"])
                    errors = f"{row['errors']}{flag}" + (f" ({row['error_detail']})" if row["errors"] else "")
                    if row["stalled"]:
                        errors += f" (stalled in {row['stalled']}/{row['rounds']} rounds)"
                    out.append(
                        f"| {label} | {row['urls'] if variant == 'many' else 1} | {server} | {_fmt(row['rps'])} | "
                        f"{_fmt(row['rps_min'])}–{_fmt(row['rps_max'])} | {_fmt(row['p50'], 2)} | "
                        f"{_fmt(row['p99'], 2)} | {row['kb']:.1f} | {errors} | {cpu} | {versus} |"
                    )
        feed = feeds.get(workers)
        if feed is not None:
            per = ", ".join(f"{d['mb_s']:.1f}" for d in feed["downloads"])
            first = feed["downloads"][0]
            out.append(
                f"| F /agents/feeds/claims.jsonl | 1 | garden | **{feed['mb_s']:.1f} MB/s** (median) | {per} "
                f"| | | {first['mb'] * 1e3:,.0f} ({first['rows']:,} rows) | {feed['errors']} | | |"
            )
        out.append("")
        out.append("| criterion | measured | target | result |")
        out.append("|---|---|---|---|")
        h_many = ("H", "garden", "many")

        def flagged(*keys: tuple[str, str, str], table: dict[Any, dict[str, Any]] = table) -> str:
            rows = [table[key] for key in keys if key in table]
            return " (flagged runs ⚠/⏸)" if any(row["errors"] or row["stalled"] for row in rows) else ""

        for letter in ("B", "G"):
            value = ratio(runs, workers, (letter, "garden", "many"), h_many)
            ok = None if value != value else value >= 0.8
            note = flagged((letter, "garden", "many"), h_many)
            out.append(f"| {letter} ÷ H (garden, rotating) | {_fmt(value, 2)} | ≥ 0.80 | {_verdict(ok)}{note} |")
        value = ratio(runs, workers, ("B", "garden", "many"), ("B", "nginx", "many"))
        out.append(f"| B garden ÷ nginx (rotating) | {_fmt(value, 2)} | (reported) | |")
        for letter in ("A", "C", "D"):
            value = ratio(runs, workers, (letter, "garden", "many"), (letter, "datasette", "many"))
            p99 = table.get((letter, "garden", "many"), {}).get("p99", float("nan"))
            judged = None
            if workers == 2 and value == value and p99 == p99:
                judged = value >= 6 and p99 <= 50
            target = "≥ 6× and p99 ≤ 50 ms" + ("" if workers == 2 else " (judged at 2 workers)")
            note = flagged((letter, "garden", "many"), (letter, "datasette", "many"))
            out.append(
                f"| {letter} ÷ Datasette (rotating), garden p99 | {_fmt(value, 2)}×, {_fmt(p99, 1)} ms | "
                f"{target} | {_verdict(judged)}{note} |"
            )
        if feed is not None:
            out.append(f"| F feed throughput | {feed['mb_s']:.1f} MB/s | ≥ 50 MB/s | {_verdict(feed['mb_s'] >= 50)} |")
        out.append("")
        shares = [
            max(r.worker_cpu_share)
            for r in runs
            if r.workers == workers and r.server == "garden" and len(r.worker_cpu_share) > 1
        ]
        mem = memory.get(workers)
        if mem:
            rss = ", ".join(f"{v:.0f}" for v in mem["after_load_mb"])
            line = (
                f"Garden memory: supervisor {mem['supervisor_mb']:.0f} MB; workers {rss} MB (VmRSS after the wrk runs)"
            )
            if feed is not None:
                before = ", ".join(f"{v:.0f}" for v in feed["rss_before_mb"].values())
                peak = ", ".join(f"{v:.0f}" for v in feed["rss_peak_mb"].values())
                line += f"; during F {before} → peak {peak} MB"
            out.append(line + ".")
        if shares:
            out.append(
                f"Load balance: the busier worker did {statistics.median(shares):.0%} of the garden workers' "
                f"CPU work in the median run (worst {max(shares):.0%})."
            )
        out.append("")
    if context.get("scaling"):
        out.extend(context["scaling"])
    out.append("Equivalence checks (made before the runs):")
    out.append("")
    out.extend(f"* {line}" for line in context["checks"] or ["(none: no peer ran)"])
    out.append("")
    out.append(
        "Columns: *URLs* is how many distinct requests a run rotates over (1: the single-URL case); *CPU "
        "cores* are the average cores used during the run by the server under test, by wrk, and by "
        "everything else on the machine; *garden ÷ peer* is the median of per-round ratios."
    )
    return "\n".join(out) + "\n"


def scaling_section(articles: int, label: str, runs: list[Run]) -> list[str]:
    """C and D at this size beside the 1,000-article results of the same label, if those exist."""
    base_file = OUT / f"results-1000{label}.json"
    if articles == 1000 or not base_file.exists():
        return []
    base_runs = [Run(**row) for row in json.loads(base_file.read_text())["runs"]]
    out = [
        f"## Scaling: {articles:,} vs 1,000 articles (garden, rotating; 1,000 from {base_file.name})",
        "",
        "| workers | workload | req/s 1k | req/s now | ratio | p99 ms 1k | p99 ms now |",
        "|---|---|---|---|---|---|---|",
    ]
    for workers in sorted({r.workers for r in runs}):
        now, then = summarise(runs, workers), summarise(base_runs, workers)
        for letter in ("A", "C", "D", "E"):
            key = (letter, "garden", "many")
            if key in now and key in then:
                out.append(
                    f"| {workers} | {letter} | {_fmt(then[key]['rps'])} | {_fmt(now[key]['rps'])} | "
                    f"{now[key]['rps'] / then[key]['rps']:.2f} | {_fmt(then[key]['p99'], 1)} | "
                    f"{_fmt(now[key]['p99'], 1)} |"
                )
    out.append("")
    return out


# ---------------------------------------------------------------------------------------------------------------
# Main


def _parse_env(values: Sequence[str]) -> dict[str, str]:
    env = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise BenchError(f"--garden-env {value!r}: expected NAME=VALUE")
        env[name] = setting
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000, help="synthetic corpus size (1000, 10000, 50000)")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "corpus", help="the real corpus")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the corpus and re-create the database")
    parser.add_argument("--workers", default="1,2", help="garden worker counts, comma list (default 1,2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--duration", type=int, default=10, help="seconds per rotating wrk run")
    parser.add_argument("--single-duration", type=int, default=5, help="seconds per single-URL wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="least warm-up seconds per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--only", default="ABCDEFGH", help="workloads to run, e.g. A,C,D (default all)")
    parser.add_argument(
        "--garden-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for garden serve (repeatable)",
    )
    parser.add_argument("--label", help="suffix of the report's file name (default: from --garden-env)")
    parser.add_argument(
        "--datasette",
        type=Path,
        help="a venv holding datasette, or the executable; default: bench/out/datasette-venv, created if missing",
    )
    parser.add_argument(
        "--peers-for-all-workers",
        action="store_true",
        help="run the peers in every worker count's table, not only the largest",
    )
    parser.add_argument("--feed-downloads", type=int, default=5, help="sequential downloads of the feed (F)")
    parser.add_argument("--search-words", type=int, default=100, help="words from titles for E")
    parser.add_argument("--search-phrases", type=int, default=50, help="two-word phrases from titles for E")
    parser.add_argument("--check-sample", type=int, default=200, help="slugs sampled by the A and B equivalence checks")
    parser.add_argument(
        "--retry-wait", type=float, default=60, help="seconds before retrying a garden that fails to start"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=15,
        help="before each workload, wait up to this many seconds for other processes to calm down (0: never)",
    )
    parser.add_argument(
        "--quiet-budget", type=float, default=120, help="stop waiting for quiet once this many seconds were spent"
    )
    parser.add_argument(
        "--stall-cores", type=float, default=0.2, help="flag garden runs in which it used less CPU than this"
    )
    parser.add_argument(
        "--noise-cores", type=float, default=0.25, help="flag runs where others used more CPU than this"
    )
    args = parser.parse_args(argv)
    try:
        return bench(args)
    except BenchError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


def bench(args: argparse.Namespace) -> int:
    started_at = time.monotonic()
    only = {letter for letter in args.only.upper() if letter.isalpha()}
    if not only or only - set(WORKLOADS):
        raise BenchError(f"--only {args.only!r}: choose among {', '.join(WORKLOADS)}")
    args.worker_counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if not args.worker_counts or min(args.worker_counts) < 1:
        raise BenchError(f"--workers {args.workers!r}: expected a comma list of positive integers")
    extra_env = _parse_env(args.garden_env)
    label = (
        args.label
        if args.label is not None
        else "".join(
            "-" + re.sub(r"[^a-z0-9]+", "-", f"{k.removeprefix('GARDEN_')}-{v}".lower()).strip("-")
            for k, v in extra_env.items()
        )
    )
    if label and not label.startswith("-"):
        label = "-" + label
    OUT.mkdir(parents=True, exist_ok=True)
    # Runs share bench/out (URL lists, static files, nginx and Datasette dirs): one at a time.
    lock = open(OUT / ".http_bench.lock", "w")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BenchError("another http_bench.py run is using bench/out; wait for it to finish") from None

    wrk = ensure_apt("wrk", "wrk")
    need_nginx = "B" in only
    need_datasette = bool({"A", "C", "D"} & only)
    nginx = ensure_apt("nginx", "nginx-light")
    datasette = ensure_datasette(args.datasette)
    db, build_note = build_database(args.source, args.articles, args.rebuild)
    print(build_note, flush=True)
    notes = [build_note]
    static = OUT / "static"
    runs: list[Run] = []
    feeds: dict[int, dict[str, Any]] = {}
    memory: dict[int, dict[str, Any]] = {}
    plan: Plan | None = None
    quiet = {"waits": 0, "seconds": 0.0, "gave_up": 0}
    with servers() as started:
        peer_base: dict[str, str] = {}
        peers: dict[str, Server] = {}
        for index, workers in enumerate(args.worker_counts):
            garden = start_garden(db, workers, extra_env, args.retry_wait, notes)
            started.append(garden)
            print(f"garden serve --workers {workers} at {garden.base}", flush=True)
            if plan is None:
                plan = prepare_garden(garden.base, static, only, args.search_words, args.search_phrases)
                if need_nginx:
                    peers["nginx"] = start_nginx(nginx, static)
                if need_datasette:
                    peers["datasette"] = start_datasette(datasette, db)
                for name, server in peers.items():
                    started.append(server)
                    server.wait_ready(
                        server.base + ("/-/versions.json" if name == "datasette" else plan.single["B", "garden"])
                    )
                    peer_base[name] = server.base
                prepare_peers(plan, peer_base.get("nginx"), peer_base.get("datasette"), static, args.check_sample)
                notes.extend(plan.facts)
                for line in plan.facts + plan.checks:
                    print(line, flush=True)
            else:
                # Another server on the same database must produce the same packets (same ETags).
                sample = plan.slugs[:: max(1, len(plan.slugs) // 50)]
                with httpx.Client(base_url=garden.base, headers=IDENTITY, timeout=60) as client:
                    differ = [
                        s
                        for s in sample
                        if plan.etags and client.get(f"/agents/articles/{s}.json").headers.get("etag") != plan.etags[s]
                    ]
                if differ:
                    notes.append(
                        f"{workers} workers: {len(differ)}/{len(sample)} sampled packets have another ETag "
                        "than under the first server (the app changed?); G may see 200s"
                    )
            with_peers = args.peers_for_all_workers or index == len(args.worker_counts) - 1
            worker_pids = garden_workers(garden)
            for round_number in range(1, args.rounds + 1):
                print(f"round {round_number}/{args.rounds}, {workers} worker(s)", flush=True)
                for letter in WORKLOADS:
                    if letter not in only or letter == "F":
                        continue
                    budget = min(args.quiet_wait, args.quiet_budget - quiet["seconds"])
                    if budget > 0:
                        waited, load = wait_quiet(args.noise_cores, budget)
                        quiet["waits"] += waited > 0.6
                        quiet["seconds"] += waited
                        quiet["gave_up"] += load > args.noise_cores
                    peer = WORKLOADS[letter][1]
                    targets: list[tuple[str, Server]] = [("garden", garden)]
                    if peer and with_peers and peer in peers and (letter, peer) in plan.lines:
                        targets.append((peer, peers[peer]))
                    variants = ("many",) if letter == "H" else ("many", "one")  # H is one URL anyway
                    for variant in variants:
                        for name, server in targets:
                            lines = plan.lines[letter, name] if variant == "many" else [plan.single[letter, name]]
                            if args.warmup > 0:
                                # Before every measured run: long enough for a few passes over the list at the
                                # uncached rate (~1,000 req/s), so each worker has seen each URL; the other
                                # workloads' entries may have pushed these out of the response cache since.
                                warm = max(args.warmup, math.ceil(len(lines) * 4 / 1000))
                                run_wrk(wrk, server.base, lines, plan.expected[letter], warm, args, server.pids(), [])
                            if name == "garden" and garden_workers(garden) != worker_pids:
                                notes.append(
                                    f"{workers} workers: uvicorn replaced a worker (pids {worker_pids} -> "
                                    f"{garden_workers(garden)}) before {letter} in round {round_number}"
                                )
                                worker_pids = garden_workers(garden)
                            pids = worker_pids if name == "garden" else []
                            runs.append(
                                measure(
                                    wrk, server, name, workers, round_number, letter, variant, lines, plan, args, pids
                                )
                            )
            supervisor = garden.pid if worker_pids != [garden.pid] else None
            memory[workers] = {
                "supervisor_mb": _status_kb(supervisor, "VmRSS") / 1024 if supervisor else 0.0,
                "after_load_mb": [_status_kb(pid, "VmRSS") / 1024 for pid in worker_pids],
                "peak_mb": [_status_kb(pid, "VmHWM") / 1024 for pid in worker_pids],
            }
            if "F" in only:
                feeds[workers] = feed_downloads(garden.base, worker_pids, args.feed_downloads)
                print(f"  W={workers} F feed {feeds[workers]['mb_s']:.1f} MB/s", flush=True)
            garden.stop()
            started.remove(garden)
            logged = garden_log_summary(garden.log)
            if logged:
                notes.append(f"garden --workers {workers} logged {logged}")
    assert plan is not None
    if quiet["waits"]:
        notes.append(
            f"waited {quiet['seconds']:.0f} s in all, before {quiet['waits']} workloads, for other processes to "
            f"use less than {args.noise_cores} core; went on regardless {quiet['gave_up']} times (at most "
            f"{args.quiet_wait:.0f} s per workload, {args.quiet_budget:.0f} s in all)"
        )
    context = {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed": time.monotonic() - started_at,
        "git": _git(),
        "command": " ".join(shlex.quote(part) for part in ["python", "bench/http_bench.py", *sys.argv[1:]]),
        "machine": _machine(),
        "versions": _versions(datasette, nginx, wrk),
        "notes": notes,
        "checks": plan.checks,
        "scaling": scaling_section(args.articles, label, runs),
    }
    report = render(context, runs, feeds, memory, args)
    stem = OUT / f"results-{args.articles}{label}"
    stem.with_suffix(".md").write_text(report)
    raw = {
        "args": {k: v for k, v in vars(args).items() if k != "source"},
        "context": context,
        "runs": [asdict(run) for run in runs],
        "feeds": feeds,
        "memory": memory,
    }
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    print()
    print(report)
    print(f"wrote {stem.with_suffix('.md').relative_to(ROOT)} and {stem.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
