"""Random filter combinations for the cold list workloads, each with its Datasette equivalent.

A combination is one of a fixed set of *shapes* (which filters, which sort), with values drawn at random (seeded)
from items garden returned during preparation: an article's own topic and maturity, a claim's own topic and
confidence, and so on, so that most combinations match something. Each shape has one canned query in
``bench/datasette/metadata.yaml`` with the same filters, the same order, the same limit and the total count
garden returns. Datasette's parameters arrive as text; the SQL casts where a column is an integer.

Left out on purpose: the claim states ``stale`` and ``draft`` (their SQL depends on today's date), ``q``
(a substring search: the search workloads cover text), ``related_to`` and ``audience``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CONFIDENCE_RANK = {"low": 0, "medium": 1, "medium-high": 2, "high": 3}  # app.content.schema.CONFIDENCE_RANK
STATES = ("verified", "contested", "needs-evidence", "missing-counterevidence")  # stored as claim.state_base
LIMITS = (10, 20, 25, 50, 100)

#: garden's query parameters, Datasette's query parameters
Params = tuple[dict[str, str], dict[str, str]]


@dataclass
class Sample:
    """What preparation collected from garden to draw filter values from."""

    articles: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    topics: list[dict[str, Any]] = field(default_factory=list)  # /topics items
    series: list[str] = field(default_factory=list)

    def dates(self, key: str) -> list[str]:
        return sorted({item[key][:10] for item in self.articles if item.get(key)})


def _limit(rng: random.Random) -> str:
    return str(rng.choice(LIMITS))


def _topic(rng: random.Random, sample: Sample) -> str:
    return str(rng.choice(sample.topics)["topic"])


def articles_topic_maturity(rng: random.Random, sample: Sample) -> Params:
    article, limit = rng.choice(sample.articles), _limit(rng)
    topic = rng.choice(article["topics"]) if article.get("topics") else _topic(rng, sample)
    maturity = article.get("maturity") or "evergreen"
    return (
        {"topic": topic, "maturity": maturity, "sort": "-published", "limit": limit},
        {"topic": topic, "maturity": maturity, "limit": limit},
    )


def articles_tag_min_confidence(rng: random.Random, sample: Sample) -> Params:
    article, limit = rng.choice([a for a in sample.articles if a.get("tags")] or sample.articles), _limit(rng)
    tag = rng.choice(article.get("tags") or ["ai"])
    least = rng.choice(list(CONFIDENCE_RANK))
    return (
        {"tag": tag, "min_confidence": least, "sort": "-updated", "limit": limit},
        {"tag": tag, "rank": str(CONFIDENCE_RANK[least]), "limit": limit},
    )


def articles_series(rng: random.Random, sample: Sample) -> Params:
    series, limit = rng.choice(sample.series), _limit(rng)
    return {"series": series, "sort": "published", "limit": limit}, {"series": series, "limit": limit}


def articles_source_type_updated(rng: random.Random, sample: Sample) -> Params:
    kind, limit = rng.choice(sample.sources)["type"], _limit(rng)
    since, until = sorted(rng.sample(sample.dates("updatedAt"), 2)) if len(sample.dates("updatedAt")) > 1 else ("", "")
    dates = {"updated_since": since, "updated_until": until} if since else {}
    return (
        {"source_type": kind, **dates, "sort": "-updated", "limit": limit},
        {"source_type": kind, "updated_since": since or "0000", "updated_until": until or "9999", "limit": limit},
    )


def articles_state_published(rng: random.Random, sample: Sample) -> Params:
    state, limit = rng.choice(STATES[:2]), _limit(rng)
    since = rng.choice(sample.dates("publishedAt") or ["2000-01-01"])
    return (
        {"claim_state": state, "published_since": since, "sort": "-published", "limit": limit},
        {"state": state, "published_since": since, "limit": limit},
    )


def claims_topic_confidence(rng: random.Random, sample: Sample) -> Params:
    claim, limit = rng.choice(sample.claims), _limit(rng)
    topic = rng.choice(claim["topics"]) if claim.get("topics") else _topic(rng, sample)
    confidence = claim.get("confidence") or "high"
    return (
        {"topic": topic, "confidence": confidence, "limit": limit},
        {"topic": topic, "rank": str(CONFIDENCE_RANK[confidence]), "limit": limit},
    )


def claims_series_min_confidence(rng: random.Random, sample: Sample) -> Params:
    in_series = [c for c in sample.claims if c.get("series")]
    series = rng.choice(in_series)["series"]["slug"] if in_series else rng.choice(sample.series)
    least, limit = rng.choice(list(CONFIDENCE_RANK)), _limit(rng)
    return (
        {"series": series, "min_confidence": least, "limit": limit},
        {"series": series, "rank": str(CONFIDENCE_RANK[least]), "limit": limit},
    )


def claims_kind_state(rng: random.Random, sample: Sample) -> Params:
    claim, limit = rng.choice(sample.claims), _limit(rng)
    kind = claim.get("status") or "core"
    state = claim["state"] if claim.get("state") in STATES else rng.choice(STATES[:2])
    return {"status": kind, "state": state, "limit": limit}, {"kind": kind, "state": state, "limit": limit}


def claims_topic_counterevidence(rng: random.Random, sample: Sample) -> Params:
    claim, limit = rng.choice(sample.claims), _limit(rng)
    topic = rng.choice(claim["topics"]) if claim.get("topics") else _topic(rng, sample)
    has = rng.choice((True, False))
    return (
        {"topic": topic, "has_counterevidence": str(has).lower(), "limit": limit},
        {"topic": topic, "has": str(int(has)), "limit": limit},
    )


def sources_type(rng: random.Random, sample: Sample) -> Params:
    kind, limit = rng.choice(sample.sources)["type"], _limit(rng)
    return {"type": kind, "limit": limit}, {"type": kind, "limit": limit}


def sources_topic_type(rng: random.Random, sample: Sample) -> Params:
    kind, topic, limit = rng.choice(sample.sources)["type"], _topic(rng, sample), _limit(rng)
    return {"topic": topic, "type": kind, "limit": limit}, {"topic": topic, "type": kind, "limit": limit}


def sources_type_cited(rng: random.Random, sample: Sample) -> Params:
    kind, cited, limit = rng.choice(sample.sources)["type"], rng.choice((True, False)), _limit(rng)
    return (
        {"type": kind, "cited": str(cited).lower(), "limit": limit},
        {"type": kind, "cited": str(int(cited)), "limit": limit},
    )


Maker = Callable[[random.Random, Sample], Params]
#: workload: [(resource path, Datasette canned query, maker)], used in turn
SHAPES: dict[str, list[tuple[str, str, Maker]]] = {
    "articles-filter": [
        ("/articles", "articles_topic_maturity", articles_topic_maturity),
        ("/articles", "articles_tag_min_confidence", articles_tag_min_confidence),
        ("/articles", "articles_series", articles_series),
        ("/articles", "articles_source_type_updated", articles_source_type_updated),
        ("/articles", "articles_state_published", articles_state_published),
    ],
    "claims-filter": [
        ("/claims", "claims_topic_confidence", claims_topic_confidence),
        ("/claims", "claims_series_min_confidence", claims_series_min_confidence),
        ("/claims", "claims_kind_state", claims_kind_state),
        ("/claims", "claims_topic_counterevidence", claims_topic_counterevidence),
    ],
    "sources-filter": [
        ("/sources", "sources_type", sources_type),
        ("/sources", "sources_topic_type", sources_topic_type),
        ("/sources", "sources_type_cited", sources_type_cited),
    ],
}
#: The largest topic's first page on each list: garden's parameters besides topic and limit, Datasette's query.
LARGEST = (
    ("/articles", {"sort": "-published"}, "articles_topic"),
    ("/claims", {}, "claims_topic"),
    ("/sources", {}, "sources_topic"),
)


def combinations(workload: str, count: int, rng: random.Random, sample: Sample) -> list[tuple[str, Params, str]]:
    """``count`` distinct combinations for ``workload``, the shapes in turn: (path, params, canned query)."""
    shapes, made, seen = SHAPES[workload], [], set()
    attempts = 0
    while len(made) < count and attempts < count * 30:
        path, query, maker = shapes[attempts % len(shapes)]
        attempts += 1
        garden, datasette = maker(rng, sample)
        key = path + repr(sorted(garden.items()))
        if key not in seen:
            seen.add(key)
            made.append((path, (garden, datasette), query))
    return made
