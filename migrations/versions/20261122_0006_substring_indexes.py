"""trigram indexes for the q substring filters (SQLite FTS5), filled from the stored corpus

Two FTS5 tables with external content (the text stays in its own table) and ``detail=none`` (a LIKE needs only
which rows hold every trigram): ``keyword_trigram`` over ``article_keyword.text`` and ``claim_trigram`` over
``claim.text``. FTS5's ``'rebuild'`` command indexes the rows already stored. PostgreSQL gets pg_trgm indexes
in 0007; this migration does nothing there. The DDL is this migration's own, as it stood at this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: index -> (content table, its rowid column)
_TABLES = {"keyword_trigram": ("article_keyword", "article_id"), "claim_trigram": ("claim", "id")}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, (content, rowid) in _TABLES.items():
            op.execute(
                f"CREATE VIRTUAL TABLE {name} USING fts5(text, content='{content}', content_rowid='{rowid}', "
                "tokenize='trigram', detail='none')"
            )
            op.execute(f"INSERT INTO {name} ({name}) VALUES ('rebuild')")  # index what is stored already


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _TABLES:
            op.execute(f"DROP TABLE {name}")
