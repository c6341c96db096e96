"""Rows in the publisher's shapes (DATA-CONTRACT §2): one builder per shape, shared by the REST API and the
agent layer so that the two can never disagree. Builders take stored rows and return plain dicts whose key
order is the publisher's; a key whose source value is absent is omitted, never written as null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import orjson


@lru_cache(maxsize=4096)  # a feed asks once per row, and rows come article by article
def article_url(site: str, canonical_path: str) -> str:
    """canonicalPath resolved against the site, as the WHATWG URL parser resolves it."""
    return urljoin(site.rstrip("/") + "/", canonical_path)


def article_urls(site: str) -> Callable[[str], str]:
    """:func:`article_url` for many paths against one site (a sitemap of 50,000): a path that starts with one ``/``
    and has no ``.`` or ``..`` segment resolves to the site's origin followed by the path, which is what urljoin
    returns, without its parsing (400 ms of 520 at 50,000); any other path goes through :func:`article_url`."""
    origin = article_url(site, "/").removesuffix("/")

    def resolve(path: str) -> str:
        if path.startswith("/") and not path.startswith("//") and not _DOT_SEGMENT.search(path):
            return origin + path
        return article_url(site, path)

    return resolve


_DOT_SEGMENT = re.compile(r"/\.{1,2}(?:[/?#]|$)")


def packet_paths(slug: str) -> dict[str, str]:
    return {"agentJsonPath": f"/agents/articles/{slug}.json", "agentMarkdownPath": f"/agents/articles/{slug}.md"}


def index_entry(article: Mapping[str, Any], topics: Sequence[str], tags: Sequence[str], site: str) -> dict[str, Any]:
    """An ``index.json`` article entry (§2.2) from an ``article`` row and its ordered topics and tags."""
    entry: dict[str, Any] = {"id": f"article:{article['slug']}", "slug": article["slug"], "title": article["title"]}
    if article["summary"] is not None:
        entry["summary"] = article["summary"]
    entry |= {"status": article["status"], "maturity": article["maturity"], "topics": list(topics)}
    if article["layout"] == "source":
        entry["tags"] = list(tags)
    entry |= {
        "canonicalPath": article["canonical_path"],
        "articleUrl": article_url(site, article["canonical_path"]),
        **packet_paths(article["slug"]),
        "updatedAt": article["updated_at"],
        "claimCount": article["claim_count"],
        "sourceCount": article["source_count"],
        "tokenEstimate": article["token_estimate"],
        "contentHash": article["content_hash"],
    }
    return entry


def series_of(article: Mapping[str, Any]) -> dict[str, Any] | None:
    """The article's ``series`` object as the artifact states it, or None for a standalone article."""
    if article["series_slug"] is None:
        return None
    series: dict[str, Any] = {"slug": article["series_slug"], "title": article["series_title"]}
    if article["series_season"] is not None:
        series["season"] = article["series_season"]
    series |= {"order": article["series_order"], "role": article["series_role"]}
    if article["series_arc"] is not None:
        series["arc"] = article["series_arc"]
    return series


def generated_at(max_updated_at: str | None) -> str:
    """The corpus-wide generatedAt: the newest public updatedAt at midnight UTC (§2.0)."""
    return f"{max_updated_at or '1970-01-01'}T00:00:00.000Z"


def packet(article: Mapping[str, Any], artifact_json: str, generated: str, site: str, repo: str) -> dict[str, Any]:
    """``agents/articles/<slug>.json`` (§2.1): the artifact in its own key order plus the derived keys.
    ``sourceGitHubUrl`` points into ``repo``, the content's repository (GARDEN_REPO_URL), on its main branch.

    A packet-layout article already is a packet and is returned as given.
    """
    data: dict[str, Any] = orjson.loads(artifact_json)
    if article["layout"] == "packet":
        return data
    slug, year = article["slug"], article["year"]
    source_repo_path = f"content/articles/{year}/{slug}/article.md"
    data["contentHash"] = article["content_hash"]
    data |= {
        "generatedAt": generated,
        "articleUrl": article_url(site, data["canonicalPath"]),
        **packet_paths(slug),
        "sourceRepoPath": source_repo_path,
        "sourceGitHubUrl": f"{repo}/blob/main/{source_repo_path}",
        "tokenEstimate": article["token_estimate"],
        "sectionOutline": article["section_outline"],
    }
    return data


def claim_feed_row(claim: Mapping[str, Any], slug: str, url: str) -> dict[str, Any]:
    """A ``claims.jsonl`` row (§2.5) from a ``claim`` row."""
    return {
        "articleId": f"article:{slug}",
        "slug": slug,
        "claimId": claim["claim_id"],
        "localClaimId": claim["local_id"],
        "claim": claim["text"],
        "confidence": claim["confidence"],
        "status": claim["kind"],
        "verificationStatus": claim["verification_status"] or "draft",
        "asOf": claim["as_of"],
        "evidenceCount": claim["evidence_count"],
        "counterevidenceCount": claim["counterevidence_count"],
        "articleUrl": url,
    }


def source_feed_row(source: Mapping[str, Any], slug: str, url: str) -> dict[str, Any]:
    """A ``sources.jsonl`` row (§2.5) from a ``source`` row."""
    return {
        "articleId": f"article:{slug}",
        "slug": slug,
        "sourceId": source["source_id"],
        "title": source["title"],
        "type": source["type"],
        "url": source["url"],
        "accessed": source["accessed"],
        "articleUrl": url,
    }
