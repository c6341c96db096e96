"""article.file_stat: the stat signature of an article's input files, so that an unchanged one is not read

``garden ingest`` compares each article's files by ``stat`` first (app.ingest.discover): device, inode, size,
modification and change times. Where they match what is stored, the files are not even read; where they do not,
the bytes are read and compared by fingerprint as before. A database upgraded in place has no signatures yet:
its next ingest reads every file once, and the first ingest that writes anything stores them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("article", sa.Column("file_stat", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # every text column compares by code point (migration 0007)
        op.execute('ALTER TABLE article ALTER COLUMN file_stat TYPE varchar COLLATE "C"')


def downgrade() -> None:
    # Never Alembic's batch copy on SQLite: it would drop the expression indexes of article (migration 0009).
    op.execute("ALTER TABLE article DROP COLUMN file_stat")
