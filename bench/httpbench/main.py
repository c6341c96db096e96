"""The command line: options, the checks made before anything starts, and the choice between the wrk mode
(workloads A–H, :mod:`httpbench.load`) and the cold mode (``--cold``, :mod:`httpbench.cold_bench`)."""

from __future__ import annotations

import argparse
import fcntl
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from . import __doc__ as DOC
from .common import BACKENDS, OUT, ROOT, WORKLOADS, BenchError
from .procs import servers


def parse_env(values: Sequence[str]) -> dict[str, str]:
    env = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise BenchError(f"--garden-env {value!r}: expected NAME=VALUE")
        env[name] = setting
    return env


def parse_backends(value: str) -> list[str]:
    names = {name.strip().lower() for name in value.split(",") if name.strip()}
    if not names or names - set(BACKENDS):
        raise BenchError(f"--backends {value!r}: expected a comma list of {', '.join(BACKENDS)}")
    return [name for name in BACKENDS if name in names]


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """The options of the wrk mode (and those both modes share)."""
    add = parser.add_argument
    add("--articles", type=int, default=1000, help="synthetic corpus size (1000, 10000, 50000)")
    add("--source", type=Path, default=ROOT.parent / "shared" / "corpus", help="the real corpus")
    add("--rebuild", action="store_true", help="regenerate the corpus and re-create the database")
    add("--workers", default="1,2", help="garden worker counts, comma list (default 1,2)")
    add("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    add("--duration", type=int, default=10, help="seconds per rotating wrk run")
    add("--single-duration", type=int, default=5, help="seconds per single-URL wrk run")
    add("--warmup", type=int, default=2, help="least warm-up seconds per run")
    add("--threads", type=int, default=2, help="wrk threads")
    add("--connections", type=int, default=32, help="wrk connections")
    add(
        "--only",
        help="workloads to run, e.g. A,C,D (default all); with --cold, cold workloads or groups, e.g. search,deep",
    )
    add(
        "--garden-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for garden serve (repeatable)",
    )
    add(
        "--backends",
        default="sqlite",
        help="garden's databases, comma list of sqlite and postgresql, measured in the same rounds (default sqlite)",
    )
    add(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (maintenance database) in which to create garden_bench_<N> for --backends postgresql",
    )
    add(
        "--postgres-vacuum",
        action="store_true",
        help="VACUUM ANALYZE garden_bench_<N> after the ingest (the ingest does not vacuum; autovacuum may be off)",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options about the report, the peers, checks, retries and noise."""
    add = parser.add_argument
    add("--label", help="suffix of the report's file name (default: from --backends and --garden-env)")
    add(
        "--datasette",
        type=Path,
        help="a venv holding datasette, or the executable; default: bench/out/datasette-venv, created if missing",
    )
    add(
        "--peers-for-all-workers",
        action="store_true",
        help="run the peers in every worker count's table, not only the largest",
    )
    add("--feed-downloads", type=int, default=5, help="sequential downloads of the feed (F)")
    add("--search-words", type=int, default=100, help="words from titles for E")
    add("--search-phrases", type=int, default=50, help="two-word phrases from titles for E")
    add("--check-sample", type=int, default=200, help="slugs sampled by the A and B equivalence checks")
    add("--retry-wait", type=float, default=60, help="seconds before retrying a garden that fails to start")
    add(
        "--quiet-wait",
        type=float,
        default=15,
        help="before each workload, wait up to this many seconds for other processes to calm down (0: never)",
    )
    add("--quiet-budget", type=float, default=120, help="stop waiting for quiet once this many seconds were spent")
    add("--stall-cores", type=float, default=0.2, help="flag garden runs in which it used less CPU than this")
    add("--noise-cores", type=float, default=0.25, help="flag runs where others used more CPU than this")


def add_cold_options(parser: argparse.ArgumentParser) -> None:
    """The options of the cold mode and of an existing corpus or database."""
    add = parser.add_argument
    add("--cold", action="store_true", help="run the cold workloads (sequential, cache off, URLs never repeated)")
    add("--cold-queries", type=int, default=40, help="distinct URLs per cold workload (at least 30 for a verdict)")
    add("--cold-workers", type=int, default=2, help="garden workers in the cold mode")
    add("--cold-seed", type=int, default=13, help="seed of the generated questions and filter combinations")
    add("--cold-timeout", type=float, default=120, help="seconds before a cold request counts as failed")
    add("--deep", type=int, default=25_000, help="how many items deep the deep pages start")
    add("--corpus", type=Path, help="an existing corpus directory instead of bench/out/corpus-<N> (not written)")
    add(
        "--sqlite-db",
        type=Path,
        help="an existing SQLite database instead of bench/out/http-<N>.db, used as it is (no ingest); garden "
        "serve opens it read-write (SQLite may checkpoint its WAL into it), so pass a copy of a file that must stay",
    )


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(description=(DOC or "").split("\n\n")[0])
    add_load_options(made)
    add_run_options(made)
    add_cold_options(made)
    return made


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return bench(args)
    except BenchError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


def report_label(args: argparse.Namespace, extra_env: dict[str, str]) -> str:
    """The report file's suffix: --label, else from --backends and --garden-env."""
    label = (
        args.label
        if args.label is not None
        else ("" if args.backend_names == ["sqlite"] else "-" + "-".join(args.backend_names))
        + "".join(
            "-" + re.sub(r"[^a-z0-9]+", "-", f"{k.removeprefix('GARDEN_')}-{v}".lower()).strip("-")
            for k, v in extra_env.items()
        )
    )
    return "-" + label if label and not label.startswith("-") else label


def lock_out() -> IO[str]:
    """Runs share bench/out (URL lists, static files, nginx and Datasette dirs): one at a time."""
    OUT.mkdir(parents=True, exist_ok=True)
    lock = open(OUT / ".http_bench.lock", "w")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise BenchError("another http_bench.py run is using bench/out; wait for it to finish") from None
    return lock


def bench(args: argparse.Namespace) -> int:
    started_at = time.monotonic()
    args.worker_counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if not args.worker_counts or min(args.worker_counts) < 1:
        raise BenchError(f"--workers {args.workers!r}: expected a comma list of positive integers")
    extra_env = parse_env(args.garden_env)
    args.backend_names = parse_backends(args.backends)
    if args.cold:
        from .cold_bench import run_cold_mode, select

        chosen = select(args.only)
        label = report_label(args, extra_env)
        _lock = lock_out()
        return run_cold_mode(args, chosen, extra_env, label, started_at)
    only = {letter for letter in (args.only or "ABCDEFGH").upper() if letter.isalpha()}
    if not only or only - set(WORKLOADS):
        raise BenchError(f"--only {args.only!r}: choose among {', '.join(WORKLOADS)}")
    label = report_label(args, extra_env)
    _lock = lock_out()
    return run_load(args, only, extra_env, label, started_at)


def run_load(args: argparse.Namespace, only: set[str], extra_env: dict[str, str], label: str, started: float) -> int:
    from .load import Load, closing_notes, measure_all, prepare, write_report

    load = Load(args, only, extra_env)
    prepare(load)
    with servers() as running:
        plan = measure_all(load, running)
    closing_notes(load)
    write_report(load, plan, label, started)
    return 0
