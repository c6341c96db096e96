"""Full-text search: the one dialect-specific seam (SQLite FTS5 here; PostgreSQL's tsvector joins it later).

One index holds three kinds of document, each with a primary and a secondary text weighted for ranking:

* claim: the claim text; its evidence snippets and counterevidence summaries;
* article: the title; summary, dek and thesis;
* source: the title.

Ingest calls :func:`remove` for articles it replaces and :func:`add` for the rows it writes, inside its
transaction, so the index always matches the corpus. :func:`match_sql` turns any user string into a safe query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

TABLE = "search_fts"
PRIMARY_WEIGHT, SECONDARY_WEIGHT = 10.0, 2.0
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)

#: Created by migration 0004 on SQLite. ``kind`` and ``ref`` (claim, article or source id) are not searched.
CREATE_SQLITE = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(primary_text, secondary_text, kind UNINDEXED, ref UNINDEXED, "
    "article_id UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's filter: FTS5's table and its shadow tables are made by hand, not described by the models."""
    return not (type_ == "table" and bool(name) and str(name).startswith(TABLE))


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
    """Drop the documents of these articles."""
    if conn.dialect.name != "sqlite" or not article_ids:
        return
    conn.execute(text(f"DELETE FROM {TABLE} WHERE article_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                 {"ids": list(article_ids)})  # fmt: skip


def add(conn: Connection, documents: Iterable[dict[str, Any]]) -> None:
    """Index documents ``{kind, ref, article_id, primary_text, secondary_text}``."""
    rows = list(documents)
    if conn.dialect.name != "sqlite" or not rows:
        return
    conn.execute(
        text(f"INSERT INTO {TABLE} (primary_text, secondary_text, kind, ref, article_id) "
             "VALUES (:primary_text, :secondary_text, :kind, :ref, :article_id)"),
        rows,
    )  # fmt: skip
