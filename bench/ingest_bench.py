"""Ingest benchmark: time ``garden ingest`` on synthetic corpora of several sizes, first run and unchanged re-run.

Usage::

    python bench/ingest_bench.py --source ../shared/corpus --counts 1000 10000

Each size is generated once under ``bench/out/corpus-<N>`` (git ignores ``bench/out``), then ingested with the
real command line into a fresh SQLite file, then ingested again unchanged. Wall time, the peak resident memory
of the ingest process and the database size are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import runpy
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def _timed_ingest(corpus: Path, db: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one ``garden ingest --json`` run in a fresh process."""
    env = {**os.environ, "GARDEN_DATABASE_URL": f"sqlite:///{db}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(corpus)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"Error: ingest of {corpus} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
    print("| corpus | first ingest (s) | unchanged re-ingest (s) | peak RSS (MB) | database (MB) |")
    print("|---|---|---|---|---|")
    sizes: list[tuple[str, Path]] = [("real corpus", args.source)]
    for count in args.counts:
        corpus = OUT / f"corpus-{count}"
        if not (corpus / "content").exists():
            generate(args.source, corpus, count)
        sizes.append((f"synthetic {count:,}", corpus))
    for label, corpus in sizes:
        db = OUT / "ingest-bench.db"
        for leftover in OUT.glob("ingest-bench.db*"):
            leftover.unlink()
        first, rss = _timed_ingest(corpus, db)
        again, _ = _timed_ingest(corpus, db)
        print(f"| {label} | {first:.1f} | {again:.1f} | {rss:.0f} | {db.stat().st_size / 1e6:.0f} |", flush=True)


if __name__ == "__main__":
    main()
