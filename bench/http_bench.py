"""HTTP load benchmark: garden-api under wrk, beside nginx (static packets) and Datasette (canned queries).

Usage::

    python bench/http_bench.py [--articles 1000] [--workers 1,2] [--rounds 3] [--duration 10]
                               [--only A,C,D] [--garden-env GARDEN_RESPONSE_CACHE_MB=0] [--datasette /work/dsvenv]
                               [--backends sqlite,postgresql] [--postgres-url URL] [--postgres-vacuum]

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

``--backends sqlite,postgresql`` measures garden on each database in the same run: the same corpus is also
ingested into the PostgreSQL database ``garden_bench_<N>`` on the ``--postgres-url`` server (created if missing,
re-created with ``--rebuild``), one ``garden serve`` per backend is started for each workers count (both on their
own port, only one ever under load), and within a round each workload runs on garden (sqlite), garden
(postgresql) and then the peer, back to back. The report has a row per backend, a PostgreSQL ÷ SQLite table
(medians of per-round ratios) and a check that both backends answer the same bytes for a sample of A, C and D.
The peers still read the SQLite file. On PostgreSQL the server's CPU includes the PostgreSQL backends serving
garden's connections, as SQLite's work is inside garden's own processes. The ingest does not vacuum; the report
says whether autovacuum is on and how many tables were never vacuumed, and ``--postgres-vacuum`` runs
``VACUUM ANALYZE`` after the ingest.
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
#: The databases garden can be measured on (--backends), in the order they run within a round.
BACKENDS = ("sqlite", "postgresql")
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


def _ticks_by_pid(pids: Sequence[int]) -> dict[int, int]:
    return {pid: _cpu_ticks([pid]) for pid in pids}


def _ticks_since(before: dict[int, int], pids: Sequence[int]) -> int:
    """CPU ticks ``pids`` spent since ``before`` was taken; a process that started since counts from zero."""
    return sum(max(0, _cpu_ticks([pid]) - before.get(pid, 0)) for pid in pids)


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to ``database`` (their title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            title = _cmdline(int(entry.name))
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


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


@dataclass(frozen=True)
class Backend:
    """A database garden is measured on."""

    name: str  # "sqlite" or "postgresql"
    url: str  # GARDEN_DATABASE_URL (with the password, if any)
    tag: str  # "" when SQLite is the only backend (names, files and report as before), else the name
    database: str = ""  # PostgreSQL: the database, whose server processes' CPU counts as garden's

    @property
    def system(self) -> str:
        """The server's name in the runs and the report: ``garden``, or ``garden (sqlite)``, ``garden (postgresql)``."""
        return f"garden ({self.tag})" if self.tag else "garden"


def is_garden(name: str) -> bool:
    return name.startswith("garden")


def ensure_corpus(source: Path, articles: int, rebuild: bool) -> tuple[Path, list[str]]:
    """bench/out/corpus-<N>, generated once (again with ``rebuild``); (its path, a note if it was generated)."""
    corpus = OUT / f"corpus-{articles}"
    marker = corpus / ".http-bench-complete"
    if rebuild:
        marker.unlink(missing_ok=True)
    if marker.exists():
        return corpus, []
    generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
    summary = generate(source, corpus, articles, force=True)
    marker.write_text(json.dumps(summary) + "\n")
    return corpus, [f"generated {articles} articles in {summary['seconds']:.1f} s"]


def garden_ingest(corpus: Path, url: str) -> str:
    """``garden ingest --json`` of ``corpus`` into the database at ``url`` (it migrates first); a summary line.

    It runs every time: an unchanged corpus is only fingerprinted (about a second at 1,000 articles), and a changed
    app migrates and re-derives what it must, so the database always matches the code under test.
    """
    env = {**os.environ, "GARDEN_DATABASE_URL": url}
    started = time.perf_counter()
    result = _run([sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)], cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(
            f"garden ingest {corpus} into {_safe_url(url)} failed after {seconds:.1f} s:\n"
            f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    report = json.loads(result.stdout)
    counts = report["articles"]
    return (
        f"ingest {seconds:.1f} s (added {counts['added']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}); {report['counts']['public_articles']} public articles, "
        f"{report['counts']['public_claims']} public claims"
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_sqlite(corpus: Path, articles: int, rebuild: bool) -> tuple[Path, str]:
    """The corpus ingested into bench/out/http-<N>.db (a new file with ``rebuild``); (its path, a summary line)."""
    db = OUT / f"http-{articles}.db"
    if rebuild:
        for leftover in OUT.glob(f"http-{articles}.db*"):
            leftover.unlink()
    summary = garden_ingest(corpus, f"sqlite:///{db}")
    return db, f"{summary}; database {db.stat().st_size / 1e6:.0f} MB"


@contextmanager
def postgres(url: str) -> Iterator[Any]:
    """A connection (autocommit) to the PostgreSQL database at ``url``; a failure is a BenchError."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as error:
        raise BenchError(f"PostgreSQL at {_safe_url(url)}: {error}") from None
    finally:
        engine.dispose()


def postgres_vacuum_state(url: str) -> str:
    """Whether autovacuum is on and how many of the database's tables were never vacuumed.

    Until a table is vacuumed its GIN indexes (full text, trigrams) keep new entries in their pending list and its
    visibility map is empty, which changes the planner's choices (a seq scan instead of the GIN index) and the cost of
    each query. The ingest does not vacuum; on a server whose autovacuum is off nothing else does.
    """
    from sqlalchemy import text

    with postgres(url) as conn:
        autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()
        never, tables, inserted = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE last_vacuum IS NULL AND last_autovacuum IS NULL), count(*), "
                "coalesce(sum(n_ins_since_vacuum), 0) FROM pg_stat_user_tables WHERE n_live_tup > 0"
            )
        ).one()
    return (
        f"autovacuum {autovacuum}; {never} of {tables} tables never vacuumed, {inserted:,} rows inserted since "
        "their last vacuum"
    )


def build_postgres(corpus: Path, articles: int, server_url: str, rebuild: bool, vacuum: bool) -> tuple[str, str, str]:
    """The corpus ingested into the database garden_bench_<N> of the PostgreSQL server at ``server_url``, created if
    missing (dropped and created again with ``rebuild``), then ``VACUUM ANALYZE`` if ``vacuum``; (its name, its URL,
    a summary line)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"garden_bench_{articles}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with postgres(server_url) as conn:
        if rebuild:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        created = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None
        if created:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    summary = ("created; " if created else "") + garden_ingest(corpus, url)
    with postgres(url) as conn:
        if vacuum:
            started = time.perf_counter()
            conn.execute(text("VACUUM ANALYZE"))
            summary += f"; VACUUM ANALYZE {time.perf_counter() - started:.1f} s (--postgres-vacuum)"
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return name, url, f"{summary}; database {size / 1e6:.0f} MB; {postgres_vacuum_state(url)}"


def build_databases(args: argparse.Namespace, need_sqlite: bool) -> tuple[list[Backend], Path | None, list[str]]:
    """The corpus ingested into each ``--backends`` database, and into the SQLite file whenever a peer reads it;
    (the backends in round order, the SQLite file or None, the notes for the report)."""
    corpus, notes = ensure_corpus(args.source, args.articles, args.rebuild)
    tagged = args.backend_names != ["sqlite"]
    backends, lines, db = [], [], None
    if "sqlite" in args.backend_names or need_sqlite:
        db, summary = build_sqlite(corpus, args.articles, args.rebuild)
        role = "" if "sqlite" in args.backend_names else " (read by the peers only)"
        lines.append(f"SQLite {db.relative_to(ROOT)}{role}: {summary}" if tagged else summary)
        if "sqlite" in args.backend_names:
            backends.append(Backend("sqlite", f"sqlite:///{db}", "sqlite" if tagged else ""))
    if "postgresql" in args.backend_names:
        name, url, summary = build_postgres(
            corpus, args.articles, args.postgres_url, args.rebuild, args.postgres_vacuum
        )
        lines.append(f"PostgreSQL {_safe_url(url)}: {summary}")
        backends.append(Backend("postgresql", url, "postgresql", name))
    return backends, db, (notes + lines if tagged else ["; ".join(notes + lines)])


# ---------------------------------------------------------------------------------------------------------------
# Servers


def start_garden(
    backend: Backend, workers: int, extra_env: dict[str, str], retry_wait: float, notes: list[str]
) -> Server:
    """``garden serve`` on ``backend``'s database, on a free port with ``workers`` workers, waited for on /healthz.

    Its stdout (uvicorn's access log) goes to /dev/null, its stderr to bench/out/garden-[<backend>-]<W>.log. If it
    does not start (another engineer's work in app/ may be mid-edit), wait ``retry_wait`` seconds and try once more.
    """
    env = {**os.environ, "GARDEN_DATABASE_URL": backend.url, **extra_env}
    on = f" on {backend.tag}" if backend.tag else ""
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
            f"garden{on} ({workers} workers)",
            command,
            f"http://127.0.0.1:{port}",
            env=env,
            log=OUT / ("-".join(filter(None, ["garden", backend.tag, str(workers)])) + ".log"),
        )
        try:
            server.wait_ready(f"{server.base}/healthz")
            return server
        except BenchError as error:
            server.stop()
            if attempt == 2:
                raise
            notes.append(
                f"garden serve --workers {workers}{on} failed to start; retried after {retry_wait:.0f} s: "
                f"{str(error)[:300]}"
            )
            print(f"garden{on} did not start ({error}); retrying in {retry_wait:.0f} s", flush=True)
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
    warnings: list[str] = field(default_factory=list)  # failed checks, shown at the top of the report
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


def _first_difference(one: bytes, other: bytes) -> str:
    """Where two bodies part, with a little of each around that byte."""
    at = next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))
    return f"first difference at byte {at}: {one[max(0, at - 30) : at + 30]!r} vs {other[max(0, at - 30) : at + 30]!r}"


def compare_gardens(plan: Plan, bases: dict[str, str], sample: int) -> None:
    """Check that every garden backend answers a sample of A's, C's and D's URLs with the same status and the same
    bytes (identity encoding) as the first one. The result goes to ``plan.checks``; a difference also to
    ``plan.warnings``, and both bodies of the first few to bench/out/backend-diff/ for a closer look.

    Every request carries the first server's Host, so that the absolute links (``next``) name the same server.
    """
    reference, *others = bases
    diff_dir = OUT / "backend-diff"
    if diff_dir.exists():
        shutil.rmtree(diff_dir)
    headers = {**IDENTITY, "Host": urlsplit(bases[reference]).netloc}
    clients = {name: httpx.Client(base_url=base, headers=headers, timeout=120) for name, base in bases.items()}
    try:
        for letter in ("A", "C", "D"):
            lines = plan.lines.get((letter, "garden"))
            if not lines:
                continue
            sampled = lines[:: max(1, len(lines) // sample)]
            for name in others:

                def fetch(path: str, name: str = name) -> tuple[str, httpx.Response, httpx.Response]:
                    return path, clients[reference].get(path), clients[name].get(path)

                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    answers = list(pool.map(fetch, sampled))
                differ = [
                    (path, one, other)
                    for path, one, other in answers
                    if one.status_code != other.status_code or one.content != other.content
                ]
                line = (
                    f"{letter}: {name} returned the same status and bytes as {reference} for "
                    f"{len(sampled) - len(differ)}/{len(sampled)} sampled URLs"
                )
                for number, (path, one, other) in enumerate(differ[:3], 1):
                    line += (
                        f"; differs: `{path}` ({one.status_code} vs {other.status_code}, {len(one.content)} vs "
                        f"{len(other.content)} bytes, {_first_difference(one.content, other.content)})"
                    )
                    diff_dir.mkdir(parents=True, exist_ok=True)
                    for system, response in ((reference, one), (name, other)):
                        tag = re.sub(r"[^a-z0-9]+", "-", system).strip("-")
                        (diff_dir / f"{letter}-{number}-{tag}.body").write_bytes(response.content)
                plan.checks.append(line)
                if differ:
                    plan.warnings.append(
                        f"{name} and {reference} answered {len(differ)}/{len(sampled)} sampled {letter} URLs "
                        f"differently (bodies in {diff_dir.relative_to(ROOT)}; see the equivalence checks)"
                    )
    finally:
        for client in clients.values():
            client.close()


def etag_drift(plan: Plan, base: str) -> tuple[int, int]:
    """Of a sample of packets (B), how many have another ETag on the server at ``base`` than in the plan; (that
    count, the sample's size). G sends the plan's ETags, so a server that differs answers 200s there, not 304s."""
    if not plan.etags:
        return 0, 0
    sample = plan.slugs[:: max(1, len(plan.slugs) // 50)]
    with httpx.Client(base_url=base, headers=IDENTITY, timeout=60) as client:
        differ = sum(client.get(f"/agents/articles/{s}.json").headers.get("etag") != plan.etags[s] for s in sample)
    return differ, len(sample)


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
    cpu_db: float = 0.0  # the PostgreSQL server processes serving garden's connections (part of cpu_server)


@dataclass
class Target:
    """A server the workloads run on: a garden backend or a peer."""

    name: str  # "garden", "garden (sqlite)", "garden (postgresql)", "nginx", "datasette"
    server: Server
    database: str = ""  # PostgreSQL: the database whose server processes work for this garden
    worker_pids: list[int] = field(default_factory=list)  # garden's uvicorn workers

    def db_pids(self) -> list[int]:
        return postgres_backends(self.database) if self.database else []


def run_wrk(
    wrk: str,
    target: Target,
    lines: list[str],
    expected: int,
    seconds: int,
    args: argparse.Namespace,
    worker_pids: list[int],
) -> dict[str, Any]:
    """One wrk run over ``lines``; the Lua summary plus CPU use (cores) of the server, wrk and everything else.

    The server's CPU includes its database's: on PostgreSQL, the server processes serving its connections.
    """
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
        target.server.base,
        "--",
        str(urls_file),
        str(expected),
    ]
    busy0, server0, db0 = _busy_ticks(), _ticks_by_pid(target.server.pids()), _ticks_by_pid(target.db_pids())
    workers0 = [_cpu_ticks([pid]) for pid in worker_pids]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = _run(command, timeout=seconds + 120)
    wall = time.monotonic() - started
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = _busy_ticks()
    server_seconds = _ticks_since(server0, target.server.pids()) / CLK_TCK
    db_seconds = _ticks_since(db0, target.db_pids()) / CLK_TCK
    workers1 = [_cpu_ticks([pid]) for pid in worker_pids]
    line = next((row for row in result.stdout.splitlines() if row.startswith("WRK_RESULT ")), None)
    if line is None:
        raise BenchError(f"wrk gave no result (status {result.returncode}):\n{result.stdout[-800:]}{result.stderr}")
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    wrk_seconds = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    busy_seconds = (busy1 - busy0) / CLK_TCK
    summary["cpu_server"] = (server_seconds + db_seconds) / wall
    summary["cpu_db"] = db_seconds / wall
    summary["cpu_wrk"] = wrk_seconds / wall
    summary["cpu_other"] = max(0.0, busy_seconds - server_seconds - db_seconds - wrk_seconds) / wall
    spent = [after - before for before, after in zip(workers0, workers1, strict=True)]
    summary["worker_cpu_share"] = [round(s / sum(spent), 3) if sum(spent) else 0.0 for s in spent]
    return summary


def measure(
    wrk: str,
    target: Target,
    workers: int,
    round_number: int,
    letter: str,
    variant: str,
    lines: list[str],
    plan: Plan,
    args: argparse.Namespace,
) -> Run:
    name = target.name
    seconds = args.duration if variant == "many" else args.single_duration
    result = run_wrk(wrk, target, lines, plan.expected[letter], seconds, args, target.worker_pids)
    shares = result["worker_cpu_share"] if is_garden(name) else []
    # The server as a whole idle, or one of several workers doing (almost) none of the work: stuck, not busy.
    stalled = is_garden(name) and (
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
        cpu_db=result["cpu_db"],
    )
    flag = (f"  ERRORS: {detail}" if errors else "") + (
        f"  STALLED: garden used {run.cpu_server:.2f} cores, worker shares {shares}" if stalled else ""
    )
    print(
        f"  W={workers} r{round_number} {letter} {name:9} {variant:4} {run.rps:9.0f} req/s  p50 {run.p50_ms:7.2f} ms"
        f"  p99 {run.p99_ms:7.2f} ms  cpu srv/wrk/other "
        f"{_cpu_text(run.cpu_server, run.cpu_wrk, run.cpu_other, run.cpu_db)}{flag}",
        flush=True,
    )
    return run


def _cpu_text(server: float, wrk: float, other: float, db: float) -> str:
    """Cores used by the server under test, wrk and everything else; the database's part of the server's, if any."""
    return f"{server:.2f}/{wrk:.2f}/{other:.2f}" + (f" (db {db:.2f})" if db else "")


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


def _postgres_version(url: str) -> str:
    from sqlalchemy import text

    with postgres(url) as conn:
        return str(conn.execute(text("SHOW server_version")).scalar_one())


def _versions(datasette: Path, nginx: str, wrk: str, backends: Sequence[Backend]) -> list[tuple[str, str]]:
    found = [("python", platform.python_version())]
    postgres = [backend for backend in backends if backend.name == "postgresql"]
    for package in (*PACKAGES, "psycopg") if postgres else PACKAGES:
        try:
            found.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    found.append(("sqlite (project)", sqlite3.sqlite_version))
    if postgres:
        found.append(("postgresql", _postgres_version(postgres[0].url)))
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
                _median([r.cpu_db for r in group]),
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


def _tag(system: str) -> str:
    """``postgresql`` for ``garden (postgresql)``; ``garden`` for the lone SQLite garden."""
    return system.removeprefix("garden (").removesuffix(")")


def _flags(row: dict[str, Any]) -> str:
    """⚠ for a summary row with errors, ⏸ for one with stalls."""
    return (" ⚠" if row["errors"] else "") + (" ⏸" if row["stalled"] else "")


def _workload_rows(
    runs: list[Run], table: dict[Any, dict[str, Any]], workers: int, systems: Sequence[str]
) -> list[str]:
    """One row per workload, variant and server: the garden backends, then the peer."""
    out = []
    for letter in WORKLOADS:
        peer = WORKLOADS[letter][1]
        for variant in ("many", "one"):
            labelled = False
            for server in (*systems, peer):
                row = table.get((letter, server or "", variant))
                if row is None or server is None:
                    continue
                versus = ""
                if is_garden(server) and peer and (letter, peer, variant) in table:
                    versus = f"{ratio(runs, workers, (letter, server, variant), (letter, peer, variant)):.2f}×"
                label = "" if labelled else f"{letter} {WORKLOADS[letter][0]}"
                labelled = True
                errors = f"{row['errors']}{_flags(row)}" + (f" ({row['error_detail']})" if row["errors"] else "")
                if row["stalled"]:
                    errors += f" (stalled in {row['stalled']}/{row['rounds']} rounds)"
                out.append(
                    f"| {label} | {row['urls'] if variant == 'many' else 1} | {server} | {_fmt(row['rps'])} | "
                    f"{_fmt(row['rps_min'])}–{_fmt(row['rps_max'])} | {_fmt(row['p50'], 2)} | "
                    f"{_fmt(row['p99'], 2)} | {row['kb']:.1f} | {errors} | {_cpu_text(*row['cpu'])} | {versus} |"
                )
    return out


def _feed_row(system: str, feed: dict[str, Any]) -> str:
    per = ", ".join(f"{d['mb_s']:.1f}" for d in feed["downloads"])
    first = feed["downloads"][0]
    return (
        f"| F /agents/feeds/claims.jsonl | 1 | {system} | **{feed['mb_s']:.1f} MB/s** (median) | {per} "
        f"| | | {first['mb'] * 1e3:,.0f} ({first['rows']:,} rows) | {feed['errors']} | | |"
    )


def _criteria(
    runs: list[Run], table: dict[Any, dict[str, Any]], workers: int, system: str, feed: dict[str, Any] | None
) -> list[str]:
    """The targets, pass/fail, for one garden backend."""

    def flagged(*keys: tuple[str, str, str]) -> str:
        rows = [table[key] for key in keys if key in table]
        return " (flagged runs ⚠/⏸)" if any(row["errors"] or row["stalled"] for row in rows) else ""

    out = []
    h_many = ("H", system, "many")
    for letter in ("B", "G"):
        value = ratio(runs, workers, (letter, system, "many"), h_many)
        ok = None if value != value else value >= 0.8
        note = flagged((letter, system, "many"), h_many)
        out.append(f"| {letter} ÷ H ({system}, rotating) | {_fmt(value, 2)} | ≥ 0.80 | {_verdict(ok)}{note} |")
    value = ratio(runs, workers, ("B", system, "many"), ("B", "nginx", "many"))
    out.append(f"| B {system} ÷ nginx (rotating) | {_fmt(value, 2)} | (reported) | |")
    for letter in ("A", "C", "D"):
        value = ratio(runs, workers, (letter, system, "many"), (letter, "datasette", "many"))
        p99 = table.get((letter, system, "many"), {}).get("p99", float("nan"))
        judged = None
        if workers == 2 and value == value and p99 == p99:
            judged = value >= 6 and p99 <= 50
        target = "≥ 6× and p99 ≤ 50 ms" + ("" if workers == 2 else " (judged at 2 workers)")
        note = flagged((letter, system, "many"), (letter, "datasette", "many"))
        name = "÷ Datasette (rotating), garden p99" if system == "garden" else f"{system} ÷ Datasette (rotating), p99"
        out.append(f"| {letter} {name} | {_fmt(value, 2)}×, {_fmt(p99, 1)} ms | {target} | {_verdict(judged)}{note} |")
    if feed is not None:
        of = "" if system == "garden" else f", {system}"
        out.append(f"| F feed throughput{of} | {feed['mb_s']:.1f} MB/s | ≥ 50 MB/s | {_verdict(feed['mb_s'] >= 50)} |")
    return out


def _backend_comparison(
    runs: list[Run],
    table: dict[Any, dict[str, Any]],
    workers: int,
    systems: Sequence[str],
    feeds: dict[str, dict[str, Any]],
) -> list[str]:
    """Each further garden backend beside the first (postgresql ÷ sqlite): req/s, p99 and the per-round ratio."""
    reference, *others = systems
    out = []
    for other in others:
        heading = f"{_tag(other)} ÷ {_tag(reference)}"
        out += [
            f"Garden on {_tag(other)} ÷ garden on {_tag(reference)} (req/s; each ratio is the median of the "
            "per-round ratios):",
            "",
            f"| workload | variant | {reference} req/s · p99 ms | {other} req/s · p99 ms | {heading} |",
            "|---|---|---|---|---|",
        ]
        for letter in WORKLOADS:
            for variant in ("many", "one"):
                one, two = table.get((letter, reference, variant)), table.get((letter, other, variant))
                if one is None or two is None:
                    continue
                value = ratio(runs, workers, (letter, other, variant), (letter, reference, variant))
                flag = _flags({key: one[key] + two[key] for key in ("errors", "stalled")})
                out.append(
                    f"| {letter} {WORKLOADS[letter][0]} | {'rotating' if variant == 'many' else 'single URL'} | "
                    f"{_fmt(one['rps'])} · {_fmt(one['p99'], 1)} | {_fmt(two['rps'])} · {_fmt(two['p99'], 1)} | "
                    f"**{_fmt(value, 2)}×**{flag} |"
                )
        if reference in feeds and other in feeds:
            one_mb, two_mb = feeds[reference]["mb_s"], feeds[other]["mb_s"]
            out.append(
                f"| F feed (MB/s) | {len(feeds[other]['downloads'])} downloads | {one_mb:.1f} | {two_mb:.1f} | "
                f"**{two_mb / one_mb:.2f}×** |"
            )
        out.append("")
    return out


def _memory_lines(
    runs: list[Run], workers: int, system: str, mem: dict[str, Any] | None, feed: dict[str, Any] | None
) -> list[str]:
    """A garden backend's worker memory (after the runs, and during F) and how evenly its workers shared the work."""
    out = []
    if mem:
        rss = ", ".join(f"{v:.0f}" for v in mem["after_load_mb"])
        line = (
            f"{system[0].upper()}{system[1:]} memory: supervisor {mem['supervisor_mb']:.0f} MB; workers {rss} MB "
            "(VmRSS after the wrk runs)"
        )
        if feed is not None:
            before = ", ".join(f"{v:.0f}" for v in feed["rss_before_mb"].values())
            peak = ", ".join(f"{v:.0f}" for v in feed["rss_peak_mb"].values())
            line += f"; during F {before} → peak {peak} MB"
        out.append(line + ".")
    shares = [
        max(r.worker_cpu_share)
        for r in runs
        if r.workers == workers and r.server == system and len(r.worker_cpu_share) > 1
    ]
    if shares:
        out.append(
            f"Load balance: the busier worker did {statistics.median(shares):.0%} of the {system} workers' "
            f"CPU work in the median run (worst {max(shares):.0%})."
        )
    return out


def render(
    context: dict[str, Any],
    runs: list[Run],
    feeds: dict[int, dict[str, dict[str, Any]]],
    memory: dict[int, dict[str, dict[str, Any]]],
    args: argparse.Namespace,
) -> str:
    """The Markdown report. ``feeds`` and ``memory`` are by workers count, then garden backend."""
    systems = args.systems
    out: list[str] = [f"# garden-api HTTP benchmark: {args.articles:,} articles", ""]
    out.append(f"{context['started']} · {context['elapsed']:.0f} s · commit {context['git']}")
    out.append("")
    out.append(f"Command: `{context['command']}`")
    out.append("")
    all_feeds = [feed for by_system in feeds.values() for feed in by_system.values()]
    total_errors = sum(run.errors for run in runs) + sum(feed["errors"] for feed in all_feeds)
    if total_errors:
        bad = sorted({f"{r.workload}/{r.server}/{r.variant} at {r.workers}w" for r in runs if r.errors})
        out.append(
            f"> **WARNING: {total_errors} errors** (unexpected statuses or socket errors) in: {', '.join(bad)}. "
            "Those rows are marked ⚠; their numbers are not comparable."
        )
        out.append("")
    stalled = sorted(
        {
            f"{r.workload}{'' if r.server == 'garden' else '/' + r.server}/{r.variant} at {r.workers}w"
            for r in runs
            if r.stalled
        }
    )
    if stalled:
        out.append(
            f"> **WARNING: garden stalled in {sum(r.stalled for r in runs)} runs** ({', '.join(stalled)}): it used "
            f"less than {args.stall_cores} core while wrk waited on it, so it was stuck, not busy. Those rows are "
            "marked ⏸; their numbers measure the stall, not the code path."
        )
        out.append("")
    for warning in context.get("warnings", []):
        out.append(f"> **WARNING: {warning}**")
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
    backends = ""
    if systems != ["garden"]:
        backends = (
            f" Garden backends, in round order: {', '.join(_tag(system) for system in systems)}, one garden serve "
            "each (only one under load at a time), the extra env applied to every one."
        )
    out.append(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per rotating run, "
        f"{args.single_duration} s per single-URL run, a warm-up of at least {args.warmup} s before each run; "
        f"{args.rounds} rounds, medians shown. Extra garden env: "
        f"{' '.join(args.garden_env) if args.garden_env else 'none'}.{backends}"
    )
    out.append("")
    for line in context["notes"]:
        out.append(f"* {line}")
    out.append("")
    for workers in args.worker_counts:
        table = summarise(runs, workers)
        feeds_w, memory_w = feeds.get(workers, {}), memory.get(workers, {})
        if not table and not feeds_w:
            continue
        out.append(f"## {workers} worker{'s' if workers > 1 else ''}")
        out.append("")
        out.append(
            "| workload | URLs | server | req/s (median) | min–max | p50 ms | p99 ms | kB/resp | errors "
            "| CPU cores srv/wrk/other | garden ÷ peer |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        out.extend(_workload_rows(runs, table, workers, systems))
        out.extend(_feed_row(system, feeds_w[system]) for system in systems if system in feeds_w)
        out.append("")
        if len(systems) > 1:
            out.extend(_backend_comparison(runs, table, workers, systems, feeds_w))
        out.append("| criterion | measured | target | result |")
        out.append("|---|---|---|---|")
        for system in systems:
            out.extend(_criteria(runs, table, workers, system, feeds_w.get(system)))
        out.append("")
        for system in systems:
            out.extend(_memory_lines(runs, workers, system, memory_w.get(system), feeds_w.get(system)))
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
        + (
            " For garden on PostgreSQL the server's cores include those of the PostgreSQL processes serving its "
            "connections (shown as *db*), as SQLite's work is inside garden's own processes."
            if "garden (postgresql)" in systems
            else ""
        )
    )
    return "\n".join(out) + "\n"


def scaling_section(articles: int, label: str, runs: list[Run], systems: Sequence[str]) -> list[str]:
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
        for letter, system in itertools.product(("A", "C", "D", "E"), systems):
            key = (letter, system, "many")
            if key in now and key in then:
                out.append(
                    f"| {workers} | {letter}{'' if system == 'garden' else ' ' + system} | {_fmt(then[key]['rps'])} | "
                    f"{_fmt(now[key]['rps'])} | {now[key]['rps'] / then[key]['rps']:.2f} | "
                    f"{_fmt(then[key]['p99'], 1)} | {_fmt(now[key]['p99'], 1)} |"
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
    parser.add_argument(
        "--backends",
        default="sqlite",
        help="garden's databases, comma list of sqlite and postgresql, measured in the same rounds (default sqlite)",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (maintenance database) in which to create garden_bench_<N> for --backends postgresql",
    )
    parser.add_argument(
        "--postgres-vacuum",
        action="store_true",
        help="VACUUM ANALYZE garden_bench_<N> after the ingest (the ingest does not vacuum; autovacuum may be off)",
    )
    parser.add_argument("--label", help="suffix of the report's file name (default: from --backends and --garden-env)")
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


def _refresh_workers(garden: Target, notes: list[str], where: str, when: str) -> None:
    """Follow uvicorn if it replaced a worker since the last run (and say so in the report)."""
    current = garden_workers(garden.server)
    if current != garden.worker_pids:
        on = "" if garden.name == "garden" else f", {garden.name}"
        notes.append(f"{where}{on}: uvicorn replaced a worker (pids {garden.worker_pids} -> {current}) before {when}")
        garden.worker_pids = current


def garden_memory(garden: Target) -> dict[str, Any]:
    """The supervisor's and each worker's memory (MB) now, and each worker's peak."""
    supervisor = garden.server.pid if garden.worker_pids != [garden.server.pid] else None
    return {
        "supervisor_mb": _status_kb(supervisor, "VmRSS") / 1024 if supervisor else 0.0,
        "after_load_mb": [_status_kb(pid, "VmRSS") / 1024 for pid in garden.worker_pids],
        "peak_mb": [_status_kb(pid, "VmHWM") / 1024 for pid in garden.worker_pids],
    }


def _parse_backends(value: str) -> list[str]:
    names = {name.strip().lower() for name in value.split(",") if name.strip()}
    if not names or names - set(BACKENDS):
        raise BenchError(f"--backends {value!r}: expected a comma list of {', '.join(BACKENDS)}")
    return [name for name in BACKENDS if name in names]


def bench(args: argparse.Namespace) -> int:
    started_at = time.monotonic()
    only = {letter for letter in args.only.upper() if letter.isalpha()}
    if not only or only - set(WORKLOADS):
        raise BenchError(f"--only {args.only!r}: choose among {', '.join(WORKLOADS)}")
    args.worker_counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if not args.worker_counts or min(args.worker_counts) < 1:
        raise BenchError(f"--workers {args.workers!r}: expected a comma list of positive integers")
    extra_env = _parse_env(args.garden_env)
    args.backend_names = _parse_backends(args.backends)
    label = (
        args.label
        if args.label is not None
        else ("" if args.backend_names == ["sqlite"] else "-" + "-".join(args.backend_names))
        + "".join(
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
    backends, db, notes = build_databases(args, need_sqlite=need_datasette)
    for line in notes:
        print(line, flush=True)
    args.systems = [backend.system for backend in backends]
    static = OUT / "static"
    runs: list[Run] = []
    feeds: dict[int, dict[str, dict[str, Any]]] = {}  # workers: garden backend: F
    memory: dict[int, dict[str, dict[str, Any]]] = {}
    plan: Plan | None = None
    quiet = {"waits": 0, "seconds": 0.0, "gave_up": 0}
    with servers() as started:
        peers: dict[str, Target] = {}
        for index, workers in enumerate(args.worker_counts):
            # One garden per backend, started one after the other; each is idle while another is measured.
            gardens: list[Target] = []
            for backend in backends:
                server = start_garden(backend, workers, extra_env, args.retry_wait, notes)
                started.append(server)
                print(f"{backend.system} serve --workers {workers} at {server.base}", flush=True)
                gardens.append(Target(backend.system, server, backend.database, garden_workers(server)))
            drift_checked = gardens
            if plan is None:
                plan = prepare_garden(gardens[0].server.base, static, only, args.search_words, args.search_phrases)
                if need_nginx:
                    peers["nginx"] = Target("nginx", start_nginx(nginx, static))
                    started.append(peers["nginx"].server)
                if need_datasette and db is not None:
                    peers["datasette"] = Target("datasette", start_datasette(datasette, db))
                    started.append(peers["datasette"].server)
                for name, peer_target in peers.items():
                    peer_target.server.wait_ready(
                        peer_target.server.base
                        + ("/-/versions.json" if name == "datasette" else plan.single["B", "garden"])
                    )
                prepare_peers(
                    plan,
                    peers["nginx"].server.base if "nginx" in peers else None,
                    peers["datasette"].server.base if "datasette" in peers else None,
                    static,
                    args.check_sample,
                )
                if len(gardens) > 1:
                    compare_gardens(plan, {g.name: g.server.base for g in gardens}, args.check_sample)
                notes.extend(plan.facts)
                for line in plan.facts + plan.checks:
                    print(line, flush=True)
                drift_checked = gardens[1:]  # the plan's ETags come from the first
            for garden in drift_checked:
                # Another server on the same data must produce the same packets (same ETags).
                differ, sample = etag_drift(plan, garden.server.base)
                if differ:
                    on = "" if garden.name == "garden" else f", {garden.name}"
                    notes.append(
                        f"{workers} workers{on}: {differ}/{sample} sampled packets have another ETag than under the "
                        f"first server, {gardens[0].name} with {args.worker_counts[0]} workers (the app changed, "
                        "or the backends differ?); G may see 200s"
                    )
            with_peers = args.peers_for_all_workers or index == len(args.worker_counts) - 1
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
                    targets = list(gardens)  # in backend order, then the peer: back to back within the round
                    if peer and with_peers and peer in peers and (letter, peer) in plan.lines:
                        targets.append(peers[peer])
                    variants = ("many",) if letter == "H" else ("many", "one")  # H is one URL anyway
                    for variant in variants:
                        for target in targets:
                            key = "garden" if is_garden(target.name) else target.name  # one URL list per kind
                            lines = plan.lines[letter, key] if variant == "many" else [plan.single[letter, key]]
                            if args.warmup > 0:
                                # Before every measured run: long enough for a few passes over the list at the
                                # uncached rate (~1,000 req/s), so each worker has seen each URL; the other
                                # workloads' entries may have pushed these out of the response cache since.
                                warm = max(args.warmup, math.ceil(len(lines) * 4 / 1000))
                                run_wrk(wrk, target, lines, plan.expected[letter], warm, args, [])
                            if is_garden(target.name):
                                _refresh_workers(
                                    target, notes, f"{workers} workers", f"{letter} in round {round_number}"
                                )
                            runs.append(measure(wrk, target, workers, round_number, letter, variant, lines, plan, args))
            feeds[workers], memory[workers] = {}, {}
            for garden in gardens:
                memory[workers][garden.name] = garden_memory(garden)
                if "F" in only:
                    feed = feeds[workers][garden.name] = feed_downloads(
                        garden.server.base, garden.worker_pids, args.feed_downloads
                    )
                    print(f"  W={workers} F {garden.name} feed {feed['mb_s']:.1f} MB/s", flush=True)
            for garden in gardens:
                garden.server.stop()
                started.remove(garden.server)
                logged = garden_log_summary(garden.server.log)
                if logged:
                    notes.append(f"{garden.name} --workers {workers} logged {logged}")
    assert plan is not None
    for backend in backends:
        if backend.name == "postgresql":
            notes.append(f"PostgreSQL after the runs: {postgres_vacuum_state(backend.url)}")
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
        "versions": _versions(datasette, nginx, wrk, backends),
        "notes": notes,
        "checks": plan.checks,
        "warnings": plan.warnings,
        "scaling": scaling_section(args.articles, label, runs, args.systems),
    }
    report = render(context, runs, feeds, memory, args)
    stem = OUT / f"results-{args.articles}{label}"
    stem.with_suffix(".md").write_text(report)
    raw = {
        "args": {k: _safe_url(v) if k == "postgres_url" else v for k, v in vars(args).items() if k != "source"},
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
