"""The events of /changes/stream (app.change_stream), in the style of app.responses: the stream builds them, these
models document them (their schemas are components of the OpenAPI document) and the tests validate real events."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.responses_parts import Body, example

COUNTS: dict[str, Any] = {"article": {"added": 1, "updated": 0, "removed": 0},
                          "claim": {"added": 6, "updated": 2, "removed": 0},
                          "source": {"added": 3, "updated": 0, "removed": 0}}  # fmt: skip
VERSION_EVENT: dict[str, Any] = {"version": 42, "committedAt": "2026-12-01T09:30:00.123456Z", "changes": 12,
                                 "counts": COUNTS, "url": "/changes?since=41"}  # fmt: skip


class ActionCounts(Body):
    """How many entries of one type a version added, updated and removed, as this caller sees them."""

    model_config = example(**COUNTS["claim"])

    added: int = Field(ge=0)
    updated: int = Field(ge=0)
    removed: int = Field(ge=0)


class ChangeCounts(Body):
    """A version's entries of the change log counted by type and action, as this caller sees them."""

    model_config = example(**COUNTS)

    article: ActionCounts
    claim: ActionCounts
    source: ActionCounts


class VersionEvent(Body):
    """The data of a `version` event: one committed corpus version (also the event's `id`). Every version gets
    one, even one that changed nothing this caller may see (all counts 0): the version itself is public
    (X-Corpus-Version)."""

    model_config = example(**VERSION_EVENT)

    version: int = Field(ge=1, description="The corpus version (the event's id: send it back as Last-Event-ID).")
    committedAt: str | None = Field(
        description="When its ingest committed (ISO 8601, UTC); null for an older version that recorded no change "
        "(the log keeps no time for it)."
    )
    changes: int = Field(ge=0, description="Entries of /changes for this version that this caller sees.")
    counts: ChangeCounts
    url: str = Field(description="Where the entries are: /changes?since=<version - 1> (GARDEN_PUBLIC_URL-based).")


class ReadyEvent(Body):
    """The data of the `ready` event, the first of a stream that can continue from where the client stands; its
    `id` is that position (the Last-Event-ID or `since` sent, else the current version)."""

    model_config = example(version=42)

    version: int = Field(ge=0, description="The corpus version when the stream opened.")


class ResyncEvent(Body):
    """The data of the `resync` event, sent first instead of `ready` when the stream cannot continue from the
    Last-Event-ID or `since` sent (older than the retained change log, or ahead of the corpus): the problem
    document /changes answers 410 with. Its `id` is the current version, from which the stream then continues."""

    model_config = example(type="about:blank", title="Gone", status=410, parameter="Last-Event-ID", version=42,
                           detail="Last-Event-ID: the change log starts after version 40, so the changes since 3 "
                           "are no longer kept. Resync: …")  # fmt: skip

    type: str
    title: str
    status: int
    detail: str
    parameter: str = Field(description="Last-Event-ID or since: what the position came from.")
    version: int = Field(ge=0, description="The corpus version the stream continues from.")


STREAM_EVENTS = (VersionEvent, ReadyEvent, ResyncEvent)
