"""Uncached /articles, /claims and /sources latency over many filter combinations and deep cursors.

Run it from the checkout whose code you want to measure (it imports that checkout's ``app``), against a copy
of a large SQLite database at that checkout's schema (``garden migrate`` it first)::

    cd /work/main     && .venv/bin/python /work/wt/lists/bench/list_bench.py --db /work/data/lists/g50k_main.db
    cd /work/wt/lists && /work/main/.venv/bin/python bench/list_bench.py --db /work/data/lists/g50k.db
    # PostgreSQL holding the same corpus (filter values are still read from the SQLite file):
    cd /work/wt/lists && /work/main/.venv/bin/python bench/list_bench.py --db /work/data/lists/g50k.db \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/garden_lists_50k

Requests go in-process through Starlette's TestClient to a fresh app with the response cache off
(``GARDEN_RESPONSE_CACHE_MB=0``), one at a time, every URL distinct, so each one reads the database. The
workload, the same for any checkout (a fixed seed; values read from the database itself):

* ``articles``, ``claims``, ``sources``: ``--requests`` lists each, with 0 to 3 random filters (values drawn
  weighted by how many rows hold them, so large topics come up as often as they do in the data), a random sort
  (articles) and a random limit of 20 or 50;
* ``largest``: the largest topic's first page of each list (the issue's examples);
* ``deep``: for each list (and each article sort), the page 25,000 items deep, reached by following ``next``
  with ``limit=500`` (untimed) and then timing that page with ``limit=50``.

It prints p50, p95, p99 and the maximum per group, in milliseconds, and with ``--json`` writes them to a file.
The first ``--warmup`` requests (other URLs) are not counted: they load the code paths and the page cache.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ARTICLE_SORTS = ["-published", "published", "-updated", "updated", "title", "series"]
DEEP = 25_000


def weighted_values(db: sqlite3.Connection, sql: str) -> list[tuple[str, int]]:
    return [(str(value), int(count)) for value, count in db.execute(sql) if value is not None]


def pools(db: sqlite3.Connection) -> dict[str, dict[str, list[tuple[str, int]]]]:
    """{list: {parameter: [(value, weight)]}} from the database itself."""
    topics = weighted_values(db, "SELECT topic, count(*) FROM article_topic GROUP BY topic")
    return {
        "articles": {
            "topic": topics,
            "tag": weighted_values(db, "SELECT tag, count(*) FROM article_tag GROUP BY tag"),
            "series": weighted_values(db, "SELECT series_slug, 1 FROM article GROUP BY series_slug LIMIT 3000"),
            "maturity": weighted_values(db, "SELECT maturity, count(*) FROM article GROUP BY maturity"),
            "audience": weighted_values(db, "SELECT audience, count(*) FROM article_audience GROUP BY audience"),
            "confidence": [("low", 1), ("medium", 1), ("medium-high", 1), ("high", 1)],
            "min_confidence": [("medium", 1), ("medium-high", 1), ("high", 1)],
            "claim_state": [("verified", 3), ("contested", 1), ("stale", 1)],
            "source_type": weighted_values(db, "SELECT type, count(*) FROM source GROUP BY type"),
            "updated_since": [("2026-01-01", 1), ("2026-07-18", 1)],
            "published_until": [("2025-06-01", 1), ("2026-07-01", 1)],
            "q": [("attention", 1), ("india", 1), ("regulation", 1), ("wwdc", 1)],
        },
        "claims": {
            "topic": topics,
            "series": weighted_values(db, "SELECT series_slug, 1 FROM article GROUP BY series_slug LIMIT 3000"),
            "article": weighted_values(db, "SELECT slug, 1 FROM article WHERE id % 97 = 0"),
            "confidence": weighted_values(db, "SELECT confidence, count(*) FROM claim GROUP BY confidence"),
            "min_confidence": [("medium", 1), ("medium-high", 1), ("high", 1)],
            "status": weighted_values(db, "SELECT kind, count(*) FROM claim GROUP BY kind"),
            "verification": [("verified", 3), ("contested", 1), ("stale", 1)],
            "state": [("verified", 3), ("contested", 1), ("stale", 1)],
            "has_counterevidence": [("true", 1), ("false", 1)],
            "supports": weighted_values(db, "SELECT supports, count(*) FROM evidence GROUP BY supports"),
            "source": weighted_values(db, "SELECT source_id, count(*) FROM evidence GROUP BY source_id"),
            "q": [("attention", 1), ("india", 1), ("regulation", 1)],
        },
        "sources": {
            "type": weighted_values(db, "SELECT type, count(*) FROM source GROUP BY type"),
            "article": weighted_values(db, "SELECT slug, 1 FROM article WHERE id % 97 = 0"),
            "topic": topics,
            "url": weighted_values(db, "SELECT url, count(*) FROM source GROUP BY url"),
            "cited": [("true", 1), ("false", 1)],
        },
    }


def pick(rng: random.Random, values: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in values], weights=[w for _, w in values])[0]


def random_url(rng: random.Random, kind: str, pool: dict[str, list[tuple[str, int]]]) -> str:
    params: list[tuple[str, str]] = []
    for name in rng.sample(sorted(pool), rng.choice([0, 1, 1, 2, 2, 3])):
        params.append((name, pick(rng, pool[name])))
    if kind == "articles":
        params.append(("sort", rng.choice(ARTICLE_SORTS)))
    params.append(("limit", str(rng.choice([20, 50]))))
    return f"/{kind}?{urlencode(params, quote_via=quote)}"


def deep_url(client: Any, path: str) -> str:
    """The URL of the page DEEP items in (limit=50), reached by following ``next`` with limit=500."""
    url = f"{path}{'&' if '?' in path else '?'}limit=500"
    for _ in range(DEEP // 500):
        body = client.get(url).json()
        url = body["next"]
        if url is None:
            raise SystemExit(f"{path} has fewer than {DEEP} items")
    return url.replace("limit=500", "limit=50")


def timed(client: Any, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"n": len(ordered), "p50": round(cut[49], 1), "p95": round(cut[94], 1), "p99": round(cut[98], 1),
            "max": round(ordered[-1], 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the SQLite database file (filter values come from it)")
    parser.add_argument("--database-url", help="serve from this database instead (the same corpus)")
    parser.add_argument("--requests", type=int, default=300, help="random lists per kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--slowest", type=int, default=5, help="print the slowest URLs of each group")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{args.db}"
    os.environ.update({"GARDEN_DATABASE_URL": url, "GARDEN_RESPONSE_CACHE_MB": "0", "GARDEN_TODAY": "2026-11-22",
                       "GARDEN_REQUEST_TIMEOUT": "60"})  # fmt: skip
    sys.path.insert(0, os.getcwd())
    from fastapi.testclient import TestClient

    from app.main import create_app

    raw = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    value_pools = pools(raw)
    largest = raw.execute("SELECT topic FROM article_topic GROUP BY topic ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    raw.close()
    rng = random.Random(args.seed)
    groups: dict[str, list[str]] = {kind: [random_url(rng, kind, value_pools[kind]) for _ in range(args.requests)]
                                    for kind in ("articles", "claims", "sources")}  # fmt: skip
    warm = [random_url(rng, kind, value_pools[kind]) for kind in ("articles", "claims", "sources")
            for _ in range(args.warmup // 3)]  # fmt: skip
    topic = quote(largest)
    groups["largest"] = [f"/articles?topic={topic}&sort=-updated&limit=20", f"/articles?topic={topic}&limit=20",
                         f"/claims?topic={topic}&confidence=high&limit=50", f"/claims?topic={topic}&limit=50",
                         f"/sources?topic={topic}&limit=50"]  # fmt: skip
    with TestClient(create_app()) as client:
        for url in warm:
            timed(client, url)
        setup = time.perf_counter()
        deep_starts = [f"/articles?sort={sort}" for sort in ARTICLE_SORTS] + ["/claims", "/sources",
                       f"/claims?topic={topic}", f"/sources?topic={topic}"]  # fmt: skip
        groups["deep"] = [deep_url(client, start) for start in deep_starts]
        print(f"deep cursors found in {time.perf_counter() - setup:.1f} s", file=sys.stderr)
        results: dict[str, dict[str, Any]] = {}
        for name, urls in groups.items():
            samples = [(timed(client, url), url) for url in urls]
            results[name] = summary([ms for ms, _ in samples])
            results[name]["slowest"] = [f"{ms:.1f} ms {url[:160]}" for ms, url in sorted(samples)[-args.slowest :]]
    print(f"{'group':10} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms, uncached, sequential)")
    for name, row in results.items():
        print(f"{name:10} {row['n']:5} {row['p50']:8} {row['p95']:8} {row['p99']:8} {row['max']:8}")
    for name, row in results.items():
        print(f"\nslowest {name}:\n  " + "\n  ".join(row["slowest"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
