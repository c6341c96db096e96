"""Agent-layer rules (DATA-CONTRACT §2 and §9) on status, on trees of our own: front matter and artifact that
disagree on status, review and archived articles; which files list them for a caller with the preview token and
for an anonymous one.

Each test writes a tiny content tree (2-3 articles; tests/agent_rules_tree.py) that holds one of the traps §2 and
§9 describe, ingests it into a fresh SQLite database and compares the full bytes of the affected agent files with
expected values written out by hand from the rule: the lists are literals in the order the rule gives, with a
comment saying why each item sits where it does (the fixed key orders are in tests/agent_rules_shapes.py).
tests/test_agent_layer.py compares the publisher's real files byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.agent_rules_shapes import (
    article_node,
    claim_node,
    diagnostics,
    entry,
    feed_claim,
    feed_source,
    garden_queries,
    index,
    jsonl,
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
from tests.agent_rules_tree import PREVIEW, PREVIEW_HEADERS, Article, claim, get, ingest, source, write_article
from tests.conftest import api_client

# --- 5. front matter and artifact disagree on status -------------------------------------------------------------


def test_status_disagreement_keeps_an_article_out_of_public_files_but_in_the_reports(
    tmp_path: Path, db_url: str
) -> None:
    repo = tmp_path / "repo"
    both = write_article(repo, "both")
    # Each disagreeing article has one claim citing a single source, which raises the two low-source-diversity
    # warnings whatever the status, so that it shows up in diagnostics.json. Their updatedAt is later than
    # both's, but only published (P) articles count for generatedAt.
    front_draft = write_article(
        repo,
        "draft-front",
        fm_status="draft",
        status="published",
        updated_at="2026-08-01",
        topics=["meadow"],
        tags=["wildflowers"],
        sources=[source("source-draft-front-1", "Meadow survey notes", "survey")],
    )
    artifact_draft = write_article(
        repo,
        "draft-artifact",
        fm_status="published",
        status="draft",
        updated_at="2026-08-02",
        topics=["orchard"],
        tags=["fruit"],
        sources=[source("source-draft-artifact-1", "Orchard ledger book", "ledger")],
        # No verification: published-claim-missing-verification needs P, so it must NOT fire here.
        claims=[
            claim(
                "claim-001", "The orchard ledger shows a steady yield.", ["source-draft-artifact-1"], verification=None
            )
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"  # both's updatedAt; 2026-08-01/02 are not P

    with api_client(db_url, **PREVIEW) as client:
        # Only "both" is P: index, feeds, graph, the same for every caller. Dir order of all three: both <
        # draft-artifact < draft-front.
        for headers in ({}, PREVIEW_HEADERS):
            assert_only_both_in_p_files(client, both, generated, headers)

        # With the token, the reports cover every article, in dir order, with the artifact's status.
        def single_source(slug: str) -> list[dict[str, str]]:
            return [
                {
                    "rule": "low-source-diversity",
                    "severity": "warning",
                    "message": f"2026/{slug}: claim-001 relies on a single source for evidence.",
                },
                {
                    "rule": "low-source-diversity",
                    "severity": "warning",
                    "message": f"2026/{slug}: claim-001 relies on a single source type for evidence.",
                },
            ]

        assert get(client, "/agents/verification-report.json", PREVIEW_HEADERS) == pretty(
            report(
                generated,
                [
                    report_article(both, "published", [report_claim(both.claims[0], "verified")], summary(verified=1)),
                    # No verification and no blocking finding: state draft (§2.7 rule 7).
                    report_article(
                        artifact_draft,
                        "draft",
                        [report_claim(artifact_draft.claims[0], "draft", single_source("draft-artifact"))],
                        summary(draft=1),
                    ),
                    report_article(
                        front_draft,
                        "published",
                        [report_claim(front_draft.claims[0], "verified", single_source("draft-front"))],
                        summary(verified=1),
                    ),
                ],
            )
        )
        assert get(client, "/agents/diagnostics.json", PREVIEW_HEADERS) == pretty(
            diagnostics(
                generated,
                0,
                4,
                [
                    {"rule": f["rule"], "severity": f["severity"], "claimId": "claim-001", "message": f["message"]}
                    for slug in ("draft-artifact", "draft-front")
                    for f in single_source(slug)
                ],
            )
        )

        # garden-queries looks at the artifact status only: draft-front (fm draft, artifact published) is in it,
        # draft-artifact is not. Its generatedAt is still the P one.
        assert get(client, "/agents/garden-queries.json", PREVIEW_HEADERS) == pretty(
            garden_queries(
                generated,
                topics=["garden", "meadow"],
                tags=["notes", "wildflowers"],
                source_types=["dataset", "paper", "survey"],
                by_topic=[topic_row("both", "garden"), topic_row("draft-front", "meadow")],
                by_type=[
                    source_row("both", both.sources[1]),
                    source_row("both", both.sources[0]),
                    source_row("draft-front", front_draft.sources[0]),
                ],
            )
        )

        # Anonymous callers get the same files without the two drafts: the stricter status wins, so neither
        # draft-front (fm draft) nor draft-artifact (artifact draft) is named, counted or described.
        assert get(client, "/agents/verification-report.json") == pretty(
            report(
                generated,
                [report_article(both, "published", [report_claim(both.claims[0], "verified")], summary(verified=1))],
            )
        )
        assert get(client, "/agents/diagnostics.json") == pretty(diagnostics(generated, 0, 0, []))
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["garden"],
                tags=["notes"],
                source_types=["dataset", "paper"],
                by_topic=[topic_row("both", "garden")],
                by_type=[source_row("both", both.sources[1]), source_row("both", both.sources[0])],
            )
        )


def test_review_hides_like_draft_and_archived_stays_where_the_publisher_lists_it(tmp_path: Path, db_url: str) -> None:
    """One rule (app.queries.common.hides): draft or review in either file hides an article from anonymous
    callers everywhere; archived (with no draft or review) stays in the reports and, artifact published, in
    garden-queries, and is a 410 on REST; archived in one file and draft in the other is hidden (a 404)."""
    repo = tmp_path / "repo"
    write_article(repo, "both")
    write_article(repo, "gone", fm_status="archived", status="archived")
    write_article(repo, "gone-draft", fm_status="draft", status="archived", topics=["secret-draft-topic"])
    write_article(repo, "gone-front", fm_status="archived", status="published", topics=["old-topic"])
    write_article(repo, "in-review", fm_status="published", status="review", tags=["secret-review-tag"])
    db_url = ingest(tmp_path, db_url)
    every = ["both", "gone", "gone-draft", "gone-front", "in-review"]  # dir order

    def report_slugs(headers: dict[str, str]) -> list[str]:
        return [a["slug"] for a in json.loads(get(client, "/agents/verification-report.json", headers))["articles"]]

    def catalog(headers: dict[str, str]) -> dict[str, Any]:
        body = json.loads(get(client, "/agents/garden-queries.json", headers))
        by_topic = body["queries"][0]["results"]
        return {"slugs": sorted({row["slug"] for row in by_topic}), "topics": body["dimensions"][0]["values"]}

    with api_client(db_url, **PREVIEW) as client:
        assert report_slugs(PREVIEW_HEADERS) == every
        assert report_slugs({}) == ["both", "gone", "gone-front"]
        # garden-queries takes artifact-published articles (both, gone-front), for everyone: none is hidden.
        assert catalog(PREVIEW_HEADERS) == catalog({}) == {"slugs": ["both", "gone-front"],
                                                          "topics": ["garden", "old-topic"]}  # fmt: skip
        for slug, anonymous in (("gone", 410), ("gone-front", 410), ("gone-draft", 404), ("in-review", 404)):
            assert client.get(f"/articles/{slug}").status_code == anonymous, slug
            assert client.get(f"/articles/{slug}", headers=PREVIEW_HEADERS).status_code == 200, slug
        anonymous_text = b"".join(
            get(client, path)
            for path in ("/agents/verification-report.json", "/agents/diagnostics.json", "/agents/garden-queries.json")
        )
        for word in (b"gone-draft", b"secret-draft-topic", b"in-review", b"secret-review-tag"):
            assert word not in anonymous_text, word
        assert json.loads(get(client, "/readyz"))["corpus"] | {"ingestedAt": None} == {
            "version": 1, "ingestedAt": None, "articles": 1, "publicArticles": 1, "claims": 1}  # fmt: skip
        assert json.loads(get(client, "/readyz", PREVIEW_HEADERS))["corpus"] | {"ingestedAt": None} == {
            "version": 1, "ingestedAt": None, "articles": 5, "publicArticles": 1, "claims": 5}  # fmt: skip


def assert_only_both_in_p_files(client: Any, both: Article, generated: str, headers: dict[str, str]) -> None:
    """The files of published (P) articles hold "both" alone (test_status_disagreement_…), whoever asks."""
    assert get(client, "/agents/index.json", headers) == pretty(
        index(
            generated,
            [entry(both, 17)],
            [topic_item("garden", "garden", ["article:both"])],
            [year("2026", ["article:both"], [month("2026-07", "July", ["article:both"])])],
        )
    )
    assert get(client, "/agents/feeds/claims.jsonl", headers) == jsonl(
        [feed_claim(both, both.claims[0], "verified", "2026-07-05")]
    )
    assert get(client, "/agents/feeds/sources.jsonl", headers) == jsonl([feed_source(both, s) for s in both.sources])
    assert get(client, "/graph/nodes.json", headers) == pretty(
        [
            article_node(both),
            claim_node(both, both.claims[0]),
            source_node(both.sources[0]),
            source_node(both.sources[1]),
            topic_node("garden"),
        ]
    )
    for path in (
        "/agents/articles/draft-front.json",
        "/agents/articles/draft-front.md",
        "/agents/articles/draft-artifact.json",
        "/agents/articles/draft-artifact.md",
        "/agents/topics/meadow.json",
        "/agents/topics/orchard.json",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    assert "draft-" not in get(client, "/llms.txt", headers).decode()
