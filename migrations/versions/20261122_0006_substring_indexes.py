"""trigram indexes for the q substring filters (SQLite FTS5), filled from the stored corpus

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.fulltext import CREATE_SUBSTRING_SQLITE, SUBSTRING_TABLES

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in CREATE_SUBSTRING_SQLITE:
            op.execute(statement)
        for name in SUBSTRING_TABLES:
            op.execute(f"INSERT INTO {name} ({name}) VALUES ('rebuild')")  # index what is stored already


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SUBSTRING_TABLES:
            op.execute(f"DROP TABLE {name}")
