"""/search: ranked full-text search over claims, articles and sources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries.params import SearchParams
from app.queries.search import search
from app.responses_search import SearchResults

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchResults, summary="Ranked full-text search with snippets and facets")
def get_search(ctx: ContextDep, params: Annotated[SearchParams, Query()]) -> Response:
    return ctx.page(search(ctx.scope, params), "/search")
