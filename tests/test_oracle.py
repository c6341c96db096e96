"""tests/oracle.py, the oracle the content/ variants of the API tests compare with, is checked here: on the
publisher's corpus it must give exactly the publisher's own derived files (skipped without ../shared), and on
content/ it must read what the content holds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CONTENT, EXPECTED, need_shared
from tests.oracle import read_tree


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_oracle_gives_the_publishers_index_feeds_and_claim_states() -> None:
    expected = need_shared(EXPECTED) / "agents"
    articles = read_tree(expected.parent.parent / "content")
    public = [article for article in articles if article.public]
    index = json.loads((expected / "index.json").read_text(encoding="utf-8"))
    assert [article.entry() for article in public] == index["articles"]
    assert [row for article in public for row in article.claim_rows()] == _jsonl(expected / "feeds/claims.jsonl")
    assert [row for article in public for row in article.source_rows()] == _jsonl(expected / "feeds/sources.jsonl")
    report = json.loads((expected / "verification-report.json").read_text(encoding="utf-8"))
    assert {a["slug"]: {c["id"]: c["state"] for c in a["claims"]} for a in report["articles"]} == {
        article.slug: article.states() for article in articles
    }


def test_the_oracle_reads_content_in_dir_order_with_its_hidden_articles() -> None:
    articles = read_tree(CONTENT)
    keys = [(article.directory.parent.name, article.slug) for article in articles]
    assert keys == sorted(keys) and len(keys) == len(list(CONTENT.glob("articles/*/*")))
    hidden = {article.slug for article in articles if not article.public}
    assert hidden == {"street-trees-and-urban-heat", "hot-composting-in-seven-days"}
    rows = [row for article in articles if article.public for row in article.claim_rows()]
    assert {row["verificationStatus"] for row in rows} == {"verified", "contested", "stale"}
    assert all(row["claimId"] == f"{row['articleId']}:{row['localClaimId']}" for row in rows)
