"""Stage 3b, rows: one builder per table, each a function of one validated article.

A builder returns the rows of its table for one article as dicts keyed by column. Ids are the article's own,
counted from 0 (the article is 0; a claim is its position; evidence and counterevidence are numbered across
the article's claims in order; a source is its position; a diagnostic its position): the writer adds the
table's next free id to each (app.ingest.write), so that articles can be built on any core, in any order.

:func:`build` runs every builder and packs the rows as tuples in :func:`columns` order (id columns first):
what a worker sends back to the parent is rows, never the parsed article.

``search`` is not a table but the full-text documents (app.fulltext), one per claim, article and source, under
three names (``search:claim``, ``search:article``, ``search:source``) because each kind's ``ref`` is an id of a
different table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlmodel import SQLModel

from app import derive, models  # noqa: F401  (registers the tables in SQLModel.metadata)
from app.agent.collation import locale_bytes
from app.content.reader import ParsedArticle
from app.content.schema import CONFIDENCE_RANK

Row = dict[str, Any]

#: Per table, its id-holding columns and the table whose ids they hold (every ``article_id`` holds an article's).
ID_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "article": (("id", "article"),),
    "claim": (("id", "claim"), ("article_id", "article")),
    "evidence": (("id", "evidence"), ("claim_id", "claim"), ("article_id", "article")),
    "counterevidence": (("id", "counterevidence"), ("claim_id", "claim"), ("article_id", "article")),
    "source": (("id", "source"), ("article_id", "article")),
    "diagnostic": (("id", "diagnostic"), ("article_id", "article")),
    "search:claim": (("ref", "claim"), ("article_id", "article")),
    "search:article": (("ref", "article"), ("article_id", "article")),
    "search:source": (("ref", "source"), ("article_id", "article")),
}
ID_TABLES = ("article", "claim", "evidence", "counterevidence", "source", "diagnostic")
SEARCH_COLUMNS = ("kind", "primary_text", "secondary_text", "is_public")


def columns(name: str) -> list[str]:
    """The columns of ``name``'s packed rows: its id columns first, then the rest in table order."""
    ids = [column for column, _ in ID_COLUMNS.get(name, (("article_id", "article"),))]
    rest = SEARCH_COLUMNS if name.startswith("search:") else [c.name for c in table_of(name).columns]
    return ids + [column for column in rest if column not in ids]


def table_of(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def article_row(record: ParsedArticle) -> Row:
    artifact, fm, brief_fm = record.artifact, record.front_matter or {}, record.brief_front_matter or {}
    series = artifact.series
    approvals = [r for r in artifact.provenance.reviews if r.reviewer == "human" and r.status == "approved"]
    latest = max(approvals, key=lambda review: review.reviewedAt) if approvals else None
    return {
        "id": 0, "slug": record.slug, "dir_key": record.source.dir_key, "year": record.source.year,
        "layout": record.source.layout, "fingerprint": record.source.fingerprint, "file_stat": None,
        "title": artifact.title, "dek": fm.get("dek"), "summary": fm.get("summary"),
        "reading_time": fm.get("readingTime"), "date": fm.get("date"), "updated": fm.get("updated"),
        "fm_status": record.fm_status, "status": artifact.status, "is_public": record.is_public,
        "maturity": artifact.maturity, "topic": fm.get("topic"), "published_at": artifact.publishedAt,
        "updated_at": artifact.updatedAt, "thesis": artifact.thesis, "canonical_path": artifact.canonicalPath,
        "content_hash": record.content_hash, "token_estimate": record.token_estimate,
        "token_budget": brief_fm.get("tokenBudget"), "brief_updated": brief_fm.get("updated"),
        "section_outline": record.section_outline,
        "series_slug": series.slug if series else None, "series_title": series.title if series else None,
        "series_season": series.season if series else None, "series_order": series.order if series else None,
        "series_role": series.role if series else None, "series_arc": series.arc if series else None,
        "claim_count": len(artifact.claims), "source_count": len(artifact.sources),
        "trusted": latest is not None and latest.contentHash == record.content_hash,
        "ingested_at": None,  # the run's time, set by the writer
    }  # fmt: skip


def document_rows(record: ParsedArticle) -> list[Row]:
    raw = record.source.raw
    return [{
        "article_id": 0, "artifact_json": raw["artifact"].decode(),
        "article_md": raw["article"].decode() if "article" in raw else None,
        "agent_md": raw["brief"].decode() if "brief" in raw else None,
        "front_matter": record.front_matter, "brief_front_matter": record.brief_front_matter,
    }]  # fmt: skip


def keyword_rows(record: ParsedArticle) -> list[Row]:
    fm = record.front_matter or {}
    return [{"article_id": 0, "text": derive.keyword_text(record.artifact, fm.get("summary"), fm.get("tags", []))}]


def topic_rows(record: ParsedArticle) -> list[Row]:
    return [{"article_id": 0, "position": i, "topic": v} for i, v in enumerate(record.artifact.topics)]


def tag_rows(record: ParsedArticle) -> list[Row]:
    tags = (record.front_matter or {}).get("tags", [])
    return [{"article_id": 0, "position": i, "tag": v} for i, v in enumerate(tags)]


def audience_rows(record: ParsedArticle) -> list[Row]:
    return [{"article_id": 0, "position": i, "audience": v} for i, v in enumerate(record.artifact.audiences)]


def related_rows(record: ParsedArticle) -> list[Row]:
    return [{"article_id": 0, "position": i, "type": r.type, "target": r.id}
            for i, r in enumerate(record.artifact.related)]  # fmt: skip


def review_rows(record: ParsedArticle) -> list[Row]:
    return [{"article_id": 0, "position": i, "reviewer": r.reviewer, "reviewed_at": r.reviewedAt,
             "status": r.status, "content_hash": r.contentHash}
            for i, r in enumerate(record.artifact.provenance.reviews)]  # fmt: skip


def agent_rows(record: ParsedArticle) -> list[Row]:
    return [{"article_id": 0, "position": i, "role": a.role, "model": a.model, "invoked_at": a.invokedAt,
             "input_hash": a.inputHash, "output_hash": a.outputHash}
            for i, a in enumerate(record.artifact.provenance.agents)]  # fmt: skip


def source_rows(record: ParsedArticle) -> list[Row]:
    """A source's ``cited_by``: how many of the article's claims cite it as evidence (once per claim)."""
    claims = record.artifact.claims
    citations = Counter(sid for claim in claims for sid in {e.sourceId for e in claim.evidence})
    return [{"id": i, "article_id": 0, "position": i, "is_public": record.is_public,
             "dir_key": record.source.dir_key, "source_id": s.id, "title": s.title, "url": s.url,
             "type": s.type, "accessed": s.accessed, "cited_by": citations[s.id]}
            for i, s in enumerate(record.artifact.sources)]  # fmt: skip


def claim_rows(record: ParsedArticle) -> list[Row]:
    """A claim's id is its position; ``is_public`` and ``dir_key`` are the article's (models.Claim says why)."""
    rows = []
    for position, claim in enumerate(record.artifact.claims):
        state, verification = record.states[claim.id], claim.verification
        assessed = [e.assessedAt for e in claim.evidence if e.assessedAt]
        rows.append({
            "id": position, "article_id": 0, "position": position, "is_public": record.is_public,
            "dir_key": record.source.dir_key, "local_id": claim.id,
            "claim_id": f"article:{record.slug}:{claim.id}", "text": claim.claim, "confidence": claim.confidence,
            "confidence_rank": CONFIDENCE_RANK[claim.confidence], "kind": claim.status,
            "verification_status": verification.status if verification else None,
            "verification_reviewer": verification.reviewer if verification else None,
            "verification_reviewed_at": verification.reviewedAt if verification else None,
            "state_base": state.base, "stale_from": state.stale_from, "evidence_count": len(claim.evidence),
            "counterevidence_count": len(claim.counterevidence), "as_of": max(assessed) if assessed else None,
        })  # fmt: skip
    return rows


def evidence_rows(record: ParsedArticle) -> list[Row]:
    """Numbered across the article's claims, in claim order."""
    return [{"id": n, "claim_id": claim_id, "article_id": 0, "position": i, "source_id": e.sourceId,
             "snippet": e.snippet, "supports": e.supports, "location": e.location, "assessed_at": e.assessedAt,
             "notes": e.notes}
            for n, (claim_id, i, e) in enumerate(_each(record, "evidence"))]  # fmt: skip


def counterevidence_rows(record: ParsedArticle) -> list[Row]:
    """Numbered across the article's claims, in claim order."""
    return [{"id": n, "claim_id": claim_id, "article_id": 0, "position": i, "summary": c.summary,
             "source_id": c.sourceId, "snippet": c.snippet, "assessed_at": c.assessedAt, "notes": c.notes}
            for n, (claim_id, i, c) in enumerate(_each(record, "counterevidence"))]  # fmt: skip


def _each(record: ParsedArticle, name: str) -> list[tuple[int, int, Any]]:
    return [(claim_id, i, item) for claim_id, claim in enumerate(record.artifact.claims)
            for i, item in enumerate(getattr(claim, name))]  # fmt: skip


def search_rows(record: ParsedArticle) -> dict[str, list[Row]]:
    """The article's search documents by kind: its claims (text; evidence snippets and counterevidence
    summaries), the article (title; summary, dek and thesis) and its sources (title)."""
    artifact, fm, public = record.artifact, record.front_matter or {}, record.is_public
    claims = [{"ref": i, "article_id": 0, "kind": "claim", "primary_text": c.claim, "is_public": public,
               "secondary_text": " ".join(e.snippet for e in c.evidence) + " "
               + " ".join(x.summary for x in c.counterevidence)}
              for i, c in enumerate(artifact.claims)]  # fmt: skip
    secondary = " ".join([fm.get("summary") or "", fm.get("dek") or "", artifact.thesis])
    article = [{"ref": 0, "article_id": 0, "kind": "article", "primary_text": artifact.title,
                "secondary_text": secondary, "is_public": public}]  # fmt: skip
    sources = [{"ref": i, "article_id": 0, "kind": "source", "primary_text": s.title, "secondary_text": "",
                "is_public": public} for i, s in enumerate(artifact.sources)]  # fmt: skip
    return {"search:claim": claims, "search:article": article, "search:source": sources}


def graph_edge_rows(record: ParsedArticle) -> list[Row]:
    """The article's graph edges (app.derive) with their sort key, computed here, on the worker's core."""
    return [{"article_id": 0, "position": i, "source": source, "type": kind, "target": target,
             "reviewed_at": reviewed, "sort_key": locale_bytes(f"{source}:{kind}:{target}")}
            for i, (source, kind, target, reviewed) in enumerate(derive.graph_edges(record.artifact))]  # fmt: skip


def diagnostic_rows(record: ParsedArticle) -> list[Row]:
    return [{"id": i, "article_id": 0, "position": i, "rule": f.rule, "severity": f.severity,
             "claim_local_id": f.claim_id, "message": f.message, "active_from": f.active_from, "origin": f.origin}
            for i, f in enumerate(record.findings)]  # fmt: skip


BUILDERS: dict[str, Callable[[ParsedArticle], list[Row]]] = {
    "article_document": document_rows,
    "article_keyword": keyword_rows,
    "article_topic": topic_rows,
    "article_tag": tag_rows,
    "article_audience": audience_rows,
    "related_link": related_rows,
    "provenance_review": review_rows,
    "provenance_agent": agent_rows,
    "source": source_rows,
    "claim": claim_rows,
    "evidence": evidence_rows,
    "counterevidence": counterevidence_rows,
    "graph_edge": graph_edge_rows,
    "diagnostic": diagnostic_rows,
}
#: The tables an article owns, parents first (write order); deleting goes the other way.
OWNED = ["article", *BUILDERS]
_ORDER: dict[str, list[str]] = {}


def build(record: ParsedArticle, file_stat: str) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
    """Every row of one article, packed in :func:`columns` order, and how many ids of each table it uses."""
    by_table: dict[str, list[Row]] = {"article": [{**article_row(record), "file_stat": file_stat or None}]}
    for name, builder in BUILDERS.items():
        by_table[name] = builder(record)
    by_table.update(search_rows(record))
    packed = {name: [tuple(row[c] for c in _order(name)) for row in rows] for name, rows in by_table.items() if rows}
    used = {name: len(by_table[name]) for name in ID_TABLES}
    return packed, used


def _order(name: str) -> list[str]:
    if name not in _ORDER:
        _ORDER[name] = columns(name)
    return _ORDER[name]


def owned_tables() -> list[Table]:
    """The tables an article owns, children first (the order that never leaves a dangling row)."""
    return [table_of(name) for name in reversed(OWNED)]
