"""Token budgets: estimates with the publisher's rule (DATA-CONTRACT §2.0: ceil(words × 1.35), float), applied
to JSON. JSON punctuation (braces, brackets, commas, colons, quotes) counts as space, so a key and each word
of a value count as words. Estimates add up: a body's estimate never exceeds the sum of its parts' estimates,
which is what lets a list stop adding items before it would exceed ``max_tokens``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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


def estimate(body: bytes) -> int:
    """Estimated tokens of a JSON body (or any UTF-8 text)."""
    count = words(body)
    return math.ceil(count * 1.35) if count else 0


def fitting(items: Sequence[dict[str, Any]], envelope: dict[str, Any], max_tokens: int) -> int:
    """How many of ``items``, in order, fit in ``max_tokens`` together with the ``envelope`` they are sent in.

    At least one item must fit (or, with no items, the envelope alone), or the caller could never make
    progress: that is a ``max_tokens`` error naming the budget that would do.
    """
    used = estimate(orjson.dumps(envelope))
    for count, item in enumerate(items):
        used += estimate(orjson.dumps(item))
        if used > max_tokens:
            if count == 0:
                raise BudgetTooSmall(used)
            return count
    if used > max_tokens:
        raise BudgetTooSmall(used)
    return len(items)


class BudgetTooSmall(ValueError):
    """Raised when not even one item fits the token budget; ``needed`` is the smallest budget that would."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"max_tokens is too small: the next item needs {needed} tokens with its envelope")
        self.needed = needed
