"""Keyset pagination with opaque cursors bound to the sort and the filters they were made under."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, RowMapping, String, TypeDecorator, tuple_

from app.budget import Budget, fit
from app.queries.common import Listing
from app.queries.errors import CursorMismatch, InvalidParameter, MalformedCursor
from app.queries.params import Page


@dataclass
class Keyset:
    """The sort expressions of a list (all ascending or all descending; the last one is unique)."""

    columns: Sequence[ColumnElement[Any]]
    descending: bool = False

    def __post_init__(self) -> None:
        # A cursor's key is checked against each column's type before it reaches the database (PostgreSQL
        # refuses to compare text with an integer), so every column must say whether it is text or integer:
        # an expression such as lower(title) must be given type_=String.
        for column in self.columns:
            if key_kind(column) is None:
                raise TypeError(f"keyset column {column} has no text or integer type")

    def order_by(self) -> list[ColumnElement[Any]]:
        return [column.desc() if self.descending else column.asc() for column in self.columns]

    def after(self, key: Sequence[Any], terms: Sequence[Any] | None = None) -> ColumnElement[bool]:
        """Rows strictly after ``key`` in this order; a key of other types than the columns' (a forged cursor,
        which PostgreSQL would refuse to compare) is MalformedCursor. ``terms``: the columns as other expressions of the
        same values (app.queries.plan.sort_only), compared instead of them."""
        if not all(map(_of_type, self.columns, key)):
            raise MalformedCursor()
        row, last = tuple_(*(self.columns if terms is None else terms)), tuple_(*key)
        return row < last if self.descending else row > last

    def upto(self, key: Sequence[Any]) -> ColumnElement[bool]:
        """Rows up to ``key`` (included) in this order: a window's end, a key read from the database itself."""
        row, last = tuple_(*self.columns), tuple_(*key)
        return row >= last if self.descending else row <= last


def _digest(params: BaseModel) -> str:
    # The parameters that select rows: a cursor is only valid under the same ones.
    chosen = {k: v for k, v in params.model_dump(mode="json").items() if k not in Page.PAGING and v not in (None, [])}
    return hashlib.blake2b(orjson.dumps(chosen, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Total:
    """A list's ``total`` and its ``totalRelation``: ``eq`` (exact) or ``gte`` (a lower bound)."""

    value: int
    relation: str = "eq"


@dataclass(frozen=True)
class Carried:
    """What the first page of a list decided, carried by its cursors: the total, and the plan (app.queries.plan:
    ``walk`` or not, and which filter drives), so that later pages neither count nor estimate again."""

    total: Total
    walk: bool
    driver: int  # the index of the filter that drives (or would, after a walk's window); -1: none
    preview: bool = False  # whose total it is: a cursor handed to a caller who sees other rows is counted anew


def encode_cursor(params: BaseModel, key: Sequence[Any], carried: Carried | None = None) -> str:
    """A cursor resuming after ``key``, carrying what the first page decided (lists; /search carries nothing)."""
    data: dict[str, Any] = {"f": _digest(params), "k": list(key)}
    if carried is not None:
        data["t"] = [carried.total.value, carried.total.relation, int(carried.walk), carried.driver,
                     int(carried.preview)]  # fmt: skip
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def decode_cursor(params: BaseModel, arity: int) -> list[Any] | None:
    """The key a cursor resumes after, or None on the first page; ``MalformedCursor`` for any bad cursor."""
    return decode_page_cursor(params, arity)[0]


def decode_page_cursor(params: BaseModel, arity: int) -> tuple[list[Any] | None, Carried | None]:
    """(the key a cursor resumes after, what it carries): (None, None) on the first page; MalformedCursor for any bad
    cursor. What it carries is checked for shape only: a forged total misleads only whoever forged it, and a
    forged plan reads the same rows another way (app.queries.plan checks the filter index)."""
    cursor: str | None = getattr(params, "cursor", None)
    if cursor is None:
        return None, None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        digest, key, carried = data["f"], data["k"], data.get("t")
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeEncodeError, binascii.Error,
            orjson.JSONDecodeError):  # fmt: skip
        raise MalformedCursor() from None
    if digest != _digest(params):
        raise CursorMismatch()
    if not isinstance(key, list) or len(key) != arity or not all(map(_scalar, key)):
        raise MalformedCursor()
    return key, _total(carried)


def _total(carried: Any) -> Carried | None:
    if carried is None:
        return None
    if not (isinstance(carried, list) and len(carried) == 5 and carried[1] in ("eq", "gte")):
        raise MalformedCursor()
    value, relation, walk, driver, preview = carried
    numbers = (value, walk, driver, preview)
    if not all(isinstance(n, int) and not isinstance(n, bool) and -1 <= n < 2**62 for n in numbers) or value < 0:
        raise MalformedCursor()
    return Carried(Total(value, relation), bool(walk), driver, bool(preview))


@dataclass
class Rows:
    """One page of rows as fetched: ``limit`` rows at most, ``more`` if others follow."""

    rows: Sequence[RowMapping]
    decided: Carried
    more: bool
    params: Page
    keys: Sequence[str]

    def cursor_after(self, index: int) -> str:
        """The cursor of the page that starts after row ``index``; it carries the total and the plan."""
        return encode_cursor(self.params, [self.rows[index][key] for key in self.keys], self.decided)


def finish(page: Rows, items: list[dict[str, Any]], allowed: Sequence[str]) -> Listing:
    """The Listing of ``items`` (one per row), ``fields=`` applied; with a token budget, every item is a candidate
    and the cursor after any number of them is at hand (``page_body`` keeps those that fit)."""
    items = select_fields(items, page.params.fields, allowed)
    next_cursor = page.cursor_after(len(items) - 1) if page.more else None
    total, relation = page.decided.total.value, page.decided.total.relation
    max_tokens: int | None = getattr(page.params, "max_tokens", None)
    if max_tokens is None:
        return Listing(items, total, next_cursor, relation=relation)

    def resume(kept: int) -> str | None:
        return page.cursor_after(kept - 1) if kept < len(items) else next_cursor

    return Listing(items, total, next_cursor, truncated=False, relation=relation, budget=Budget(max_tokens, resume))


def budget_slice(params: BaseModel, items: list[dict[str, Any]]) -> Listing:
    """For lists that are not otherwise paged (an article's claims, a brief's sections): every item, or with
    ``max_tokens`` the items from the cursor on as candidates, each cursor the index of the next item."""
    max_tokens: int | None = getattr(params, "max_tokens", None)
    if max_tokens is None:
        if getattr(params, "cursor", None) is not None:  # it would be ignored: say so rather than answer page one
            raise InvalidParameter("cursor", "only with max_tokens: without a budget the whole list comes at once")
        return Listing(items, len(items), None)
    resume = decode_cursor(params, 1)
    start = resume[0] if resume else 0
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= len(items):
        raise MalformedCursor()

    def after(kept: int) -> str | None:
        return encode_cursor(params, [start + kept]) if start + kept < len(items) else None

    return Listing(items[start:], len(items), after(len(items) - start), truncated=False,
                   budget=Budget(max_tokens, after))  # fmt: skip


#: How a page's body is built, REST's or MCP's: from the items it holds, the cursor after them (None on the
#: last page) and ``truncated`` (None without a budget).
Build = Callable[[list[dict[str, Any]], str | None, bool | None], dict[str, Any]]


def page_extras(listing: Listing, truncated: bool | None) -> dict[str, Any]:
    """What a page body ends with, REST's and MCP's: ``truncated`` (with a budget), then ``facets`` (a search's)."""
    extras: dict[str, Any] = {} if truncated is None else {"truncated": truncated}
    return extras if listing.facets is None else {**extras, "facets": listing.facets}


def page_body(listing: Listing, build: Build, *, key: str = "items") -> tuple[dict[str, Any], bytes]:
    """The body of ``listing`` as sent, and its bytes: REST's (app.http.Context.page, the budgeted brief) and
    MCP's (app.mcp_access.page_result) alike. With a budget, the most items that fit with the rest of the body,
    the facets only if they fit too (app.budget.fit); ``BudgetTooSmall`` when not even one does."""
    budget = listing.budget
    if budget is None:
        body = build(listing.items, listing.next_cursor, listing.truncated)
        return body, orjson.dumps(body)
    items = listing.items

    def sent(kept: int) -> dict[str, Any]:
        return build(items[:kept], budget.resume(kept), kept < len(items))

    return fit(items, budget.max_tokens, sent, key=key, optional="facets")


def key_kind(column: ColumnElement[Any]) -> type | None:
    """``int`` or ``str``: what a keyset column holds (None for any other type)."""
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type  # SQLModel's AutoString
    if isinstance(kind, Integer):
        return int
    return str if isinstance(kind, String) else None


def _of_type(column: ColumnElement[Any], value: Any) -> bool:
    """Whether a cursor's key ``value`` has the type of its keyset ``column`` (text or integer)."""
    return isinstance(value, key_kind(column) or ()) and not isinstance(value, bool)


def _scalar(value: Any) -> bool:
    # Only what our own cursors hold; anything else (a forged cursor) must not reach the database.
    if isinstance(value, bool):
        return False
    return (isinstance(value, str) and len(value) <= 1000 and "\x00" not in value) or (
        isinstance(value, int) and abs(value) < 2**62
    )


def select_fields(items: list[dict[str, Any]], fields: list[str], allowed: Sequence[str]) -> list[dict[str, Any]]:
    """Keep only the requested fields of each item (``fields=``), refusing names the items do not have."""
    if not fields:
        return items
    unknown = [name for name in fields if name not in allowed]
    if unknown:
        raise InvalidParameter("fields", f"unknown field(s) {', '.join(unknown)}; choose from {', '.join(allowed)}.")
    return [{name: item[name] for name in fields if name in item} for item in items]
