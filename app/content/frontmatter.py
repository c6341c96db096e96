"""Front matter: the leading ``---`` block of article.md and agent.md, loaded as safe YAML 1.2.

The publisher parses front matter with js-yaml 4 (YAML 1.2 core schema plus timestamps). PyYAML alone is
YAML 1.1, where ``yes``/``off`` become booleans and ``1:20`` an integer, so the loader here keeps
libyaml's fast parser but swaps in the YAML 1.2 core resolvers. It is built on the safe loader, so tags
such as ``!!python/object`` are refused, and so is anything JSON cannot carry: ``!!binary``, ``!!set``,
huge integers.

Front matter is refused, naming the key path (and line and column where it can), when it holds:

* an anchor or an alias, of any node, plain strings included: front matter has no use for them, and one
  anchored string aliased ten thousand times is an alias bomb that nothing downstream should ever see.
  Anchors and aliases are found in libyaml's event stream (:func:`_nodes`) before anything is composed or
  constructed; since they cannot be written without a ``&`` or a ``*``, only text holding one is scanned;
* a key given twice in one mapping (js-yaml, the publisher's parser, refuses it too; PyYAML keeps the last),
  or a key that is not a plain scalar;
* a NUL character, or a value over the caps of :mod:`app.content.limits` (string length, items per list or
  mapping, key length, nesting depth). The loaded data has no aliases, so it is no bigger than its text.

``bench/parse_bench.py`` measures what this costs a first ingest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import yaml

from app.content.limits import MAX_DEPTH, MAX_ITEMS, MAX_KEY, MAX_STRING, NUL_MESSAGE, ValueCheck, child_path
from app.content.simple_yaml import load_simple

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# js-yaml's front-matter pattern: the first later line starting with --- closes the block, and the body
# begins after it and at most one newline.
FRONT_MATTER = re.compile(r"^---\r?\n([\s\S]*?)\r?\n---\r?\n?")

# Top-level keys whose YAML timestamps become UTC calendar dates (DATA-CONTRACT §1.2).
DATE_KEYS = ("date", "updated", "publishedAt", "updatedAt", "accessed", "reviewedAt")


class FrontMatterError(ValueError):
    """Raised when front matter is absent, is not valid YAML, or is not a mapping of plain data.

    ``field`` names the offending key path when the problem is one value, else it is ``None``; ``problems``
    lists every (field, message) when there are several (values over the caps), else just this one.
    """

    def __init__(self, message: str, field: str | None = None, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems: list[tuple[str | None, str]] = list(problems) if problems else [(field, message)]


class _DuplicateKey(Exception):
    """A mapping node whose constructed dict came out smaller than its list of keys."""

    def __init__(self, node: yaml.MappingNode) -> None:
        super().__init__("duplicate key")
        self.node = node


class Yaml12Loader(_Loader):  # type: ignore[misc, valid-type]
    """Safe YAML loader with the YAML 1.2 core schema (plus timestamps, as js-yaml has them)."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """PyYAML's mapping, refusing a key given twice (PyYAML keeps the last one without a word)."""
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if len(mapping) != len(node.value):
            raise _DuplicateKey(node)
        return mapping


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}"
        r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
        "0123456789",
    ),
]
for _tag, _pattern, _first in _RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # An impossible date (2026-02-30) stays a string, so the schema can name the field it sits in.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def split_front_matter(text: str) -> tuple[str, str]:
    """Split a Markdown file into (front matter YAML, body), as the publisher's regex does.

    :data:`FRONT_MATTER` says what is matched; the matching is done with ``str.find``, some twenty times faster
    than the regex's lazy scan of the block: the block ends at the first ``\\n---`` after the opening line, or
    one character earlier when a ``\\r`` precedes it (the lazy group stops at the first place the rest matches).
    """
    start = 4 if text.startswith("---\n") else 5 if text.startswith("---\r\n") else -1
    close = text.find("\n---", start) if start >= 0 else -1
    if close < 0:
        if text.startswith("\ufeff"):
            raise FrontMatterError("the file starts with a byte-order mark; save it as UTF-8 without BOM")
        raise FrontMatterError("no front matter: the file must start with a '---' line and close it with another")
    end = close - 1 if close > start and text[close - 1] == "\r" else close
    body = close + 4
    if text.startswith("\r", body):
        body += 1
    if text.startswith("\n", body):
        body += 1
    return text[start:end], text[body:]


_INT64 = 2**63
_ALWAYS_PLAIN = frozenset({str, bool, type(None), dt.date, dt.datetime})  # values _check_plain lets through


def _check_plain(value: Any, path: str = "") -> None:
    """Refuse what JSON cannot carry (bytes, sets, huge or non-finite numbers, keys other than strings)."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and not isinstance(key, str):
                raise FrontMatterError(f"keys must be strings, found {key!r}", path or None)
            if type(item) not in _ALWAYS_PLAIN:  # the call would return at once: spare it, and the path
                _check_plain(item, child_path(path, key))
    elif isinstance(value, bool) or value is None or isinstance(value, str | dt.date):
        return
    elif isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise FrontMatterError(f"the number {value} is too large to store (limit: 64-bit integers)", path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FrontMatterError(f"{value} is not a number JSON can carry", path)
    else:
        names: dict[type, str] = {bytes: "!!binary", set: "!!set", tuple: "!!pairs"}
        kind = names.get(type(value)) or type(value).__name__
        raise FrontMatterError(f"{kind} values are not supported: front matter must be plain data", path)


class _Collection:
    """A mapping or sequence open in the event stream: its path, its size so far, and a mapping's keys."""

    __slots__ = ("is_mapping", "keys", "path", "pending", "size")

    def __init__(self, is_mapping: bool, path: str) -> None:
        self.is_mapping, self.path, self.size = is_mapping, path, 0
        self.keys: set[str] = set()
        self.pending: str | None = None  # in a mapping: the path of the value that comes next, once its key is read


_NO_ANCHORS = "YAML anchors and aliases are not allowed in front matter"


def _where(event: yaml.Event | yaml.Node) -> str:
    mark = event.start_mark
    if mark is None:
        return "an unknown place"
    return f"line {mark.line + 2}, column {mark.column + 1}"  # + 2: the opening --- is line 1


def _refuse(message: str, event: yaml.Event, path: str) -> FrontMatterError:
    return FrontMatterError(f"{message} (at {_where(event)})", path or None)


def _nodes(yaml_text: str) -> Iterator[tuple[str, yaml.Event]]:
    """Yield (key path, event) for every node of the front matter, refusing what the module docstring lists.

    Keys are yielded too, with the path of the value they name. Only libyaml's events are read: nothing is
    composed, so an alias is refused before anything could expand it.
    """
    stack: list[_Collection] = []
    for event in yaml.parse(yaml_text, Loader=_Loader):
        if isinstance(event, yaml.CollectionEndEvent):
            stack.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        top = stack[-1] if stack else None
        if top is not None and top.is_mapping and top.pending is None:  # a key
            path = _key(top, event)
        else:
            path = _value_path(top, event)
        if isinstance(event, yaml.AliasEvent):
            raise _refuse(f"{_NO_ANCHORS} (found the alias *{event.anchor})", event, path)
        if event.anchor is not None:
            raise _refuse(f"{_NO_ANCHORS} (found the anchor &{event.anchor})", event, path)
        if isinstance(event, yaml.ScalarEvent):
            if "\x00" in event.value:
                raise _refuse(NUL_MESSAGE, event, path)
            if len(event.value) > MAX_STRING:
                raise _refuse(f"is {len(event.value):,} characters long, over the cap of {MAX_STRING:,}", event, path)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise _refuse(f"nests deeper than {MAX_DEPTH} levels", event, path)
            stack.append(_Collection(isinstance(event, yaml.MappingStartEvent), path))
        yield path, event


def _key(mapping: _Collection, event: yaml.NodeEvent) -> str:
    """Read one key of ``mapping``: it must be a plain, short, new scalar; returns its value's path."""
    if not isinstance(event, yaml.ScalarEvent):
        kind = "an alias" if isinstance(event, yaml.AliasEvent) else "a list or mapping"
        raise _refuse(f"a key must be a plain string, not {kind}", event, mapping.path)
    key = event.value
    path = child_path(mapping.path, key)
    if key in mapping.keys:
        raise _refuse(f"the key {key!r} is given twice in one mapping", event, path)
    if len(key) > MAX_KEY:
        raise _refuse(f"a key is {len(key):,} characters long, over the cap of {MAX_KEY}", event, mapping.path)
    mapping.size += 1
    if mapping.size > MAX_ITEMS:
        raise _refuse(f"has more than {MAX_ITEMS:,} keys", event, mapping.path)
    mapping.keys.add(key)
    mapping.pending = path
    return path


def _value_path(top: _Collection | None, event: yaml.NodeEvent) -> str:
    """The path of a value: in a mapping, the one its key named; in a sequence, the next index."""
    if top is None:
        return ""
    if top.is_mapping:
        path, top.pending = top.pending or "", None
        return path
    top.size += 1
    if top.size > MAX_ITEMS:
        raise _refuse(f"has more than {MAX_ITEMS:,} items", event, top.path)
    return child_path(top.path, top.size - 1)


def field_at(yaml_text: str, offset: int) -> str | None:
    """The key path of the scalar holding character ``offset``, for naming where a raw NUL sits (the NUL is
    read as a space so the rest of the front matter can still be parsed); None when no scalar holds it."""
    try:
        for path, event in _nodes(yaml_text.replace("\x00", " ")):
            start, end = event.start_mark, event.end_mark
            if start is not None and end is not None and start.index <= offset < max(end.index, start.index + 1):
                return path or None
    except (yaml.YAMLError, FrontMatterError):
        return None
    return None


def load_front_matter(yaml_text: str) -> dict[str, Any]:
    """Load front matter as a mapping of plain data, with the top-level dates normalised to YYYY-MM-DD.

    Anchors and aliases need a ``&`` or a ``*``: only front matter holding one pays for the event scan of
    :func:`_nodes` before it is loaded (and front matter with a duplicate key, to name its path). The plain
    front matter most articles have is loaded by :func:`app.content.simple_yaml.load_simple`, which returns
    what PyYAML would; the rest by PyYAML, whose errors are reported. The value caps are checked on the loaded
    data, which has no aliases and so is no bigger than the text.
    """
    try:
        if "&" in yaml_text or "*" in yaml_text:
            _scan(yaml_text)
        data = load_simple(yaml_text, Yaml12Loader)  # the same data, fast, for the plain front matter most have
        if data is None:
            data = yaml.load(yaml_text, Loader=Yaml12Loader)
    except FrontMatterError:
        raise
    except _DuplicateKey as exc:
        _explain(yaml_text)  # names the key path, for all but keys equal only once resolved (1 and 0x1)
        raise FrontMatterError(f"a key is given twice in one mapping (in the mapping at {_where(exc.node)})") from None
    except yaml.MarkedYAMLError as exc:
        _explain(yaml_text)
        mark = exc.problem_mark
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark is not None else ""
        raise FrontMatterError(f"invalid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"invalid YAML: {exc}") from None
    except Exception as exc:  # PyYAML's constructors raise anything on odd explicit tags
        raise FrontMatterError(f"invalid YAML value ({type(exc).__name__}: {exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter must be a mapping of keys to values, not {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise FrontMatterError(f"front matter keys must be strings, found {key!r}")
    problems = ValueCheck(nul="\\" in yaml_text).run(data).problems  # a NUL can only come from an escape
    if problems:
        raise FrontMatterError(problems[0][1], problems[0][0], problems)
    _check_plain(data)
    for key in DATE_KEYS:
        if key in data:
            data[key] = normalise_date(data[key])
    return data


def _scan(yaml_text: str) -> None:
    for _ in _nodes(yaml_text):
        pass


def _explain(yaml_text: str) -> None:
    """After PyYAML refused the text: raise the scan's refusal, which names a key path, if it has one."""
    with contextlib.suppress(yaml.YAMLError):
        _scan(yaml_text)


def normalise_date(value: Any) -> Any:
    """A YAML timestamp becomes its UTC calendar date; anything else is stringified and cut to 10 chars."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | dict | list):
        return value  # left for the schema to reject with the type it really has
    return str(value)[:10]


_AS_IS = frozenset({str, int, float, bool, type(None)})


def to_json_value(value: Any) -> Any:
    """Front matter data as JSON data: nested dates (outside the normalised keys) become ISO strings."""
    if isinstance(value, dict):  # a string or a number stays as it is: no call for it
        return {key: item if type(item) in _AS_IS else to_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item if type(item) in _AS_IS else to_json_value(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
