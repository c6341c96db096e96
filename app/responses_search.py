"""The body of /search: a page of hits of three kinds, in the style of app.responses.

Each hit is a claim, an article or a source, with ``type``, ``score`` and ``snippet`` first and then the fields
of its row in /claims, /articles or /sources (a source's own type as ``sourceType``). Decided for generated
clients: the items are ``anyOf`` the three hit models, each with a one-value ``type`` (``claim``, ``article``,
``source``), rather than ``oneOf`` with a discriminator: under ``fields=`` a hit may lack ``type`` (and any other
key), and then only ``anyOf`` still describes it. A typed client tries the models in order and the hit's
``type`` picks the right one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.responses import (
    EXAMPLE_SLUG,
    NEXT_CURSOR,
    NEXT_URL,
    ArticleSummary,
    ClaimItem,
    SourceItem,
)
from app.responses_parts import Body, Facets, TotalRelation, example, make_partial, partial_config

SCORE = "bm25 on SQLite, ts_rank on PostgreSQL; higher is better."
SNIPPET = "The matching text with <mark>…</mark> around matches."


class ClaimHit(ClaimItem):
    """A claim that matches: its /claims row after type, score and snippet (keys as `fields=` leaves them)."""

    model_config = partial_config(ClaimItem)

    type: Literal["claim"] = Field(description="claim")
    score: float = Field(description=SCORE)
    snippet: str = Field(description=SNIPPET)


class ArticleHit(ArticleSummary):
    """An article that matches: its /articles row after type, score and snippet (keys as `fields=` leaves them)."""

    model_config = partial_config(ArticleSummary)

    type: Literal["article"] = Field(description="article")
    score: float = Field(description=SCORE)
    snippet: str = Field(description=SNIPPET)


class SourceHit(SourceItem):
    """A source that matches: its /sources row after type, score and snippet, the source's own type as
    ``sourceType`` (keys as `fields=` leaves them)."""

    model_config = partial_config(SourceItem)

    type: Literal["source"] = Field(description="source")
    score: float = Field(description=SCORE)
    snippet: str = Field(description=SNIPPET)
    sourceType: str = Field(description="The source's type (paper, report, …).")


for _hit in (ClaimHit, ArticleHit, SourceHit):
    make_partial(_hit)


class SearchResults(Body):
    """A page of search hits, best first; ``facets`` count the matching claims. `next` (a URL) and `nextCursor`
    (its cursor alone) lead to the following page."""

    model_config = example(
        items=[{"type": "claim", "score": 9.71, "snippet": "A compost pile heats up when <mark>carbon</mark>…",
                "claimId": f"article:{EXAMPLE_SLUG}:claim-001", "confidence": "high", "state": "verified"}],
        total=7, totalRelation="eq", next=None, nextCursor=None,
        facets={"confidence": [{"confidence": "high", "count": 3}], "state": [{"state": "verified", "count": 6}],
                "topic": [], "series": []},
    )  # fmt: skip

    items: list[ClaimHit | ArticleHit | SourceHit]
    total: int = Field(description="How many documents match, over all pages (at least, with totalRelation gte).")
    totalRelation: TotalRelation = Field(
        description="eq: total is exact; gte: more documents match than one search ranks (its window of each "
        "kind: 5,000 on SQLite, 1,000 on PostgreSQL), and total is a floor."
    )
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)
    facets: Facets | None = Field(
        None,
        description="First page: the best (at most 500) claim hits counted by confidence, state, topic and series. "
        "Absent on later pages, when claims are not searched (type without claims) and when it does not fit "
        "max_tokens.",
    )
    truncated: bool | None = Field(None, description="With max_tokens: whether hits were left for the next page.")


class ToolClaim(ClaimItem):
    """A claim as the MCP tool search_claims lists it: its /claims row and, with a query, the hit's type, score and
    snippet (without one, the claims feed: no score)."""

    type: Literal["claim"] | None = Field(None, description="With query: claim.")
    score: float | None = Field(None, description=f"With query: {SCORE}")
    snippet: str | None = Field(None, description=f"With query: {SNIPPET}")


class ToolClaimPage(Body):
    """The MCP tool search_claims' result: /search's page of claim hits with a query, /claims' page without one.
    MCP has no URLs, so no `next`: pass `nextCursor` back as `cursor`."""

    items: list[ToolClaim]
    total: int = Field(description="How many claims match, over all pages (see totalRelation).")
    totalRelation: TotalRelation = Field(description="eq: total is exact; gte: total is a floor.")
    nextCursor: str | None = Field(description="Pass as `cursor` (same other arguments) for the next page.")
    truncated: bool | None = Field(None, description="With max_tokens: whether claims were left for nextCursor.")
    facets: Facets | None = Field(None, description="With query, first page: the matching claims counted by "
                                  "confidence, state, topic and series.")  # fmt: skip
