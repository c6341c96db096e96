"""Front matter is read like the publisher's js-yaml: YAML 1.2 core, UTC dates, nothing executable."""

from __future__ import annotations

import pytest

from app.content.frontmatter import FrontMatterError, field_at, load_front_matter, split_front_matter


def test_split_takes_first_closing_line_and_one_newline() -> None:
    text = "---\na: 1\n---\n\nbody\n---\nmore\n"
    assert split_front_matter(text) == ("a: 1", "\nbody\n---\nmore\n")


def test_split_tolerates_crlf() -> None:
    assert split_front_matter("---\r\na: 1\r\n---\r\nbody") == ("a: 1", "body")


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("v: yes", "yes"),  # YAML 1.1 would say True
        ("v: off", "off"),
        ("v: 1:20", "1:20"),  # YAML 1.1 would say 80
        ("v: 010", 10),  # YAML 1.1 would say 8
        ("v: 0o17", 15),
        ("v: true", True),
        ("v: ~", None),
        ("v: 1.5e3", 1500.0),
    ],
)
def test_yaml_12_core_scalars(yaml_text: str, expected: object) -> None:
    assert load_front_matter(yaml_text)["v"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-17", "2026-06-17"),
        ('"2026-06-17"', "2026-06-17"),
        ("2026-06-17T23:30:00-05:00", "2026-06-18"),  # the UTC calendar date
        ("2026-06-17 01:00:00+02:00", "2026-06-16"),
        ("20260617", "20260617"),  # stringified, left for the schema to reject
    ],
)
def test_top_level_dates_become_utc_calendar_dates(value: str, expected: str) -> None:
    assert load_front_matter(f"date: {value}")["date"] == expected


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("a: &x [1]\nb: *x", "aliases"),
        ("a: &x plain\nb: *x", "anchors and aliases are not allowed"),  # scalar aliases too (issue 12)
        ("a: &x plain", "found the anchor &x"),  # and an anchor nothing uses
        ("a: 1\nb: *nowhere", "found the alias [*]nowhere"),
        ("a: !!python/object/apply:os.system [echo]", "constructor"),
        ("a: [1, 2", "invalid YAML"),
        ("- a\n- b", "mapping"),
        ("1: x", "keys must be strings"),
    ],
)
def test_refusals(yaml_text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        load_front_matter(yaml_text)


@pytest.mark.parametrize(
    ("yaml_text", "field", "message"),
    [
        ("a: 1\na: 2", "a", "the key 'a' is given twice in one mapping"),  # js-yaml refuses it too
        ("a:\n  - b: 1\n    b: 2", "a[0].b", "given twice"),
        ("a: &x s\nb: *x", "a", "found the anchor &x) (at line 2, column 4)"),
        ("list: [1, 2, &y 3]", "list[2]", "found the anchor &y"),
        ('a:\n  b: "x\\0y"', "a.b", "NUL character"),
        ("a: " + "x" * 10_001, "a", "is 10,001 characters long, over the cap of 10,000"),
        ("a: [" + "1, " * 1_000 + "1]", "a", "has 1,001 items, over the cap of 1,000"),
        ("a: " + "[" * 17 + "]" * 17, "a" + "[0]" * 15, "nests deeper than 16 levels"),
        ("a:\n  " + "k" * 201 + ": 1", "a." + "k" * 57 + "...", "the key is 201 characters long"),
        ("a:\n  ? [1]\n  : 2", "a", "a key must be a plain string"),
    ],
)
def test_refusals_name_the_field(yaml_text: str, field: str, message: str) -> None:
    with pytest.raises(FrontMatterError) as raised:
        load_front_matter(yaml_text)
    assert any(f == field and message in m for f, m in raised.value.problems), raised.value.problems


def test_a_raw_nul_is_placed_in_its_field() -> None:
    text = "a: 1\nb:\n  c: caf\u00e9 \x00 x\n"
    assert field_at(text, text.index("\x00")) == "b.c"


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    with pytest.raises(FrontMatterError, match="aliases"):
        load_front_matter("\n".join(lines))
