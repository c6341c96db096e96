"""The shortcuts parse() takes must give what the longer way gives: each is checked here against the longer way.

They are in app.content (front matter splitting, the JSON checks) and app.derive (word counts, brief claim lines,
UTF-16 lengths); the front matter reader has its own tests (tests/test_simple_yaml.py).
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import orjson
import pytest

from app import derive
from app.content.decode import load_json
from app.content.errors import ContentError
from app.content.frontmatter import FRONT_MATTER, FrontMatterError, split_front_matter
from app.content.limits import MAX_DEPTH, MAX_ITEMS, MAX_KEY, MAX_STRING, ValueCheck

INVALID_UTF8 = [
    b"\xed\xa0\x80",  # a surrogate
    b"\xed\xbf\xbf",
    b"\xc0\xaf",  # overlong
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xf5\x80\x80\x80",
    b"\xe2\x82",  # cut short
    b"\xf0\x9f\x98",
    b"\x80",  # a lone continuation byte
    b"\xff",
    b"\xfe",
]


@pytest.mark.parametrize("bad", INVALID_UTF8)
@pytest.mark.parametrize("where", ["value", "key", "deep"])
def test_orjson_refuses_what_python_cannot_decode_so_load_json_reports_it_as_before(bad: bytes, where: str) -> None:
    """load_json decodes the file only when orjson refuses it; that is safe as long as orjson refuses every
    file that is not UTF-8, which this holds it to (wherever the bad bytes sit: 64-byte blocks included)."""
    padding = b"x" * 61
    documents = {
        "value": b'{"a": "' + padding + bad + b'"}',
        "key": b'{"' + bad + b'": 1}',
        "deep": b'{"a": [{"b": ["' + padding * 3 + bad + padding + b'"]}]}',
    }
    raw = documents[where]
    with pytest.raises(UnicodeDecodeError) as exc:
        raw.decode("utf-8")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    errors: list[ContentError] = []
    assert load_json(raw, "a.json", errors) is None
    message = f"is not valid UTF-8 (byte {exc.value.start}: {exc.value.reason})"
    assert errors == [ContentError("a.json", "(file)", message)]


def _split_by_regex(text: str) -> tuple[str, str] | str:
    match = FRONT_MATTER.match(text)
    return (match.group(1), text[match.end() :]) if match else "refused"


def _split(text: str) -> tuple[str, str] | str:
    try:
        return split_front_matter(text)
    except FrontMatterError:
        return "refused"


def test_front_matter_is_split_where_the_publishers_regex_splits_it() -> None:
    checked = 0
    for length in range(7):
        for chars in itertools.product("-\r\na", repeat=length):
            for opening in ("", "---\n", "---\r\n", "--\n"):
                text = opening + "".join(chars)
                assert _split(text) == _split_by_regex(text), repr(text)
                checked += 1
    assert checked > 20_000


def _nested(rng: random.Random, depth: int) -> Any:
    choice = rng.random()
    if depth > MAX_DEPTH + 1 or choice < 0.45:
        return rng.choice(["s", 1, None, True, 1.5, "x" * (MAX_STRING + 1), "nul\x00"])
    size = MAX_ITEMS + 1 if rng.random() < 0.02 else rng.randint(0, 3)
    if choice < 0.7:
        return [_nested(rng, depth + 1) if i < 4 else 0 for i in range(size)]
    keys = rng.sample(["a", "b", "k" * (MAX_KEY + 1), "c\x00", 1, None], k=min(size, 6))
    return {**{key: _nested(rng, depth + 1) for key in keys}, **{f"k{i}": 0 for i in range(size - len(keys))}}


def _deep(rng: random.Random, depth: int) -> dict[str, Any]:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value} if rng.random() < 0.5 else [value]
    return {"root": value}


@pytest.mark.parametrize("nul", [False, True])
def test_value_check_counts_and_reports_as_its_full_walk_does(nul: bool) -> None:
    """ValueCheck.run takes a walk without paths first; the full walk (_mapping) is the reference."""
    rng = random.Random(11)
    refused = 0
    for index in range(3000):
        data = _deep(rng, rng.randint(MAX_DEPTH - 3, MAX_DEPTH + 3)) if index % 10 == 0 else _nested(rng, 0)
        data = data if isinstance(data, dict) else {"value": data}
        reference = ValueCheck(nul)
        reference._mapping(data, (), 0)
        check = ValueCheck(nul).run(data)
        assert (check.keys, check.problems) == (reference.keys, reference.problems)
        refused += bool(check.problems)
    assert refused > 500  # over a cap, or with a NUL, often enough


BRIEF_BITS = ["- `claim-001`: a", "- `claim-002`:  b ", "\n", "\r", " ", "x", "-", "`", "- `claim-12`: z", "\u2028"]


def test_brief_claim_lines_are_the_anchored_patterns_matches() -> None:
    rng = random.Random(5)
    for _ in range(20_000):
        body = "".join(rng.choice(BRIEF_BITS) for _ in range(rng.randint(0, 8)))
        assert derive._brief_claim_lines(body) == derive._BRIEF_CLAIM_LINE.findall(body), repr(body)


WHITESPACE = [" ", "\t", "\n", "\v", "\f", "\r", "\xa0", "\u1680", "\u2000", "\u200a", "\u2028", "\u202f", "\u3000"]
OTHER = ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\ufeff", "\u200b", "word", "w", "é"]


def test_the_word_count_is_the_one_of_javascripts_whitespace() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        body = "".join(rng.choice(WHITESPACE + OTHER) for _ in range(rng.randint(0, 10)))
        words = [word for word in derive._JS_WHITESPACE.split(body) if word]
        assert derive.token_estimate(body) == (math.ceil(len(words) * 1.35) if words else 0), repr(body)


@pytest.mark.parametrize("length", [0, 1, 149, 150, 151, 299, 300, 301, 400])
@pytest.mark.parametrize("char", ["a", "é", "😀"])
def test_utf16_limit_is_decided_as_by_the_utf16_length(length: int, char: str) -> None:
    for text in (char * length, "a" * (length // 2) + char * (length - length // 2)):
        assert derive._utf16_longer_than(text, 300) == (derive.utf16_length(text) > 300)


def test_an_escaped_nul_is_still_found_behind_the_backslash_guard() -> None:
    errors: list[ContentError] = []
    assert load_json(b'{"a": "x\\u0000y"}', "a.json", errors) is None
    assert [error.field for error in errors] == ["a"]
