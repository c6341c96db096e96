"""The publisher's input schemas (``../shared/schemas``) as Pydantic models, plus readable error messages.

Strict mode mirrors JSON Schema typing: no string is coerced to a number or the reverse. Unknown keys
are allowed wherever the publisher allows them (everywhere except inside ``series`` and ``related[]``);
the models only validate, and the original data, key order included, is what gets stored and served.

Beyond the publisher's schemas, slugs (article, topic, tag, series) and ids built from them are capped at what
the API's routes can serve (``app.content.limits``: 192 characters for a slug, so that ``article:<slug>`` fits
the routes' 200), with a message that says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from app.content.errors import ContentError
from app.content.limits import MAX_SLUG, MAX_SOURCE_ID

Status = Literal["draft", "review", "published", "archived"]
Maturity = Literal["seed", "sprout", "evergreen", "contested", "superseded"]
Confidence = Literal["low", "medium", "medium-high", "high"]
ClaimKind = Literal[
    "core", "landscape", "forecast", "proposal", "normative", "risk",
    "argument", "design", "strategy", "framing", "behavioral",
]  # fmt: skip
VerificationStatus = Literal["draft", "verified", "contested", "stale"]
Supports = Literal["direct", "indirect", "analogous", "background"]
ReviewStatus = Literal["approved", "requested-changes", "commented", "rejected"]
SeriesRole = Literal["guide", "chapter", "companion", "appendix"]

# Integers land in INTEGER columns, 32-bit on PostgreSQL: the schema's open-ended integers stop there.
INT32_MAX = 2**31 - 1

CONFIDENCE_RANK: dict[str, int] = {"low": 0, "medium": 1, "medium-high": 2, "high": 3}


def _real_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a real calendar date (expected YYYY-MM-DD)") from None
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an absolute http:// or https:// URL")
    return value


def _servable(limit: int, what: str) -> AfterValidator:
    """A length check whose message says why: longer values are ones the API's routes refuse (app.content.limits)."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long; {what} has at most {limit}, the most the API can serve")
        return value

    return AfterValidator(check)


def _not_boolean(value: Any) -> Any:
    """``True == 1`` lets ``Literal[1]`` take ``true`` even in strict mode; JSON Schema's ``const`` does not."""
    if isinstance(value, bool):
        raise ValueError("must be the integer 1, not true or false")
    return value


#: The front matters' ``schemaVersion``.
VersionOne = Annotated[Literal[1], BeforeValidator(_not_boolean)]
IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_real_date)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$"), _servable(MAX_SLUG, "a slug")]
ArticleId = Annotated[
    str, StringConstraints(pattern=r"^article:[a-z0-9-]+$"), _servable(MAX_SLUG + len("article:"), "an article id")
]
SourceId = Annotated[str, StringConstraints(pattern=r"^source-[a-z0-9-]+$"), _servable(MAX_SOURCE_ID, "a source id")]
SourceRepoPath = Annotated[str, StringConstraints(pattern=r"^content/articles/\d{4}/[a-z0-9-]+/article\.md$")]
BriefRepoPath = Annotated[str, StringConstraints(pattern=r"^content/articles/\d{4}/[a-z0-9-]+/agent\.md$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[a-f0-9]{64}$")]
PrefixedSha256 = Annotated[str, StringConstraints(pattern=r"^sha256:[a-f0-9]{64}$")]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Open(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ArticleFrontMatter(_Open):
    """article.md front matter (article.schema.json)."""

    schemaVersion: VersionOne
    id: ArticleId
    slug: Slug
    title: Annotated[str, StringConstraints(min_length=8)]
    dek: Annotated[str, StringConstraints(min_length=16, max_length=220)]
    date: IsoDate
    updated: IsoDate
    status: Status
    maturity: Maturity
    topic: Slug
    tags: Annotated[list[Slug], Field(min_length=1)]
    summary: Annotated[str, StringConstraints(min_length=40, max_length=280)]
    readingTime: Annotated[str, StringConstraints(pattern=r"^[0-9]+ min$")]
    agentArtifact: Annotated[str, StringConstraints(pattern=r"^/agents/articles/[a-z0-9-]+\.json$")]
    sourcePath: SourceRepoPath


class BriefFrontMatter(_Open):
    """agent.md front matter (agent.schema.json)."""

    schemaVersion: VersionOne
    id: Annotated[
        str, StringConstraints(pattern=r"^agent-brief:[a-z0-9-]+$"), _servable(MAX_SLUG + len("agent-brief:"), "an id")
    ]
    articleId: ArticleId
    slug: Slug
    title: Annotated[str, StringConstraints(min_length=8)]
    tokenBudget: Annotated[int, Field(ge=100, le=INT32_MAX)]
    status: Status
    updated: IsoDate


class Series(_Closed):
    slug: Slug
    title: Annotated[str, StringConstraints(min_length=8)]
    season: Annotated[str, StringConstraints(min_length=3, max_length=80)] | None = None
    order: Annotated[int, Field(ge=0, le=INT32_MAX)]
    role: SeriesRole
    arc: Slug | None = None


class Verification(_Open):
    reviewedAt: IsoDate
    reviewer: str
    status: VerificationStatus


class Evidence(_Open):
    sourceId: SourceId
    snippet: Annotated[str, StringConstraints(min_length=12)]
    supports: Supports
    location: str | None = None
    assessedAt: IsoDate | None = None
    notes: str | None = None


class Counterevidence(_Open):
    summary: Annotated[str, StringConstraints(min_length=12)]
    sourceId: SourceId | None = None
    snippet: str | None = None
    assessedAt: IsoDate | None = None
    notes: str | None = None


class Claim(_Open):
    id: Annotated[str, StringConstraints(pattern=r"^claim-[0-9]{3}$")]
    claim: Annotated[str, StringConstraints(min_length=24)]
    confidence: Confidence
    status: ClaimKind
    verification: Verification | None = None
    evidence: list[Evidence]
    counterevidence: list[Counterevidence]


class Source(_Open):
    id: SourceId
    title: Annotated[str, StringConstraints(min_length=4)]
    url: HttpUrl
    type: str
    accessed: IsoDate


class Related(_Closed):
    type: Slug
    id: Annotated[str, StringConstraints(pattern=r"^((article|topic):[a-z0-9-]+|claim-[0-9]{3}|source-[a-z0-9-]+)$")]


class Disclosure(_Open):
    aiAssistance: bool
    note: Annotated[str, StringConstraints(min_length=12)]


class AcceptedDiagnostic(_Open):
    rule: str
    rationale: str
    documentedAt: IsoDate
    scope: str | list[str] | None = None


class Diagnostics(_Open):
    accepted: list[AcceptedDiagnostic] = []


class AgentRecord(_Open):
    role: str
    model: str
    invokedAt: IsoDate
    inputHash: PrefixedSha256
    outputHash: PrefixedSha256


class Review(_Open):
    reviewer: str
    reviewedAt: IsoDate
    status: ReviewStatus
    scope: list[str]
    notes: str
    contentHash: Sha256Hex | None = None


class Policy(_Open):
    id: Annotated[str, StringConstraints(pattern=r"^policy:[a-z0-9-]+$")]
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]


class Provenance(_Open):
    createdAt: IsoDate
    createdBy: str
    agents: list[AgentRecord]
    reviews: list[Review]
    policy: Policy


class Artifact(_Open):
    """artifact.json, schemaVersion 3 (artifact.schema.json)."""

    schemaVersion: Literal[3]
    id: ArticleId
    slug: Slug
    title: Annotated[str, StringConstraints(min_length=8)]
    canonicalPath: Annotated[str, StringConstraints(pattern=r"^/articles/[a-z0-9-]+/$")]
    sourcePath: SourceRepoPath
    agentBriefPath: BriefRepoPath
    thesis: Annotated[str, StringConstraints(min_length=80)]
    status: Status
    maturity: Maturity
    publishedAt: IsoDate
    updatedAt: IsoDate
    audiences: Annotated[list[str], Field(min_length=1)]
    topics: Annotated[list[Slug], Field(min_length=1)]
    series: Series | None = None
    claims: Annotated[list[Claim], Field(min_length=1)]
    sources: Annotated[list[Source], Field(min_length=1)]
    related: list[Related]
    agentInstructions: list[str]
    disclosure: Disclosure | None = None
    diagnostics: Diagnostics | None = None
    provenance: Provenance
    contentHash: Sha256Hex


SCHEMA_VERSION_HISTORY = (
    "garden-api reads artifact schemaVersion 3 only. Version 1 had evidence as plain source-id strings, "
    "counterevidence as plain strings and humanReview instead of provenance; version 2 made evidence and "
    "counterevidence objects but still used humanReview. Upgrade the file to version 3 "
    "(evidence objects with snippet and supports, verification per claim, provenance) and ingest it again."
)


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    """``('claims', 2, 'confidence')`` → ``claims[2].confidence``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(document)"


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validation_errors(exc: ValidationError, file: str, prefix: str = "") -> list[ContentError]:
    """Every problem in a ValidationError as a ContentError naming the file and the field path."""
    errors: list[ContentError] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            message = "unexpected key: this object allows no keys beyond those the schema names"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message = f"{message}; got {_describe(error.get('input'))}"
        errors.append(ContentError(file, field_path(loc, prefix), message))
    return errors


def validate(model: type[BaseModel], data: Any, file: str, prefix: str = "") -> tuple[Any, list[ContentError]]:
    """Validate ``data`` against ``model``: (instance, []) or (None, the errors)."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_errors(exc, file, prefix)
