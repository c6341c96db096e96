"""indexes that walk each list in its order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:40:00

The article orders break ties by slug (the keyset's last column), so their indexes end in slug, not id; the
feed order (article dir_key, then position) walks article by (is_public, dir_key) and claims and sources by
(article_id, position), which replace the plain article_id indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_article_public_published", table_name="article")
    op.drop_index("ix_article_public_updated", table_name="article")
    op.create_index("ix_article_public_published", "article", ["is_public", "published_at", "slug"])
    op.create_index("ix_article_public_updated", "article", ["is_public", "updated_at", "slug"])
    op.create_index("ix_article_public_dir", "article", ["is_public", "dir_key"])
    op.drop_index("ix_claim_article_id", table_name="claim")
    op.create_index("ix_claim_article_position", "claim", ["article_id", "position"])
    op.drop_index("ix_source_article_id", table_name="source")
    op.create_index("ix_source_article_position", "source", ["article_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_source_article_position", table_name="source")
    op.create_index("ix_source_article_id", "source", ["article_id"])
    op.drop_index("ix_claim_article_position", table_name="claim")
    op.create_index("ix_claim_article_id", "claim", ["article_id"])
    op.drop_index("ix_article_public_dir", table_name="article")
    op.drop_index("ix_article_public_updated", table_name="article")
    op.drop_index("ix_article_public_published", table_name="article")
    op.create_index("ix_article_public_updated", "article", ["is_public", "updated_at", "id"])
    op.create_index("ix_article_public_published", "article", ["is_public", "published_at", "id"])
