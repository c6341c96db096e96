"""One input file's bytes to data, strictly: what the reader accepts before any schema looks at it.

* Text is UTF-8 and holds no NUL character, raw or escaped. SQLite would store one and PostgreSQL refuse it
  ("text fields cannot contain NUL"), so the same file would load on one backend and fail, naming no file, on
  the other; no article needs one, so both refuse it here, naming the file and the field (or ``body``).
* Markdown front matter is read by :mod:`app.content.frontmatter` (no anchors or aliases, no duplicate keys,
  values within the caps).
* JSON (``artifact.json``, packets) is parsed by orjson, which keeps the last of two equal keys without a word;
  a key given twice is refused instead, and so is any value over the caps of :mod:`app.content.limits`.

The JSON checks are kept cheap because every artifact of a first ingest goes through them. One walk of
the parsed data (:class:`app.content.limits.ValueCheck`) counts its keys and checks the caps. Duplicates are
then found by counting: every key in the text ends with a ``"`` followed by ``:`` once whitespace is taken
out, so that count is at least the number of keys the text holds; when it equals the number of keys orjson
kept, no key was dropped. Only when the two differ (a duplicate, or a ``":`` inside a
string value) is the file parsed again with the standard library, which reports each duplicate where it is.
A NUL can only come from a ``\\u0000`` escape (JSON refuses a raw one), so strings are searched for one only
when the text holds that escape. ``bench/parse_bench.py`` measures the cost.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson

from app.content.errors import WHOLE_FILE, ContentError
from app.content.frontmatter import FrontMatterError, field_at, load_front_matter, split_front_matter
from app.content.limits import MAX_ERRORS_PER_FILE, NUL_MESSAGE, ValueCheck, child_path, line_and_column

_JSON_WHITESPACE = b" \t\r\n"
_ESCAPED_NUL = b"\\u0000"


def decode(raw: bytes, shown: str, errors: list[ContentError]) -> str | None:
    """The file as text, or None with an error: empty, not UTF-8."""
    if not raw or raw.isspace():  # what "not raw.strip()" says, without copying the file
        errors.append(ContentError(shown, WHOLE_FILE, "file is empty"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(ContentError(shown, WHOLE_FILE, f"is not valid UTF-8 (byte {exc.start}: {exc.reason})"))
        return None


def markdown(raw: bytes, shown: str, errors: list[ContentError]) -> tuple[str, dict[str, Any], str] | None:
    """(text, front matter, body) of a Markdown file, or None with the errors recorded."""
    text = decode(raw, shown, errors)
    if text is None:
        return None
    try:
        yaml_text, body = split_front_matter(text)
    except FrontMatterError as exc:
        errors.append(ContentError(shown, exc.field or "front matter", str(exc)))
        return None
    nul = text.find("\x00") if b"\x00" in raw else -1  # a U+0000 is a 0 byte in UTF-8, and no other is
    if nul >= 0:
        line, column = line_and_column(text, nul)
        body_start = len(text) - len(body)
        field = "body" if nul >= body_start else field_at(yaml_text, nul - (text.index("\n") + 1)) or "front matter"
        errors.append(ContentError(shown, field, f"{NUL_MESSAGE} (at line {line}, column {column})"))
        return None
    try:
        return text, load_front_matter(yaml_text), body
    except FrontMatterError as exc:
        errors.extend(ContentError(shown, field or "front matter", message) for field, message in exc.problems)
        return None


def load_json(raw: bytes, shown: str, errors: list[ContentError]) -> dict[str, Any] | None:
    """A JSON object with no duplicate key, no NUL and every value within the caps; else None with the errors."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if decode(raw, shown, errors) is not None:  # an empty file or one not UTF-8 is reported as that
            message = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            errors.append(ContentError(shown, WHOLE_FILE, message))
        return None
    # orjson refuses what is not UTF-8 as strictly as Python's decoder (tests/test_parse_shortcuts.py holds it
    # to that), so the file is text: it is decoded only if the duplicate keys must be found in it.
    if not isinstance(data, dict):
        errors.append(ContentError(shown, WHOLE_FILE, f"must hold a JSON object, not {type(data).__name__}"))
        return None
    check = ValueCheck(nul=b"\\" in raw and _ESCAPED_NUL in raw).run(data)  # a one-byte search first: faster
    if check.keys != _key_ends(raw):
        with contextlib.suppress(RecursionError):  # nested past what json parses: the depth cap says so
            check.problems += _duplicates(raw.decode("utf-8"))
    if check.problems:
        errors.extend(ContentError(shown, field, message) for field, message in check.problems)
        return None
    return data


def _key_ends(raw: bytes) -> int:
    """How many ``"`` are followed by ``:`` once JSON whitespace is taken out: at least the number of keys in the
    text (each key ends so; taking whitespace out of strings can only add matches). One C pass each."""
    return raw.translate(None, _JSON_WHITESPACE).count(b'":')


class _Duplicated(dict[str, Any]):
    """A JSON object in which the standard library's parser met a key twice."""

    twice: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    marked = _Duplicated(result)
    marked.twice, seen = [], set()
    for key, _ in pairs:
        if key in seen:
            marked.twice.append(key)
        seen.add(key)
    return marked


def _duplicates(text: str) -> list[tuple[str, str]]:
    """Parse again, keeping every key: (path, message) for each key given twice in one object."""
    found: list[tuple[str, str]] = []
    pending: list[tuple[str, Any]] = [("", json.loads(text, object_pairs_hook=_pairs))]
    while pending and len(found) < MAX_ERRORS_PER_FILE:
        path, value = pending.pop()
        if isinstance(value, _Duplicated):
            for key in dict.fromkeys(value.twice):
                found.append((child_path(path, key), f"the key {key!r} is given twice in one object"))
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((child_path(path, key), item) for key, item in reversed(list(items)))
    return found
