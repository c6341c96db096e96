"""Ingest benchmark (issue 14): ``garden ingest`` on synthetic corpora, first run, unchanged re-run and one edit.

Usage::

    python bench/ingest_bench.py                                  # 1,000, 10,000, 50,000 articles; both backends
    python bench/ingest_bench.py --counts 1000 --backends sqlite --repeat 1
    python bench/ingest_bench.py --corpus 10000=/work/data/gen10000 --only first --label pr-42

For each size, each repetition and each backend (interleaved, so that a noisy spell hits both alike): a fresh
empty database, ``python -m app.cli migrate`` (not timed), then three timed ``python -m app.cli ingest --json``
runs of the checkout this file is in: FIRST (adds every article), UNCHANGED (the same corpus again) and ONE EDIT
(the middle article of the walk order has one body word upper-cased, same size, mtime set 10 s back so that
stat-based change detection sees it; its bytes and times are put back afterwards). Each run's exit code and JSON
counts are checked. Per run: wall time; the peak of the summed PSS of the ingest process and all its descendants
(the worker processes), sampled every 50 ms from /proc; and the largest single process's max RSS (``wait4``).
GARDEN_CACHE_DIR points at a private temporary directory, so that nothing of the user's is touched.

Corpora: ``--corpus N=PATH`` (PATH holds content/articles), else ``bench/out/corpus-<N>``, generated from
``--source`` when missing. Every corpus file is read once before the runs, so that all runs find them cached.
The Markdown report (medians over the repetitions; MB = 10^6 bytes) is printed and written to
``bench/out/ingest-<label>.md``; progress goes to stderr. PostgreSQL runs use the database ``garden_ingest_bench``
on the server of ``--postgres-url``, dropped and created again for each repetition and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PHASES = {"first": "first", "unchanged": "unchanged", "edit": "one edit"}
BACKENDS = ("sqlite", "postgresql")
PG_DATABASE = "garden_ingest_bench"
SAMPLE_SECONDS = 0.05
PROSE_WORD = re.compile(rb"^[A-Za-z][^<\n]*?\b([a-z]{4,})\b", re.MULTILINE)


@dataclass
class Run:
    seconds: float
    tree_mb: float  # peak of the summed PSS of the process tree
    largest_mb: float  # max RSS of the largest single process (ru_maxrss, a max, not a sum)
    database_mb: float | None = None


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants, by the ppid in every /proc/<pid>/stat (no /proc/<pid>/task/*/children here)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _memory_kib(pid: int) -> int:
    """A process's Pss (smaps_rollup), else its VmRSS (status), in KiB; 0 once it has ended."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", b"Pss:"), (f"/proc/{pid}/status", b"VmRSS:")):
        try:
            with open(path, "rb") as lines:
                for line in lines:
                    if line.startswith(key):
                        return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


class TreeSampler(threading.Thread):
    """Samples the summed memory of a process tree every SAMPLE_SECONDS until ``stop`` is set; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, sum(_memory_kib(pid) for pid in _process_tree(self.pid)))
            self.stop.wait(SAMPLE_SECONDS)


def _cli(args: list[str], env: dict[str, str]) -> tuple[Run, int, str, str]:
    """``python -m app.cli <args>`` in ROOT: its measurements, exit code, stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, stdout=out, stderr=err)
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)  # its rusage covers the workers it reaped
        finally:
            sampler.stop.set()
        seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        sampler.join()
        out.seek(0)
        err.seek(0)
        run = Run(seconds, sampler.peak_kib * 1024 / 1e6, usage.ru_maxrss * 1024 / 1e6)
        return run, code, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def _ingest(corpus: Path, env: dict[str, str], phase: str, count: int) -> Run:
    """One timed ingest; SystemExit unless it succeeded with the counts ``phase`` must give."""
    run, code, stdout, stderr = _cli(["ingest", "--json", str(corpus)], env)
    tail = f"{stdout[-2000:]}\n{stderr[-2000:]}"
    try:
        articles = json.loads(stdout)["articles"] if code == 0 else None
    except (ValueError, KeyError, TypeError):
        articles = None
    if articles is None:
        why = f"exited {code}" if code else "printed no JSON report"
        raise SystemExit(f"Error: the {phase} ingest of {corpus} {why}:\n{tail}")
    expected = {"first": (count, 0, 0), "unchanged": (0, 0, count), "edit": (0, 1, count - 1)}[phase]
    got = tuple(articles.get(key) for key in ("added", "updated", "unchanged"))
    if got != expected or articles.get("removed") or articles.get("invalid"):
        raise SystemExit(
            f"Error: {phase} ingest: articles {articles}, expected (added, updated, unchanged) {expected}:\n{tail}"
        )
    return run


def _migrate(env: dict[str, str]) -> None:
    _, code, stdout, stderr = _cli(["migrate"], env)
    if code != 0:
        raise SystemExit(f"Error: migrate exited {code}:\n{stdout[-2000:]}\n{stderr[-2000:]}")


@contextmanager
def _fresh_database(backend: str, postgres_url: str) -> Iterator[tuple[str, Callable[[], float]]]:
    """A new empty database: its URL and a function that gives its size in MB. Removed afterwards."""
    if backend == "sqlite":
        path = OUT / "ingest-bench.db"

        def remove() -> None:
            for leftover in OUT.glob("ingest-bench.db*"):
                leftover.unlink()

        remove()
        try:
            yield f"sqlite:///{path}", lambda: sum(p.stat().st_size for p in OUT.glob("ingest-bench.db*")) / 1e6
        finally:
            remove()
        return
    url = make_url(postgres_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def execute(sql: str) -> float:
        with psycopg.connect(admin, autocommit=True) as conn:
            cursor = conn.execute(sql.encode())
            row = cursor.fetchone() if cursor.description else None
            return float(row[0]) if row else 0.0

    execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    execute(f"CREATE DATABASE {PG_DATABASE}")
    try:
        size = f"SELECT pg_database_size('{PG_DATABASE}')"
        yield url.set(database=PG_DATABASE).render_as_string(hide_password=False), lambda: execute(size) / 1e6
    finally:
        execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def _middle_article(corpus: Path) -> Path:
    """article.md of the middle article in ingest's walk order (years, then slugs, sorted)."""
    articles = corpus / "content" / "articles"
    dirs = [d for year in sorted(articles.iterdir()) if year.is_dir() for d in sorted(year.iterdir()) if d.is_dir()]
    return dirs[len(dirs) // 2] / "article.md"


@contextmanager
def _one_edit(article: Path) -> Iterator[None]:
    """Upper-case one word of the body's first prose line, mtime 10 s back; then restore bytes and times."""
    original, info = article.read_bytes(), article.stat()
    body_start = original.index(b"\n---", 3) + 4  # past the front matter
    word = PROSE_WORD.search(original, body_start)
    if word is None:
        raise SystemExit(f"Error: {article} has no prose line with a lower-case word to edit")
    edited = original[: word.start(1)] + word[1].upper() + original[word.end(1) :]
    try:
        article.write_bytes(edited)
        past = time.time() - 10
        os.utime(article, (past, past))
        yield
    finally:
        article.write_bytes(original)
        os.utime(article, ns=(info.st_atime_ns, info.st_mtime_ns))


def _repetition(backend: str, count: int, corpus: Path, args: argparse.Namespace, tag: str) -> dict[str, Run]:
    """One fresh database, then the runs of ``args.only`` (the first ingest always runs: the others need it)."""
    runs: dict[str, Run] = {}
    cache = tempfile.mkdtemp(prefix="garden-ingest-bench-")
    try:
        with _fresh_database(backend, args.postgres_url) as (url, size_mb):
            env = {**os.environ, "GARDEN_DATABASE_URL": url, "GARDEN_CACHE_DIR": cache}
            _migrate(env)
            for phase in PHASES:
                if phase != "first" and phase not in args.only:
                    continue
                if phase == "edit":
                    with _one_edit(_middle_article(corpus)):
                        runs[phase] = _ingest(corpus, env, phase, count)
                else:
                    runs[phase] = _ingest(corpus, env, phase, count)
                if phase == "first":
                    runs[phase].database_mb = size_mb()
                run = runs[phase]
                print(f"{tag} {PHASES[phase]}: {run.seconds:.1f} s, tree {run.tree_mb:.0f} MB", file=sys.stderr)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {phase: run for phase, run in runs.items() if phase in args.only}


def _corpus(count: int, given: dict[int, Path], source: Path) -> Path:
    """The corpus for ``count`` articles: given, or bench/out/corpus-<N> (generated when missing); read once."""
    corpus = given.get(count) or OUT / f"corpus-{count}"
    if count not in given and not (corpus / "content" / "articles").is_dir():
        print(f"generating {corpus} from {source}", file=sys.stderr)
        runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"](source, corpus, count)
    if not (corpus / "content" / "articles").is_dir():
        raise SystemExit(f"Error: {corpus} holds no content/articles")
    for path in (corpus / "content" / "articles").rglob("*"):  # warm the page cache for every run alike
        if path.is_file():
            path.read_bytes()
    return corpus


def _table(backend: str, results: dict[int, dict[str, list[Run]]]) -> list[str]:
    lines = [
        f"### {backend}",
        "",
        "| articles | run | wall s (median) | wall s (min–max) | peak tree PSS MB | largest process RSS MB "
        "| database MB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for count, phases in results.items():
        for phase, runs in phases.items():
            seconds = [run.seconds for run in runs]
            sizes = [run.database_mb for run in runs if run.database_mb is not None]
            lines.append(
                f"| {count:,} | {PHASES[phase]} | {statistics.median(seconds):.2f} "
                f"| {min(seconds):.2f}–{max(seconds):.2f} | {statistics.median(r.tree_mb for r in runs):.0f} "
                f"| {statistics.median(r.largest_mb for r in runs):.0f} "
                f"| {f'{statistics.median(sizes):.0f}' if sizes else '—'} |"
            )
    return [*lines, ""]


def _report(args: argparse.Namespace, results: dict[str, dict[int, dict[str, list[Run]]]]) -> str:
    revision = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        f"## Ingest benchmark: {args.label}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, code {revision or '?'} at {ROOT}, {os.cpu_count()} CPUs; "
        f"medians of {args.repeat} repetition(s); MB = 10^6 bytes. Peak tree PSS: the ingest process and its "
        f"workers, summed, sampled every {SAMPLE_SECONDS * 1000:.0f} ms. Largest process RSS: ru_maxrss of the "
        "largest single process (a max, not a sum). Database: its size after the first ingest.",
        "",
    ]
    for backend, per_count in results.items():
        lines += _table(backend, per_count)
    return "\n".join(lines)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", help="default: the --corpus sizes, else 1000 10000 50000")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", action="append", default=[], metavar="N=PATH", help="repeatable")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "corpus", help="for generating")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--label", default="latest")
    parser.add_argument("--only", default=",".join(PHASES), help="comma-separated: first, unchanged, edit")
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    args.only = args.only.split(",")
    args.corpus = {int(n): Path(p) for n, p in (item.split("=", 1) for item in args.corpus)}
    args.counts = args.counts or sorted(args.corpus) or [1000, 10000, 50000]
    if not set(args.backends) <= set(BACKENDS) or not set(args.only) <= set(PHASES) or args.repeat < 1:
        parser.error(f"--backends takes {BACKENDS}, --only {tuple(PHASES)}, --repeat at least 1")
    if not args.source.exists() and (ROOT.parent.parent / "shared" / "corpus").exists():
        args.source = ROOT.parent.parent / "shared" / "corpus"  # from a worktree under /work/wt
    return args


def main() -> None:
    args = _arguments()
    OUT.mkdir(parents=True, exist_ok=True)
    corpora = {count: _corpus(count, args.corpus, args.source) for count in args.counts}
    results: dict[str, dict[int, dict[str, list[Run]]]] = {backend: {} for backend in args.backends}
    for count, corpus in corpora.items():
        for rep in range(1, args.repeat + 1):
            for backend in args.backends:
                tag = f"[{backend} {count:,} rep {rep}/{args.repeat}]"
                for phase, run in _repetition(backend, count, corpus, args, tag).items():
                    results[backend].setdefault(count, {}).setdefault(phase, []).append(run)
    report = _report(args, results)
    (OUT / f"ingest-{args.label}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
