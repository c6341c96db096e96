"""The two orders the publisher sorts by (DATA-CONTRACT §2.0, §9 case 9).

* ``locale_key``: JavaScript ``localeCompare`` under ICU root collation, as far as the publisher's data needs:
  characters compare by the rank order below, case-insensitively, and a tie is broken position by position
  with lower case before upper case. Python's ``sorted()`` differs, for example ``source-x:`` against
  ``source-x2`` (``:`` sorts before digits) and ``Blog Post`` against ``blog post``.
* ``code_unit_key``: plain JavaScript ``.sort()``, which compares UTF-16 code units.

``locale_bytes`` is ``locale_key`` as bytes whose plain byte order is the same order, so a database can sort
by a stored key with no collation support of its own.
"""

from __future__ import annotations

RANKS = "\t _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_RANK = {char: index for index, char in enumerate(RANKS)}


def _weight(char: str) -> int:
    # Characters outside the table (non-ASCII letters, symbols) sort after it, by code point.
    return _RANK.get(char.lower(), len(RANKS) + ord(char.lower()))


def locale_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sort key reproducing ``a.localeCompare(b)`` for the publisher's ids, topics and source types."""
    return tuple(_weight(c) for c in text), tuple(1 if c != c.lower() else 0 for c in text)


def locale_bytes(text: str) -> bytes:
    """``locale_key`` as bytes: three non-zero bytes per character, a zero separator, then the case bytes."""
    primary = bytearray()
    for char in text:
        weight = _weight(char)
        primary += bytes((1 + weight // 65025, 1 + (weight // 255) % 255, 1 + weight % 255))
    return bytes(primary) + b"\x00" + bytes(2 if c != c.lower() else 1 for c in text)


def code_unit_key(text: str) -> bytes:
    """Sort key reproducing JavaScript's default ``.sort()`` (UTF-16 code units)."""
    return text.encode("utf-16-be")
