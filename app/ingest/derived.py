"""The derived tables an ingest keeps up to date: list counts (app.listcounts), topic counts and series heads
(app.aggregates).

The first ingest, and one that changes a good share of the corpus, counts everything again at the end. One that
changes a few articles moves the counts by what those articles take away and add: the counts of the articles
it replaces or removes, read just before their rows are deleted, and the counts of the articles it wrote, read
at the end (they hold the newest ids). Every count adds up article by article, so the result is the one a full
count gives; a test compares the two. The series heads are read again in full: their order depends on every
series, and the read is one indexed query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
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

    def taking(self, conn: Connection, article_ids: Sequence[int]) -> None:
        """Before these stored articles' rows are deleted: what they count for."""
        self.taken += len(article_ids)
        if self.full or self.taken > FULL_SHARE * self.stored:
            self.full = True
            return
        for start in range(0, len(article_ids), _CHUNK):
            scope = _among(list(article_ids[start : start + _CHUNK]))
            self.lists.update(listcounts.counted(conn, scope))
            self.topics.update(aggregates.topic_totals(conn, scope))

    def finish(self, conn: Connection, first_new_id: int, written: int) -> None:
        """After the last write: the derived tables as the corpus now stands."""
        if self.full or written > FULL_SHARE * self.stored:
            listcounts.refresh(conn)
            aggregates.refresh(conn)
            return
        lists = listcounts.counted(conn, _newer(first_new_id))
        lists.subtract(self.lists)
        listcounts.apply(conn, lists)
        topics = aggregates.topic_totals(conn, _newer(first_new_id))
        topics.subtract(self.topics)
        aggregates.apply_topics(conn, topics)
        aggregates.refresh_series(conn)


def _among(ids: list[int]) -> Callable[[Any], Any]:
    return lambda column: column.in_(bindparam("scope_ids", ids, expanding=True))


def _newer(first_id: int) -> Callable[[Any], Any]:
    return lambda column: column >= first_id
