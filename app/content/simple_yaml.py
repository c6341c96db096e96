"""A fast reader for the plain front matter nearly every article has, with a full YAML parser as its fallback.

Front matter is almost always one flat mapping, one ``key: value`` a line, with block lists of scalars::

    slug: a-map-of-levers
    title: "A Map of Levers"
    schemaVersion: 1
    date: 2026-07-05
    tags:
      - india
      - policy

Composing and constructing that through PyYAML costs about 100 µs even on libyaml, mostly in Python. The
reader here handles only a small, conservative subset of YAML and returns None for anything else, so the
caller (:func:`app.content.frontmatter.load_front_matter`) loads that with PyYAML as before. The subset is
one where libyaml and PyYAML's pure-Python parser agree, and the result is built with the loader's own
resolvers and constructors, so it is what ``yaml.load`` returns, value for value and type for type:

* every line is ``key: value``, ``key:`` followed by one or more ``- value`` items (all at one
  indentation), or such an item; nothing else: no blank or comment lines, no tabs, no trailing spaces,
  no flow collections, no nesting, no multi-line scalars;
* a key is a plain word (letters, digits, ``_`` and ``-``, at most 200 characters) that the loader
  resolves to a string (``true:`` or ``null:`` are not), given once;
* a value is a double-quoted string whose only escapes are ``\\"`` and ``\\\\``, or a plain scalar that
  starts with a letter, a digit or one of ``_ . / (``, holds no ``#``, and has every ``:`` and run of spaces
  followed by a character other than a space, ``:`` or ``#``;
* every character is one both parsers print (no control characters, no U+2028/U+2029 line separators,
  no byte-order mark).

Some front matter is a JSON object instead. JSON is YAML 1.2, so such text is read with orjson when
nothing in it is read differently by YAML: it must be valid JSON whose object holds no key twice, with the
same printable characters, no backslash (so no escapes), each key's closing quote followed at once by its
``:`` and lines of under 1,000 characters (YAML's limit on a key is 1,024); and every number or literal
outside the strings must be what the loader itself makes of it.

``tests/test_simple_yaml.py`` checks these claims against PyYAML, libyaml and pure Python alike.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
import yaml
from yaml.nodes import ScalarNode

# Characters both of PyYAML's readers accept, less the line breaks YAML knows beyond "\n" (U+0085 is not in
# the set anyway, U+2028 and U+2029 are cut out) and the byte-order mark U+FEFF.
_WIDE = "\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
# A plain scalar's characters other than the space, ":" and "#"; its first character, more narrowly.
_PLAIN_CHAR = f"[\\x21\\x22\\x24-\\x39\\x3b-\\x7e{_WIDE}]"
_PLAIN_FIRST = f"[A-Za-z0-9_./({_WIDE}]"
# Runs of those characters, parted by one ":" or by spaces (so neither ": " nor " #" nor a trailing space).
_PLAIN = f"{_PLAIN_FIRST}{_PLAIN_CHAR}*+(?:(?: +|:){_PLAIN_CHAR}++)*+"
# A double-quoted string: any of those characters but '"' and "\\", and the escapes \" and \\ only.
_QUOTED_CHAR = f"[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e{_WIDE}]"
_QUOTED = f'"({_QUOTED_CHAR}*+(?:\\\\["\\\\]{_QUOTED_CHAR}*+)*+)"'
_VALUE = f"(?:{_QUOTED}|({_PLAIN}))"
_LINE = re.compile(f"([A-Za-z_][A-Za-z0-9_-]{{0,199}}):(?: {_VALUE})?|( *)- {_VALUE}")
_ESCAPE = re.compile(r'\\(["\\])')
# JSON front matter: the characters above, line breaks but no backslash; a key's quote apart from its colon;
# a string (which holds no escaped quote, as the text holds no backslash); what parts the other tokens.
_JSON_TEXT = re.compile(f"[\\n\\x20-\\x5b\\x5d-\\x7e{_WIDE}]*+")
_KEY_GAP = re.compile(r'"\s+:')
_JSON_STRING = re.compile(r'"[^"]*"')
_JSON_PUNCTUATION = re.compile(r"[\s{}\[\]:,]+")

_STR = "tag:yaml.org,2002:str"
_constructors: dict[type, Any] = {}
_constructed: dict[tuple[type, str, str], Any] = {}
_IMMUTABLE = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})
Resolvers = dict[Any, list[tuple[str, re.Pattern[str]]]]


def _resolve(value: str, resolvers: Resolvers) -> str:
    """The tag of a plain scalar: :meth:`yaml.resolver.BaseResolver.resolve` with no wildcard or path resolvers."""
    for tag, pattern in resolvers.get(value[0], ()):
        if pattern.match(value):
            return tag
    return _STR


def _construct(value: str, tag: str, loader: type[yaml.SafeLoader]) -> Any:
    """A scalar of a tag other than str, built by ``loader``'s own constructor for the tag.

    The same few dates and numbers recur in every article, and what they construct to (dates, numbers, None,
    booleans, or a string for an impossible date) is immutable, so each is built once and kept (up to a bound).
    """
    key = (loader, tag, value)
    if key in _constructed:
        return _constructed[key]
    instance = _constructors.get(loader)
    if instance is None:
        instance = _constructors[loader] = loader("")
    result = loader.yaml_constructors[tag](instance, ScalarNode(tag, value))
    if type(result) in _IMMUTABLE:
        if len(_constructed) >= 4096:
            _constructed.clear()
        _constructed[key] = result
    return result


def _scalar(quoted: str | None, plain: str | None, loader: type[yaml.SafeLoader], resolvers: Resolvers) -> Any:
    if quoted is not None:
        return _ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted
    assert plain is not None
    if plain[0] not in resolvers:  # no resolver for its first character: a string, as most are
        return plain
    tag = _resolve(plain, resolvers)
    return plain if tag == _STR else _construct(plain, tag, loader)


def load_simple(yaml_text: str, loader: type[yaml.SafeLoader]) -> dict[str, Any] | None:
    """What ``yaml.load(yaml_text, Loader=loader)`` returns, when the text is in the subset the module
    docstring describes and loads without an error; otherwise None, and the caller loads it with PyYAML."""
    resolvers: Resolvers = loader.yaml_implicit_resolvers
    if loader.yaml_path_resolvers or None in resolvers:
        return None
    try:
        if yaml_text.startswith("{"):
            return _load_json(yaml_text, loader, resolvers)
        return _load(yaml_text, loader, resolvers)
    except Exception:  # a constructor's error (a huge exponent, say): PyYAML reports it properly
        return None


def _load(yaml_text: str, loader: type[yaml.SafeLoader], resolvers: Resolvers) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    items: list[Any] | None = None  # the list that item lines add to
    indent = ""  # the indentation of its items
    pending: str | None = None  # a key that ended its line: its items come next
    for line in yaml_text.split("\n"):
        match = _LINE.fullmatch(line)
        if match is None:
            return None
        key, quoted, plain, item_indent, item_quoted, item_plain = match.groups()
        if key is not None:
            if pending is not None or key in data or (key[0] in resolvers and _resolve(key, resolvers) != _STR):
                return None  # "key:" with no items (null, "" or a mapping), a key given twice or not a string
            items = None
            if quoted is None and plain is None:
                pending = key
            else:
                data[key] = _scalar(quoted, plain, loader, resolvers)
            continue
        if pending is not None:
            items = data[pending] = []
            indent, pending = item_indent, None
        elif items is None or item_indent != indent:
            return None
        items.append(_scalar(item_quoted, item_plain, loader, resolvers))
    return None if pending is not None else data


def _load_json(yaml_text: str, loader: type[yaml.SafeLoader], resolvers: Resolvers) -> dict[str, Any] | None:
    """Front matter written as a JSON object, read with orjson when YAML reads it the same (module docstring)."""
    if _JSON_TEXT.fullmatch(yaml_text) is None or _KEY_GAP.search(yaml_text) is not None:
        return None
    if max(map(len, yaml_text.split("\n"))) >= 1000:
        return None
    try:
        data = orjson.loads(yaml_text)
    except orjson.JSONDecodeError:
        return None
    # Every key ends in '":' (and a string may start with ':'): no fewer of those than keys kept, no key twice.
    if type(data) is not dict or yaml_text.count('":') != _count_keys(data):
        return None
    for token in set(_JSON_PUNCTUATION.split(_JSON_STRING.sub(" ", yaml_text))) - {""}:
        as_json, as_yaml = orjson.loads(token), _scalar(None, token, loader, resolvers)
        if type(as_json) is not type(as_yaml) or repr(as_json) != repr(as_yaml):
            return None
    return data


def _count_keys(value: Any) -> int:
    if type(value) is dict:
        return len(value) + sum(_count_keys(item) for item in value.values())
    if type(value) is list:
        return sum(_count_keys(item) for item in value)
    return 0
