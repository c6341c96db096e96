"""Keeping the search index in step with the rows: ingest's side of the seam, and the substring filters.

Ingest calls :func:`remove` for articles it replaces (before their rows are deleted) and :func:`add` for the
rows it writes, inside its transaction, so that the index always matches the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BindParameter, Column, ColumnElement, Connection, bindparam, func, select, text

from app.fulltext.schema import COLUMNS, PUBLIC_TABLE, SUBSTRING_TABLES, TABLE, document_rowid, rowids_sql

Document = tuple[int, int, str, str, str, bool]
"""A search document: ref, article id, kind, primary text, secondary text, and whether its article is public."""

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


def add(conn: Connection, documents: Sequence[Document], substrings: dict[str, list[tuple[int, str]]]) -> None:
    """Index ``documents`` ``(ref, article_id, kind, primary_text, secondary_text, is_public)`` and the
    ``substrings`` ``{content table: [(rowid, text)]}`` of rows just written to ``article_keyword`` and ``claim``.

    SQLite: the documents of public articles also go to :data:`PUBLIC_TABLE`, under the same rowids. They are
    written in rowid order: FTS5 appends to its in-memory index while rowids increase, and writes a segment out
    each time one goes down (unsorted, a 10,000-article ingest spent 13 s of its 38 here instead of 3).
    PostgreSQL: one pipelined ``executemany``; its generated ``document`` column and GIN indexes follow."""
    sqlite = conn.dialect.name == "sqlite"
    for name, (content, _) in SUBSTRING_TABLES.items() if sqlite else ():
        if substrings.get(content):
            conn.exec_driver_sql(f"INSERT INTO {name} (rowid, text) VALUES (?, ?)", substrings[content])
    if not documents:
        return
    if not sqlite:
        values = "%(primary)s, %(secondary)s, %(kind)s, %(ref)s, %(article)s, %(public)s"
        conn.exec_driver_sql(f"INSERT INTO {TABLE} ({COLUMNS}, is_public) VALUES ({values})",
                             [{"ref": ref, "article": article, "kind": kind, "primary": primary,
                               "secondary": secondary, "public": public}
                              for ref, article, kind, primary, secondary, public in documents])  # fmt: skip
        return
    keyed = sorted(
        (document_rowid(kind, ref, primary), primary, secondary, kind, ref, article, public)
        for ref, article, kind, primary, secondary, public in documents
    )
    insert = "INSERT INTO {} (rowid, " + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)"
    conn.exec_driver_sql(insert.format(TABLE), [row[:6] for row in keyed])
    shown = [row[:6] for row in keyed if row[6]]
    if shown:
        conn.exec_driver_sql(insert.format(PUBLIC_TABLE), shown)
