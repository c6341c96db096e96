"""Token budgets: estimates with the publisher's rule (DATA-CONTRACT §2.0: ceil(words × 1.35), float), applied
to JSON. JSON punctuation (braces, brackets, commas, colons, quotes) counts as space, so a key and each word
of a value count as words.

**A budget holds on the bytes sent.** With ``max_tokens``, a page keeps the most items (taken in order) whose
body, exactly as it is sent, is estimated within the budget: with its real ``next`` URL and ``nextCursor`` (the
cursor after the last item kept, and its length), ``truncated``, and the facets of a search if they still fit
(hits come first). The query layer hands over every candidate item and how to make the cursor after any number of
them (:class:`Budget`, carried by ``app.queries.common.Listing``); the fit is made where the body is built
(``app.http.Context.page`` for REST, ``app.mcp_access.page_result`` for MCP, the budgeted brief's route), by
:func:`fit` through ``app.queries.paging.page_body``.

What it holds for, where the issue was silent:

* **REST**: the response body, as ``X-Token-Estimate`` gives it: the estimate of the body's bytes as sent
  (before any gzip). Headers are not counted. The only header that grows with the page is ``Link``, which
  repeats the body's ``next`` (already counted); the others (ETag, dates, caching, the estimate itself) are
  the same few dozen tokens on every answer, are rewritten by proxies, and are not what an HTTP tool hands a
  model. So ``X-Token-Estimate`` ≤ ``max_tokens`` on every 200, and a client can check it against the bytes.
* **MCP**: the page a tool returns, its ``structuredContent``, whose JSON is also the result's text content
  (the estimate is of that text). The JSON-RPC envelope is the protocol's, as headers are HTTP's.
* **Nothing fits** (not one item, or with no items the envelope alone): ``BudgetTooSmall``, whose ``needed``
  is the estimate of the body with one item (its real ``next`` included). Asking again with that budget keeps
  that item: the next URL then names another ``max_tokens``, but digits are never separators, so its words
  are the same.

**Cheap**, without serialising the body once per item: words add up over a JSON list (each item is written
between separators, ``[`` ``,`` ``]``), so the words of a body are those of its envelope (the body with an
empty list) plus those of its items. Each item is serialised once, a handful of envelopes are tried, and the
body is serialised once, at the end.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

#: Every byte as ``estimate`` sees it: a separator (JSON punctuation, or ASCII whitespace as ``bytes.split``
#: takes it) becomes a space, any other byte an ``x``; a word then starts at every ``" x"``.
_SEPARATORS = frozenset(b'{}[],:" \t\n\r\x0b\x0c')
_WORD_BYTES = bytes(32 if byte in _SEPARATORS else 120 for byte in range(256))


def words(body: bytes) -> int:
    """How many words ``body`` holds: runs of bytes between separators. Counted without making them (a list of
    every word cost 60-120 µs per 20 KB body, on every JSON answer)."""
    marked = body.translate(_WORD_BYTES)
    return marked.count(b" x") + marked.startswith(b"x")


def tokens(count: int) -> int:
    """The estimated tokens of ``count`` words."""
    return math.ceil(count * 1.35) if count else 0


def estimate(body: bytes) -> int:
    """Estimated tokens of a JSON body (or any UTF-8 text)."""
    return tokens(words(body))


def most_words(max_tokens: int) -> int:
    """The most words whose estimate is within ``max_tokens`` (found with ``tokens`` itself, float and all)."""
    count = max(int(max_tokens / 1.35), 0)
    while tokens(count + 1) <= max_tokens:
        count += 1
    while count and tokens(count) > max_tokens:
        count -= 1
    return count


@dataclass(frozen=True)
class Budget:
    """A page's token budget, carried from the query layer to where its body is built: ``max_tokens``, and
    ``resume(k)``, the cursor of the page that continues after the first ``k`` items (None if none follows)."""

    max_tokens: int
    resume: Callable[[int], str | None]


def fit(
    items: Sequence[Any],
    max_tokens: int,
    build: Callable[[int], dict[str, Any]],
    *,
    key: str = "items",
    optional: str | None = None,
) -> tuple[dict[str, Any], bytes]:
    """The body holding the most of ``items``, in order, that fits ``max_tokens``, and its bytes.

    ``build(k)`` is the body sent with the first ``k`` items at ``key`` (its real next URL and cursor). The key
    ``optional`` (a search's facets) stays only if the body still fits with it. Raises ``BudgetTooSmall``
    when not even one item fits, or, with no items, the envelope alone.
    """
    cap = most_words(max_tokens)
    sizes = _prefix_words(items, cap)
    count = len(sizes) - 1  # the items measured: any after them cannot fit
    body = build(count)
    frame = _frame_words(body, key, optional)
    if frame + sizes[count] > cap:
        count, body = _fewer(sizes, cap, build, key, optional, count, frame)
    if optional is not None and optional in body:
        with_optional = words(orjson.dumps({**body, key: []}))
        if with_optional + sizes[count] > cap:
            body = {name: value for name, value in body.items() if name != optional}
    return body, orjson.dumps(body)


def _prefix_words(items: Sequence[Any], cap: int) -> list[int]:
    """The words of the first k items, for k from 0 on, until they exceed ``cap`` (items after that are not
    serialised: a small budget over a long page costs what it keeps)."""
    sizes = [0]
    for item in items:
        if sizes[-1] > cap:
            break
        sizes.append(sizes[-1] + words(orjson.dumps(item)))
    return sizes


def _fewer(sizes: list[int], cap: int, build: Callable[[int], dict[str, Any]], key: str, optional: str | None,
           count: int, frame: int) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """(k, build(k)) for the most items short of ``count`` that fit, where ``count`` items (with an envelope of
    ``frame`` words) did not. Each step keeps as many as fit beside the last envelope tried, until one fits:
    the envelope barely changes with k (only its cursor, one word however long, and whether ``next`` is null),
    so that is one or two steps, and one more to see that the item after does not fit either."""
    if count == 0:
        raise BudgetTooSmall(tokens(frame))
    beyond = count  # the fewest items known not to fit
    while True:
        fewer = max(bisect_right(sizes, cap - frame, 0, count) - 1, 1)  # below count, unless count is 1
        if fewer == count:
            raise BudgetTooSmall(tokens(frame + sizes[1]))
        count, body = fewer, build(fewer)
        frame = _frame_words(body, key, optional)
        if frame + sizes[count] <= cap:
            break
        beyond = count
    while count + 1 < beyond:  # the guess was made beside another envelope: one more may fit
        more = build(count + 1)
        if _frame_words(more, key, optional) + sizes[count + 1] > cap:
            break
        count, body = count + 1, more
    return count, body


def _frame_words(body: dict[str, Any], key: str, optional: str | None) -> int:
    """The words of ``body`` without its items (and without ``optional``)."""
    frame = {name: [] if name == key else value for name, value in body.items() if name != optional}
    return words(orjson.dumps(frame))


class BudgetTooSmall(ValueError):
    """Raised when not even one item fits the token budget; ``needed`` is the smallest budget that would."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"max_tokens is too small: the next item needs {needed} tokens with its envelope")
        self.needed = needed
