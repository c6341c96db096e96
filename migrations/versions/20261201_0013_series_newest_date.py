"""series_head.newest_date: the newest member date of each series, which orders /series

An ingest that changed a few articles recomputes the heads of their series only; the others keep their rows,
and now also the date their place in the list depends on, so the list is ordered again without reading every
series' members (a one-article ingest at 50,000 articles spent 0.17 s on that). Filled here from the stored
articles: a preview head over every member, the other over the published ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("series_head", sa.Column("newest_date", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # every text column compares by code point (migration 0007)
        op.execute('ALTER TABLE series_head ALTER COLUMN newest_date TYPE varchar COLLATE "C"')
    op.execute(
        "UPDATE series_head SET newest_date = (SELECT max(coalesce(a.date, a.published_at)) FROM article a "
        "WHERE a.series_slug = series_head.slug AND (series_head.preview OR a.is_public))"
    )


def downgrade() -> None:
    # Never Alembic's batch copy on SQLite (see 0012).
    op.execute("ALTER TABLE series_head DROP COLUMN newest_date")
