"""Series: every series with visible members, and one series with its members in order and its warnings.

Series data lives only in ``artifact.series`` (DATA-CONTRACT §3). A series exists for a caller when at least
one of its members is visible to them; its title and season are those of its first member in series order
(order ascending, front-matter date descending, slug), as the site shows them. Orders are not unique in the
store (an archived member may hold the order of a published one), so the checks the publisher runs on its
published members are reported as warnings rather than assumed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from app import shapes
from app.aggregates import SERIES_HEAD, SORT_DATE, in_series_order
from app.queries.common import ARTICLE, SERIES_COLUMNS, Scope, path_segment, visible
from app.queries.errors import NotFound

#: The kicker table of the site's content.ts (§3): arc → title; its 1-based position is the part number.
ARCS: dict[str, str] = {
    "diagnosis": "The Diagnosis",
    "historical-frames": "Historical and Human Frames",
    "ai-opportunity-cost": "The AI Opportunity Cost",
    "building-substance": "Building Substance",
    "designing-for-substance": "Designing for Substance",
    "synthesis": "Synthesis and Action",
}
ARC_PART: dict[str, int] = {arc: part for part, arc in enumerate(ARCS, start=1)}

_MEMBER_COLUMNS = (
    ARTICLE.c.slug,
    ARTICLE.c.title,
    ARTICLE.c.summary,
    ARTICLE.c.canonical_path,
    ARTICLE.c.updated_at,
    *SERIES_COLUMNS,
    SORT_DATE.label("sort_date"),
)

#: Builds an absolute URL on the serving API from a path (``Context.url`` in the REST API): a prefix, then
#: the path as it is.
UrlFor = Callable[[str], str]


def _members(scope: Scope, slug: str) -> list[Any]:
    """One series' visible members in series order."""
    query = select(*_MEMBER_COLUMNS).where(visible(scope.preview), ARTICLE.c.series_slug == slug)
    return in_series_order(scope.session.execute(query).mappings().all())


def series_path(slug: str) -> str:
    return f"/series/{path_segment(slug)}"


def list_series(scope: Scope, url_for: UrlFor) -> list[dict[str, Any]]:
    """Every series with a visible member, newest member date first, then by slug (stored by ingest:
    app.aggregates)."""
    base = url_for(series_path(""))  # a URL ends in the path (UrlFor): each series' adds its slug
    return [
        {
            "slug": slug,
            "title": title,
            "season": season,
            "memberCount": members,
            "guide": None if guide_slug is None else {"slug": guide_slug, "title": guide_title},
            "newestUpdate": newest,
            "url": base + path_segment(slug),
        }
        for slug, title, season, members, guide_slug, guide_title, newest in scope.session.execute(
            _SERIES_HEADS[scope.preview]
        ).all()
    ]


def _series_heads(preview: bool) -> Any:
    head = SERIES_HEAD.c
    return (
        select(head.slug, head.title, head.season, head.member_count, head.guide_slug, head.guide_title,
               head.newest_update)
        .where(head.preview == preview)
        .order_by(head.position)
    )  # fmt: skip


#: Every series a caller sees, as stored (built once: app.queries.common).
_SERIES_HEADS = {preview: _series_heads(preview) for preview in (False, True)}


def get_series(scope: Scope, slug: str, url_for: UrlFor) -> dict[str, Any]:
    """One series: its visible members in order with arc titles and parts, and what its ordering breaks."""
    members = _members(scope, slug) if "\x00" not in slug else None
    if not members:
        raise NotFound(f"No series '{slug}'.", "slug")
    first = members[0]
    return {
        "slug": slug,
        "title": first["series_title"],
        "season": first["series_season"],
        "memberCount": len(members),
        "members": [_member(row, scope.site, url_for) for row in members],
        "warnings": series_warnings(members),
    }


def _member(row: Any, site: str, url_for: UrlFor) -> dict[str, Any]:
    arc = row["series_arc"]
    return {
        "order": row["series_order"],
        "role": row["series_role"],
        "arc": arc,
        "arcTitle": ARCS.get(arc) if arc is not None else None,
        "arcPart": ARC_PART.get(arc) if arc is not None else None,
        "slug": row["slug"],
        "title": row["title"],
        "summary": row["summary"],
        "articleUrl": shapes.article_url(site, row["canonical_path"]),
        **shapes.packet_paths(row["slug"]),
        "apiUrl": url_for(f"/articles/{path_segment(row['slug'])}"),
    }


def series_warnings(members: Sequence[Any]) -> list[dict[str, str]]:
    """The publisher's group checks (§3) over ``members`` (in series order), as ``{code, message}`` warnings.

    Orders must be unique and exactly 0..n-1, with exactly one guide, at order 0; an arc must be in ARCS.
    """
    warnings: list[dict[str, str]] = []
    orders = Counter(m["series_order"] for m in members)
    for order, count in sorted(orders.items()):
        if count > 1:
            slugs = ", ".join(m["slug"] for m in members if m["series_order"] == order)
            warnings.append(_warning("duplicate-order", f"Order {order} is held by {count} members: {slugs}."))
    missing = _gaps(sorted(orders))
    if missing:
        listed = ", ".join(missing)
        warnings.append(_warning("missing-order", f"The orders are not contiguous from 0: missing {listed}."))
    guides = [m for m in members if m["series_role"] == "guide"]
    if not guides:
        warnings.append(_warning("missing-guide", "The series has no member with role guide."))
    elif len(guides) > 1:
        slugs = ", ".join(f"{m['slug']} (order {m['series_order']})" for m in guides)
        warnings.append(_warning("misplaced-guide", f"The series has {len(guides)} guides: {slugs}."))
    else:
        guide = guides[0]
        if guide["series_order"] != 0:
            message = f"The guide {guide['slug']} is at order {guide['series_order']}, not 0."
            warnings.append(_warning("misplaced-guide", message))
    unknown: dict[str, list[str]] = {}
    for m in members:
        if m["series_arc"] is not None and m["series_arc"] not in ARCS:
            unknown.setdefault(m["series_arc"], []).append(m["slug"])
    for arc, holders in unknown.items():
        message = f"Arc '{arc}' of {', '.join(holders)} is not one of the known arcs ({', '.join(ARCS)})."
        warnings.append(_warning("unknown-arc", message))
    return warnings


def _gaps(orders: Sequence[int]) -> list[str]:
    """The orders missing below the highest one, as ``n`` or ``a-b`` ranges (ascending, distinct ``orders``)."""
    gaps: list[str] = []
    expected = 0
    for order in orders:
        if order > expected:
            gaps.append(str(expected) if order == expected + 1 else f"{expected}-{order - 1}")
        expected = order + 1
    return gaps


def _warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}
