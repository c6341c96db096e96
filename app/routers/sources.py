"""/sources: every source as each article lists it, filterable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries import sources
from app.queries.params import SourceParams
from app.responses import SourceList

router = APIRouter(tags=["sources"])


@router.get("/sources", response_model=SourceList, summary="List sources (per article), filtered and paged")
def get_sources(ctx: ContextDep, params: Annotated[SourceParams, Query()]) -> Response:
    return ctx.page(sources.list_sources(ctx.scope, params), "/sources")
