"""/articles: the list, one article, its body, claims, sources, related articles and brief."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.http import JSON, MARKDOWN, ContextDep
from app.queries import articles, claims, sources
from app.queries.common import Listing
from app.queries.paging import budget_slice, page_body
from app.queries.params import ArticleParams, BriefParams, IncludeParams, NoParams
from app.responses import ArticleDetail, ArticleList, Brief, ClaimList, ItemList, SourceDetail, SourceList

router = APIRouter(tags=["articles"])

Slug = Annotated[str, Path(description="The article slug, or its id `article:<slug>`.", max_length=200)]
Nothing = Annotated[NoParams, Query()]
MARKDOWN_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/markdown": {
                "schema": {"type": "string"},
                "example": "## Thesis\n\nCompost is managed decomposition.\n",
            }
        }
    }
}


@router.get("/articles", response_model=ArticleList, summary="List articles, filtered, sorted and paged")
def get_articles(ctx: ContextDep, params: Annotated[ArticleParams, Query()]) -> Response:
    return ctx.page(articles.list_articles(ctx.scope, params), "/articles")


@router.get("/articles/{slug}", response_model=ArticleDetail, summary="One article: its packet, front matter and "
            "series navigation")  # fmt: skip
def get_article(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    return ctx.json(articles.get_article(ctx.scope, slug))


@router.get("/articles/{slug}/body", response_class=Response, responses=MARKDOWN_RESPONSE,
            summary="The article body as Markdown (front matter removed)")  # fmt: skip
def get_body(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    return ctx.respond(articles.article_body(ctx.scope, slug).encode(), MARKDOWN)


@router.get("/articles/{slug}/claims", response_model=ClaimList, summary="The article's claims, in order")
def get_article_claims(ctx: ContextDep, slug: Slug, params: Annotated[IncludeParams, Query()]) -> Response:
    items = claims.article_claims(ctx.scope, slug, params.include)
    return ctx.page(budget_slice(params, items), f"/articles/{slug}/claims")


@router.get("/articles/{slug}/sources", response_model=SourceList, summary="The article's sources, in order")
def get_article_sources(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    items = sources.article_sources(ctx.scope, slug)
    return ctx.page(Listing(items, len(items), None), f"/articles/{slug}/sources")


@router.get("/articles/{slug}/sources/{source_id}", response_model=SourceDetail,
            summary="One source of the article and the claims that cite it")  # fmt: skip
def get_article_source(
    ctx: ContextDep,
    slug: Slug,
    source_id: Annotated[str, Path(description="The source id as the article lists it: source-….", max_length=200)],
    _: Nothing,
) -> Response:
    return ctx.json(sources.get_source(ctx.scope, slug, source_id))


@router.get("/articles/{slug}/related", response_model=ItemList,
            summary="The article's related links, resolved to articles and topics")  # fmt: skip
def get_related(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    items = articles.related(ctx.scope, slug)
    return ctx.json({"items": items, "total": len(items)})


def _alternate(path: str, media_type: str) -> str:
    return f'<{path}>; rel="alternate"; type="{media_type}"'


@router.get("/articles/{slug}/brief", response_model=Brief, summary="The agent brief as JSON")
def get_brief(ctx: ContextDep, slug: Slug, params: Annotated[BriefParams, Query()]) -> Response:
    """With ``max_tokens``, the brief's sections that fit (whole sections, in order) and no ``markdown``; the
    budget holds on the body as sent, its ``next`` URL included (app.queries.paging.page_body)."""
    brief = articles.get_brief(ctx.scope, slug)
    sections = budget_slice(params, brief["sections"])  # a cursor without max_tokens is refused here
    ctx.headers["Link"] = _alternate(f"/articles/{slug}/brief.md", "text/markdown")
    if params.max_tokens is None:
        return ctx.json(brief)
    # A budget buys sections: the whole Markdown, front matter and claim list would defeat it.
    head = {key: brief[key] for key in ("id", "articleId", "tokenBudget", "tokenEstimate")}
    path, budget = f"/articles/{slug}/brief", [("max_tokens", str(params.max_tokens))]

    def build(sections: list[dict[str, Any]], cursor: str | None, truncated: bool | None) -> dict[str, Any]:
        next_url = None if cursor is None else ctx.url(path, [*budget, ("cursor", cursor)])
        return {**head, "sections": sections, "truncated": truncated, "next": next_url, "nextCursor": cursor}

    body, data = page_body(sections, build, key="sections")
    if body["next"] is not None:
        ctx.headers["Link"] += f', <{body["next"]}>; rel="next"'
    return ctx.respond(data, JSON)


@router.get("/articles/{slug}/brief.md", response_class=Response, responses=MARKDOWN_RESPONSE,
            summary="The agent brief, byte for byte, as Markdown")  # fmt: skip
def get_brief_markdown(ctx: ContextDep, slug: Slug, _: Nothing) -> Response:
    markdown = articles.brief_markdown(ctx.scope, slug)[2]
    ctx.headers["Link"] = _alternate(f"/articles/{slug}/brief", "application/json")
    return ctx.respond(markdown.encode(), MARKDOWN)
