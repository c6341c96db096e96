"""Keeping the search index in step with the rows: ingest's side of the seam, and the substring filters.

Ingest calls :func:`remove` for articles it replaces (before their rows are deleted) and :func:`add` for the
rows it writes, inside its transaction, so that the index always matches the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BindParameter, Column, ColumnElement, Connection, bindparam, func, select, text

from app.fulltext.schema import COLUMNS, PUBLIC_TABLE, SUBSTRING_TABLES, TABLE, document_rowid, rowids_sql

_ROWIDS_CHUNK = 10_000  # rowids per DELETE (SQLite allows 32,766 parameters)


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


def remove(conn: Connection, article_ids: Sequence[int]) -> None:
    """Drop the documents of these articles (before their rows are deleted: SQLite computes the documents'
    rowids from those rows, and its trigram indexes read their text; PostgreSQL's indexes follow their rows)."""
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
    rowids = list(conn.execute(text(rowids_sql()).bindparams(ids), {"ids": list(article_ids)}).scalars())
    for start in range(0, len(rowids), _ROWIDS_CHUNK):
        chunk = {"rowids": rowids[start : start + _ROWIDS_CHUNK]}
        for table in (PUBLIC_TABLE, TABLE):
            conn.execute(text(f"DELETE FROM {table} WHERE rowid IN :rowids").bindparams(
                bindparam("rowids", expanding=True)), chunk)  # fmt: skip


def add(conn: Connection, documents: Iterable[dict[str, Any]], substrings: dict[str, list[tuple[int, str]]]) -> None:
    """Index documents ``{kind, ref, article_id, primary_text, secondary_text}``, and the ``substrings``
    ``{content table: [(rowid, text)]}`` of rows just written to ``article_keyword`` and ``claim``.

    The article rows are written first (ingest's order), so that the documents of public articles
    (``article.is_public``, read in SQL here) also go to :data:`PUBLIC_TABLE` on SQLite, under the same rowids,
    and say ``is_public`` on PostgreSQL."""
    rows = list(documents)
    sqlite = conn.dialect.name == "sqlite"
    for name, (content, _) in SUBSTRING_TABLES.items() if sqlite else ():
        if substrings.get(content):
            conn.exec_driver_sql(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", substrings[content])
    if not rows:
        return
    public = _public_articles(conn, sorted({row["article_id"] for row in rows}))
    if not sqlite:
        values = ":primary_text, :secondary_text, :kind, :ref, :article_id, :is_public"
        conn.execute(text(f"INSERT INTO {TABLE} ({COLUMNS}, is_public) VALUES ({values})"),
                     [{**row, "is_public": row["article_id"] in public} for row in rows])  # fmt: skip
        return
    keyed = [
        (document_rowid(row["kind"], row["ref"], row["primary_text"]), row["primary_text"], row["secondary_text"],
         row["kind"], row["ref"], row["article_id"])
        for row in rows
    ]  # fmt: skip
    insert = "INSERT INTO {} (rowid, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)"
    conn.exec_driver_sql(insert.format(TABLE), keyed)
    shown = [row for row in keyed if row[5] in public]
    if shown:
        conn.exec_driver_sql(insert.format(PUBLIC_TABLE), shown)


def _public_articles(conn: Connection, article_ids: list[int]) -> set[int]:
    """Which of these articles are public (``article.is_public``: the one rule, written by ingest before)."""
    public: set[int] = set()
    for start in range(0, len(article_ids), _ROWIDS_CHUNK):
        chunk = article_ids[start : start + _ROWIDS_CHUNK]
        found = conn.execute(text("SELECT id FROM article WHERE is_public AND id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": chunk})  # fmt: skip
        public.update(found.scalars())
    return public
