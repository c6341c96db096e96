"""aggregates as rows: topic_count and series_head (/topics and /series), backfilled from the stored articles

Ingest writes both in its transaction from now on (app.aggregates.refresh); a database upgraded in place gets
them computed here from what it holds, so /topics and /series answer at once and exactly as before. The
computation is this migration's own SQL, frozen as the rules stood (a migration never imports the live code,
which follows the newest schema): topics per (caller, topic), an article counted once; per (caller, series) the
first member in series order gives title and season, the first guide member the guide, and the heads are
placed newest member date first, then slug. Their text
columns take the "C" collation on PostgreSQL, as every text column does (migration 0007).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = {
    "topic_count": ("topic",),
    "series_head": ("slug", "title", "season", "guide_slug", "guide_title", "newest_update"),
}


def upgrade() -> None:
    op.create_table(
        "topic_count",
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("preview", "topic"),
    )
    op.create_table(
        "series_head",
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("season", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("guide_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("guide_title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("newest_update", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("preview", "slug"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, columns in _TEXT.items():
            for column in columns:
                op.execute(f'ALTER TABLE "{name}" ALTER COLUMN "{column}" TYPE VARCHAR COLLATE "C"')
    op.execute(_TOPICS)  # the articles already stored
    op.execute(_SERIES)


_CALLERS = "(SELECT TRUE AS preview UNION ALL SELECT FALSE AS preview)"  # preview: every article; else the public

_TOPICS = f"""
INSERT INTO topic_count (preview, topic, article_count, claim_count)
SELECT p.preview, t.topic, count(*), coalesce(sum(a.claim_count), 0)
FROM (SELECT DISTINCT topic, article_id FROM article_topic) t
JOIN article a ON a.id = t.article_id
CROSS JOIN {_CALLERS} p
WHERE p.preview OR a.is_public
GROUP BY p.preview, t.topic
"""

_SERIES = f"""
WITH member AS (
    SELECT p.preview, a.series_slug, a.slug, a.title, a.updated_at, a.series_title, a.series_season,
           a.series_role, coalesce(a.date, a.published_at) AS sort_date,
           row_number() OVER (PARTITION BY p.preview, a.series_slug
                              ORDER BY a.series_order, coalesce(a.date, a.published_at) DESC, a.slug) AS place,
           row_number() OVER (PARTITION BY p.preview, a.series_slug, a.series_role
                              ORDER BY a.series_order, coalesce(a.date, a.published_at) DESC, a.slug) AS role_place
    FROM article a CROSS JOIN {_CALLERS} p
    WHERE a.series_slug IS NOT NULL AND (p.preview OR a.is_public)
),
head AS (
    SELECT preview, series_slug, count(*) AS members, max(updated_at) AS newest_update, max(sort_date) AS newest
    FROM member GROUP BY preview, series_slug
)
INSERT INTO series_head (preview, slug, position, title, season, member_count, guide_slug, guide_title,
                         newest_update)
SELECT h.preview, h.series_slug,
       row_number() OVER (PARTITION BY h.preview ORDER BY h.newest DESC, h.series_slug) - 1,
       f.series_title, f.series_season, h.members, g.slug, g.title, h.newest_update
FROM head h
JOIN member f ON f.preview = h.preview AND f.series_slug = h.series_slug AND f.place = 1
LEFT JOIN member g ON g.preview = h.preview AND g.series_slug = h.series_slug AND g.series_role = 'guide'
                  AND g.role_place = 1
"""


def downgrade() -> None:
    op.drop_table("series_head")
    op.drop_table("topic_count")
