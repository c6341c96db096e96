"""/articles, table-driven: every filter, the sorts, the items themselves, related_to and the keyword search.

Every case is a query and a predicate over the oracle (tests/filters_oracle.py): the test asks the API, walking
every page, and compares the rows it returns, in order and in full, with the oracle's rows that satisfy the
predicate. Each table runs on our content/ and, where ../shared is there, on the publisher's corpus (its 73
articles hold more rows, ties and odd text; those rows run in test_the_tables_on_the_publishers_corpus and skip
without it).

Semantics under test (app/queries/params.py): values within one filter are ORed (``topic=a&topic=b`` or
``topic=a,b``), different filters are ANDed; the list is in the requested sort (default ``-published``).
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests import filters_support as support
from tests.filters_oracle import RANK, A, Oracle, S
from tests.filters_support import SORTS, Case, _article_order, _expected, cases, per_dataset, tables_on_the_corpus, walk

# The module-scoped fixtures (a client and an oracle per data set), this module's own.
dataset, client, o = support.dataset, support.client, support.o


CONTENT_ARTICLE_CASES = [
    Case("topic=soil-health", lambda a: "soil-health" in a.topics),
    Case("topic=pollinators,water", lambda a: {"pollinators", "water"} & set(a.topics)),
    Case("topic=pollinators&topic=water", lambda a: {"pollinators", "water"} & set(a.topics)),
    Case("topic=no-such-topic", lambda a: "no-such-topic" in a.topics, may_be_empty=True),
    Case("topic=Soil-Health", lambda a: "Soil-Health" in a.topics, may_be_empty=True),  # exact
    Case("tag=compost", lambda a: "compost" in a.tags),
    Case("tag=no-dig,glossary", lambda a: {"no-dig", "glossary"} & set(a.tags)),
    Case("series=soil-from-the-ground-up", lambda a: a.series_slug == "soil-from-the-ground-up"),
    Case("series=pollinator-corridors,soil-from-the-ground-up",
         lambda a: a.series_slug in {"pollinator-corridors", "soil-from-the-ground-up"}),
    Case("maturity=evergreen", lambda a: a.maturity == "evergreen"),
    Case("maturity=contested,seed&maturity=superseded", lambda a: a.maturity in {"contested", "seed", "superseded"}),
    Case("maturity=superseded", lambda a: a.maturity == "superseded", may_be_empty=True),
    Case("audience=teachers", lambda a: "teachers" in a.audiences),
    Case("audience=AI%20agents", lambda a: "AI agents" in a.audiences),
    Case("audience=ai%20agents", lambda a: "ai agents" in a.audiences, may_be_empty=True),  # exact, case and all
    Case("audience=teachers,schools", lambda a: {"teachers", "schools"} & set(a.audiences)),
    Case("confidence=medium", lambda a: "medium" in a.confidences),
    Case("confidence=high,low", lambda a: {"high", "low"} & a.confidences),
    Case("confidence=low", lambda a: "low" in a.confidences),
    Case("min_confidence=high", lambda a: any(RANK[c] >= RANK["high"] for c in a.confidences)),
    Case("min_confidence=medium-high", lambda a: any(RANK[c] >= RANK["medium-high"] for c in a.confidences)),
    Case("min_confidence=medium", lambda a: any(RANK[c] >= RANK["medium"] for c in a.confidences)),
    Case("min_confidence=low", lambda a: bool(a.confidences)),
    Case("claim_state=verified", lambda a: "verified" in a.states),
    Case("claim_state=contested", lambda a: "contested" in a.states),
    Case("claim_state=stale", lambda a: "stale" in a.states),
    Case("claim_state=needs-evidence,draft", lambda a: {"needs-evidence", "draft"} & a.states, may_be_empty=True),
    Case("source_type=paper", lambda a: "paper" in a.source_types),
    Case("source_type=book,regulation", lambda a: {"book", "regulation"} & a.source_types),
    Case("source_type=Paper", lambda a: "Paper" in a.source_types, may_be_empty=True),  # free text, exact
    Case("q=compost", lambda a: a.mentions("compost")),
    Case("q=COMPOST", lambda a: a.mentions("COMPOST")),
    Case("q=soil%20food%20web", lambda a: a.mentions("soil food web")),
    Case("q=%C3%89", lambda a: a.mentions("É")),  # case-insensitive beyond ASCII
    Case("q=%C2%B0", lambda a: a.mentions("°"), may_be_empty=True),
    Case("q=0%25", lambda a: a.mentions("0%")),  # LIKE wildcards are literal
    Case("q=_", lambda a: a.mentions("_"), may_be_empty=True),
    Case("related_to=soil-from-the-ground-up", lambda a: a.related_to(S("soil-from-the-ground-up"))),
    Case("related_to=article:native-plants-for-bees",  # the id form
         lambda a: a.related_to(S("native-plants-for-bees"))),
    Case("related_to=rainwater-harvesting-for-small-gardens",
         lambda a: a.related_to(S("rainwater-harvesting-for-small-gardens"))),
    Case("related_to=soil-testing-glossary", lambda a: a.related_to(S("soil-testing-glossary"))),
    Case("related_to=leaf-mould-from-autumn-leaves",  # links to an article it shares no topic with
         lambda a: a.related_to(S("leaf-mould-from-autumn-leaves"))),
    Case("updated_since=2026-07-10", lambda a: a.updated >= "2026-07-10"),
    Case("updated_since=2026-10-06", lambda a: a.updated >= "2026-10-06", may_be_empty=True),
    Case("updated_until=2025-06-01", lambda a: a.updated <= "2025-06-01", may_be_empty=True),
    Case("updated_until=2025-06-02", lambda a: a.updated <= "2025-06-02"),
    Case("published_since=2026-06-12", lambda a: a.published >= "2026-06-12"),
    Case("published_until=2026-01-15", lambda a: a.published <= "2026-01-15"),
    Case("published_since=2026-02-20&published_until=2026-05-05",
         lambda a: "2026-02-20" <= a.published <= "2026-05-05"),
    Case("published_since=2026-03-01&updated_until=2026-07-09",
         lambda a: a.published >= "2026-03-01" and a.updated <= "2026-07-09"),
    # AND across fields
    Case("topic=soil-health&confidence=high", lambda a: "soil-health" in a.topics and "high" in a.confidences),
    Case("topic=soil-health&maturity=evergreen&min_confidence=high",
         lambda a: "soil-health" in a.topics and a.maturity == "evergreen" and "high" in a.confidences),
    Case("tag=compost&audience=allotment%20holders",
         lambda a: "compost" in a.tags and "allotment holders" in a.audiences),
    Case("series=pollinator-corridors&q=bee", lambda a: a.series_slug == "pollinator-corridors" and a.mentions("bee")),
    Case("topic=pollinators,water&source_type=paper,book",
         lambda a: {"pollinators", "water"} & set(a.topics) and {"paper", "book"} & a.source_types),
    Case("related_to=soil-from-the-ground-up&topic=composting",
         lambda a: a.related_to(S("soil-from-the-ground-up")) and "composting" in a.topics),
    Case("confidence=medium&min_confidence=high",  # two claims may satisfy the two filters
         lambda a: "medium" in a.confidences and "high" in a.confidences),
    Case("claim_state=verified&confidence=high&maturity=evergreen,sprout",
         lambda a: "verified" in a.states and "high" in a.confidences and a.maturity in {"evergreen", "sprout"}),
    Case("claim_state=contested&published_since=2026-01-01&tag=no-dig",
         lambda a: "contested" in a.states and a.published >= "2026-01-01" and "no-dig" in a.tags),
]  # fmt: skip

CORPUS_ARTICLE_CASES = [
    Case("topic=ai-agents", lambda a: "ai-agents" in a.topics),
    Case("topic=ai-agents,history", lambda a: {"ai-agents", "history"} & set(a.topics)),
    Case("topic=ai-agents&topic=history", lambda a: {"ai-agents", "history"} & set(a.topics)),
    Case("topic=no-such-topic", lambda a: "no-such-topic" in a.topics, may_be_empty=True),
    Case("topic=AI-Agents", lambda a: "AI-Agents" in a.topics, may_be_empty=True),  # exact
    Case("tag=de-hype", lambda a: "de-hype" in a.tags),
    Case("tag=ios-27,mental-health", lambda a: {"ios-27", "mental-health"} & set(a.tags)),
    Case("series=ai-demystified", lambda a: a.series_slug == "ai-demystified"),
    Case("series=ai-agent-conversations,ai-demystified",
         lambda a: a.series_slug in {"ai-agent-conversations", "ai-demystified"}),
    Case("maturity=seed", lambda a: a.maturity == "seed"),
    Case("maturity=contested,sprout&maturity=superseded",
         lambda a: a.maturity in {"contested", "sprout", "superseded"}),
    Case("maturity=evergreen", lambda a: a.maturity == "evergreen", may_be_empty=True),
    Case("audience=parents", lambda a: "parents" in a.audiences),
    Case("audience=AI%20agents", lambda a: "AI agents" in a.audiences),
    Case("audience=ai%20agents", lambda a: "ai agents" in a.audiences, may_be_empty=True),  # exact, case and all
    Case("audience=parents,citizens", lambda a: {"parents", "citizens"} & set(a.audiences)),
    Case("confidence=medium", lambda a: "medium" in a.confidences),
    Case("confidence=high,medium", lambda a: {"high", "medium"} & a.confidences),
    Case("confidence=low", lambda a: "low" in a.confidences, may_be_empty=True),
    Case("min_confidence=high", lambda a: any(RANK[c] >= RANK["high"] for c in a.confidences)),
    Case("min_confidence=medium-high", lambda a: any(RANK[c] >= RANK["medium-high"] for c in a.confidences)),
    Case("min_confidence=medium", lambda a: any(RANK[c] >= RANK["medium"] for c in a.confidences)),
    Case("min_confidence=low", lambda a: bool(a.confidences)),
    Case("claim_state=verified", lambda a: "verified" in a.states),
    Case("claim_state=contested", lambda a: "contested" in a.states),
    Case("claim_state=stale,needs-evidence", lambda a: {"stale", "needs-evidence"} & a.states, may_be_empty=True),
    Case("source_type=paper", lambda a: "paper" in a.source_types),
    Case("source_type=book,regulatory-text", lambda a: {"book", "regulatory-text"} & a.source_types),
    Case("source_type=Paper", lambda a: "Paper" in a.source_types, may_be_empty=True),  # free text, exact
    Case("q=india", lambda a: a.mentions("india")),
    Case("q=INDIA", lambda a: a.mentions("INDIA")),
    Case("q=Large%20Language%20Model", lambda a: a.mentions("Large Language Model")),
    Case("q=wwdc", lambda a: a.mentions("wwdc")),
    Case("q=%C3%89", lambda a: a.mentions("É")),  # case-insensitive beyond ASCII (a source title has "é")
    Case("q=%E2%82%B9", lambda a: a.mentions("₹")),
    Case("q=0%25", lambda a: a.mentions("0%")),  # LIKE wildcards are literal
    Case("q=_", lambda a: a.mentions("_"), may_be_empty=True),
    Case("related_to=the-substance-builder", lambda a: a.related_to(A("the-substance-builder"))),
    Case("related_to=article:post-subscription-ai-assistant",  # the id form
         lambda a: a.related_to(A("post-subscription-ai-assistant"))),
    Case("related_to=modern-ai-stack", lambda a: a.related_to(A("modern-ai-stack"))),
    Case("related_to=agent-control-planes", lambda a: a.related_to(A("agent-control-planes"))),
    Case("updated_since=2026-07-18", lambda a: a.updated >= "2026-07-18"),
    Case("updated_since=2026-07-19", lambda a: a.updated >= "2026-07-19", may_be_empty=True),
    Case("updated_until=2026-07-17", lambda a: a.updated <= "2026-07-17", may_be_empty=True),
    Case("updated_until=2026-07-18", lambda a: a.updated <= "2026-07-18"),
    Case("published_since=2026-07-05", lambda a: a.published >= "2026-07-05"),
    Case("published_until=2026-06-29", lambda a: a.published <= "2026-06-29"),
    Case("published_since=2026-06-27&published_until=2026-07-04",
         lambda a: "2026-06-27" <= a.published <= "2026-07-04"),
    Case("published_since=2026-07-06&updated_until=2026-07-18", lambda a: a.published >= "2026-07-06"),
    # AND across fields
    Case("topic=ai-agents&confidence=high", lambda a: "ai-agents" in a.topics and "high" in a.confidences),
    Case("topic=ai-agents&maturity=seed&min_confidence=high",
         lambda a: "ai-agents" in a.topics and a.maturity == "seed" and "high" in a.confidences),
    Case("tag=india&audience=parents", lambda a: "india" in a.tags and "parents" in a.audiences),
    Case("series=attention-substance-ai-moment&q=ai",
         lambda a: a.series_slug == "attention-substance-ai-moment" and a.mentions("ai")),
    Case("topic=ai-agents,history&source_type=paper,book",
         lambda a: {"ai-agents", "history"} & set(a.topics) and {"paper", "book"} & a.source_types),
    Case("related_to=the-substance-builder&topic=platform-design",
         lambda a: a.related_to(A("the-substance-builder")) and "platform-design" in a.topics),
    Case("confidence=medium&min_confidence=high",  # two claims may satisfy the two filters
         lambda a: "medium" in a.confidences and "high" in a.confidences),
    Case("claim_state=verified&confidence=high&maturity=seed,contested",
         lambda a: "verified" in a.states and "high" in a.confidences and a.maturity in {"seed", "contested"}),
    Case("claim_state=contested&published_since=2026-07-05&tag=india",
         lambda a: "contested" in a.states and a.published >= "2026-07-05" and "india" in a.tags),
]  # fmt: skip


ARTICLE_CASES = {"content": CONTENT_ARTICLE_CASES, "corpus": CORPUS_ARTICLE_CASES}


@cases(ARTICLE_CASES)
def test_article_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _article_order("-published")(_expected(o.articles, case))
    items = walk(client, "/articles", case.query)
    assert [item["slug"] for item in items] == [article.slug for article in expected]
    assert items == [article.item() for article in expected]


SORTED_SUBSETS = {
    "content": [
        Case("", lambda a: True),
        Case("topic=soil-health", lambda a: "soil-health" in a.topics),
        Case("q=bee&maturity=sprout,seed", lambda a: a.mentions("bee") and a.maturity in {"sprout", "seed"}),
    ],
    "corpus": [
        Case("", lambda a: True),
        Case("topic=ai-agents", lambda a: "ai-agents" in a.topics),
        Case("q=india&maturity=seed", lambda a: a.mentions("india") and a.maturity == "seed"),
    ],
}


@per_dataset(
    "sort,subset",
    {name: [(sort, case) for case in rows for sort in SORTS] for name, rows in SORTED_SUBSETS.items()},
    lambda sort, case: f"{case.query or 'all'}-{sort}",
)
def test_article_sort(client: TestClient, o: Oracle, sort: str, subset: Case) -> None:
    expected = _article_order(sort)(_expected(o.articles, subset))
    items = walk(client, "/articles", "&".join(filter(None, [subset.query, f"sort={sort}"])))
    assert [item["slug"] for item in items] == [article.slug for article in expected]


def test_article_items_equal_the_index_entries_in_key_order(client: TestClient, o: Oracle) -> None:
    """Every public article once, its item equal to the index.json entry on the index keys (and in their order)."""
    items = {item["slug"]: item for item in walk(client, "/articles", "")}
    assert sorted(items) == sorted(article.slug for article in o.articles)
    for article in o.articles:
        item = items[article.slug]
        assert list(item)[: len(article.entry)] == list(article.entry), article.slug
        assert item == article.item(), article.slug


RELATED_TARGETS = {
    "content": ("soil-from-the-ground-up", "native-plants-for-bees", "rainwater-harvesting-for-small-gardens",
                "soil-testing-glossary", "leaf-mould-from-autumn-leaves"),
    "corpus": ("the-substance-builder", "post-subscription-ai-assistant", "modern-ai-stack"),
}  # fmt: skip


def test_related_to_exercises_links_both_ways(dataset: str, o: Oracle) -> None:
    """A guard on the table: the chosen targets are related to some articles by a link alone, each direction."""
    alone: Counter[str] = Counter()
    for slug in RELATED_TARGETS[dataset]:
        target = o.article(slug)
        for article in o.articles:
            if article is not target and not set(article.topics) & set(target.topics):
                alone["to"] += article.links_to(target)
                alone["from"] += target.links_to(article)
    assert alone["to"] and alone["from"], alone


def test_q_matches_across_the_joined_fields(client: TestClient, o: Oracle) -> None:
    """The keyword text is the fields joined with spaces: the end of the title and the start of the summary match."""
    article = o.articles[0]
    q = f"{article.title.split()[-1]} {article.fm['summary'].split()[0]}"
    expected = _article_order("-published")([a for a in o.articles if a.mentions(q)])
    assert article in expected
    assert [item["slug"] for item in walk(client, "/articles", f"q={quote(q)}")] == [a.slug for a in expected]


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).

test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
