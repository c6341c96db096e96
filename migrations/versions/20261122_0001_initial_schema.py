"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 15:44:19.307216
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("dir_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("year", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("layout", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("dek", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reading_time", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("date", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("fm_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("maturity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("published_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("thesis", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("canonical_path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_estimate", sa.Integer(), nullable=False),
        sa.Column("token_budget", sa.Integer(), nullable=True),
        sa.Column("brief_updated", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("section_outline", sa.JSON(), nullable=False),
        sa.Column("series_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("series_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("series_season", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("series_order", sa.Integer(), nullable=True),
        sa.Column("series_role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("series_arc", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("source_count", sa.Integer(), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("ingested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dir_key"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_maturity"), ["maturity"], unique=False)
        batch_op.create_index("ix_article_public_published", ["is_public", "published_at", "id"], unique=False)
        batch_op.create_index("ix_article_public_updated", ["is_public", "updated_at", "id"], unique=False)
        batch_op.create_index("ix_article_series", ["series_slug", "series_order"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_status"), ["status"], unique=False)

    op.create_table(
        "corpus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("derivation", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "article_audience",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    with op.batch_alter_table("article_audience", schema=None) as batch_op:
        batch_op.create_index("ix_article_audience_audience", ["audience", "article_id"], unique=False)

    op.create_table(
        "article_document",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("artifact_json", sa.Text(), nullable=False),
        sa.Column("article_md", sa.Text(), nullable=True),
        sa.Column("agent_md", sa.Text(), nullable=True),
        sa.Column("front_matter", sa.JSON(), nullable=True),
        sa.Column("brief_front_matter", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_table(
        "article_tag",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    with op.batch_alter_table("article_tag", schema=None) as batch_op:
        batch_op.create_index("ix_article_tag_tag", ["tag", "article_id"], unique=False)

    op.create_table(
        "article_topic",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.create_index("ix_article_topic_topic", ["topic", "article_id"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("local_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claim_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("confidence", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("confidence_rank", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("verification_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("verification_reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("verification_reviewed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("state_base", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stale_from", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("counterevidence_count", sa.Integer(), nullable=False),
        sa.Column("as_of", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_claim_confidence", ["confidence_rank", "article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_claim_state", ["state_base", "stale_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_verification_status"), ["verification_status"], unique=False)

    op.create_table(
        "diagnostic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claim_local_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active_from", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("diagnostic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diagnostic_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_diagnostic_rule", ["rule", "severity"], unique=False)

    op.create_table(
        "provenance_agent",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("invoked_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("input_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("output_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    op.create_table(
        "provenance_review",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reviewer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    op.create_table(
        "related_link",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    with op.batch_alter_table("related_link", schema=None) as batch_op:
        batch_op.create_index("ix_related_link_target", ["target", "article_id"], unique=False)

    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("accessed", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cited_by", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "source_id"),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_source_source_id", ["source_id"], unique=False)
        batch_op.create_index("ix_source_type", ["type"], unique=False)
        batch_op.create_index("ix_source_url", ["url"], unique=False)

    op.create_table(
        "counterevidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("snippet", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("assessed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("counterevidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counterevidence_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_counterevidence_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("snippet", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("supports", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("assessed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index("ix_evidence_source", ["source_id", "claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_supports"), ["supports"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_supports"))
        batch_op.drop_index("ix_evidence_source")
        batch_op.drop_index(batch_op.f("ix_evidence_claim_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_article_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("counterevidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counterevidence_claim_id"))
        batch_op.drop_index(batch_op.f("ix_counterevidence_article_id"))

    op.drop_table("counterevidence")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index("ix_source_url")
        batch_op.drop_index("ix_source_type")
        batch_op.drop_index("ix_source_source_id")
        batch_op.drop_index(batch_op.f("ix_source_article_id"))

    op.drop_table("source")
    with op.batch_alter_table("related_link", schema=None) as batch_op:
        batch_op.drop_index("ix_related_link_target")

    op.drop_table("related_link")
    op.drop_table("provenance_review")
    op.drop_table("provenance_agent")
    with op.batch_alter_table("diagnostic", schema=None) as batch_op:
        batch_op.drop_index("ix_diagnostic_rule")
        batch_op.drop_index(batch_op.f("ix_diagnostic_article_id"))

    op.drop_table("diagnostic")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_verification_status"))
        batch_op.drop_index("ix_claim_state")
        batch_op.drop_index(batch_op.f("ix_claim_kind"))
        batch_op.drop_index("ix_claim_confidence")
        batch_op.drop_index(batch_op.f("ix_claim_article_id"))

    op.drop_table("claim")
    with op.batch_alter_table("article_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_article_topic_topic")

    op.drop_table("article_topic")
    with op.batch_alter_table("article_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_article_tag_tag")

    op.drop_table("article_tag")
    op.drop_table("article_document")
    with op.batch_alter_table("article_audience", schema=None) as batch_op:
        batch_op.drop_index("ix_article_audience_audience")

    op.drop_table("article_audience")
    op.drop_table("corpus")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_status"))
        batch_op.drop_index("ix_article_series")
        batch_op.drop_index("ix_article_public_updated")
        batch_op.drop_index("ix_article_public_published")
        batch_op.drop_index(batch_op.f("ix_article_maturity"))

    op.drop_table("article")
