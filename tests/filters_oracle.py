"""The oracle of the list-filter tests (tests/test_api_filters_*.py): the rows /articles, /claims and /sources
must return, read without the service's code.

For the publisher's corpus it reads its own derived files in ``corpus/expected/`` (index.json for the public
articles in dir order with their topics, tags and updatedAt; the claims and sources feeds for the rows and their
order; verification-report.json for claim states), and for content/ the same rows built from the raw files by
tests/oracle.py (checked against the publisher's files by tests/test_oracle.py); and the raw article files for
what those lack (front matter: summary, dek, readingTime, dates; artifact: audiences, series, publishedAt,
thesis, related links, evidence ``supports`` and source ids, the sources evidence resolves to).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import CONTENT, CORPUS, EXPECTED
from tests.oracle import read_tree

ARTICLES_DIR = CORPUS / "content" / "articles"
FEEDS = EXPECTED / "agents" / "feeds"

#: The claims-feed keys (DATA-CONTRACT §2.5), in order; a /claims item adds state, topics and series.
CLAIM_FEED_KEYS = [
    "articleId", "slug", "claimId", "localClaimId", "claim", "confidence", "status", "verificationStatus", "asOf",
    "evidenceCount", "counterevidenceCount", "articleUrl",
]  # fmt: skip
SOURCE_FEED_KEYS = ["articleId", "slug", "sourceId", "title", "type", "url", "accessed", "articleUrl"]
#: The confidence ordinal of ``min_confidence`` (params.py): low < medium < medium-high < high.
RANK = {name: rank for rank, name in enumerate(["low", "medium", "medium-high", "high"])}
EVIDENCE_KEYS = ["sourceId", "snippet", "supports", "location", "assessedAt", "notes"]
COUNTER_KEYS = ["summary", "sourceId", "snippet", "assessedAt", "notes"]
SOURCE_REF_KEYS = ["title", "url", "type", "accessed"]
FM_DATE_KEYS = ("date", "updated", "publishedAt", "updatedAt", "accessed", "reviewedAt")


# --------------------------------------------------------------------------------------------------------
# The oracle: the publisher's expected files and the raw article files, read without the service's code.


def _iso(value: Any) -> str:
    """A front-matter date as YYYY-MM-DD (a YAML timestamp becomes its UTC calendar date, §1.2)."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _front_matter(path: Path) -> dict[str, Any]:
    match = re.match(r"---\r?\n(.*?)\r?\n---", path.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"{path} has no front matter"
    data = yaml.safe_load(match.group(1))
    return {key: _iso(value) if key in FM_DATE_KEYS else value for key, value in data.items()}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass(eq=False, repr=False)
class Article:
    entry: dict[str, Any]  # the index.json entry
    fm: dict[str, Any]  # article.md front matter, dates as ISO strings
    artifact: dict[str, Any]
    claims: list[Claim] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    def __repr__(self) -> str:  # short, for failure messages
        return f"<article {self.slug}>"

    slug = property(lambda self: self.entry["slug"])
    id = property(lambda self: self.entry["id"])
    title = property(lambda self: self.entry["title"])
    topics = property(lambda self: self.entry["topics"])
    tags = property(lambda self: self.entry["tags"])
    maturity = property(lambda self: self.entry["maturity"])
    updated = property(lambda self: self.entry["updatedAt"])
    published = property(lambda self: self.artifact["publishedAt"])
    audiences = property(lambda self: self.artifact["audiences"])
    series = property(lambda self: self.artifact.get("series"))
    series_slug = property(lambda self: (self.series or {}).get("slug"))

    @property
    def confidences(self) -> set[str]:
        return {claim.confidence for claim in self.claims}

    @property
    def states(self) -> set[str]:
        return {claim.state for claim in self.claims}

    @property
    def source_types(self) -> set[str]:
        return {source.row["type"] for source in self.sources}

    def mentions(self, q: str) -> bool:
        """The keyword dimension (§2.8): title + fm summary + thesis + topics + tags + claims + source titles."""
        parts = [self.title, self.fm["summary"], self.artifact["thesis"], *self.topics, *self.tags]
        parts += [claim.text for claim in self.claims] + [source.row["title"] for source in self.sources]
        return q.lower() in " ".join(parts).lower()

    def links_to(self, other: Article) -> bool:
        return any(link["id"] in (other.id, other.slug) for link in self.artifact["related"])

    def related_to(self, target: Article) -> bool:
        """A shared topic, or a related link either way; never the target itself (§2.8 relatedTo)."""
        if self is target:
            return False
        return bool(set(self.topics) & set(target.topics)) or self.links_to(target) or target.links_to(self)

    def item(self) -> dict[str, Any]:
        """The /articles item: the index entry plus publishedAt, dek, readingTime, audiences and series."""
        extra = {"publishedAt": self.published, "dek": self.fm["dek"], "readingTime": self.fm["readingTime"]}
        return {**self.entry, **extra, "audiences": self.audiences, "series": self.series}


@dataclass(eq=False, repr=False)
class Claim:
    row: dict[str, Any]  # the claims.jsonl row
    article: Article
    raw: dict[str, Any]  # the artifact claim
    state: str  # from verification-report.json

    def __repr__(self) -> str:
        return f"<claim {self.id}>"

    id = property(lambda self: self.row["claimId"])
    text = property(lambda self: self.row["claim"])
    confidence = property(lambda self: self.row["confidence"])

    @property
    def supports(self) -> set[str]:
        return {packet["supports"] for packet in self.raw["evidence"]}

    @property
    def cites(self) -> set[str]:
        return {packet["sourceId"] for packet in self.raw["evidence"]}

    def item(self) -> dict[str, Any]:
        return {**self.row, "state": self.state, "topics": self.article.topics, "series": self.article.series}

    def evidence(self) -> list[dict[str, Any]]:
        """The evidence packets, each resolved to the source of the same article (ids are article-scoped)."""
        listed = {source["id"]: source for source in self.article.artifact["sources"]}
        packets = []
        for packet in self.raw["evidence"]:
            source = listed.get(packet["sourceId"])
            ref = {key: source[key] for key in SOURCE_REF_KEYS} if source else None
            packets.append({**{key: packet[key] for key in EVIDENCE_KEYS if key in packet}, "source": ref})
        return packets

    def counterevidence(self) -> list[dict[str, Any]]:
        return [{key: p[key] for key in COUNTER_KEYS if key in p} for p in self.raw["counterevidence"]]

    def cited_sources(self) -> list[dict[str, Any]]:
        """Each resolvable cited source once, in the order the evidence first cites it."""
        cited: dict[str, dict[str, Any]] = {}
        for packet in self.evidence():
            if packet["source"] is not None:
                cited.setdefault(packet["sourceId"], {"sourceId": packet["sourceId"], **packet["source"]})
        return list(cited.values())


@dataclass(eq=False, repr=False)
class Source:
    row: dict[str, Any]  # the sources.jsonl row
    article: Article

    def __repr__(self) -> str:
        return f"<source {self.article.slug}/{self.id}>"

    id = property(lambda self: self.row["sourceId"])

    @property
    def cited_by(self) -> int:
        """How many of the article's claims cite it as evidence."""
        return sum(self.id in claim.cites for claim in self.article.claims)

    def item(self) -> dict[str, Any]:
        return {**self.row, "citedBy": self.cited_by}


@dataclass(repr=False)
class Oracle:
    articles: list[Article]  # the public articles (index.json), in dir order
    claims: list[Claim]  # claims.jsonl order
    sources: list[Source]  # sources.jsonl order

    def article(self, slug: str) -> Article:
        return next(article for article in self.articles if article.slug == slug)


def _link_rows(
    articles: list[Article], claim_rows: list[tuple[dict[str, Any], str]], source_rows: list[dict]
) -> Oracle:
    """The oracle of ``articles`` with their claims (feed row, state) and sources (feed row), in feed order."""
    by_slug = {article.slug: article for article in articles}
    claims = []
    for row, state in claim_rows:
        article = by_slug[row["slug"]]
        raw = next(c for c in article.artifact["claims"] if c["id"] == row["localClaimId"])
        claims.append(Claim(row, article, raw, state))
        article.claims.append(claims[-1])
    sources = []
    for row in source_rows:
        sources.append(Source(row, by_slug[row["slug"]]))
        by_slug[row["slug"]].sources.append(sources[-1])
    return Oracle(articles, claims, sources)


def _corpus_oracle() -> Oracle:
    """The publisher's corpus, read from its own derived files."""
    index = json.loads((EXPECTED / "agents" / "index.json").read_text(encoding="utf-8"))
    report = json.loads((EXPECTED / "agents" / "verification-report.json").read_text(encoding="utf-8"))
    states = {(a["slug"], c["id"]): c["state"] for a in report["articles"] for c in a["claims"]}
    dirs = {path.name: path for path in ARTICLES_DIR.glob("*/*") if path.is_dir()}
    articles = []
    for entry in index["articles"]:
        folder = dirs[entry["slug"]]
        artifact = json.loads((folder / "artifact.json").read_text(encoding="utf-8"))
        articles.append(Article(entry, _front_matter(folder / "article.md"), artifact))
    claims = [(row, states[row["slug"], row["localClaimId"]]) for row in _jsonl(FEEDS / "claims.jsonl")]
    return _link_rows(articles, claims, _jsonl(FEEDS / "sources.jsonl"))


def _content_oracle() -> Oracle:
    """Our content/, its rows built from the raw files (tests/oracle.py)."""
    public = [raw for raw in read_tree(CONTENT) if raw.public]
    articles = [Article(raw.entry(), _front_matter(raw.directory / "article.md"), raw.artifact) for raw in public]
    claims = [(row, raw.states()[row["localClaimId"]]) for raw in public for row in raw.claim_rows()]
    return _link_rows(articles, claims, [row for raw in public for row in raw.source_rows()])


@functools.cache
def oracle(dataset: str) -> Oracle:
    return _corpus_oracle() if dataset == "corpus" else _content_oracle()


def A(slug: str) -> Article:
    """An article of the publisher's corpus, for predicates that name one (related_to)."""
    return oracle("corpus").article(slug)


def S(slug: str) -> Article:
    """An article of our content/, for predicates that name one."""
    return oracle("content").article(slug)
