"""Front matter is read like the publisher's js-yaml: YAML 1.2 core, UTC dates, nothing executable."""

from __future__ import annotations

import pytest

from app.content.frontmatter import FrontMatterError, load_front_matter, split_front_matter


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
        ("a: !!python/object/apply:os.system [echo]", "constructor"),
        ("a: [1, 2", "invalid YAML"),
        ("- a\n- b", "mapping"),
        ("1: x", "keys must be strings"),
    ],
)
def test_refusals(yaml_text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message):
        load_front_matter(yaml_text)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    with pytest.raises(FrontMatterError, match="aliases"):
        load_front_matter("\n".join(lines))
