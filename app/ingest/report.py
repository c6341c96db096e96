"""Stage 5, report: what one run found and did, and the totals of the corpus it leaves."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, inspect, select

from app import models
from app.content.errors import ContentError
from app.models import table

_CHUNK = 10_000


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
