"""The change log: what each committed ingest changed, written in the ingest's own transaction.

How it is computed. The writer (app.ingest.write) replaces a changed article whole: it deletes the stored rows
and inserts new ones. Just before it deletes, :meth:`ChangeLog.before` reads the stored state of exactly those
articles (article row, topics, claims with their evidence and counterevidence, sources); at commit,
:meth:`ChangeLog.after` reads the rows just written for the new article ids. Unchanged articles are never read,
so a one-article ingest does one article's worth of extra reads and a few inserts, whatever the corpus size.
:func:`differences` then compares the two states per slug.

What an entry is (one row of ``change``). ``type`` article, claim or source; ``ref`` its stable id (slug, global
claim id, sourceId: row ids change with every replacement); ``action`` added, updated or removed as a preview
caller sees it; ``fields`` what changed (claims: text, confidence, kind, verificationStatus, evidence,
counterevidence; articles: the scalar fields of ARTICLE_FIELDS, contentHash among them, and topics; sources:
title, url, type, accessed;
``public`` when visibility changed); ``before``/``after`` the old and new values of the changed scalar fields
(the whole scalar state on each side for added and removed things, and for a change of visibility, which
anonymous readers see as an addition or a removal). A claim's values also hold its ``evidence`` and
``counterevidence`` lists (packets as /claims/{id} spells them, without the resolved source) whenever they are
recorded: on both sides when either list changed, and in the whole state of an addition, a removal or a change
of visibility. That is what lets app.queries.history rebuild a claim's evidence at any version in the log; it
costs no extra read (the states already hold the lists), only larger rows for the claims that changed.
``public_before``/``public_after`` say whether anonymous readers saw it before and see it after:
app.queries.changes maps an entry to what they see from these alone (neither: nothing; only after: added; only
before: removed; both: the update, without ``public``), so a draft published is "added" for them and a published
article sent back to draft is "removed", and a draft's title, slug or content never reaches them.

Decided where the issue is silent:

* The first ingest into an empty corpus records nothing (everything would be "added"; at 50,000 articles that
  would double the first ingest's writes): the log starts after it, ``corpus.changes_from`` is its version, and
  a client starts from the feeds. An ingest that records nothing for any reason moves ``changes_from`` up to
  its version, so a ``since`` the log cannot answer is always refused (app.queries.changes), never answered
  short.
* Retention is a number of versions (``GARDEN_CHANGE_RETENTION``, default 1,000): every ingest deletes entries
  of versions at or below ``version - retention`` and raises ``changes_from`` to it (one indexed range delete).
* An article whose files changed but none of whose compared fields did records no article entry (its claims
  and sources may still have entries); a version may therefore have no entries at all.
* Sources also record "updated" (title, url, type or accessed changed), besides added and removed.

For what comes later (claim history, live events, webhooks): every entry carries its ``version`` and the commit
time (``changed_at``), ids increase with the version, and the claim entries carry the old and new scalar
values, so a claim's history is its entries in id order (its text at version N is the ``after`` of its last
entry at or below N, else the ``before`` of its first entry above N, else its current text; app.queries.history
implements it, field by field). One event per
committed version is "the versions between the last one sent and ``corpus.version``": the corpus row is the
signal and ``change`` the payload; an outbox table would be written beside :func:`write` in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from app import models
from app.models import table

CHANGE = table(models.Change)
_ARTICLE, _TOPIC, _CLAIM = table(models.Article), table(models.ArticleTopic), table(models.Claim)
_EVIDENCE, _COUNTER, _SOURCE = table(models.Evidence), table(models.Counterevidence), table(models.Source)
_CORPUS = table(models.Corpus)

#: Stored column -> the field name an entry uses (the API's spelling).
ARTICLE_FIELDS = {"title": "title", "dek": "dek", "summary": "summary", "thesis": "thesis", "status": "status",
                  "fm_status": "frontMatterStatus", "maturity": "maturity", "published_at": "publishedAt",
                  "updated_at": "updatedAt", "series_slug": "series", "series_order": "seriesOrder",
                  "content_hash": "contentHash"}  # fmt: skip
CLAIM_FIELDS = {"text": "text", "confidence": "confidence", "kind": "kind", "verification_status": "verificationStatus"}
SOURCE_FIELDS = {"title": "title", "url": "url", "type": "type", "accessed": "accessed"}
#: Stored column -> the key of an evidence or counterevidence packet as the API spells it (app.queries.claims).
_EVIDENCE_COLUMNS = {"source_id": "sourceId", "snippet": "snippet", "supports": "supports", "location": "location",
                     "assessed_at": "assessedAt", "notes": "notes"}  # fmt: skip
_COUNTER_COLUMNS = {"summary": "summary", "source_id": "sourceId", "snippet": "snippet", "assessed_at": "assessedAt",
                    "notes": "notes"}  # fmt: skip
#: What a claim entry's before/after hold: the scalar fields, and the evidence and counterevidence lists.
CLAIM_VALUES = (*CLAIM_FIELDS.values(), "evidence", "counterevidence")
_CHUNK = 500
DEFAULT_RETENTION = 1000


@dataclass
class State:
    """One article as stored: its scalar fields, topics, claims (by global id) and sources (by sourceId)."""

    public: bool
    series: str | None
    values: dict[str, Any]
    topics: list[str] = field(default_factory=list)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_states(conn: Connection, article_ids: Sequence[int]) -> dict[str, State]:
    """The stored state of ``article_ids``, by slug (a few indexed reads per 500 articles)."""
    states: dict[str, State] = {}
    for start in range(0, len(article_ids), _CHUNK):
        _read_chunk(conn, list(article_ids[start : start + _CHUNK]), states)
    return states


def _read_chunk(conn: Connection, ids: list[int], states: dict[str, State]) -> None:
    slugs: dict[int, State] = {}
    columns = [_ARTICLE.c[name] for name in ARTICLE_FIELDS]
    for row in conn.execute(select(_ARTICLE.c.id, _ARTICLE.c.slug, _ARTICLE.c.is_public, *columns)
                            .where(_ARTICLE.c.id.in_(ids))).mappings():  # fmt: skip
        values = {label: row[name] for name, label in ARTICLE_FIELDS.items()}
        slugs[row["id"]] = states[row["slug"]] = State(bool(row["is_public"]), row["series_slug"], values)
    topics = select(_TOPIC.c.article_id, _TOPIC.c.topic).where(_TOPIC.c.article_id.in_(ids))
    for article_id, topic in conn.execute(topics.order_by(_TOPIC.c.article_id, _TOPIC.c.position)):
        slugs[article_id].topics.append(topic)
    by_row: dict[int, dict[str, Any]] = {}
    claims = select(_CLAIM.c.id, _CLAIM.c.article_id, _CLAIM.c.claim_id, *(_CLAIM.c[n] for n in CLAIM_FIELDS))
    for row in conn.execute(claims.where(_CLAIM.c.article_id.in_(ids)).order_by(_CLAIM.c.id)).mappings():
        claim = {label: row[name] for name, label in CLAIM_FIELDS.items()} | {"evidence": [], "counterevidence": []}
        slugs[row["article_id"]].claims[row["claim_id"]] = by_row[row["id"]] = claim
    for key, owned, names in (
        ("evidence", _EVIDENCE, _EVIDENCE_COLUMNS),
        ("counterevidence", _COUNTER, _COUNTER_COLUMNS),
    ):
        query = select(owned.c.claim_id, *(owned.c[n] for n in names)).where(owned.c.article_id.in_(ids))
        for found in conn.execute(query.order_by(owned.c.claim_id, owned.c.position)):
            by_row[found[0]][key].append({names[name]: value for name, value in zip(names, found[1:], strict=True)
                                          if value is not None})  # fmt: skip
    sources = select(_SOURCE.c.article_id, _SOURCE.c.source_id, *(_SOURCE.c[n] for n in SOURCE_FIELDS))
    for row in conn.execute(sources.where(_SOURCE.c.article_id.in_(ids)).order_by(_SOURCE.c.id)).mappings():
        slugs[row["article_id"]].sources[row["source_id"]] = {label: row[n] for n, label in SOURCE_FIELDS.items()}


Values = tuple[dict[str, Any] | None, dict[str, Any] | None]


def _entry(kind: str, ref: str, slug: str, old: State | None, new: State | None, exists: tuple[bool, bool],
           fields: list[str], values: Values) -> dict[str, Any]:  # fmt: skip
    existed, exists_now = exists
    public_before = existed and old is not None and old.public
    public_after = exists_now and new is not None and new.public
    # The series and topics the filters match: the new ones, except for what anonymous readers see removed (an
    # article sent back to draft), which matches by what they saw: a draft's new topic or series is never probed.
    owner = old if public_before and not public_after else new or old
    assert owner is not None
    action = "updated" if existed and exists_now else "added" if exists_now else "removed"
    return {"type": kind, "action": action, "ref": ref, "article": slug, "series": owner.series,
            "topics": "|" + "|".join(owner.topics) + "|" if owner.topics else "",
            "public_before": public_before, "public_after": public_after,
            "fields": fields, "before": values[0], "after": values[1]}  # fmt: skip


def _compare(old: dict[str, Any] | None, new: dict[str, Any] | None, scalars: Iterable[str],
             visibility: bool) -> tuple[list[str], Values] | None:  # fmt: skip
    """(changed fields, (old, new) scalar values) of one thing, or None if nothing changed."""
    scalars = list(scalars)
    if old is None or new is None:
        present = old if new is None else new
        assert present is not None
        whole = {name: present[name] for name in scalars}
        return [], (whole, None) if new is None else (None, whole)
    changed = [name for name in new if old.get(name) != new[name]]
    if not changed and not visibility:
        return None
    fields = changed + (["public"] if visibility else [])
    if visibility:  # anonymous readers see an addition or a removal: the whole state on each side
        return fields, ({name: old[name] for name in scalars}, {name: new[name] for name in scalars})
    kept = [name for name in changed if name in scalars]
    if not kept:  # evidence, topics or visibility alone: no scalar values to show
        return fields, (None, None)
    return fields, ({name: old[name] for name in kept}, {name: new[name] for name in kept})


def differences(before: dict[str, State], after: dict[str, State]) -> list[dict[str, Any]]:
    """Every entry of one ingest: per slug (in order) the article, then its claims, then its sources."""
    entries: list[dict[str, Any]] = []
    for slug in sorted(before.keys() | after.keys()):
        old, new = before.get(slug), after.get(slug)
        flipped = old is not None and new is not None and old.public != new.public
        article_old = None if old is None else old.values | {"topics": old.topics}
        article_new = None if new is None else new.values | {"topics": new.topics}
        compared = _compare(article_old, article_new, ARTICLE_FIELDS.values(), flipped)
        if compared is not None:
            entries.append(_entry("article", slug, slug, old, new, (old is not None, new is not None), *compared))
        for kind, scalars, attr in (("claim", CLAIM_VALUES, "claims"),
                                    ("source", SOURCE_FIELDS.values(), "sources")):  # fmt: skip
            olds, news = getattr(old, attr, {}), getattr(new, attr, {})
            for ref in [*olds, *(ref for ref in news if ref not in olds)]:
                was, now = olds.get(ref), news.get(ref)
                compared = _compare(was, now, scalars, flipped and was is not None and now is not None)
                if compared is not None:
                    entries.append(_entry(kind, ref, slug, old, new, (was is not None, now is not None), *compared))
    return entries


class ChangeLog:
    """What one ingest's writer changed: the old states read before each delete, the new ones at commit."""

    def __init__(self, enabled: bool, retention: int) -> None:
        self.enabled, self.retention = enabled, retention
        self.before: dict[str, State] = {}

    def read_before(self, conn: Connection, replaced: Sequence[int]) -> None:
        """Before the writer deletes ``replaced``: their stored states."""
        if self.enabled and replaced:
            self.before.update(read_states(conn, replaced))

    def write(self, conn: Connection, version: int, now: dt.datetime, new_ids: range) -> None:
        """At commit: the entries of ``version``, then retention (``corpus.changes_from`` and the old entries)."""
        floor = max(0, version - self.retention)
        if self.enabled:
            after = read_states(conn, list(new_ids)) if len(new_ids) else {}
            entries = differences(self.before, after)
            if entries:
                rows = [{**entry, "version": version, "changed_at": now} for entry in entries]
                conn.execute(insert(CHANGE), rows)
            previous = conn.execute(select(_CORPUS.c.changes_from)).scalar()
            floor = max(floor, version - 1 if previous is None else previous)
        else:
            floor = version
        conn.execute(update(_CORPUS).values(changes_from=floor))
        conn.execute(delete(CHANGE).where(CHANGE.c.version <= floor))


def seen_as(action: str, public_before: bool, public_after: bool, preview: bool) -> str | None:
    """The action a caller sees of an entry (None: anonymous callers do not see it at all): preview callers the
    stored one; anonymous ones, by visibility (the module's docstring). app.queries.changes, the webhook events."""
    if preview or (public_before and public_after):
        return action
    if not public_before and not public_after:
        return None
    return "added" if public_after else "removed"
