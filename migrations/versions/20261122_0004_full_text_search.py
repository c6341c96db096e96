"""full-text search index (SQLite FTS5), filled from the stored corpus

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.fulltext import CREATE_SQLITE, TABLE, backfill

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(CREATE_SQLITE)
        for statement in backfill("sqlite"):  # the documents ingest writes: searchable at once
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {TABLE}")
