"""Full-text search: the one dialect-specific seam (SQLite FTS5 here; PostgreSQL's tsvector joins it later).

One index holds three kinds of document, each with a primary and a secondary text weighted for ranking:

* claim: the claim text; its evidence snippets and counterevidence summaries;
* article: the title; summary, dek and thesis;
* source: the title.

Ingest calls :func:`remove` for articles it replaces and :func:`add` for the rows it writes, inside its
transaction, so the index always matches the corpus. :func:`match_sql` turns any user string into a safe query.

The ``q`` filters of ``/articles`` and ``/claims`` are substring matches, not word searches; on SQLite two
trigram indexes serve them (:func:`contains`), over each article's keyword text and over claim texts. They
are FTS5 tables with external content (the text is stored once, in its own table) and ``detail=none``
(no positions: a LIKE only needs which rows hold every trigram, and SQLite checks each candidate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, TextClause, bindparam, func, select, text

TABLE = "search_fts"
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


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's filter: FTS5's tables and their shadow tables are made by hand, not described by the models."""
    return not (type_ == "table" and bool(name) and str(name).startswith(_MANAGED))


def contains(dialect: str, column: Column[str], rowid: ColumnElement[int], needle: str) -> ColumnElement[bool]:
    """Rows whose ``rowid`` names a row whose ``column`` holds ``needle`` (ASCII case ignored).

    ``column`` is ``article_keyword.text`` (stored lowercased) or ``claim.text``; ``rowid`` is the article or
    claim id to filter on. On SQLite the trigram index answers a needle of three or more characters; one with
    ``%`` or ``_`` (which LIKE would read as wildcards: FTS5 cannot use the index with an ESCAPE clause) or
    shorter than three characters is matched by a scan, as it is where no trigram index exists.
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


def match_expression(words: Sequence[str]) -> str:
    """An FTS5 query matching any of the words (each quoted, so AND/OR/NEAR are plain words); bm25 ranks."""
    return " OR ".join(f'"{word}"' for word in words)


def hits_sql(kind: str) -> TextClause:
    """Matches of ``:match`` among documents of ``kind``: ref, score (higher is better), highlighted snippet."""
    return text(
        f"SELECT ref, -bm25({TABLE}, {PRIMARY_WEIGHT}, {SECONDARY_WEIGHT}) AS score, "
        f"snippet({TABLE}, -1, '<mark>', '</mark>', '…', 16) AS snippet "
        f"FROM {TABLE} WHERE {TABLE} MATCH :match AND kind = '{kind}'"
    ).bindparams(bindparam("match"))


def remove(conn: Connection, article_ids: Sequence[int]) -> None:
    """Drop the documents of these articles (before their rows are deleted: the trigram indexes read them)."""
    if conn.dialect.name != "sqlite" or not article_ids:
        return
    ids = {"ids": list(article_ids)}
    for name, (content, rowid) in SUBSTRING_TABLES.items():
        # External content: FTS5 is told the old text of each row it should forget.
        conn.execute(text(f"INSERT INTO {name} ({name}, rowid, text) SELECT 'delete', {rowid}, text FROM {content} "
                          "WHERE article_id IN :ids").bindparams(bindparam("ids", expanding=True)), ids)  # fmt: skip
    conn.execute(text(f"DELETE FROM {TABLE} WHERE article_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                 {"ids": list(article_ids)})  # fmt: skip


def add(conn: Connection, documents: Iterable[dict[str, Any]], substrings: dict[str, list[tuple[int, str]]]) -> None:
    """Index documents ``{kind, ref, article_id, primary_text, secondary_text}``, and the ``substrings``
    ``{content table: [(rowid, text)]}`` of rows just written to ``article_keyword`` and ``claim``."""
    rows = list(documents)
    if conn.dialect.name != "sqlite":
        return
    for name, (content, _) in SUBSTRING_TABLES.items():
        if substrings.get(content):
            conn.exec_driver_sql(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", substrings[content])
    if not rows:
        return
    conn.execute(
        text(f"INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id) "
             "VALUES (:primary_text, :secondary_text, :kind, :ref, :article_id)"),
        rows,
    )  # fmt: skip
