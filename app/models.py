"""The tables, one SQLModel class each, normalised so that every API filter is an indexed query.

An article owns every other row (claims, evidence, sources, topics, …) and each child carries
``article_id``, so replacing an article is a delete by that key followed by inserts. Surrogate integer keys
are assigned by ingest inside its transaction. Source rows are keyed on (article, sourceId) because source
ids are only article-scoped (DATA-CONTRACT §6). There is deliberately no unique (series, order): archived
members collide with published ones (§3).

The raw files live apart in ``article_document`` so that list queries never page through them; keys the
publisher's schema does not name (kept and served back in their original order, §0) are read from there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription  # noqa: F401 (registered here)

#: Series members first, standalone articles after them: the first key of ``sort=series``.
SERIES_RANK = "CASE WHEN series_slug IS NULL THEN 1 ELSE 0 END"
#: The same expression as Alembic reads it back from PostgreSQL, for the index on it: Alembic's drift
#: check compares index expressions as text, ignoring spaces but not line breaks. SQLite reads it as well.
SERIES_RANK_INDEX = "(\nCASE\n    WHEN series_slug IS NULL THEN 1\n    ELSE 0\nEND)"


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for bulk statements where the ORM would cost a factor."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


def _article_fk(primary_key: bool = False, index: bool = True) -> Any:
    """The owning article; ``index=False`` where a composite index (article_id, position) serves instead."""
    return Field(
        sa_column=Column(
            Integer,
            ForeignKey("article.id", ondelete="CASCADE"),
            primary_key=primary_key,
            nullable=False,
            index=index and not primary_key,
        ),
    )


class Corpus(SQLModel, table=True):
    """One row: the version of the stored corpus, bumped by every ingest that changes anything."""

    __tablename__ = "corpus"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(description="Increases by one with every ingest that changes the stored corpus.")
    derivation: int = Field(description="The derivation rules' version the stored rows were computed with.")
    ingested_at: dt.datetime = Field(description="When the last changing ingest committed (UTC).")
    changes_from: int | None = Field(
        default=None, description="The oldest `since` the change log answers (app.ingest.changes); None: the version"
    )


class Article(SQLModel, table=True):
    """An article: front matter (source layout), artifact fields, series membership and derived values."""

    __tablename__ = "article"
    __table_args__ = (
        # Each list order walks an index and stops at the page's end: no sort of the whole filtered set.
        Index("ix_article_public_published", "is_public", "published_at", "slug"),
        Index("ix_article_public_updated", "is_public", "updated_at", "slug"),
        Index("ix_article_public_dir", "is_public", "dir_key"),
        Index("ix_article_series", "series_slug", "series_order"),
        # sort=title and sort=series: the keyset expressions of app.queries.articles.SORTS, exactly (constants
        # as literals, not parameters), so that both databases match them to these indexes.
        Index("ix_article_public_title", "is_public", text("lower(title)"), "slug"),
        Index(
            "ix_article_public_series",
            "is_public",
            text(SERIES_RANK_INDEX),
            text("coalesce(series_slug, '')"),
            text("coalesce(series_order, 0)"),
            "slug",
        ),
    )

    id: int = Field(primary_key=True)
    slug: str = Field(unique=True)
    dir_key: str = Field(unique=True, description="year/slug: the publisher's dir order")
    year: str
    layout: str = Field(description="source or packet")
    fingerprint: str = Field(description="sha256 over the input files; unchanged input is skipped")
    file_stat: str | None = Field(
        default=None, description="the input files' stat signature when read (None: too recent to trust)"
    )
    title: str
    dek: str | None = None
    summary: str | None = None
    reading_time: str | None = None
    date: str | None = Field(default=None, description="front matter date")
    updated: str | None = Field(default=None, description="front matter updated")
    fm_status: str
    status: str = Field(index=True, description="artifact status")
    is_public: bool = Field(description="published in front matter and artifact (P)")
    maturity: str = Field(index=True)
    topic: str | None = Field(default=None, description="front matter primary topic")
    published_at: str
    updated_at: str
    thesis: str
    canonical_path: str
    content_hash: str
    token_estimate: int
    token_budget: int | None = None
    brief_updated: str | None = None
    section_outline: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    series_slug: str | None = None
    series_title: str | None = None
    series_season: str | None = None
    series_order: int | None = None
    series_role: str | None = None
    series_arc: str | None = None
    claim_count: int
    source_count: int
    trusted: bool = Field(description="latest human approval carries the current contentHash")
    ingested_at: dt.datetime


class ArticleDocument(SQLModel, table=True):
    """The input files as they were read, so that nothing is lost: artifact/packet JSON keeps its key order."""

    __tablename__ = "article_document"

    article_id: int = _article_fk(primary_key=True)
    artifact_json: str = Field(sa_column=Column(Text, nullable=False))
    article_md: str | None = Field(default=None, sa_column=Column(Text))
    agent_md: str | None = Field(default=None, sa_column=Column(Text))
    front_matter: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    brief_front_matter: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ArticleKeyword(SQLModel, table=True):
    """The text the keyword filter searches (DATA-CONTRACT §2.8), lowercased; apart so lists never read it."""

    __tablename__ = "article_keyword"

    article_id: int = _article_fk(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))


class ArticleTopic(SQLModel, table=True):
    """artifact.topics in order; a topic repeated in one article is kept (the index repeats it too)."""

    __tablename__ = "article_topic"
    __table_args__ = (Index("ix_article_topic_topic", "topic", "article_id"),)

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    topic: str


class ArticleTag(SQLModel, table=True):
    __tablename__ = "article_tag"
    __table_args__ = (Index("ix_article_tag_tag", "tag", "article_id"),)

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    tag: str


class ArticleAudience(SQLModel, table=True):
    __tablename__ = "article_audience"
    __table_args__ = (Index("ix_article_audience_audience", "audience", "article_id"),)

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    audience: str


class RelatedLink(SQLModel, table=True):
    """artifact.related: ``type`` is the target kind (article, topic, …), taken verbatim."""

    __tablename__ = "related_link"
    __table_args__ = (Index("ix_related_link_target", "target", "article_id"),)

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    type: str
    target: str


class Claim(SQLModel, table=True):
    """A claim with its global id ``article:<slug>:claim-NNN`` and its stored state (see app.derive)."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_article_position", "article_id", "position"),  # feed order within an article
        Index("ix_claim_public_feed", "is_public", "dir_key", "position"),  # the feed order, on the claim itself
        Index("ix_claim_counterevidence", "counterevidence_count"),  # has_counterevidence=false can be rare
        Index("ix_claim_confidence", "confidence_rank", "article_id"),
        Index("ix_claim_state", "state_base", "stale_from"),
    )

    id: int = Field(primary_key=True)
    article_id: int = _article_fk(index=False)
    position: int
    is_public: bool = Field(description="the article's is_public, copied so /claims walks its order in one index")
    dir_key: str = Field(description="the article's dir_key (feed order: dir_key, then position)")
    local_id: str
    claim_id: str = Field(unique=True)
    text: str
    confidence: str
    confidence_rank: int = Field(description="low 0 < medium 1 < medium-high 2 < high 3")
    kind: str = Field(index=True, description="the claim's status field: core, argument, …")
    verification_status: str | None = Field(default=None, index=True)
    verification_reviewer: str | None = None
    verification_reviewed_at: str | None = None
    state_base: str = Field(description="§2.7 state, except the date-bound stale-source rule")
    stale_from: str | None = Field(default=None, description="the state is 'stale' from this date on")
    evidence_count: int
    counterevidence_count: int
    as_of: str | None = Field(default=None, description="max evidence assessedAt")


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_source", "source_id", "claim_id"),)

    id: int = Field(primary_key=True)
    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    article_id: int = _article_fk()
    position: int
    source_id: str
    snippet: str
    supports: str = Field(index=True)
    location: str | None = None
    assessed_at: str | None = None
    notes: str | None = None


class Counterevidence(SQLModel, table=True):
    __tablename__ = "counterevidence"

    id: int = Field(primary_key=True)
    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    article_id: int = _article_fk()
    position: int
    summary: str
    source_id: str | None = None
    snippet: str | None = None
    assessed_at: str | None = None
    notes: str | None = None


class Source(SQLModel, table=True):
    """A source as one article lists it; the same sourceId may name other documents in other articles."""

    __tablename__ = "source"
    __table_args__ = (
        UniqueConstraint("article_id", "source_id"),
        Index("ix_source_article_position", "article_id", "position"),
        Index("ix_source_public_feed", "is_public", "dir_key", "position"),
        Index("ix_source_cited_by", "cited_by"),  # cited=false can be rare
        Index("ix_source_source_id", "source_id"),
        Index("ix_source_type", "type"),
        Index("ix_source_url", "url"),
    )

    id: int = Field(primary_key=True)
    article_id: int = _article_fk(index=False)
    position: int
    is_public: bool = Field(description="the article's is_public, copied so /sources walks its order in one index")
    dir_key: str = Field(description="the article's dir_key (feed order: dir_key, then position)")
    source_id: str
    title: str
    url: str
    type: str
    accessed: str
    cited_by: int = Field(description="how many of the article's claims cite it as evidence")


class ListCount(SQLModel, table=True):
    """How many public rows each list holds in all and under one filter value, written by every ingest.

    ``kind`` is ``articles``, ``claims`` or ``sources``; ``field`` a filter of that list (``""`` with value
    ``""``: the whole list); ``value`` one value of it (app.listcounts says how each is counted). Only values
    held by at least ``app.listcounts.MIN_ROWS`` rows are kept, so the table stays small however many urls or
    tags a corpus has: a value that is absent is known to be rare. The list queries read it for exact totals
    and for the estimates that choose their plans (app.queries.plan).
    """

    __tablename__ = "list_count"

    kind: str = Field(primary_key=True)
    field: str = Field(primary_key=True)
    value: str = Field(primary_key=True)
    rows: int


class ProvenanceReview(SQLModel, table=True):
    __tablename__ = "provenance_review"

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    reviewer: str
    reviewed_at: str
    status: str
    content_hash: str | None = None


class ProvenanceAgent(SQLModel, table=True):
    __tablename__ = "provenance_agent"

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    role: str
    model: str
    invoked_at: str
    input_hash: str
    output_hash: str


class GraphEdge(SQLModel, table=True):
    """An edge of the publisher's graph (DATA-CONTRACT §2.4) contributed by one article, in processing order.

    ``sort_key`` is the localeCompare order of ``from:type:to`` as bytes (app.agent.collation), so the edges
    feed can stream in the publisher's order straight from an index.
    """

    __tablename__ = "graph_edge"
    __table_args__ = (Index("ix_graph_edge_sort_key", "sort_key"),)

    article_id: int = _article_fk(primary_key=True)
    position: int = Field(primary_key=True)
    source: str = Field(description="the edge's from")
    type: str
    target: str = Field(description="the edge's to")
    reviewed_at: str
    sort_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Diagnostic(SQLModel, table=True):
    """A finding (app.derive.Finding) in the publisher's order for its article."""

    __tablename__ = "diagnostic"
    __table_args__ = (Index("ix_diagnostic_rule", "rule", "severity"),)

    id: int = Field(primary_key=True)
    article_id: int = _article_fk()
    position: int
    rule: str
    severity: str
    claim_local_id: str | None = None
    message: str
    active_from: str | None = None
    origin: str = Field(description="generator (§2.6) or ingest (cross-file checks kept as diagnostics)")


class TopicCount(SQLModel, table=True):
    """/topics as rows (app.aggregates, written by every ingest): each topic's articles and their claims, counted
    over the articles one kind of caller may read (``preview``: every article; else the published ones)."""

    __tablename__ = "topic_count"

    preview: bool = Field(primary_key=True)
    topic: str = Field(primary_key=True)
    article_count: int
    claim_count: int


class SeriesHead(SQLModel, table=True):
    """/series as rows (app.aggregates, written by every ingest): each series as one kind of caller sees it
    (``preview``: every member; else the published ones), with its place in the list (``position``)."""

    __tablename__ = "series_head"

    preview: bool = Field(primary_key=True)
    slug: str = Field(primary_key=True)
    position: int = Field(description="newest member date first, then slug")
    newest_date: str | None = Field(default=None, description="the newest member date: what position orders by")
    title: str | None = None
    season: str | None = None
    member_count: int
    guide_slug: str | None = None
    guide_title: str | None = None
    newest_update: str


class Change(SQLModel, table=True):
    """One entry of the change log: one article, claim or source that one committed ingest added, updated or
    removed, as a preview caller sees it, with what anonymous readers see of it (app.ingest.changes)."""

    __tablename__ = "change"
    __table_args__ = (Index("ix_change_version", "version", "id"),)

    id: int = Field(primary_key=True, description="increases with the version: the log's keyset order")
    version: int = Field(description="the corpus version whose ingest made the change")
    changed_at: dt.datetime = Field(description="when that ingest committed (UTC)")
    type: str = Field(description="article, claim or source")
    action: str = Field(description="added, updated or removed, for preview callers")
    ref: str = Field(description="the article's slug, the claim's global id, or the source's sourceId")
    article: str = Field(description="the owning article's slug", index=True)
    series: str | None = Field(default=None, index=True, description="the owning article's series slug")
    topics: str = Field(description="the owning article's topics as |a|b| (the topic filter)")
    public_before: bool = Field(description="it existed before the change and anonymous readers saw it")
    public_after: bool = Field(description="it exists after the change and anonymous readers see it")
    fields: list[str] = Field(sa_column=Column(JSON, nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
