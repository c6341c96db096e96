"""Query-parameter models: one Pydantic model per list resource, ``extra="forbid"`` so that an unknown
parameter is an error, never silently ignored. A list filter may repeat (``topic=a&topic=b``) or take a comma
list (``topic=a,b``): values within one filter are ORed, different filters ANDed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.content.schema import ClaimKind, Confidence, Maturity, Status, Supports, VerificationStatus

State = Literal["verified", "contested", "stale", "needs-evidence", "missing-counterevidence", "draft"]


def _split(value: Any) -> Any:
    """``a,b`` and repeated parameters into one list. An empty value (``topic=``) is refused rather than read as
    no filter: a script that meant to filter by something would otherwise silently get everything."""
    items = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in items:
        if isinstance(item, str) and not item.strip(" ,"):
            raise ValueError("is empty: give a value, or leave the parameter out")
        out += [part.strip() for part in item.split(",") if part.strip()] if isinstance(item, str) else [item]
    return list(dict.fromkeys(out))  # a value given twice is the same filter (and counted once)


def Many(kind: Any, description: str) -> Any:
    """A repeatable, comma-separable filter of ``kind`` values."""
    return Annotated[list[kind], BeforeValidator(_split), Field(default_factory=list, description=description)]


class Page(BaseModel):
    """Paging and shaping shared by every list."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500, description="Items per page (at most 500).")
    cursor: str | None = Field(None, description="Opaque cursor from the previous page's `next`.", max_length=2048)
    fields: Many(str, "Return only these fields of each item (comma list).")  # type: ignore[valid-type]

    #: Parameters that do not change which rows a cursor walks over.
    PAGING: ClassVar[frozenset[str]] = frozenset({"limit", "cursor", "fields", "max_tokens"})


class ArticleParams(Page):
    topic: Many(str, "Articles with this topic.")  # type: ignore[valid-type]
    tag: Many(str, "Articles with this tag.")  # type: ignore[valid-type]
    series: Many(str, "Articles in this series (slug).")  # type: ignore[valid-type]
    maturity: Many(Maturity, "seed, sprout, evergreen, contested or superseded.")  # type: ignore[valid-type]
    audience: Many(str, "Articles for this audience (free text, exact).")  # type: ignore[valid-type]
    confidence: Many(Confidence, "Articles with at least one claim at this confidence.")  # type: ignore[valid-type]
    min_confidence: Confidence | None = Field(
        None,
        description="Articles with at least one claim at this confidence or higher (low < medium < "
        "medium-high < high).",
    )
    claim_state: Many(State, "Articles with at least one claim in this computed state.")  # type: ignore[valid-type]
    source_type: Many(str, "Articles citing a source of this type (free text, exact).")  # type: ignore[valid-type]
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Case-insensitive keyword over title, summary, thesis, topics, tags, claims and source titles.",
    )
    related_to: str | None = Field(
        None,
        max_length=200,
        description="Articles related to this one (slug or article id): a shared topic, a related link either way.",
    )
    updated_since: dt.date | None = Field(None, description="updatedAt on or after this date (YYYY-MM-DD).")
    updated_until: dt.date | None = Field(None, description="updatedAt on or before this date.")
    published_since: dt.date | None = Field(None, description="publishedAt on or after this date.")
    published_until: dt.date | None = Field(None, description="publishedAt on or before this date.")
    status: Many(Status, "Preview only: draft, review, published, archived.")  # type: ignore[valid-type]
    sort: Literal["-published", "published", "-updated", "updated", "title", "series"] = Field(
        "-published", description="Order: by publishedAt or updatedAt (- for newest first), title, or series."
    )


#: The largest ``max_tokens`` accepted (REST and MCP): far above any answer, low enough to stay an integer anywhere.
MAX_BUDGET = 10_000_000


class Budget(BaseModel):
    """A token budget: return as many whole items as fit, and a cursor to continue."""

    max_tokens: int | None = Field(
        None, ge=1, le=MAX_BUDGET,
        description="Return as many whole items as fit in this many tokens (the publisher's estimate: "
        "ceil(words × 1.35)); `truncated` says whether any were left for the next page.",
    )  # fmt: skip


class ClaimParams(Page, Budget):
    topic: Many(str, "Claims of articles with this topic.")  # type: ignore[valid-type]
    series: Many(str, "Claims of articles in this series.")  # type: ignore[valid-type]
    article: Many(str, "Claims of this article (slug or article id).")  # type: ignore[valid-type]
    confidence: Many(Confidence, "low, medium, medium-high or high.")  # type: ignore[valid-type]
    min_confidence: Confidence | None = Field(None, description="This confidence or higher.")
    status: Many(ClaimKind, "The claim kind: core, landscape, forecast, …")  # type: ignore[valid-type]
    verification: Many(VerificationStatus, "Verification status (a missing one counts as draft).")  # type: ignore[valid-type]
    state: Many(State, "The computed claim state.")  # type: ignore[valid-type]
    has_counterevidence: bool | None = Field(None, description="Claims with (true) or without (false) any.")
    supports: Many(Supports, "Claims with evidence of this support type.")  # type: ignore[valid-type]
    source: Many(str, "Claims citing this source id as evidence.")  # type: ignore[valid-type]
    q: str | None = Field(None, min_length=1, max_length=200, description="Case-insensitive text in the claim.")
    include: Many(Literal["evidence", "counterevidence", "sources"], "Embed these in each claim.")  # type: ignore[valid-type]


class SourceParams(Page):
    type: Many(str, "Source type (free text, exact).")  # type: ignore[valid-type]
    article: Many(str, "Sources of this article (slug or article id).")  # type: ignore[valid-type]
    topic: Many(str, "Sources of articles with this topic.")  # type: ignore[valid-type]
    url: Many(str, "Sources with exactly this URL.")  # type: ignore[valid-type]
    cited: bool | None = Field(None, description="Sources cited by at least one claim (true) or by none (false).")


class ChangeStreamParams(BaseModel):
    """/changes.jsonl: the change log after ``since``, filtered (no paging: every entry is streamed)."""

    model_config = ConfigDict(extra="forbid")

    since: int = Field(ge=0, le=2**62, description="A corpus version: the changes made after it (X-Corpus-Version).")
    type: Many(Literal["article", "claim", "source"], "Changes to articles, claims or sources.")  # type: ignore[valid-type]
    topic: Many(str, "Changes within articles with this topic.")  # type: ignore[valid-type]
    series: Many(str, "Changes within articles of this series (slug).")  # type: ignore[valid-type]
    article: Many(str, "Changes within this article (slug or article id).")  # type: ignore[valid-type]


class ChangeParams(Page, ChangeStreamParams):
    """/changes: the change log after ``since``, filtered and keyset-paged."""


class NoParams(BaseModel):
    """For resources without query parameters: any parameter is unknown, and an error."""

    model_config = ConfigDict(extra="forbid")


class ClaimVersionParams(NoParams):
    """/claims/{claim_id}: today's claim, or with ``version`` the claim as it was then (app.queries.history)."""

    version: int | None = Field(
        None, ge=1, le=2**62,
        description="A corpus version (X-Corpus-Version): the claim as it was then, for a stable citation.",
    )  # fmt: skip


class HistoryParams(Page):
    """/claims/{claim_id}/history: the claim's forms, oldest first, keyset-paged (app.queries.history)."""

    limit: int = Field(50, ge=1, le=500, description="Versions per page (at most 500).")


class IncludeParams(NoParams, Budget):
    include: Many(Literal["evidence", "counterevidence", "sources"], "Embed these in each claim.")  # type: ignore[valid-type]
    cursor: str | None = Field(None, max_length=2048, description="With max_tokens: the `next` of the previous page.")


class BriefParams(NoParams, Budget):
    cursor: str | None = Field(None, max_length=2048, description="With max_tokens: the `next` of the previous page.")


class SearchParams(ClaimParams):
    q: str = Field(
        min_length=1, max_length=500, description="Words to look for; punctuation and operators are ignored."
    )
    type: Many(  # type: ignore[valid-type]
        Literal["claims", "articles", "sources"],
        "Search only these kinds of document (default: all three; claims only when a claim-only filter is given).",
    )
