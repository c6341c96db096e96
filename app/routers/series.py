"""/series: every series, and one series with its members in order and its ordering warnings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries.params import NoParams
from app.queries.series import get_series, list_series
from app.responses_series import SeriesDetail, SeriesList

router = APIRouter(tags=["series"])


NoParamsDep = Annotated[NoParams, Query()]
SeriesSlug = Annotated[str, Path(description="The series slug (artifact series.slug).", max_length=200)]


@router.get("/series", response_model=SeriesList, summary="List the series with their guide and member count")
def get_series_list(ctx: ContextDep, _params: NoParamsDep) -> Response:
    items = list_series(ctx.scope, ctx.url)
    return ctx.json({"items": items, "total": len(items)})


@router.get("/series/{slug}", response_model=SeriesDetail, summary="One series: its members in order and warnings")
def get_one_series(ctx: ContextDep, slug: SeriesSlug, _params: NoParamsDep) -> Response:
    return ctx.json(get_series(ctx.scope, slug, ctx.url))
