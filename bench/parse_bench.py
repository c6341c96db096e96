"""Parse benchmark: the CPU cost of reading and validating a corpus (``discover`` + ``parse``), no database.

Usage::

    python bench/generate_corpus.py --source ../shared/corpus --count 10000 --out /tmp/gen10k
    python bench/parse_bench.py /tmp/gen10k [--repeat 3]

``garden ingest`` spends this time (spread over its parse workers) before it writes anything. The script runs
in one process, so the figure is process CPU time, steady on a shared machine where wall time is not. It also
times the strict JSON reading of the artifacts alone (``app.content.decode.load_json``, duplicate keys, NUL
characters and value caps included) against a bare ``orjson.loads``, which is what the checks cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's app, not an installed one

from app.content.errors import InvalidContent
from app.content.reader import parse
from app.ingest.prepare import read_all


def _cpu(work: object) -> float:
    start = time.process_time()
    work()  # type: ignore[operator]
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    articles, _ = read_all([args.corpus], 8 * 1024 * 1024)
    artifacts = [a.raw["artifact"] for a in articles]
    print(f"{len(articles)} articles, {sum(map(len, artifacts)) / 1e6:.1f} MB of artifact.json")

    def parse_all() -> None:
        for article in articles:
            try:
                parse(article)
            except InvalidContent as exc:
                raise SystemExit(f"{article.location}: {exc}") from None

    def orjson_all() -> None:
        for raw in artifacts:
            orjson.loads(raw)

    timings: dict[str, list[float]] = {"parse (discover excluded)": [], "orjson.loads alone": []}
    strict_all = None
    try:
        from app.content.decode import load_json

        def strict_all() -> None:
            for article, raw in zip(articles, artifacts, strict=True):
                load_json(raw, article.paths["artifact"], [])

        timings["strict load_json"] = []
    except ImportError:  # a checkout from before issue 12: the before-and-after comparison of the README
        pass
    for _ in range(args.repeat):
        timings["parse (discover excluded)"].append(_cpu(parse_all))
        timings["orjson.loads alone"].append(_cpu(orjson_all))
        if strict_all is not None:
            timings["strict load_json"].append(_cpu(strict_all))
    for name, values in timings.items():
        print(f"{name:28} best {min(values):6.2f} s CPU   runs: {', '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
