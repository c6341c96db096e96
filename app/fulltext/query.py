"""Searching the index: the words of a query, which of them select documents, and the ranked window of hits.

**What a query means.** Any user's words are safe (:func:`terms`: punctuation, quotes and operators are dropped,
never interpreted). English stop words (:data:`STOPWORDS`, PostgreSQL's ``english`` list, which its parser
drops as well) select nothing: a query of stop words alone matches nothing. The other words are taken with OR,
and bm25 (SQLite) or ts_rank (PostgreSQL) ranks the documents holding more of them, and rarer ones, first.

**Common words.** A word held by more documents than one search ranks (:func:`window`) is *common*: its IDF
is low and its matches would swamp the rarer words. As in Elasticsearch's common-terms query (with an
absolute cutoff), when a query also has words that are not common, only those select and rank documents; a
query of common words only selects the documents holding all of them (AND), or, where none does, any of them.
How many documents hold a word is counted from the index, capped at the cutoff (:func:`frequencies`), over the
documents the caller may see (anonymous counts read the public table on SQLite and public articles on
PostgreSQL), so that a hidden article never changes which words are common for anonymous callers.

**The window.** Ranking costs per matching document (bm25 and ts_rank read each match), so no search ranks more
than :func:`window` documents of a kind: the first ones in the index's own order (on SQLite shortest primary
text first, app.fulltext.schema; on PostgreSQL the table's order). When a kind has more matches than that,
the hits are the best of its window and the total says "at least" (app.queries.search). With the rules above
this only happens for queries of common words: a query with a word that is not common has fewer matches per
word than the window. Filters narrow a window; where a window holds too few documents that pass them, the
search ranks the documents that pass the filters instead (:func:`hits`, ``among``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    Float,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    tuple_,
)

from app.fulltext.schema import (
    CONFIG,
    PRIMARY_WEIGHT,
    PUBLIC_TABLE,
    REF_MASK,
    SECONDARY_WEIGHT,
    TABLE,
    kind_bounds,
)

MAX_TERMS = 32
#: The most documents of one kind a search ranks on each dialect, and the count above which a word is common.
#: SQLite's was 5,000 until a slower machine (2.1 GHz Xeon) took 139 ms at p99 for the commonest words at 50,000
#: articles: 2,500 halves the ranking (median of 20 common-word searches 85 -> 63 ms in-process, slowest 143 ->
#: 111 ms), and 65 % of the top ten stay the same.
WINDOWS = {"sqlite": 2_500, "postgresql": 1_000}


def window(dialect: str) -> int:
    """How many documents of one kind a search ranks at most on ``dialect`` (by measurement at 50,000 articles:
    bm25 costs about 0.5 µs a document past a fixed cost per statement; ts_rank reads each document's tsvector
    from the heap, about 6 µs)."""
    return WINDOWS[dialect]


_WORD = re.compile(r"\w+", re.UNICODE)
#: PostgreSQL's english.stop (the Snowball list), which its parser drops in ``garden_search`` too.
_STOP_LIST = """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself
it its itself they them their theirs themselves what which who whom this that these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until while of at by for with
about against between into through during before after above below to from up down in out on off over under
again further then once here there when where why how all any both each few more most other some such no nor not
only own same so than too very s t can will just don should now
"""
STOPWORDS = frozenset(_STOP_LIST.split())


def terms(query: str) -> list[str]:
    """The words of a user query: punctuation, quotes and operators are dropped, never interpreted."""
    return _WORD.findall(query)[:MAX_TERMS]


def content_words(words: Sequence[str]) -> list[str]:
    """The words that can select documents: each once (case aside), stop words left out."""
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.lower(), word)
    # A word of underscores alone (``\w`` holds "_") names no token of either engine.
    return [word for key, word in seen.items() if key not in STOPWORDS and any(c.isalnum() for c in word)]


def match_expression(dialect: str, any_of: Sequence[str] = (), all_of: Sequence[str] = ()) -> str:
    r"""A query matching the documents that hold every word of ``all_of`` and, if ``any_of`` names some, at least
    one of those, for :func:`hits`, :func:`frequencies` and :func:`snippets`. The words are ``\w+`` with a letter
    or digit (:func:`content_words`), so neither engine can read one as an operator.

    FTS5: each word quoted, so AND/OR/NEAR are plain words. PostgreSQL: ``to_tsquery`` syntax (``&``, ``|``).
    """
    quote = (lambda word: word) if dialect == "postgresql" else (lambda word: f'"{word}"')
    both, either = (" & ", " | ") if dialect == "postgresql" else (" AND ", " OR ")
    parts = [quote(word) for word in all_of]
    if any_of:
        alternatives = either.join(quote(word) for word in any_of)
        parts.append(f"({alternatives})" if all_of and len(any_of) > 1 else alternatives)
    return both.join(parts)


def ranked_table(dialect: str, public: bool) -> str:
    return PUBLIC_TABLE if public and dialect == "sqlite" else TABLE


#: ts_rank's weights for D, C, B and A: the secondary text (B) counts a fifth of the primary (A), as in bm25.
_PG_WEIGHTS = f"'{{0, 0, {SECONDARY_WEIGHT / PRIMARY_WEIGHT}, 1}}'"


def _kind_count(dialect: str, kind: str, index: int, cap: int, public: bool) -> str:
    """SQL: how many documents of ``kind`` the match ``:w<index>`` selects, counted up to ``cap``, from the
    kind's own index (PostgreSQL) or rowid range (SQLite)."""
    if dialect == "postgresql":
        visible = " AND is_public" if public else ""
        inner = (f"SELECT 1 FROM {TABLE} WHERE kind = '{kind}' AND document @@ to_tsquery('{CONFIG}', :w{index})"
                 f"{visible} LIMIT {cap}")  # fmt: skip
    else:
        name = ranked_table(dialect, public)
        low, high = kind_bounds(kind)
        inner = f"SELECT 1 FROM {name} WHERE {name} MATCH :w{index} AND rowid BETWEEN {low} AND {high} LIMIT {cap}"
    return f"SELECT count(*) AS n FROM ({inner}) AS k"


def frequencies(dialect: str, count: int, kinds: Sequence[str], *, public: bool) -> Any:
    """One statement: how many documents of ``kinds`` hold each of the words ``:w0 … :w<count-1>`` (in their
    match form), each counted up to ``window(dialect) + 1``: columns ``f0 …``. Each kind is counted apart, and
    the others only when the first does not already reach the cap (PostgreSQL runs an InitPlan when its value is
    first needed; SQLite evaluates a CASE branch only when it is taken)."""
    cap = window(dialect) + 1
    parts = []
    least = "min" if dialect == "sqlite" else "least"
    for index in range(count):
        first, *others = [_kind_count(dialect, kind, index, cap, public) for kind in kinds]
        rest = " + ".join(["first.n", *(f"({other})" for other in others)])
        parts.append(f"(SELECT CASE WHEN first.n >= {cap} THEN {cap} ELSE {least}({rest}, {cap}) END "
                     f"FROM ({first}) AS first) AS f{index}")  # fmt: skip
    return text("SELECT " + ", ".join(parts))


def hits(dialect: str, kind: str, *, public: bool, among: Select[Any] | None = None) -> Any:
    """``ref, score, key`` of at most :func:`window` documents of ``kind`` matching the bound ``match`` (higher
    scores are better), as a select (the caller names it). A full window says ``gte``: at least that many match
    (exactly that many, at most). ``among``, a select of ids of ``kind`` (claim,
    article or source ids), restricts the window to those documents: the filters' own documents, where they are
    few. ``key`` names the document for :func:`snippets` (SQLite's rowid; PostgreSQL's ref, with the kind)."""
    match: BindParameter[str] = bindparam("match")
    if dialect == "postgresql":
        fts = table(TABLE, column("ref", Integer), column("kind"), column("document"), column("is_public"))
        tsquery = func.to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), match)
        found = select(fts.c.ref, fts.c.document).where(fts.c.document.op("@@")(tsquery), fts.c.kind == kind)
        if public:
            found = found.where(fts.c.is_public.is_(True))
        if among is not None:
            found = found.where(fts.c.ref.in_(among))
        # The matches as a MATERIALIZED CTE, read only as far as the window (a CTE is read on demand), but planned
        # for all its rows: from the kind's GIN index. Under the LIMIT itself the planner weighs a sequential
        # scan stopping at the window's end, from an estimate of the word's documents over all kinds (a word
        # common in claims but rare in sources: 48,519 sources estimated, 1,351 there, 600,000 rows read, 370 ms).
        matches = found.cte("found").prefix_with("MATERIALIZED")
        rank = func.ts_rank(literal_column(_PG_WEIGHTS), matches.c.document, tsquery, 1)
        ranked = select(matches.c.ref.label("ref"), rank.cast(Float).label("score"), matches.c.ref.label("key"))
        return ranked.limit(window(dialect))
    name = ranked_table(dialect, public)
    fts = table(name, column("rowid", Integer))
    low, high = kind_bounds(kind)
    bm25 = func.bm25(literal_column(name), PRIMARY_WEIGHT, SECONDARY_WEIGHT, type_=Float)
    ref = fts.c.rowid.op("&")(REF_MASK)
    query = select(ref.label("ref"), (-bm25).label("score"), fts.c.rowid.label("key")).where(
        literal_column(name).op("MATCH")(match), fts.c.rowid.between(low, high)
    )
    if among is not None:
        # FTS5 then walks the whole doclist (cheap): bm25 is computed only for the documents the filters pass.
        query = query.where(ref.in_(among))
    return query.order_by(fts.c.rowid).limit(window(dialect))


def snippets(dialect: str, page: Sequence[tuple[str, int]], *, public: bool) -> Any:
    """``key, snippet`` for the page's documents, in one statement: ``page`` holds each hit's kind and key (from
    :func:`hits`). A snippet is about 16 words around the matches of the bound ``match``, each marked
    ``<mark>…</mark>``; only the page shown is highlighted (PostgreSQL parses each text again)."""
    match: BindParameter[str] = bindparam("match")
    if dialect == "postgresql":
        options = "StartSel=<mark>, StopSel=</mark>, MaxWords=16, MinWords=8, MaxFragments=1, FragmentDelimiter=…"
        fts = table(TABLE, column("ref", Integer), column("kind"), column("primary_text"), column("secondary_text"))
        tsquery = func.to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), match)
        body = fts.c.primary_text.op("||")(" ").op("||")(fts.c.secondary_text)
        headline = func.ts_headline(literal_column(f"'{CONFIG}'::regconfig"), body, tsquery, options)
        return select(fts.c.kind, fts.c.ref, headline).where(tuple_(fts.c.kind, fts.c.ref).in_(list(page)))
    name = ranked_table(dialect, public)
    fts = table(name, column("rowid", Integer))
    snippet = func.snippet(literal_column(name), -1, "<mark>", "</mark>", "…", 16)
    keys = [key for _, key in page]
    return select(literal_column("''"), fts.c.rowid, snippet).where(
        literal_column(name).op("MATCH")(match), fts.c.rowid.in_(keys)
    )
