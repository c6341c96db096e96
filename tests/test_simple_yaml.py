"""app.content.simple_yaml: whatever front matter it reads, it reads exactly as PyYAML does, on libyaml and without.

The reader is a shortcut: for text outside its subset it returns None and the caller loads the text with PyYAML.
So the property to hold is one-sided: when it returns data, ``yaml.load`` with the same loader returns equal
data of the same types (and raises nothing). It is checked on hand-picked lines and on random ones built from
the characters and shapes that sit at the edge of the subset, against the libyaml loader and against the
pure-Python one the module falls back to when libyaml is missing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.content import frontmatter
from app.content.simple_yaml import load_simple


def _pure_python_loader() -> type[yaml.SafeLoader]:
    """The front matter loader as app.content.frontmatter builds it when libyaml is not installed."""
    path = Path(frontmatter.__file__)
    spec = importlib.util.spec_from_file_location("frontmatter_without_libyaml", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    hidden = yaml.__dict__.pop("CSafeLoader", None)
    try:
        spec.loader.exec_module(module)
    finally:
        if hidden is not None:
            yaml.CSafeLoader = hidden  # type: ignore[misc]
    loader: type[yaml.SafeLoader] = module.Yaml12Loader
    assert issubclass(loader, yaml.SafeLoader)  # the pure-Python SafeLoader: CSafeLoader is not one
    return loader


LOADERS = [frontmatter.Yaml12Loader, _pure_python_loader()]


def _same(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def _check(text: str, loader: type[yaml.SafeLoader]) -> bool:
    """Whether the shortcut read ``text``; fails the test if it read it differently from PyYAML."""
    fast = load_simple(text, loader)
    if fast is None:
        return False
    expected = yaml.load(text, Loader=loader)
    assert _same(fast, expected), (text, fast, expected)
    return True


TYPICAL = """schemaVersion: 1
id: article:a-map-of-levers
slug: a-map-of-levers
title: "A Map of Levers: \\"who\\" pulls what \\\\ why"
dek: "India's attention economy — and what shifts it."
date: 2026-07-05
updated: 2026-07-05 10:20:30+05:30
ratio: 1.5
huge: 123456789012345678901234567890
flag: true
nothing: null
tags:
  - attention-economy
  - "quoted item"
  - 42
readingTime: 9 min
summary: Honest uncertainty about causality, culture, regulation—and India's next decade.
agentArtifact: /agents/articles/a-map-of-levers.json"""


@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "pure-python"])
def test_typical_front_matter_is_read_as_pyyaml_reads_it(loader: type[yaml.SafeLoader]) -> None:
    assert _check(TYPICAL, loader)
    data = load_simple(TYPICAL, loader)
    assert data is not None
    assert data["date"] == dt.date(2026, 7, 5) and data["schemaVersion"] == 1 and data["flag"] is True
    assert data["title"] == 'A Map of Levers: "who" pulls what \\ why'
    assert data["tags"] == ["attention-economy", "quoted item", 42]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2",  # a duplicate key: PyYAML's path names it
        "true: 1",  # a key that is not a string
        "a:",  # an empty value (the YAML 1.2 loader makes it '')
        "a:\nb: 1",
        "a: b: c",
        "a: x #comment",
        "a: &x 1",
        "a: *x",
        "a: 'single'",
        'a: "tab\\there"',
        "a: [1, 2]",
        "a: {b: 1}",
        "a: |\n  text",
        "a:\n  b: 1",
        "a:\n  - 1\n   - 2",
        "a:\n  - 1\n  -2",
        "a:\n  - - 1",
        "a: 1\n  - 2",
        "a: x\n  continued",
        "",
        "a: 1\n",
        "a: 1 ",
        "a:  1",
        "a:\t1",
        "a: x\u2028y",
        "a: \ufeffx",
        "a: x\x7fy",
        "a: -1",
        "a: 2026-02-30 10:00:00",
        "a: 1e999999999999",
        "a: " + "long " * 4000 + "value",  # far past libyaml's 1024 characters for a simple key
        'a: "' + "long " * 4000 + '"',
        "a:\n  - " + "x" * 20000,
    ],
)
@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "pure-python"])
def test_text_outside_the_subset_is_left_to_pyyaml(text: str, loader: type[yaml.SafeLoader]) -> None:
    assert load_simple(text, loader) is None or _check(text, loader)


KEYS = ["a", "title", "b_c", "d-e", "true", "null", "Null", "y", "on", "_x", "k" * 200, "k" * 201, "1", "a b"]
SCALARS = [
    "1", "-1", "+1", "0x1F", "0o17", "0b1", "1_000", "1.5", "1e5", ".5", "1.", ".inf", "-.inf", ".nan", "NaN",
    "~", "null", "Null", "NULL", "true", "False", "yes", "off", "2026-07-05", "2026-7-5", "2026-02-30",
    "2026-07-05T10:20:30Z", "2026-07-05 10:20:30.5 +05:30", "2026-07-05t10:20:30", "1:20", "9 min", "...",
    "/agents/x.json", "article:x", "http://x.org/a?b=c#d", "(a)", "_a", ".a", "a-", "é", "😀", "India's — x",
]  # fmt: skip
SAFE = list("abcXYZ019 -.,/'()é😀")
EDGE = [*":#-\"'\\&*!|>%@`[]{},?~=_", "\t", "\x85", "\u2028", "\ufeff", "\xa0", "\x7f", "\x00", "\r"]


def _soup(rng: random.Random) -> str:
    return "".join(rng.choice(EDGE if rng.random() < 0.15 else SAFE) for _ in range(rng.randint(1, 10)))


def _value(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.4:
        return rng.choice(SCALARS)
    if choice < 0.65:
        return f'"{_soup(rng)}"'
    if choice < 0.7:
        return f'"{_soup(rng)}\\"\\\\"'
    return _soup(rng)


def _document(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 5)):
        key = rng.choice(KEYS) if rng.random() < 0.2 else rng.choice(KEYS[:4]) + str(len(lines))
        if rng.random() < 0.7:
            lines.append(f"{key}: {_value(rng)}")
        else:
            indent = " " * rng.choice([0, 1, 2, 2, 2, 4])
            lines.append(f"{key}:")
            lines += [f"{indent}- {_value(rng)}" for _ in range(rng.randint(1, 3))]
    for _ in range(rng.choice([0, 0, 1, 2])):  # a mutation or two, to stray from the subset
        at = rng.randrange(len(lines))
        line = lines[at]
        spot = rng.randint(0, len(line))
        lines[at] = rng.choice(
            [line[:spot] + rng.choice([*EDGE, " ", "  ", ": ", " #", "- "]) + line[spot:], line[:spot], " " + line]
        )
        if rng.random() < 0.1:
            lines.insert(at, rng.choice(["", "# comment", "  ", "-", "a:", "  - x", "...", "---"]))
    return "\n".join(lines)


@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "pure-python"])
def test_random_front_matter_is_read_as_pyyaml_reads_it_or_left_to_it(loader: type[yaml.SafeLoader]) -> None:
    rng = random.Random(20261130)
    read = sum(_check(_document(rng), loader) for _ in range(4000))
    assert read > 500  # the shortcut did read a good share of them


def _json_value(rng: random.Random, depth: int) -> Any:
    choice = rng.random()
    if depth < 3 and choice < 0.15:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3 and choice < 0.25:
        return {_json_key(rng): _json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if choice < 0.45:
        return rng.choice([0, 1, -1, 42, 2**63, 2**70, 1.5, -0.0, 1e5, 1e300, 0.1, True, False, None])
    return _soup(rng) if rng.random() < 0.8 else rng.choice(SCALARS)


def _json_key(rng: random.Random) -> str:
    return rng.choice(["a", "b", "title", "true", "null", "1", "a:b", "#", " ", "k" * 1100, _soup(rng)])


def _json_document(rng: random.Random) -> str:
    data = {_json_key(rng): _json_value(rng, 0) for _ in range(rng.randint(0, 6))}
    text = json.dumps(
        data,
        indent=rng.choice([None, 2, 2, 0, 4]),
        ensure_ascii=rng.random() < 0.1,
        separators=rng.choice([None, None, (",", ":"), (", ", ": "), (",", " : ")]),
    )
    lines = text.split("\n")
    for _ in range(rng.choice([0, 0, 0, 1, 2])):  # a mutation or two
        at = rng.randrange(len(lines))
        line = lines[at]
        spot = rng.randint(0, len(line))
        lines[at] = rng.choice(
            [
                line[:spot] + rng.choice([*EDGE, " ", "\n", '"', "1", "[]", "{}", "}", ","]) + line[spot:],
                line.replace("  ", "\t", 1),
                line + "\n" + line,  # a key twice, often
                line[:spot],
            ]
        )
    return "\n".join(lines)


@pytest.mark.parametrize("loader", LOADERS, ids=["libyaml", "pure-python"])
def test_random_json_front_matter_is_read_as_pyyaml_reads_it_or_left_to_it(loader: type[yaml.SafeLoader]) -> None:
    rng = random.Random(20261201)
    read = sum(_check(_json_document(rng), loader) for _ in range(3000))
    assert read > 500
