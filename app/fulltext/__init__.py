"""Full-text search: the one dialect-specific seam (SQLite FTS5, PostgreSQL tsvector).

* :mod:`app.fulltext.schema`: the tables on each dialect, how a document is keyed, the SQL that fills them;
* :mod:`app.fulltext.index`: ingest's side (adding and removing documents) and the substring filters;
* :mod:`app.fulltext.query`: what a query's words select, and the ranked window of hits.
"""

from app.fulltext.index import add, contains, remove
from app.fulltext.query import (
    MAX_TERMS,
    STOPWORDS,
    WINDOWS,
    content_words,
    frequencies,
    hits,
    match_expression,
    snippets,
    terms,
    window,
)
from app.fulltext.schema import (
    CONFIG,
    CREATE_POSTGRES,
    CREATE_PUBLIC_SQLITE,
    CREATE_SQLITE,
    CREATE_SUBSTRING_SQLITE,
    DROP_POSTGRES,
    KIND_CODES,
    PUBLIC_TABLE,
    SUBSTRING_TABLES,
    TABLE,
    backfill,
    backfill_public,
    document_rowid,
    include_name,
    postgres_kind_index,
)

__all__ = [
    "CONFIG", "CREATE_POSTGRES", "CREATE_PUBLIC_SQLITE", "CREATE_SQLITE", "CREATE_SUBSTRING_SQLITE", "DROP_POSTGRES",
    "KIND_CODES", "MAX_TERMS", "PUBLIC_TABLE", "STOPWORDS", "SUBSTRING_TABLES", "TABLE", "WINDOWS", "add",
    "backfill", "backfill_public", "contains", "content_words", "document_rowid", "frequencies", "hits",
    "include_name", "match_expression", "postgres_kind_index", "remove", "snippets", "terms", "window",
]  # fmt: skip
