"""The two orders the publisher sorts by (DATA-CONTRACT §2.0, §9 case 9).

* ``locale_key``: JavaScript ``localeCompare`` under ICU root collation, as far as the publisher's data needs:
  characters compare by the rank order below, case-insensitively and ignoring accents (``É`` weighs as ``e``);
  a tie is broken first by accents (unaccented first), then position by position with lower case before
  upper case. Letters outside the table with no decomposition (``ß``, ``æ``, non-Latin scripts) sort
  after ``z`` by code point, where ICU would interleave some of them: no publisher id or topic can hold one.
  Python's ``sorted()`` differs, for example ``source-x:`` against ``source-x2`` (``:`` sorts before digits)
  and ``Blog Post`` against ``blog post``.
* ``code_unit_key``: plain JavaScript ``.sort()``, which compares UTF-16 code units.

``locale_bytes`` is ``locale_key`` as bytes whose plain byte order is the same order, so a database can sort
by a stored key with no collation support of its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

RANKS = "\t _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_RANK = {char: index for index, char in enumerate(RANKS)}


def _weight(char: str) -> int:
    # Outside the table (symbols, letters without a decomposition) a character sorts after it, by code point.
    base = unicodedata.normalize("NFD", char)[0].lower()
    return _RANK.get(base, len(RANKS) + ord(base))


def _accent(char: str) -> int:
    """0 for an unaccented character, else a weight from its first combining mark (secondary level)."""
    marks = unicodedata.normalize("NFD", char)[1:]
    return 1 + min(ord(marks[0]) - 0x300, 250) if marks else 0


def locale_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Sort key reproducing ``a.localeCompare(b)`` for the publisher's ids, topics and source types."""
    return (
        tuple(_weight(c) for c in text),
        tuple(_accent(c) for c in text),
        tuple(1 if c != c.lower() else 0 for c in text),
    )


class _Table(dict[int, str]):
    """A ``str.translate`` table that works out (and keeps) the entry of each character it meets."""

    def __init__(self, entry: Callable[[str], str]) -> None:
        super().__init__()
        self.entry = entry

    def __missing__(self, code_point: int) -> str:
        self[code_point] = value = self.entry(chr(code_point))
        return value


def _primary(char: str) -> str:
    # One byte (1-254) for the common weights, 0xFF and three bytes for the rest: byte order = weight order.
    weight = _weight(char)
    if weight < 254:
        return chr(weight + 1)
    return "\xff" + "".join(map(chr, (weight >> 16 & 0xFF, weight >> 8 & 0xFF, weight & 0xFF)))


_PRIMARY = _Table(_primary)
_ACCENT = _Table(lambda char: chr(1 + _accent(char)))
_CASE = _Table(lambda char: "1" if char != char.lower() else "0")


def locale_bytes(text: str) -> bytes:
    """``locale_key`` as bytes: primary weights, a zero byte, accent weights, a zero byte, case flags packed.

    Accents and case only break ties between equal primaries, which have equal lengths, so they compare the
    same way the tuples do; when a string has no accent (or no capital) that part is left empty, which
    sorts first, exactly as an all-zero tuple would.
    """
    accents = text.translate(_ACCENT)
    secondary = accents.encode("latin-1") if accents.strip("\x01") else b""
    flags = text.translate(_CASE)
    packed = b""
    if "1" in flags:  # all lower case packs to nothing, which sorts first, as all-zero flags would
        padded = flags + "0" * (-len(flags) % 8)  # padded on the right: earlier positions weigh more
        packed = int(padded, 2).to_bytes(len(padded) // 8, "big")
    return text.translate(_PRIMARY).encode("latin-1") + b"\x00" + secondary + b"\x00" + packed


def code_unit_key(text: str) -> bytes:
    """Sort key reproducing JavaScript's default ``.sort()`` (UTF-16 code units)."""
    return text.encode("utf-16-be")
