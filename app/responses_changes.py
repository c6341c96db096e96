"""Response bodies of /changes and /changes.jsonl, in the style of app.responses (routes build the bodies,
these models document them; the tests validate real responses against them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.responses import NEXT_CURSOR, NEXT_URL, RELATION, TOTAL
from app.responses_parts import Body, TotalRelation, example, make_partial, partial_config

#: A value in an entry's before/after: a scalar field's, or a claim's evidence or counterevidence list (packets as
#: /claims/{claim_id} gives them, without the resolved source).
Value = str | int | list[dict[str, str]] | None
ENTRY: dict[str, Any] = {
    "version": 42, "changedAt": "2026-12-01T09:30:00.123456Z", "type": "claim", "action": "updated",
    "id": "article:composting-without-the-guesswork:claim-002", "article": "composting-without-the-guesswork",
    "fields": ["confidence", "evidence"], "before": {"confidence": "medium"}, "after": {"confidence": "high"},
}  # fmt: skip


class ChangeEntry(Body):
    """One change of the change log: what one ingest (one corpus version) did to one article, claim or source, as
    this caller sees it (a draft published is `added` for anonymous callers, a published article sent back to
    draft `removed`)."""

    model_config = example(**ENTRY)

    version: int = Field(description="The corpus version whose ingest made the change.")
    changedAt: str = Field(description="When that ingest committed (ISO 8601, UTC).")
    type: Literal["article", "claim", "source"]
    action: Literal["added", "updated", "removed"]
    id: str = Field(description="The article's slug, the claim's id (article:<slug>:claim-NNN) or the sourceId.")
    article: str = Field(description="The slug of the article it belongs to (the article itself for articles).")
    fields: list[str] = Field(
        description="What changed (updates only): claims text, confidence, kind, verificationStatus, evidence, "
        "counterevidence; articles title, status, maturity, updatedAt, topics, contentHash, …; sources title, url, "
        "type, accessed; `public` (preview callers only) when the article was published or unpublished."
    )
    before: dict[str, Value] | None = Field(
        description="The old values of the changed scalar fields (all of them for a removal; preview callers only); "
        "a claim's also hold its `evidence` and `counterevidence` lists when they are recorded (either changed, or "
        "all values are given)."
    )
    after: dict[str, Value] | None = Field(
        description="The new values of the changed scalar fields (all of them for an addition, a claim's evidence "
        "and counterevidence lists too); null for a removal."
    )


class ChangeListItem(ChangeEntry):
    """A change in a list: every ChangeEntry field, or those that `fields=` names (so none is required)."""

    model_config = partial_config(ChangeEntry)


make_partial(ChangeListItem)


class ChangeList(Body):
    """A page of changes after `since`, in log order: `next` (a URL) and `nextCursor` lead to the following page."""

    model_config = example(items=[ENTRY], total=7, totalRelation="eq", next=None, nextCursor=None)

    items: list[ChangeListItem]
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)


class ToolChangePage(Body):
    """The MCP tool changes_since's result: /changes' page, without `next` (pass `nextCursor` back as `cursor`), and
    the corpus version the page was read at (pass it as `since` next time). Its `totalRelation` is always `eq` (the
    log's totals are counted), so the tool's output schema leaves it out."""

    items: list[ChangeEntry]
    total: int = Field(description=TOTAL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)
    corpusVersion: int = Field(description="The corpus version read: the `since` of the next call, once every page "
                               "is read.")  # fmt: skip
