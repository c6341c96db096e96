"""change: the change log written by every ingest (app.ingest.changes), and corpus.changes_from

A database upgraded here has no log of the versions before it: ``changes_from`` starts at the stored corpus
version, so ``/changes?since=<that version>`` is the oldest question it answers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = ("type", "action", "ref", "article", "series", "topics")


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("article", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("topics", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("public_before", sa.Boolean(), nullable=False),
        sa.Column("public_after", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_change_version", "change", ["version", "id"], unique=False)
    op.create_index(op.f("ix_change_article"), "change", ["article"], unique=False)
    op.create_index(op.f("ix_change_series"), "change", ["series"], unique=False)
    op.add_column("corpus", sa.Column("changes_from", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # every text column compares by code point (migration 0007)
        for column in _TEXT:
            op.execute(f'ALTER TABLE change ALTER COLUMN "{column}" TYPE varchar COLLATE "C"')
    op.execute("UPDATE corpus SET changes_from = version")


def downgrade() -> None:
    # Never Alembic's batch copy on SQLite (see 0012).
    op.execute("ALTER TABLE corpus DROP COLUMN changes_from")
    op.drop_index(op.f("ix_change_series"), table_name="change")
    op.drop_index(op.f("ix_change_article"), table_name="change")
    op.drop_index("ix_change_version", table_name="change")
    op.drop_table("change")
