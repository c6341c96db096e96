"""Every filter of /articles and /claims reaches its rows through an index, never a full table scan.

A 1,000-article synthetic corpus (bench/generate_corpus.py over our content/) is ingested, which also
gathers the planner's statistics (ANALYZE). Each filter is then requested through the API with the response
cache off, as a public caller (but for the preview-only ``status`` filter: previews list every article,
unfiltered by visibility, and are not the hot path). Every SELECT it runs is captured and put to ``EXPLAIN
QUERY PLAN`` with its own parameters. A plan line ``SCAN <table>`` without an index is a full scan and fails
the test; so does a filter whose own index (the table below) is not among those the plans use, where the
filter is selective enough that the planner should drive from it.
"""

from __future__ import annotations

import re
import runpy
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.db import get_engine
from app.queries import plan
from tests.conftest import CONTENT, ROOT, api_client, ingest_json

pytestmark = pytest.mark.slow

TOKEN = "plans-preview-token"

# (query string, indexes of which at least one must appear in the plans; empty: any index will do, because
# the filter matches most rows and walking the list's order index is the better plan).
ARTICLE_FILTERS: list[tuple[str, set[str]]] = [
    ("", {"ix_article_public_published"}),
    ("sort=-updated", {"ix_article_public_updated"}),
    ("sort=updated", {"ix_article_public_updated"}),
    ("sort=published", {"ix_article_public_published"}),
    ("sort=title", set()),
    ("sort=series", set()),
    ("topic=soil-testing", {"ix_article_topic_topic"}),
    ("topic=soil-health&sort=-updated", {"ix_article_topic_topic", "ix_article_public_updated"}),
    ("tag=glossary", {"ix_article_tag_tag"}),
    ("series=pollinator-corridors-b3", {"ix_article_series"}),
    ("maturity=evergreen", {"ix_article_maturity"}),
    ("audience=teachers", {"ix_article_audience_audience"}),
    ("confidence=high", {"ix_claim_confidence"}),
    ("min_confidence=medium-high", {"ix_claim_confidence"}),
    ("claim_state=contested", {"ix_claim_state"}),
    ("source_type=paper", {"ix_source_type"}),
    ("q=compost", {"keyword_trigram"}),
    ("related_to=soil-testing-glossary-b3", {"ix_related_link_target", "ix_article_topic_topic"}),
    ("updated_since=2026-06-01", {"ix_article_public_updated"}),
    ("updated_until=2025-06-01", {"ix_article_public_updated"}),
    ("published_since=2026-06-01", {"ix_article_public_published"}),
    ("published_until=2025-06-01", {"ix_article_public_published"}),
    ("status=draft", {"ix_article_status"}),
]
CLAIM_FILTERS: list[tuple[str, set[str]]] = [
    ("", {"ix_claim_public_feed"}),
    ("topic=soil-testing", {"ix_article_topic_topic"}),
    ("topic=soil-health&confidence=high", {"ix_article_topic_topic", "ix_claim_confidence"}),
    ("series=pollinator-corridors-b3", {"ix_article_series"}),
    ("article=soil-testing-glossary-b3", {"sqlite_autoindex_article_2"}),  # the unique slug
    ("confidence=low", {"ix_claim_confidence"}),
    ("min_confidence=high", {"ix_claim_confidence", "ix_claim_public_feed"}),
    ("status=forecast", {"ix_claim_kind"}),
    # verification and state have three values each, one holding nearly every claim; SQLite's statistics are
    # averages per column (sqlite_stat1), so it rates these as unselective and walks the feed order instead.
    ("verification=contested", set()),
    ("verification=draft", set()),
    ("state=stale", set()),
    ("has_counterevidence=true", set()),
    ("has_counterevidence=false", set()),
    ("supports=analogous", {"ix_evidence_supports"}),
    ("source=source-xerces-pollinators", {"ix_evidence_source"}),
    ("q=compost", {"claim_trigram"}),
]
# "SCAN t USING [COVERING] INDEX i", virtual tables and a subquery's rows (SCAN anon_1) are not full scans
SOURCE_FILTERS: list[tuple[str, set[str]]] = [
    ("", {"ix_source_public_feed"}),
    ("type=paper", {"ix_source_type", "ix_source_public_feed"}),
    ("article=soil-testing-glossary-b3", {"sqlite_autoindex_article_2"}),
    ("topic=soil-testing", {"ix_article_topic_topic"}),
    ("url=https%3A%2F%2Fwww.fao.org%2Fsoils-portal%2Fen%2F", {"ix_source_url"}),
    ("cited=false", {"ix_source_cited_by"}),  # rare at 1,000 articles: read first
]
FULL_SCAN = re.compile(r"^SCAN (?!anon_\d+$)(\w+)$")
USES = re.compile(r"(?:USING (?:COVERING )?INDEX|VIRTUAL TABLE INDEX \S+|SCAN) (\w+)")


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, sqlite3.Connection]]:
    root = tmp_path_factory.mktemp("plans")
    generate = runpy.run_path(str(ROOT / "bench" / "generate_corpus.py"))["generate"]
    generate(CONTENT / "articles", root / "gen", 1000)
    db_url = f"sqlite:///{root / 'garden.db'}"
    code, report = ingest_json(root / "gen", db_url=db_url)
    assert code == 0, report["errors"]
    raw = sqlite3.connect(root / "garden.db")
    with api_client(db_url, GARDEN_RESPONSE_CACHE_MB="0", GARDEN_PREVIEW_TOKEN=TOKEN) as client:
        yield client, raw
    raw.close()


def plans_of(client: TestClient, raw: sqlite3.Connection, url: str) -> list[tuple[str, list[str]]]:
    """(SQL, plan lines) of every SELECT that answering ``url`` runs."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        # The corpus row, and list_count read whole once per corpus version (app.queries.plan._stored), are
        # small tables read on purpose.
        whole_counts = statement.rstrip().endswith("FROM list_count")
        if statement.lstrip().upper().startswith("SELECT") and "FROM corpus" not in statement and not whole_counts:
            statements.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        # Public callers, but for the preview-only status filter: the hot path is the public one.
        headers = {"Authorization": f"Bearer {TOKEN}"} if "status=draft" in url else {}
        response = client.get(url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert statements, f"{url} ran no query"
    return [(sql, [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]) for sql, params in statements]


def check(client: TestClient, raw: sqlite3.Connection, url: str, expected: set[str]) -> None:
    used: set[str] = set()
    for sql, lines in plans_of(client, raw, url):
        scans = [line for line in lines if FULL_SCAN.match(line)]
        assert not scans, f"{url}: full scan {scans} in\n{' '.join(sql.split())}\n" + "\n".join(lines)
        for line in lines:
            used.update(USES.findall(line))
    if expected:
        assert used & expected, f"{url}: none of {sorted(expected)} used; the plans use {sorted(used)}"


@pytest.mark.parametrize(("query", "expected"), ARTICLE_FILTERS, ids=[q or "(none)" for q, _ in ARTICLE_FILTERS])
def test_article_filters_use_an_index(planned: tuple[TestClient, sqlite3.Connection], query: str,
                                      expected: set[str]) -> None:  # fmt: skip
    client, raw = planned
    check(client, raw, f"/articles?{query}", expected)


@pytest.mark.parametrize(("query", "expected"), CLAIM_FILTERS, ids=[q or "(none)" for q, _ in CLAIM_FILTERS])
def test_claim_filters_use_an_index(planned: tuple[TestClient, sqlite3.Connection], query: str,
                                    expected: set[str]) -> None:  # fmt: skip
    client, raw = planned
    check(client, raw, f"/claims?{query}", expected)


@pytest.mark.parametrize(("query", "expected"), SOURCE_FILTERS, ids=[q or "(none)" for q, _ in SOURCE_FILTERS])
def test_source_filters_use_an_index(planned: tuple[TestClient, sqlite3.Connection], query: str,
                                     expected: set[str]) -> None:  # fmt: skip
    client, raw = planned
    check(client, raw, f"/sources?{query}", expected)


def test_every_filter_parameter_is_covered() -> None:
    """A filter added to the API without a row here fails this test."""
    from app.queries.params import ArticleParams, ClaimParams, Page, SourceParams

    shaping = set(Page.PAGING) | {"include", "sort"}
    for model, cases in (
        (ArticleParams, ARTICLE_FILTERS),
        (ClaimParams, CLAIM_FILTERS),
        (SourceParams, SOURCE_FILTERS),
    ):
        covered = {part.split("=")[0] for query, _ in cases for part in query.split("&") if part}
        assert set(model.model_fields) - shaping - covered == set(), model.__name__


def test_a_full_scan_is_recognised(planned: tuple[TestClient, sqlite3.Connection]) -> None:
    """The detector itself: a query on an unindexed column is reported as a full scan."""
    _, raw = planned
    lines = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN SELECT id FROM claim WHERE text = 'x'")]
    assert any(FULL_SCAN.match(line) for line in lines), lines


# --------------------------------------------------------------------------------------------------------
# Each list reads its page from its order index, in order, however many rows match (app.queries.plan).

ORDER_INDEXES = {
    "/articles?sort=-published": "ix_article_public_published",
    "/articles?sort=published": "ix_article_public_published",
    "/articles?sort=-updated": "ix_article_public_updated",
    "/articles?sort=updated": "ix_article_public_updated",
    "/articles?sort=title": "ix_article_public_title",
    "/articles?sort=series": "ix_article_public_series",
    "/claims?": "ix_claim_public_feed",
    "/sources?": "ix_source_public_feed",
}
#: Filters that match many rows (at 1,000 articles): {TOPIC} is the largest topic.
DENSE = {
    "/articles": ["", "topic={TOPIC}", "topic={TOPIC}&maturity=evergreen", "min_confidence=medium&audience=AI%20agents",
                  "source_type=paper"],
    "/claims": ["", "topic={TOPIC}", "topic={TOPIC}&confidence=high", "status=core&has_counterevidence=true",
                "supports=direct"],
    "/sources": ["", "topic={TOPIC}", "cited=true&topic={TOPIC}"],
}  # fmt: skip


def largest_topic(raw: sqlite3.Connection) -> str:
    return str(raw.execute("SELECT topic FROM article_topic GROUP BY topic ORDER BY count(*) DESC").fetchone()[0])


def page_plan(client: TestClient, raw: sqlite3.Connection, url: str) -> tuple[str, list[str]]:
    """The SQL and plan of the statement that reads the page (it selects the keyset as _k0, _k1, …)."""
    pages = [(sql, lines) for sql, lines in plans_of(client, raw, url) if " AS _k0" in sql]
    assert len(pages) == 1, f"{url}: {len(pages)} page statements"
    return pages[0]


@pytest.mark.parametrize(("order", "index"), list(ORDER_INDEXES.items()), ids=list(ORDER_INDEXES))
def test_dense_filters_read_the_page_from_the_order_index(planned: tuple[TestClient, sqlite3.Connection],
                                                         order: str, index: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """No sort of the matches: the page statement walks the list's order index (on the listed table itself)
    and stops at the page's end, for every sort and for filters that match most rows. (A driver of at most
    FIRST_ALWAYS rows is read first whatever it matches: 1,000 is this whole corpus, so it is scaled down here
    as the corpus is, to what it is at 50,000 articles.)"""
    client, raw = planned
    monkeypatch.setattr(plan, "FIRST_ALWAYS", 20)
    topic = largest_topic(raw)
    for dense in DENSE[order.split("?")[0]]:
        url = "&".join(filter(None, [order, dense.replace("{TOPIC}", topic), "limit=20"]))
        _, lines = page_plan(client, raw, url)
        assert "USE TEMP B-TREE FOR ORDER BY" not in lines, f"{url} sorts its matches:\n" + "\n".join(lines)
        assert f"INDEX {index} " in lines[0], f"{url} does not walk {index}:\n" + "\n".join(lines)


def test_a_rare_filter_is_read_first_and_its_few_rows_sorted(planned: tuple[TestClient, sqlite3.Connection]) -> None:
    """The other plan: a series (a handful of articles) is read from its own index, not by walking every article."""
    client, raw = planned
    _, lines = page_plan(client, raw, "/claims?series=pollinator-corridors-b3&limit=20")
    assert any("ix_article_series" in line for line in lines), lines
    assert not any("ix_claim_public_feed" in line for line in lines), lines


LATER_PAGES = [
    "/articles?limit=20", "/articles?topic={TOPIC}&sort=-updated&limit=20",
    "/articles?sort=title&maturity=seed&limit=20",
    "/articles?q=compost&sort=series&limit=5", "/articles?updated_since=2026-01-01&tag=compost&limit=5",
    "/claims?limit=20", "/claims?topic={TOPIC}&confidence=high&limit=20",
    "/claims?series=pollinator-corridors-b3&limit=3", "/claims?q=soil&state=verified&limit=20", "/sources?limit=20",
    "/sources?topic={TOPIC}&type=paper&limit=20",
]  # fmt: skip


@pytest.mark.parametrize("url", LATER_PAGES)
def test_page_two_neither_counts_nor_estimates(planned: tuple[TestClient, sqlite3.Connection], url: str) -> None:
    """The total and the plan of page 1 travel in its cursor: page 2 runs no count, no probe, no stored-count
    lookup, and says what page 1 said."""
    client, raw = planned
    url = url.replace("{TOPIC}", largest_topic(raw))
    first = client.get(url).json()
    assert first["next"], f"{url} has one page only: pick a filter with more rows"
    statements = [sql for sql, _ in plans_of(client, raw, first["next"])]
    assert not [sql for sql in statements if "count(" in sql.lower() or "list_count" in sql], statements
    second = client.get(first["next"]).json()
    assert (second["total"], second["totalRelation"]) == (first["total"], first["totalRelation"])


class _Recorder:
    """A session that keeps the statements it is given and answers each with no rows."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    def execute(self, statement: Any, *_: Any) -> Any:
        self.statements.append(statement)
        return self

    def mappings(self) -> Any:
        return self

    def all(self) -> list[Any]:
        return []


def _driver_first_page(dialect_name: str) -> str:
    """The SQL of a later page of /articles?source_type=…&sort=-updated read from its driver, on ``dialect_name``."""
    from sqlalchemy.dialects import postgresql, sqlite

    from app.queries import articles
    from app.queries.common import ARTICLE, ARTICLE_COLUMNS, SOURCE

    driver = articles._linked(SOURCE.c.type, ["regulatory-text"])
    query = plan.ListQuery("articles", ARTICLE, ARTICLE_COLUMNS, ARTICLE, ARTICLE.c.is_public.is_(True),
                           articles.SORTS["-updated"], [driver], dialect_name)  # fmt: skip
    session = _Recorder()
    plan._read(session, query, plan._where(query, 0), ["2026-07-18", "some-slug"], 26, sort=True)  # type: ignore[arg-type]
    dialect = postgresql.dialect() if dialect_name == "postgresql" else sqlite.dialect()
    return " ".join(str(session.statements[0].compile(dialect=dialect)).split())


def test_postgresql_reads_a_driver_by_its_ids_and_bounds_the_cursor_on_the_sort_terms() -> None:
    """PostgreSQL, reading a driver first: its ids are looked up (``= ANY (array(subquery))``), not joined as a
    semi-join, which the planner may run by walking the whole order index under the LIMIT and probing the
    driver per row; and the cursor's bound is on the sort terms (``updated_at || ''``), not a range of the order
    index, whose size the planner misjudges when the cursor sits among equal values (every article of the
    50,000 shares one updated_at: it counted no row before the cursor and walked 45,000, 170 ms; now 11 ms)."""
    sql = _driver_first_page("postgresql")
    assert "article.id = ANY (array((SELECT source.article_id FROM source WHERE source.type IN" in sql, sql
    assert "article.id IN (SELECT" not in sql, sql
    bound = "(article.updated_at || %(updated_at_1)s::VARCHAR, article.slug || %(slug_1)s::VARCHAR) <"
    assert bound in sql, sql
    assert "(article.updated_at, article.slug) <" not in sql, sql


def test_sqlite_reads_a_driver_as_it_did() -> None:
    """SQLite keeps the IN subquery and the bound on the columns (its order index is out of reach already:
    ``is_public`` is written unindexed when a driver is read first)."""
    sql = _driver_first_page("sqlite")
    assert "article.id IN (SELECT source.article_id FROM source" in sql, sql
    assert "(article.updated_at, article.slug) < (?, ?)" in sql, sql
    assert "ANY" not in sql, sql
