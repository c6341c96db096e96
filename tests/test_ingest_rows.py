"""app.ingest.rows: each table's builder, a function of one article, on an article of the bundled content/."""

from __future__ import annotations

from collections import Counter

import pytest

from app import derive
from app.agent.collation import locale_bytes
from app.content.reader import ParsedArticle, parse
from app.ingest import rows
from app.ingest.prepare import read_all
from tests.conftest import CONTENT


@pytest.fixture(scope="module")
def record() -> ParsedArticle:
    """mulch-cover-crops-and-no-dig: public, in a series, with tags, related links, counterevidence."""
    articles, walk = read_all([CONTENT], 8 << 20)
    assert not walk.errors
    return parse(next(a for a in articles if a.slug == "mulch-cover-crops-and-no-dig"))


@pytest.fixture(scope="module")
def draft() -> ParsedArticle:
    """hot-composting-in-seven-days: not public (a draft somewhere)."""
    articles, _ = read_all([CONTENT], 8 << 20)
    return parse(next(a for a in articles if a.slug == "hot-composting-in-seven-days"))


def test_the_article_row_carries_front_matter_artifact_and_derived_values(record: ParsedArticle) -> None:
    row = rows.article_row(record)
    artifact = record.artifact
    assert row["id"] == 0 and row["slug"] == record.slug and row["dir_key"] == f"{record.source.year}/{record.slug}"
    assert row["title"] == artifact.title and row["summary"] == (record.front_matter or {})["summary"]
    assert row["is_public"] is True and row["fingerprint"] == record.source.fingerprint
    assert (row["claim_count"], row["source_count"]) == (len(artifact.claims), len(artifact.sources))
    assert artifact.series and (row["series_slug"], row["series_order"]) == (
        artifact.series.slug,
        artifact.series.order,
    )
    assert row["ingested_at"] is None and row["file_stat"] is None  # the writer's and the walk's to set


def test_the_document_row_keeps_the_files_as_read(record: ParsedArticle) -> None:
    (row,) = rows.document_rows(record)
    assert row["artifact_json"].encode() == record.source.raw["artifact"]
    assert row["article_md"].encode() == record.source.raw["article"]
    assert row["agent_md"].encode() == record.source.raw["brief"]


def test_keyword_text_is_the_lowercased_searchable_text(record: ParsedArticle) -> None:
    (row,) = rows.keyword_rows(record)
    assert row["text"] == row["text"].lower() and record.artifact.title.lower() in row["text"]


def test_link_tables_keep_their_order(record: ParsedArticle) -> None:
    fm, artifact = record.front_matter or {}, record.artifact
    assert [(r["position"], r["topic"]) for r in rows.topic_rows(record)] == list(enumerate(artifact.topics))
    assert [r["tag"] for r in rows.tag_rows(record)] == fm["tags"]
    assert [r["audience"] for r in rows.audience_rows(record)] == artifact.audiences
    assert [(r["type"], r["target"]) for r in rows.related_rows(record)] == [(x.type, x.id) for x in artifact.related]
    assert [r["reviewer"] for r in rows.review_rows(record)] == [r.reviewer for r in artifact.provenance.reviews]
    assert rows.agent_rows(record) == []  # no agent in its provenance


def test_a_source_counts_each_claim_that_cites_it_once(record: ParsedArticle) -> None:
    built = rows.source_rows(record)
    assert [r["id"] for r in built] == list(range(len(record.artifact.sources)))
    for row in built:
        citing = [c for c in record.artifact.claims if any(e.sourceId == row["source_id"] for e in c.evidence)]
        assert row["cited_by"] == len(citing) and row["is_public"] is True


def test_claims_are_numbered_by_position_with_their_stable_ids(record: ParsedArticle) -> None:
    built = rows.claim_rows(record)
    for position, (row, claim) in enumerate(zip(built, record.artifact.claims, strict=True)):
        assert row["id"] == row["position"] == position
        assert row["claim_id"] == f"article:{record.slug}:{claim.id}" and row["text"] == claim.claim
        assert row["state_base"] == record.states[claim.id].base
        assert row["evidence_count"] == len(claim.evidence)


def test_evidence_and_counterevidence_are_numbered_across_the_claims(record: ParsedArticle) -> None:
    claims = record.artifact.claims
    evidence = rows.evidence_rows(record)
    assert [r["id"] for r in evidence] == list(range(sum(len(c.evidence) for c in claims)))
    assert Counter(r["claim_id"] for r in evidence) == {i: len(c.evidence) for i, c in enumerate(claims) if c.evidence}
    counter = rows.counterevidence_rows(record)
    assert [r["summary"] for r in counter] == [x.summary for c in claims for x in c.counterevidence]
    assert all(r["position"] == [x.summary for x in claims[r["claim_id"]].counterevidence].index(r["summary"])
               for r in counter)  # fmt: skip


def test_search_documents_one_per_claim_article_and_source(record: ParsedArticle, draft: ParsedArticle) -> None:
    docs = rows.search_rows(record)
    claims, sources = record.artifact.claims, record.artifact.sources
    assert [d["primary_text"] for d in docs["search:claim"]] == [c.claim for c in claims]
    assert claims[0].evidence[0].snippet in docs["search:claim"][0]["secondary_text"]
    assert [d["primary_text"] for d in docs["search:article"]] == [record.artifact.title]
    assert [d["ref"] for d in docs["search:source"]] == list(range(len(sources)))
    assert all(d["is_public"] for kind in docs.values() for d in kind)
    assert not any(d["is_public"] for kind in rows.search_rows(draft).values() for d in kind)


def test_graph_edges_carry_their_collation_sort_key(record: ParsedArticle) -> None:
    built = rows.graph_edge_rows(record)
    assert [(r["source"], r["type"], r["target"]) for r in built] == [
        e[:3] for e in derive.graph_edges(record.artifact)
    ]
    assert all(r["sort_key"] == locale_bytes(f"{r['source']}:{r['type']}:{r['target']}") for r in built)


def test_diagnostics_are_the_findings_in_order(record: ParsedArticle) -> None:
    built = rows.diagnostic_rows(record)
    assert [(r["id"], r["rule"], r["message"]) for r in built] == [
        (i, f.rule, f.message) for i, f in enumerate(record.findings)
    ]


def test_build_packs_every_table_id_columns_first_and_counts_the_ids(record: ParsedArticle) -> None:
    packed, used = rows.build(record, "1:2:3:4:5|1:2:3:4:5|1:2:3:4:5")
    assert set(packed) == {*rows.OWNED, "search:claim", "search:article", "search:source"} - {"provenance_agent"}
    claim_columns = rows.columns("claim")
    assert claim_columns[:2] == ["id", "article_id"]
    first = dict(zip(claim_columns, packed["claim"][0], strict=True))
    assert first == rows.claim_rows(record)[0]
    article = dict(zip(rows.columns("article"), packed["article"][0], strict=True))
    assert article["file_stat"] == "1:2:3:4:5|1:2:3:4:5|1:2:3:4:5"
    assert used == {"article": 1, "claim": len(record.artifact.claims), "source": len(record.artifact.sources),
                    "evidence": len(packed["evidence"]), "counterevidence": len(packed["counterevidence"]),
                    "diagnostic": len(record.findings)}  # fmt: skip
