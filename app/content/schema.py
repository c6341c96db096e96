"""The publisher's input schemas (``../shared/schemas``) as Pydantic models, plus readable error messages.

Strict mode mirrors JSON Schema typing: no string is coerced to a number or the reverse. Unknown keys
are allowed wherever the publisher allows them (everywhere except inside ``series`` and ``related[]``);
the models only validate, and the original data, key order included, is what gets stored and served.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.content.errors import ContentError

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


def _pattern(regex: str, min_length: int | None = None) -> Any:
    return Annotated[str, StringConstraints(pattern=regex, min_length=min_length)]


def _text(min_length: int, max_length: int | None = None) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length)]


IsoDate = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_real_date)]
Slug = _pattern(r"^[a-z0-9-]+$")
ArticleId = _pattern(r"^article:[a-z0-9-]+$")
SourceId = _pattern(r"^source-[a-z0-9-]+$")
SourceRepoPath = _pattern(r"^content/articles/\d{4}/[a-z0-9-]+/article\.md$")
BriefRepoPath = _pattern(r"^content/articles/\d{4}/[a-z0-9-]+/agent\.md$")
Sha256Hex = _pattern(r"^[a-f0-9]{64}$")
PrefixedSha256 = _pattern(r"^sha256:[a-f0-9]{64}$")
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Open(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ArticleFrontMatter(_Open):
    """article.md front matter (article.schema.json)."""

    schemaVersion: Literal[1]
    id: ArticleId
    slug: Slug
    title: _text(8)  # type: ignore[valid-type]
    dek: _text(16, 220)  # type: ignore[valid-type]
    date: IsoDate
    updated: IsoDate
    status: Status
    maturity: Maturity
    topic: Slug
    tags: Annotated[list[Slug], Field(min_length=1)]
    summary: _text(40, 280)  # type: ignore[valid-type]
    readingTime: _pattern(r"^[0-9]+ min$")  # type: ignore[valid-type]
    agentArtifact: _pattern(r"^/agents/articles/[a-z0-9-]+\.json$")  # type: ignore[valid-type]
    sourcePath: SourceRepoPath


class BriefFrontMatter(_Open):
    """agent.md front matter (agent.schema.json)."""

    schemaVersion: Literal[1]
    id: _pattern(r"^agent-brief:[a-z0-9-]+$")  # type: ignore[valid-type]
    articleId: ArticleId
    slug: Slug
    title: _text(8)  # type: ignore[valid-type]
    tokenBudget: Annotated[int, Field(ge=100)]
    status: Status
    updated: IsoDate


class Series(_Closed):
    slug: Slug
    title: _text(8)  # type: ignore[valid-type]
    season: _text(3, 80) | None = None  # type: ignore[valid-type]
    order: Annotated[int, Field(ge=0)]
    role: SeriesRole
    arc: Slug | None = None


class Verification(_Open):
    reviewedAt: IsoDate
    reviewer: str
    status: VerificationStatus


class Evidence(_Open):
    sourceId: SourceId
    snippet: _text(12)  # type: ignore[valid-type]
    supports: Supports
    location: str | None = None
    assessedAt: IsoDate | None = None
    notes: str | None = None


class Counterevidence(_Open):
    summary: _text(12)  # type: ignore[valid-type]
    sourceId: SourceId | None = None
    snippet: str | None = None
    assessedAt: IsoDate | None = None
    notes: str | None = None


class Claim(_Open):
    id: _pattern(r"^claim-[0-9]{3}$")  # type: ignore[valid-type]
    claim: _text(24)  # type: ignore[valid-type]
    confidence: Confidence
    status: ClaimKind
    verification: Verification | None = None
    evidence: list[Evidence]
    counterevidence: list[Counterevidence]


class Source(_Open):
    id: SourceId
    title: _text(4)  # type: ignore[valid-type]
    url: HttpUrl
    type: str
    accessed: IsoDate


class Related(_Closed):
    type: Slug
    id: _pattern(r"^((article|topic):[a-z0-9-]+|claim-[0-9]{3}|source-[a-z0-9-]+)$")  # type: ignore[valid-type]


class Disclosure(_Open):
    aiAssistance: bool
    note: _text(12)  # type: ignore[valid-type]


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
    id: _pattern(r"^policy:[a-z0-9-]+$")  # type: ignore[valid-type]
    version: _pattern(r"^\d+\.\d+\.\d+$")  # type: ignore[valid-type]


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
    title: _text(8)  # type: ignore[valid-type]
    canonicalPath: _pattern(r"^/articles/[a-z0-9-]+/$")  # type: ignore[valid-type]
    sourcePath: SourceRepoPath
    agentBriefPath: BriefRepoPath
    thesis: _text(80)  # type: ignore[valid-type]
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
