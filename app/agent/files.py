"""Each of the publisher's agent files, built from the stored corpus with the generator's exact rules.

Every builder returns the file's bytes (or, for the feeds, an iterator of byte chunks that reads the database
row by row, so memory stays flat however large the corpus). Section numbers refer to DATA-CONTRACT §2.
The rows come from the same tables and the same row builders (app.shapes) as the REST API, and claim states
and diagnostics from app.derive, so the two can never disagree.

The files here select published (P) articles, as the publisher's do, for every caller: P articles are never
hidden (app.queries.common.hides). The reports and garden-queries.json, which the publisher builds over more
than P articles, are in app.agent.reports and take the caller's visibility into account.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlmodel import Session

from app import shapes
from app.agent.collation import locale_key
from app.queries import agent as reads
from app.queries.common import max_public_updated
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Identity:
    """Whose files these are, beyond the site URL: the settings GARDEN_SITE_NAME (``name``),
    GARDEN_SITE_DESCRIPTION, GARDEN_REPO_URL (``repo``), GARDEN_SCHEMA_BASE_URL (``schemas``), GARDEN_LLMS_LINKS,
    and GARDEN_PUBLIC_URL (``api``: where this server's own links point; "" for relative links). Their defaults
    are the publisher's values (``PUBLISHER``), with which the files are the publisher's byte for byte."""

    name: str
    description: str
    repo: str
    schemas: str
    llms_links: str
    api: str

    @classmethod
    def of(cls, settings: Settings) -> Identity:
        return cls(settings.site_name, settings.site_description, settings.repo_url, settings.schema_base_url,
                   settings.llms_links, settings.public_url or "")  # fmt: skip


#: The settings' defaults, read from the model without the environment.
PUBLISHER = Identity.of(Settings.model_construct())


def pretty(value: Any) -> bytes:
    """A JSON file as the generator writes it: 2-space indent, raw UTF-8, one final newline."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def compact(value: Any) -> bytes:
    return orjson.dumps(value)


class Corpus:
    """What the builders share for one request: the session, the site URL and whose site it is (``identity``),
    the corpus-wide generatedAt, and whether the caller has preview access (``preview``: the publisher's files over
    every article; else the subset that leaves out hidden articles, app.queries.common.hides).
    """

    def __init__(
        self, session: Session, site: str, today: dt.date, *, preview: bool = False, identity: Identity = PUBLISHER
    ) -> None:
        self.session, self.site, self.today, self.preview = session, site.rstrip("/"), today, preview
        self.identity = identity
        self.generated_at = shapes.generated_at(max_public_updated(session))

    def public_articles(self) -> list[Any]:
        """Published (P) article rows in dir order (the same for every caller: P articles are never hidden)."""
        return self.articles("public")

    def articles(self, which: reads.Selection = "disclosed") -> list[Any]:
        """Article rows of the ``which`` selection that the caller may learn of, in dir order."""
        return reads.articles(self.session, self.preview, which)

    def index_entries(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        topics, tags = reads.topics_of(self.session, ids), reads.tags_of(self.session, ids)
        return [shapes.index_entry(row, topics[row["id"]], tags[row["id"]], self.site) for row in rows]


# --- index.json, index.jsonl, topics/<topic>.json (§2.2, §2.3) ------------------------------------------------


def topic_groups(entries: Sequence[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(topic, article ids) in localeCompare order; an id is pushed once per occurrence, duplicates kept."""
    groups: dict[str, list[str]] = {}
    for entry in entries:
        for topic in entry["topics"]:
            groups.setdefault(topic, []).append(entry["id"])
    return sorted(groups.items(), key=lambda item: locale_key(item[0]))


def _topic_item(site: str, topic: str, article_ids: list[str]) -> dict[str, Any]:
    return {
        "topic": topic,
        "label": topic.replace("-", " "),
        "articleIds": article_ids,
        "pageUrl": f"{site}/topics/{topic}/",
        "agentJsonPath": f"/agents/topics/{topic}.json",
    }


def _archives(site: str, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    years: dict[str, list[str]] = {}
    months: dict[str, list[str]] = {}
    for entry in entries:
        years.setdefault(entry["updatedAt"][:4], []).append(entry["id"])
        months.setdefault(entry["updatedAt"][:7], []).append(entry["id"])
    archives = []
    for year in sorted(years, key=locale_key, reverse=True):
        archives.append({
            "year": year,
            "articleIds": years[year],
            "pageUrl": f"{site}/articles/{year}/",
            "months": [
                {
                    "yearMonth": month,
                    "monthName": calendar.month_name[int(month[5:7])] if month[5:7].isdigit() else "Invalid Date",
                    "articleIds": months[month],
                    "pageUrl": f"{site}/articles/{year}/{month[5:7]}/",
                }
                for month in sorted((m for m in months if m.startswith(year)), key=locale_key, reverse=True)
            ],
        })  # fmt: skip
    return archives


def index_json(corpus: Corpus) -> bytes:
    entries = corpus.index_entries(corpus.public_articles())
    return pretty({
        "schemaVersion": 3,
        "generatedAt": corpus.generated_at,
        "site": corpus.site,
        "base": "",
        "articles": entries,
        "topics": [_topic_item(corpus.site, topic, ids) for topic, ids in topic_groups(entries)],
        "archives": _archives(corpus.site, entries),
        "roadmaps": [],
    })  # fmt: skip


def index_jsonl(corpus: Corpus) -> bytes:
    return b"".join(compact(entry) + b"\n" for entry in corpus.index_entries(corpus.public_articles())) or b"\n"


def topic_json(corpus: Corpus, topic: str) -> bytes | None:
    """``topics/<topic>.json``, or None when no public article has the topic."""
    entries = corpus.index_entries(corpus.public_articles())
    ids = [entry["id"] for entry in entries for t in entry["topics"] if t == topic]
    if not ids:
        return None
    wanted = set(ids)
    return pretty({
        "schemaVersion": 1,
        **{k: v for k, v in _topic_item(corpus.site, topic, ids).items() if k != "label"},
        "articles": [entry for entry in entries if entry["id"] in wanted],
    })  # fmt: skip


# --- article packets (§2.1) -------------------------------------------------------------------------------


def packet_json(corpus: Corpus, slug: str) -> bytes | None:
    row = reads.public_packet_row(corpus.session, slug)
    if row is None:
        return None
    if row["layout"] == "packet":
        given: str = row["artifact_json"]
        return given.encode()  # a loaded packet is served unchanged
    return pretty(shapes.packet(row, row["artifact_json"], corpus.generated_at, corpus.site, corpus.identity.repo))


def packet_markdown(corpus: Corpus, slug: str) -> bytes | None:
    markdown = reads.public_agent_markdown(corpus.session, slug)
    return markdown.encode() if markdown is not None else None


# --- feeds (§2.5) -----------------------------------------------------------------------------------------


def _stream(session: Session, feed: reads.Feed, line: Any) -> Iterator[bytes]:
    """Rows of ``feed`` as JSONL, read in chunks so that memory does not grow with the feed."""
    empty = True
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for rows in reads.feed_chunks(session, feed):
        empty = False
        yield b"".join([dumps(line(row), option=newline) for row in rows])
    if empty:
        yield b"\n"  # an empty feed is a file holding just a newline


def _article_feed(corpus: Corpus, feed: reads.Feed, row: Callable[[Any, str, str], dict[str, Any]]) -> Iterator[bytes]:
    """A feed of per-article rows, each built by ``row(db_row, slug, articleUrl)`` (app.shapes)."""
    site = corpus.site
    return _stream(corpus.session, feed, lambda r: row(r, r["slug"], shapes.article_url(site, r["canonical_path"])))


def claims_feed(corpus: Corpus) -> Iterator[bytes]:
    return _article_feed(corpus, "claims", shapes.claim_feed_row)


def sources_feed(corpus: Corpus) -> Iterator[bytes]:
    return _article_feed(corpus, "sources", shapes.source_feed_row)


def edges_feed(corpus: Corpus) -> Iterator[bytes]:
    return _stream(corpus.session, "edges", lambda r: {"from": r["source"], "to": r["target"], "type": r["type"]})


def roadmap_feed(_corpus: Corpus) -> Iterator[bytes]:
    yield b"\n"  # roadmaps are out of scope (§0): the feed is always empty


def manifest_json(corpus: Corpus) -> bytes:
    counts = {
        "claims": reads.feed_count(corpus.session, "claims"),
        "sources": reads.feed_count(corpus.session, "sources"),
        "roadmap": 0,
        "edges": reads.feed_count(corpus.session, "edges"),
    }
    return pretty({
        "schemaVersion": 1,
        "generatedAt": corpus.generated_at,
        "site": corpus.site,
        "base": "",
        "counts": counts,
        "files": {name: {"path": f"/agents/feeds/{name}.jsonl", "count": count} for name, count in counts.items()},
    })  # fmt: skip


# --- graph (§2.4) -----------------------------------------------------------------------------------------


def nodes_json(corpus: Corpus) -> bytes:
    """Every node of the public graph, first one wins by id, sorted by id (localeCompare)."""
    nodes: dict[str, dict[str, Any]] = {}
    articles = corpus.public_articles()
    ids = [row["id"] for row in articles]
    topics = reads.topics_of(corpus.session, ids)
    claims, sources = reads.claims_by_article(corpus.session, ids), reads.sources_by_article(corpus.session, ids)
    for row in articles:
        article_id = f"article:{row['slug']}"
        nodes.setdefault(article_id, {"id": article_id, "type": "article", "label": row["title"],
                                      "path": row["canonical_path"], "maturity": row["maturity"]})  # fmt: skip
        for topic in topics[row["id"]]:
            nodes.setdefault(f"topic:{topic}", {"id": f"topic:{topic}", "type": "topic", "label": topic})
        for claim in claims[row["id"]]:
            nodes.setdefault(claim["claim_id"], {"id": claim["claim_id"], "type": "claim", "label": claim["text"],
                                                 "localId": claim["local_id"], "confidence": claim["confidence"],
                                                 "status": claim["kind"]})  # fmt: skip
        for source in sources[row["id"]]:
            nodes.setdefault(source["source_id"], {"id": source["source_id"], "type": "source",
                                                   "label": source["title"], "url": source["url"],
                                                   "sourceType": source["type"]})  # fmt: skip
    return pretty(sorted(nodes.values(), key=lambda node: locale_key(node["id"])))


def edges_json(corpus: Corpus) -> bytes:
    """Every edge of the public graph with its provenance (merged at ingest: the last occurrence wins)."""
    edges = [
        {"from": row.source, "to": row.target, "type": row.type,
         "provenance": {"reviewedAt": row.reviewed_at, "reviewer": "generator", "status": "machine-generated"}}
        for row in reads.graph_edges(corpus.session)
    ]  # fmt: skip
    return pretty({"schemaVersion": 2, "generatedAt": corpus.generated_at, "edges": edges})
