"""full-text search index (SQLite FTS5), filled from the stored corpus

One FTS5 table, ``search_fts``, holds three kinds of document, each with a primary and a secondary text: a
claim (its text; its evidence snippets and counterevidence summaries), an article (its title; summary, dek and
thesis) and a source (its title). ``kind``, ``ref`` (the claim, article or source id) and ``article_id`` are
kept, not searched. The DDL and the backfill are this migration's own, as they stood at this revision (a
migration never imports the live code, which follows the newest schema). PostgreSQL gets its search table in
0007; this migration does nothing there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CREATE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
    "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)
_INSERT = "INSERT INTO search_fts (primary_text, secondary_text, kind, ref, article_id) "

# The documents ingest writes for the rows already stored (a database upgraded in place is searchable at once):
# a claim's secondary text is its evidence snippets, then its counterevidence summaries.
_EVIDENCE = "(SELECT group_concat(e.snippet, ' ') FROM evidence e WHERE e.claim_id = c.id)"
_COUNTER = "(SELECT group_concat(x.summary, ' ') FROM counterevidence x WHERE x.claim_id = c.id)"
_BACKFILL = [
    _INSERT + f"SELECT c.text, coalesce({_EVIDENCE}, '') || ' ' || coalesce({_COUNTER}, ''), "
    "'claim', c.id, c.article_id FROM claim c",
    _INSERT + "SELECT a.title, coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis, "
    "'article', a.id, a.id FROM article a",
    _INSERT + "SELECT s.title, '', 'source', s.id, s.article_id FROM source s",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_CREATE)
        for statement in _BACKFILL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
