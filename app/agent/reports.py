"""The publisher's files built over more than its published (P) articles: the verification report and
diagnostics.json (every article, DATA-CONTRACT §2.6, §2.7) and garden-queries.json (articles whose artifact
says published, "published (A)", §2.8).

With the preview token they are exactly the publisher's files. An anonymous caller gets the same files over
the articles it may learn of (``Corpus.articles``: app.queries.common.disclosed): a draft or review article,
whichever of its files says so, is left out as if it were not stored, with its title, claims, findings,
topics, tags and source types, and every count and catalog size follows. Archived articles stay, as the
publisher lists them. Nothing a public article shows depends on another article (its findings and claim
states are its own; generatedAt comes from P articles), so the anonymous files are exactly the files the
publisher would build from a tree without the hidden articles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app import derive, shapes
from app.agent.collation import code_unit_key, locale_key
from app.agent.files import Corpus, pretty
from app.queries import agent as reads

STATES = derive.STATES
MATURITIES = ["seed", "sprout", "evergreen", "contested", "superseded"]
STATUSES = ["draft", "review", "published", "archived"]

# --- verification report, diagnostics (§2.6, §2.7) -------------------------------------------------------


def _findings(corpus: Corpus, article_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{article id: the publisher's active findings, in order} for the articles ``article_ids``."""
    return reads.generator_findings(corpus.session, article_ids, corpus.today.isoformat())


def verification_report(corpus: Corpus) -> list[dict[str, Any]]:
    """The report's ``articles`` (every article the caller may learn of, dir order), claim states resolved
    against today."""
    articles = corpus.articles()
    ids = [article["id"] for article in articles]
    findings, claims = _findings(corpus, ids), reads.claims_by_article(corpus.session, ids)
    report = []
    for article in articles:
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
    articles = corpus.articles()
    findings = _findings(corpus, [article["id"] for article in articles])
    items = []
    for article in articles:
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

#: One catalog query: (name, description, params, result type, rows).
Query = tuple[str, str, dict[str, Any], str, list[dict[str, Any]]]


class _Catalog:
    """The articles whose artifact says published (that the caller may learn of) and what the queries read."""

    def __init__(self, corpus: Corpus) -> None:
        self.site = corpus.site
        self.articles = corpus.articles("artifact-published")
        ids = [row["id"] for row in self.articles]
        self.topics, self.tags = reads.topics_of(corpus.session, ids), reads.tags_of(corpus.session, ids)
        self.claims = reads.claims_by_article(corpus.session, ids)
        self.sources = reads.sources_by_article(corpus.session, ids)
        # States come from the verification report: by slug (first match) and local claim id.
        self.states: dict[tuple[str, str], str] = {}
        for item in verification_report(corpus):
            for claim in item["claims"]:
                self.states.setdefault((item["slug"], claim["id"]), claim["state"])

    def entry(self, row: Any) -> dict[str, Any]:
        return {"articleId": f"article:{row['slug']}", "slug": row["slug"],
                "articleUrl": shapes.article_url(self.site, row["canonical_path"]),
                "agentJsonPath": f"/agents/articles/{row['slug']}.json"}  # fmt: skip

    def state(self, row: Any, claim: Any) -> str | None:
        return self.states.get((row["slug"], claim["local_id"]))

    def claim_rows(self, keep: Callable[[Any, str | None], bool]) -> list[dict[str, Any]]:
        return [
            {**self.entry(row), "claimId": c["local_id"], "claim": c["text"], "confidence": c["confidence"],
             "status": c["kind"]}
            for row in self.articles for c in self.claims[row["id"]] if keep(c, self.state(row, c))
        ]  # fmt: skip

    def topic_values(self) -> set[str]:
        return {t for row in self.articles for t in self.topics[row["id"]]}

    def source_types(self) -> set[str]:
        return {s["type"] for row in self.articles for s in self.sources[row["id"]]}

    def queries(self) -> list[Query]:
        articles, topics, sources = self.articles, self.topics, self.sources
        by_topic = [
            {**self.entry(row), "topic": topic}
            for topic in sorted(self.topic_values(), key=locale_key) for row in articles if topic in topics[row["id"]]
        ]  # fmt: skip
        by_type = [
            {**self.entry(row), "sourceId": s["source_id"], "sourceTitle": s["title"], "sourceType": s["type"],
             "sourceUrl": s["url"]}
            for kind in sorted(self.source_types(), key=locale_key)
            for row in articles for s in sources[row["id"]] if s["type"] == kind
        ]  # fmt: skip
        with_draft = [
            self.entry(row) for row in articles if any(self.state(row, c) == "draft" for c in self.claims[row["id"]])
        ]
        return [
            ("articles-by-topic", "Published articles grouped by topic.", {"groupBy": "topic"}, "articles", by_topic),
            ("claims-needing-evidence", "Claims whose computed verification state is needs-evidence.",
             {"claimState": "needs-evidence"}, "claims", self.claim_rows(lambda c, s: s == "needs-evidence")),
            ("claims-contested-or-stale", "Claims whose computed verification state is contested or stale.",
             {"claimState": ["contested", "stale"]}, "claims",
             self.claim_rows(lambda c, s: s in ("contested", "stale"))),
            ("high-confidence-claims", "Claims with confidence high.", {"confidence": "high"}, "claims",
             self.claim_rows(lambda c, s: c["confidence"] == "high")),
            ("sources-by-type", "Sources grouped by source type.", {"groupBy": "sourceType"}, "sources", by_type),
            ("articles-with-draft-claims", "Published articles that contain at least one draft-state claim.",
             {"claimState": "draft", "status": "published"}, "articles", with_draft),
        ]  # fmt: skip

    def values(self) -> dict[str, list[str]]:
        return {
            "topic": sorted(self.topic_values(), key=code_unit_key),
            "tag": sorted({t for row in self.articles for t in self.tags[row["id"]]}, key=code_unit_key),
            "maturity": MATURITIES,
            "status": STATUSES,
            "citesSourceType": sorted(self.source_types(), key=code_unit_key),
            "claimState": list(STATES),
        }


def garden_queries_json(corpus: Corpus) -> bytes:
    """The query catalog over articles whose artifact status is published ("published (A)")."""
    catalog = _Catalog(corpus)
    queries, values = catalog.queries(), catalog.values()
    return pretty({
        "schemaVersion": 1,
        "schema": f"{corpus.identity.schemas}/garden-queries.schema.json",
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
