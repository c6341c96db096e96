"""graph edges

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:34:52.717150
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "graph_edge",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sort_key", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "position"),
    )
    with op.batch_alter_table("graph_edge", schema=None) as batch_op:
        batch_op.create_index("ix_graph_edge_sort_key", ["sort_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("graph_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_graph_edge_sort_key")

    op.drop_table("graph_edge")
