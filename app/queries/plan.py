"""How a list reads one page, and what its ``total`` says: costs that do not grow with the match set.

**The page.** Every list has an order index on its own table that ends in the keyset
(``article (is_public, published_at, slug)`` and one per sort; ``claim`` and ``source (is_public, dir_key,
position)``, the article's values copied onto each row by ingest). A page is read in one of two ways:

* **Walk** the order index from the cursor and test each row against the filters, stopping at ``limit + 1``
  matches. Each filter is then written as a per-row test (:attr:`Filter.check`: a correlated ``EXISTS`` on
  the link table's primary key, or a column compared with SQLite's unary ``+`` so that no other index can
  drive the query), and the order index is the only index left with a usable constraint (``is_public``): the
  page costs about ``limit / density`` index rows, whatever the number of matches.
* **Filter first** from the most selective filter's own index (:attr:`Filter.drive`), test the other filters
  per row, and sort what matched; ``is_public`` is then written with ``+`` on SQLite so that the order index
  does not compete. It costs about as many rows as that filter matches.

The choice is made here, from estimates, not left to the planner's guess: SQLite's statistics are averages
per index column (no per-value counts in Python's build), so it cannot tell the largest topic (34,455 of
49,325 articles) from a topic of 600. The estimate of a filter is the stored count of its values
(``list_count``, app.listcounts; a value absent from it has fewer than ``MIN_ROWS``) or else a probe that
counts its matches up to :data:`PROBE`. Filters are taken as independent: the walk costs about
``(limit + 1) / (d1 × d2 × …)`` rows for densities ``d``, filtering first costs the smallest filter's rows,
and the cheaper wins; a driver of at most :data:`FIRST_ALWAYS` rows is always read first. Matches are not
spread evenly along an order (the synthetic corpus holds each topic in runs of adjacent articles; a real one
by year), so a walk reads at most :data:`WALK_WINDOW` rows of the order index: if the page is not full by
then, the driver reads the rest of it, after the window, if it has at most :data:`REST_ROWS` rows (else the
walk goes on: every filter matches many rows). A page therefore costs at most about ``WALK_WINDOW`` rows plus
the driver's rows, unless every filter is dense and their matches are far apart in the order. PostgreSQL
gets the same query shapes (``+`` is left out: its statistics hold the most common values and their
frequencies, and it plans from them).

**The total** (``totalRelation`` says ``eq``, exact, or ``gte``, a lower bound):

* page 2 and later never count, and never estimate: the first page's total and plan travel in the cursor
  (app.queries.paging.Carried). The total is the one of the first page's moment; a later ingest may change
  it, as it may change the rows still to come;
* a first page that is also the last counts its own rows;
* no filter, or one filter field whose values are stored exactly (or that a probe counted): the stored count
  (public lists), free;
* else, with a driver of at most :data:`COUNT_ROWS` rows: the matches counted from the driver, at most
  :data:`CAP` of them (past it ``total: CAP, totalRelation: "gte"``);
* else the matches among the first :data:`COUNT_WINDOW` rows of the order, rounded down to one significant
  digit, and ``gte`` (never less than the page has seen): counting more would cost as much as the issue's
  slow pages did.

Measured at 50,000 articles (bench/list_bench.py): counting all 34,455 articles of the largest topic takes
17 ms on SQLite, all 170,000 of its claims over 100 ms, which is why those come from ``list_count``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    FromClause,
    Table,
    UnaryExpression,
    and_,
    any_,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList
from sqlalchemy.sql.operators import custom_op
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session

from app import models
from app.listcounts import MIN_ROWS
from app.models import table
from app.queries.common import per_corpus
from app.queries.paging import Carried, Keyset, Rows, Total, decode_page_cursor, key_kind
from app.queries.params import Page

COUNTS = table(models.ListCount)

#: A first page counts at most this many matches; past it the total is a lower bound ("gte").
CAP = 10_000
#: A count reads its driver's rows when the driver has at most this many; else the first COUNT_WINDOW rows
#: of the order, and the total is the (rounded) matches among them, a lower bound.
COUNT_ROWS = 10_000
COUNT_WINDOW = 1_000
#: A walk reads at most this many rows of the order index; if the page is not full by then, the driver
#: reads the rest of it (when it has at most REST_ROWS rows; else the walk goes on).
WALK_WINDOW = 4_000
#: Reading a driver's rows and keeping the page's (SQLite sorts with the LIMIT, holding a page, not the rows)
#: costs about half a millisecond per 1,000 rows at 50,000 articles, more with an EXISTS per row; walking on
#: past the window costs what lies between the matches, up to the whole list when they cluster far along the
#: order (a topic's 17,558 sources after 300,000 others: 234 ms walking on, 9 ms from the driver).
REST_ROWS = 20_000
#: A driver with at most this many rows is read first whatever a walk would cost (a sort of so few is cheap).
FIRST_ALWAYS = 1_000
#: A filter without stored counts is estimated by counting its matches up to this many.
PROBE = 2_000


def unindexed(dialect: str, expression: Any) -> Any:
    """``expression`` (a column or a whole test) under SQLite's unary ``+``: the same value (a test stays true
    or false), but no index can serve it, so that the planner reads the rows the chosen plan reads.
    PostgreSQL: the expression itself."""
    if dialect != "sqlite":
        return expression
    return UnaryExpression(expression.self_group(), operator=custom_op("+"), type_=expression.type)


@dataclass
class Filter:
    """One filter parameter of a list, in its two forms and with what estimates it.

    ``check`` tests one row (for a walk); ``drive`` selects the matching rows from the filter's own index
    (for filtering first; None: never a driver). ``field`` and ``values`` name its stored counts (``field``
    None: estimated by a probe of ``drive``); ``disjoint``: a row holds at most one of the values, so their
    counts add up exactly; ``exact``: the stored counts are this filter's own (False: they only estimate it,
    as for the date-bound claim states).
    """

    check: ColumnElement[bool]
    drive: ColumnElement[bool] | None
    field: str | None = None
    values: Sequence[str] = ()
    disjoint: bool = False
    exact: bool = True
    probe: Any = None  # a SELECT of the matching rows that stops early, where ``drive`` would read them all
    rows: int = 0
    counted: bool = False  # ``rows`` is this filter's exact number of matches


@dataclass
class ListQuery:
    """A list: its stored-count ``kind``, the table it lists, what it selects, its visibility, order, filters."""

    kind: str
    listed: Table
    columns: Sequence[Any]
    from_: FromClause
    public: ColumnElement[bool] | None  # None: preview, every row
    keyset: Keyset
    filters: list[Filter]
    dialect: str
    corpus: Any = None  # the corpus version the session reads (Scope.corpus), if known: see _stored


#: Every stored count: ``list_count`` as one corpus holds it (a few thousand rows at 50,000 articles).
_EVERY_COUNT = select(COUNTS.c.kind, COUNTS.c.field, COUNTS.c.value, COUNTS.c.rows)


def _every_count(session: Session) -> dict[str, dict[tuple[str, str], int]]:
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for kind, name, value, rows in session.execute(_EVERY_COUNT):
        counts.setdefault(kind, {})[name, value] = rows
    return counts


def _stored(session: Session, query: ListQuery) -> dict[tuple[str, str], int]:
    """The list's stored counts: read once per corpus (``query.corpus``) in each worker, or each time without one."""
    if query.corpus is None:
        fields = {"", *(f.field for f in query.filters if f.field is not None)}
        rows = session.execute(
            select(COUNTS.c.field, COUNTS.c.value, COUNTS.c.rows).where(COUNTS.c.kind == query.kind,
                                                                        COUNTS.c.field.in_(fields))
        ).all()  # fmt: skip
        return {(name, value): rows for name, value, rows in rows}
    return per_corpus(session, query.corpus, "list counts", lambda: _every_count(session)).get(query.kind, {})


def substring_probe(dialect: str, index: str, needle: str) -> Any:
    """For a ``q`` filter: the first PROBE + 1 rows of SQLite's trigram index ``index`` holding ``needle``
    (app.fulltext.contains reads them all, to test rows against: a probe only needs to know whether there are
    many), or None where that index does not answer the needle (app.fulltext.contains says when)."""
    if dialect != "sqlite" or len(needle) < 3 or "%" in needle or "_" in needle:
        return None
    return select(literal_column("rowid")).select_from(text(index)).where(
        literal_column("text").like(f"%{needle}%")
    ).limit(PROBE + 1)  # fmt: skip


def _probe(session: Session, query: ListQuery, condition: ColumnElement[bool]) -> int:
    where = [condition] if query.public is None else [query.public, condition]
    inner = select(literal(1)).select_from(query.listed).where(*where).limit(PROBE + 1).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def estimate(session: Session, query: ListQuery) -> int:
    """Set each filter's ``rows`` (and ``counted``); return the rows of the whole list (public: stored)."""
    stored = _stored(session, query) if query.filters or query.public is not None else {}
    everything = max(stored.get(("", ""), 1), 1)
    for item in query.filters:
        if item.probe is not None:  # only an estimate: it does not apply visibility
            item.rows = int(session.execute(select(func.count()).select_from(item.probe.subquery())).scalar_one())
            item.rows = everything if item.rows > PROBE else item.rows
            continue
        if item.field is None:
            probed = _probe(session, query, item.drive) if item.drive is not None else everything
            item.rows, item.counted = (probed, True) if probed <= PROBE else (everything, False)
            continue
        found = [stored.get((item.field, value)) for value in item.values]
        total = sum(rows if rows is not None else MIN_ROWS - 1 for rows in found)
        item.rows = min(total, everything)
        whole = all(rows is not None for rows in found) and (len(found) == 1 or item.disjoint)
        item.counted = item.exact and whole and query.public is not None
    return everything


def choose(filters: Sequence[Filter], everything: int, limit: int) -> tuple[bool, int]:
    """(walk the order index?, the index of the filter to read first, -1 if none): see the module docstring."""
    drivers = [index for index, item in enumerate(filters) if item.drive is not None]
    if not drivers:
        return True, -1
    best = min(drivers, key=lambda index: filters[index].rows)
    density = math.prod(min(max(item.rows, 1) / everything, 1.0) for item in filters)
    walk = min(everything, (limit + 1) / density)
    return filters[best].rows > max(FIRST_ALWAYS, walk), best


def read_first(dialect: str, drive: ColumnElement[bool]) -> ColumnElement[bool]:
    """A driver's condition as a statement that reads it first writes it. PostgreSQL: each ``column IN
    (subquery)`` (alone or in an AND) becomes ``column = ANY(ARRAY(subquery))``: the subquery is read whole,
    once, and its values looked up in ``column``'s index. Written as IN, the planner may instead read the whole
    list in order and probe the subquery per row (a semi-join under the LIMIT: 45,000 articles read for 2,028
    matches, 170 ms, where the array reads them in 11 ms). SQLite: ``drive`` itself."""
    if dialect == "sqlite":
        return drive
    if isinstance(drive, BooleanClauseList) and drive.operator is operators.and_:
        return and_(*(read_first(dialect, clause) for clause in drive.clauses))
    if (
        isinstance(drive, BinaryExpression)
        and drive.operator is operators.in_op
        and isinstance(drive.right, ScalarSelect)
    ):
        return drive.left == any_(func.array(drive.right, type_=ARRAY(drive.left.type)))
    return drive


def _where(query: ListQuery, driver: int) -> list[ColumnElement[bool]]:
    """The conditions of a walk (``driver`` -1: every filter per row) or of reading ``driver`` first."""
    where: list[ColumnElement[bool]] = []
    if query.public is not None:
        hidden = unindexed(query.dialect, query.listed.c.is_public).is_(True)
        where.append(query.public if driver < 0 else hidden)
    for index, item in enumerate(query.filters):
        drive = index == driver and item.drive is not None
        where.append(read_first(query.dialect, item.drive) if drive and item.drive is not None else item.check)
    return where


def _window_end(session: Session, query: ListQuery, after: Sequence[Any] | None, size: int) -> Any:
    """The key ``size`` rows of the order index past ``after`` (None: the list ends before)."""
    window = select(*query.keyset.columns).select_from(query.listed)
    if query.public is not None:
        window = window.where(query.public)
    if after is not None:
        window = window.where(query.keyset.after(after))
    return session.execute(window.order_by(*query.keyset.order_by()).offset(size - 1).limit(1)).first()


def sort_only(dialect: str, column: Any) -> Any:
    """``column`` as an ORDER BY term no index matches (the same order): reading a driver first, the database
    must sort its few rows rather than walk the order index, which PostgreSQL's planner otherwise prefers
    under a LIMIT (a walk of 250,000 index rows for 675 matches, measured). SQLite: ``+ column``;
    PostgreSQL: ``column || ''`` or ``column + 0``."""
    if dialect == "sqlite":
        return unindexed(dialect, column)
    return column + ("" if key_kind(column) is str else 0)


def _read(session: Session, query: ListQuery, where: list[ColumnElement[bool]], after: Sequence[Any] | None,
          limit: int, *, sort: bool = False) -> list[Any]:  # fmt: skip
    """Up to ``limit`` rows after ``after`` in keyset order; ``sort``: ordered by :func:`sort_only` terms."""
    keys = [column.label(f"_k{index}") for index, column in enumerate(query.keyset.columns)]
    page = select(*query.columns, *keys).select_from(query.from_).where(*where)
    terms = [sort_only(query.dialect, column) for column in query.keyset.columns] if sort else None
    if after is not None:
        # Sorting a driver's rows on PostgreSQL, the cursor's bound is on the sort terms too: a bound on the order
        # index's columns is a range of that index, which the planner walks when it misjudges the range (all
        # articles share one updated_at: it counts no row before the cursor, and reads 45,000). SQLite's order
        # index is out of reach already (``is_public`` unindexed, its first column).
        bound = terms if terms is not None and query.dialect != "sqlite" else None
        page = page.where(query.keyset.after(after, bound))
    order = query.keyset.order_by()
    if terms is not None:
        order = [term.desc() if query.keyset.descending else term.asc() for term in terms]
    return list(session.execute(page.order_by(*order).limit(limit)).mappings().all())


def _page(session: Session, query: ListQuery, walk: bool, driver: int, after: Sequence[Any] | None,
          limit: int) -> list[Any]:  # fmt: skip
    """``limit`` rows after ``after``: a walk reads at most WALK_WINDOW index rows, then the driver reads the rest
    (matches may be clustered in the order: a walk would not find them sooner for their share of the list)."""
    if not walk or driver < 0:
        first = not walk and driver >= 0
        return _read(session, query, _where(query, driver if first else -1), after, limit, sort=first)
    end = _window_end(session, query, after, WALK_WINDOW)
    if end is None:
        return _read(session, query, _where(query, -1), after, limit)
    rows = _read(session, query, [*_where(query, -1), query.keyset.upto(tuple(end))], after, limit)
    if len(rows) < limit:  # the rest: from the driver if it is small, else walking on
        rest = driver if query.filters[driver].rows <= REST_ROWS else -1
        rows += _read(session, query, _where(query, rest), tuple(end), limit - len(rows), sort=rest >= 0)
    return rows


def fetch(session: Session, params: Page, query: ListQuery) -> Rows:
    """One page of ``query`` after the cursor, with its total (see the module docstring)."""
    after, carried = decode_page_cursor(params, len(query.keyset.columns))
    preview = query.public is None
    if carried is not None and (carried.driver >= len(query.filters) or carried.preview != preview):
        carried = None  # made for another caller's rows (a preview cursor shared), or forged: decide afresh
    if carried is not None:
        walk, driver, everything = carried.walk, carried.driver, 0
    else:
        everything = estimate(session, query)
        walk, driver = choose(query.filters, everything, params.limit)
    rows = _page(session, query, walk, driver, after, params.limit + 1)
    onward = driver  # what later pages use: a walk whose driver is too large to read walks on, as this one did
    if walk and driver >= 0 and carried is None and query.filters[driver].rows > REST_ROWS:
        onward = -1  # (the estimate that decided it is not carried)
    more = len(rows) > params.limit
    if carried is not None:
        total = carried.total
    elif after is None and not more:
        total = Total(len(rows), "eq")
    else:
        total = _total(session, query, driver, everything)  # a cursor made before totals were carried, too
        if total.relation == "gte" and total.value < len(rows):  # the page itself saw more
            total = Total(len(rows), "gte")
    keys = [f"_k{index}" for index in range(len(query.keyset.columns))]
    return Rows(rows[: params.limit], Carried(total, walk, onward, preview), more, params, keys)


def _count(session: Session, query: ListQuery, where: list[ColumnElement[bool]], cap: int) -> int:
    inner = select(literal(1)).select_from(query.listed).where(*where).limit(cap + 1).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def _total(session: Session, query: ListQuery, driver: int, everything: int) -> Total:
    """The first page's total: stored when it can be; else counted from the driver when it has few rows; else
    the matches among the first COUNT_WINDOW rows of the order, a lower bound."""
    if query.public is not None and not query.filters:
        return Total(everything, "eq")
    if len(query.filters) == 1 and query.filters[0].counted:
        return Total(query.filters[0].rows, "eq")
    if driver >= 0 and query.filters[driver].rows <= COUNT_ROWS:
        counted = _count(session, query, _where(query, driver), CAP)
        return Total(counted, "eq") if counted <= CAP else Total(CAP, "gte")
    end = _window_end(session, query, None, COUNT_WINDOW)
    where = _where(query, -1) if end is None else [*_where(query, -1), query.keyset.upto(tuple(end))]
    counted = _count(session, query, where, COUNT_WINDOW)
    return Total(counted, "eq") if end is None else Total(_round_down(counted), "gte")


def _round_down(number: int) -> int:
    """``number`` to its first digit (4,864 -> 4,000): a lower bound that does not look like a count."""
    if number < 10:
        return number
    unit = int(10 ** (len(str(number)) - 1))
    return number // unit * unit
