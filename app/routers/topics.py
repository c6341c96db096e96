"""/topics: every topic with its counts, and one topic with its articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from app.http import ContextDep
from app.queries.topics import get_topic, list_topics
from app.responses_series import TopicDetail, TopicList
from app.routers.series import NoParamsDep

router = APIRouter(tags=["topics"])

TopicName = Annotated[str, Path(description="The topic, as in an article's topics (e.g. soil-health).", max_length=200)]


@router.get("/topics", response_model=TopicList, summary="List the topics with article and claim counts")
def get_topics(ctx: ContextDep, _params: NoParamsDep) -> Response:
    items = list_topics(ctx.scope, ctx.url)
    return ctx.json({"items": items, "total": len(items)})


@router.get("/topics/{topic}", response_model=TopicDetail, summary="One topic and its articles in dir order")
def get_one_topic(ctx: ContextDep, topic: TopicName, _params: NoParamsDep) -> Response:
    return ctx.json(get_topic(ctx.scope, topic))
