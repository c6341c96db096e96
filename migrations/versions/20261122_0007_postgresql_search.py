"""PostgreSQL: byte-order collation, full-text search (tsvector, GIN) and trigram indexes for the q filters

Every text column takes the "C" collation: it compares and orders by code point, as SQLite's BINARY does, so
that an order (``sort=title``, a cursor's keyset, a group) is the same on both databases whatever locale the
PostgreSQL database was created with. On SQLite, migrations 0004 and 0006 made the search indexes with FTS5;
this migration does nothing there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.fulltext import CREATE_POSTGRES, DROP_POSTGRES, TABLE

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same documents ingest writes (app.ingest), so a database upgraded in place is searchable at once.
BACKFILL = [
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT c.text,
           coalesce((SELECT string_agg(e.snippet, ' ' ORDER BY e.id) FROM evidence e WHERE e.claim_id = c.id), '')
           || ' ' ||
           coalesce((SELECT string_agg(x.summary, ' ' ORDER BY x.id) FROM counterevidence x WHERE x.claim_id = c.id),
                    ''),
           'claim', c.id, c.article_id
    FROM claim c""",
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT a.title, coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis, 'article', a.id, a.id
    FROM article a""",
    f"""INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)
    SELECT s.title, '', 'source', s.id, s.article_id FROM source s""",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.String):
                kind = column["type"].compile(dialect=bind.dialect)
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column["name"]}" TYPE {kind} COLLATE "C"')
    for statement in [*CREATE_POSTGRES, *BACKFILL]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_POSTGRES:
            op.execute(statement)
