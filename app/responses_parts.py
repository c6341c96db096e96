"""The pieces the response bodies are made of: named enums and the embedded objects (evidence, counterevidence,
series references, facets, diagnostics, brief sections, related links), for app.responses.

Decided where the issue is silent, for the sake of generated clients:

* **Enums are named schemas** (``Confidence``, ``ClaimState``, ...): a generator makes one enum type of each and
  reuses it wherever the value appears, instead of one anonymous enum per property. They list exactly the values
  ingest accepts (app.content.schema) or the code computes (the claim state), so no body ever fails them.
* **Nullable means present and maybe null** (``anyOf: [T, null]``, a required key); **optional means the key may
  be absent** (not required, and never null unless the key is both). A generated client then says
  ``Union[None, str]`` or ``Union[Unset, str]`` as the body really is.
* **Objects stay open** (``additionalProperties`` allowed): a packet the publisher extends still validates, and
  generated clients keep the unknown keys (``additional_properties``) rather than failing.
* **Examples are kept** on every model (``examples``), as the documentation shows them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from app.content import schema as content
from app.queries.params import State


class Body(BaseModel):
    """An open object (unknown keys allowed, see the module's docstring)."""

    model_config = ConfigDict(extra="allow")


def example(**example: Any) -> ConfigDict:
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


def make_partial(model: type[BaseModel]) -> None:
    """Make every field of ``model`` optional (the key may be absent), keeping its type: a list item under
    ``fields=`` carries only the fields asked for. No ``default`` is written into the schema (a generator would
    read ``default: null`` on a string as a contradiction)."""
    for field in model.__pydantic_fields__.values():
        if field.is_required():
            field.default = None
    model.model_rebuild(force=True)


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


def partial_config(base: type[BaseModel]) -> ConfigDict:
    examples = (base.model_config.get("json_schema_extra") or {}).get("examples", [])  # type: ignore[union-attr]

    def extra(schema: dict[str, Any]) -> None:
        _no_null_defaults(schema)
        schema["examples"] = examples

    return ConfigDict(extra="allow", json_schema_extra=extra)


class Confidence(StrEnum):
    """A claim's confidence: low < medium < medium-high < high."""

    LOW = "low"
    MEDIUM = "medium"
    MEDIUM_HIGH = "medium-high"
    HIGH = "high"


class ClaimKind(StrEnum):
    """The claim kind (the artifact's claim `status`)."""

    CORE = "core"
    LANDSCAPE = "landscape"
    FORECAST = "forecast"
    PROPOSAL = "proposal"
    NORMATIVE = "normative"
    RISK = "risk"
    ARGUMENT = "argument"
    DESIGN = "design"
    STRATEGY = "strategy"
    FRAMING = "framing"
    BEHAVIORAL = "behavioral"


class VerificationStatus(StrEnum):
    """The claim's verification status (a claim with none counts as draft)."""

    DRAFT = "draft"
    VERIFIED = "verified"
    CONTESTED = "contested"
    STALE = "stale"


class ClaimState(StrEnum):
    """The claim state computed from verification, evidence, counterevidence and source dates."""

    VERIFIED = "verified"
    CONTESTED = "contested"
    STALE = "stale"
    NEEDS_EVIDENCE = "needs-evidence"
    MISSING_COUNTEREVIDENCE = "missing-counterevidence"
    DRAFT = "draft"


class Supports(StrEnum):
    """How a piece of evidence supports its claim."""

    DIRECT = "direct"
    INDIRECT = "indirect"
    ANALOGOUS = "analogous"
    BACKGROUND = "background"


class ArticleStatus(StrEnum):
    """The article's publication status."""

    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Maturity(StrEnum):
    """The article's maturity."""

    SEED = "seed"
    SPROUT = "sprout"
    EVERGREEN = "evergreen"
    CONTESTED = "contested"
    SUPERSEDED = "superseded"


class SeriesRole(StrEnum):
    """An article's role in its series."""

    GUIDE = "guide"
    CHAPTER = "chapter"
    COMPANION = "companion"
    APPENDIX = "appendix"


class TotalRelation(StrEnum):
    """Whether a list's `total` is exact (eq) or a floor (gte)."""

    EQ = "eq"
    GTE = "gte"


#: Each enum and the ``Literal`` it names (checked below: a value added there must be added here).
_SOURCES = ((Confidence, content.Confidence), (ClaimKind, content.ClaimKind), (Supports, content.Supports),
            (VerificationStatus, content.VerificationStatus), (ClaimState, State), (ArticleStatus, content.Status),
            (Maturity, content.Maturity), (SeriesRole, content.SeriesRole))  # fmt: skip
for _enum, _literal in _SOURCES:
    if [member.value for member in _enum] != list(get_args(_literal)):
        raise RuntimeError(f"{_enum.__name__} no longer lists the values of its Literal")


class SeriesRef(Body):
    """The artifact's series object."""

    model_config = example(slug="soil-from-the-ground-up", title="Soil from the Ground Up", season="Season 1",
                           order=3, role="chapter")  # fmt: skip

    slug: str
    title: str
    season: str | None = None
    order: int
    role: SeriesRole
    arc: str | None = None


class SourceRef(Body):
    """A cited source as an evidence packet resolves it within its article."""

    title: str
    url: str
    type: str
    accessed: str


class ArtifactEvidence(Body):
    """An evidence packet as the artifact gives it."""

    sourceId: str
    snippet: str
    supports: Supports
    location: str | None = Field(None, description="Where in the source, when the artifact says.")
    assessedAt: str | None = Field(None, description="When the evidence was assessed, when the artifact says.")
    notes: str | None = None


class EvidencePacket(ArtifactEvidence):
    """An evidence packet with its source resolved within the article."""

    model_config = example(sourceId="source-cornell-composting", snippet="A C:N ratio near 30:1 heats fastest.",
                           supports="direct", assessedAt="2026-09-01",
                           source={"title": "Cornell Composting", "url": "https://compost.css.cornell.edu/",
                                   "type": "extension-guide", "accessed": "2026-03-30"})  # fmt: skip

    source: SourceRef | None = Field(description="The cited source, or null when the article does not list it.")


class Counterevidence(Body):
    """A piece of counterevidence, as the artifact gives it."""

    model_config = example(summary="Cold piles also finish, only slower.", assessedAt="2026-09-01")

    summary: str
    sourceId: str | None = None
    snippet: str | None = None
    assessedAt: str | None = None
    notes: str | None = None


class ClaimSource(Body):
    """A source cited by a claim's evidence (``include=sources``)."""

    sourceId: str
    title: str
    url: str
    type: str
    accessed: str


class Verification(Body):
    """A claim's verification record."""

    model_config = example(status="verified", reviewer="human", reviewedAt="2026-09-14")

    status: VerificationStatus
    reviewer: str
    reviewedAt: str


class Diagnostic(Body):
    """A finding of the publisher's checks about the claim (app.derive)."""

    model_config = example(rule="stale-source", severity="warning", message="source-x was accessed 400 days ago.",
                           origin="derived")  # fmt: skip

    rule: str
    severity: str
    message: str
    origin: str


class ArticleRef(Body):
    """The article a claim belongs to."""

    id: str
    slug: str
    title: str
    summary: str | None
    thesis: str
    articleUrl: str


class BriefSection(Body):
    """A section of the brief, cut at its ``## `` headings (text before the first is ``(preamble)``)."""

    heading: str
    markdown: str


class BriefClaim(Body):
    """A claim line of the brief."""

    id: str
    claim: str


class ConfidenceFacet(Body):
    confidence: Confidence
    count: int


class StateFacet(Body):
    state: ClaimState
    count: int


class TopicFacet(Body):
    topic: str
    count: int


class SeriesFacet(Body):
    series: str
    count: int


class Facets(Body):
    """The best (at most 500) claim hits counted by confidence, state, topic and series, most first."""

    confidence: list[ConfidenceFacet]
    state: list[StateFacet]
    topic: list[TopicFacet]
    series: list[SeriesFacet]


class TopicRef(Body):
    """A related topic."""

    topic: str
    label: str
    apiUrl: str = Field(description="This topic on this API (/topics/{topic}).")


class SeriesNeighbour(Body):
    """The member before or after an article in its series."""

    slug: str
    title: str
    order: int
    role: SeriesRole
    apiUrl: str


class SeriesNavigation(Body):
    """Where an article stands in its series."""

    series: str
    order: int
    position: int = Field(description="1-based place among the members the caller can see.")
    total: int
    previous: SeriesNeighbour | None
    next: SeriesNeighbour | None


class SectionRef(Body):
    """A heading of the article body (sectionOutline)."""

    id: str
    title: str


class ArtifactClaim(Body):
    """A claim as the artifact gives it."""

    id: str
    claim: str
    confidence: Confidence
    status: ClaimKind
    verification: Verification | None = None
    evidence: list[ArtifactEvidence]
    counterevidence: list[Counterevidence]


class ArtifactSource(Body):
    """A source as the artifact gives it."""

    id: str
    title: str
    url: str
    type: str
    accessed: str
