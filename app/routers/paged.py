"""The body of a paged list: ``{items, total, totalRelation, next}`` and its ``Link: rel="next"`` header.

``Context.page`` (app.http) builds ``{items, total, next}``; the lists of this branch add ``totalRelation``
(``eq`` or ``gte``, app.queries.plan) between ``total`` and ``next``. This is ``Context.page`` with that one
key: when app/http.py is free to change, the key belongs there and this module goes.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from app.http import Context
from app.queries.common import Listing


def page(ctx: Context, listing: Listing, path: str) -> Response:
    """A list body with ``totalRelation``, and ``Link: <next>; rel="next"`` on all but the last page."""
    next_url = None
    if listing.next_cursor is not None:
        query = [(k, v) for k, v in ctx.request.query_params.multi_items() if k != "cursor"]
        next_url = ctx.url(path, [*query, ("cursor", listing.next_cursor)])
        ctx.headers["Link"] = f'<{next_url}>; rel="next"'
    body: dict[str, Any] = {"items": listing.items, "total": listing.total, "totalRelation": listing.relation,
                            "next": next_url}  # fmt: skip
    if listing.truncated is not None:
        body["truncated"] = listing.truncated
    if listing.facets is not None:
        body["facets"] = listing.facets
    return ctx.json(body)
