"""lists that read their page from one index in order, and stored counts for their totals and plans

Claims and sources carry their article's ``is_public`` and ``dir_key`` (the feed order is the article's dir
order, then the row's position), so ``/claims`` and ``/sources`` walk ``(is_public, dir_key, position)`` on
their own table and stop at the page's end instead of sorting every match. ``sort=title`` and
``sort=series`` get indexes on their keyset expressions. ``list_count`` holds the public rows of each list
in all and per filter value (app.listcounts); has_counterevidence and cited get indexes (either value can be
the rare one). An existing database is backfilled: the copied columns from
the article rows, the counts counted, and (SQLite) statistics for the new indexes gathered, so that it
answers as a fresh ingest would.

The two copied columns keep the server default they were added with (false and ''): SQLite cannot drop a
default without rebuilding the table, ingest always writes both, and tests/test_migrations.py compares
types and nullability, not defaults.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app import listcounts
from app.models import SERIES_RANK_INDEX

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPIED = ("claim", "source")


def _text() -> sa.types.TypeEngine[str]:
    # PostgreSQL's text columns compare by code point, as SQLite's do (migration 0007).
    if op.get_bind().dialect.name == "postgresql":
        return sa.String(collation="C")
    return sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    for name in _COPIED:
        op.add_column(name, sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()))
        op.add_column(name, sa.Column("dir_key", _text(), nullable=False, server_default=""))
        op.execute(
            f"UPDATE {name} SET is_public = article.is_public, dir_key = article.dir_key "
            f"FROM article WHERE article.id = {name}.article_id"
        )
        op.create_index(f"ix_{name}_public_feed", name, ["is_public", "dir_key", "position"])
    op.create_index("ix_claim_counterevidence", "claim", ["counterevidence_count"])
    op.create_index("ix_source_cited_by", "source", ["cited_by"])
    op.create_index("ix_article_public_title", "article", ["is_public", sa.text("lower(title)"), "slug"])
    op.create_index(
        "ix_article_public_series",
        "article",
        ["is_public", sa.text(SERIES_RANK_INDEX), sa.text("coalesce(series_slug, '')"),
         sa.text("coalesce(series_order, 0)"), "slug"],
    )  # fmt: skip
    op.create_table(
        "list_count",
        sa.Column("kind", _text(), nullable=False),
        sa.Column("field", _text(), nullable=False),
        sa.Column("value", _text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "field", "value"),
    )
    bind = op.get_bind()
    listcounts.refresh(bind)
    if bind.dialect.name == "sqlite":
        for index in ("ix_claim_public_feed", "ix_source_public_feed", "ix_article_public_title",
                      "ix_article_public_series", "ix_claim_counterevidence", "ix_source_cited_by"):  # fmt: skip
            op.execute(f"ANALYZE {index}")
    else:
        op.execute("ANALYZE claim, source, article, list_count")


def downgrade() -> None:
    op.drop_table("list_count")
    op.drop_index("ix_article_public_series", table_name="article")
    op.drop_index("ix_article_public_title", table_name="article")
    op.drop_index("ix_source_cited_by", table_name="source")
    op.drop_index("ix_claim_counterevidence", table_name="claim")
    for name in _COPIED:
        op.drop_index(f"ix_{name}_public_feed", table_name=name)
        for column in ("dir_key", "is_public"):  # never a batch copy: dropping claim would cascade to evidence
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
