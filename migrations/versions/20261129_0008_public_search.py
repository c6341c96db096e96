"""SQLite: a full-text table of the public documents only, so that hidden articles never move public scores

bm25 (SQLite FTS5) weighs each word by how many documents of the whole table hold it, and by the table's mean
document length: with drafts and reviews in the one table, adding or removing a hidden article changed the
scores and the order anonymous callers saw. Anonymous searches rank over this table, ``search_fts_public``
(the columns of ``search_fts``), filled here from the full table (each document keeps its rowid) and by every
ingest after. PostgreSQL's ts_rank reads no statistics of other documents: this migration does nothing there.
The DDL and the backfill are this migration's own, as they stood at this revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:59:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "primary_text, secondary_text, kind, ref, article_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts_public USING fts5(primary_text, secondary_text, kind UNINDEXED, "
            "ref UNINDEXED, article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
        )
        # The public documents already stored: searchable at once.
        op.execute(
            f"INSERT INTO search_fts_public (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM search_fts "
            "WHERE article_id IN (SELECT id FROM article WHERE is_public)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts_public")
