"""Content negotiation and conditional requests, on raw header values (the routes and the response cache share them)."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether Accept-Encoding admits gzip (RFC 9110 §12.5.3: case-insensitive, q=0 means "not acceptable")."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[coding.strip()] = weight
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


@lru_cache(maxsize=256)
def http_date(value: str) -> dt.datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def not_modified(if_none_match: str, if_modified_since: str, etag: str, last_modified: dt.datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison, any content coding), else
    If-Modified-Since against Last-Modified."""
    if if_none_match:
        if if_none_match.strip() == "*":
            return True
        bare = etag.removesuffix('-gz"').strip('"')
        for candidate in if_none_match.split(","):
            if candidate.strip().removeprefix("W/").strip('"').removesuffix("-gz") == bare:
                return True
        return False
    if if_modified_since and last_modified is not None:
        since = http_date(if_modified_since)
        try:
            return since is not None and last_modified <= since
        except TypeError:  # a date without a zone
            return False
    return False


class NotModified(Exception):
    """A 304 decided before the route ran (app.http.revalidate); ``headers`` are the 200's caching headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not modified")
        self.headers = headers


async def not_modified_response(_request: Request, exc: Exception) -> Response:
    """The exception handler for NotModified (app.main installs it)."""
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers=exc.headers)


def preferred(accept: str, offers: tuple[str, ...]) -> str | None:
    """The offer an Accept header ranks highest (RFC 9110 §12.5.1): each offer takes the weight of the most
    specific range matching it (``type/sub``, then ``type/*``, then ``*/*``); the highest weight wins, an earlier
    offer on a tie. No Accept header (or an empty one): the first offer. None: the header admits no offer."""
    if not accept.strip():
        return offers[0]
    ranges: list[tuple[str, float]] = []
    for item in accept.lower().split(","):
        media, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if media.strip():
            ranges.append((media.strip(), weight))
    best, best_weight = None, 0.0
    for offer in offers:
        kind = offer.split("/", 1)[0] + "/*"
        matches = [(3 if media == offer else 2 if media == kind else 1, weight) for media, weight in ranges
                   if media in (offer, kind, "*/*")]  # fmt: skip
        weight = max(matches)[1] if matches else 0.0
        if weight > best_weight:
            best, best_weight = offer, weight
    return best
