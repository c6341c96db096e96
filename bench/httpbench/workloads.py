"""The plans of the wrk workloads A–H: every URL each one rotates over, collected from the running garden."""

from __future__ import annotations

import concurrent.futures
import itertools
import re
import shutil
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

from .common import IDENTITY, ROOT, TITLE_STOPWORDS, WORKLOADS, all_items, get_ok, path_of


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


def plan_packets(plan: Plan, client: httpx.Client, static: Path, typical: str) -> None:
    """B and G: the packets, fetched once so that nginx serves exactly garden's bytes; their ETags feed G."""
    articles_dir = static / "agents" / "articles"
    if articles_dir.exists():
        shutil.rmtree(articles_dir)
    articles_dir.mkdir(parents=True)

    def export(slug: str) -> tuple[str, str, int]:
        response = get_ok(client, f"/agents/articles/{slug}.json")
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


def plan_claims(plan: Plan, client: httpx.Client, topics: list[str]) -> None:
    """C: each topic's high-confidence claims, first page."""
    for topic in topics:
        body = get_ok(client, f"/claims?topic={quote(topic)}&confidence=high&limit=50").json()
        if body["items"]:
            plan.topics_c[topic] = [item["claimId"] for item in body["items"]]
    plan.lines["C", "garden"] = [f"/claims?topic={quote(t)}&confidence=high&limit=50" for t in plan.topics_c]
    largest = max(plan.topics_c, key=lambda t: len(plan.topics_c[t]))
    plan.single["C", "garden"] = f"/claims?topic={quote(largest)}&confidence=high&limit=50"
    plan.facts.append(f"C: {len(plan.topics_c)} topics with high-confidence claims (of {len(topics)})")


def plan_articles(plan: Plan, client: httpx.Client, topics: list[str]) -> None:
    """D: each topic's articles, newest updated first, and the next page where there is one."""
    lines = []
    for topic in topics:
        first = f"/articles?topic={quote(topic)}&sort=-updated&limit=20"
        body = get_ok(client, first).json()
        page_two = None
        lines.append(first)
        if body.get("next"):
            second = path_of(body["next"])
            lines.append(second)
            page_two = [item["slug"] for item in get_ok(client, second).json()["items"]]
        plan.topics_d[topic] = ([item["slug"] for item in body["items"]], page_two, body["total"])
    plan.lines["D", "garden"] = lines
    largest = max(plan.topics_d, key=lambda t: plan.topics_d[t][2])
    plan.single["D", "garden"] = f"/articles?topic={quote(largest)}&sort=-updated&limit=20"
    seconds = sum(1 for _p1, p2, _total in plan.topics_d.values() if p2 is not None)
    plan.facts.append(f"D: {len(topics)} first pages and {seconds} next pages")


def plan_search(plan: Plan, client: httpx.Client, titles: list[str], words: int, phrases: int) -> None:
    """E: words and phrases from the titles that garden answers with a 200."""
    terms = search_terms(titles, words, phrases)
    kept = [term for term in terms if client.get("/search", params={"q": term}).status_code == 200]
    plan.lines["E", "garden"] = ["/search?" + urlencode({"q": term}) for term in kept]
    plan.single["E", "garden"] = "/search?" + urlencode({"q": "attention" if "attention" in kept else kept[0]})
    plan.facts.append(f"E: {len(kept)} search terms from {len(titles)} distinct titles")


def prepare_garden(base: str, static: Path, only: set[str], search_words: int, search_phrases: int) -> Plan:
    """Collect every URL from the running garden server; export the packets (B) as files for nginx."""
    plan = Plan()
    with httpx.Client(base_url=base, headers=IDENTITY, timeout=120) as client:
        listed = all_items(client, "/articles?sort=published&limit=500&fields=slug,title")
        plan.slugs = [item["slug"] for item in listed]
        topics = [item["topic"] for item in get_ok(client, "/topics").json()["items"]]
        typical = plan.slugs[len(plan.slugs) // 2]
        plan.facts.append(f"{len(plan.slugs)} public articles, {len(topics)} topics")
        plan.lines["A", "garden"] = [f"/articles/{slug}" for slug in plan.slugs]
        plan.single["A", "garden"] = f"/articles/{typical}"
        if {"B", "G"} & only:
            plan_packets(plan, client, static, typical)
        if "C" in only:
            plan_claims(plan, client, topics)
        if "D" in only:
            plan_articles(plan, client, topics)
        if "E" in only:
            plan_search(plan, client, sorted({item["title"] for item in listed}), search_words, search_phrases)
        plan.lines["H", "garden"] = ["/healthz"]
        plan.single["H", "garden"] = "/healthz"
    plan.expected = {letter: 304 if letter == "G" else 200 for letter in WORKLOADS}
    return plan


def etag_drift(plan: Plan, base: str) -> tuple[int, int]:
    """Of a sample of packets (B), how many have another ETag on the server at ``base`` than in the plan; (that
    count, the sample's size). G sends the plan's ETags, so a server that differs answers 200s there, not 304s."""
    if not plan.etags:
        return 0, 0
    sample = plan.slugs[:: max(1, len(plan.slugs) // 50)]
    with httpx.Client(base_url=base, headers=IDENTITY, timeout=60) as client:
        differ = sum(client.get(f"/agents/articles/{s}.json").headers.get("etag") != plan.etags[s] for s in sample)
    return differ, len(sample)
