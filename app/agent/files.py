"""Each of the publisher's agent files, built from the stored corpus with the generator's exact rules.

Every builder returns the file's bytes (or, for the feeds, an iterator of byte chunks that reads the database
row by row, so memory stays flat however large the corpus). Section numbers refer to DATA-CONTRACT §2.
The rows come from the same tables and the same row builders (app.shapes) as the REST API, and claim states
and diagnostics from app.derive, so the two can never disagree.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, select
from sqlmodel import Session

from app import derive, shapes
from app.agent.collation import code_unit_key, locale_key
from app.queries.common import (
    ARTICLE,
    CLAIM,
    DIAGNOSTIC,
    DOCUMENT,
    EDGE,
    SOURCE,
    TAG,
    TOPIC,
    grouped,
    max_public_updated,
)

STATES = derive.STATES
MATURITIES = ["seed", "sprout", "evergreen", "contested", "superseded"]
STATUSES = ["draft", "review", "published", "archived"]
ROW_CHUNK = 1000


def pretty(value: Any) -> bytes:
    """A JSON file as the generator writes it: 2-space indent, raw UTF-8, one final newline."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def compact(value: Any) -> bytes:
    return orjson.dumps(value)


class Corpus:
    """What the builders share for one request: the session, the site, the corpus-wide generatedAt, and whether
    the caller has preview access (``preview``: the publisher's files over every article; else the public subset).
    """

    def __init__(self, session: Session, site: str, today: dt.date, *, preview: bool = False) -> None:
        self.session, self.site, self.today, self.preview = session, site.rstrip("/"), today, preview
        self.generated_at = shapes.generated_at(max_public_updated(session))

    def public_articles(self) -> list[Any]:
        """Published (P) article rows in dir order."""
        query = select(ARTICLE).where(ARTICLE.c.is_public.is_(True)).order_by(ARTICLE.c.dir_key)
        return list(self.session.execute(query).mappings())

    def index_entries(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        topics, tags = grouped(self.session, TOPIC.c.topic, ids), grouped(self.session, TAG.c.tag, ids)
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
    row: Any = corpus.session.execute(
        select(ARTICLE, DOCUMENT.c.artifact_json)
        .join(DOCUMENT, DOCUMENT.c.article_id == ARTICLE.c.id)
        .where(ARTICLE.c.slug == slug, ARTICLE.c.is_public.is_(True))
    ).mappings().first()  # fmt: skip
    if row is None:
        return None
    if row["layout"] == "packet":
        given: str = row["artifact_json"]
        return given.encode()  # a loaded packet is served unchanged
    return pretty(shapes.packet(row, row["artifact_json"], corpus.generated_at, corpus.site))


def packet_markdown(corpus: Corpus, slug: str) -> bytes | None:
    markdown = corpus.session.execute(
        select(DOCUMENT.c.agent_md)
        .join(ARTICLE, DOCUMENT.c.article_id == ARTICLE.c.id)
        .where(ARTICLE.c.slug == slug, ARTICLE.c.is_public.is_(True))
    ).scalar()  # fmt: skip
    return markdown.encode() if markdown is not None else None


# --- feeds (§2.5) -----------------------------------------------------------------------------------------


def _stream(session: Session, query: Select[Any], line: Any) -> Iterator[bytes]:
    """Rows of ``query`` as JSONL, read in chunks so that memory does not grow with the feed."""
    result = session.execute(query.execution_options(yield_per=ROW_CHUNK)).mappings()
    empty = True
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for rows in result.partitions():
        empty = False
        yield b"".join([dumps(line(row), option=newline) for row in rows])
    if empty:
        yield b"\n"  # an empty feed is a file holding just a newline


def _public_join(child: Any) -> Any:
    return child.join(ARTICLE, and_(ARTICLE.c.id == child.c.article_id, ARTICLE.c.is_public.is_(True)))


def claims_query() -> Select[Any]:
    return (
        select(CLAIM, ARTICLE.c.slug, ARTICLE.c.canonical_path)
        .select_from(_public_join(CLAIM))
        .order_by(ARTICLE.c.dir_key, CLAIM.c.position)
    )


def sources_query() -> Select[Any]:
    return (
        select(SOURCE, ARTICLE.c.slug, ARTICLE.c.canonical_path)
        .select_from(_public_join(SOURCE))
        .order_by(ARTICLE.c.dir_key, SOURCE.c.position)
    )


def edges_query() -> Select[Any]:
    """Edges of public articles in localeCompare order of ``from:type:to`` (stored sort keys; stored merged)."""
    return select(EDGE.c.source, EDGE.c.type, EDGE.c.target).select_from(_public_join(EDGE)).order_by(EDGE.c.sort_key)


def _article_feed(
    corpus: Corpus, query: Select[Any], row: Callable[[Any, str, str], dict[str, Any]]
) -> Iterator[bytes]:
    """A feed of per-article rows, each built by ``row(db_row, slug, articleUrl)`` (app.shapes)."""
    site = corpus.site
    return _stream(corpus.session, query, lambda r: row(r, r["slug"], shapes.article_url(site, r["canonical_path"])))


def claims_feed(corpus: Corpus) -> Iterator[bytes]:
    return _article_feed(corpus, claims_query(), shapes.claim_feed_row)


def sources_feed(corpus: Corpus) -> Iterator[bytes]:
    return _article_feed(corpus, sources_query(), shapes.source_feed_row)


def edges_feed(corpus: Corpus) -> Iterator[bytes]:
    return _stream(corpus.session, edges_query(), lambda r: {"from": r["source"], "to": r["target"], "type": r["type"]})


def roadmap_feed(_corpus: Corpus) -> Iterator[bytes]:
    yield b"\n"  # roadmaps are out of scope (§0): the feed is always empty


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one())


def manifest_json(corpus: Corpus) -> bytes:
    counts = {
        "claims": _count(corpus.session, claims_query()),
        "sources": _count(corpus.session, sources_query()),
        "roadmap": 0,
        "edges": _count(corpus.session, edges_query()),
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
    topics = grouped(corpus.session, TOPIC.c.topic, ids)
    claims, sources = by_article(corpus.session, CLAIM), by_article(corpus.session, SOURCE)
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
    query = (
        select(EDGE.c.source, EDGE.c.type, EDGE.c.target, EDGE.c.reviewed_at)
        .select_from(_public_join(EDGE))
        .order_by(EDGE.c.sort_key)
    )
    edges = [
        {"from": row.source, "to": row.target, "type": row.type,
         "provenance": {"reviewedAt": row.reviewed_at, "reviewer": "generator", "status": "machine-generated"}}
        for row in corpus.session.execute(query)
    ]  # fmt: skip
    return pretty({"schemaVersion": 2, "generatedAt": corpus.generated_at, "edges": edges})


# --- verification report, diagnostics (§2.6, §2.7) -------------------------------------------------------


def _findings(corpus: Corpus) -> dict[int, list[Any]]:
    """{article id: the publisher's active findings, in order} for every article."""
    today = corpus.today.isoformat()
    query = (
        select(DIAGNOSTIC)
        .where(DIAGNOSTIC.c.origin == "generator")
        .order_by(DIAGNOSTIC.c.article_id, DIAGNOSTIC.c.position)
    )
    out: dict[int, list[Any]] = defaultdict(list)
    for finding in corpus.session.execute(query).mappings():
        if finding["active_from"] is None or finding["active_from"] <= today:
            out[finding["article_id"]].append(finding)
    return out


def _all_articles(corpus: Corpus) -> list[Any]:
    return list(corpus.session.execute(select(ARTICLE).order_by(ARTICLE.c.dir_key)).mappings())


def by_article(session: Session, child: Any) -> dict[int, list[Any]]:
    """{article id: rows of ``child`` (claims, sources) in position order}, for every article."""
    out: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(select(child).order_by(child.c.article_id, child.c.position)).mappings():
        out[row["article_id"]].append(row)
    return out


def verification_report(corpus: Corpus) -> list[dict[str, Any]]:
    """The report's ``articles`` (every article, dir order), claim states resolved against today."""
    findings, claims = _findings(corpus), by_article(corpus.session, CLAIM)
    report = []
    for article in _all_articles(corpus):
        items, summary = [], dict.fromkeys(STATES, 0)
        for claim in claims[article["id"]]:
            state = derive.ClaimState(claim["state_base"], claim["stale_from"]).on(corpus.today)
            summary[state] += 1
            items.append({
                "id": claim["local_id"], "claim": claim["text"], "confidence": claim["confidence"],
                "status": claim["kind"], "state": state, "evidenceCount": claim["evidence_count"],
                "counterevidenceCount": claim["counterevidence_count"],
                "findings": [
                    {"rule": f["rule"], "severity": f["severity"], "message": f["message"]}
                    for f in findings[article["id"]]
                    if derive.concerns_claim(f["rule"], f["claim_local_id"], f["message"], claim["local_id"])
                ],
            })  # fmt: skip
        report.append({"slug": article["slug"], "title": article["title"], "status": article["status"],
                       "claims": items, "summary": summary})  # fmt: skip
    return report


def verification_report_json(corpus: Corpus) -> bytes:
    articles = verification_report(corpus)
    return pretty({"schemaVersion": 1, "generatedAt": corpus.generated_at, "articles": articles})


def diagnostics_json(corpus: Corpus) -> bytes:
    findings = _findings(corpus)
    items = []
    for article in _all_articles(corpus):
        for f in findings[article["id"]]:
            item = {"rule": f["rule"], "severity": f["severity"]}
            if f["claim_local_id"] is not None:
                item["claimId"] = f["claim_local_id"]
            items.append({**item, "message": f["message"]})
    errors = sum(1 for item in items if item["severity"] == "error")
    warnings = sum(1 for item in items if item["severity"] == "warning")
    return pretty({
        "schemaVersion": 1,
        "generatedAt": corpus.generated_at,
        "summary": {"errors": errors, "warnings": warnings, "total": len(items)},
        "findings": items,
    })  # fmt: skip


# --- garden-queries.json (§2.8) ---------------------------------------------------------------------------

DIMENSIONS = [
    ("topic", "Article topic."),
    ("tag", "Article tag."),
    ("maturity", "Article maturity."),
    ("status", "Article publication status."),
    ("citesSourceType", "Source type cited by the article."),
    ("claimState", "Computed verification state of a claim."),
    ("keyword", "Case-insensitive phrase match across title, summary, thesis, claims, sources, tags, and topics."),
    ("relatedTo", "Articles related by shared topic or graph edge to the given slug."),
]


def garden_queries_json(corpus: Corpus) -> bytes:
    """The query catalog over articles whose artifact status is published ("published (A)")."""
    articles = list(corpus.session.execute(
        select(ARTICLE).where(ARTICLE.c.status == "published").order_by(ARTICLE.c.dir_key)
    ).mappings())  # fmt: skip
    ids = [row["id"] for row in articles]
    topics, tags = grouped(corpus.session, TOPIC.c.topic, ids), grouped(corpus.session, TAG.c.tag, ids)
    claims, sources = by_article(corpus.session, CLAIM), by_article(corpus.session, SOURCE)
    # States come from the verification report: by slug (first match) and local claim id.
    states: dict[tuple[str, str], str] = {}
    for item in verification_report(corpus):
        for claim in item["claims"]:
            states.setdefault((item["slug"], claim["id"]), claim["state"])

    def entry(row: Any) -> dict[str, Any]:
        return {"articleId": f"article:{row['slug']}", "slug": row["slug"],
                "articleUrl": shapes.article_url(corpus.site, row["canonical_path"]),
                "agentJsonPath": f"/agents/articles/{row['slug']}.json"}  # fmt: skip

    def claim_rows(keep: Any) -> list[dict[str, Any]]:
        return [
            {**entry(row), "claimId": c["local_id"], "claim": c["text"], "confidence": c["confidence"],
             "status": c["kind"]}
            for row in articles for c in claims[row["id"]] if keep(c, states.get((row["slug"], c["local_id"])))
        ]  # fmt: skip

    by_topic = [
        {**entry(row), "topic": topic}
        for topic in sorted({t for row in articles for t in topics[row["id"]]}, key=locale_key)
        for row in articles
        if topic in topics[row["id"]]
    ]
    by_type = [
        {**entry(row), "sourceId": s["source_id"], "sourceTitle": s["title"], "sourceType": s["type"],
         "sourceUrl": s["url"]}
        for kind in sorted({s["type"] for row in articles for s in sources[row["id"]]}, key=locale_key)
        for row in articles for s in sources[row["id"]] if s["type"] == kind
    ]  # fmt: skip
    with_draft = [
        entry(row) for row in articles
        if any(states.get((row["slug"], c["local_id"])) == "draft" for c in claims[row["id"]])
    ]  # fmt: skip
    queries = [
        ("articles-by-topic", "Published articles grouped by topic.", {"groupBy": "topic"}, "articles", by_topic),
        ("claims-needing-evidence", "Claims whose computed verification state is needs-evidence.",
         {"claimState": "needs-evidence"}, "claims", claim_rows(lambda c, s: s == "needs-evidence")),
        ("claims-contested-or-stale", "Claims whose computed verification state is contested or stale.",
         {"claimState": ["contested", "stale"]}, "claims", claim_rows(lambda c, s: s in ("contested", "stale"))),
        ("high-confidence-claims", "Claims with confidence high.", {"confidence": "high"}, "claims",
         claim_rows(lambda c, s: c["confidence"] == "high")),
        ("sources-by-type", "Sources grouped by source type.", {"groupBy": "sourceType"}, "sources", by_type),
        ("articles-with-draft-claims", "Published articles that contain at least one draft-state claim.",
         {"claimState": "draft", "status": "published"}, "articles", with_draft),
    ]  # fmt: skip
    values: dict[str, list[str]] = {
        "topic": sorted({t for row in articles for t in topics[row["id"]]}, key=code_unit_key),
        "tag": sorted({t for row in articles for t in tags[row["id"]]}, key=code_unit_key),
        "maturity": MATURITIES,
        "status": STATUSES,
        "citesSourceType": sorted({s["type"] for row in articles for s in sources[row["id"]]}, key=code_unit_key),
        "claimState": list(STATES),
    }
    return pretty({
        "schemaVersion": 1,
        "schema": "https://aura-knowledge.github.io/schemas/garden-queries.schema.json",
        "site": corpus.site,
        "base": "",
        "generatedAt": corpus.generated_at,
        "catalogSize": {"queryCount": len(queries), "totalResults": sum(len(q[4]) for q in queries)},
        "dimensions": [
            {"name": name, "description": text, **({"values": values[name]} if name in values else {})}
            for name, text in DIMENSIONS
        ],
        "queries": [
            {"name": name, "description": text, "params": params, "resultType": kind, "resultCount": len(rows),
             "results": rows}
            for name, text, params, kind, rows in queries
        ],
    })  # fmt: skip


# --- llms.txt (§2.9) --------------------------------------------------------------------------------------

LLMS_HEAD = """# Aura Knowledge

> Focused essays for humans, backed by compact agent-auditable research packets.

## Primary Pages
- [Home]({site}/)
- [Roadmap]({site}/roadmap/)
- [Evidence Canvas]({site}/evidence-canvas/)
- [Agent Entry]({site}/agents/)
- [Knowledge Graph]({site}/graph/)
"""
LLMS_USE = (
    "Use article packets as the retrieval unit. Treat maturity values as uncertainty markers. Prefer claim IDs and "
    "source IDs over inferred citations. Article artifacts use schemaVersion 3 with a provenance block (agents, "
    "reviews, policy) and typed evidence/counterevidence packets. Trust a published packet only when its provenance "
    "contains a human-approved review whose contentHash matches the current article.md hash."
)


def llms_txt(corpus: Corpus) -> bytes:
    site = corpus.site
    articles = corpus.public_articles()
    entries = corpus.index_entries(articles)
    lines = [LLMS_HEAD.format(site=site), "## Articles"]
    lines += [f"- [{row['title']}]({shapes.article_url(site, row['canonical_path'])})" for row in articles]
    lines += ["", "## Agent Artifacts"]
    for label, path in (
        ("Agent Index JSON", "/agents/index.json"), ("Agent Index JSONL", "/agents/index.jsonl"),
        ("Garden Query Catalog", "/agents/garden-queries.json"), ("Brief Eval Report", "/agents/eval-report.json"),
        ("Claim Verification Report", "/agents/verification-report.json"), ("Graph Nodes", "/graph/nodes.json"),
        ("Graph Edges", "/graph/edges.json"),
    ):  # fmt: skip
        lines.append(f"- [{label}]({site}{path})")
    for row in articles:
        lines.append(f"- [{row['slug']} JSON]({site}/agents/articles/{row['slug']}.json)")
        lines.append(f"- [{row['slug']} Markdown]({site}/agents/articles/{row['slug']}.md)")
    lines += [f"- [{topic} topic JSON]({site}/agents/topics/{topic}.json)" for topic, _ in topic_groups(entries)]
    lines.append(f"- [Agent Feeds Manifest]({site}/agents/feeds/manifest.json)")
    for label, name in (("Claims", "claims"), ("Sources", "sources"), ("Roadmap", "roadmap"), ("Edges", "edges")):
        lines.append(f"- [{label} Feed JSONL]({site}/agents/feeds/{name}.jsonl)")
    lines += ["", "## Use", LLMS_USE]
    return ("\n".join(lines) + "\n").encode()
