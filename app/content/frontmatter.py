"""Front matter: the leading ``---`` block of article.md and agent.md, loaded as safe YAML 1.2.

The publisher parses front matter with js-yaml 4 (YAML 1.2 core schema plus timestamps). PyYAML alone is
YAML 1.1, where ``yes``/``off`` become booleans and ``1:20`` an integer, so the loader here keeps
libyaml's fast parser but swaps in the YAML 1.2 core resolvers. It is built on the safe loader, so tags
such as ``!!python/object`` are refused. Aliased lists and mappings are refused too (front matter has no
use for them, and that defuses alias bombs before anything walks the data; an alias of a plain string is
harmless and allowed), and so is anything JSON cannot carry: ``!!binary``, ``!!set``, huge integers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, ClassVar

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# js-yaml's front-matter pattern: the first later line starting with --- closes the block, and the body
# begins after it and at most one newline.
FRONT_MATTER = re.compile(r"^---\r?\n([\s\S]*?)\r?\n---\r?\n?")

# Top-level keys whose YAML timestamps become UTC calendar dates (DATA-CONTRACT §1.2).
DATE_KEYS = ("date", "updated", "publishedAt", "updatedAt", "accessed", "reviewedAt")


class FrontMatterError(ValueError):
    """Raised when front matter is absent, is not valid YAML, or is not a mapping of plain data.

    ``field`` names the offending key path when the problem is one value, else it is ``None``.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Yaml12Loader(_Loader):  # type: ignore[misc, valid-type]
    """Safe YAML loader with the YAML 1.2 core schema (plus timestamps, as js-yaml has them)."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}


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
    """Split a Markdown file into (front matter YAML, body), as the publisher's regex does."""
    match = FRONT_MATTER.match(text)
    if match is None:
        if text.startswith("\ufeff"):
            raise FrontMatterError("the file starts with a byte-order mark; save it as UTF-8 without BOM")
        raise FrontMatterError("no front matter: the file must start with a '---' line and close it with another")
    return match.group(1), text[match.end() :]


_INT64 = 2**63


def _check_plain(value: Any, seen: set[int], path: str = "") -> None:
    """Refuse what JSON cannot carry (bytes, sets, huge or non-finite numbers) and aliased containers."""
    if isinstance(value, dict | list):
        # An alias makes the loader hand back the very same container twice; a second sighting means one.
        if id(value) in seen:
            raise FrontMatterError("YAML anchors and aliases are not allowed in front matter")
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            _check_plain(item, seen, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key)
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


def load_front_matter(yaml_text: str) -> dict[str, Any]:
    """Load front matter as a mapping of plain data, with the top-level dates normalised to YYYY-MM-DD."""
    try:
        data = yaml.load(yaml_text, Loader=Yaml12Loader)
    except yaml.MarkedYAMLError as exc:
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
    _check_plain(data, set())
    for key in DATE_KEYS:
        if key in data:
            data[key] = normalise_date(data[key])
    return data


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


def to_json_value(value: Any) -> Any:
    """Front matter data as JSON data: nested dates (outside the normalised keys) become ISO strings."""
    if isinstance(value, dict):
        return {key: to_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json_value(item) for item in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
