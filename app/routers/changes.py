"""/changes and /changes.jsonl: what each ingest changed since a corpus version (app.queries.changes);
/changes/stream: a live event per committed version (app.change_stream)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from app import change_stream
from app.http import ContextDep
from app.queries import changes
from app.queries.params import ChangeParams, ChangeStreamParams
from app.responses_changes import ENTRY, ChangeList
from app.responses_stream import VERSION_EVENT

router = APIRouter(tags=["changes"])
#: The stream, apart: answered by FastAPI, never the lane (app.lane), which closes the session as it returns.
feed_router = APIRouter(tags=["changes"])
#: The live events, apart again: no session or slot for the stream's life (app.change_stream), no ETag to revalidate.
stream_router = APIRouter(tags=["changes"])
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


_WIRE = (
    f'id: 41\nevent: ready\ndata: {{"version": 42}}\nretry: {change_stream.RETRY_MS}\n\n'
    f"id: 42\nevent: version\ndata: {orjson.dumps(VERSION_EVENT).decode()}\n\n: ping - 2026-12-01 09:30:15+00:00\n\n"
)
_STREAM_EXPLAINED = (
    "Server-Sent Events: `ready` (or `resync`: ResyncEvent) first, then a `version` event "
    "(VersionEvent, the schema below; `id` the version) for every version after the position, in "
    "order, and for each new one. A `: ping` comment every 15 s. Cache-Control: no-store."
)
_STREAM_SCHEMA = {"schema": {"$ref": "#/components/schemas/VersionEvent"}, "example": _WIRE}
_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": _STREAM_EXPLAINED, "content": {"text/event-stream": _STREAM_SCHEMA}}
}


_LAST_EVENT_ID = "The id of the last event received (an EventSource sends it when it reconnects): resume after it."


class StreamParams(BaseModel):
    """/changes/stream: where to start."""

    model_config = ConfigDict(extra="forbid")

    since: int | None = Field(None, ge=0, le=2**62, description="A corpus version: send the versions after it "
                              "first (for clients that cannot set Last-Event-ID; the header wins).")  # fmt: skip


@stream_router.get(change_stream.PATH, response_class=Response, responses=_STREAM_DOC,
                   summary="Follow the corpus versions live: one Server-Sent Event per committed version")  # fmt: skip
async def stream_changes(
    request: Request,
    params: Annotated[StreamParams, Query()],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", description=_LAST_EVENT_ID)] = None,
) -> Response:
    return await change_stream.open_stream(request, params.since, last_event_id)
