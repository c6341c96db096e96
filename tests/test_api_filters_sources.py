"""/sources, table-driven: every filter (the ``url`` filter with URLs that hold ``%20``, ``?`` and ``&``) and
the feed rows the items are made of, with ``citedBy``.

Every case is a query and a predicate over the oracle (tests/filters_oracle.py): the test asks the API, walking
every page, and compares the rows it returns, in order and in full, with the oracle's rows that satisfy the
predicate. Each table runs on our content/ and, where ../shared is there, on the publisher's corpus (its 73
articles hold more rows, ties and odd text; those rows run in test_the_tables_on_the_publishers_corpus and skip
without it).

Semantics under test (app/queries/params.py): values within one filter are ORed, different filters are ANDed;
the list is in sources-feed order.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from tests import filters_support as support
from tests.filters_oracle import SOURCE_FEED_KEYS, Oracle
from tests.filters_support import Case, _expected, cases, tables_on_the_corpus, walk

# The module-scoped fixtures (a client and an oracle per data set), this module's own.
dataset, client, o = support.dataset, support.client, support.o


ASER = "https://asercentre.org/wp-content/uploads/2022/12/ASER-2024-National-findings.pdf"
KANTAR = "https://www.iamai.in/sites/default/files/research/Kantar_%20IAMAI%20report_2024_.pdf"
PIB = "https://www.pib.gov.in/PressReleasePage.aspx?PRID=2219931"

XERCES = "https://xerces.org/pollinator-conservation"  # listed by two articles
ODD_URL = "https://allotments.example.org/notes/leaf%20mould%20trial%202024.pdf?rev=2&format=pdf"  # %20, ? and &
FAO = "https://www.fao.org/soils-portal/en/"

CONTENT_SOURCE_CASES = [
    Case("type=paper", lambda s: s.row["type"] == "paper"),
    Case("type=book,regulation&type=ngo-guide", lambda s: s.row["type"] in {"book", "regulation", "ngo-guide"}),
    Case("type=Paper", lambda s: s.row["type"] == "Paper", may_be_empty=True),  # free text, exact
    Case("article=native-plants-for-bees", lambda s: s.article.slug == "native-plants-for-bees"),
    Case("article=article:pollinator-corridors,soil-testing-glossary",
         lambda s: s.article.slug in {"pollinator-corridors", "soil-testing-glossary"}),
    Case("article=hot-composting-in-seven-days", lambda s: s.article.slug == "hot-composting-in-seven-days",
         may_be_empty=True),
    Case("topic=pollinators", lambda s: "pollinators" in s.article.topics),
    Case("topic=water,composting", lambda s: {"water", "composting"} & set(s.article.topics)),
    Case(f"url={quote(XERCES, safe='')}", lambda s: s.row["url"] == XERCES),
    Case(f"url={quote(ODD_URL, safe='')}", lambda s: s.row["url"] == ODD_URL),  # a %20 inside the URL itself
    Case(f"url={quote(FAO, safe='')}&url={quote(XERCES, safe='')}", lambda s: s.row["url"] in {FAO, XERCES}),
    Case("cited=true", lambda s: s.cited_by > 0),
    Case("cited=false", lambda s: s.cited_by == 0),
    # AND across fields
    Case("topic=pollinators&cited=false", lambda s: "pollinators" in s.article.topics and s.cited_by == 0),
    Case("type=paper&topic=soil-health", lambda s: s.row["type"] == "paper" and "soil-health" in s.article.topics),
    Case(f"url={quote(XERCES, safe='')}&article=native-plants-for-bees,soil-testing-glossary&cited=true",
         lambda s: s.row["url"] == XERCES and s.article.slug in {"native-plants-for-bees", "soil-testing-glossary"}
         and s.cited_by > 0),
]  # fmt: skip

CORPUS_SOURCE_CASES = [
    Case("type=paper", lambda s: s.row["type"] == "paper"),
    Case("type=book,regulatory-text&type=survey", lambda s: s.row["type"] in {"book", "regulatory-text", "survey"}),
    Case("type=Paper", lambda s: s.row["type"] == "Paper", may_be_empty=True),  # free text, exact
    Case("article=a-map-of-levers", lambda s: s.article.slug == "a-map-of-levers"),
    Case("article=article:agents,tool-use", lambda s: s.article.slug in {"agents", "tool-use"}),
    Case("article=the-small-rep-theory", lambda s: s.article.slug == "the-small-rep-theory", may_be_empty=True),
    Case("topic=ai-agents", lambda s: "ai-agents" in s.article.topics),
    Case("topic=history,regulation", lambda s: {"history", "regulation"} & set(s.article.topics)),
    Case(f"url={quote(ASER, safe='')}", lambda s: s.row["url"] == ASER),
    Case(f"url={quote(KANTAR, safe='')}", lambda s: s.row["url"] == KANTAR),  # a %20 inside the URL itself
    Case(f"url={quote(PIB, safe='')}&url={quote(ASER, safe='')}", lambda s: s.row["url"] in {PIB, ASER}),
    Case("cited=true", lambda s: s.cited_by > 0),
    Case("cited=false", lambda s: s.cited_by == 0),
    # AND across fields
    Case("topic=india&cited=false", lambda s: "india" in s.article.topics and s.cited_by == 0),
    Case("type=paper&topic=ai-agents", lambda s: s.row["type"] == "paper" and "ai-agents" in s.article.topics),
    Case(f"url={quote(ASER, safe='')}&article=a-map-of-levers,the-better-question&cited=true",
         lambda s: s.row["url"] == ASER and s.article.slug in {"a-map-of-levers", "the-better-question"}
         and s.cited_by > 0, may_be_empty=True),
]  # fmt: skip


SOURCE_CASES = {"content": CONTENT_SOURCE_CASES, "corpus": CORPUS_SOURCE_CASES}


@cases(SOURCE_CASES)
def test_source_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _expected(o.sources, case)
    items = walk(client, "/sources", case.query)
    assert [(item["slug"], item["sourceId"]) for item in items] == [(s.article.slug, s.id) for s in expected]
    assert items == [source.item() for source in expected]


def test_sources_are_the_feed_rows_with_cited_by(client: TestClient, o: Oracle) -> None:
    items = walk(client, "/sources", "")
    assert [{key: item[key] for key in SOURCE_FEED_KEYS} for item in items] == [s.row for s in o.sources]
    assert [item["citedBy"] for item in items] == [s.cited_by for s in o.sources]
    assert all(list(item) == [*SOURCE_FEED_KEYS, "citedBy"] for item in items)
    assert {item["citedBy"] > 1 for item in items} == {True, False}, "the corpus should have both"


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).

test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
