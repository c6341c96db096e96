"""What holds across /articles, /claims and /sources: the oracle agrees with itself, a repeated filter equals
its comma list, ``fields`` returns only those keys, and a bad request is a problem+json naming the parameter.

The oracle is tests/filters_oracle.py; the tables run on our content/ and, where ../shared is there, on the
publisher's corpus (test_the_tables_on_the_publishers_corpus).
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests import filters_support as support
from tests.filters_oracle import Oracle
from tests.filters_support import _article_order, only, per_dataset, tables_on_the_corpus, walk

# The module-scoped fixtures (a client and an oracle per data set), this module's own.
dataset, client, o = support.dataset, support.client, support.o


@only("corpus")
def test_oracle_sources_agree_where_they_overlap(o: Oracle) -> None:
    """A guard on the oracle: the raw files say what the expected files say wherever both say something."""
    assert len(o.articles) == len({a.slug for a in o.articles}) > 50
    for article in o.articles:
        assert (article.fm["summary"], article.fm["tags"]) == (article.entry["summary"], article.tags), article.slug
        assert article.fm["date"] == article.published, article.slug  # publishedAt = fm date (§1.4)
        assert article.artifact["updatedAt"] == article.updated, article.slug
        assert (len(article.claims), len(article.sources)) == (
            article.entry["claimCount"],
            article.entry["sourceCount"],
        )
    for claim in o.claims:
        assert (claim.row["evidenceCount"], claim.row["counterevidenceCount"]) == (
            len(claim.raw["evidence"]),
            len(claim.raw["counterevidence"]),
        )


@per_dataset(
    "repeated,comma",
    {
        "content": [
            ("/articles?topic=pollinators&topic=water", "/articles?topic=pollinators,water"),
            ("/articles?maturity=sprout&maturity=contested", "/articles?maturity=sprout,contested"),
            ("/claims?confidence=high&confidence=low", "/claims?confidence=high,low"),
            ("/claims?article=pollinator-corridors&article=article:soil-testing-glossary",
             "/claims?article=pollinator-corridors,article:soil-testing-glossary"),
            ("/sources?type=paper&type=book", "/sources?type=paper,book"),
        ],
        "corpus": [
            ("/articles?topic=ai-agents&topic=history", "/articles?topic=ai-agents,history"),
            ("/articles?maturity=sprout&maturity=contested", "/articles?maturity=sprout,contested"),
            ("/claims?confidence=high&confidence=medium", "/claims?confidence=high,medium"),
            ("/claims?article=agents&article=article:tool-use", "/claims?article=agents,article:tool-use"),
            ("/sources?type=paper&type=book", "/sources?type=paper,book"),
        ],
    },
    lambda repeated, comma: repeated,
)  # fmt: skip
def test_repeated_filter_equals_comma_list(client: TestClient, repeated: str, comma: str) -> None:
    path, _, query = repeated.partition("?")
    first = walk(client, path, query)
    assert first, "pick values the corpus has"
    assert walk(client, path, comma.partition("?")[2]) == first


FIELDS = [
    ("/articles", ["slug", "title", "series", "publishedAt"]),
    ("/articles", ["audiences"]),
    ("/claims", ["claimId", "state", "confidence"]),
    ("/sources", ["sourceId", "citedBy", "url"]),
]


@per_dataset("resource,fields", {"content": FIELDS, "corpus": FIELDS}, lambda resource, fields: resource)
def test_fields_returns_only_those_keys(client: TestClient, o: Oracle, resource: str, fields: list[str]) -> None:
    rows = {"/articles": _article_order("-published")(o.articles), "/claims": o.claims, "/sources": o.sources}
    items = walk(client, resource, f"fields={','.join(fields)}")
    assert items == [{key: row.item()[key] for key in fields} for row in rows[resource]]


# --------------------------------------------------------------------------------------------------------
# Errors: one problem+json shape naming the parameter at fault.


ERRORS = [
    ("/articles?maturity=ripe", 422, "maturity"),
    ("/articles?confidence=certain", 422, "confidence"),
    ("/articles?claim_state=fine", 422, "claim_state"),
    ("/claims?confidence=certain", 422, "confidence"),
    ("/claims?status=rumour", 422, "status"),
    ("/claims?verification=done", 422, "verification"),
    ("/claims?state=fine", 422, "state"),
    ("/claims?supports=strongly", 422, "supports"),
    ("/claims?include=everything", 422, "include"),
    ("/articles?min_confidence=certain", 422, "min_confidence"),
    ("/articles?sort=newest", 422, "sort"),
    ("/claims?min_confidence=certain", 422, "min_confidence"),
    ("/claims?has_counterevidence=maybe", 422, "has_counterevidence"),
    ("/sources?cited=maybe", 422, "cited"),
    ("/articles?published_since=2026-13-01", 422, "published_since"),
    ("/articles?updated_until=yesterday", 422, "updated_until"),
    ("/articles?q=", 422, "q"),
    ("/claims?q=" + "x" * 201, 422, "q"),
    ("/articles?related_to=no-such-article", 422, "related_to"),
    ("/articles?related_to=hot-composting-in-seven-days", 422, "related_to"),  # archived: not visible
    ("/articles?related_to=street-trees-and-urban-heat", 422, "related_to"),  # a draft: not visible
    ("/articles?fields=slug,nope", 422, "fields"),
    ("/claims?fields=claimId,nope", 422, "fields"),
    ("/articles?colour=red", 400, "colour"),
    ("/claims?tag=india", 400, "tag"),
    ("/sources?q=india", 400, "q"),
    ("/articles?cursor=not-a-cursor", 400, "cursor"),
    *((f"{path}?limit={limit}", 422, "limit") for path in ("/articles", "/claims", "/sources") for limit in (0, 501)),
    ("/articles?status=published", 403, "status"),
    ("/articles?status=draft,archived", 403, "status"),
]


@per_dataset("url,status,parameter", {"content": ERRORS}, lambda url, status, parameter: url)
def test_bad_request_is_a_problem_naming_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert body["detail"].startswith(parameter)
    assert body["parameter"] == parameter


# --------------------------------------------------------------------------------------------------------
# The tables' rows on the publisher's corpus (registered by per_dataset above).

test_the_tables_on_the_publishers_corpus = tables_on_the_corpus(__name__)
