"""Incremental ingest (issue 14): a run that changes a few articles rewrites their rows and nothing else, keeps
the derived tables exactly as a full recount would have them, decides "unchanged" by stat without reading,
and still lists every error of a corpus, first article to last. Runs on the bundled content/, both backends."""

from __future__ import annotations

import datetime as dt
import json
import os
import runpy
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app import aggregates, listcounts
from app.db import make_engine, upgrade_to_head
from app.ingest import ingest, plan, prepare
from app.ingest.rows import OWNED
from tests.conftest import ROOT, api_client, sql_rows

TODAY = dt.date(2026, 11, 22)
SIZE = 100
DERIVED = {
    "list_count": "SELECT kind, field, value, rows FROM list_count ORDER BY 1, 2, 3",
    "topic_count": "SELECT preview, topic, article_count, claim_count FROM topic_count ORDER BY 1, 2",
    "series_head": "SELECT * FROM series_head ORDER BY preview, position",
}


@pytest.fixture
def grown(tmp_path: Path) -> Path:
    """A corpus of :data:`SIZE` articles grown from the bundled content/ (bench/generate_corpus.py), its files aged
    so that their stat signatures are trusted."""
    runpy.run_path(str(ROOT / "bench/generate_corpus.py"))["generate"](ROOT, tmp_path / "corpus", SIZE)
    _age(tmp_path / "corpus")
    return tmp_path / "corpus"


def _age(tree: Path, seconds: float = 60) -> None:
    then = time.time() - seconds
    for path in tree.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def _engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    return engine


def _articles(tree: Path) -> list[Path]:
    return sorted(tree.glob("content/articles/*/*"))


def _edit_artifact(directory: Path, change: dict) -> None:
    path = directory / "artifact.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in change.items():
        data[key] = value(data[key]) if callable(value) else value
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _rows_by_article(db_url: str, skip: str) -> dict[str, list[tuple]]:
    """Every row of every table an article owns, for every article but ``skip`` (ids included)."""
    out = {}
    for name in OWNED:
        key = "id" if name == "article" else "article_id"
        columns = "t.*" if name != "article" else "t.id, t.slug, t.fingerprint, t.title, t.ingested_at"
        out[name] = sql_rows(db_url, f"SELECT {columns} FROM {name} t JOIN article a ON a.id = t.{key} "
                                     "WHERE a.slug <> :skip ORDER BY 1, 2", skip=skip)  # fmt: skip
    out["search"] = sql_rows(db_url, "SELECT kind, ref, article_id, primary_text FROM search_fts "
                                     "WHERE article_id IN (SELECT id FROM article WHERE slug <> :skip) "
                                     "ORDER BY 1, 2", skip=skip)  # fmt: skip
    return out


def test_one_edit_rewrites_that_article_and_leaves_every_other_row_alone(grown: Path, db_url: str) -> None:
    engine = _engine(db_url)
    try:
        assert ingest(engine, [grown], today=TODAY).written
        edited = _articles(grown)[SIZE // 2]
        before = _rows_by_article(db_url, edited.name)
        _edit_artifact(edited, {"title": "An edited title"})
        _age(edited)
        report = ingest(engine, [grown], today=TODAY)
    finally:
        engine.dispose()
    assert report.ok and report.updated == [edited.name] and len(report.unchanged) == SIZE - 1
    assert _rows_by_article(db_url, edited.name) == before
    with api_client(db_url) as client:  # and the API serves the edit
        assert client.get(f"/articles/{edited.name}").json()["title"] == "An edited title"
        found = client.get("/search", params={"q": "edited title", "type": "articles"}).json()
        assert edited.name in {item["slug"] for item in found["items"]}


def test_an_incremental_ingest_leaves_the_derived_tables_as_a_full_recount_would(
    grown: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few articles change topics, tags, confidence and series, one is removed and one added: the counts
    moved by what they took away and added equal counting everything again (with a low threshold, so that
    values cross it both ways)."""
    monkeypatch.setattr(listcounts, "MIN_ROWS", 8)
    engine = _engine(db_url)
    try:
        assert ingest(engine, [grown], today=TODAY).written
        articles = _articles(grown)
        _edit_artifact(articles[3], {"topics": ["a-brand-new-topic"], "series": None})
        _edit_artifact(articles[4], {"claims": lambda claims: [{**c, "confidence": "low"} for c in claims]})
        _edit_artifact(articles[5], {"topics": lambda topics: [*topics, "a-brand-new-topic"]})
        shutil.rmtree(articles[6])
        report = ingest(engine, [grown], today=TODAY, prune=True)
        assert report.ok and len(report.updated) == 3 and len(report.removed) == 1, report.errors
        again = ingest(engine, [grown], today=TODAY, dry_run=True)  # every article unchanged: counted by id
        assert again.diagnostics == report.diagnostics and sum(report.diagnostics.values()) > 0
        incremental = {name: sql_rows(db_url, sql) for name, sql in DERIVED.items()}
        with engine.connect() as conn:
            conn.begin()
            listcounts.refresh(conn)
            aggregates.refresh(conn)
            full = {name: [tuple(row) for row in conn.execute(text(sql))] for name, sql in DERIVED.items()}
            conn.rollback()
    finally:
        engine.dispose()
    assert ("articles", "topic", "a-brand-new-topic", 2) not in incremental["list_count"]  # under the threshold
    new_topic = [row[:3] for row in incremental["topic_count"] if row[1] == "a-brand-new-topic" and row[0]]
    assert new_topic == [(True, "a-brand-new-topic", 2)]
    assert incremental == full


def test_an_unchanged_run_reads_no_file_and_a_same_size_edit_is_still_seen(
    grown: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "PARALLEL_FROM", 10**9)  # in-process, where the spy sees every read
    engine = _engine(db_url)
    read = []
    real_read = prepare.read
    monkeypatch.setattr(prepare, "read", lambda task: read.append(task.found.slug) or real_read(task))
    try:
        assert ingest(engine, [grown], today=TODAY).written
        read.clear()
        assert len(ingest(engine, [grown], today=TODAY).unchanged) == SIZE
        assert read == []  # every stat signature matched: not one file was opened
        edited = _articles(grown)[7]
        article_md = edited / "article.md"
        body = article_md.read_bytes()
        article_md.write_bytes(body.replace(b"the ", b"THE ", 1))  # the same size
        assert article_md.stat().st_size == len(body)
        report = ingest(engine, [grown], today=TODAY)
    finally:
        engine.dispose()
    assert read == [edited.name] and report.updated == [edited.name]
    # Modified a moment ago, the file's signature is not trusted yet: the next run reads it again.
    assert sql_rows(db_url, "SELECT file_stat FROM article WHERE slug = :s", s=edited.name) == [(None,)]


def test_bytes_that_did_not_change_are_not_parsed_or_written_when_only_their_stat_did(grown: Path, db_url: str) -> None:
    """A checkout that rewrites every file with the same bytes: read and compared, nothing written."""
    from tests.conftest import stored_state

    reports = []
    for step in ("first", "again"):
        if step == "again":
            before = stored_state(db_url)  # the engine is gone: its last connection checkpointed the WAL
            _age(grown, seconds=30)  # every mtime moves
        engine = _engine(db_url)
        try:
            reports.append(ingest(engine, [grown], today=TODAY))
        finally:
            engine.dispose()
    assert reports[0].written and len(reports[1].unchanged) == SIZE and not reports[1].written
    assert stored_state(db_url) == before


def test_errors_in_the_first_and_the_last_article_are_all_listed(
    grown: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming changes nothing in the error listing: the first article's errors and the last one's, each
    named by file and field, whether the articles are prepared in-process or on worker processes."""
    articles = _articles(grown)
    _edit_artifact(articles[0], {"status": "not-a-status"})
    _edit_artifact(articles[-1], {"maturity": 7, "claims": lambda c: [{**c[0], "confidence": "certain"}, *c[1:]]})
    listings = []
    for threshold in (10**9, 1):  # in-process, then on workers
        monkeypatch.setattr(prepare, "PARALLEL_FROM", threshold)
        engine = _engine(db_url)
        try:
            report = ingest(engine, [grown], today=TODAY)
        finally:
            engine.dispose()
        assert not report.written and report.invalid == sorted([articles[0].name, articles[-1].name])
        listings.append([(e.file, e.field) for e in report.errors])
    first, last = str(articles[0] / "artifact.json"), str(articles[-1])
    assert listings[0] == listings[1]
    assert (first, "status") in listings[0]
    assert (f"{last}/artifact.json", "maturity") in listings[0]
    assert (f"{last}/artifact.json", "claims[0].confidence") in listings[0]
    assert sql_rows(db_url, "SELECT count(*) FROM article") == [(0,)]


def test_the_stored_corpus_is_read_as_compact_keys(grown: Path, db_url: str) -> None:
    engine = _engine(db_url)
    try:
        ingest(engine, [grown], today=TODAY)
        stored = plan.read_stored(engine)
    finally:
        engine.dispose()
    assert len(stored.articles) == SIZE and stored.current
    one = next(iter(stored.articles.values()))
    assert isinstance(one, plan.Stored) and len(one.fingerprint) == 64 and one.stat and len(one.stat) == 32


def test_batches_are_bounded_by_input_bytes_as_well_as_claims(
    grown: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written as they come, in batches of a bounded size: by claims, and by the bytes of the input
    files, so that a run of articles with few claims or none never piles up in memory. With the claim bound out
    of reach, the byte bound alone cuts the batches, and the corpus stored is the same."""
    from app.ingest import write

    flushed: list[int] = []
    real_flush = write.Writer._flush

    def counting(self: write.Writer) -> None:
        flushed.append(len(self.queued.get("article", ())))
        real_flush(self)

    monkeypatch.setattr(write, "BATCH_CLAIMS", 10**9)
    monkeypatch.setattr(write, "BATCH_BYTES", 100_000)  # six or seven articles of this corpus
    monkeypatch.setattr(write.Writer, "_flush", counting)
    report = ingest(_engine(db_url), [grown], today=TODAY)
    assert report.written and len(report.added) == SIZE
    written = [n for n in flushed if n]
    assert sum(written) == SIZE and len(written) >= 10 and max(written) <= 10, flushed
