"""The publisher's localeCompare order, and its byte-key form that a database can sort by."""

from __future__ import annotations

import random

import pytest

from app.agent.collation import code_unit_key, locale_bytes, locale_key


def test_free_text_ignores_case_then_puts_lower_first() -> None:
    words = ["blogs", "Blog Post", "blog", "blog post", "Blog"]
    assert sorted(words, key=locale_key) == ["blog", "Blog", "blog post", "Blog Post", "blogs"]


def test_colon_sorts_after_hyphen_and_before_digits() -> None:
    ids = ["source-x2", "source-x:", "source-xa", "source-x-1", "source-x"]
    assert sorted(ids, key=locale_key) == ["source-x", "source-x-1", "source-x:", "source-x2", "source-xa"]
    assert sorted(ids) != sorted(ids, key=locale_key)  # Python's own order differs: the trap of §9


def test_code_unit_order_puts_upper_case_first() -> None:
    assert sorted(["blog", "Blog Post", "Blog"], key=code_unit_key) == ["Blog", "Blog Post", "blog"]


@pytest.mark.parametrize("seed", range(5))
def test_byte_keys_sort_exactly_like_the_collation(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "aAbBzZ-:1 9.é_É"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(2000)]
    assert sorted(words, key=locale_bytes) == sorted(words, key=locale_key)
