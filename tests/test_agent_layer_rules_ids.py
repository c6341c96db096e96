"""Agent-layer rules (DATA-CONTRACT §2 and §9) on ids, on trees of our own: a topic repeated in one article, a
source id reused by two articles, and gaps in claim ids (kept, never renumbered).

Each test writes a tiny content tree (2-3 articles; tests/agent_rules_tree.py) that holds one of the traps §2 and
§9 describe, ingests it into a fresh SQLite database and compares the full bytes of the affected agent files with
expected values written out by hand from the rule: the lists are literals in the order the rule gives, with a
comment saying why each item sits where it does (the fixed key orders are in tests/agent_rules_shapes.py).
tests/test_agent_layer.py compares the publisher's real files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from tests.agent_rules_shapes import (
    article_node,
    claim_node,
    claim_row,
    edge,
    entry,
    feed_claim,
    feed_edges,
    feed_source,
    garden_queries,
    index,
    jsonl,
    manifest,
    month,
    pretty,
    report,
    report_article,
    report_claim,
    source_node,
    source_row,
    summary,
    topic_item,
    topic_node,
    topic_row,
    year,
)
from tests.agent_rules_tree import SITE, claim, get, ingest, source, write_article
from tests.conftest import api_client

# --- 2. a topic repeated in one article --------------------------------------------------------------------------


def test_a_topic_repeated_in_one_article_repeats_the_id_in_topic_lists(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    alpha = write_article(repo, "alpha", topics=["soil", "water", "soil"])
    beta = write_article(repo, "beta", topics=["soil"])
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    alpha_entry, beta_entry = entry(alpha, 17), entry(beta, 17)
    assert alpha_entry["topics"] == ["soil", "water", "soil"]  # the entry keeps the artifact's list, repeat included

    with api_client(db_url) as client:
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                [alpha_entry, beta_entry],
                # The id is pushed once per occurrence: alpha twice under soil (its 1st and 3rd topic), then beta.
                [
                    topic_item("soil", "soil", ["article:alpha", "article:alpha", "article:beta"]),
                    topic_item("water", "water", ["article:alpha"]),
                ],
                [
                    year(
                        "2026",
                        ["article:alpha", "article:beta"],
                        [month("2026-07", "July", ["article:alpha", "article:beta"])],
                    )
                ],
            )
        )
        # topics/<t>.json: articleIds as in the index (duplicates kept), but each index entry listed once.
        assert get(client, "/agents/topics/soil.json") == pretty(
            {
                "schemaVersion": 1,
                "topic": "soil",
                "articleIds": ["article:alpha", "article:alpha", "article:beta"],
                "pageUrl": f"{SITE}/topics/soil/",
                "agentJsonPath": "/agents/topics/soil.json",
                "articles": [alpha_entry, beta_entry],
            }
        )
        assert get(client, "/agents/topics/water.json") == pretty(
            {
                "schemaVersion": 1,
                "topic": "water",
                "articleIds": ["article:alpha"],
                "pageUrl": f"{SITE}/topics/water/",
                "agentJsonPath": "/agents/topics/water.json",
                "articles": [alpha_entry],
            }
        )

        # The two "article:alpha:covers:topic:soil" edges share a key: one edge is kept, so 9 edges, not 10.
        edges = [
            edge("article:alpha", "argues", "article:alpha:claim-001", "2026-07-10"),
            edge("article:alpha", "covers", "topic:soil", "2026-07-10"),
            edge("article:alpha", "covers", "topic:water", "2026-07-10"),
            edge("article:beta", "argues", "article:beta:claim-001", "2026-07-10"),
            edge("article:beta", "covers", "topic:soil", "2026-07-10"),
            edge("source-alpha-1", "supports", "article:alpha:claim-001", "2026-07-05"),
            edge("source-alpha-2", "supports", "article:alpha:claim-001", "2026-07-05"),
            edge("source-beta-1", "supports", "article:beta:claim-001", "2026-07-05"),
            edge("source-beta-2", "supports", "article:beta:claim-001", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)
        assert get(client, "/agents/feeds/manifest.json") == pretty(manifest(generated, claims=2, sources=4, edges=9))

        # articles-by-topic deduplicates per article: alpha appears once under soil.
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["soil", "water"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("alpha", "soil"), topic_row("beta", "soil"), topic_row("alpha", "water")],
                by_type=[  # "dataset" < "paper"; within a type, dir order
                    source_row("alpha", alpha.sources[1]),
                    source_row("beta", beta.sources[1]),
                    source_row("alpha", alpha.sources[0]),
                    source_row("beta", beta.sources[0]),
                ],
            )
        )


# --- 3. a source id reused by two articles -----------------------------------------------------------------------


def test_a_source_id_reused_with_different_titles_keeps_the_first_node_and_both_rows(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    first_shared = source("source-shared", "Shared report, first edition", "report", "https://example.org/first")
    second_shared = source("source-shared", "Shared dataset, second take", "dataset", "https://example.net/second")
    first = write_article(
        repo,
        "first",
        sources=[first_shared, source("source-first-only", "First-only memo", "memo")],
        claims=[
            claim(
                "claim-001",
                "The first article relies on the shared report.",
                [("source-shared", "2026-07-03"), ("source-first-only", "2026-07-03")],
            )
        ],
    )
    second = write_article(
        repo,
        "second",
        sources=[source("source-second-only", "Second-only note", "note"), second_shared],
        # source-shared is cited twice by this claim: one edge, carrying the LAST packet's assessedAt (07-02),
        # not the latest date (07-06).
        claims=[
            claim(
                "claim-001",
                "The second article relies on the shared dataset.",
                [
                    ("source-shared", "2026-07-06"),
                    ("source-second-only", "2026-07-04"),
                    ("source-shared", "2026-07-02"),
                ],
            )
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # Sources are per article, not deduplicated: both source-shared rows, each with its own article's data.
        assert get(client, "/agents/feeds/sources.jsonl") == jsonl(
            [
                feed_source(first, first_shared),
                feed_source(first, first.sources[1]),
                feed_source(second, second.sources[0]),
                feed_source(second, second_shared),
            ]
        )
        # The node for source-shared is the FIRST article's (dir order: first < second): its label, url and type.
        # "source-first-only" < "source-second-only" < "source-shared" ("f" < "s"; then "e" < "h").
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(first),
                claim_node(first, first.claims[0]),
                article_node(second),
                claim_node(second, second.claims[0]),
                source_node(first.sources[1]),
                source_node(second.sources[0]),
                source_node(first_shared),
                topic_node("garden"),  # one node for the topic both articles cover
            ]
        )
        # supports edges from source-shared reach both articles' claims (merged under one source node).
        edges = [
            edge("article:first", "argues", "article:first:claim-001", "2026-07-10"),
            edge("article:first", "covers", "topic:garden", "2026-07-10"),
            edge("article:second", "argues", "article:second:claim-001", "2026-07-10"),
            edge("article:second", "covers", "topic:garden", "2026-07-10"),
            edge("source-first-only", "supports", "article:first:claim-001", "2026-07-03"),
            edge("source-second-only", "supports", "article:second:claim-001", "2026-07-04"),
            edge("source-shared", "supports", "article:first:claim-001", "2026-07-03"),
            edge("source-shared", "supports", "article:second:claim-001", "2026-07-02"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)


# --- 4. claim-id gaps --------------------------------------------------------------------------------------------


def test_claim_id_gaps_are_kept_and_never_renumbered(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    ids = ["source-gappy-1", "source-gappy-2"]
    gappy = write_article(
        repo,
        "gappy",
        claims=[
            claim("claim-001", "The gappy article states its first claim.", ids),
            # No claim-002. asOf is the string-max of assessedAt (07-09), although it is listed first.
            claim(
                "claim-003",
                "The gappy article skips straight to claim three.",
                [("source-gappy-1", "2026-07-09"), ("source-gappy-2", "2026-06-30")],
                confidence="high",
                kind="forecast",
                counter=[{"summary": "A later survey found the effect smaller.", "assessedAt": "2026-07-09"}],
            ),
        ],
    )
    plain = write_article(repo, "plain")
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    g1, g3 = gappy.claims

    with api_client(db_url) as client:
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(gappy, g1, "verified", "2026-07-05"),
                feed_claim(gappy, g3, "verified", "2026-07-09"),  # claimId article:gappy:claim-003, not claim-002
                feed_claim(plain, plain.claims[0], "verified", "2026-07-05"),
            ]
        )
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        gappy,
                        "published",
                        [report_claim(g1, "verified"), report_claim(g3, "verified")],
                        summary(verified=2),
                    ),
                    report_article(
                        plain, "published", [report_claim(plain.claims[0], "verified")], summary(verified=1)
                    ),
                ],
            )
        )
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(gappy),
                claim_node(gappy, g1),
                claim_node(gappy, g3),  # article:gappy:claim-003
                article_node(plain),
                claim_node(plain, plain.claims[0]),
                source_node(gappy.sources[0]),
                source_node(gappy.sources[1]),
                source_node(plain.sources[0]),
                source_node(plain.sources[1]),
                topic_node("garden"),
            ]
        )
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("gappy", "garden"), topic_row("plain", "garden")],
                by_type=[  # "dataset" < "paper"; within a type, dir order
                    source_row("gappy", gappy.sources[1]),
                    source_row("plain", plain.sources[1]),
                    source_row("gappy", gappy.sources[0]),
                    source_row("plain", plain.sources[0]),
                ],
                high_confidence=[claim_row("gappy", g3)],  # the local id: claim-003
            )
        )
