"""A claim's history and the claim as it was at a corpus version (stable citations), rebuilt from the change log.

``/claims/{id}/history`` lists each form of the claim, oldest first; ``/claims/{id}?version=N`` gives the form it
had at corpus version N. Both read the claim's entries in the change log (app.ingest.changes: ``type`` claim,
``ref`` the claim id; found through the log's index on ``article``, the slug the id holds) and its current rows,
and rebuild every form backwards from the current state: the state just before an entry is its ``before`` laid
over the state after it (an update records only what changed), its ``before`` alone for a removal, nothing for
an addition. That is the rule of app.ingest.changes (the ``after`` of the last entry at or below N, else the
``before`` of the first above, else the current value), field by field. Evidence, counterevidence and the
resolved sources are rebuilt the same way (source entries of the claim's article), and so are the article's
title, summary and thesis (its article entries).

Decided where the issue is silent:

* **Before the log.** The first ingest records nothing and ``GARDEN_CHANGE_RETENTION`` trims the log, so the log
  knows every change made after ``corpus.changes_from`` and none before. The first form a history lists is the
  claim's form at that version, "as of version <changes_from> or earlier": ``orEarlier`` is true unless
  ``changes_from`` is version 1, the first ingest, before which there was nothing, and ``changedAt`` is null (the
  log does not say when). ``?version=N`` below ``changes_from`` is :class:`Expired` (REST 410), whether or not the
  claim changed since: the trimmed entries that would say so are gone. A version ahead of the corpus is a 422
  naming ``version``; a version at which the claim did not exist (or was not visible to the caller) a 404.
* **Visibility** is the change log's (app.queries.changes): an anonymous caller sees a form only at versions at
  which the claim's article was public, so a draft published shows its first form as ``added`` at that version,
  and an article sent back to draft ends the history with ``removed`` and no values; a claim never public is a
  404, exactly like an unknown id. Preview access shows every form (``fields`` then names ``public`` for a change
  of visibility). A removed claim keeps its history and its versions: a citation stays answerable.
* **What a version holds** (``ClaimVersion``): the claim's fields the log records (claim, confidence, status,
  verificationStatus, evidence with each source resolved as it was then, counterevidence), the article's title,
  summary and thesis as they were, and where the form comes from (``formVersion``, ``orEarlier``, ``changedAt``).
  Not ``asOf``, ``state``, ``verification`` (its details), ``diagnostics``, ``topics`` or ``series``: the log does
  not keep them, and today's would misdate what the citation saw. ``articleUrl`` and ``citationUrl`` are today's
  (null once the article is gone). Evidence recorded before the log kept evidence lists is unknown: null.
* **Paging.** A history is keyset-paged on the change id like every list (the first form's key is 0). Each page
  reads all of the claim's entries (the rebuild runs backwards from today), which the retention bounds: one entry
  per version at most, ``GARDEN_CHANGE_RETENTION`` (1,000) versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select

from app import models, shapes
from app.ingest.changes import SOURCE_FIELDS
from app.models import table
from app.queries.claims import counterevidence, resolved_evidence
from app.queries.common import ARTICLE, CLAIM, SOURCE, Listing, Scope
from app.queries.errors import Expired, InvalidParameter, MalformedCursor, NotFound
from app.queries.paging import decode_cursor, encode_cursor, select_fields
from app.queries.params import HistoryParams

CHANGE = table(models.Change)
CORPUS = table(models.Corpus)
ARTICLE_VALUES = ("title", "summary", "thesis")
ITEM_FIELDS = ("version", "changedAt", "orEarlier", "action", "fields", "claim", "confidence", "status",
               "verificationStatus", "evidenceCount", "counterevidenceCount")  # fmt: skip
_LISTS = ("evidence", "counterevidence")

Values = dict[str, Any]


@dataclass
class Form:
    """One form of a thing: the change that gave it (None: the form at ``changes_from``), its values after that
    change (None: absent) and whether anonymous callers saw it."""

    entry: Any
    values: Values | None
    public: bool


def _before(entry: Any, after: Values | None) -> Values | None:
    """The values just before ``entry``, from those just after it."""
    if entry.action == "added":
        return None
    before = dict(entry.before or {})
    if entry.action == "removed":
        return before
    state = {**(after or {}), **before}
    for name in _LISTS:  # an entry written before the log kept the lists names the change without the values
        if name in entry.fields and name not in before:
            state[name] = None
    return state


def forms(entries: Sequence[Any], current: Values | None, public: bool) -> list[Form]:
    """Every form, oldest first: the one at ``changes_from`` (its ``entry`` None), then one per entry."""
    found: list[Form] = []
    for entry in reversed(entries):
        found.append(Form(entry, current, public))
        current, public = _before(entry, current), entry.public_before
    found.append(Form(None, current, public))
    return found[::-1]


def _at(entries: Sequence[Any], version: int, current: Values | None, public: bool) -> Form:
    """The form at ``version``: the form after the last entry at or below it."""
    return [form for form in forms(entries, current, public) if form.entry is None or form.entry.version <= version][-1]


def _parts(claim_id: str) -> tuple[str, str]:
    slug, _, local = claim_id.removeprefix("article:").rpartition(":")
    if not slug or not local:
        raise NotFound(f"No claim '{claim_id}'; claim ids look like article:<slug>:claim-001.", "claim_id")
    return slug, local


@dataclass
class Known:
    """What the store holds about one claim: its log entries (claim, its article's sources and article), and the
    current rows of the claim and its article (None once removed)."""

    claim_id: str
    slug: str
    local: str
    entries: list[Any]
    sources: dict[str, list[Any]]
    article_entries: list[Any]
    claim: Values | None
    public: bool
    article: Any


def _known(scope: Scope, claim_id: str, *, others: bool) -> Known:
    """The claim's entries (with ``others``: its article's source and article entries too) and current rows."""
    slug, local = _parts(claim_id)
    claim_id = f"article:{slug}:{local}"  # the log's spelling, however the caller wrote it (slug:claim-001 too)
    mine = and_(CHANGE.c.type == "claim", CHANGE.c.ref == claim_id)
    wanted = or_(mine, CHANGE.c.type.in_(("source", "article"))) if others else mine
    rows = scope.session.execute(select(CHANGE).where(CHANGE.c.article == slug, wanted).order_by(CHANGE.c.id)).all()
    sources: dict[str, list[Any]] = {}
    for row in rows:
        if row.type == "source":
            sources.setdefault(row.ref, []).append(row)
    article_columns = [
        ARTICLE.c.id,
        ARTICLE.c.canonical_path,
        ARTICLE.c.is_public,
        *(ARTICLE.c[n] for n in ARTICLE_VALUES),
    ]
    article = scope.session.execute(select(*article_columns).where(ARTICLE.c.slug == slug)).mappings().first()
    claims = [row for row in rows if row.type == "claim"]
    articles = [row for row in rows if row.type == "article"]
    claim, public = _current_claim(scope, article, local)
    return Known(claim_id, slug, local, claims, sources, articles, claim, public, article)


def _current_claim(scope: Scope, article: Any, local: str) -> tuple[Values | None, bool]:
    """The claim's values as stored now (None if its article no longer has it), and whether it is public."""
    if article is None:
        return None, False
    names = ("id", "is_public", "text", "confidence", "kind", "verification_status")
    query = select(*(CLAIM.c[name] for name in names)).where(CLAIM.c.article_id == article["id"])
    found = scope.session.execute(query.where(CLAIM.c.local_id == local)).mappings().first()
    if found is None:
        return None, False
    key = found["id"]
    evidence = [{k: v for k, v in packet.items() if k != "source"}
                for packet in resolved_evidence(scope, [key]).get(key, [])]  # fmt: skip
    claim = {"text": found["text"], "confidence": found["confidence"], "kind": found["kind"],
             "verificationStatus": found["verification_status"], "evidence": evidence,
             "counterevidence": counterevidence(scope, [key]).get(key, [])}  # fmt: skip
    return claim, bool(found["is_public"])


def _bounds(scope: Scope) -> tuple[int, int]:
    """(corpus version, changes_from): the log knows every change made after ``changes_from``."""
    row = scope.session.execute(select(CORPUS.c.version, CORPUS.c.changes_from)).first()
    version = row.version if row else 0
    return version, version if row is None or row.changes_from is None else row.changes_from


def _stamp(entry: Any) -> str:
    return str(entry.changed_at.isoformat().replace("+00:00", "Z"))


def _item(form: Form, start: int, preview: bool) -> dict[str, Any] | None:
    """A form as the caller sees it in the history (None: not at all)."""
    entry, values = form.entry, form.values
    if entry is None:
        if values is None or not (preview or form.public):
            return None
        version, changed, action, fields = start, None, None, []
    else:
        version, changed, action, fields = entry.version, _stamp(entry), entry.action, list(entry.fields)
        if not preview:
            if not (entry.public_before or entry.public_after):
                return None
            if not entry.public_before:
                action, fields = "added", []
            elif not entry.public_after:
                action, fields, values = "removed", [], None
            else:
                fields = [name for name in fields if name != "public"]
    item = {"version": version, "changedAt": changed, "orEarlier": entry is None and start > 1, "action": action,
            "fields": fields}  # fmt: skip
    return item | _claim_values(values)


def _claim_values(values: Values | None) -> dict[str, Any]:
    values = values or {}
    evidence, counter = values.get("evidence"), values.get("counterevidence")
    status = values.get("verificationStatus")
    return {"claim": values.get("text"), "confidence": values.get("confidence"), "status": values.get("kind"),
            "verificationStatus": status or ("draft" if values else None),
            "evidenceCount": None if evidence is None else len(evidence),
            "counterevidenceCount": None if counter is None else len(counter)}  # fmt: skip


def _visible(scope: Scope, known: Known, start: int) -> list[tuple[int, dict[str, Any]]]:
    """(key, item) of every form the caller may see; NotFound when there is none (unknown, or never public)."""
    found = []
    for form in forms(known.entries, known.claim, known.public):
        item = _item(form, start, scope.preview)
        if item is not None:
            found.append((0 if form.entry is None else form.entry.id, item))
    if not found:
        raise NotFound(f"No claim '{known.claim_id}'; claim ids look like article:<slug>:claim-001.", "claim_id")
    return found


def claim_history(scope: Scope, claim_id: str, params: HistoryParams) -> Listing:
    """One page of the claim's forms, oldest first (see the module)."""
    known = _known(scope, claim_id, others=False)
    items = _visible(scope, known, _bounds(scope)[1])
    resume = decode_cursor(params, 1)
    if resume is not None and not isinstance(resume[0], int):
        raise MalformedCursor()
    after = [(key, item) for key, item in items if resume is None or key > resume[0]]
    page = after[: params.limit]
    cursor = encode_cursor(params, [page[-1][0]]) if len(after) > params.limit else None
    return Listing(select_fields([item for _, item in page], params.fields, ITEM_FIELDS), len(items), cursor)


def versions(scope: Scope, claim_id: str, count: int) -> list[dict[str, Any]]:
    """The latest ``count`` forms the caller may see, oldest first, each as its version, action and changed fields
    only (MCP's get_claim lists them; get_claim with a version gives one's values)."""
    items = _visible(scope, _known(scope, claim_id, others=False), _bounds(scope)[1])[-count:]
    return [{"version": item["version"], "action": item["action"], "fields": item["fields"]} for _, item in items]


def _check_version(version: int, bounds: tuple[int, int]) -> None:
    latest, start = bounds
    if version > latest:
        raise InvalidParameter("version", f"is ahead of the corpus version ({latest}): pass a version this server "
                                          "has served (X-Corpus-Version)")  # fmt: skip
    if version < start:
        raise Expired(f"version: the change log starts after version {start}, so the claim's form at version "
                      f"{version} is no longer kept (nor whether it changed since); the oldest version answered is "
                      f"{start}.", "version")  # fmt: skip


def claim_at_version(scope: Scope, claim_id: str, version: int) -> dict[str, Any]:
    """The claim as it was at corpus ``version`` (``ClaimVersion``; see the module)."""
    known = _known(scope, claim_id, others=True)
    bounds = _bounds(scope)
    _visible(scope, known, bounds[1])  # an unknown id (or one never visible to the caller) is a 404 first
    _check_version(version, bounds)
    form = _at(known.entries, version, known.claim, known.public)
    if form.values is None or not (scope.preview or form.public):
        said = "did not exist then" if scope.preview else "did not exist then, or was not published"
        raise NotFound(f"No claim '{claim_id}' at version {version}: it {said} (its history lists the versions it "
                       "has).", "version")  # fmt: skip
    values = form.values
    evidence = values.get("evidence")
    if evidence is not None:
        sources = _current_sources(scope, known)
        evidence = [{**packet, "source": _source_at(known, sources, packet.get("sourceId"), version)}
                    for packet in evidence]  # fmt: skip
    article = _article_at(known, version)
    seen = known.article is not None and (scope.preview or known.article["is_public"])  # else gone, for the caller
    url = shapes.article_url(scope.site, known.article["canonical_path"]) if seen else None
    entry = form.entry
    return {
        "articleId": f"article:{known.slug}", "slug": known.slug, "claimId": known.claim_id,
        "localClaimId": known.local,
        **{key: value for key, value in _claim_values(values).items()},
        "evidence": evidence, "counterevidence": values.get("counterevidence"),
        "articleUrl": url, "citationUrl": None if url is None else f"{url}#{known.local}",
        "article": {"id": f"article:{known.slug}", "slug": known.slug, **article, "articleUrl": url},
        "version": version, "formVersion": bounds[1] if entry is None else entry.version,
        "orEarlier": entry is None and bounds[1] > 1, "changedAt": None if entry is None else _stamp(entry),
    }  # fmt: skip


def _article_at(known: Known, version: int) -> dict[str, Any]:
    """The article's title, summary and thesis at ``version`` (null where the log cannot say)."""
    current = None if known.article is None else {name: known.article[name] for name in ARTICLE_VALUES}
    values = _at(known.article_entries, version, current, True).values or {}
    return {name: values.get(name) for name in ARTICLE_VALUES}


def _current_sources(scope: Scope, known: Known) -> dict[str, Values]:
    """The article's sources as stored now, by sourceId (none once the article is gone)."""
    if known.article is None:
        return {}
    query = select(SOURCE.c.source_id, *(SOURCE.c[name] for name in SOURCE_FIELDS))
    rows = scope.session.execute(query.where(SOURCE.c.article_id == known.article["id"])).mappings()
    return {row["source_id"]: {label: row[name] for name, label in SOURCE_FIELDS.items()} for row in rows}


def _source_at(known: Known, current: dict[str, Values], source_id: str | None, version: int) -> Values | None:
    """A cited source (title, url, type, accessed) as it was at ``version``; None if the article did not list it."""
    if source_id is None:
        return None
    values = _at(known.sources.get(source_id, []), version, current.get(source_id), True).values
    return None if values is None else {name: values.get(name) for name in SOURCE_FIELDS.values()}
