"""Agent-layer rules (DATA-CONTRACT §2.5 and §2.7) on claim verification, on trees of our own: a published claim
without verification, empty evidence (a null asOf) and an explicit verification status, counterevidence that
names a source (a contests edge).

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
    claim_row,
    diagnostics,
    edge,
    feed_claim,
    feed_edges,
    garden_queries,
    jsonl,
    manifest,
    pretty,
    ref,
    report,
    report_article,
    report_claim,
    source_row,
    summary,
    topic_row,
)
from tests.agent_rules_tree import claim, get, ingest, source, write_article
from tests.conftest import api_client

# --- 6. a missing verification -----------------------------------------------------------------------------------


def test_a_published_claim_without_verification_is_draft_with_an_error(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    checked = write_article(repo, "checked")
    ids = ["source-unchecked-1", "source-unchecked-2"]
    unchecked = write_article(
        repo,
        "unchecked",
        claims=[
            claim("claim-001", "The unchecked claim has no verification at all.", ids, verification=None),
            claim("claim-002", "The second claim of this article was verified.", ids),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    u1, u2 = unchecked.claims

    with api_client(db_url) as client:
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(checked, checked.claims[0], "verified", "2026-07-05"),
                feed_claim(unchecked, u1, "draft", "2026-07-05"),  # a missing verification is published as "draft"
                feed_claim(unchecked, u2, "verified", "2026-07-05"),
            ]
        )

        # The publisher's wording of this message is unknown (the corpus has none), so only its
        # "<year>/<slug>: claim-NNN" prefix is asserted; the rest of both files is compared byte for byte.
        found = json.loads(get(client, "/agents/diagnostics.json"))["findings"]
        assert len(found) == 1
        message = found[0]["message"]
        assert message.startswith("2026/unchecked: claim-001 "), message
        finding = {"rule": "published-claim-missing-verification", "severity": "error", "message": message}
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                1,
                0,
                [
                    {"rule": finding["rule"], "severity": "error", "claimId": "claim-001", "message": message},
                ],
            )
        )
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        checked, "published", [report_claim(checked.claims[0], "verified")], summary(verified=1)
                    ),
                    # The error does not block: no verification status, no needs-evidence/counterevidence/stale rule,
                    # so the state is draft (§2.7 rule 7).
                    report_article(
                        unchecked,
                        "published",
                        [report_claim(u1, "draft", [finding]), report_claim(u2, "verified")],
                        summary(verified=1, draft=1),
                    ),
                ],
            )
        )
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("checked", "garden"), topic_row("unchecked", "garden")],
                by_type=[
                    source_row("checked", checked.sources[1]),
                    source_row("unchecked", unchecked.sources[1]),
                    source_row("checked", checked.sources[0]),
                    source_row("unchecked", unchecked.sources[0]),
                ],
                with_draft=[ref("unchecked")],
            )
        )


# --- 6b. empty evidence; an explicit verification status wins ---------------------------------------------------


def test_empty_evidence_gives_null_as_of_and_an_explicit_verification_beats_every_finding(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    thin = write_article(
        repo,
        "thin",
        claims=[
            claim("claim-001", "The thin article offers a claim with no evidence.", [], verification=None),
            claim("claim-002", "This one has no evidence either but is verified.", []),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"
    t1, t2 = thin.claims

    with api_client(db_url) as client:
        # No evidence: asOf is an explicit null, one of the two nulls the files ever hold (§2.0).
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(thin, t1, "draft", None),
                feed_claim(thin, t2, "verified", None),
            ]
        )
        # Per claim, in table order: empty-evidence, then published-claim-missing-verification (claim-001 only).
        # The publisher's wording of these messages is unknown: the prefixes are asserted, the rest byte for byte.
        found = json.loads(get(client, "/agents/diagnostics.json"))["findings"]
        assert [(f["rule"], f["severity"], f["claimId"]) for f in found] == [
            ("empty-evidence", "error", "claim-001"),
            ("published-claim-missing-verification", "error", "claim-001"),
            ("empty-evidence", "error", "claim-002"),
        ]
        messages = [f["message"] for f in found]
        assert [m[: len("2026/thin: claim-00N ")] for m in messages] == [
            "2026/thin: claim-001 ",
            "2026/thin: claim-001 ",
            "2026/thin: claim-002 ",
        ]
        assert get(client, "/agents/diagnostics.json") == pretty(
            diagnostics(
                generated,
                3,
                0,
                [
                    {"rule": "empty-evidence", "severity": "error", "claimId": "claim-001", "message": messages[0]},
                    {
                        "rule": "published-claim-missing-verification",
                        "severity": "error",
                        "claimId": "claim-001",
                        "message": messages[1],
                    },
                    {"rule": "empty-evidence", "severity": "error", "claimId": "claim-002", "message": messages[2]},
                ],
            )
        )
        # claim-001: no verification status, empty-evidence present -> needs-evidence (§2.7 rule 4).
        # claim-002: verified -> verified (rule 1), whatever its findings say.
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [
                    report_article(
                        thin,
                        "published",
                        [
                            report_claim(
                                t1,
                                "needs-evidence",
                                [
                                    {"rule": "empty-evidence", "severity": "error", "message": messages[0]},
                                    {
                                        "rule": "published-claim-missing-verification",
                                        "severity": "error",
                                        "message": messages[1],
                                    },
                                ],
                            ),
                            report_claim(
                                t2,
                                "verified",
                                [{"rule": "empty-evidence", "severity": "error", "message": messages[2]}],
                            ),
                        ],
                        summary(verified=1, needs_evidence=1),
                    ),
                ],
            )
        )
        # claims-needing-evidence holds claim-001; needs-evidence is not draft, so no article with draft claims.
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("thin", "garden")],
                by_type=[source_row("thin", thin.sources[1]), source_row("thin", thin.sources[0])],
                needing_evidence=[claim_row("thin", t1)],
            )
        )


# --- 7. counterevidence that names a source ----------------------------------------------------------------------


def test_counterevidence_naming_a_source_adds_a_contests_edge(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    other = write_article(repo, "other")
    ids = ["source-rebutted-1", "source-rebutted-2"]
    rebutted = write_article(
        repo,
        "rebutted",
        sources=[
            source("source-rebutted-1", "A paper on rebuttals", "paper"),
            source("source-rebutted-2", "A dataset on rebuttals", "dataset"),
            source("source-critique", "A published critique", "critique"),
        ],
        claims=[
            claim(
                "claim-001",
                "The rebutted claim is disputed by a named critique.",
                ids,
                counter=[
                    {
                        "summary": "A critique disputes the measured effect.",
                        "sourceId": "source-critique",
                        "snippet": "The effect vanished on replication.",
                        "assessedAt": "2026-07-08",
                    }
                ],
            ),
            # Counterevidence without a sourceId gives no edge.
            claim(
                "claim-002",
                "The second claim meets only unsourced doubts.",
                ids,
                counter=[{"summary": "Unsourced doubts remain about scope.", "assessedAt": "2026-07-07"}],
            ),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"

    with api_client(db_url) as client:
        # Keys: "article:other:…" < "article:rebutted:…"; then the sources, "source-critique" < "source-other-…"
        # < "source-rebutted-…". The contests edge takes the counterevidence packet's assessedAt (07-08).
        edges = [
            edge("article:other", "argues", "article:other:claim-001", "2026-07-10"),
            edge("article:other", "covers", "topic:garden", "2026-07-10"),
            edge("article:rebutted", "argues", "article:rebutted:claim-001", "2026-07-10"),
            edge("article:rebutted", "argues", "article:rebutted:claim-002", "2026-07-10"),
            edge("article:rebutted", "covers", "topic:garden", "2026-07-10"),
            edge("source-critique", "contests", "article:rebutted:claim-001", "2026-07-08"),
            edge("source-other-1", "supports", "article:other:claim-001", "2026-07-05"),
            edge("source-other-2", "supports", "article:other:claim-001", "2026-07-05"),
            edge("source-rebutted-1", "supports", "article:rebutted:claim-001", "2026-07-05"),
            edge("source-rebutted-1", "supports", "article:rebutted:claim-002", "2026-07-05"),
            edge("source-rebutted-2", "supports", "article:rebutted:claim-001", "2026-07-05"),
            edge("source-rebutted-2", "supports", "article:rebutted:claim-002", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)
        assert get(client, "/agents/feeds/manifest.json") == pretty(manifest(generated, claims=3, sources=5, edges=12))
        assert get(client, "/agents/feeds/roadmap.jsonl") == b"\n"  # an empty feed is exactly one newline
        assert get(client, "/agents/feeds/claims.jsonl") == jsonl(
            [
                feed_claim(other, other.claims[0], "verified", "2026-07-05"),
                feed_claim(rebutted, rebutted.claims[0], "verified", "2026-07-05"),
                feed_claim(rebutted, rebutted.claims[1], "verified", "2026-07-05"),
            ]
        )
        # The named source is one of the article's own: no dangling-graph-edge, no finding at all.
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))
