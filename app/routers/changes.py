"""/changes and /changes.jsonl: what each ingest changed since a corpus version (app.queries.changes)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.http import ContextDep
from app.queries import changes
from app.queries.params import ChangeParams, ChangeStreamParams
from app.responses_changes import ENTRY, ChangeList

router = APIRouter(tags=["changes"])
#: The stream, apart: answered by FastAPI, never the lane (app.lane), which closes the session as it returns.
feed_router = APIRouter(tags=["changes"])
NDJSON = "application/x-ndjson"
_FEED_DOC: dict[int | str, dict[str, Any]] = {200: {"description": "One ChangeEntry per line (JSON Lines).",
                   "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/ChangeEntry"},
                                        "example": orjson.dumps(ENTRY).decode() + "\n"}}}}  # fmt: skip


@router.get("/changes", response_model=ChangeList, summary="List the changes since a corpus version, paged")
def get_changes(ctx: ContextDep, params: Annotated[ChangeParams, Query()]) -> Response:
    return ctx.page(changes.list_changes(ctx.scope, params), "/changes")


@feed_router.get("/changes.jsonl", response_class=Response, responses=_FEED_DOC,
            summary="Stream the changes since a corpus version, one JSON entry per line")  # fmt: skip
def get_changes_feed(ctx: ContextDep, params: Annotated[ChangeStreamParams, Query()]) -> Response:
    return ctx.stream(changes.stream_changes(ctx.scope, params), NDJSON)  # the stream holds the session to its end
