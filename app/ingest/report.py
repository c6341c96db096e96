"""Stage 5, report: what one run found and did, and the totals of the corpus it leaves."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Engine, Table, bindparam, func, inspect, select

from app import models
from app.content.errors import ContentError
from app.models import table

if TYPE_CHECKING:
    from app.ingest.prepare import Built

_CHUNK = 10_000
_STREAM_ROWS = 2_000


@dataclass
class IngestReport:
    """What one run found and did; ``as_json()`` is the ``garden ingest --json`` document."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    diagnostics: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0})
    dry_run: bool = False
    written: bool = False
    corpus_version: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": {
                "added": len(self.added),
                "updated": len(self.updated),
                "unchanged": len(self.unchanged),
                "removed": len(self.removed),
                "invalid": len(self.invalid),
            },
            "counts": self.counts,
            "errors": [error.as_dict() for error in self.errors],
            "diagnostics": self.diagnostics,
            "changes": {
                "added": self.added,
                "updated": self.updated,
                "removed": self.removed,
                "missing": self.missing,
                "invalid": self.invalid,
            },
            "dryRun": self.dry_run,
            "corpusVersion": self.corpus_version,
            "notes": self.notes,
        }


def corpus_counts(engine: Engine) -> tuple[dict[str, int], int]:
    """The promised counts of the whole stored corpus, and its version (0: nothing stored yet)."""
    article, claim, source = table(models.Article), table(models.Claim), table(models.Source)
    with engine.connect() as conn:
        if not inspect(conn).has_table("corpus"):
            return dict.fromkeys(
                ("articles", "public_articles", "claims", "public_claims", "sources", "public_sources"), 0
            ), 0

        def count(target: Table, public_only: bool) -> int:
            query = select(func.count()).select_from(target)
            if public_only:
                query = query.where(target.c.is_public)  # claims and sources carry their article's
            return int(conn.execute(query).scalar_one())

        listed = table(models.ListCount)
        whole = select(listed.c.kind, listed.c.rows).where(listed.c.field == "", listed.c.value == "")
        public = {kind: rows for kind, rows in conn.execute(whole)} if inspect(conn).has_table("list_count") else {}
        counts = {}
        for name, target, kind in (("articles", article, "articles"), ("claims", claim, "claims"),
                                   ("sources", source, "sources")):  # fmt: skip
            counts[name] = count(target, False)
            counts[f"public_{name}"] = public[kind] if kind in public else count(target, True)
        version = conn.execute(select(table(models.Corpus).c.version)).scalar() or 0
    return counts, int(version)


def diagnostic_totals(
    engine: Engine,
    fresh: Counter[str],
    unchanged: Collection[int],
    today: dt.date,
    others: Collection[int] | None = None,
) -> dict[str, int]:
    """Findings by severity over this run's valid input: ``fresh`` ones from parsing, and the stored ones of the
    ``unchanged`` articles (their ids), counted in SQL.

    After a run that wrote, the stored findings of the articles it wrote are its fresh ones, so when the stored
    articles that are not this run's input (``others``: invalid or missing, kept) are fewer than the unchanged
    ones, the totals are every stored finding less theirs: one grouped query instead of one per 10,000 ids."""
    diagnostic = table(models.Diagnostic)
    active = diagnostic.c.active_from.is_(None) | (diagnostic.c.active_from <= today.isoformat())
    query = select(diagnostic.c.severity, func.count()).where(active).group_by(diagnostic.c.severity)

    def over(conn: Connection, ids: Collection[int]) -> Counter[str]:
        found: Counter[str] = Counter()
        for chunk in _chunks(sorted(ids)):
            in_chunk = diagnostic.c.article_id.in_(bindparam("ids", chunk, expanding=True))
            found.update({severity: count for severity, count in conn.execute(query.where(in_chunk))})
        return found

    with engine.connect() as conn:
        if others is not None and len(others) < len(unchanged):
            totals = Counter({severity: count for severity, count in conn.execute(query)})
            totals.subtract(over(conn, others))
        else:
            totals = Counter(fresh) + over(conn, unchanged) if unchanged else Counter(fresh)
    return {"error": totals.get("error", 0), "warning": totals.get("warning", 0)}


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start : start + _CHUNK] for start in range(0, len(ids), _CHUNK)]


# --- the listed diagnostics ---------------------------------------------------------------------------------


def article_location(year: str, slug: str, layout: str) -> str:
    """Where an article lives in a content repository: its directory, or its packet file (the ``file`` of a
    listed diagnostic: the same for findings parsed now and findings read back from the database)."""
    return f"content/articles/{year}/{slug}" if layout == "source" else f"{slug}.json"


def finding_item(
    location: str, slug: str, rule: str, severity: str, claim_id: str | None, message: str, origin: str
) -> dict[str, Any]:
    """One listed diagnostic: the ``findings`` items of ``garden ingest --json`` and ``garden check --json``."""
    return {"file": location, "slug": slug, "severity": severity, "rule": rule, "claimId": claim_id,
            "message": message, "origin": origin}  # fmt: skip


class FindingSpool:
    """The diagnostics of the articles one run parsed, kept in an unnamed temporary file (one JSON line each) as
    they come out of validation, not in memory: a 50,000-article corpus has some 250,000 of them.

    The ingest calls :meth:`reset` as each attempt starts and :meth:`add` for each article it built;
    :func:`listed_findings` reads them back after the run, with the stored ones of the unchanged articles."""

    def __init__(self, today: dt.date) -> None:
        from app.ingest.rows import columns

        self.today = today.isoformat()
        article = columns("article")
        self._year, self._layout = article.index("year"), article.index("layout")
        self._columns = columns("diagnostic")
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())

    def reset(self) -> None:
        self._file.seek(0)
        self._file.truncate()

    def add(self, built: Built) -> None:
        [article] = built.rows["article"]
        location = article_location(article[self._year], built.slug, article[self._layout])
        for row in built.rows.get("diagnostic", ()):
            finding = dict(zip(self._columns, row, strict=True))
            if finding["active_from"] is None or finding["active_from"] <= self.today:
                item = finding_item(location, built.slug, finding["rule"], finding["severity"],
                                    finding["claim_local_id"], finding["message"], finding["origin"])  # fmt: skip
                self._file.write(orjson.dumps(item) + b"\n")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield orjson.loads(line)
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


def listed_findings(
    engine: Engine | None, spool: FindingSpool, unchanged: Collection[str], today: dt.date
) -> Iterator[dict[str, Any]]:
    """Every active diagnostic of a run's valid input, one at a time: the parsed articles' from ``spool``, then
    the stored ones of the ``unchanged`` articles (slugs), streamed from the ``diagnostic`` table in dir order.
    The same findings ``IngestReport.diagnostics`` counts."""
    yield from spool
    if not unchanged or engine is None:
        return
    article, diagnostic = table(models.Article), table(models.Diagnostic)
    query = (
        select(article.c.slug, article.c.year, article.c.layout, diagnostic.c.rule, diagnostic.c.severity,
               diagnostic.c.claim_local_id, diagnostic.c.message, diagnostic.c.origin)
        .join(article, article.c.id == diagnostic.c.article_id)
        .where(diagnostic.c.active_from.is_(None) | (diagnostic.c.active_from <= today.isoformat()))
        .order_by(article.c.dir_key, diagnostic.c.position)
    )  # fmt: skip
    wanted = unchanged if isinstance(unchanged, set | frozenset) else set(unchanged)
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=_STREAM_ROWS).execute(query)
        for slug, year, layout, rule, severity, claim_id, message, origin in rows:
            if slug in wanted:
                yield finding_item(article_location(year, slug, layout), slug, rule, severity, claim_id, message,
                                   origin)  # fmt: skip
