"""Equivalence checks made before the wrk runs: the peers return the same data as garden (and get their URL
lists), and every garden backend answers the same bytes."""

from __future__ import annotations

import concurrent.futures
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from .common import IDENTITY, OUT, ROOT, get_ok
from .workloads import Plan

Rows = Callable[..., list[dict[str, Any]]]
DB = "/garden"


def peer_nginx(plan: Plan, nginx_base: str, static: Path, sample: int) -> None:
    """B's URLs for nginx, and a byte-for-byte check of a sample of packets."""
    plan.lines["B", "nginx"] = plan.lines["B", "garden"]
    plan.single["B", "nginx"] = plan.single["B", "garden"]
    same = 0
    checked = plan.slugs[:: max(1, len(plan.slugs) // sample)]
    with httpx.Client(base_url=nginx_base, headers=IDENTITY, timeout=60) as client:
        for slug in checked:
            response = get_ok(client, f"/agents/articles/{slug}.json")
            stored = (static / "agents" / "articles" / f"{slug}.json").read_bytes()
            same += response.content == stored and response.headers["content-type"] == "application/json"
    plan.checks.append(
        f"B: nginx returned garden's exact bytes (application/json) for {same}/{len(checked)} sampled packets"
    )


def peer_article(plan: Plan, rows: Rows, sample: int) -> None:
    """A's URLs for Datasette (article_by_slug), and a sample of slugs checked."""
    db = DB
    plan.lines["A", "datasette"] = [
        f"{db}/article_by_slug.json?" + urlencode({"slug": s, "_shape": "objects"}) for s in plan.slugs
    ]
    typical = plan.single["A", "garden"].rpartition("/")[2]
    plan.single["A", "datasette"] = f"{db}/article_by_slug.json?" + urlencode({"slug": typical, "_shape": "objects"})
    checked = plan.slugs[:: max(1, len(plan.slugs) // sample)]
    same = sum([row["slug"] for row in rows("article_by_slug", slug=slug)] == [slug] for slug in checked)
    plan.checks.append(f"A: Datasette found the same article for {same}/{len(checked)} sampled slugs")


def peer_claims(plan: Plan, rows: Rows) -> None:
    """C's URLs for Datasette (claims_by_topic), each topic's page checked."""
    db = DB
    lines, same = [], 0
    for topic, claim_ids in plan.topics_c.items():
        lines.append(
            f"{db}/claims_by_topic.json?" + urlencode({"topic": topic, "confidence": "high", "_shape": "objects"})
        )
        same += [row["claim_id"] for row in rows("claims_by_topic", topic=topic, confidence="high")] == claim_ids
    plan.lines["C", "datasette"] = lines
    largest = max(plan.topics_c, key=lambda t: len(plan.topics_c[t]))
    plan.single["C", "datasette"] = f"{db}/claims_by_topic.json?" + urlencode(
        {"topic": largest, "confidence": "high", "_shape": "objects"}
    )
    plan.checks.append(f"C: Datasette returned the same claims in the same order for {same}/{len(lines)} topics")


def peer_articles(plan: Plan, rows: Rows) -> None:
    """D's URLs for Datasette (articles_by_topic[_after]), each first and next page checked."""
    db = DB
    lines, same_first, same_next, nexts = [], 0, 0, 0
    for topic, (page_one, page_two, total) in plan.topics_d.items():
        lines.append(f"{db}/articles_by_topic.json?" + urlencode({"topic": topic, "_shape": "objects"}))
        first = rows("articles_by_topic", topic=topic)
        same_first += [row["slug"] for row in first] == page_one and first[0]["total"] == total
        if page_two is not None:
            nexts += 1
            after = {"topic": topic, "updated_at": first[-1]["updated_at"], "slug": first[-1]["slug"]}
            lines.append(f"{db}/articles_by_topic_after.json?" + urlencode({**after, "_shape": "objects"}))
            same_next += [row["slug"] for row in rows("articles_by_topic_after", **after)] == page_two
    plan.lines["D", "datasette"] = lines
    largest = max(plan.topics_d, key=lambda t: plan.topics_d[t][2])
    plan.single["D", "datasette"] = f"{db}/articles_by_topic.json?" + urlencode({"topic": largest, "_shape": "objects"})
    plan.checks.append(
        f"D: Datasette returned the same articles in the same order (and total) for "
        f"{same_first}/{len(plan.topics_d)} first pages and {same_next}/{nexts} next pages"
    )


def prepare_peers(plan: Plan, nginx_base: str | None, datasette_base: str | None, static: Path, sample: int) -> None:
    """The peers' URL lists, and checks that each peer returns the same data as garden."""
    if nginx_base and ("B", "garden") in plan.lines:
        peer_nginx(plan, nginx_base, static, sample)
    if not datasette_base:
        return
    with httpx.Client(base_url=datasette_base, timeout=120) as client:

        def rows(path: str, **params: Any) -> list[dict[str, Any]]:
            query = urlencode({**params, "_shape": "objects"})
            result: list[dict[str, Any]] = get_ok(client, f"{DB}/{path}.json?{query}").json()["rows"]
            return result

        if ("A", "garden") in plan.lines:
            peer_article(plan, rows, sample)
        if plan.topics_c:
            peer_claims(plan, rows)
        if plan.topics_d:
            peer_articles(plan, rows)


def _first_difference(one: bytes, other: bytes) -> str:
    """Where two bodies part, with a little of each around that byte."""
    at = next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b), min(len(one), len(other)))
    return f"first difference at byte {at}: {one[max(0, at - 30) : at + 30]!r} vs {other[max(0, at - 30) : at + 30]!r}"


def compare_gardens(plan: Plan, bases: dict[str, str], sample: int) -> None:
    """Check that every garden backend answers a sample of A's, C's and D's URLs with the same status and the same
    bytes (identity encoding) as the first one. The result goes to ``plan.checks``; a difference also to
    ``plan.warnings``, and both bodies of the first few to bench/out/backend-diff/ for a closer look.

    Every request carries the first server's Host, so that the absolute links (``next``) name the same server.
    """
    reference, *others = bases
    diff_dir = OUT / "backend-diff"
    if diff_dir.exists():
        shutil.rmtree(diff_dir)
    headers = {**IDENTITY, "Host": urlsplit(bases[reference]).netloc}
    clients = {name: httpx.Client(base_url=base, headers=headers, timeout=120) for name, base in bases.items()}
    try:
        for letter in ("A", "C", "D"):
            lines = plan.lines.get((letter, "garden"))
            if not lines:
                continue
            sampled = lines[:: max(1, len(lines) // sample)]
            for name in others:

                def fetch(path: str, name: str = name) -> tuple[str, httpx.Response, httpx.Response]:
                    return path, clients[reference].get(path), clients[name].get(path)

                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    answers = list(pool.map(fetch, sampled))
                differ = [
                    (path, one, other)
                    for path, one, other in answers
                    if one.status_code != other.status_code or one.content != other.content
                ]
                line = (
                    f"{letter}: {name} returned the same status and bytes as {reference} for "
                    f"{len(sampled) - len(differ)}/{len(sampled)} sampled URLs"
                )
                for number, (path, one, other) in enumerate(differ[:3], 1):
                    line += (
                        f"; differs: `{path}` ({one.status_code} vs {other.status_code}, {len(one.content)} vs "
                        f"{len(other.content)} bytes, {_first_difference(one.content, other.content)})"
                    )
                    diff_dir.mkdir(parents=True, exist_ok=True)
                    for system, response in ((reference, one), (name, other)):
                        tag = re.sub(r"[^a-z0-9]+", "-", system).strip("-")
                        (diff_dir / f"{letter}-{number}-{tag}.body").write_bytes(response.content)
                plan.checks.append(line)
                if differ:
                    plan.warnings.append(
                        f"{name} and {reference} answered {len(differ)}/{len(sampled)} sampled {letter} URLs "
                        f"differently (bodies in {diff_dir.relative_to(ROOT)}; see the equivalence checks)"
                    )
    finally:
        for client in clients.values():
            client.close()
