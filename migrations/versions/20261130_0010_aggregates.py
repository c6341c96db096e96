"""aggregates as rows: topic_count and series_head (/topics and /series), backfilled from the stored articles

Ingest writes both in its transaction from now on (app.aggregates.refresh); a database upgraded in place gets
them computed here from what it holds, so /topics and /series answer at once and exactly as before. Their text
columns take the "C" collation on PostgreSQL, as every text column does (migration 0007).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.aggregates import refresh

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = {
    "topic_count": ("topic",),
    "series_head": ("slug", "title", "season", "guide_slug", "guide_title", "newest_update"),
}


def upgrade() -> None:
    op.create_table(
        "topic_count",
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("preview", "topic"),
    )
    op.create_table(
        "series_head",
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("season", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("guide_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("guide_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("newest_update", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("preview", "slug"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in _TEXT.items():
            for column in columns:
                op.execute(f'ALTER TABLE "{name}" ALTER COLUMN "{column}" TYPE VARCHAR COLLATE "C"')
    refresh(op.get_bind())  # the articles already stored


def downgrade() -> None:
    op.drop_table("series_head")
    op.drop_table("topic_count")
