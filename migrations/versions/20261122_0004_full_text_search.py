"""full-text search index (SQLite FTS5), filled from the stored corpus

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.fulltext import CREATE_SQLITE, TABLE

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same documents ingest writes (app.ingest), so a database upgraded in place is searchable at once.
BACKFILL = [
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT c.text,
           coalesce((SELECT group_concat(e.snippet, ' ') FROM evidence e WHERE e.claim_id = c.id), '') || ' ' ||
           coalesce((SELECT group_concat(x.summary, ' ') FROM counterevidence x WHERE x.claim_id = c.id), ''),
           'claim', c.id, c.article_id
    FROM claim c""",
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT a.title, coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis, 'article', a.id, a.id
    FROM article a""",
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT s.title, '', 'source', s.id, s.article_id FROM source s""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(CREATE_SQLITE)
        for statement in BACKFILL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TABLE {TABLE}")
