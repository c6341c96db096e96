"""Search documents that say their kind and visibility where a search reads them first

SQLite: each document's rowid says its kind, length class and ref.
Before, each FTS5 document had an arbitrary rowid and kept its kind and ref in ``UNINDEXED`` columns: narrowing
hits to a kind read the stored row of every match (a second for a common word at 50,000 articles), and ingest
found an article's documents by scanning the table. Now the rowid says all three (app.fulltext.schema), and both
search tables are filled again from the stored rows under the new rowids.

PostgreSQL: the one GIN index over every document becomes one per kind (a search of claims no longer reads the
postings of sources, nor a plan that scans the table for a kind), and each document says whether its article
is public (``is_public``, kept by ingest), so that counting an anonymous search's matches joins no article.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.fulltext import (
    CREATE_PUBLIC_SQLITE,
    CREATE_SQLITE,
    KIND_CODES,
    PUBLIC_TABLE,
    TABLE,
    backfill,
    backfill_public,
    postgres_kind_index,
)

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ADD COLUMN is_public boolean NOT NULL DEFAULT false")
        op.execute(f"UPDATE {TABLE} SET is_public = true WHERE article_id IN (SELECT id FROM article WHERE is_public)")
        for kind in KIND_CODES:
            op.execute(postgres_kind_index(kind))
        op.execute(f"DROP INDEX {TABLE}_document")
        return
    for name, create in ((PUBLIC_TABLE, CREATE_PUBLIC_SQLITE), (TABLE, CREATE_SQLITE)):
        op.execute(f"DROP TABLE {name}")
        op.execute(create)
    for statement in [*backfill("sqlite"), backfill_public()]:
        op.execute(statement)


def downgrade() -> None:
    """SQLite: the new rowids serve the old code as well (it never read them): nothing to undo."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {TABLE}_document ON {TABLE} USING gin (document)")
        for kind in KIND_CODES:
            op.execute(f"DROP INDEX {TABLE}_{kind}_document")
        op.execute(f"ALTER TABLE {TABLE} DROP COLUMN is_public")
