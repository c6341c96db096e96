"""The cold workloads: which URLs each one asks for (each used once per run), and Datasette's equivalents.

Preparation reads garden (untimed): ``/topics``, ``/series``, the first pages of ``/claims``, ``/articles`` and
``/sources`` (filter values and the words of the search questions, :mod:`httpbench.vocabulary`), and walks each
list with ``limit=500`` down to ``--deep`` items, then on in steps of 50, to collect the cursors of the deep
pages. The deep pages are then asked for with ``limit=20``, a URL preparation never used. The slugs and claim ids
of the item workloads are drawn from what those walks returned.

``/topics`` and ``/series`` take no parameter: they are the one URL each, asked for ``--cold-queries`` times
(the response cache is off, so every request computes).
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from . import cold_lists, vocabulary
from .cold_lists import LARGEST, Sample
from .common import IDENTITY, get_ok

#: name: (group, what it asks for, garden's p99 target in ms)
COLD: dict[str, tuple[str, str, float]] = {
    "search-common": ("search", "/search?q=W, W among the commonest words", 100),
    "search-question": ("search", "/search?q=a generated 5-word question", 100),
    "search-rare": ("search", "/search?q=W, W a word seen once in the real corpus", 100),
    "search-budget": ("search", "/search?q=W&type=claims&max_tokens=800, W among the claims' commonest words", 100),
    "articles-filter": ("lists", "/articles with a random filter combination", 30),
    "claims-filter": ("lists", "/claims with a random filter combination", 30),
    "sources-filter": ("lists", "/sources with a random filter combination", 30),
    "largest-topic": ("lists", "the largest topic's first page of /articles, /claims, /sources", 30),
    "deep": ("lists", "a page of /articles, /claims, /sources starting --deep items deep", 30),
    "topics": ("items", "/topics", 15),
    "series": ("items", "/series", 15),
    "series-item": ("items", "/series/{slug}", 15),
    "article": ("items", "/articles/{slug}", 15),
    "claim": ("items", "/claims/{id}", 15),
    "feed": ("feed", "/agents/feeds/claims.jsonl, the first download on a freshly started server", 0),
}
DEEP_STEP = 50  # the cursors of the deep pages are this many items apart
DEEP = {  # list: the key of its order, as SQL on the SQLite file (Datasette's keyset), and its canned query
    "/articles": (
        "select published_at, slug from article where is_public order by published_at desc, slug desc",
        ("published_at", "slug"),
        "articles_after",
    ),
    "/claims": (
        "select a.dir_key, c.position from claim c join article a on a.id = c.article_id where a.is_public "
        "order by a.dir_key, c.position",
        ("dir_key", "position"),
        "claims_after",
    ),
    "/sources": (
        "select a.dir_key, s.position from source s join article a on a.id = s.article_id where a.is_public "
        "order by a.dir_key, s.position",
        ("dir_key", "position"),
        "sources_after",
    ),
}


@dataclass
class ColdRequest:
    """One request of a cold workload: garden's URL and, where one exists, Datasette's equivalent."""

    path: str
    peer: str | None = None
    items: bool = False  # a 200 must hold at least one item (the searches)


@dataclass
class ColdPlan:
    requests: dict[str, list[ColdRequest]] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def datasette(query: str, params: dict[str, str]) -> str:
    return f"/garden/{query}.json?" + urlencode({**params, "_shape": "objects"})


def collect_sample(client: httpx.Client) -> Sample:
    """Topics, series, and items to draw filter values and words from. Every list's own order keeps the copies of
    one real article together (its slug, dir and dates repeat batch after batch), so the claims are taken topic by
    topic (the first 20 of each), and the articles and sources from the first page here and, later, every 50th
    item the deep walks see (:func:`widen`)."""
    sample = Sample()
    sample.topics = get_ok(client, "/topics").json()["items"]
    sample.series = [item["slug"] for item in get_ok(client, "/series").json()["items"]]
    sample.articles = get_ok(client, "/articles?limit=500").json()["items"]
    sample.sources = get_ok(client, "/sources?limit=500").json()["items"]
    for topic in sample.topics:
        sample.claims += get_ok(client, "/claims?" + urlencode({"topic": topic["topic"], "limit": 20})).json()["items"]
    return sample


def widen(sample: Sample, walked: dict[str, list[dict[str, Any]]]) -> None:
    """Every 50th item the deep walks saw joins the sample (they cover the first ``--deep`` items of each list)."""
    sample.articles += walked.get("/articles", [])[::50]
    sample.sources += walked.get("/sources", [])[::50]
    sample.claims += walked.get("/claims", [])[::50]


def search_requests(plan: ColdPlan, sample: Sample, chosen: set[str], count: int, rng: random.Random) -> None:
    texts = [claim.get("claim", "") for claim in sample.claims]
    texts += [f"{a.get('title', '')} {a.get('summary', '')}" for a in sample.articles]
    counts = vocabulary.word_counts(texts)
    common = vocabulary.commonest(counts, count)
    # A claims-only search needs words the claims hold (a word of titles and summaries alone finds no claim).
    in_claims = vocabulary.commonest(vocabulary.word_counts(texts[: len(sample.claims)]), count)
    terms = {
        "search-common": [{"q": word} for word in common],
        "search-question": [{"q": q} for q in vocabulary.questions(counts, count, rng)],
        "search-rare": [{"q": word} for word in vocabulary.rare(counts, count, rng)],
        "search-budget": [{"q": word, "type": "claims", "max_tokens": "800"} for word in in_claims],
    }
    for name, queries in terms.items():
        if name in chosen:
            plan.requests[name] = [ColdRequest("/search?" + urlencode(q), items=True) for q in queries]
    plan.facts.append(
        f"search: {len(counts):,} distinct words in {len(texts):,} claim and article texts; commonest "
        f"{', '.join(common[:8])}; e.g. {terms['search-question'][0]['q'] if terms['search-question'] else '—'!r}, "
        f"rare {', '.join(t['q'] for t in terms['search-rare'][:4])}"
    )


def list_requests(plan: ColdPlan, sample: Sample, chosen: set[str], count: int, rng: random.Random) -> None:
    for name in ("articles-filter", "claims-filter", "sources-filter"):
        if name in chosen:
            made = cold_lists.combinations(name, count, rng, sample)
            plan.requests[name] = [
                ColdRequest(f"{path}?{urlencode(garden)}", datasette(query, peer))
                for path, (garden, peer), query in made
            ]
    if "largest-topic" in chosen:
        largest = max(sample.topics, key=lambda item: (item["articleCount"], item["topic"]))["topic"]
        requests = []
        for index in range(count):
            path, extra, query = LARGEST[index % len(LARGEST)]
            limit = str(10 + 5 * (index // len(LARGEST)))  # a new limit on each pass: every URL is new
            garden = {"topic": largest, **extra, "limit": limit}
            requests.append(
                ColdRequest(f"{path}?{urlencode(garden)}", datasette(query, {"topic": largest, "limit": limit}))
            )
        plan.requests["largest-topic"] = requests
        plan.facts.append(f"largest topic: {largest!r}")


def walk(client: httpx.Client, path: str, deep: int, count: int) -> tuple[list[str], list[dict[str, Any]]]:
    """The cursors of ``count`` pages starting ``deep``, ``deep + 50``, … items into ``path`` (walked with limit 500,
    then 50); and every item seen on the way."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    cursors: list[str] = []
    while len(cursors) < count:
        limit = 500 if len(seen) + 500 <= deep else (deep - len(seen) if len(seen) < deep else DEEP_STEP)
        body = get_ok(client, f"{path}?" + urlencode({"limit": limit, **({"cursor": cursor} if cursor else {})})).json()
        seen += body["items"]
        if not body.get("next"):
            break
        cursor = parse_qs(urlsplit(body["next"]).query)["cursor"][0]
        if len(seen) >= deep:
            cursors.append(cursor)
    return cursors, seen


def deep_keys(db: Path, path: str, depths: list[int]) -> list[dict[str, str]]:
    """Datasette's keyset parameters for the pages starting at ``depths`` (the key of the row just before)."""
    sql, names, _query = DEEP[path]
    with sqlite3.connect(f"file:{quote(str(db))}?immutable=1", uri=True) as conn:
        return [
            dict(zip(names, map(str, conn.execute(f"{sql} limit 1 offset ?", (depth - 1,)).fetchone()), strict=True))
            for depth in depths
        ]


def deep_requests(
    plan: ColdPlan, client: httpx.Client, db: Path | None, deep: int, count: int
) -> dict[str, list[dict[str, Any]]]:
    """The deep pages (``count`` in all, over the three lists); the items the walks saw, by list."""
    requests: list[ColdRequest] = []
    walked: dict[str, list[dict[str, Any]]] = {}
    per_list = -(-count // len(DEEP))
    for path in DEEP:
        cursors, walked[path] = walk(client, path, deep, per_list)
        depths = [deep + DEEP_STEP * index for index in range(len(cursors))]
        keys = deep_keys(db, path, depths) if db is not None else [None] * len(cursors)
        for cursor, key in zip(cursors, keys, strict=True):
            peer = datasette(DEEP[path][2], {**key, "limit": "20"}) if key else None
            requests.append(ColdRequest(f"{path}?" + urlencode({"limit": 20, "cursor": cursor}), peer))
        plan.facts.append(
            f"deep {path}: {len(cursors)} pages from item {deep:,} on (walked {len(walked[path]):,} items)"
        )
    plan.requests["deep"] = requests
    return walked


def item_requests(
    plan: ColdPlan,
    sample: Sample,
    walked: dict[str, list[dict[str, Any]]],
    chosen: set[str],
    count: int,
    rng: random.Random,
) -> None:
    slugs = sorted({a["slug"] for a in walked.get("/articles", []) + sample.articles})
    claims = sorted({c["claimId"] for c in walked.get("/claims", []) + sample.claims})
    chosen_lists = {
        "article": [
            ColdRequest(f"/articles/{s}", datasette("article_by_slug", {"slug": s}))
            for s in rng.sample(slugs, min(count, len(slugs)))
        ],
        "claim": [
            ColdRequest(f"/claims/{quote(c, safe=':')}", datasette("claim_by_id", {"claim_id": c}))
            for c in rng.sample(claims, min(count, len(claims)))
        ],
        "series-item": [
            ColdRequest(f"/series/{quote(s, safe='')}", datasette("series_members", {"series": s}))
            for s in rng.sample(sample.series, min(count, len(sample.series)))
        ],
        "topics": [ColdRequest("/topics", datasette("topic_counts", {})) for _ in range(count)],
        "series": [ColdRequest("/series") for _ in range(count)],
    }
    for name, requests in chosen_lists.items():
        if name in chosen:
            plan.requests[name] = requests
    plan.facts.append(
        f"items drawn from {len(slugs):,} article slugs, {len(claims):,} claim ids, {len(sample.series):,} series"
    )


def prepare_cold(base: str, db: Path | None, chosen: set[str], args: Any) -> tuple[ColdPlan, Sample]:
    """Every cold workload's requests, from the garden at ``base`` (untimed)."""
    plan, rng = ColdPlan(), random.Random(args.cold_seed)
    with httpx.Client(base_url=base, headers=IDENTITY, timeout=600) as client:
        sample = collect_sample(client)
        plan.facts.append(
            f"sample: {len(sample.topics):,} topics, {len(sample.series):,} series; {len(sample.articles)} articles, "
            f"{len(sample.sources)} sources (first pages), {len(sample.claims):,} claims (20 per topic)"
        )
        walked = deep_requests(plan, client, db, args.deep, args.cold_queries) if "deep" in chosen else {}
        widen(sample, walked)
        search_requests(plan, sample, chosen, args.cold_queries, rng)
        list_requests(plan, sample, chosen, args.cold_queries, rng)
        item_requests(plan, sample, walked, chosen, args.cold_queries, rng)
    return plan, sample
