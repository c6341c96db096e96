"""/articles: the list, one article, its body, claims, sources, related articles and brief."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries.articles import list_articles
from app.queries.params import ArticleParams
from app.responses import ArticleList

router = APIRouter(tags=["articles"])


@router.get("/articles", response_model=ArticleList, summary="List articles, filtered, sorted and paged")
def get_articles(ctx: ContextDep, params: Annotated[ArticleParams, Query()]) -> Response:
    return ctx.page(list_articles(ctx.scope, params), "/articles", params)
