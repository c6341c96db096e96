"""Every filter of /articles, /claims and /sources, table-driven, on our content/ and, where ../shared is there,
on the publisher's corpus (its 73 articles hold more rows, ties and odd text; those variants skip without it).

No expectation is typed in: an "oracle" reads, for the publisher's corpus, its own derived files in
``corpus/expected/`` (index.json for the public articles in dir order with their topics, tags and updatedAt; the
claims and sources feeds for the rows and their order; verification-report.json for claim states), and for
content/ the same rows built from the raw files by tests/oracle.py (checked against the publisher's files by
tests/test_oracle.py); and the raw article files for what those lack (front matter: summary, dek,
readingTime, dates; artifact: audiences, series, publishedAt, thesis, related links, evidence ``supports`` and
source ids, the sources evidence resolves to). Each table row is a query and a predicate over the oracle; the
test asks the API (walking every page) and compares the rows it returns, in order and in full, with the
oracle's rows that satisfy the predicate.

Semantics under test (app/queries/params.py): values within one filter are ORed (``topic=a&topic=b`` or
``topic=a,b``), different filters are ANDed; lists are in feed order (claims, sources) or in the requested sort
(articles); ``total`` counts every matching row and ``next``/``Link: rel="next"`` walk them by cursor.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import CONTENT, CORPUS, EXPECTED, api_client, app_statements, need_shared
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
PAGE_LIMIT = 7  # small and prime: pages end mid-article and mid-tie
MAX_PAGES = 200


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


# --------------------------------------------------------------------------------------------------------
# The data set, the client and page walking.

DATASETS = ["content", "corpus"]


@pytest.fixture(scope="module", params=DATASETS)
def dataset(request: pytest.FixtureRequest) -> str:
    """``content`` (our content/, always) or ``corpus`` (the publisher's, skipped without ../shared)."""
    if request.param == "corpus":
        need_shared(EXPECTED)
    return str(request.param)


@pytest.fixture(scope="module")
def client(dataset: str, backend: str, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    # ``backend`` is asked for so that the database fixture picked by name runs on each backend.
    with api_client(request.getfixturevalue(f"{dataset}_db")) as client:
        yield client


@pytest.fixture(scope="module")
def o(dataset: str) -> Oracle:
    return oracle(dataset)


#: {test name: (test function, argument names, the corpus's rows)}: the table-driven tests' rows for the
#: publisher's corpus, run by test_the_tables_on_the_publishers_corpus (one test per table, so that a checkout
#: without ../shared skips a handful of tests, not hundreds).
ON_CORPUS: dict[str, tuple[Callable[..., None], list[str], list[tuple[Any, ...]]]] = {}


def per_dataset(names: str, tables: dict[str, list[tuple[Any, ...]]], ident: Callable[..., str]) -> Any:
    """Parametrize a test with content/'s rows (ids ``content-<ident(*row)>``), and register the corpus's rows
    for test_the_tables_on_the_publishers_corpus."""
    argnames = names.split(",")
    params = [pytest.param("content", *row, id=f"content-{ident(*row)}") for row in tables.get("content", [])]
    mark = pytest.mark.parametrize(("dataset", *argnames), params, indirect=["dataset"], scope="module")

    def decorate(function: Callable[..., None]) -> Any:
        if "corpus" in tables:
            ON_CORPUS[function.__name__] = (function, argnames, tables["corpus"])
        return mark(function)

    return decorate


def only(*datasets: str) -> Any:
    """Run a test on these data sets only."""
    return pytest.mark.parametrize("dataset", datasets, indirect=True, scope="module")


def walk(client: TestClient, path: str, query: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every item of a list, following ``next`` from the first page; checks total, next and Link on the way."""
    url: str | None = f"{path}?{query}&limit={limit}" if query else f"{path}?limit={limit}"
    items: list[dict[str, Any]] = []
    totals = set()
    for _ in range(MAX_PAGES):
        assert url is not None
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        totals.add((body["total"], body["totalRelation"]))
        url = body["next"]
        if url is None:
            assert "link" not in response.headers, "the last page must not announce a next page"
            break
        assert body["items"], "a page with a next link must not be empty"
        assert response.headers.get("link") == f'<{url}>; rel="next"'
    else:
        pytest.fail(f"{path}?{query} did not end within {MAX_PAGES} pages")
    assert totals == {(len(items), "eq")}, f"total {totals} is not constant or not the number of rows ({len(items)})"
    return items


class Case(NamedTuple):
    query: str
    predicate: Callable[[Any], Any]
    may_be_empty: bool = False  # the data has no such row (still a meaningful check: nothing leaks)


def cases(tables: dict[str, list[Case]]) -> Any:
    return per_dataset("case", {name: [(case,) for case in rows] for name, rows in tables.items()}, lambda c: c.query)


def _expected(rows: list[Any], case: Case) -> list[Any]:
    expected = [row for row in rows if case.predicate(row)]
    assert expected or case.may_be_empty, f"the oracle has no row for {case.query}: pick a filter the data has"
    return expected


@only("corpus")
def test_oracle_sources_agree_where_they_overlap(o: Oracle) -> None:
    """A guard on the oracle: the raw files say what the expected files say wherever both say something."""
    assert len(o.articles) == len({a.slug for a in o.articles}) > 50
    for article in o.articles:
        assert (article.fm["summary"], article.fm["tags"]) == (article.entry["summary"], article.tags), article.slug
        assert article.fm["date"] == article.published, article.slug  # publishedAt = fm date (§1.4)
        assert article.artifact["updatedAt"] == article.updated, article.slug
        assert (len(article.claims), len(article.sources)) == (
            article.entry["claimCount"],
            article.entry["sourceCount"],
        )
    for claim in o.claims:
        assert (claim.row["evidenceCount"], claim.row["counterevidenceCount"]) == (
            len(claim.raw["evidence"]),
            len(claim.raw["counterevidence"]),
        )


# --------------------------------------------------------------------------------------------------------
# /articles


def _article_order(sort: str) -> Callable[[list[Article]], list[Article]]:
    """The oracle of each sort: the key, ties broken by slug (descending sorts: slug descending)."""
    keys: dict[str, tuple[Callable[[Article], Any], bool]] = {
        "-published": (lambda a: (a.published, a.slug), True),
        "published": (lambda a: (a.published, a.slug), False),
        "-updated": (lambda a: (a.updated, a.slug), True),
        "updated": (lambda a: (a.updated, a.slug), False),
        "title": (lambda a: (a.title.lower(), a.slug), False),
        # series members first (by series slug, then order), standalone articles last; slug breaks ties
        "series": (lambda a: (a.series is None, a.series_slug or "", (a.series or {}).get("order", 0), a.slug), False),
    }
    key, descending = keys[sort]
    return lambda articles: sorted(articles, key=key, reverse=descending)


SORTS = ["-published", "published", "-updated", "updated", "title", "series"]

CONTENT_ARTICLE_CASES = [
    Case("topic=soil-health", lambda a: "soil-health" in a.topics),
    Case("topic=pollinators,water", lambda a: {"pollinators", "water"} & set(a.topics)),
    Case("topic=pollinators&topic=water", lambda a: {"pollinators", "water"} & set(a.topics)),
    Case("topic=no-such-topic", lambda a: "no-such-topic" in a.topics, may_be_empty=True),
    Case("topic=Soil-Health", lambda a: "Soil-Health" in a.topics, may_be_empty=True),  # exact
    Case("tag=compost", lambda a: "compost" in a.tags),
    Case("tag=no-dig,glossary", lambda a: {"no-dig", "glossary"} & set(a.tags)),
    Case("series=soil-from-the-ground-up", lambda a: a.series_slug == "soil-from-the-ground-up"),
    Case("series=pollinator-corridors,soil-from-the-ground-up",
         lambda a: a.series_slug in {"pollinator-corridors", "soil-from-the-ground-up"}),
    Case("maturity=evergreen", lambda a: a.maturity == "evergreen"),
    Case("maturity=contested,seed&maturity=superseded", lambda a: a.maturity in {"contested", "seed", "superseded"}),
    Case("maturity=superseded", lambda a: a.maturity == "superseded", may_be_empty=True),
    Case("audience=teachers", lambda a: "teachers" in a.audiences),
    Case("audience=AI%20agents", lambda a: "AI agents" in a.audiences),
    Case("audience=ai%20agents", lambda a: "ai agents" in a.audiences, may_be_empty=True),  # exact, case and all
    Case("audience=teachers,schools", lambda a: {"teachers", "schools"} & set(a.audiences)),
    Case("confidence=medium", lambda a: "medium" in a.confidences),
    Case("confidence=high,low", lambda a: {"high", "low"} & a.confidences),
    Case("confidence=low", lambda a: "low" in a.confidences),
    Case("min_confidence=high", lambda a: any(RANK[c] >= RANK["high"] for c in a.confidences)),
    Case("min_confidence=medium-high", lambda a: any(RANK[c] >= RANK["medium-high"] for c in a.confidences)),
    Case("min_confidence=medium", lambda a: any(RANK[c] >= RANK["medium"] for c in a.confidences)),
    Case("min_confidence=low", lambda a: bool(a.confidences)),
    Case("claim_state=verified", lambda a: "verified" in a.states),
    Case("claim_state=contested", lambda a: "contested" in a.states),
    Case("claim_state=stale", lambda a: "stale" in a.states),
    Case("claim_state=needs-evidence,draft", lambda a: {"needs-evidence", "draft"} & a.states, may_be_empty=True),
    Case("source_type=paper", lambda a: "paper" in a.source_types),
    Case("source_type=book,regulation", lambda a: {"book", "regulation"} & a.source_types),
    Case("source_type=Paper", lambda a: "Paper" in a.source_types, may_be_empty=True),  # free text, exact
    Case("q=compost", lambda a: a.mentions("compost")),
    Case("q=COMPOST", lambda a: a.mentions("COMPOST")),
    Case("q=soil%20food%20web", lambda a: a.mentions("soil food web")),
    Case("q=%C3%89", lambda a: a.mentions("É")),  # case-insensitive beyond ASCII
    Case("q=%C2%B0", lambda a: a.mentions("°"), may_be_empty=True),
    Case("q=0%25", lambda a: a.mentions("0%")),  # LIKE wildcards are literal
    Case("q=_", lambda a: a.mentions("_"), may_be_empty=True),
    Case("related_to=soil-from-the-ground-up", lambda a: a.related_to(S("soil-from-the-ground-up"))),
    Case("related_to=article:native-plants-for-bees",  # the id form
         lambda a: a.related_to(S("native-plants-for-bees"))),
    Case("related_to=rainwater-harvesting-for-small-gardens",
         lambda a: a.related_to(S("rainwater-harvesting-for-small-gardens"))),
    Case("related_to=soil-testing-glossary", lambda a: a.related_to(S("soil-testing-glossary"))),
    Case("related_to=leaf-mould-from-autumn-leaves",  # links to an article it shares no topic with
         lambda a: a.related_to(S("leaf-mould-from-autumn-leaves"))),
    Case("updated_since=2026-07-10", lambda a: a.updated >= "2026-07-10"),
    Case("updated_since=2026-10-06", lambda a: a.updated >= "2026-10-06", may_be_empty=True),
    Case("updated_until=2025-06-01", lambda a: a.updated <= "2025-06-01", may_be_empty=True),
    Case("updated_until=2025-06-02", lambda a: a.updated <= "2025-06-02"),
    Case("published_since=2026-06-12", lambda a: a.published >= "2026-06-12"),
    Case("published_until=2026-01-15", lambda a: a.published <= "2026-01-15"),
    Case("published_since=2026-02-20&published_until=2026-05-05",
         lambda a: "2026-02-20" <= a.published <= "2026-05-05"),
    Case("published_since=2026-03-01&updated_until=2026-07-09",
         lambda a: a.published >= "2026-03-01" and a.updated <= "2026-07-09"),
    # AND across fields
    Case("topic=soil-health&confidence=high", lambda a: "soil-health" in a.topics and "high" in a.confidences),
    Case("topic=soil-health&maturity=evergreen&min_confidence=high",
         lambda a: "soil-health" in a.topics and a.maturity == "evergreen" and "high" in a.confidences),
    Case("tag=compost&audience=allotment%20holders",
         lambda a: "compost" in a.tags and "allotment holders" in a.audiences),
    Case("series=pollinator-corridors&q=bee", lambda a: a.series_slug == "pollinator-corridors" and a.mentions("bee")),
    Case("topic=pollinators,water&source_type=paper,book",
         lambda a: {"pollinators", "water"} & set(a.topics) and {"paper", "book"} & a.source_types),
    Case("related_to=soil-from-the-ground-up&topic=composting",
         lambda a: a.related_to(S("soil-from-the-ground-up")) and "composting" in a.topics),
    Case("confidence=medium&min_confidence=high",  # two claims may satisfy the two filters
         lambda a: "medium" in a.confidences and "high" in a.confidences),
    Case("claim_state=verified&confidence=high&maturity=evergreen,sprout",
         lambda a: "verified" in a.states and "high" in a.confidences and a.maturity in {"evergreen", "sprout"}),
    Case("claim_state=contested&published_since=2026-01-01&tag=no-dig",
         lambda a: "contested" in a.states and a.published >= "2026-01-01" and "no-dig" in a.tags),
]  # fmt: skip

CORPUS_ARTICLE_CASES = [
    Case("topic=ai-agents", lambda a: "ai-agents" in a.topics),
    Case("topic=ai-agents,history", lambda a: {"ai-agents", "history"} & set(a.topics)),
    Case("topic=ai-agents&topic=history", lambda a: {"ai-agents", "history"} & set(a.topics)),
    Case("topic=no-such-topic", lambda a: "no-such-topic" in a.topics, may_be_empty=True),
    Case("topic=AI-Agents", lambda a: "AI-Agents" in a.topics, may_be_empty=True),  # exact
    Case("tag=de-hype", lambda a: "de-hype" in a.tags),
    Case("tag=ios-27,mental-health", lambda a: {"ios-27", "mental-health"} & set(a.tags)),
    Case("series=ai-demystified", lambda a: a.series_slug == "ai-demystified"),
    Case("series=ai-agent-conversations,ai-demystified",
         lambda a: a.series_slug in {"ai-agent-conversations", "ai-demystified"}),
    Case("maturity=seed", lambda a: a.maturity == "seed"),
    Case("maturity=contested,sprout&maturity=superseded",
         lambda a: a.maturity in {"contested", "sprout", "superseded"}),
    Case("maturity=evergreen", lambda a: a.maturity == "evergreen", may_be_empty=True),
    Case("audience=parents", lambda a: "parents" in a.audiences),
    Case("audience=AI%20agents", lambda a: "AI agents" in a.audiences),
    Case("audience=ai%20agents", lambda a: "ai agents" in a.audiences, may_be_empty=True),  # exact, case and all
    Case("audience=parents,citizens", lambda a: {"parents", "citizens"} & set(a.audiences)),
    Case("confidence=medium", lambda a: "medium" in a.confidences),
    Case("confidence=high,medium", lambda a: {"high", "medium"} & a.confidences),
    Case("confidence=low", lambda a: "low" in a.confidences, may_be_empty=True),
    Case("min_confidence=high", lambda a: any(RANK[c] >= RANK["high"] for c in a.confidences)),
    Case("min_confidence=medium-high", lambda a: any(RANK[c] >= RANK["medium-high"] for c in a.confidences)),
    Case("min_confidence=medium", lambda a: any(RANK[c] >= RANK["medium"] for c in a.confidences)),
    Case("min_confidence=low", lambda a: bool(a.confidences)),
    Case("claim_state=verified", lambda a: "verified" in a.states),
    Case("claim_state=contested", lambda a: "contested" in a.states),
    Case("claim_state=stale,needs-evidence", lambda a: {"stale", "needs-evidence"} & a.states, may_be_empty=True),
    Case("source_type=paper", lambda a: "paper" in a.source_types),
    Case("source_type=book,regulatory-text", lambda a: {"book", "regulatory-text"} & a.source_types),
    Case("source_type=Paper", lambda a: "Paper" in a.source_types, may_be_empty=True),  # free text, exact
    Case("q=india", lambda a: a.mentions("india")),
    Case("q=INDIA", lambda a: a.mentions("INDIA")),
    Case("q=Large%20Language%20Model", lambda a: a.mentions("Large Language Model")),
    Case("q=wwdc", lambda a: a.mentions("wwdc")),
    Case("q=%C3%89", lambda a: a.mentions("É")),  # case-insensitive beyond ASCII (a source title has "é")
    Case("q=%E2%82%B9", lambda a: a.mentions("₹")),
    Case("q=0%25", lambda a: a.mentions("0%")),  # LIKE wildcards are literal
    Case("q=_", lambda a: a.mentions("_"), may_be_empty=True),
    Case("related_to=the-substance-builder", lambda a: a.related_to(A("the-substance-builder"))),
    Case("related_to=article:post-subscription-ai-assistant",  # the id form
         lambda a: a.related_to(A("post-subscription-ai-assistant"))),
    Case("related_to=modern-ai-stack", lambda a: a.related_to(A("modern-ai-stack"))),
    Case("related_to=agent-control-planes", lambda a: a.related_to(A("agent-control-planes"))),
    Case("updated_since=2026-07-18", lambda a: a.updated >= "2026-07-18"),
    Case("updated_since=2026-07-19", lambda a: a.updated >= "2026-07-19", may_be_empty=True),
    Case("updated_until=2026-07-17", lambda a: a.updated <= "2026-07-17", may_be_empty=True),
    Case("updated_until=2026-07-18", lambda a: a.updated <= "2026-07-18"),
    Case("published_since=2026-07-05", lambda a: a.published >= "2026-07-05"),
    Case("published_until=2026-06-29", lambda a: a.published <= "2026-06-29"),
    Case("published_since=2026-06-27&published_until=2026-07-04",
         lambda a: "2026-06-27" <= a.published <= "2026-07-04"),
    Case("published_since=2026-07-06&updated_until=2026-07-18", lambda a: a.published >= "2026-07-06"),
    # AND across fields
    Case("topic=ai-agents&confidence=high", lambda a: "ai-agents" in a.topics and "high" in a.confidences),
    Case("topic=ai-agents&maturity=seed&min_confidence=high",
         lambda a: "ai-agents" in a.topics and a.maturity == "seed" and "high" in a.confidences),
    Case("tag=india&audience=parents", lambda a: "india" in a.tags and "parents" in a.audiences),
    Case("series=attention-substance-ai-moment&q=ai",
         lambda a: a.series_slug == "attention-substance-ai-moment" and a.mentions("ai")),
    Case("topic=ai-agents,history&source_type=paper,book",
         lambda a: {"ai-agents", "history"} & set(a.topics) and {"paper", "book"} & a.source_types),
    Case("related_to=the-substance-builder&topic=platform-design",
         lambda a: a.related_to(A("the-substance-builder")) and "platform-design" in a.topics),
    Case("confidence=medium&min_confidence=high",  # two claims may satisfy the two filters
         lambda a: "medium" in a.confidences and "high" in a.confidences),
    Case("claim_state=verified&confidence=high&maturity=seed,contested",
         lambda a: "verified" in a.states and "high" in a.confidences and a.maturity in {"seed", "contested"}),
    Case("claim_state=contested&published_since=2026-07-05&tag=india",
         lambda a: "contested" in a.states and a.published >= "2026-07-05" and "india" in a.tags),
]  # fmt: skip


ARTICLE_CASES = {"content": CONTENT_ARTICLE_CASES, "corpus": CORPUS_ARTICLE_CASES}


@cases(ARTICLE_CASES)
def test_article_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _article_order("-published")(_expected(o.articles, case))
    items = walk(client, "/articles", case.query)
    assert [item["slug"] for item in items] == [article.slug for article in expected]
    assert items == [article.item() for article in expected]


SORTED_SUBSETS = {
    "content": [
        Case("", lambda a: True),
        Case("topic=soil-health", lambda a: "soil-health" in a.topics),
        Case("q=bee&maturity=sprout,seed", lambda a: a.mentions("bee") and a.maturity in {"sprout", "seed"}),
    ],
    "corpus": [
        Case("", lambda a: True),
        Case("topic=ai-agents", lambda a: "ai-agents" in a.topics),
        Case("q=india&maturity=seed", lambda a: a.mentions("india") and a.maturity == "seed"),
    ],
}


@per_dataset(
    "sort,subset",
    {name: [(sort, case) for case in rows for sort in SORTS] for name, rows in SORTED_SUBSETS.items()},
    lambda sort, case: f"{case.query or 'all'}-{sort}",
)
def test_article_sort(client: TestClient, o: Oracle, sort: str, subset: Case) -> None:
    expected = _article_order(sort)(_expected(o.articles, subset))
    items = walk(client, "/articles", "&".join(filter(None, [subset.query, f"sort={sort}"])))
    assert [item["slug"] for item in items] == [article.slug for article in expected]


def test_article_items_equal_the_index_entries_in_key_order(client: TestClient, o: Oracle) -> None:
    """Every public article once, its item equal to the index.json entry on the index keys (and in their order)."""
    items = {item["slug"]: item for item in walk(client, "/articles", "")}
    assert sorted(items) == sorted(article.slug for article in o.articles)
    for article in o.articles:
        item = items[article.slug]
        assert list(item)[: len(article.entry)] == list(article.entry), article.slug
        assert item == article.item(), article.slug


@per_dataset(
    "repeated,comma",
    {
        "content": [
            ("/articles?topic=pollinators&topic=water", "/articles?topic=pollinators,water"),
            ("/articles?maturity=sprout&maturity=contested", "/articles?maturity=sprout,contested"),
            ("/claims?confidence=high&confidence=low", "/claims?confidence=high,low"),
            ("/claims?article=pollinator-corridors&article=article:soil-testing-glossary",
             "/claims?article=pollinator-corridors,article:soil-testing-glossary"),
            ("/sources?type=paper&type=book", "/sources?type=paper,book"),
        ],
        "corpus": [
            ("/articles?topic=ai-agents&topic=history", "/articles?topic=ai-agents,history"),
            ("/articles?maturity=sprout&maturity=contested", "/articles?maturity=sprout,contested"),
            ("/claims?confidence=high&confidence=medium", "/claims?confidence=high,medium"),
            ("/claims?article=agents&article=article:tool-use", "/claims?article=agents,article:tool-use"),
            ("/sources?type=paper&type=book", "/sources?type=paper,book"),
        ],
    },
    lambda repeated, comma: repeated,
)  # fmt: skip
def test_repeated_filter_equals_comma_list(client: TestClient, repeated: str, comma: str) -> None:
    path, _, query = repeated.partition("?")
    first = walk(client, path, query)
    assert first, "pick values the corpus has"
    assert walk(client, path, comma.partition("?")[2]) == first


RELATED_TARGETS = {
    "content": ("soil-from-the-ground-up", "native-plants-for-bees", "rainwater-harvesting-for-small-gardens",
                "soil-testing-glossary", "leaf-mould-from-autumn-leaves"),
    "corpus": ("the-substance-builder", "post-subscription-ai-assistant", "modern-ai-stack"),
}  # fmt: skip


def test_related_to_exercises_links_both_ways(dataset: str, o: Oracle) -> None:
    """A guard on the table: the chosen targets are related to some articles by a link alone, each direction."""
    alone: Counter[str] = Counter()
    for slug in RELATED_TARGETS[dataset]:
        target = o.article(slug)
        for article in o.articles:
            if article is not target and not set(article.topics) & set(target.topics):
                alone["to"] += article.links_to(target)
                alone["from"] += target.links_to(article)
    assert alone["to"] and alone["from"], alone


def test_q_matches_across_the_joined_fields(client: TestClient, o: Oracle) -> None:
    """The keyword text is the fields joined with spaces: the end of the title and the start of the summary match."""
    article = o.articles[0]
    q = f"{article.title.split()[-1]} {article.fm['summary'].split()[0]}"
    expected = _article_order("-published")([a for a in o.articles if a.mentions(q)])
    assert article in expected
    assert [item["slug"] for item in walk(client, "/articles", f"q={quote(q)}")] == [a.slug for a in expected]


FIELDS = [
    ("/articles", ["slug", "title", "series", "publishedAt"]),
    ("/articles", ["audiences"]),
    ("/claims", ["claimId", "state", "confidence"]),
    ("/sources", ["sourceId", "citedBy", "url"]),
]


@per_dataset("resource,fields", {"content": FIELDS, "corpus": FIELDS}, lambda resource, fields: resource)
def test_fields_returns_only_those_keys(client: TestClient, o: Oracle, resource: str, fields: list[str]) -> None:
    rows = {"/articles": _article_order("-published")(o.articles), "/claims": o.claims, "/sources": o.sources}
    items = walk(client, resource, f"fields={','.join(fields)}")
    assert items == [{key: row.item()[key] for key in fields} for row in rows[resource]]


# --------------------------------------------------------------------------------------------------------
# /claims


CONTENT_CLAIM_CASES = [
    Case("topic=soil-health", lambda c: "soil-health" in c.article.topics),
    Case("topic=water,pollinators", lambda c: {"water", "pollinators"} & set(c.article.topics)),
    Case("series=soil-from-the-ground-up", lambda c: c.article.series_slug == "soil-from-the-ground-up"),
    Case("series=pollinator-corridors&series=soil-from-the-ground-up",
         lambda c: c.article.series_slug in {"pollinator-corridors", "soil-from-the-ground-up"}),
    Case("article=native-plants-for-bees", lambda c: c.article.slug == "native-plants-for-bees"),
    Case("article=article:native-plants-for-bees", lambda c: c.article.slug == "native-plants-for-bees"),
    Case("article=pollinator-corridors,article:soil-testing-glossary",
         lambda c: c.article.slug in {"pollinator-corridors", "soil-testing-glossary"}),
    Case("article=hot-composting-in-seven-days", lambda c: c.article.slug == "hot-composting-in-seven-days",
         may_be_empty=True),  # archived
    Case("confidence=high", lambda c: c.confidence == "high"),
    Case("confidence=medium,medium-high", lambda c: c.confidence in {"medium", "medium-high"}),
    Case("confidence=low", lambda c: c.confidence == "low"),
    Case("min_confidence=medium-high", lambda c: RANK[c.confidence] >= RANK["medium-high"]),
    Case("min_confidence=high", lambda c: RANK[c.confidence] >= RANK["high"]),
    Case("min_confidence=low", lambda c: True),
    Case("status=core", lambda c: c.row["status"] == "core"),
    Case("status=forecast,normative&status=behavioral",
         lambda c: c.row["status"] in {"forecast", "normative", "behavioral"}),
    Case("verification=verified", lambda c: c.row["verificationStatus"] == "verified"),
    Case("verification=contested,stale", lambda c: c.row["verificationStatus"] in {"contested", "stale"}),
    Case("verification=draft", lambda c: c.row["verificationStatus"] == "draft", may_be_empty=True),  # the draft's
    Case("state=verified", lambda c: c.state == "verified"),
    Case("state=contested", lambda c: c.state == "contested"),
    Case("state=stale", lambda c: c.state == "stale"),
    Case("state=needs-evidence,missing-counterevidence,draft",
         lambda c: c.state in {"needs-evidence", "missing-counterevidence", "draft"}, may_be_empty=True),
    Case("has_counterevidence=true", lambda c: c.row["counterevidenceCount"] > 0),
    Case("has_counterevidence=false", lambda c: c.row["counterevidenceCount"] == 0),
    Case("supports=analogous", lambda c: "analogous" in c.supports),
    Case("supports=background,indirect", lambda c: {"background", "indirect"} & c.supports),
    Case("source=source-xerces-pollinators", lambda c: "source-xerces-pollinators" in c.cites),  # in two articles
    Case("source=source-rhs-clay,source-fao-soils", lambda c: {"source-rhs-clay", "source-fao-soils"} & c.cites),
    Case("source=source-001", lambda c: "source-001" in c.cites),
    Case("q=soil", lambda c: "soil" in c.text.lower()),
    Case("q=ORGANIC%20matter", lambda c: "organic matter" in c.text.lower()),
    Case("q=%25", lambda c: "%" in c.text),
    Case("q=_", lambda c: "_" in c.text, may_be_empty=True),
    Case("q=%C2%B0", lambda c: "°" in c.text, may_be_empty=True),  # only in hidden articles' claims
    # AND across fields
    Case("topic=soil-health&confidence=high", lambda c: "soil-health" in c.article.topics and c.confidence == "high"),
    Case("topic=pollinators&min_confidence=medium-high&status=core",
         lambda c: "pollinators" in c.article.topics and RANK[c.confidence] >= 2 and c.row["status"] == "core"),
    Case("series=pollinator-corridors&supports=analogous,background",
         lambda c: c.article.series_slug == "pollinator-corridors" and {"analogous", "background"} & c.supports),
    Case("source=source-xerces-pollinators&q=bees",
         lambda c: "source-xerces-pollinators" in c.cites and "bees" in c.text.lower()),
    Case("confidence=medium&min_confidence=high",  # on one claim, both at once: none
         lambda c: c.confidence == "medium" and RANK[c.confidence] >= RANK["high"], may_be_empty=True),
    Case("article=native-plants-for-bees&confidence=medium-high&state=verified",
         lambda c: c.article.slug == "native-plants-for-bees" and c.confidence == "medium-high"
         and c.state == "verified"),
]  # fmt: skip

CORPUS_CLAIM_CASES = [
    Case("topic=ai-agents", lambda c: "ai-agents" in c.article.topics),
    Case("topic=history,regulation", lambda c: {"history", "regulation"} & set(c.article.topics)),
    Case("series=ai-demystified", lambda c: c.article.series_slug == "ai-demystified"),
    Case("series=ai-agent-conversations&series=ai-demystified",
         lambda c: c.article.series_slug in {"ai-agent-conversations", "ai-demystified"}),
    Case("article=a-map-of-levers", lambda c: c.article.slug == "a-map-of-levers"),
    Case("article=article:a-map-of-levers", lambda c: c.article.slug == "a-map-of-levers"),
    Case("article=agents,article:tool-use", lambda c: c.article.slug in {"agents", "tool-use"}),
    Case("article=the-small-rep-theory", lambda c: c.article.slug == "the-small-rep-theory", may_be_empty=True),
    Case("confidence=high", lambda c: c.confidence == "high"),
    Case("confidence=medium,medium-high", lambda c: c.confidence in {"medium", "medium-high"}),
    Case("confidence=low", lambda c: c.confidence == "low", may_be_empty=True),
    Case("min_confidence=medium-high", lambda c: RANK[c.confidence] >= RANK["medium-high"]),
    Case("min_confidence=high", lambda c: RANK[c.confidence] >= RANK["high"]),
    Case("min_confidence=low", lambda c: True),
    Case("status=core", lambda c: c.row["status"] == "core"),
    Case("status=forecast,normative&status=behavioral",
         lambda c: c.row["status"] in {"forecast", "normative", "behavioral"}),
    Case("verification=verified", lambda c: c.row["verificationStatus"] == "verified"),
    Case("verification=contested,stale", lambda c: c.row["verificationStatus"] in {"contested", "stale"}),
    Case("verification=draft", lambda c: c.row["verificationStatus"] == "draft", may_be_empty=True),
    Case("state=verified", lambda c: c.state == "verified"),
    Case("state=contested", lambda c: c.state == "contested"),
    Case("state=stale", lambda c: c.state == "stale", may_be_empty=True),  # only the archived article's
    Case("state=needs-evidence,missing-counterevidence,draft",
         lambda c: c.state in {"needs-evidence", "missing-counterevidence", "draft"}, may_be_empty=True),
    Case("has_counterevidence=true", lambda c: c.row["counterevidenceCount"] > 0),
    Case("has_counterevidence=false", lambda c: c.row["counterevidenceCount"] == 0, may_be_empty=True),
    Case("supports=analogous", lambda c: "analogous" in c.supports),
    Case("supports=background,indirect", lambda c: {"background", "indirect"} & c.supports),
    Case("source=source-aser-2024", lambda c: "source-aser-2024" in c.cites),
    Case("source=source-react-paper,source-cal-newport-deep-work",
         lambda c: {"source-react-paper", "source-cal-newport-deep-work"} & c.cites),
    Case("source=source-001", lambda c: "source-001" in c.cites),  # article-scoped id, cited in several articles
    Case("q=attention", lambda c: "attention" in c.text.lower()),
    Case("q=ATTENTION%20economy", lambda c: "attention economy" in c.text.lower()),
    Case("q=%25", lambda c: "%" in c.text, may_be_empty=True),
    Case("q=_", lambda c: "_" in c.text, may_be_empty=True),
    Case("q=%E2%82%B9", lambda c: "₹" in c.text),
    # AND across fields, the acceptance example first
    Case("topic=ai-agents&confidence=high", lambda c: "ai-agents" in c.article.topics and c.confidence == "high"),
    Case("topic=india&min_confidence=high&status=core",
         lambda c: "india" in c.article.topics and c.confidence == "high" and c.row["status"] == "core"),
    Case("series=ai-demystified&supports=analogous,background",
         lambda c: c.article.series_slug == "ai-demystified" and {"analogous", "background"} & c.supports),
    Case("source=source-aser-2024&q=learning",
         lambda c: "source-aser-2024" in c.cites and "learning" in c.text.lower()),
    Case("confidence=medium&min_confidence=high",  # on one claim, both at once: none
         lambda c: c.confidence == "medium" and RANK[c.confidence] >= RANK["high"], may_be_empty=True),
    Case("article=a-map-of-levers&confidence=high&state=verified",
         lambda c: c.article.slug == "a-map-of-levers" and c.confidence == "high" and c.state == "verified"),
]  # fmt: skip


CLAIM_CASES = {"content": CONTENT_CLAIM_CASES, "corpus": CORPUS_CLAIM_CASES}


@cases(CLAIM_CASES)
def test_claim_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _expected(o.claims, case)
    items = walk(client, "/claims", case.query)
    assert [item["claimId"] for item in items] == [claim.id for claim in expected]  # feed order
    assert items == [claim.item() for claim in expected]


BUSY_TOPIC = {"content": "soil-health", "corpus": "ai-agents"}  # a topic with many claims


def test_claims_by_topic_and_confidence_are_exactly_the_feed_rows(dataset: str, client: TestClient, o: Oracle) -> None:
    """The acceptance example: the claims.jsonl rows whose article has a given topic, at confidence high."""
    topic = BUSY_TOPIC[dataset]
    rows = [c.row for c in o.claims if topic in c.article.topics and c.row["confidence"] == "high"]
    items = walk(client, "/claims", f"topic={topic}&confidence=high")
    assert rows and [{key: item[key] for key in CLAIM_FEED_KEYS} for item in items] == rows
    assert all(list(item) == [*CLAIM_FEED_KEYS, "state", "topics", "series"] for item in items)


INCLUDES = [
    (include,)
    for include in (
        "evidence",
        "counterevidence",
        "sources",
        "evidence,counterevidence,sources",
        "sources&include=evidence",
    )
]


@per_dataset("include", {"content": INCLUDES, "corpus": INCLUDES}, lambda include: include)
def test_claims_include_embeds_what_the_artifact_says(client: TestClient, o: Oracle, include: str) -> None:
    """Evidence resolved to the same article's source (title, url, type, accessed); counterevidence; cited sources."""
    wanted = set(re.split(r",|&include=", include))
    items = walk(client, "/claims", f"include={include}")
    assert [item["claimId"] for item in items] == [claim.id for claim in o.claims]
    for item, claim in zip(items, o.claims, strict=True):
        embedded = {
            "evidence": claim.evidence(),
            "counterevidence": claim.counterevidence(),
            "sources": claim.cited_sources(),
        }
        assert item == claim.item() | {key: embedded[key] for key in wanted}, claim.id


def test_claims_without_include_embed_nothing(client: TestClient) -> None:
    for item in walk(client, "/claims", ""):
        assert not {"evidence", "counterevidence", "sources"} & set(item)


# --------------------------------------------------------------------------------------------------------
# /sources

ASER = "https://asercentre.org/wp-content/uploads/2022/12/ASER-2024-National-findings.pdf"
KANTAR = "https://www.iamai.in/sites/default/files/research/Kantar_%20IAMAI%20report_2024_.pdf"
PIB = "https://www.pib.gov.in/PressReleasePage.aspx?PRID=2219931"

XERCES = "https://xerces.org/pollinator-conservation"  # listed by two articles
ODD_URL = "https://allotments.example.org/notes/leaf%20mould%20trial%202024.pdf?rev=2&format=pdf"  # %20, ? and &
FAO = "https://www.fao.org/soils-portal/en/"

CONTENT_SOURCE_CASES = [
    Case("type=paper", lambda s: s.row["type"] == "paper"),
    Case("type=book,regulation&type=ngo-guide", lambda s: s.row["type"] in {"book", "regulation", "ngo-guide"}),
    Case("type=Paper", lambda s: s.row["type"] == "Paper", may_be_empty=True),  # free text, exact
    Case("article=native-plants-for-bees", lambda s: s.article.slug == "native-plants-for-bees"),
    Case("article=article:pollinator-corridors,soil-testing-glossary",
         lambda s: s.article.slug in {"pollinator-corridors", "soil-testing-glossary"}),
    Case("article=hot-composting-in-seven-days", lambda s: s.article.slug == "hot-composting-in-seven-days",
         may_be_empty=True),
    Case("topic=pollinators", lambda s: "pollinators" in s.article.topics),
    Case("topic=water,composting", lambda s: {"water", "composting"} & set(s.article.topics)),
    Case(f"url={quote(XERCES, safe='')}", lambda s: s.row["url"] == XERCES),
    Case(f"url={quote(ODD_URL, safe='')}", lambda s: s.row["url"] == ODD_URL),  # a %20 inside the URL itself
    Case(f"url={quote(FAO, safe='')}&url={quote(XERCES, safe='')}", lambda s: s.row["url"] in {FAO, XERCES}),
    Case("cited=true", lambda s: s.cited_by > 0),
    Case("cited=false", lambda s: s.cited_by == 0),
    # AND across fields
    Case("topic=pollinators&cited=false", lambda s: "pollinators" in s.article.topics and s.cited_by == 0),
    Case("type=paper&topic=soil-health", lambda s: s.row["type"] == "paper" and "soil-health" in s.article.topics),
    Case(f"url={quote(XERCES, safe='')}&article=native-plants-for-bees,soil-testing-glossary&cited=true",
         lambda s: s.row["url"] == XERCES and s.article.slug in {"native-plants-for-bees", "soil-testing-glossary"}
         and s.cited_by > 0),
]  # fmt: skip

CORPUS_SOURCE_CASES = [
    Case("type=paper", lambda s: s.row["type"] == "paper"),
    Case("type=book,regulatory-text&type=survey", lambda s: s.row["type"] in {"book", "regulatory-text", "survey"}),
    Case("type=Paper", lambda s: s.row["type"] == "Paper", may_be_empty=True),  # free text, exact
    Case("article=a-map-of-levers", lambda s: s.article.slug == "a-map-of-levers"),
    Case("article=article:agents,tool-use", lambda s: s.article.slug in {"agents", "tool-use"}),
    Case("article=the-small-rep-theory", lambda s: s.article.slug == "the-small-rep-theory", may_be_empty=True),
    Case("topic=ai-agents", lambda s: "ai-agents" in s.article.topics),
    Case("topic=history,regulation", lambda s: {"history", "regulation"} & set(s.article.topics)),
    Case(f"url={quote(ASER, safe='')}", lambda s: s.row["url"] == ASER),
    Case(f"url={quote(KANTAR, safe='')}", lambda s: s.row["url"] == KANTAR),  # a %20 inside the URL itself
    Case(f"url={quote(PIB, safe='')}&url={quote(ASER, safe='')}", lambda s: s.row["url"] in {PIB, ASER}),
    Case("cited=true", lambda s: s.cited_by > 0),
    Case("cited=false", lambda s: s.cited_by == 0),
    # AND across fields
    Case("topic=india&cited=false", lambda s: "india" in s.article.topics and s.cited_by == 0),
    Case("type=paper&topic=ai-agents", lambda s: s.row["type"] == "paper" and "ai-agents" in s.article.topics),
    Case(f"url={quote(ASER, safe='')}&article=a-map-of-levers,the-better-question&cited=true",
         lambda s: s.row["url"] == ASER and s.article.slug in {"a-map-of-levers", "the-better-question"}
         and s.cited_by > 0, may_be_empty=True),
]  # fmt: skip


SOURCE_CASES = {"content": CONTENT_SOURCE_CASES, "corpus": CORPUS_SOURCE_CASES}


@cases(SOURCE_CASES)
def test_source_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _expected(o.sources, case)
    items = walk(client, "/sources", case.query)
    assert [(item["slug"], item["sourceId"]) for item in items] == [(s.article.slug, s.id) for s in expected]
    assert items == [source.item() for source in expected]


def test_sources_are_the_feed_rows_with_cited_by(client: TestClient, o: Oracle) -> None:
    items = walk(client, "/sources", "")
    assert [{key: item[key] for key in SOURCE_FEED_KEYS} for item in items] == [s.row for s in o.sources]
    assert [item["citedBy"] for item in items] == [s.cited_by for s in o.sources]
    assert all(list(item) == [*SOURCE_FEED_KEYS, "citedBy"] for item in items)
    assert {item["citedBy"] > 1 for item in items} == {True, False}, "the corpus should have both"


# --------------------------------------------------------------------------------------------------------
# Pagination: a small page walks the same rows, once each, as one big page.

CONTENT_PAGED = [
    *((f"/articles?sort={sort}", 3) for sort in SORTS),
    ("/articles?topic=soil-health&sort=title", 2),
    ("/articles?topic=pollinators,water&sort=-updated&fields=slug,title", 2),
    ("/articles?topic=pollinators&topic=water&sort=-updated", 2),
    ("/articles?q=e&sort=series", 3),
    ("/claims", PAGE_LIMIT),
    ("/claims?topic=soil-health&include=evidence", PAGE_LIMIT),
    ("/claims?article=native-plants-for-bees&article=pollinator-corridors", 3),
    ("/claims?article=native-plants-for-bees", 1),
    ("/sources", PAGE_LIMIT),
    ("/sources?cited=true", PAGE_LIMIT),
    # the %20 inside a URL must survive the re-encoding of `next`
    (f"/sources?url={quote(ODD_URL, safe='')},{quote(XERCES, safe='')}", 1),
    (f"/sources?url={quote(ODD_URL, safe='')}&url={quote(XERCES, safe='')}", 1),
]

CORPUS_PAGED = [
    *((f"/articles?sort={sort}", PAGE_LIMIT) for sort in SORTS),
    ("/articles?topic=india&sort=title", PAGE_LIMIT),
    ("/articles?topic=ai-agents,history&sort=-updated&fields=slug,title", PAGE_LIMIT),
    ("/articles?topic=ai-agents&topic=history&sort=-updated", PAGE_LIMIT),
    ("/articles?q=0%25&sort=series", 3),
    ("/claims", PAGE_LIMIT),
    ("/claims?topic=ai-agents&include=evidence", PAGE_LIMIT),
    ("/claims?article=agents&article=tool-use", PAGE_LIMIT),
    ("/claims?article=a-map-of-levers", 1),
    ("/sources", PAGE_LIMIT),
    ("/sources?cited=false", PAGE_LIMIT),
    # the %20 inside a URL must survive the re-encoding of `next`
    (f"/sources?url={quote(KANTAR, safe='')},{quote(ASER, safe='')}", PAGE_LIMIT),
    (f"/sources?url={quote(KANTAR, safe='')}&url={quote(ASER, safe='')}", PAGE_LIMIT),
]


def _url_id(url: str, limit: int) -> str:
    return re.sub(r"url=[^&]*", "url=…", url) + f"-limit{limit}"


@per_dataset("url,limit", {"content": CONTENT_PAGED, "corpus": CORPUS_PAGED}, _url_id)
def test_cursor_walk_returns_every_row_once_in_order(client: TestClient, url: str, limit: int) -> None:
    path, _, query = url.partition("?")
    whole = walk(client, path, query)
    paged = walk(client, path, query, limit=limit)
    assert len(whole) > limit
    assert paged == whole
    key = {"/articles": ("slug",), "/claims": ("claimId",), "/sources": ("slug", "sourceId")}[path]
    assert len({tuple(item[k] for k in key) for item in paged}) == len(paged), "a row came twice"


def test_a_cursor_survives_a_new_limit_but_not_new_filters(client: TestClient) -> None:
    """limit and fields do not change which rows a cursor walks; a filter does, and the cursor is refused."""
    first = client.get("/claims?limit=7").json()
    cursor = first["next"].partition("cursor=")[2]
    rest = client.get(f"/claims?limit=500&cursor={cursor}").json()
    assert first["items"] + rest["items"] == walk(client, "/claims", "")
    refused = client.get(f"/claims?limit=7&topic=water&cursor={cursor}")
    assert refused.status_code == 400 and refused.json()["parameter"] == "cursor"


# --------------------------------------------------------------------------------------------------------
# Errors: one problem+json shape naming the parameter at fault.


ERRORS = [
    ("/articles?maturity=ripe", 422, "maturity"),
    ("/articles?confidence=certain", 422, "confidence"),
    ("/articles?claim_state=fine", 422, "claim_state"),
    ("/claims?confidence=certain", 422, "confidence"),
    ("/claims?status=rumour", 422, "status"),
    ("/claims?verification=done", 422, "verification"),
    ("/claims?state=fine", 422, "state"),
    ("/claims?supports=strongly", 422, "supports"),
    ("/claims?include=everything", 422, "include"),
    ("/articles?min_confidence=certain", 422, "min_confidence"),
    ("/articles?sort=newest", 422, "sort"),
    ("/claims?min_confidence=certain", 422, "min_confidence"),
    ("/claims?has_counterevidence=maybe", 422, "has_counterevidence"),
    ("/sources?cited=maybe", 422, "cited"),
    ("/articles?published_since=2026-13-01", 422, "published_since"),
    ("/articles?updated_until=yesterday", 422, "updated_until"),
    ("/articles?q=", 422, "q"),
    ("/claims?q=" + "x" * 201, 422, "q"),
    ("/articles?related_to=no-such-article", 422, "related_to"),
    ("/articles?related_to=hot-composting-in-seven-days", 422, "related_to"),  # archived: not visible
    ("/articles?related_to=street-trees-and-urban-heat", 422, "related_to"),  # a draft: not visible
    ("/articles?fields=slug,nope", 422, "fields"),
    ("/claims?fields=claimId,nope", 422, "fields"),
    ("/articles?colour=red", 400, "colour"),
    ("/claims?tag=india", 400, "tag"),
    ("/sources?q=india", 400, "q"),
    ("/articles?cursor=not-a-cursor", 400, "cursor"),
    *((f"{path}?limit={limit}", 422, "limit") for path in ("/articles", "/claims", "/sources") for limit in (0, 501)),
    ("/articles?status=published", 403, "status"),
    ("/articles?status=draft,archived", 403, "status"),
]


@per_dataset("url,status,parameter", {"content": ERRORS}, lambda url, status, parameter: url)
def test_bad_request_is_a_problem_naming_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert body["detail"].startswith(parameter)
    assert body["parameter"] == parameter


# --------------------------------------------------------------------------------------------------------
# Plans and totals (app.queries.plan): every plan reads the same rows; later pages do not count.

PLANS = ["walk", "window", "first"]


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """Force one plan for every list: walk the order index; walk 2 index rows, then read the rest from the
    most selective filter (a page that crosses that switch); or read that filter first."""
    from app.queries import plan

    mode = str(request.param)
    chosen = plan.choose

    def choose(filters: Any, everything: int, limit: int) -> tuple[bool, int]:
        _, driver = chosen(filters, everything, limit)
        return mode != "first" or driver < 0, driver

    monkeypatch.setattr(plan, "choose", choose)
    monkeypatch.setattr(plan, "WALK_WINDOW", 2 if mode == "window" else 10**9)
    return mode


@pytest.mark.parametrize("forced", PLANS, indirect=True)
def test_every_plan_reads_the_same_rows(dataset: str, client: TestClient, o: Oracle, forced: str) -> None:
    topic = BUSY_TOPIC[dataset]
    for case in ARTICLE_CASES[dataset]:
        expected = _article_order("-published")(_expected(o.articles, case))
        assert [i["slug"] for i in walk(client, "/articles", case.query, limit=3)] == [a.slug for a in expected], case
    for sort in SORTS:
        expected = _article_order(sort)(o.articles)
        assert [i["slug"] for i in walk(client, "/articles", f"topic={topic}&sort={sort}", limit=5)] == [
            a.slug for a in expected if topic in a.topics
        ], sort
    for case in CLAIM_CASES[dataset]:
        expected = _expected(o.claims, case)
        assert [i["claimId"] for i in walk(client, "/claims", case.query, limit=7)] == [c.id for c in expected], case
    for case in SOURCE_CASES[dataset]:
        expected = [(s.article.slug, s.id) for s in _expected(o.sources, case)]
        assert [(i["slug"], i["sourceId"]) for i in walk(client, "/sources", case.query, limit=7)] == expected, case


def _statements(client: TestClient, url: str) -> tuple[dict[str, Any], list[str]]:
    with app_statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json(), seen


@per_dataset("url", {
    "content": [(url,) for url in (
        "/articles?limit=5", "/articles?topic=soil-health&sort=-updated&limit=2", "/articles?q=bee&sort=title&limit=2",
        "/claims?limit=7", "/claims?topic=soil-health&confidence=high&limit=3",
        "/claims?article=native-plants-for-bees&limit=2", "/sources?limit=7", "/sources?type=paper&cited=true&limit=3",
    )],
    "corpus": [(url,) for url in (
        "/articles?limit=5", "/articles?topic=ai-agents&sort=-updated&limit=5", "/articles?q=india&sort=title&limit=3",
        "/claims?limit=7", "/claims?topic=ai-agents&confidence=high&limit=3", "/claims?article=agents&limit=2",
        "/sources?limit=7", "/sources?type=paper&cited=true&limit=3",
    )],
}, lambda url: url)  # fmt: skip
def test_later_pages_carry_the_total(client: TestClient, url: str) -> None:
    """Page 2 runs no count and no estimate: the first page's total and plan travel in its cursor."""
    first, _ = _statements(client, url)
    assert first["next"], f"{url} has a single page: pick a filter with more rows"
    second, statements = _statements(client, first["next"])
    assert not [sql for sql in statements if "count(" in sql.lower() or "list_count" in sql], statements
    assert (second["total"], second["totalRelation"]) == (first["total"], first["totalRelation"])


ONE_ARTICLE = {"content": "native-plants-for-bees", "corpus": "agents"}


def test_a_capped_total_is_a_lower_bound(dataset: str, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap the total says so (gte) and is at most the number of rows; a list with no filter, or one
    whose filter the stored counts answer, stays exact whatever the cap."""
    from app.queries import plan

    url = f"topic={BUSY_TOPIC[dataset]}&confidence=high,medium"
    every = walk(client, "/claims", url)
    monkeypatch.setattr(plan, "CAP", 3)
    body = client.get(f"/claims?{url}&limit=2").json()
    assert (body["total"], body["totalRelation"]) == (3, "gte") and len(every) > 3
    monkeypatch.setattr(plan, "COUNT_ROWS", 0)  # never from the driver: the matches among the first rows
    monkeypatch.setattr(plan, "COUNT_WINDOW", 4)
    body = client.get(f"/claims?{url}&limit=1").json()
    assert body["totalRelation"] == "gte" and 2 <= body["total"] <= len(every)
    assert len(walk(client, "/claims", "")) == client.get("/claims?limit=1").json()["total"]
    mine = client.get(f"/claims?article={ONE_ARTICLE[dataset]}&limit=1").json()  # counted by the estimating probe
    assert (mine["total"], mine["totalRelation"]) == (
        len(walk(client, "/claims", f"article={ONE_ARTICLE[dataset]}")),
        "eq",
    )


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).


@only("corpus")
@pytest.mark.parametrize("name", sorted(ON_CORPUS))
def test_the_tables_on_the_publishers_corpus(client: TestClient, o: Oracle, name: str) -> None:
    """Every row a table holds for the corpus, through the same test function; every failing row is listed."""
    function, argnames, rows = ON_CORPUS[name]
    fixtures = {"client": client, "o": o}
    wanted = [arg for arg in inspect.signature(function).parameters if arg in fixtures]
    failures = []
    for row in rows:
        try:
            function(**{arg: fixtures[arg] for arg in wanted}, **dict(zip(argnames, row, strict=True)))
        except AssertionError as error:
            failures.append(f"{row[0] if len(row) == 1 else row}: {str(error)[:500]}")
    assert not failures, f"{len(failures)} of {len(rows)} rows fail:\n" + "\n".join(failures)
