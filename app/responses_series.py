"""Response bodies of /series and /topics, in the style of app.responses: routes build the bodies themselves
(orjson, this key order) and these models document them (OpenAPI, with examples); the tests validate real
responses against them. Unlike the publisher's shapes, these bodies always carry every key: a value that may
be missing is ``null``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.responses import ArticleSummary

API = "https://garden.example"
SITE = "https://aura-knowledge.github.io"
SERIES = "soil-from-the-ground-up"
GUIDE_TITLE = "Soil from the Ground Up"

SERIES_ITEM: dict[str, Any] = {
    "slug": SERIES, "title": GUIDE_TITLE, "season": "Season 1", "memberCount": 6,
    "guide": {"slug": SERIES, "title": GUIDE_TITLE}, "newestUpdate": "2026-05-30", "url": f"{API}/series/{SERIES}",
}  # fmt: skip
TOPIC_ITEM: dict[str, Any] = {
    "topic": "soil-health", "label": "soil health", "articleCount": 6, "claimCount": 29,
    "url": f"{API}/topics/soil-health",
}  # fmt: skip
COMPOSTING = "composting-without-the-guesswork"
ARTICLE_ITEM: dict[str, Any] = {
    "id": f"article:{COMPOSTING}", "slug": COMPOSTING, "title": "Composting Without the Guesswork",
    "summary": "How home compost works, how to balance browns and greens by eye, what hot and cold heaps can and "
    "cannot do, and how to tell when compost is ready to use.",
    "status": "published", "maturity": "evergreen", "topics": ["composting", "soil-health"],
    "tags": ["compost", "carbon-nitrogen", "home-gardening"], "canonicalPath": f"/articles/{COMPOSTING}/",
    "articleUrl": f"{SITE}/articles/{COMPOSTING}/", "agentJsonPath": f"/agents/articles/{COMPOSTING}.json",
    "agentMarkdownPath": f"/agents/articles/{COMPOSTING}.md", "updatedAt": "2026-03-02", "claimCount": 5,
    "sourceCount": 5, "tokenEstimate": 370, "contentHash": "c61ea43fa8b2d95c…", "publishedAt": "2026-02-20",
    "dek": "Browns, greens, air and water: a forgiving approach to home compost.", "readingTime": "7 min",
    "audiences": ["home gardeners", "allotment holders", "AI agents"],
    "series": {"slug": SERIES, "title": GUIDE_TITLE, "season": "Season 1", "order": 3, "role": "chapter"},
}  # fmt: skip
GUIDE_ITEM: dict[str, Any] = {
    **ARTICLE_ITEM, "id": f"article:{SERIES}", "slug": SERIES, "title": GUIDE_TITLE,
    "summary": "An orientation to the Soil from the Ground Up series…", "topics": ["soil-health", "composting"],
    "tags": ["soil", "home-gardening", "series-guide"], "canonicalPath": f"/articles/{SERIES}/",
    "articleUrl": f"{SITE}/articles/{SERIES}/", "agentJsonPath": f"/agents/articles/{SERIES}.json",
    "agentMarkdownPath": f"/agents/articles/{SERIES}.md", "updatedAt": "2026-04-14", "claimCount": 4,
    "tokenEstimate": 376, "contentHash": "887b9d949cfacae7…", "publishedAt": "2025-03-14",
    "dek": "A season-long guide to the living layer under a home garden.", "readingTime": "5 min",
    "series": {"slug": SERIES, "title": GUIDE_TITLE, "season": "Season 1", "order": 0, "role": "guide"},
}  # fmt: skip

WarningCode = Literal["duplicate-order", "missing-order", "missing-guide", "misplaced-guide", "unknown-arc"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


class SeriesGuide(_Body):
    slug: str
    title: str


class SeriesItem(_Body):
    """A series as the list shows it."""

    model_config = _example(SERIES_ITEM)

    slug: str
    title: str = Field(description="The title in the first member's artifact (series order).")
    season: str | None = Field(description="The first member's season, or null.")
    memberCount: int = Field(description="How many members the caller can see.")
    guide: SeriesGuide | None = Field(description="The member with role guide and the lowest order, or null.")
    newestUpdate: str = Field(description="The newest updatedAt among the members the caller can see.")
    url: str = Field(description="This series on this API (/series/{slug}).")


class SeriesList(_Body):
    """Every series with at least one member the caller can see, newest member date first, then by slug."""

    model_config = _example({"items": [SERIES_ITEM], "total": 1})

    items: list[SeriesItem]
    total: int = Field(description="How many series there are (the list is not paged).")


class SeriesMember(_Body):
    """A member of a series, in series order."""

    model_config = _example({
        "order": 1, "role": "chapter", "arc": None, "arcTitle": None, "arcPart": None,
        "slug": "soil-texture-and-structure", "title": "Texture, Structure and the Jar Test",
        "summary": "Explains the difference between soil texture and soil structure, how to estimate texture "
        "with a jar test, and why building aggregates—not adding sand—is the fix for heavy clay.",
        "articleUrl": f"{SITE}/articles/soil-texture-and-structure/",
        "agentJsonPath": "/agents/articles/soil-texture-and-structure.json",
        "agentMarkdownPath": "/agents/articles/soil-texture-and-structure.md",
        "apiUrl": f"{API}/articles/soil-texture-and-structure",
    })  # fmt: skip

    order: int
    role: str = Field(description="guide, chapter, companion or appendix.")
    arc: str | None = Field(description="The member's arc, or null.")
    arcTitle: str | None = Field(description="The arc's title from the site's arc table; null if unknown or none.")
    arcPart: int | None = Field(description="The arc's 1-based part number in that table; null if unknown or none.")
    slug: str
    title: str
    summary: str | None = Field(description="Null for articles loaded as packets.")
    articleUrl: str
    agentJsonPath: str
    agentMarkdownPath: str
    apiUrl: str = Field(description="The article on this API (/articles/{slug}).")


class SeriesWarning(_Body):
    """A check of the series order (docs/content-format.md, `series`) that the visible members break."""

    code: WarningCode
    message: str = Field(description="What is wrong, naming the orders and slugs involved.")


class SeriesDetail(_Body):
    """One series: its members in order (order ascending, date descending, slug) and its ordering warnings."""

    model_config = _example({
        "slug": SERIES, "title": GUIDE_TITLE, "season": "Season 1", "memberCount": 7,
        "members": [
            {"order": 0, "role": "guide", "arc": None, "arcTitle": None, "arcPart": None, "slug": SERIES,
             "title": GUIDE_TITLE, "summary": "An orientation to the Soil from the Ground Up series…",
             "articleUrl": f"{SITE}/articles/{SERIES}/", "agentJsonPath": f"/agents/articles/{SERIES}.json",
             "agentMarkdownPath": f"/agents/articles/{SERIES}.md", "apiUrl": f"{API}/articles/{SERIES}"},
        ],
        "warnings": [{"code": "duplicate-order", "message": "Order 3 is held by 2 members: "
                      "composting-without-the-guesswork, hot-composting-in-seven-days."}],
    })  # fmt: skip

    slug: str
    title: str
    season: str | None
    memberCount: int
    members: list[SeriesMember]
    warnings: list[SeriesWarning] = Field(description="Empty when the members pass every check.")


class TopicItem(_Body):
    """A topic as the list shows it."""

    model_config = _example(TOPIC_ITEM)

    topic: str
    label: str = Field(description='The topic with "-" replaced by " ".')
    articleCount: int = Field(description="Visible articles with this topic.")
    claimCount: int = Field(description="Claims of those articles.")
    url: str = Field(description="This topic on this API (/topics/{topic}).")


class TopicList(_Body):
    """Every topic of the articles the caller can see, by topic."""

    model_config = _example({"items": [TOPIC_ITEM], "total": 1})

    items: list[TopicItem]
    total: int = Field(description="How many topics there are (the list is not paged).")


class TopicDetail(_Body):
    """One topic and its articles (the /articles list items) in the publisher's dir order."""

    model_config = _example({
        "topic": "composting", "label": "composting", "articleCount": 2, "claimCount": 9,
        "articles": [GUIDE_ITEM, ARTICLE_ITEM],
    })  # fmt: skip

    topic: str
    label: str
    articleCount: int
    claimCount: int
    articles: list[ArticleSummary]
