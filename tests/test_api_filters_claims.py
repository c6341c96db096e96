"""/claims, table-driven: every filter, the feed rows the items are made of, and ``include``.

Every case is a query and a predicate over the oracle (tests/filters_oracle.py): the test asks the API, walking
every page, and compares the rows it returns, in order and in full, with the oracle's rows that satisfy the
predicate. Each table runs on our content/ and, where ../shared is there, on the publisher's corpus (its 73
articles hold more rows, ties and odd text; those rows run in test_the_tables_on_the_publishers_corpus and skip
without it).

Semantics under test (app/queries/params.py): values within one filter are ORed, different filters are ANDed;
the list is in claims-feed order.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests import filters_support as support
from tests.filters_oracle import CLAIM_FEED_KEYS, RANK, Oracle
from tests.filters_support import Case, _expected, cases, per_dataset, tables_on_the_corpus, walk

# The module-scoped fixtures (a client and an oracle per data set), this module's own.
dataset, client, o = support.dataset, support.client, support.o


CONTENT_CLAIM_CASES = [
    Case("topic=soil-health", lambda c: "soil-health" in c.article.topics),
    Case("topic=water,pollinators", lambda c: {"water", "pollinators"} & set(c.article.topics)),
    Case("series=soil-from-the-ground-up", lambda c: c.article.series_slug == "soil-from-the-ground-up"),
    Case("series=pollinator-corridors&series=soil-from-the-ground-up",
         lambda c: c.article.series_slug in {"pollinator-corridors", "soil-from-the-ground-up"}),
    Case("article=native-plants-for-bees", lambda c: c.article.slug == "native-plants-for-bees"),
    Case("article=article:native-plants-for-bees", lambda c: c.article.slug == "native-plants-for-bees"),
    Case("article=pollinator-corridors,article:soil-testing-glossary",
         lambda c: c.article.slug in {"pollinator-corridors", "soil-testing-glossary"}),
    Case("article=hot-composting-in-seven-days", lambda c: c.article.slug == "hot-composting-in-seven-days",
         may_be_empty=True),  # archived
    Case("confidence=high", lambda c: c.confidence == "high"),
    Case("confidence=medium,medium-high", lambda c: c.confidence in {"medium", "medium-high"}),
    Case("confidence=low", lambda c: c.confidence == "low"),
    Case("min_confidence=medium-high", lambda c: RANK[c.confidence] >= RANK["medium-high"]),
    Case("min_confidence=high", lambda c: RANK[c.confidence] >= RANK["high"]),
    Case("min_confidence=low", lambda c: True),
    Case("status=core", lambda c: c.row["status"] == "core"),
    Case("status=forecast,normative&status=behavioral",
         lambda c: c.row["status"] in {"forecast", "normative", "behavioral"}),
    Case("verification=verified", lambda c: c.row["verificationStatus"] == "verified"),
    Case("verification=contested,stale", lambda c: c.row["verificationStatus"] in {"contested", "stale"}),
    Case("verification=draft", lambda c: c.row["verificationStatus"] == "draft", may_be_empty=True),  # the draft's
    Case("state=verified", lambda c: c.state == "verified"),
    Case("state=contested", lambda c: c.state == "contested"),
    Case("state=stale", lambda c: c.state == "stale"),
    Case("state=needs-evidence,missing-counterevidence,draft",
         lambda c: c.state in {"needs-evidence", "missing-counterevidence", "draft"}, may_be_empty=True),
    Case("has_counterevidence=true", lambda c: c.row["counterevidenceCount"] > 0),
    Case("has_counterevidence=false", lambda c: c.row["counterevidenceCount"] == 0),
    Case("supports=analogous", lambda c: "analogous" in c.supports),
    Case("supports=background,indirect", lambda c: {"background", "indirect"} & c.supports),
    Case("source=source-xerces-pollinators", lambda c: "source-xerces-pollinators" in c.cites),  # in two articles
    Case("source=source-rhs-clay,source-fao-soils", lambda c: {"source-rhs-clay", "source-fao-soils"} & c.cites),
    Case("source=source-001", lambda c: "source-001" in c.cites),
    Case("q=soil", lambda c: "soil" in c.text.lower()),
    Case("q=ORGANIC%20matter", lambda c: "organic matter" in c.text.lower()),
    Case("q=%25", lambda c: "%" in c.text),
    Case("q=_", lambda c: "_" in c.text, may_be_empty=True),
    Case("q=%C2%B0", lambda c: "°" in c.text, may_be_empty=True),  # only in hidden articles' claims
    # AND across fields
    Case("topic=soil-health&confidence=high", lambda c: "soil-health" in c.article.topics and c.confidence == "high"),
    Case("topic=pollinators&min_confidence=medium-high&status=core",
         lambda c: "pollinators" in c.article.topics and RANK[c.confidence] >= 2 and c.row["status"] == "core"),
    Case("series=pollinator-corridors&supports=analogous,background",
         lambda c: c.article.series_slug == "pollinator-corridors" and {"analogous", "background"} & c.supports),
    Case("source=source-xerces-pollinators&q=bees",
         lambda c: "source-xerces-pollinators" in c.cites and "bees" in c.text.lower()),
    Case("confidence=medium&min_confidence=high",  # on one claim, both at once: none
         lambda c: c.confidence == "medium" and RANK[c.confidence] >= RANK["high"], may_be_empty=True),
    Case("article=native-plants-for-bees&confidence=medium-high&state=verified",
         lambda c: c.article.slug == "native-plants-for-bees" and c.confidence == "medium-high"
         and c.state == "verified"),
]  # fmt: skip

CORPUS_CLAIM_CASES = [
    Case("topic=ai-agents", lambda c: "ai-agents" in c.article.topics),
    Case("topic=history,regulation", lambda c: {"history", "regulation"} & set(c.article.topics)),
    Case("series=ai-demystified", lambda c: c.article.series_slug == "ai-demystified"),
    Case("series=ai-agent-conversations&series=ai-demystified",
         lambda c: c.article.series_slug in {"ai-agent-conversations", "ai-demystified"}),
    Case("article=a-map-of-levers", lambda c: c.article.slug == "a-map-of-levers"),
    Case("article=article:a-map-of-levers", lambda c: c.article.slug == "a-map-of-levers"),
    Case("article=agents,article:tool-use", lambda c: c.article.slug in {"agents", "tool-use"}),
    Case("article=the-small-rep-theory", lambda c: c.article.slug == "the-small-rep-theory", may_be_empty=True),
    Case("confidence=high", lambda c: c.confidence == "high"),
    Case("confidence=medium,medium-high", lambda c: c.confidence in {"medium", "medium-high"}),
    Case("confidence=low", lambda c: c.confidence == "low", may_be_empty=True),
    Case("min_confidence=medium-high", lambda c: RANK[c.confidence] >= RANK["medium-high"]),
    Case("min_confidence=high", lambda c: RANK[c.confidence] >= RANK["high"]),
    Case("min_confidence=low", lambda c: True),
    Case("status=core", lambda c: c.row["status"] == "core"),
    Case("status=forecast,normative&status=behavioral",
         lambda c: c.row["status"] in {"forecast", "normative", "behavioral"}),
    Case("verification=verified", lambda c: c.row["verificationStatus"] == "verified"),
    Case("verification=contested,stale", lambda c: c.row["verificationStatus"] in {"contested", "stale"}),
    Case("verification=draft", lambda c: c.row["verificationStatus"] == "draft", may_be_empty=True),
    Case("state=verified", lambda c: c.state == "verified"),
    Case("state=contested", lambda c: c.state == "contested"),
    Case("state=stale", lambda c: c.state == "stale", may_be_empty=True),  # only the archived article's
    Case("state=needs-evidence,missing-counterevidence,draft",
         lambda c: c.state in {"needs-evidence", "missing-counterevidence", "draft"}, may_be_empty=True),
    Case("has_counterevidence=true", lambda c: c.row["counterevidenceCount"] > 0),
    Case("has_counterevidence=false", lambda c: c.row["counterevidenceCount"] == 0, may_be_empty=True),
    Case("supports=analogous", lambda c: "analogous" in c.supports),
    Case("supports=background,indirect", lambda c: {"background", "indirect"} & c.supports),
    Case("source=source-aser-2024", lambda c: "source-aser-2024" in c.cites),
    Case("source=source-react-paper,source-cal-newport-deep-work",
         lambda c: {"source-react-paper", "source-cal-newport-deep-work"} & c.cites),
    Case("source=source-001", lambda c: "source-001" in c.cites),  # article-scoped id, cited in several articles
    Case("q=attention", lambda c: "attention" in c.text.lower()),
    Case("q=ATTENTION%20economy", lambda c: "attention economy" in c.text.lower()),
    Case("q=%25", lambda c: "%" in c.text, may_be_empty=True),
    Case("q=_", lambda c: "_" in c.text, may_be_empty=True),
    Case("q=%E2%82%B9", lambda c: "₹" in c.text),
    # AND across fields, the acceptance example first
    Case("topic=ai-agents&confidence=high", lambda c: "ai-agents" in c.article.topics and c.confidence == "high"),
    Case("topic=india&min_confidence=high&status=core",
         lambda c: "india" in c.article.topics and c.confidence == "high" and c.row["status"] == "core"),
    Case("series=ai-demystified&supports=analogous,background",
         lambda c: c.article.series_slug == "ai-demystified" and {"analogous", "background"} & c.supports),
    Case("source=source-aser-2024&q=learning",
         lambda c: "source-aser-2024" in c.cites and "learning" in c.text.lower()),
    Case("confidence=medium&min_confidence=high",  # on one claim, both at once: none
         lambda c: c.confidence == "medium" and RANK[c.confidence] >= RANK["high"], may_be_empty=True),
    Case("article=a-map-of-levers&confidence=high&state=verified",
         lambda c: c.article.slug == "a-map-of-levers" and c.confidence == "high" and c.state == "verified"),
]  # fmt: skip


CLAIM_CASES = {"content": CONTENT_CLAIM_CASES, "corpus": CORPUS_CLAIM_CASES}


@cases(CLAIM_CASES)
def test_claim_filter(client: TestClient, o: Oracle, case: Case) -> None:
    expected = _expected(o.claims, case)
    items = walk(client, "/claims", case.query)
    assert [item["claimId"] for item in items] == [claim.id for claim in expected]  # feed order
    assert items == [claim.item() for claim in expected]


BUSY_TOPIC = {"content": "soil-health", "corpus": "ai-agents"}  # a topic with many claims


def test_claims_by_topic_and_confidence_are_exactly_the_feed_rows(dataset: str, client: TestClient, o: Oracle) -> None:
    """The acceptance example: the claims.jsonl rows whose article has a given topic, at confidence high."""
    topic = BUSY_TOPIC[dataset]
    rows = [c.row for c in o.claims if topic in c.article.topics and c.row["confidence"] == "high"]
    items = walk(client, "/claims", f"topic={topic}&confidence=high")
    assert rows and [{key: item[key] for key in CLAIM_FEED_KEYS} for item in items] == rows
    assert all(list(item) == [*CLAIM_FEED_KEYS, "state", "topics", "series"] for item in items)


INCLUDES = [
    (include,)
    for include in (
        "evidence",
        "counterevidence",
        "sources",
        "evidence,counterevidence,sources",
        "sources&include=evidence",
    )
]


@per_dataset("include", {"content": INCLUDES, "corpus": INCLUDES}, lambda include: include)
def test_claims_include_embeds_what_the_artifact_says(client: TestClient, o: Oracle, include: str) -> None:
    """Evidence resolved to the same article's source (title, url, type, accessed); counterevidence; cited sources."""
    wanted = set(re.split(r",|&include=", include))
    items = walk(client, "/claims", f"include={include}")
    assert [item["claimId"] for item in items] == [claim.id for claim in o.claims]
    for item, claim in zip(items, o.claims, strict=True):
        embedded = {
            "evidence": claim.evidence(),
            "counterevidence": claim.counterevidence(),
            "sources": claim.cited_sources(),
        }
        assert item == claim.item() | {key: embedded[key] for key in wanted}, claim.id


def test_claims_without_include_embed_nothing(client: TestClient) -> None:
    for item in walk(client, "/claims", ""):
        assert not {"evidence", "counterevidence", "sources"} & set(item)


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).

test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
