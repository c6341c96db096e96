"""The response bodies as Pydantic models: they document the API (OpenAPI, with examples) and the tests
validate real responses against them. Routes build the bodies themselves (orjson, publisher key order);
these models describe them. A key that may be absent is declared optional with no default in the JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_SLUG = "composting-without-the-guesswork"


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class SeriesRef(_Body):
    slug: str
    title: str
    season: str | None = None
    order: int
    role: str
    arc: str | None = None


class ArticleSummary(_Body):
    """An article in a list: the publisher's index entry plus publishedAt, dek, readingTime, audiences, series."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{
            "id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork",
            "summary": "Hot and cold composting explained by the carbon-to-nitrogen ratio, moisture and air.",
            "status": "published", "maturity": "sprout", "topics": ["composting", "soil-health"],
            "tags": ["compost"], "canonicalPath": f"/articles/{EXAMPLE_SLUG}/",
            "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/",
            "agentJsonPath": f"/agents/articles/{EXAMPLE_SLUG}.json",
            "agentMarkdownPath": f"/agents/articles/{EXAMPLE_SLUG}.md", "updatedAt": "2026-09-14",
            "claimCount": 5, "sourceCount": 6, "tokenEstimate": 342, "contentHash": "3f1c…",
            "publishedAt": "2026-04-02", "dek": "Ratios, not recipes.", "readingTime": "7 min",
            "audiences": ["home gardeners"],
            "series": {"slug": "soil-from-the-ground-up", "title": "Soil from the Ground Up", "season": "Season 1",
                       "order": 3, "role": "chapter"},
        }]},
    )  # fmt: skip

    id: str
    slug: str
    title: str
    summary: str | None = Field(None, description="Absent for articles loaded as packets.")
    status: str
    maturity: str
    topics: list[str]
    tags: list[str] | None = Field(None, description="Absent for articles loaded as packets.")
    canonicalPath: str
    articleUrl: str
    agentJsonPath: str
    agentMarkdownPath: str
    updatedAt: str
    claimCount: int
    sourceCount: int
    tokenEstimate: int
    contentHash: str
    publishedAt: str
    dek: str | None = None
    readingTime: str | None = None
    audiences: list[str]
    series: SeriesRef | None


class ArticleList(_Body):
    """A page of articles."""

    items: list[dict[str, Any]] = Field(description="ArticleSummary objects (all fields unless `fields=`).")
    total: int = Field(description="How many articles match the filters, over all pages.")
    next: str | None = Field(description="URL of the next page, or null on the last page.")
