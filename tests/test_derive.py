"""The publisher's derivation rules, each checked against a value worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from app import derive
from app.content.schema import Artifact


def test_token_estimate_uses_float_arithmetic() -> None:
    assert derive.token_estimate(" ".join(["word"] * 180)) == 244  # 180 × 1.35 = 243.00000000000003 in float
    assert derive.token_estimate("") == 0
    assert derive.token_estimate("one\ttwo\u00a0three\nfour") == 6  # ceil(4 × 1.35); NBSP splits as in JS


def test_section_outline_reads_only_raw_h2_tags() -> None:
    body = '<h2 id="a">First &amp; best</h2>\n## Markdown heading\n<h2 id="b" class="x">Skipped</h2><h2 id="c">C</h2>'
    assert derive.section_outline(body) == [
        {"id": "a", "title": "First &amp; best"},
        {"id": "c", "title": "C"},
    ]


def test_claim_markers_accept_either_attribute_order() -> None:
    body = (
        '<span id="claim-001" class="claim-marker">C1</span> <span class="x claim-marker" id="claim-003">C3</span>'
        '<span id="claim-002" class="other">no</span>'
    )
    assert derive.claim_markers(body) == ["claim-001", "claim-003"]


def _artifact(**changes: object) -> Artifact:
    data: dict = {
        "schemaVersion": 3,
        "id": "article:x",
        "slug": "x",
        "title": "An Article Title",
        "canonicalPath": "/articles/x/",
        "sourcePath": "content/articles/2026/x/article.md",
        "agentBriefPath": "content/articles/2026/x/agent.md",
        "thesis": "t" * 80,
        "status": "published",
        "maturity": "seed",
        "publishedAt": "2026-01-01",
        "updatedAt": "2026-06-01",
        "audiences": ["a"],
        "topics": ["t"],
        "related": [],
        "agentInstructions": [],
        "contentHash": "0" * 64,
        "sources": [
            {
                "id": "source-a",
                "title": "Source A",
                "url": "https://a.example",
                "type": "paper",
                "accessed": "2026-01-01",
            },
            {
                "id": "source-b",
                "title": "Source B",
                "url": "https://b.example",
                "type": "report",
                "accessed": "2024-01-01",
            },
        ],
        "claims": [],
        "provenance": {
            "createdAt": "2026-01-01",
            "createdBy": "human",
            "agents": [],
            "policy": {"id": "policy:default", "version": "1.0.0"},
            "reviews": [
                {
                    "reviewer": "human",
                    "reviewedAt": "2026-01-01",
                    "status": "approved",
                    "scope": [],
                    "notes": "ok",
                    "contentHash": "0" * 64,
                }
            ],
        },
    }
    data.update(changes)
    return Artifact.model_validate(data)


def _claim(**changes: object) -> dict:
    claim = {
        "id": "claim-001",
        "claim": "A claim long enough to pass.",
        "confidence": "medium",
        "status": "core",
        "evidence": [{"sourceId": "source-a", "snippet": "a snippet of evidence", "supports": "direct"}],
        "counterevidence": [{"summary": "a counterpoint to it"}],
    }
    claim.update(changes)
    return claim


def _rules(artifact: Artifact, public: bool = True) -> list[tuple[str, str | None]]:
    found = derive.diagnose(artifact, year="2026", slug="x", public=public, current_hash="0" * 64, markers=None)
    return [(f.rule, f.active_from) for f in found]


def test_high_confidence_without_counterevidence_is_flagged_and_sets_state() -> None:
    artifact = _artifact(claims=[_claim(confidence="high", counterevidence=[])])
    findings = derive.diagnose(artifact, year="2026", slug="x", public=True, current_hash="0" * 64, markers=None)
    assert "missing-counterevidence" in [f.rule for f in findings]
    assert derive.claim_state(None, findings).base == "missing-counterevidence"
    # An explicit verification beats every finding.
    assert derive.claim_state("verified", findings).base == "verified"


def test_stale_source_has_a_fixed_part_and_a_date_bound_part() -> None:
    artifact = _artifact(
        claims=[_claim(evidence=[{"sourceId": "source-b", "snippet": "old but gold snippet", "supports": "direct"}])]
    )
    rules = _rules(artifact)
    # (a) accessed 2024-01-01, more than 365 days before updatedAt 2026-06-01: fires now.
    assert ("stale-source", None) in rules
    # (b) more than 730 days before today: applies from 2024-01-01 + 731 days.
    assert ("stale-source", "2026-01-01") in rules


def test_date_bound_staleness_turns_a_draft_claim_stale_on_the_day() -> None:
    artifact = _artifact(
        claims=[_claim(verification={"status": "draft", "reviewer": "h", "reviewedAt": "2026-01-01"})],
        updatedAt="2026-01-02",
    )
    findings = derive.diagnose(artifact, year="2026", slug="x", public=True, current_hash="0" * 64, markers=None)
    state = derive.claim_state("draft", [f for f in findings if f.claim_id])
    assert state.base == "draft"
    assert state.stale_from == "2028-01-02"  # source-a accessed 2026-01-01 + 731 days
    assert state.on(dt.date(2028, 1, 1)) == "draft"
    assert state.on(dt.date(2028, 1, 2)) == "stale"


def test_accepted_warnings_are_suppressed_but_errors_are_not() -> None:
    claim = _claim(evidence=[], counterevidence=[])
    accepted = {
        "accepted": [
            {"rule": "empty-evidence", "rationale": "r", "documentedAt": "2026-01-01"},
            {
                "rule": "missing-counterevidence",
                "rationale": "r",
                "documentedAt": "2026-01-01",
                "scope": ["claim-001"],
            },
        ]
    }
    rules = [r for r, _ in _rules(_artifact(claims=[{**claim, "confidence": "high"}], diagnostics=accepted))]
    assert "empty-evidence" in rules  # an error: never suppressed
    assert "missing-counterevidence" not in rules


def test_publisher_diagnostics_reproduced_on_corpus(corpus_dir: Path, expected_dir: Path) -> None:
    """Every active generator finding over the real corpus equals diagnostics.json, in order."""
    from app.content.reader import parse
    from app.ingest.prepare import read_all

    articles, _ = read_all([corpus_dir], 8 << 20)
    today = dt.date(2026, 7, 18)
    findings = []
    for article in sorted(articles, key=lambda a: a.dir_key):
        for f in parse(article).findings:
            if f.origin == "generator" and f.is_active(today):
                item = {"rule": f.rule, "severity": f.severity}
                if f.claim_id:
                    item["claimId"] = f.claim_id
                findings.append({**item, "message": f.message})
    expected = json.loads((expected_dir / "agents/diagnostics.json").read_text(encoding="utf-8"))
    assert findings == expected["findings"]


def test_json_word_counts_split_on_punctuation_and_ascii_whitespace_only() -> None:
    """app.budget.words counts without splitting: the same count as splitting the body at every separator."""
    import random

    from app.budget import estimate, words

    punctuation = bytes.maketrans(b'{}[],:"', b"       ")
    rng = random.Random(7)
    alphabet = [*b' \t\n\r\x0b\x0c{}[],:"', *b"ab\x00\x1c\x1f\x85\xa0\xff"]
    for _ in range(5000):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert words(body) == len(body.translate(punctuation).split()), body
    assert words(b'{"id":"article:x","tags":["a b","c"]}') == 7  # id article x tags a b c
    assert estimate('{"title":"Ünïcode\u00a0words"}'.encode()) == 3  # NBSP is no separator in bytes: 2 words
