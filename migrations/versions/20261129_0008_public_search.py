"""SQLite: a full-text table of the public documents only, so that hidden articles never move public scores

bm25 (SQLite FTS5) weighs each word by how many documents of the whole table hold it, and by the table's mean
document length: with drafts and reviews in the one table, adding or removing a hidden article changed the
scores and the order anonymous callers saw. Anonymous searches rank over this table (app.fulltext.PUBLIC_TABLE),
filled here from the full table (each document keeps its rowid) and by every ingest after. PostgreSQL's
ts_rank reads no statistics of other documents: this migration does nothing there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:59:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.fulltext import CREATE_PUBLIC_SQLITE, PUBLIC_TABLE, backfill_public

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(CREATE_PUBLIC_SQLITE)
        op.execute(backfill_public())  # the public documents already stored: searchable at once


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {PUBLIC_TABLE}")
