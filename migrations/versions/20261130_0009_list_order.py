"""lists that read their page from one index in order, and stored counts for their totals and plans

Claims and sources carry their article's ``is_public`` and ``dir_key`` (the feed order is the article's dir
order, then the row's position), so ``/claims`` and ``/sources`` walk ``(is_public, dir_key, position)`` on
their own table and stop at the page's end instead of sorting every match. ``sort=title`` and
``sort=series`` get indexes on their keyset expressions. ``list_count`` holds the public rows of each list
in all and per filter value (kept by every ingest after: app.listcounts); has_counterevidence and cited get
indexes (either value can be the rare one). An existing database is backfilled: the copied columns from the
article rows, the counts counted, and (SQLite) statistics for the new indexes gathered, so that it answers as a
fresh ingest would. The counts are this migration's own SQL, frozen as the rules stood at this
revision (a migration never imports the live code, which follows the newest schema): see :data:`_COUNTS`.

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

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPIED = ("claim", "source")

#: Series members first, standalone articles after them (the first key of ``sort=series``), spelled as
#: PostgreSQL reads the expression back, so that Alembic's drift check finds the model's index the same.
_SERIES_RANK = "(\nCASE\n    WHEN series_slug IS NULL THEN 1\n    ELSE 0\nEND)"


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
        ["is_public", sa.text(_SERIES_RANK), sa.text("coalesce(series_slug, '')"),
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
    for statement in _count_statements():
        op.execute(statement)
    if bind.dialect.name == "sqlite":
        for index in ("ix_claim_public_feed", "ix_source_public_feed", "ix_article_public_title",
                      "ix_article_public_series", "ix_claim_counterevidence", "ix_source_cited_by"):  # fmt: skip
            op.execute(f"ANALYZE {index}")
    else:
        op.execute("ANALYZE claim, source, article, list_count")


#: Values held by fewer public rows than this are not stored (an absent value means "fewer than this").
_MIN_ROWS = 100


def _link(table: str, column: str, owner: str) -> tuple[str, str, str]:
    """Public rows of ``owner`` per value of an article link table (a value repeated in one article counts once)."""
    key = "o.id" if owner == "article" else "o.article_id"
    return "p.value", "count(*)", (f"FROM {owner} o JOIN (SELECT DISTINCT article_id, {column} AS value "
                                   f"FROM {table}) p ON p.article_id = {key} WHERE o.is_public")  # fmt: skip


def _by(owner: str, value: str, counted: str = "count(*)") -> tuple[str, str, str]:
    """Public rows of ``owner`` per non-null ``value`` (or what ``counted`` counts of them)."""
    return value, counted, f"FROM {owner} o WHERE o.is_public AND {value} IS NOT NULL"


def _yes_no(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 'true' ELSE 'false' END"


_ARTICLES = "count(DISTINCT o.article_id)"
_EVIDENCE = "FROM evidence e JOIN claim o ON o.id = e.claim_id WHERE o.is_public"
_SERIES_CLAIMS = "FROM claim o JOIN article a ON a.id = o.article_id WHERE o.is_public AND a.series_slug IS NOT NULL"

#: (list, filter field, value, what is counted, FROM and WHERE): the public rows of each list in all (field and
#: value ``''``), and per value of each filter field. ``state`` and ``claim_state`` count the stored
#: ``state_base``, ``verification`` a missing status as ``draft``; the articles' claim and source fields count
#: articles, the claims' evidence fields claims.
_COUNTS = [
    ("articles", "", "''", "count(*)", "FROM article o WHERE o.is_public"),
    ("articles", "topic", *_link("article_topic", "topic", "article")),
    ("articles", "tag", *_link("article_tag", "tag", "article")),
    ("articles", "audience", *_link("article_audience", "audience", "article")),
    ("articles", "series", *_by("article", "o.series_slug")),
    ("articles", "maturity", *_by("article", "o.maturity")),
    ("articles", "confidence", *_by("claim", "o.confidence", _ARTICLES)),
    ("articles", "claim_state", *_by("claim", "o.state_base", _ARTICLES)),
    ("articles", "source_type", *_by("source", "o.type", _ARTICLES)),
    ("claims", "", "''", "count(*)", "FROM claim o WHERE o.is_public"),
    ("claims", "topic", *_link("article_topic", "topic", "claim")),
    ("claims", "series", "a.series_slug", "count(*)", _SERIES_CLAIMS),
    ("claims", "confidence", *_by("claim", "o.confidence")),
    ("claims", "status", *_by("claim", "o.kind")),
    ("claims", "verification", *_by("claim", "coalesce(o.verification_status, 'draft')")),
    ("claims", "state", *_by("claim", "o.state_base")),
    ("claims", "has_counterevidence", *_by("claim", _yes_no("o.counterevidence_count > 0"))),
    ("claims", "supports", "e.supports", "count(DISTINCT e.claim_id)", _EVIDENCE),
    ("claims", "source", "e.source_id", "count(DISTINCT e.claim_id)", _EVIDENCE),
    ("sources", "", "''", "count(*)", "FROM source o WHERE o.is_public"),
    ("sources", "type", *_by("source", "o.type")),
    ("sources", "topic", *_link("article_topic", "topic", "source")),
    ("sources", "url", *_by("source", "o.url")),
    ("sources", "cited", *_by("source", _yes_no("o.cited_by > 0"))),
]


def _count_statements() -> list[str]:
    """The INSERTs that fill ``list_count`` from the stored rows: each whole list, and each value of a field
    held by at least :data:`_MIN_ROWS` public rows."""
    return [
        f"INSERT INTO list_count (kind, field, value, rows) SELECT '{kind}', '{field}', CAST({value} AS VARCHAR), "
        f"{counted} {where}" + (f" GROUP BY {value} HAVING {counted} >= {_MIN_ROWS}" if field else "")
        for kind, field, value, counted, where in _COUNTS
    ]


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
