"""Full-text search: the one dialect-specific seam (SQLite FTS5, PostgreSQL tsvector).

One index holds three kinds of document, each with a primary and a secondary text weighted for ranking:

* claim: the claim text; its evidence snippets and counterevidence summaries;
* article: the title; summary, dek and thesis;
* source: the title.

Ingest calls :func:`remove` for articles it replaces and :func:`add` for the rows it writes, inside its
transaction, so the index always matches the corpus. :func:`match_expression` turns any user's words into a
safe query, :func:`hits_sql` ranks the matches and :func:`snippets_sql` highlights the page that is shown.

* SQLite (migration 0004): an FTS5 table, Porter stemming with diacritics removed; bm25 ranks.
* PostgreSQL (migration 0007): a table of the same name and columns whose ``document`` is a generated
  tsvector (primary text weight A, secondary B) with a GIN index, in the text search configuration
  ``garden_search`` (English Snowball stemming after ``unaccent``); ``websearch_to_tsquery`` parses,
  ``ts_rank`` ranks with the same 10 : 2 weights, and ``ts_headline`` highlights.

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

from sqlalchemy import Column, ColumnElement, Connection, TextClause, bindparam, func, select, text

TABLE = "search_fts"
CONFIG = "garden_search"  # PostgreSQL's text search configuration (migration 0007)
PRIMARY_WEIGHT, SECONDARY_WEIGHT = 10.0, 2.0
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)

#: Created by migration 0004 on SQLite. ``kind`` and ``ref`` (claim, article or source id) are not searched.
CREATE_SQLITE = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
    "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)


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


def hits_sql(dialect: str, kind: str) -> TextClause:
    """Matches of ``:match`` among documents of ``kind``: ref and score (higher is better)."""
    if dialect == "postgresql":
        # Normalisation 1 divides by 1 + log(document length), as bm25 discounts long documents.
        return text(
            f"SELECT ref, ts_rank({_PG_WEIGHTS}, document, query, 1) AS score "
            f"FROM {TABLE}, {_PG_QUERY} AS query WHERE document @@ query AND kind = '{kind}'"
        ).bindparams(bindparam("match"))
    return text(
        f"SELECT ref, -bm25({TABLE}, {PRIMARY_WEIGHT}, {SECONDARY_WEIGHT}) AS score "
        f"FROM {TABLE} WHERE {TABLE} MATCH :match AND kind = '{kind}'"
    ).bindparams(bindparam("match"))


def snippets_sql(dialect: str, kind: str) -> TextClause:
    """``ref, snippet`` for the documents ``:refs`` of ``kind``: about 16 words around the matches of ``:match``,
    each marked ``<mark>…</mark>``. Only the page shown is highlighted (PostgreSQL re-parses each text)."""
    if dialect == "postgresql":
        options = "StartSel=<mark>, StopSel=</mark>, MaxWords=16, MinWords=8, MaxFragments=1, FragmentDelimiter=…"
        sql = (
            f"SELECT ref, ts_headline('{CONFIG}', primary_text || ' ' || secondary_text, {_PG_QUERY}, "
            f"'{options}') AS snippet FROM {TABLE} WHERE kind = '{kind}' AND ref IN :refs"
        )
    else:
        sql = (
            f"SELECT ref, snippet({TABLE}, -1, '<mark>', '</mark>', '…', 16) AS snippet "
            f"FROM {TABLE} WHERE {TABLE} MATCH :match AND kind = '{kind}' AND ref IN :refs"
        )
    return text(sql).bindparams(bindparam("match"), bindparam("refs", expanding=True))


def remove(conn: Connection, article_ids: Sequence[int]) -> None:
    """Drop the documents of these articles (before their rows are deleted: SQLite's trigram indexes read them;
    PostgreSQL's indexes follow their rows by themselves)."""
    if not article_ids:
        return
    ids = {"ids": list(article_ids)}
    for name, (content, rowid) in SUBSTRING_TABLES.items() if conn.dialect.name == "sqlite" else ():
        # External content: FTS5 is told the old text of each row it should forget.
        conn.execute(text(f"INSERT INTO {name} ({name}, rowid, text) SELECT 'delete', {rowid}, text FROM {content} "
                          "WHERE article_id IN :ids").bindparams(bindparam("ids", expanding=True)), ids)  # fmt: skip
    conn.execute(text(f"DELETE FROM {TABLE} WHERE article_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                 {"ids": list(article_ids)})  # fmt: skip


def add(conn: Connection, documents: Iterable[dict[str, Any]], substrings: dict[str, list[tuple[int, str]]]) -> None:
    """Index documents ``{kind, ref, article_id, primary_text, secondary_text}``, and the ``substrings``
    ``{content table: [(rowid, text)]}`` of rows just written to ``article_keyword`` and ``claim``."""
    rows = list(documents)
    for name, (content, _) in SUBSTRING_TABLES.items() if conn.dialect.name == "sqlite" else ():
        if substrings.get(content):
            conn.exec_driver_sql(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", substrings[content])
    if not rows:
        return
    conn.execute(
        text(f"INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id) "
             "VALUES (:primary_text, :secondary_text, :kind, :ref, :article_id)"),
        rows,
    )  # fmt: skip
