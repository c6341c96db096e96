"""PostgreSQL: byte-order collation, full-text search (tsvector, GIN) and trigram indexes for the q filters

Every text column takes the "C" collation: it compares and orders by code point, as SQLite's BINARY does, so
that an order (``sort=title``, a cursor's keyset, a group) is the same on both databases whatever locale the
PostgreSQL database was created with (a later migration adding a text column must give it ``COLLATE "C"`` on
PostgreSQL too; tests/test_migrations.py checks every column). On SQLite, migrations 0004 and 0006 made the
search indexes with FTS5; this migration does nothing there.

The search table ``search_fts`` has the columns of SQLite's, and ``document``, a generated tsvector (primary
text weight A, secondary B) in the text search configuration ``garden_search`` (English Snowball stemming after
``unaccent``), with a GIN index; the q filters get pg_trgm GIN indexes on ``lower(text)`` of
``article_keyword`` and ``claim``. The DDL and the backfill are this migration's own, as they stood at this
revision (a migration never imports the live code, which follows the newest schema).

The downgrade drops what the upgrade made and gives every text column the database's default collation back.
It leaves the two extensions: they belong to the whole database, may have been there before (the upgrade
creates them only if they are missing) and other schemas may use them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGRAM = {"keyword_trigram": "article_keyword", "claim_trigram": "claim"}  # index -> table

_CREATE = [
    # Both extensions are trusted: a database owner may create them.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TEXT SEARCH CONFIGURATION garden_search (COPY = pg_catalog.english)",
    "ALTER TEXT SEARCH CONFIGURATION garden_search ALTER MAPPING FOR hword, hword_part, word "
    "WITH unaccent, english_stem",
    """CREATE TABLE search_fts (
        kind varchar COLLATE "C" NOT NULL, ref integer NOT NULL, article_id integer NOT NULL,
        primary_text text COLLATE "C" NOT NULL, secondary_text text COLLATE "C" NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('garden_search', primary_text), 'A') ||
            setweight(to_tsvector('garden_search', secondary_text), 'B')) STORED)""",
    "CREATE INDEX search_fts_document ON search_fts USING gin (document)",
    "CREATE INDEX search_fts_article ON search_fts (article_id)",
    "CREATE INDEX search_fts_ref ON search_fts (kind, ref)",
    *(f"CREATE INDEX {name} ON {table} USING gin (lower(text) gin_trgm_ops)" for name, table in _TRIGRAM.items()),
]

_INSERT = "INSERT INTO search_fts (primary_text, secondary_text, kind, ref, article_id) "

# The documents ingest writes for the rows already stored (a database upgraded in place is searchable at once):
# a claim's secondary text is its evidence snippets, then its counterevidence summaries, each in id order.
_EVIDENCE = "(SELECT string_agg(e.snippet, ' ' ORDER BY e.id) FROM evidence e WHERE e.claim_id = c.id)"
_COUNTER = "(SELECT string_agg(x.summary, ' ' ORDER BY x.id) FROM counterevidence x WHERE x.claim_id = c.id)"
_BACKFILL = [
    _INSERT + f"SELECT c.text, coalesce({_EVIDENCE}, '') || ' ' || coalesce({_COUNTER}, ''), "
    "'claim', c.id, c.article_id FROM claim c",
    _INSERT + "SELECT a.title, coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis, "
    "'article', a.id, a.id FROM article a",
    _INSERT + "SELECT s.title, '', 'source', s.id, s.article_id FROM source s",
]

_DROP = [
    "DROP TABLE search_fts",
    "DROP TEXT SEARCH CONFIGURATION garden_search",
    *(f"DROP INDEX {name}" for name in _TRIGRAM),
]


def _collate_every_text_column(collation: str) -> None:
    """Every varchar and text column of every table, ``COLLATE`` ``collation``."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.String):
                column["type"].collation = None  # reflected with its present one, which is being replaced
                kind = column["type"].compile(dialect=bind.dialect)
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column["name"]}" TYPE {kind} COLLATE "{collation}"')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _collate_every_text_column("C")
    for statement in [*_CREATE, *_BACKFILL]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DROP:
        op.execute(statement)
    _collate_every_text_column("default")  # the database's own, as the columns were created before 0007
