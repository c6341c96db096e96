"""Search documents that say their kind and visibility where a search reads them first

SQLite: each document's rowid says its kind, length class and ref.
Before, each FTS5 document had an arbitrary rowid and kept its kind and ref in ``UNINDEXED`` columns: narrowing
hits to a kind read the stored row of every match (a second for a common word at 50,000 articles), and ingest
found an article's documents by scanning the table. Now the rowid says all three: the kind's code (article 1,
claim 2, source 3) in bits 40 and up, a length class (the primary text's length in characters / 4, at most
255) in bits 32-39 and the ref below; both search tables are filled again from the stored rows under the new
rowids.

PostgreSQL: the one GIN index over every document becomes one per kind (a search of claims no longer reads the
postings of sources, nor a plan that scans the table for a kind), and each document says whether its article
is public (``is_public``, kept by ingest), so that counting an anonymous search's matches joins no article.

The DDL and the backfill are this migration's own, as they stood at this revision (a migration never imports
the live code, which follows the newest schema).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = {"article": 1, "claim": 2, "source": 3}
_COLUMNS = "primary_text, secondary_text, kind, ref, article_id"
_FTS5 = (
    "CREATE VIRTUAL TABLE {} USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
    "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)

#: kind -> (FROM clause, ref, primary text, secondary text, owning article id): the documents ingest writes.
_DOCUMENTS = {
    "claim": (
        "claim c", "c.id", "c.text",
        "coalesce((SELECT group_concat(e.snippet, ' ') FROM evidence e WHERE e.claim_id = c.id), '') || ' ' || "
        "coalesce((SELECT group_concat(x.summary, ' ') FROM counterevidence x WHERE x.claim_id = c.id), '')",
        "c.article_id",
    ),
    "article": (
        "article a", "a.id", "a.title",
        "coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis",
        "a.id",
    ),
    "source": ("source s", "s.id", "s.title", "''", "s.article_id"),
}  # fmt: skip


def _sqlite_backfill() -> list[str]:
    statements = []
    for kind, (source, ref, primary, secondary, owner) in _DOCUMENTS.items():
        # SQLite's length() counts characters (stored text holds no NUL).
        rowid = f"(({_KINDS[kind]} << 40) | (min(255, length({primary}) / 4) << 32) | {ref})"
        values = f"{rowid}, {primary}, {secondary}, '{kind}', {ref}, {owner}"
        statements.append(f"INSERT INTO search_fts (rowid, {_COLUMNS}) SELECT {values} FROM {source}")
    statements.append(
        f"INSERT INTO search_fts_public (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM search_fts "
        "WHERE article_id IN (SELECT id FROM article WHERE is_public)"
    )
    return statements


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_fts ADD COLUMN is_public boolean NOT NULL DEFAULT false")
        op.execute(
            "UPDATE search_fts SET is_public = true WHERE article_id IN (SELECT id FROM article WHERE is_public)"
        )
        for kind in _KINDS:
            op.execute(
                f"CREATE INDEX search_fts_{kind}_document ON search_fts USING gin (document) WHERE kind = '{kind}'"
            )
        op.execute("DROP INDEX search_fts_document")
        return
    for name in ("search_fts_public", "search_fts"):
        op.execute(f"DROP TABLE {name}")
        op.execute(_FTS5.format(name))
    for statement in _sqlite_backfill():
        op.execute(statement)


def downgrade() -> None:
    """SQLite: the tables are as they were (the same DDL); the new rowids serve the old code as well (it never
    read them), so there is nothing to undo."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX search_fts_document ON search_fts USING gin (document)")
        for kind in _KINDS:
            op.execute(f"DROP INDEX search_fts_{kind}_document")
        op.execute("ALTER TABLE search_fts DROP COLUMN is_public")
