"""Response bodies of a claim's history (``/claims/{id}/history``) and of a claim at a version
(``/claims/{id}?version=N``), in the style of app.responses (app.queries.history builds them and says what they
hold; the tests validate real responses against these models)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.responses import EXAMPLE_SLUG, NEXT_CURSOR, NEXT_URL, RELATION, TOTAL
from app.responses_parts import (
    Body,
    ClaimKind,
    ClaimState,
    Confidence,
    Counterevidence,
    Diagnostic,
    EvidencePacket,
    SeriesRef,
    TotalRelation,
    Verification,
    VerificationStatus,
    example,
    make_partial,
    partial_config,
)

CLAIM_ID = f"article:{EXAMPLE_SLUG}:claim-002"
FORM_VERSION = "The corpus version from which the claim had this form (the version of the change that gave it)."
OR_EARLIER = (
    "True when the form is known only as of `version` or earlier: the change log starts there (the first ingest "
    "records nothing, and GARDEN_CHANGE_RETENTION trims the log)."
)
CHANGED_AT = "When the ingest that gave this form committed (ISO 8601, UTC); null when the log does not say."
ITEM = {"version": 42, "changedAt": "2026-12-01T09:30:00.123456Z", "orEarlier": False, "action": "updated",
        "fields": ["confidence"], "claim": "Hot composting kills most weed seeds.", "confidence": "high",
        "status": "core", "verificationStatus": "verified", "evidenceCount": 2, "counterevidenceCount": 1}  # fmt: skip


class HistoryItem(Body):
    """One form of a claim: the values it took at `version` and kept until the next item's version."""

    model_config = example(**ITEM)

    version: int = Field(description=FORM_VERSION)
    changedAt: str | None = Field(description=CHANGED_AT)
    orEarlier: bool = Field(description=OR_EARLIER)
    action: Literal["added", "updated", "removed"] | None = Field(
        description="What the change did, as this caller sees it (a draft published is `added` for anonymous callers, "
        "an article sent back to draft `removed`); null for the first form the log knows."
    )
    fields: list[str] = Field(description="What changed from the previous form (updates only).")
    claim: str | None = Field(description="The claim's text in this form; null once removed.")
    confidence: Confidence | None
    status: ClaimKind | None = Field(description="The claim kind.")
    verificationStatus: VerificationStatus | None
    evidenceCount: int | None = Field(description="Evidence packets; null when removed, or not recorded then.")
    counterevidenceCount: int | None = Field(description="Counterevidence; null when removed, or not recorded then.")


class HistoryListItem(HistoryItem):
    """A form in a history: every HistoryItem field, or those that `fields=` names (so none is required)."""

    model_config = partial_config(HistoryItem)


make_partial(HistoryListItem)


class ClaimHistory(Body):
    """A claim's forms, oldest first; each item's `version` can be passed to /claims/{claim_id}?version= for the
    whole claim as it was. `next` (a URL) and `nextCursor` lead to the following page."""

    model_config = example(items=[ITEM], total=3, totalRelation="eq", next=None, nextCursor=None)

    items: list[HistoryListItem]
    total: int = Field(description=TOTAL)
    totalRelation: TotalRelation = Field(description=RELATION)
    next: str | None = Field(description=NEXT_URL)
    nextCursor: str | None = Field(description=NEXT_CURSOR)


class ArticleAtVersion(Body):
    """The claim's article as it was at the version (null where the change log cannot say)."""

    id: str
    slug: str
    title: str | None
    summary: str | None
    thesis: str | None
    articleUrl: str | None = Field(description="Today's URL of the article; null once it is gone.")


class ClaimVersion(Body):
    """A claim as it was at a corpus version (a stable citation): the fields of ClaimDetail that the change log
    records, with the same names; not asOf, state, verification, diagnostics, topics or series."""

    model_config = example(
        articleId=f"article:{EXAMPLE_SLUG}", slug=EXAMPLE_SLUG, claimId=CLAIM_ID, localClaimId="claim-002",
        claim="Hot composting kills most weed seeds.", confidence="medium-high", status="core",
        verificationStatus="verified", evidenceCount=1, counterevidenceCount=0,
        evidence=[{"sourceId": "source-cornell-composting", "snippet": "Sustained 55 °C kills weed seeds.",
                   "supports": "direct", "source": None}], counterevidence=[],
        articleUrl=f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/",
        citationUrl=f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/#claim-002",
        article={"id": f"article:{EXAMPLE_SLUG}", "slug": EXAMPLE_SLUG, "title": "Composting Without the Guesswork",
                 "summary": None, "thesis": "Balance carbon and nitrogen.",
                 "articleUrl": f"https://aura-knowledge.github.io/articles/{EXAMPLE_SLUG}/"},
        version=41, formVersion=40, orEarlier=False, changedAt="2026-11-30T18:02:11.5Z",
    )  # fmt: skip

    articleId: str
    slug: str
    claimId: str
    localClaimId: str
    claim: str
    confidence: Confidence
    status: ClaimKind
    verificationStatus: VerificationStatus
    evidenceCount: int | None = Field(description="null when the log did not record the evidence then.")
    counterevidenceCount: int | None = Field(description="null when the log did not record it then.")
    evidence: list[EvidencePacket] | None = Field(
        description="The evidence then, each source resolved as the article listed it then; null if not recorded."
    )
    counterevidence: list[Counterevidence] | None = Field(description="The counterevidence then; null if not recorded.")
    articleUrl: str | None = Field(description="Today's URL of the article; null once the article is gone.")
    citationUrl: str | None = Field(description="articleUrl#claim-NNN; null once the article is gone.")
    article: ArticleAtVersion
    version: int = Field(description="The corpus version asked for.")
    formVersion: int = Field(description=FORM_VERSION)
    orEarlier: bool = Field(description=OR_EARLIER)
    changedAt: str | None = Field(description=CHANGED_AT)


class HistoryStep(Body):
    """A version of a claim in get_claim's history: a HistoryItem's version, action and fields."""

    version: int
    action: Literal["added", "updated", "removed"] | None
    fields: list[str]


class ToolClaimDetail(Body):
    """The MCP tool get_claim's result: ClaimDetail (today), or with `version` ClaimVersion (the claim then), and the
    claim's latest versions (`history`, oldest first: get_claim with one of them gives its values), and the corpus
    version read (`corpusVersion`: cite the claim with it). One model for both, so that the tool lists one output
    schema: what both have is required, the rest optional."""

    articleId: str
    slug: str
    claimId: str
    localClaimId: str
    claim: str
    confidence: Confidence
    status: ClaimKind
    verificationStatus: VerificationStatus
    evidenceCount: int | None
    counterevidenceCount: int | None
    evidence: list[EvidencePacket] | None
    counterevidence: list[Counterevidence] | None
    articleUrl: str | None
    citationUrl: str | None
    article: ArticleAtVersion
    # ClaimDetail's only (absent with a version):
    asOf: str | None = None
    state: ClaimState = None  # type: ignore[assignment]
    topics: list[str] = None  # type: ignore[assignment]
    series: SeriesRef | None = None
    verification: Verification | None = None
    diagnostics: list[Diagnostic] = None  # type: ignore[assignment]
    # ClaimVersion's only (absent without a version):
    formVersion: int = None  # type: ignore[assignment]
    orEarlier: bool = None  # type: ignore[assignment]
    # Both (changedAt, with a version, is left undeclared to keep tools/list under 12 KB):
    corpusVersion: int = None  # type: ignore[assignment]
    history: list[HistoryStep] = Field(description="The claim's latest 50 versions, oldest first.")
