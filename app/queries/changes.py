"""The change log as a caller may read it: ``/changes?since=`` (keyset-paged) and ``/changes.jsonl`` (streamed).

The log is written by ingest (app.ingest.changes says what an entry holds). Here each entry is shaped for the
caller. With preview access: as stored. Anonymous: only entries that touch what anonymous readers saw before
or see after (``public_before OR public_after``, in SQL, so that totals and pages are exact), and then

* seen only after: ``added``, with the new values only; seen only before: ``removed``, with no values (the id
  is what a client needs to drop it; a published article sent back to draft keeps its title to itself);
* seen before and after: as stored, without the ``public`` field (it did not change for them).

Decided where the issue is silent: ``since`` is required; a ``since`` above the current corpus version is a
422 naming it (a client cannot be ahead of the server); one below ``corpus.changes_from`` is
:class:`~app.queries.errors.Expired` (REST: 410) saying how to resync. Entries are in log order (version, then
article slug, then the article before its claims before its sources).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlmodel import Session

from app import models
from app.ingest.changes import seen_as
from app.models import table
from app.queries.common import Listing, Scope, article_slug
from app.queries.errors import Expired, InvalidParameter
from app.queries.paging import Carried, Keyset, Total, decode_page_cursor, encode_cursor, select_fields
from app.queries.params import ChangeParams, ChangeStreamParams

CHANGE = table(models.Change)
CORPUS = table(models.Corpus)
KEYSET = Keyset([CHANGE.c.id])
ITEM_FIELDS = ("version", "changedAt", "type", "action", "id", "article", "fields", "before", "after")
_BATCH = 500


def _check_since(scope: Scope, since: int) -> None:
    row = scope.session.execute(select(CORPUS.c.version, CORPUS.c.changes_from)).first()
    version = row.version if row else 0
    oldest = version if row is None or row.changes_from is None else row.changes_from
    if since > version:
        raise InvalidParameter("since", f"is ahead of the corpus version ({version}): pass a version this server "
                                        "has served (X-Corpus-Version)")  # fmt: skip
    if since < oldest:
        raise Expired(
            f"since: the change log starts after version {oldest}, so the changes since {since} are no longer "
            f"kept. Resync: refetch what you cache (/agents/feeds/claims.jsonl, /agents/feeds/sources.jsonl, "
            f"/articles), note the X-Corpus-Version of those answers, and follow /changes?since=<that version> "
            f"from then on.",
            "since",
        )


def _filtered(scope: Scope, params: ChangeStreamParams) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = [CHANGE.c.version > params.since]
    if not scope.preview:
        conditions.append(or_(CHANGE.c.public_before.is_(True), CHANGE.c.public_after.is_(True)))
    if params.type:
        conditions.append(CHANGE.c.type.in_(params.type))
    if params.article:
        conditions.append(CHANGE.c.article.in_([article_slug(value) for value in params.article]))
    if params.series:
        conditions.append(CHANGE.c.series.in_(params.series))
    if params.topic:
        conditions.append(or_(*(CHANGE.c.topics.contains(f"|{topic}|", autoescape=True) for topic in params.topic)))
    return select(CHANGE).where(*conditions)


def entry(row: Any, preview: bool) -> dict[str, Any]:
    """One entry as the caller sees it (see the module)."""
    action, fields, before, after = row.action, list(row.fields), row.before, row.after
    if not preview:
        if not row.public_before:
            action, fields, before = "added", [], None
        elif not row.public_after:
            action, fields, before, after = "removed", [], None, None
        else:
            fields = [name for name in fields if name != "public"]
    changed = row.changed_at
    return {"version": row.version, "changedAt": changed.isoformat().replace("+00:00", "Z"), "type": row.type,
            "action": action, "id": row.ref, "article": row.article, "fields": fields, "before": before,
            "after": after}  # fmt: skip


def list_changes(scope: Scope, params: ChangeParams) -> Listing:
    """One page of the entries after ``since``, in log order."""
    _check_since(scope, params.since)
    key, carried = decode_page_cursor(params, 1)
    query = _filtered(scope, params)
    if carried is None or carried.preview != scope.preview:
        count = scope.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        carried = Carried(Total(int(count)), False, -1, scope.preview)
    if key is not None:
        query = query.where(KEYSET.after(key))
    rows = scope.session.execute(query.order_by(*KEYSET.order_by()).limit(params.limit + 1)).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    items = select_fields([entry(row, scope.preview) for row in rows], params.fields, ITEM_FIELDS)
    cursor = encode_cursor(params, [rows[-1].id], carried) if more else None
    return Listing(items, carried.total.value, cursor)


def stream_changes(scope: Scope, params: ChangeStreamParams) -> Iterator[bytes]:
    """Every entry after ``since`` as JSON lines; ``since`` is checked before the first line is made."""
    _check_since(scope, params.since)
    query = _filtered(scope, params).order_by(*KEYSET.order_by())

    def lines() -> Iterator[bytes]:
        last: int | None = None
        while True:  # in batches by key: no server-side cursor held open between chunks
            batch = query if last is None else query.where(KEYSET.after([last]))
            rows = scope.session.execute(batch.limit(_BATCH)).all()
            if not rows:
                return
            yield b"".join(orjson.dumps(entry(row, scope.preview)) + b"\n" for row in rows)
            last = rows[-1].id

    return lines()


# --- Live events (/changes/stream, app.change_stream): what each version changed, counted, from one grouped read ---

ACTIONS = ("added", "updated", "removed")
TYPES = ("article", "claim", "source")
Counts = dict[str, dict[str, int]]  # type -> action -> entries


@dataclass(frozen=True, slots=True)
class VersionCounts:
    """One committed version: when it committed (None when it recorded no entry and is no longer the current
    version: the log keeps no time for it) and its entries counted by type and action, as preview callers and as
    anonymous callers see them (the rules of :func:`entry`)."""

    version: int
    committed_at: dt.datetime | None
    preview: Counts
    public: Counts


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Where a stream stands: the corpus version now and its commit time."""

    version: int
    committed_at: dt.datetime | None


def stream_start(session: Session, position: int | None, parameter: str) -> StreamStart:
    """The corpus version now; with a ``position`` (a Last-Event-ID or ``since``), :class:`Expired` when the log
    cannot continue from it: older than the retained log, or ahead of the corpus (the database was replaced).
    The stream answers that with a ``resync`` event, not a 410 (app.change_stream says why)."""
    row = session.execute(select(CORPUS.c.version, CORPUS.c.ingested_at, CORPUS.c.changes_from)).first()
    version = row.version if row else 0
    start = StreamStart(version, row.ingested_at if row else None)
    oldest = version if row is None or row.changes_from is None else row.changes_from
    if position is None or oldest <= position <= version:
        return start
    why = (f"the change log starts after version {oldest}, so the changes since {position} are no longer kept"
           if position < oldest else f"{position} is ahead of this server's corpus version ({version}): "
           "the database was replaced or rebuilt")  # fmt: skip
    raise Expired(
        f"{parameter}: {why}. Resync: refetch what you cache (/agents/feeds/claims.jsonl, "
        f"/agents/feeds/sources.jsonl, /articles), note their X-Corpus-Version, and follow the events from "
        f"then on; this stream continues from version {version}.",
        parameter,
    )


def version_counts(session: Session, after: int, upto: int) -> list[VersionCounts]:
    """Every version in (``after``, ``upto``], in order, each counted (one grouped read of the log); a version
    with no entries has zero counts. ``upto`` is at most the corpus version read in the same session."""
    row = session.execute(select(CORPUS.c.version, CORPUS.c.ingested_at)).first()
    current, ingested_at = (row.version, row.ingested_at) if row else (0, None)
    upto = min(upto, current)
    grouped = (
        select(CHANGE.c.version, CHANGE.c.type, CHANGE.c.action, CHANGE.c.public_before, CHANGE.c.public_after,
               func.count().label("n"), func.min(CHANGE.c.changed_at).label("at"))
        .where(CHANGE.c.version > after, CHANGE.c.version <= upto)
        .group_by(CHANGE.c.version, CHANGE.c.type, CHANGE.c.action, CHANGE.c.public_before, CHANGE.c.public_after)
    )  # fmt: skip
    found: dict[int, tuple[dt.datetime, Counts, Counts]] = {}
    for entry_row in session.execute(grouped):
        _, preview, public = found.setdefault(entry_row.version, (entry_row.at, _zero(), _zero()))
        preview[entry_row.type][entry_row.action] += entry_row.n
        seen = seen_as(entry_row.action, entry_row.public_before, entry_row.public_after, False)
        if seen is not None:
            public[entry_row.type][seen] += entry_row.n
    counted: list[VersionCounts] = []
    for version in range(after + 1, upto + 1):
        if version in found:
            at, preview, public = found[version]
            counted.append(VersionCounts(version, _utc(at), preview, public))
        else:
            counted.append(VersionCounts(version, _utc(ingested_at) if version == current else None, _zero(), _zero()))
    return counted


def _zero() -> Counts:
    return {kind: dict.fromkeys(ACTIONS, 0) for kind in TYPES}


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Stored times are UTC; SQLite gives them back naive."""
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment
