"""Schemathesis against a real `garden serve`, on SQLite and PostgreSQL: no 5xx, no response over a second.

    python bench/schemathesis_run.py [--examples 200] [--backends sqlite,postgresql]
                                     [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                     [--corpus ../shared/corpus]

For each backend it builds a fresh database (a SQLite file under /tmp, or a database `garden_schemathesis_<pid>`
on the PostgreSQL server, dropped afterwards), ingests the corpus (the publisher's from ../shared when present,
else the bundled content/), starts `garden serve` with the response cache off (every request takes the
uncached path) and runs the schemathesis CLI over every operation of /openapi.json with `--max-examples`
examples per operation and phase, checking `not_a_server_error` and `max_response_time` (1 s). It prints one
line per backend and exits 1 when either found a failure. The suite's own schemathesis test
(tests/test_api_schemathesis.py) checks conformance in-process with fewer examples; this is the long run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _database(backend: str, postgres_url: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'garden.db'}"
        return
    name = f"garden_schemathesis_{os.getpid()}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def _server(db_url: str, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "GARDEN_DATABASE_URL": db_url, "GARDEN_RESPONSE_CACHE_MB": "0"}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"garden serve exited:\n{log.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"garden serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _run(backend: str, corpus: Path, examples: int, postgres_url: str) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"garden-st-{backend}-") as tmp:
        workdir = Path(tmp)
        with _database(backend, postgres_url, workdir) as db_url:
            env = {**os.environ, "GARDEN_DATABASE_URL": db_url}
            ingest = subprocess.run([sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)], cwd=ROOT,
                                    env=env, capture_output=True, text=True, check=False)  # fmt: skip
            if ingest.returncode != 0:
                raise SystemExit(f"ingest of {corpus} failed:\n{ingest.stdout[-3000:]}{ingest.stderr[-3000:]}")
            with _server(db_url, workdir / "serve.log") as base:
                cli = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
                started = time.monotonic()
                result = subprocess.run(
                    [cli, "run", f"{base}/openapi.json", "--max-examples", str(examples),
                     "--checks", "not_a_server_error", "--max-response-time", "1", "--generation-deterministic",
                     "--workers", "2", "--no-color"],
                    cwd=workdir, capture_output=True, text=True, check=False,
                )  # fmt: skip
                seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    summary = [line for line in output.splitlines() if re.search(r"test cases|passed|failed|error", line, re.I)]
    print(f"{backend}: exit {result.returncode} in {seconds:.0f} s; " + " | ".join(s.strip() for s in summary[-4:]))
    if result.returncode != 0:
        print(output[-6000:])
    return result.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    shared = ROOT.parent / "shared" / "corpus"
    parser.add_argument("--corpus", type=Path, default=shared if shared.is_dir() else ROOT / "content")
    args = parser.parse_args()
    results = [_run(backend, args.corpus, args.examples, args.postgres_url) for backend in args.backends.split(",")]
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
