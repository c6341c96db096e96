"""PostgreSQL: byte-order collation, full-text search (tsvector, GIN) and trigram indexes for the q filters

Every text column takes the "C" collation: it compares and orders by code point, as SQLite's BINARY does, so
that an order (``sort=title``, a cursor's keyset, a group) is the same on both databases whatever locale the
PostgreSQL database was created with (a later migration adding a text column must give it ``COLLATE "C"`` on
PostgreSQL too; tests/test_migrations.py checks every column). On SQLite, migrations 0004 and 0006 made the
search indexes with FTS5; this migration does nothing there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.fulltext import CREATE_POSTGRES, DROP_POSTGRES, backfill

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    inspector = sa.inspect(bind)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.String):
                column["type"].collation = None  # reflected with its present one (already "C" after a downgrade)
                kind = column["type"].compile(dialect=bind.dialect)
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column["name"]}" TYPE {kind} COLLATE "C"')
    for statement in [*CREATE_POSTGRES, *backfill("postgresql")]:  # the documents ingest writes: searchable at once
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_POSTGRES:
            op.execute(statement)
