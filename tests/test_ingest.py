"""The ingest job end to end through the real ``garden ingest`` command, on the publisher's corpus and our own."""

from __future__ import annotations

import shutil
from pathlib import Path
from unittest.mock import ANY

import pytest
from sqlalchemy import create_engine, inspect

from tests.conftest import CONTENT, CORPUS, ingest_json, need_shared, run_garden, stored_state
from tests.conftest import sql_rows as rows

CLAIMS_OF = "SELECT count(*) FROM claim JOIN article a ON a.id = claim.article_id WHERE a.slug = :slug"


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_corpus_counts_match_the_publishers_feeds(corpus_dir: Path, expected_dir: Path, db_url: str) -> None:
    code, report = ingest_json(corpus_dir, db_url=db_url)
    assert code == 0, report["errors"]
    assert report["articles"] == {"added": 74, "updated": 0, "unchanged": 0, "removed": 0, "invalid": 0}
    counts = report["counts"]
    assert counts["articles"] == 74
    assert counts["public_articles"] == 73
    assert counts["public_claims"] == line_count(expected_dir / "agents/feeds/claims.jsonl")
    assert counts["public_sources"] == line_count(expected_dir / "agents/feeds/sources.jsonl")
    assert report["errors"] == []


@pytest.mark.parametrize("tree", ["content", "corpus"])
def test_second_run_changes_nothing_not_even_the_file(tree: str, db_url: str) -> None:
    """On content/, and on the publisher's corpus where ../shared is there (74 articles, odder files)."""
    articles = CONTENT / "articles" if tree == "content" else need_shared(CORPUS) / "content" / "articles"
    count = len(list(articles.glob("*/*")))
    assert ingest_json(articles, db_url=db_url) == (0, ANY) and count >= 12
    before = stored_state(db_url)
    code, report = ingest_json(articles, db_url=db_url)
    assert code == 0
    assert report["articles"] == {"added": 0, "updated": 0, "unchanged": count, "removed": 0, "invalid": 0}
    assert stored_state(db_url) == before


def test_seed_packet_loads_with_claims_sources_and_brief(seeds_dir: Path, db_url: str) -> None:
    code, report = ingest_json(seeds_dir, db_url=db_url)
    assert code == 0, report["errors"]
    assert report["counts"]["articles"] == 1
    [(layout, claims, sources, brief, packet)] = rows(
        db_url,
        "SELECT layout, claim_count, source_count, d.agent_md, d.artifact_json FROM article "
        "JOIN article_document d ON d.article_id = article.id WHERE slug = 'fine-tuning'",
    )
    assert (layout, claims, sources) == ("packet", 4, 5)
    assert rows(db_url, "SELECT count(*) FROM claim")[0][0] == 4
    assert rows(db_url, "SELECT count(*) FROM source")[0][0] == 5
    assert brief == (seeds_dir / "fine-tuning.md").read_text(encoding="utf-8")
    assert packet == (seeds_dir / "fine-tuning.json").read_text(encoding="utf-8")


def test_changed_article_is_replaced_whole(tmp_path: Path, db_url: str) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(CONTENT, tree / "content")
    assert ingest_json(tree, db_url=db_url)[0] == 0
    artifact = next((tree / "content/articles").glob("*/*/artifact.json"))
    slug = artifact.parent.name
    claims_before = rows(db_url, CLAIMS_OF, slug=slug)[0][0]
    import json

    data = json.loads(artifact.read_text(encoding="utf-8"))
    data["title"] = "A Replaced Title For This Article"
    data["claims"] = data["claims"][:1]
    artifact.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    code, report = ingest_json(tree, db_url=db_url)
    assert code == 0, report["errors"]
    assert report["articles"]["updated"] == 1
    assert report["changes"]["updated"] == [slug]
    assert rows(db_url, "SELECT title, claim_count FROM article WHERE slug = :slug", slug=slug) == [
        ("A Replaced Title For This Article", 1)
    ]
    assert claims_before > 1
    assert rows(db_url, CLAIMS_OF, slug=slug)[0][0] == 1


def test_missing_articles_stay_unless_pruned(tmp_path: Path, db_url: str) -> None:
    tree = tmp_path / "repo"
    shutil.copytree(CONTENT, tree / "content")
    total = ingest_json(tree, db_url=db_url)[1]["counts"]["articles"]
    gone = sorted((tree / "content/articles").glob("*/*"))[0]
    shutil.rmtree(gone)
    code, report = ingest_json(tree, db_url=db_url)
    assert code == 0
    assert report["changes"]["missing"] == [gone.name]
    assert report["counts"]["articles"] == total
    code, report = ingest_json(tree, db_url=db_url, flags=("--prune",))
    assert code == 0
    assert report["articles"]["removed"] == 1
    assert report["changes"]["removed"] == [gone.name]
    assert report["counts"]["articles"] == total - 1
    assert rows(db_url, CLAIMS_OF, slug=gone.name)[0][0] == 0


def test_dry_run_validates_and_writes_nothing(db_url: str) -> None:
    code, report = ingest_json(CONTENT, db_url=db_url, flags=("--dry-run",))
    assert code == 0
    assert report["articles"]["added"] == len(list(CONTENT.glob("articles/*/*"))) >= 12
    assert report["counts"]["articles"] == 0
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    engine.dispose()


def test_human_summary_names_counts_and_severities(db_url: str) -> None:
    result = run_garden("ingest", str(CONTENT), db_url=db_url)
    assert result.returncode == 0, result.stderr
    for word in ("added", "updated", "unchanged", "removed", "invalid", "public", "warnings"):
        assert word in result.stdout


def test_sample_content_ingests_cleanly(db_url: str) -> None:
    code, report = ingest_json(CONTENT, db_url=db_url)
    assert code == 0, report["errors"]
    counts = report["counts"]
    assert counts["articles"] >= 8
    assert counts["public_articles"] < counts["articles"]  # the draft and the archived article are stored too
    statuses = {status for (status,) in rows(db_url, "SELECT DISTINCT status FROM article")}
    assert {"published", "draft", "archived"} <= statuses
    confidences = {c for (c,) in rows(db_url, "SELECT DISTINCT confidence FROM claim")}
    assert confidences == {"low", "medium", "medium-high", "high"}
    states = {s for (s,) in rows(db_url, "SELECT DISTINCT state_base FROM claim")}
    assert {"contested", "stale"} <= states


def test_parallel_preparation_writes_exactly_what_the_sequential_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Articles prepared on several cores get the same rows and ids as articles prepared one by one."""
    import datetime as dt
    import runpy

    from app import ingest as ingest_module
    from app.db import make_engine, upgrade_to_head
    from app.ingest import prepare
    from tests.conftest import ROOT

    runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"](CONTENT / "articles", tmp_path / "corpus", 300)
    dumps = []
    for threshold in (10**9, 1):  # never parallel, then always
        monkeypatch.setattr(prepare, "PARALLEL_FROM", threshold)
        url = f"sqlite:///{tmp_path / f'garden-{threshold}.db'}"
        engine = make_engine(url)
        upgrade_to_head(engine)
        report = ingest_module.ingest(engine, [tmp_path / "corpus"], today=dt.date(2026, 11, 22))
        assert report.ok and len(report.added) == 300
        engine.dispose()
        dumps.append({name: rows(url, f"SELECT * FROM {name} ORDER BY 1, 2") for name in
                      ("claim", "evidence", "source", "graph_edge", "diagnostic", "article_topic")})  # fmt: skip
        dumps[-1]["search"] = rows(url, "SELECT kind, ref, article_id, primary_text FROM search_fts ORDER BY 1, 2")
    assert dumps[0] == dumps[1]


def test_an_ingest_that_another_overtakes_starts_again_on_the_new_corpus(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ingests at once apply one after the other: the one that finds the corpus changed since it read it
    writes nothing, reads the stored corpus again and applies its own changes on top."""
    import datetime as dt
    import json

    from app import ingest as ingest_module
    from app.db import make_engine
    from app.ingest import plan

    tree = tmp_path / "repo"
    shutil.copytree(CONTENT, tree / "content")
    assert ingest_json(tree, db_url=db_url)[0] == 0
    other = tmp_path / "other"
    shutil.copytree(tree, other)
    first, second = sorted((tree / "content/articles").glob("*/*/artifact.json"))[:2]
    for artifact, root, title in ((first, tree, "Retitled by the slower ingest"), (second, other, "Retitled first")):
        target = root / artifact.relative_to(tree)
        data = json.loads(target.read_text(encoding="utf-8"))
        data["title"] = title
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    reads = []
    read_stored = plan.read_stored

    def overtaken(engine):  # the other ingest commits right after this one has read the stored corpus
        found = read_stored(engine)
        reads.append(found.version)
        if len(reads) == 1:
            assert ingest_json(other, db_url=db_url)[0] == 0
        return found

    monkeypatch.setattr(plan, "read_stored", overtaken)
    engine = make_engine(db_url)
    try:
        report = ingest_module.ingest(engine, [tree], today=dt.date(2026, 11, 22))
    finally:
        engine.dispose()
    assert reads == [1, 2]  # read at version 1, overtaken by version 2, read again
    assert report.ok and report.corpus_version == 3
    # The slower run reverts the other's change to the second article (its tree has the old title) and applies
    # its own to the first: the result is exactly its tree, as if the two had run one after the other.
    titles = dict(rows(db_url, "SELECT slug, title FROM article WHERE slug IN (:a, :b)",
                       a=first.parent.name, b=second.parent.name))  # fmt: skip
    assert titles[first.parent.name] == "Retitled by the slower ingest"
    assert titles[second.parent.name] != "Retitled first"
    assert sorted(report.updated) == sorted([first.parent.name, second.parent.name])


def test_postgresql_tables_are_vacuumed_and_analysed_after_an_ingest(db_url: str, backend: str) -> None:
    """Fresh statistics, visibility maps and a merged GIN pending list, without waiting for autovacuum."""
    if backend != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's; SQLite's ingest runs ANALYZE in its transaction")
    assert ingest_json(CONTENT, db_url=db_url)[0] == 0
    never = rows(
        db_url,
        "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
        "AND relname <> 'alembic_version' AND (last_vacuum IS NULL OR last_analyze IS NULL)",
    )
    assert never == []
