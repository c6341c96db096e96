"""The servers under test and their peers: garden (per backend), nginx and Datasette; the tools they need
(wrk, nginx, a Datasette venv) and the versions, machine and commit the report names."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .common import DATASETTE_METADATA, OUT, PACKAGES, ROOT, BenchError, run_command, which
from .corpora import Backend, postgres
from .procs import Server, children, cmdline, free_port


def ensure_apt(binary: str, package: str) -> str:
    """The path of ``binary``, installing the Debian ``package`` first if it is missing (as root)."""
    found = which(binary)
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError(f"{binary} is missing: install the `{package}` package (apt-get install -y {package})")
    print(f"installing {package} (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run_command(["apt-get", "install", "-y", package], env=env).returncode != 0:
        run_command(["apt-get", "update"], env=env)
        result = run_command(["apt-get", "install", "-y", package], env=env)
        if result.returncode != 0:
            raise BenchError(f"apt-get install -y {package} failed:\n{result.stderr[-1500:]}")
    found = which(binary)
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
        result = run_command(command)
        if result.returncode != 0:
            raise BenchError(f"{' '.join(command)} failed:\n{result.stdout[-800:]}{result.stderr[-1500:]}")
    return executable


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
        port = free_port()
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
    workers = [pid for pid in children(server.pid) if "multiprocessing-fork" in cmdline(pid)]
    return workers or [server.pid]


def start_nginx(nginx: str, static: Path) -> Server:
    """nginx serving ``static`` on a free port: 2 worker processes, sendfile, no access log, in the foreground."""
    home = OUT / "nginx"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (home / "tmp" / name).mkdir(parents=True, exist_ok=True)
    port = free_port()
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
    check = run_command([*command, "-t"])
    if check.returncode != 0:
        raise BenchError(f"nginx -t failed:\n{check.stderr[-1500:]}")
    return Server("nginx", command, f"http://127.0.0.1:{port}", log=home / "stderr.log")


def datasette_version(datasette: Path) -> str:
    result = run_command([str(datasette), "--version"])
    return result.stdout.strip().rpartition(" ")[2] or "unknown"


def start_datasette(datasette: Path, db: Path) -> Server:
    """Datasette (one process, as it runs) on the same SQLite file, immutable, with the canned queries."""
    link = OUT / "datasette" / "garden.db"  # the database is named after the file: `garden`, as the metadata says
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(db)
    port = free_port()
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


def postgres_version(url: str) -> str:
    from sqlalchemy import text

    with postgres(url) as conn:
        return str(conn.execute(text("SHOW server_version")).scalar_one())


def tool_versions(
    datasette: Path | None, nginx: str | None, wrk: str | None, backends: Sequence[Backend]
) -> list[tuple[str, str]]:
    """The versions the report lists; a tool given as None (not used by this run) is left out."""
    found = [("python", platform.python_version())]
    postgres = [backend for backend in backends if backend.name == "postgresql"]
    for package in (*PACKAGES, "psycopg") if postgres else PACKAGES:
        try:
            found.append((package, importlib.metadata.version(package)))
        except importlib.metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    found.append(("sqlite (project)", sqlite3.sqlite_version))
    if postgres:
        found.append(("postgresql", postgres_version(postgres[0].url)))
    if nginx:
        found.append(("nginx", run_command([nginx, "-v"]).stderr.strip().rpartition("/")[2]))
    if wrk:
        found.append(
            ("wrk", (run_command([wrk, "-v"]).stdout.splitlines() or ["?"])[0].split(" [")[0].removeprefix("wrk "))
        )
    if datasette is None:
        return found
    found.append(("datasette", datasette_version(datasette)))
    ds_python = datasette.parent / "python"
    if ds_python.exists():
        sqlite_ds = run_command([str(ds_python), "-c", "import sqlite3; print(sqlite3.sqlite_version)"]).stdout.strip()
        found.append(("sqlite (datasette venv)", sqlite_ds))
    return found


def machine() -> list[tuple[str, str]]:
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


def git_state() -> str:
    head = run_command(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
    dirty = [
        line
        for line in run_command(["git", "status", "--porcelain", "app", "migrations"], cwd=ROOT).stdout.splitlines()
    ]
    return f"{head}" + (
        f", with {len(dirty)} uncommitted change(s) in app/ or migrations/" if dirty else ", clean app/"
    )
