"""The ``list_count`` table: public rows per list, in all and per filter value, written by every ingest.

The lists (app.queries.plan) read it twice over: as **exact totals** (a list with no filter, or one filter
field, answers ``total`` without counting) and as **estimates** that choose each list's plan (walk the order
index and test each row, or read the few matching rows and sort them). Counting the same on every request
would cost what the issue is about (47–114 ms per page at 50,000 articles); the table costs ingest about
a second at that size and holds a few hundred rows.

Each entry is ``(kind, field, value) -> rows``: ``kind`` is the list (``articles``, ``claims``, ``sources``),
``field`` the filter parameter (``""`` with value ``""`` for the whole list), ``value`` one value of it as the
API spells it, ``rows`` how many public rows of the list match that value. Some fields are counted on the
stored value a filter maps onto: ``state`` and ``claim_state`` on the claim's ``state_base`` (the state
without the date-bound stale rule, app.derive; the list side knows which states that makes exact), and
``min_confidence`` is not stored (the list side adds up ``confidence``).

Only values held by at least :data:`MIN_ROWS` rows are stored: the table stays small however many distinct
urls, tags or series a corpus has, and a value that is absent is known to be rare, which is all a plan needs.

This is a writer (ingest's transaction, and migration 0009's backfill), like app.fulltext; the lists only
read the table. It lives apart from app/ingest.py so that the migration can import it without the ingest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from app import models
from app.models import table

#: Values held by fewer public rows than this are not stored (an absent value means "fewer than this").
MIN_ROWS = 100

ARTICLE, CLAIM, SOURCE = table(models.Article), table(models.Claim), table(models.Source)
TOPIC, TAG, AUDIENCE = table(models.ArticleTopic), table(models.ArticleTag), table(models.ArticleAudience)
EVIDENCE, COUNTS = table(models.Evidence), table(models.ListCount)


Scope = Callable[[Any], Any]
"""Restricts a count to some articles: given a column holding article ids, the condition on it."""


def _everything(_: Any) -> Any:
    return true()


def _link(link: Any, column: str, kind: str, scope: Scope) -> Any:
    """Public rows of ``kind`` per value of an article link table (a value repeated in one article counts once)."""
    linked = select(link.c.article_id, link.c[column].label("value")).where(scope(link.c.article_id))
    pairs = linked.distinct().subquery()
    if kind == "articles":
        owner, key = ARTICLE, ARTICLE.c.id
    else:
        owner = CLAIM if kind == "claims" else SOURCE
        key = owner.c.article_id
    return select(pairs.c.value, func.count()).select_from(owner.join(pairs, pairs.c.article_id == key)).where(
        owner.c.is_public.is_(True)
    ).group_by(pairs.c.value)  # fmt: skip


def _by(owner: Table, value: Any, scope: Scope, counted: Any = None) -> Any:
    """Public rows of ``owner`` per ``value`` (``counted``: count distinct values of it instead of rows)."""
    number = func.count(distinct(counted)) if counted is not None else func.count()
    key = owner.c.id if owner is ARTICLE else owner.c.article_id
    return select(value, number).where(owner.c.is_public.is_(True), value.isnot(None), scope(key)).group_by(value)


def _yes_no(condition: Any) -> Any:
    return case((condition, literal("true")), else_=literal("false"))


def _evidence(value: Any, scope: Scope) -> Any:
    """Public claims per value of an evidence column (a claim citing it twice counts once)."""
    joined = EVIDENCE.join(CLAIM, CLAIM.c.id == EVIDENCE.c.claim_id)
    return select(value, func.count(distinct(EVIDENCE.c.claim_id))).select_from(joined).where(
        CLAIM.c.is_public.is_(True), scope(EVIDENCE.c.article_id)
    ).group_by(value)  # fmt: skip


def _whole(owner: Table, scope: Scope) -> Any:
    key = owner.c.id if owner is ARTICLE else owner.c.article_id
    return select(literal(""), func.count()).where(owner.c.is_public.is_(True), scope(key))


def queries(scope: Scope = _everything) -> list[tuple[str, str, Any]]:
    """(kind, field, SELECT value, rows) for every stored count, over the articles ``scope`` admits. Every count
    adds up article by article (each row counted belongs to one article), which is what lets an ingest keep
    the table up to date from the articles it changed (:func:`counted`, :func:`apply`)."""
    claims_with_series = CLAIM.join(ARTICLE, ARTICLE.c.id == CLAIM.c.article_id)
    series_claims = select(ARTICLE.c.series_slug, func.count()).select_from(claims_with_series).where(
        CLAIM.c.is_public.is_(True), ARTICLE.c.series_slug.isnot(None), scope(CLAIM.c.article_id)
    ).group_by(ARTICLE.c.series_slug)  # fmt: skip
    return [
        ("articles", "", _whole(ARTICLE, scope)),
        ("articles", "topic", _link(TOPIC, "topic", "articles", scope)),
        ("articles", "tag", _link(TAG, "tag", "articles", scope)),
        ("articles", "audience", _link(AUDIENCE, "audience", "articles", scope)),
        ("articles", "series", _by(ARTICLE, ARTICLE.c.series_slug, scope)),
        ("articles", "maturity", _by(ARTICLE, ARTICLE.c.maturity, scope)),
        ("articles", "confidence", _by(CLAIM, CLAIM.c.confidence, scope, CLAIM.c.article_id)),
        ("articles", "claim_state", _by(CLAIM, CLAIM.c.state_base, scope, CLAIM.c.article_id)),
        ("articles", "source_type", _by(SOURCE, SOURCE.c.type, scope, SOURCE.c.article_id)),
        ("claims", "", _whole(CLAIM, scope)),
        ("claims", "topic", _link(TOPIC, "topic", "claims", scope)),
        ("claims", "series", series_claims),
        ("claims", "confidence", _by(CLAIM, CLAIM.c.confidence, scope)),
        ("claims", "status", _by(CLAIM, CLAIM.c.kind, scope)),
        ("claims", "verification", _by(CLAIM, func.coalesce(CLAIM.c.verification_status, literal("draft")), scope)),
        ("claims", "state", _by(CLAIM, CLAIM.c.state_base, scope)),
        ("claims", "has_counterevidence", _by(CLAIM, _yes_no(CLAIM.c.counterevidence_count > 0), scope)),
        ("claims", "supports", _evidence(EVIDENCE.c.supports, scope)),
        ("claims", "source", _evidence(EVIDENCE.c.source_id, scope)),
        ("sources", "", _whole(SOURCE, scope)),
        ("sources", "type", _by(SOURCE, SOURCE.c.type, scope)),
        ("sources", "topic", _link(TOPIC, "topic", "sources", scope)),
        ("sources", "url", _by(SOURCE, SOURCE.c.url, scope)),
        ("sources", "cited", _by(SOURCE, _yes_no(SOURCE.c.cited_by > 0), scope)),
    ]


def refresh(conn: Connection) -> None:
    """Count everything again (in the caller's transaction): the ingest's last write, before ANALYZE."""
    conn.execute(delete(COUNTS))
    for kind, field, query in queries():
        value, rows = query.selected_columns
        counted = query.having(rows >= MIN_ROWS) if field else query  # the whole list is always stored
        source = counted.with_only_columns(literal(kind), literal(field), cast(value, String), rows)
        conn.execute(insert(COUNTS).from_select(["kind", "field", "value", "rows"], source))


Key = tuple[str, str, str]


def counted(conn: Connection, scope: Scope) -> Counter[Key]:
    """Every count over the articles ``scope`` admits, however few rows a value has: what those articles add
    to the table (read before they are deleted, it is what they take away)."""
    totals: Counter[Key] = Counter()
    for kind, field, query in queries(scope):
        for value, rows in conn.execute(query):
            totals[(kind, field, str(value))] += rows
    return totals


def apply(conn: Connection, delta: Counter[Key]) -> None:
    """Bring the table up to date by ``delta`` (the counts of the articles written minus those of the articles
    they replaced or removed). A stored value moves by its delta and goes when it falls under
    :data:`MIN_ROWS`; a value not stored that grew is counted in full, since the table does not know how many
    rows it had."""
    changed = {key: rows for key, rows in delta.items() if rows}
    if not changed:
        return
    stored = {(k, f, v): rows for k, f, v, rows in conn.execute(select(COUNTS.c.kind, COUNTS.c.field, COUNTS.c.value,
                                                                       COUNTS.c.rows))}  # fmt: skip
    recount: dict[tuple[str, str], set[str]] = {}
    for (kind, field, value), rows in changed.items():
        where = (COUNTS.c.kind == kind) & (COUNTS.c.field == field) & (COUNTS.c.value == value)
        if (kind, field, value) in stored:
            total = stored[(kind, field, value)] + rows
            if field and total < MIN_ROWS:
                conn.execute(delete(COUNTS).where(where))
            else:
                conn.execute(update(COUNTS).where(where).values(rows=total))
        elif rows > 0:
            recount.setdefault((kind, field), set()).add(value)
    for kind, field, query in queries():
        if (kind, field) in recount:
            value, rows = query.selected_columns
            wanted = query.where(cast(value, String).in_(sorted(recount[(kind, field)]))).having(rows >= MIN_ROWS)
            source = wanted.with_only_columns(literal(kind), literal(field), cast(value, String), rows)
            conn.execute(insert(COUNTS).from_select(["kind", "field", "value", "rows"], source))
