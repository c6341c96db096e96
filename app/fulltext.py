"""Full-text search: the one dialect-specific seam (SQLite FTS5, PostgreSQL tsvector).

One index holds three kinds of document, each with a primary and a secondary text weighted for ranking:

* claim: the claim text; its evidence snippets and counterevidence summaries;
* article: the title; summary, dek and thesis;
* source: the title.

Ingest calls :func:`remove` for articles it replaces and :func:`add` for the rows it writes, inside its
transaction, so the index always matches the corpus. :func:`match_expression` turns any user's words into a
safe query, :func:`hits_sql` ranks the matches and :func:`snippets_sql` highlights the page that is shown.

* SQLite (migration 0004): an FTS5 table, Porter stemming with diacritics removed; bm25 ranks. bm25 weighs
  each word by its rarity over the whole table, so a table that also held drafts would let a hidden article
  move public scores and order. Migration 0008 therefore adds a second FTS5 table, :data:`PUBLIC_TABLE`,
  holding only the documents of public articles (``article.is_public``, read in SQL here, so that it is the
  same rule as everywhere else): anonymous searches rank over it, preview searches over the full table. Each
  public document has the same rowid in both tables, so that :func:`remove` finds it in either by one scan.
* PostgreSQL (migration 0007): a table of the same name and columns whose ``document`` is a generated
  tsvector (primary text weight A, secondary B) with a GIN index, in the text search configuration
  ``garden_search`` (English Snowball stemming after ``unaccent``); ``websearch_to_tsquery`` parses,
  ``ts_rank`` ranks with the same 10 : 2 weights, and ``ts_headline`` highlights. ``ts_rank`` reads only the
  one document and the query (term frequencies, weights and the document's length: PostgreSQL keeps no
  statistics over other documents for it), so hidden articles cannot move public scores and one table serves
  both audiences.

Both take any of the words (OR) and rank documents holding more of them first; bm25 also weighs a word by
how rare it is across the documents, which ts_rank does not (the relevance test clears the same bar on both).

The ``q`` filters of ``/articles`` and ``/claims`` are substring matches, not word searches (:func:`contains`).
On SQLite two trigram indexes serve them, over each article's keyword text and over claim texts: FTS5 tables
with external content (the text is stored once, in its own table) and ``detail=none`` (no positions: a LIKE
only needs which rows hold every trigram, and SQLite checks each candidate). On PostgreSQL they are pg_trgm
GIN indexes on ``lower(text)`` of the same two tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Column, ColumnElement, Connection, TextClause, bindparam, func, select, text

TABLE = "search_fts"
PUBLIC_TABLE = f"{TABLE}_public"  # SQLite only (migration 0008): the documents of public articles
CONFIG = "garden_search"  # PostgreSQL's text search configuration (migration 0007)
PRIMARY_WEIGHT, SECONDARY_WEIGHT = 10.0, 2.0
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)


def _create_fts5(name: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE {name} USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
        "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
    )


#: Created by migration 0004 on SQLite. ``kind`` and ``ref`` (claim, article or source id) are not searched.
CREATE_SQLITE = _create_fts5(TABLE)
#: Created by migration 0008 on SQLite: the same columns, public documents only.
CREATE_PUBLIC_SQLITE = _create_fts5(PUBLIC_TABLE)
_COLUMNS = "primary_text, secondary_text, kind, ref, article_id"
#: The public articles: the one place this module reads visibility.
_PUBLIC_ARTICLES = "SELECT id FROM article WHERE is_public"


#: Trigram indexes for substring filters (migration 0006, SQLite): name -> (content table, rowid column).
SUBSTRING_TABLES = {"keyword_trigram": ("article_keyword", "article_id"), "claim_trigram": ("claim", "id")}
CREATE_SUBSTRING_SQLITE = [
    f"CREATE VIRTUAL TABLE {name} USING fts5(text, content='{content}', content_rowid='{rowid}', "
    "tokenize='trigram', detail='none')"
    for name, (content, rowid) in SUBSTRING_TABLES.items()
]
_MANAGED = (TABLE, *SUBSTRING_TABLES)

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


def backfill(dialect: str) -> list[str]:
    """INSERTs that index the corpus already stored (a database upgraded in place), as ingest indexes it."""
    joined = "string_agg({0}, ' ' ORDER BY {1})" if dialect == "postgresql" else "group_concat({0}, ' ')"
    evidence, counter = joined.format("e.snippet", "e.id"), joined.format("x.summary", "x.id")
    columns = f"INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id)"
    return [
        f"""{columns} SELECT c.text,
               coalesce((SELECT {evidence} FROM evidence e WHERE e.claim_id = c.id), '') || ' ' ||
               coalesce((SELECT {counter} FROM counterevidence x WHERE x.claim_id = c.id), ''),
               'claim', c.id, c.article_id
        FROM claim c""",
        f"""{columns} SELECT a.title, coalesce(a.summary, '') || ' ' || coalesce(a.dek, '') || ' ' || a.thesis,
               'article', a.id, a.id
        FROM article a""",
        f"{columns} SELECT s.title, '', 'source', s.id, s.article_id FROM source s",
    ]


def backfill_public() -> str:
    """The INSERT that fills :data:`PUBLIC_TABLE` from the full table (migration 0008), rowid for rowid."""
    return (
        f"INSERT INTO {PUBLIC_TABLE} (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM {TABLE} "
        f"WHERE article_id IN ({_PUBLIC_ARTICLES})"
    )


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's filter: the search tables (FTS5's, with their shadow tables, or PostgreSQL's) and the trigram
    indexes are made by hand, not described by the models."""
    return not (type_ in ("table", "index") and bool(name) and str(name).startswith(_MANAGED))


def contains(dialect: str, column: Column[str], rowid: ColumnElement[int], needle: str) -> ColumnElement[bool]:
    """Rows whose ``rowid`` names a row whose ``column`` holds ``needle`` (ASCII case ignored).

    ``column`` is ``article_keyword.text`` (stored lowercased) or ``claim.text``; ``rowid`` is the article or
    claim id to filter on. On SQLite the trigram index answers a needle of three or more characters; one with
    ``%`` or ``_`` (which LIKE would read as wildcards: FTS5 cannot use the index with an ESCAPE clause) or
    shorter than three characters is matched by a scan, as it is where no trigram index exists. On PostgreSQL
    the LIKE below is answered from the pg_trgm index on ``lower(text)`` (a needle of three or more
    characters; a shorter one has no trigram to look up, and PostgreSQL scans).
    """
    owner = column.table
    index = next((name for name, (content, _) in SUBSTRING_TABLES.items() if content == owner.name), None)
    if dialect == "sqlite" and index and len(needle) >= 3 and "%" not in needle and "_" not in needle:
        return rowid.in_(text(f"SELECT rowid FROM {index} WHERE text LIKE :needle").bindparams(needle=f"%{needle}%"))
    match = func.lower(column).contains(needle.lower(), autoescape=True)
    if getattr(rowid, "table", None) is owner:
        return match
    key = owner.c[SUBSTRING_TABLES[index][1]] if index else owner.primary_key.columns[0]
    return rowid.in_(select(key).where(match))


def terms(query: str) -> list[str]:
    """The words of a user query: punctuation, quotes and operators are dropped, never interpreted."""
    return _WORD.findall(query)[:MAX_TERMS]


def match_expression(dialect: str, words: Sequence[str]) -> str:
    """A query matching any of the words, for :func:`hits_sql` and :func:`snippets_sql`.

    FTS5: each word quoted, so AND/OR/NEAR are plain words. PostgreSQL: the words joined by ``or``, which
    ``websearch_to_tsquery`` reads as OR (the words are ``\\w+``, so there are no quotes or ``-`` to read;
    the word "or" itself, a stop word, is dropped).
    """
    if dialect == "postgresql":
        return " or ".join(word for word in words if word.lower() != "or")
    return " OR ".join(f'"{word}"' for word in words)


#: ts_rank's weights for D, C, B and A: the secondary text (B) counts a fifth of the primary (A), as in bm25.
_PG_WEIGHTS = f"'{{0, 0, {SECONDARY_WEIGHT / PRIMARY_WEIGHT}, 1}}'"
_PG_QUERY = f"websearch_to_tsquery('{CONFIG}', :match)"


def _ranked_table(dialect: str, public: bool) -> str:
    return PUBLIC_TABLE if public and dialect == "sqlite" else TABLE


def hits_sql(dialect: str, kind: str, *, public: bool) -> TextClause:
    """Matches of ``:match`` among documents of ``kind``: ref and score (higher is better). ``public`` (an
    anonymous caller) ranks over the public documents only, with statistics that no hidden article moves."""
    if dialect == "postgresql":
        # Normalisation 1 divides by 1 + log(document length), as bm25 discounts long documents. ts_rank's real
        # is widened to a double, which its text form and a cursor's key carry exactly (a real's shortest
        # decimal is another number as a double, and would not compare equal to itself).
        return text(
            f"SELECT ref, ts_rank({_PG_WEIGHTS}, document, query, 1)::float8 AS score "
            f"FROM {TABLE}, {_PG_QUERY} AS query WHERE document @@ query AND kind = '{kind}'"
        ).bindparams(bindparam("match"))
    table = _ranked_table(dialect, public)
    return text(
        f"SELECT ref, -bm25({table}, {PRIMARY_WEIGHT}, {SECONDARY_WEIGHT}) AS score "
        f"FROM {table} WHERE {table} MATCH :match AND kind = '{kind}'"
    ).bindparams(bindparam("match"))


def snippets_sql(dialect: str, kind: str, *, public: bool) -> TextClause:
    """``ref, snippet`` for the documents ``:refs`` of ``kind``: about 16 words around the matches of ``:match``,
    each marked ``<mark>…</mark>``. Only the page shown is highlighted (PostgreSQL re-parses each text)."""
    if dialect == "postgresql":
        options = "StartSel=<mark>, StopSel=</mark>, MaxWords=16, MinWords=8, MaxFragments=1, FragmentDelimiter=…"
        sql = (
            f"SELECT ref, ts_headline('{CONFIG}', primary_text || ' ' || secondary_text, {_PG_QUERY}, "
            f"'{options}') AS snippet FROM {TABLE} WHERE kind = '{kind}' AND ref IN :refs"
        )
    else:
        table = _ranked_table(dialect, public)
        sql = (
            f"SELECT ref, snippet({table}, -1, '<mark>', '</mark>', '…', 16) AS snippet "
            f"FROM {table} WHERE {table} MATCH :match AND kind = '{kind}' AND ref IN :refs"
        )
    return text(sql).bindparams(bindparam("match"), bindparam("refs", expanding=True))


_ROWIDS_CHUNK = 10_000  # rowids per DELETE (SQLite allows 32,766 parameters)


def remove(conn: Connection, article_ids: Sequence[int]) -> None:
    """Drop the documents of these articles (before their rows are deleted: SQLite's trigram indexes read them;
    PostgreSQL's indexes follow their rows by themselves).

    On SQLite one scan of the full table finds the documents' rowids (``article_id`` is not indexed), and each
    rowid is deleted from both tables: a public document has the same rowid in :data:`PUBLIC_TABLE`."""
    if not article_ids:
        return
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    if conn.dialect.name != "sqlite":
        conn.execute(text(f"DELETE FROM {TABLE} WHERE article_id IN :ids").bindparams(ids), {"ids": list(article_ids)})
        return
    for name, (content, rowid) in SUBSTRING_TABLES.items():
        # External content: FTS5 is told the old text of each row it should forget.
        conn.execute(text(f"INSERT INTO {name} ({name}, rowid, text) SELECT 'delete', {rowid}, text FROM {content} "
                          "WHERE article_id IN :ids").bindparams(ids), {"ids": list(article_ids)})  # fmt: skip
    found = conn.execute(text(f"SELECT rowid FROM {TABLE} WHERE article_id IN :ids").bindparams(ids),
                         {"ids": list(article_ids)})  # fmt: skip
    rowids = list(found.scalars())
    for start in range(0, len(rowids), _ROWIDS_CHUNK):
        chunk = {"rowids": rowids[start : start + _ROWIDS_CHUNK]}
        for table in (PUBLIC_TABLE, TABLE):
            conn.execute(text(f"DELETE FROM {table} WHERE rowid IN :rowids").bindparams(
                bindparam("rowids", expanding=True)), chunk)  # fmt: skip


def add(conn: Connection, documents: Iterable[dict[str, Any]], substrings: dict[str, list[tuple[int, str]]]) -> None:
    """Index documents ``{kind, ref, article_id, primary_text, secondary_text}``, and the ``substrings``
    ``{content table: [(rowid, text)]}`` of rows just written to ``article_keyword`` and ``claim``.

    The article rows are written first (ingest's order), so that on SQLite the documents of public articles are
    copied from the full table to :data:`PUBLIC_TABLE` with their rowids, selected by ``article.is_public``."""
    rows = list(documents)
    sqlite = conn.dialect.name == "sqlite"
    for name, (content, _) in SUBSTRING_TABLES.items() if sqlite else ():
        if substrings.get(content):
            conn.exec_driver_sql(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", substrings[content])
    if not rows:
        return
    last = conn.exec_driver_sql(f"SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1").scalar() if sqlite else 0
    values = ":primary_text, :secondary_text, :kind, :ref, :article_id"
    conn.execute(text(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({values})"), rows)
    if sqlite:
        conn.execute(text(f"{backfill_public()} AND rowid > :last"), {"last": last or 0})
