"""The derived tables an ingest keeps up to date: list counts (app.listcounts), topic counts and series heads
(app.aggregates).

The first ingest, and one that changes a good share of the corpus, counts everything again at the end. One that
changes a few articles moves the counts by what those articles take away and add: the counts of the articles
it replaces or removes, read just before their rows are deleted, and the counts of the articles it wrote, read
at the end (they hold the newest ids). Every count adds up article by article, so the result is the one a full
count gives; a test compares the two. The heads of the series those articles were or are in are computed again
from their members, and every head's place in the list from one grouped query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam

from app import aggregates, listcounts

#: A run that replaces, removes or writes more than this share of the corpus counts everything again.
FULL_SHARE = 0.25
_CHUNK = 500


class Derived:
    """What one ingest's changes do to the derived tables (see the module)."""

    def __init__(self, stored: int) -> None:
        self.stored = stored
        self.full = stored == 0
        self.taken = 0
        self.lists: Counter[listcounts.Key] = Counter()
        self.topics: Counter[tuple[bool, str, str]] = Counter()
        self.series: set[str] = set()

    def taking(self, conn: Connection, article_ids: Sequence[int]) -> None:
        """Before these stored articles' rows are deleted: what they count for."""
        self.taken += len(article_ids)
        if self.full or self.taken > FULL_SHARE * self.stored:
            self.full = True
            return
        _count(conn, article_ids, self.lists, self.topics, self.series)

    def finish(self, conn: Connection, written: Sequence[int]) -> None:
        """After the last write (``written``: the ids of the articles it wrote): the derived tables as the
        corpus now stands."""
        if self.full or len(written) > FULL_SHARE * self.stored:
            listcounts.refresh(conn)
            aggregates.refresh(conn)
            return
        lists: Counter[listcounts.Key] = Counter()
        topics: Counter[tuple[bool, str, str]] = Counter()
        _count(conn, written, lists, topics, self.series)
        lists.subtract(self.lists)
        listcounts.apply(conn, lists)
        topics.subtract(self.topics)
        aggregates.apply_topics(conn, topics)
        aggregates.refresh_series(conn, self.series)


def _count(
    conn: Connection,
    article_ids: Sequence[int],
    lists: Counter[listcounts.Key],
    topics: Counter[tuple[bool, str, str]],
    series: set[str],
) -> None:
    """Add what these articles count for, and the series they are in. The ids go in as a list, not a range: a
    list of a few ids is what makes the planner read each table by article rather than walk a whole index in
    its group order."""
    for start in range(0, len(article_ids), _CHUNK):
        ids = list(article_ids[start : start + _CHUNK])

        def scope(column: Any, ids: list[int] = ids) -> Any:
            return column.in_(bindparam("scope_ids", ids, expanding=True))

        lists.update(listcounts.counted(conn, scope))
        topics.update(aggregates.topic_totals(conn, scope))
        series.update(aggregates.series_of(conn, scope))
