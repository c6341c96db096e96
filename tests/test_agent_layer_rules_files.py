"""Agent-layer rules (DATA-CONTRACT §2 and §9) on whole files, on trees of our own: an article filed under another
year, a brief of exactly 180 words (its tokenEstimate), a tree without public articles (empty files and feeds)
and llms.txt.

Each test writes a tiny content tree (2-3 articles; tests/agent_rules_tree.py) that holds one of the traps §2 and
§9 describe, ingests it into a fresh SQLite database and compares the full bytes of the affected agent files with
expected values written out by hand from the rule: the lists are literals in the order the rule gives, with a
comment saying why each item sits where it does (the fixed key orders are in tests/agent_rules_shapes.py).
tests/test_agent_layer.py compares the publisher's real files byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent_rules_shapes import (
    diagnostics,
    entry,
    garden_queries,
    index,
    jsonl,
    manifest,
    month,
    packet,
    pretty,
    report,
    report_article,
    report_claim,
    summary,
    topic_item,
    year,
)
from tests.agent_rules_tree import PREVIEW, PREVIEW_HEADERS, SITE, claim, get, ingest, write_article
from tests.conftest import api_client

# --- 8. an article filed under another year ----------------------------------------------------------------------


def test_an_article_filed_under_another_year(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # zeta sits in 2025/ but was updated in 2026-07; its claim cites one source (two findings, prefixed 2025/zeta).
    zeta = write_article(
        repo,
        "zeta",
        year="2025",
        published_at="2025-12-20",
        updated_at="2026-07-12",
        claims=[claim("claim-001", "The zeta article was filed under the year before.", ["source-zeta-1"])],
        # Only raw <h2 id> tags count, titles raw (entities not decoded); a Markdown heading does not.
        body=['<h2 id="roots">Roots &amp; Shoots</h2>', "## A Markdown heading", '<h2 id="yield">Yield</h2>'],
    )
    alpha = write_article(repo, "alpha", published_at="2025-10-01", updated_at="2025-11-03")
    beta = write_article(repo, "beta", published_at="2026-06-01", updated_at="2026-06-30")
    db_url = ingest(tmp_path, db_url)
    # The string-max of the P updatedAt values (zeta's, though zeta comes first in dir order).
    generated = "2026-07-12T00:00:00.000Z"

    with api_client(db_url) as client:
        # Dir order: "2025/zeta" < "2026/alpha" < "2026/beta". Archives group by artifact updatedAt, not by the
        # folder year nor by publishedAt: zeta under 2026-07, beta 2026-06, alpha 2025-11; years and months
        # descending, ids within a group in dir order.
        entries = [entry(zeta, 17), entry(alpha, 17), entry(beta, 17)]
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                entries,
                [topic_item("garden", "garden", ["article:zeta", "article:alpha", "article:beta"])],
                [
                    year(
                        "2026",
                        ["article:zeta", "article:beta"],
                        [month("2026-07", "July", ["article:zeta"]), month("2026-06", "June", ["article:beta"])],
                    ),
                    year("2025", ["article:alpha"], [month("2025-11", "November", ["article:alpha"])]),
                ],
            )
        )
        assert get(client, "/agents/index.jsonl") == jsonl(entries)
        # The packet's repo paths come from the folder: 2025.
        assert get(client, "/agents/articles/zeta.json") == pretty(
            packet(
                zeta, generated, 17, [{"id": "roots", "title": "Roots &amp; Shoots"}, {"id": "yield", "title": "Yield"}]
            )
        )
        assert get(client, "/agents/articles/zeta.md") == zeta.agent_md  # agent.md byte for byte
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                0,
                2,
                [
                    {
                        "rule": "low-source-diversity",
                        "severity": "warning",
                        "claimId": "claim-001",
                        "message": "2025/zeta: claim-001 relies on a single source for evidence.",
                    },
                    {
                        "rule": "low-source-diversity",
                        "severity": "warning",
                        "claimId": "claim-001",
                        "message": "2025/zeta: claim-001 relies on a single source type for evidence.",
                    },
                ],
            )
        )


# --- 9. a brief of exactly 180 words -----------------------------------------------------------------------------


def test_a_brief_of_180_words_estimates_244_tokens(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # 15 lines of 12 words = 180 words; a tab and a double space split words like a single space.
    brief = "\n".join(" ".join(f"word{n}" for n in range(row * 12, row * 12 + 12)) for row in range(15))
    brief = brief.replace("word3 word4", "word3\tword4").replace("word7 word8", "word7  word8")
    assert len(brief.split()) == 180
    # This artifact already carries two of the derived keys: they keep their place and get the derived value.
    long_brief = write_article(
        repo,
        "long-brief",
        brief=brief,
        extra={"tokenEstimate": 1, "articleUrl": "https://old.example/", "x-note": "kept"},
    )
    no_brief = write_article(repo, "no-brief", brief="")  # an empty body: tokenEstimate 0
    short_brief = write_article(repo, "short-brief")  # 12 words: ceil(16.2) = 17
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # 180 × 1.35 is 243.00000000000003 in float, so ceil gives 244 (exact arithmetic would give 243).
        body = get(client, "/agents/articles/long-brief.json")
        assert body == pretty(packet(long_brief, generated, 244, []))
        assert list(json.loads(body))[7:20] == [
            "thesis",
            "tokenEstimate",
            "articleUrl",
            "x-note",
            "status",
            "maturity",
            "publishedAt",
            "updatedAt",
            "audiences",
            "topics",
            "claims",
            "sources",
            "related",
        ]
        assert list(json.loads(body))[-7:] == [
            "contentHash",
            "generatedAt",
            "agentJsonPath",
            "agentMarkdownPath",
            "sourceRepoPath",
            "sourceGitHubUrl",
            "sectionOutline",
        ]
        assert get(client, "/agents/index.jsonl") == jsonl(
            [entry(long_brief, 244), entry(no_brief, 0), entry(short_brief, 17)]
        )


# --- generatedAt with no public article, empty feeds ------------------------------------------------------------


def test_a_tree_without_public_articles_gives_empty_files(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    seedling = write_article(repo, "seedling", fm_status="draft", status="draft", updated_at="2026-09-09")
    db_url = ingest(tmp_path, db_url)
    generated = "1970-01-01T00:00:00.000Z"  # no P article

    with api_client(db_url, **PREVIEW) as client:
        for headers in ({}, PREVIEW_HEADERS):
            assert get(client, "/agents/index.json", headers) == pretty(index(generated, [], [], []))
            for feed in ("index", "feeds/claims", "feeds/sources", "feeds/edges", "feeds/roadmap"):
                assert get(client, f"/agents/{feed}.jsonl", headers) == b"\n", feed
            assert get(client, "/agents/feeds/manifest.json", headers) == pretty(
                manifest(generated, claims=0, sources=0, edges=0)
            )
            assert get(client, "/graph/nodes.json", headers) == b"[]\n"
            assert get(client, "/graph/edges.json", headers) == pretty(
                {"schemaVersion": 2, "generatedAt": generated, "edges": []}
            )
        # The publisher's report still lists the draft article: with the token, so does this one.
        assert get(client, "/agents/verification-report.json", PREVIEW_HEADERS) == pretty(
            report(
                generated,
                [
                    report_article(
                        seedling, "draft", [report_claim(seedling.claims[0], "verified")], summary(verified=1)
                    ),
                ],
            )
        )
        # Anonymous callers learn nothing of it: an empty report, an empty catalog.
        assert get(client, "/agents/verification-report.json") == pretty(report(generated, []))
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(generated, topics=[], tags=[], source_types=[], by_topic=[], by_type=[])
        )


# --- llms.txt ----------------------------------------------------------------------------------------------------

LLMS_USE = (
    "Use article packets as the retrieval unit. Treat maturity values as uncertainty markers. Prefer claim IDs and "
    "source IDs over inferred citations. Article artifacts use schemaVersion 3 with a provenance block (agents, "
    "reviews, policy) and typed evidence/counterevidence packets. Trust a published packet only when its provenance "
    "contains a human-approved review whose contentHash matches the current article.md hash."
)


def test_llms_txt_for_a_two_article_tree(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    write_article(repo, "oak", title='Oak & "bark": a [field] guide', topics=["trees", "bark"])
    write_article(repo, "oak-grove", topics=["trees-and-soil", "trees"])
    write_article(repo, "oak-draft", fm_status="draft", topics=["acorns"])  # not P: nowhere in llms.txt
    db_url = ingest(tmp_path, db_url)

    # Articles and packet links in dir order: "oak" < "oak-draft" (skipped) < "oak-grove". Titles unescaped.
    # Topic links by localeCompare: bark < trees < trees-and-soil (a prefix first).
    expected = f"""# Aura Knowledge

> Focused essays for humans, backed by compact agent-auditable research packets.

## Primary Pages
- [Home]({SITE}/)
- [Roadmap]({SITE}/roadmap/)
- [Evidence Canvas]({SITE}/evidence-canvas/)
- [Agent Entry]({SITE}/agents/)
- [Knowledge Graph]({SITE}/graph/)

## Articles
- [Oak & "bark": a [field] guide]({SITE}/articles/oak/)
- [Field notes: oak-grove]({SITE}/articles/oak-grove/)

## Agent Artifacts
- [Agent Index JSON]({SITE}/agents/index.json)
- [Agent Index JSONL]({SITE}/agents/index.jsonl)
- [Garden Query Catalog]({SITE}/agents/garden-queries.json)
- [Brief Eval Report]({SITE}/agents/eval-report.json)
- [Claim Verification Report]({SITE}/agents/verification-report.json)
- [Graph Nodes]({SITE}/graph/nodes.json)
- [Graph Edges]({SITE}/graph/edges.json)
- [oak JSON]({SITE}/agents/articles/oak.json)
- [oak Markdown]({SITE}/agents/articles/oak.md)
- [oak-grove JSON]({SITE}/agents/articles/oak-grove.json)
- [oak-grove Markdown]({SITE}/agents/articles/oak-grove.md)
- [bark topic JSON]({SITE}/agents/topics/bark.json)
- [trees topic JSON]({SITE}/agents/topics/trees.json)
- [trees-and-soil topic JSON]({SITE}/agents/topics/trees-and-soil.json)
- [Agent Feeds Manifest]({SITE}/agents/feeds/manifest.json)
- [Claims Feed JSONL]({SITE}/agents/feeds/claims.jsonl)
- [Sources Feed JSONL]({SITE}/agents/feeds/sources.jsonl)
- [Roadmap Feed JSONL]({SITE}/agents/feeds/roadmap.jsonl)
- [Edges Feed JSONL]({SITE}/agents/feeds/edges.jsonl)

## Use
{LLMS_USE}
"""
    with api_client(db_url, **PREVIEW) as client:
        for headers in ({}, PREVIEW_HEADERS):  # llms.txt is built from P articles: the same for every caller
            assert get(client, "/llms.txt", headers) == expected.encode()
