"""How big one parsed value may be: the caps every front-matter and JSON value is checked against.

A file is already capped as a whole (``GARDEN_MAX_FILE_BYTES``, 8 MB), but a file is not a value: an 8 MB claim,
a list of a million tags or a mapping nested ten thousand deep would pass that cap, then be stored, indexed and
served whole (the YAML alias bomb of issue 12 was one 20,000-character string repeated 10,000 times). So each
value read from ``article.md`` / ``agent.md`` front matter and from ``artifact.json`` (or a packet) is capped too,
before the publisher's schema or anything else looks at it.

The publisher's schemas (``../shared/schemas``) bound only three strings (``dek`` 220, ``summary`` 280, series
``season`` 80 characters). The real corpus (74 articles) was measured; each cap is far above it, so no real
article comes near, yet far below what would hurt a response or a database row:

=====================  =============================================  ======  =======
cap                    largest in the real corpus                     ratio   cap
=====================  =============================================  ======  =======
characters / string    573 (a ``claims[].verification.note``)         ~17x    10,000
items / list           53 (``related``)                               ~19x    1,000
keys / mapping         23 (the artifact's top level)                  ~43x    1,000
characters / key       17 (``agentInstructions``)                     ~12x    200
nesting depth          5 (``claims[].evidence[].…``)                  ~3x     16
=====================  =============================================  ======  =======

Markdown bodies are not values: an article body is bounded by the file cap alone.

Slugs are capped by what the API can serve rather than by taste: every route takes at most 200 characters for an
article, topic or series (``/articles/{slug}`` also accepts ``article:<slug>``) and 300 for a claim id
(``article:<slug>:claim-NNN``). A slug of at most 192 characters keeps even ``article:<slug>`` within 200, so an
article the ingest accepts is never one every detail route answers with 422. Source ids take 200.
"""

from __future__ import annotations

from typing import Any

from app.content.errors import WHOLE_FILE

MAX_STRING = 10_000
MAX_ITEMS = 1_000
MAX_KEY = 200
MAX_DEPTH = 16
MAX_ERRORS_PER_FILE = 20  # a file breaking a cap a million times gets this many errors, then one summary
ROUTE_MAX = 200  # the routes' max_length for a slug, topic, series or source id (app/routers/*.py)
MAX_SLUG = ROUTE_MAX - len("article:")
MAX_SOURCE_ID = ROUTE_MAX


def shown_key(key: Any) -> str:
    """A key as it appears in a field path: control characters escaped, a long key cut."""
    text = str(key)
    if any(ord(char) < 32 for char in text):
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


def child_path(path: str, key: Any) -> str:
    """``claims`` + 2 → ``claims[2]``; ``claims[2]`` + ``claim`` → ``claims[2].claim``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{shown_key(key)}" if path else shown_key(key)


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


NUL_MESSAGE = "holds a NUL character (U+0000), which no database text column can store"


Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``('claims', 2, 'claim')`` → ``claims[2].claim``; the empty path is the whole document."""
    text = ""
    for key in path:
        text = child_path(text, key)
    return text or "(document)"


class ValueCheck:
    """One pass over parsed data (JSON, or front matter once constructed): counts the mapping keys, and
    records each value over a cap, and each NUL when ``nul`` says the text may hold one, as (field, message).

    The loops are written out, with paths built only for containers and formatted only on a problem, because
    every artifact of a first ingest goes through here (``bench/parse_bench.py`` measures it).
    """

    def __init__(self, nul: bool) -> None:
        self.nul, self.keys = nul, 0
        self.problems: list[tuple[str, str]] = []

    def run(self, data: dict[str, Any]) -> ValueCheck:
        keys = -1 if self.nul else _keys_within_caps(data, 0, True)
        if keys >= 0:  # nothing to record: the walk below would only count the keys
            self.keys += keys
        else:
            self._mapping(data, (), 0)
        return self

    def _add(self, path: Path, message: str) -> None:
        if len(self.problems) < MAX_ERRORS_PER_FILE:
            self.problems.append((format_path(path), message))
        elif len(self.problems) == MAX_ERRORS_PER_FILE:
            self.problems.append((WHOLE_FILE, "has more problems than these; fix them first"))

    def _mapping(self, value: dict[Any, Any], path: Path, depth: int) -> None:
        self.keys += len(value)
        if len(value) > MAX_ITEMS:
            self._add(path, f"has {len(value):,} keys, over the cap of {MAX_ITEMS:,}")
        nul, longest, longest_key = self.nul, MAX_STRING, MAX_KEY
        for key, item in value.items():
            if type(key) is str and (len(key) > longest_key or (nul and "\x00" in key)):
                too_long = f"is {len(key):,} characters long, over the cap of {MAX_KEY}"
                self._add((*path, key), "the key " + (NUL_MESSAGE if "\x00" in key else too_long))
            kind = type(item)
            if kind is str:
                if len(item) > longest or (nul and "\x00" in item):
                    self._string((*path, key), item)
            elif kind is dict or kind is list:
                self._nested(item, (*path, key), depth)

    def _sequence(self, value: list[Any], path: Path, depth: int) -> None:
        if len(value) > MAX_ITEMS:
            self._add(path, f"has {len(value):,} items, over the cap of {MAX_ITEMS:,}")
        nul, longest = self.nul, MAX_STRING
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str:
                if len(item) > longest or (nul and "\x00" in item):
                    self._string((*path, index), item)
            elif kind is dict or kind is list:
                self._nested(item, (*path, index), depth)

    def _nested(self, item: dict[Any, Any] | list[Any], path: Path, depth: int) -> None:
        if depth + 1 >= MAX_DEPTH:
            self._add(path, f"nests deeper than {MAX_DEPTH} levels")
        elif type(item) is dict:
            self._mapping(item, path, depth + 1)
        else:
            self._sequence(item, path, depth + 1)  # type: ignore[arg-type]

    def _string(self, path: Path, value: str) -> None:
        if len(value) > MAX_STRING:
            self._add(path, f"is {len(value):,} characters long, over the cap of {MAX_STRING:,}")
        if self.nul and "\x00" in value:
            self._add(path, NUL_MESSAGE)


def _keys_within_caps(value: Any, depth: int, mapping: bool) -> int:
    """The number of mapping keys in ``value`` (a mapping at ``depth`` when ``mapping``, else a list), or -1 when a
    ``ValueCheck`` without NUL checks would record a problem in it: the same walk, without the paths."""
    if len(value) > MAX_ITEMS:
        return -1
    if mapping:
        keys = len(value)
        for key in value:
            if type(key) is str and len(key) > MAX_KEY:
                return -1
        items = value.values()
    else:
        keys = 0
        items = value
    for item in items:
        kind = type(item)
        if kind is str:
            if len(item) > MAX_STRING:
                return -1
        elif kind is dict or kind is list:
            if depth + 1 >= MAX_DEPTH:
                return -1
            inner = _keys_within_caps(item, depth + 1, kind is dict)
            if inner < 0:
                return -1
            keys += inner
    return keys
