"""The search tables: their DDL on each dialect, how a document is keyed, and the SQL that fills them.

One index holds three kinds of document, each with a primary and a secondary text weighted for ranking:

* claim: the claim text; its evidence snippets and counterevidence summaries;
* article: the title; summary, dek and thesis;
* source: the title.

* SQLite (migrations 0004, 0008, 0011): FTS5 tables, Porter stemming with diacritics removed; bm25 ranks. bm25
  weighs each word by its rarity over the whole table, so a table that also held drafts would let a hidden
  article move public scores: :data:`PUBLIC_TABLE` holds only the documents of public articles
  (``article.is_public``), and anonymous searches rank over it, preview searches over :data:`TABLE`.
  **A document's rowid says what it is** (:func:`document_rowid`, migration 0011): the kind in bits 40 and up,
  a length class (the primary text's length in characters / 4, at most 255) in bits 32–39, and the ref (the
  claim, article or source id) below. A search reads kind and ref from the rowid alone, never the stored
  columns (reading the ``UNINDEXED`` ``kind`` of every hit cost a second at 50,000 articles); a search of one
  kind is a rowid range, which FTS5 seeks to in every doclist; and a kind's documents come in the index's own
  order shortest primary text first, the order in which a search window (app.fulltext.query) takes them. A
  public document has the same rowid in both tables, and :func:`rowids_sql` computes the rowids of an article's
  documents from its stored rows, so that ingest removes them without scanning either table.
* PostgreSQL (migrations 0007, 0011): a table of the same name and columns whose ``document`` is a generated
  tsvector (primary text weight A, secondary B) in the text search configuration ``garden_search`` (English
  Snowball stemming after ``unaccent``), with a GIN index per kind (:func:`postgres_kind_index`) and
  ``is_public``, whether the document's article is public (kept by ingest, app.fulltext.index).

The ``q`` filters of ``/articles`` and ``/claims`` are substring matches, not word searches (app.fulltext.index
``contains``). On SQLite two trigram indexes serve them, over each article's keyword text and over claim texts:
FTS5 tables with external content and ``detail=none``. On PostgreSQL they are pg_trgm GIN indexes on
``lower(text)`` of the same two tables.
"""

from __future__ import annotations

TABLE = "search_fts"
PUBLIC_TABLE = f"{TABLE}_public"  # SQLite only (migration 0008): the documents of public articles
CONFIG = "garden_search"  # PostgreSQL's text search configuration (migration 0007)
PRIMARY_WEIGHT, SECONDARY_WEIGHT = 10.0, 2.0

#: The kinds of document and their code in a SQLite rowid (bits 40 and up).
KIND_CODES = {"article": 1, "claim": 2, "source": 3}
_KIND_SHIFT, _CLASS_SHIFT = 40, 32
REF_MASK = (1 << _CLASS_SHIFT) - 1
_CLASSES = 255


def document_rowid(kind: str, ref: int, primary_text: str) -> int:
    """The SQLite rowid of a document: kind, length class and ref (the same as :func:`_rowid_sql` computes)."""
    length_class = min(_CLASSES, len(primary_text) // 4)
    return (KIND_CODES[kind] << _KIND_SHIFT) | (length_class << _CLASS_SHIFT) | ref


def _rowid_sql(kind: str, ref: str, primary_text: str) -> str:
    # SQLite's length() counts characters, as Python's len() does (stored text holds no NUL: app.content).
    return (f"(({KIND_CODES[kind]} << {_KIND_SHIFT}) | (min({_CLASSES}, length({primary_text}) / 4) << {_CLASS_SHIFT})"
            f" | {ref})")  # fmt: skip


def kind_bounds(kind: str) -> tuple[int, int]:
    """The first and last SQLite rowid a document of ``kind`` can have."""
    code = KIND_CODES[kind]
    return code << _KIND_SHIFT, ((code + 1) << _KIND_SHIFT) - 1


def _create_fts5(name: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE {name} USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
        "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
    )


#: Created by migration 0004 on SQLite. ``kind``, ``ref`` and ``article_id`` are kept, not searched.
CREATE_SQLITE = _create_fts5(TABLE)
#: Created by migration 0008 on SQLite: the same columns, public documents only.
CREATE_PUBLIC_SQLITE = _create_fts5(PUBLIC_TABLE)
COLUMNS = "primary_text, secondary_text, kind, ref, article_id"
#: The public articles: the one place the search index reads visibility.
PUBLIC_ARTICLES = "SELECT id FROM article WHERE is_public"

#: Trigram indexes for substring filters (migration 0006, SQLite): name -> (content table, rowid column).
SUBSTRING_TABLES = {"keyword_trigram": ("article_keyword", "article_id"), "claim_trigram": ("claim", "id")}
CREATE_SUBSTRING_SQLITE = [
    f"CREATE VIRTUAL TABLE {name} USING fts5(text, content='{content}', content_rowid='{rowid}', "
    "tokenize='trigram', detail='none')"
    for name, (content, rowid) in SUBSTRING_TABLES.items()
]
MANAGED = (TABLE, *SUBSTRING_TABLES)

#: Created by migration 0007 on PostgreSQL. The extensions are trusted: a database owner may create them.
CREATE_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    f"""CREATE TABLE {TABLE} (
        kind varchar COLLATE "C" NOT NULL, ref integer NOT NULL, article_id integer NOT NULL,
        primary_text text COLLATE "C" NOT NULL, secondary_text text COLLATE "C" NOT NULL,
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{CONFIG}', primary_text), 'A') ||
            setweight(to_tsvector('{CONFIG}', secondary_text), 'B')) STORED)""",
    f"CREATE INDEX {TABLE}_document ON {TABLE} USING gin (document)",
    f"CREATE INDEX {TABLE}_article ON {TABLE} (article_id)",
    f"CREATE INDEX {TABLE}_ref ON {TABLE} (kind, ref)",
    *(f"CREATE INDEX {name} ON {content} USING gin (lower(text) gin_trgm_ops)"
      for name, (content, _) in SUBSTRING_TABLES.items()),
]  # fmt: skip
DROP_POSTGRES = [f"DROP TABLE {TABLE}", f"DROP TEXT SEARCH CONFIGURATION {CONFIG}",
                 *(f"DROP INDEX {name}" for name in SUBSTRING_TABLES)]  # fmt: skip


def postgres_kind_index(kind: str) -> str:
    """PostgreSQL (migration 0011): the GIN index of one kind's documents."""
    return f"CREATE INDEX {TABLE}_{kind}_document ON {TABLE} USING gin (document) WHERE kind = '{kind}'"


def _documents(dialect: str) -> dict[str, tuple[str, str, str, str]]:
    """{kind: (FROM clause, ref, primary text, secondary text)}: the documents of the stored rows, as ingest
    writes them (the evidence and counterevidence of a claim joined by spaces)."""
    joined = "string_agg({0}, ' ' ORDER BY {1})" if dialect == "postgresql" else "group_concat({0}, ' ')"
    evidence, counter = joined.format("e.snippet", "e.id"), joined.format("x.summary", "x.id")
    return {
        "claim": ("claim c", "c.id", "c.text",
                  f"coalesce((SELECT {evidence} FROM evidence e WHERE e.claim_id = c.id), '') || ' ' || "
                  f"coalesce((SELECT {counter} FROM counterevidence x WHERE x.claim_id = c.id), '')"),
        "article": ("article a", "a.id", "a.title",
                    "coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis"),
        "source": ("source s", "s.id", "s.title", "''"),
    }  # fmt: skip


def _owner(kind: str) -> str:
    return {"claim": "c.article_id", "article": "a.id", "source": "s.article_id"}[kind]


def backfill(dialect: str) -> list[str]:
    """INSERTs that index the corpus already stored (a database upgraded in place), as ingest indexes it."""
    statements = []
    for kind, (source, ref, primary, secondary) in _documents(dialect).items():
        rowid = f"{_rowid_sql(kind, ref, primary)}, " if dialect == "sqlite" else ""
        columns = f"INSERT INTO {TABLE} ({'rowid, ' if rowid else ''}{COLUMNS})"
        statements.append(f"{columns} SELECT {rowid}{primary}, {secondary}, '{kind}', {ref}, {_owner(kind)} "
                          f"FROM {source}")  # fmt: skip
    return statements


def backfill_public() -> str:
    """The INSERT that fills :data:`PUBLIC_TABLE` from the full table (migration 0008), rowid for rowid."""
    return (
        f"INSERT INTO {PUBLIC_TABLE} (rowid, {COLUMNS}) SELECT rowid, {COLUMNS} FROM {TABLE} "
        f"WHERE article_id IN ({PUBLIC_ARTICLES})"
    )


def rowids_sql() -> str:
    """SQLite: the rowids of the documents of the articles ``:ids``, computed from their stored rows."""
    parts = []
    for kind, (source, ref, primary, _) in _documents("sqlite").items():
        parts.append(f"SELECT {_rowid_sql(kind, ref, primary)} FROM {source} WHERE {_owner(kind)} IN :ids")
    return " UNION ALL ".join(parts)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's filter: the search tables (FTS5's, with their shadow tables, or PostgreSQL's) and the trigram
    indexes are made by hand, not described by the models."""
    return not (type_ in ("table", "index") and bool(name) and str(name).startswith(MANAGED))
