"""Agent-layer rules (DATA-CONTRACT §2.0): the orders of the agent files and lists, on trees of our own. The
collation of free text and ids (``:`` before digits, case ignored, beyond ASCII as ICU does) and the orders left
to the database (code point, on every backend).

Each test writes a tiny content tree (2-3 articles; tests/agent_rules_tree.py) that holds one of the traps §2 and
§9 describe, ingests it into a fresh SQLite database and compares the full bytes of the affected agent files with
expected values written out by hand from the rule: the lists are literals in the order the rule gives, with a
comment saying why each item sits where it does (the fixed key orders are in tests/agent_rules_shapes.py).
tests/test_agent_layer.py compares the publisher's real files byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from tests.agent_rules_shapes import (
    article_node,
    claim_node,
    edge,
    entry,
    feed_edges,
    garden_queries,
    index,
    month,
    pretty,
    source_node,
    source_row,
    topic_item,
    topic_node,
    topic_row,
    year,
)
from tests.agent_rules_tree import get, ingest, source, write_article
from tests.conftest import api_client

# --- 1. collation ------------------------------------------------------------------------------------------------


def test_collation_puts_colon_before_digits_and_ignores_case_in_free_text(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    # Slugs ab, ab-c, ab2: dir order is code-unit order of "2026/<slug>": "ab" (a prefix) < "ab-c" < "ab2"
    # ("-" 0x2D < "2" 0x32). Graph ids then put ":" right after "ab", where localeCompare and code units disagree.
    ab = write_article(
        repo,
        "ab",
        topics=["ai2", "a-i"],
        related=[("article", "article:ab2")],
        sources=[
            source("source-ab-1", "A post on agents", "Blog Post"),
            source("source-ab-2", "A blog on agents", "blog"),
        ],
    )
    abc = write_article(
        repo,
        "ab-c",
        topics=["ai-agents", "ai"],
        sources=[
            source("source-abc-1", "A lower-case post", "blog post"),
            source("source-abc-2", "A capital blog", "Blog"),
        ],
    )
    ab2 = write_article(
        repo,
        "ab2",
        topics=["aix", "ai"],
        sources=[
            source("source-ab2-1", "Many blogs at once", "blogs"),
            source("source-ab2-2", "Yet another blog", "blog"),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    generated = "2026-07-10T00:00:00.000Z"  # every updatedAt is 2026-07-10
    c_ab, c_abc, c_ab2 = ab.claims[0], abc.claims[0], ab2.claims[0]
    s_ab1, s_ab2 = ab.sources
    s_abc1, s_abc2 = abc.sources
    s_ab21, s_ab22 = ab2.sources

    with api_client(db_url) as client:
        assert get(client, "/agents/index.json") == pretty(
            index(
                generated,
                [entry(ab, 17), entry(abc, 17), entry(ab2, 17)],  # dir order
                # Topics by localeCompare: "a-i" first ("-" < "i"), then "ai" (a prefix of the rest), then the third
                # character decides: "-" < "2" < "x". Ids within a topic in dir order.
                [
                    topic_item("a-i", "a i", ["article:ab"]),
                    topic_item("ai", "ai", ["article:ab-c", "article:ab2"]),
                    topic_item("ai-agents", "ai agents", ["article:ab-c"]),
                    topic_item("ai2", "ai2", ["article:ab"]),
                    topic_item("aix", "aix", ["article:ab2"]),
                ],
                [
                    year(
                        "2026",
                        ["article:ab", "article:ab-c", "article:ab2"],
                        [month("2026-07", "July", ["article:ab", "article:ab-c", "article:ab2"])],
                    )
                ],
            )
        )

        # Node ids by localeCompare. After "article:ab" come "" (the prefix), "-c…", ":claim-001" and "2…", ranked
        # "" < "-" < ":" < "2". So article:ab-c and its claim come BEFORE article:ab:claim-001, and article:ab2
        # comes after it (code-unit order would put "2" 0x32 before ":" 0x3A). Sources: after "source-ab" the
        # next character ranks "-" < "2" < "c". Topics as in index.json. Kinds split by first letter: a < s < t.
        assert get(client, "/graph/nodes.json") == pretty(
            [
                article_node(ab),
                article_node(abc),
                claim_node(abc, c_abc),
                claim_node(ab, c_ab),
                article_node(ab2),
                claim_node(ab2, c_ab2),
                source_node(s_ab1),
                source_node(s_ab2),
                source_node(s_ab21),
                source_node(s_ab22),
                source_node(s_abc1),
                source_node(s_abc2),
                topic_node("a-i"),
                topic_node("ai"),
                topic_node("ai-agents"),
                topic_node("ai2"),
                topic_node("aix"),
            ]
        )

        # Edges by the key "from:type:to". The three article groups: "article:ab-c:…" < "article:ab:…" <
        # "article:ab2:…" ("-" < ":" < "2"; code units would put ab2 before ab). Within a group the type decides
        # ("argues" < "article" < "covers": "g" < "t" after "ar"), then the target ("topic:a-i" < "topic:ai2",
        # "topic:ai" < "topic:ai-agents" / "topic:aix" by prefix). Source edges last ("s" > "a"), by source id.
        # reviewedAt: updatedAt 2026-07-10, except supports edges, which take the packet's assessedAt 2026-07-05.
        edges = [
            edge("article:ab-c", "argues", "article:ab-c:claim-001", "2026-07-10"),
            edge("article:ab-c", "covers", "topic:ai", "2026-07-10"),
            edge("article:ab-c", "covers", "topic:ai-agents", "2026-07-10"),
            edge("article:ab", "argues", "article:ab:claim-001", "2026-07-10"),
            edge("article:ab", "article", "article:ab2", "2026-07-10"),  # related[].type taken verbatim
            edge("article:ab", "covers", "topic:a-i", "2026-07-10"),
            edge("article:ab", "covers", "topic:ai2", "2026-07-10"),
            edge("article:ab2", "argues", "article:ab2:claim-001", "2026-07-10"),
            edge("article:ab2", "covers", "topic:ai", "2026-07-10"),
            edge("article:ab2", "covers", "topic:aix", "2026-07-10"),
            edge("source-ab-1", "supports", "article:ab:claim-001", "2026-07-05"),
            edge("source-ab-2", "supports", "article:ab:claim-001", "2026-07-05"),
            edge("source-ab2-1", "supports", "article:ab2:claim-001", "2026-07-05"),
            edge("source-ab2-2", "supports", "article:ab2:claim-001", "2026-07-05"),
            edge("source-abc-1", "supports", "article:ab-c:claim-001", "2026-07-05"),
            edge("source-abc-2", "supports", "article:ab-c:claim-001", "2026-07-05"),
        ]
        assert get(client, "/graph/edges.json") == pretty(
            {"schemaVersion": 2, "generatedAt": generated, "edges": edges}
        )
        assert get(client, "/agents/feeds/edges.jsonl") == feed_edges(edges)

        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                generated,
                topics=["a-i", "ai", "ai-agents", "ai2", "aix"],  # code units: "-" 0x2D < "2" 0x32 < "x"
                tags=["notes"],
                # Dimension values in plain code-unit order: upper case (0x42 "B") before lower case (0x62 "b").
                source_types=["Blog", "Blog Post", "blog", "blog post", "blogs"],
                by_topic=[  # topics by localeCompare, articles in dir order
                    topic_row("ab", "a-i"),
                    topic_row("ab-c", "ai"),
                    topic_row("ab2", "ai"),
                    topic_row("ab-c", "ai-agents"),
                    topic_row("ab", "ai2"),
                    topic_row("ab2", "aix"),
                ],
                # Types by localeCompare: case is ignored, and only a tie is broken lower-before-upper, so
                # blog < Blog < "blog post" (longer, the tie on "blog" is not a tie on the whole string) < "Blog Post"
                # < blogs (" " ranks before "s"). Within a type the rows keep dir/array order (ab before ab2).
                by_type=[
                    source_row("ab", s_ab2),
                    source_row("ab2", s_ab22),
                    source_row("ab-c", s_abc2),
                    source_row("ab-c", s_abc1),
                    source_row("ab", s_ab1),
                    source_row("ab2", s_ab21),
                ],
            )
        )


# --- 1b. free-text collation beyond ASCII --------------------------------------------------------------


def test_free_text_collation_beyond_ascii_follows_icu(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "repo"
    note = write_article(
        repo,
        "note",
        sources=[
            source("source-note-1", "A French study", "Étude"),
            source("source-note-2", "A small zine", "zine"),
            source("source-note-3", "An English study", "etude"),
        ],
    )
    db_url = ingest(tmp_path, db_url)
    s1, s2, s3 = note.sources

    with api_client(db_url) as client:
        assert get(client, "/agents/garden-queries.json") == pretty(
            garden_queries(
                "2026-07-10T00:00:00.000Z",
                topics=["garden"],
                tags=["notes"],
                source_types=["etude", "zine", "Étude"],  # code units: "É" is U+00C9, after "z" U+007A
                by_topic=[topic_row("note", "garden")],
                # ICU root: "e" and "É" differ only at the accent (secondary) level, so etude and Étude are neighbours,
                # the unaccented one first; both come before zine at the first letter.
                by_type=[source_row("note", s3), source_row("note", s1), source_row("note", s2)],
            )
        )


# --- orders left to the database --------------------------------------------------------------------------------------


def test_orders_left_to_the_database_are_code_point_orders_on_every_backend(tmp_path: Path, db_url: str) -> None:
    """``sort=title`` and ``sort=published`` are ordered by the database (keyset paging): by code point, as
    SQLite's BINARY collation does, never by a locale's rules. (PostgreSQL's test database is created with
    ICU's en-US collation, under which "aï x" would come second and "ai's view" last.)"""
    repo = tmp_path / "repo"
    titles = {"t-1": "AI-native tools", "t-2": "AI's view here", "t-3": "Ai agents at work", "t-4": "AI_z notes here",
              "t-5": "Aï x and more"}  # fmt: skip
    for slug, title in titles.items():
        write_article(repo, slug, title=title)
    db_url = ingest(tmp_path, db_url)
    expected = sorted(titles, key=lambda slug: ("".join(c.lower() if c.isascii() else c for c in titles[slug]), slug))
    assert expected == ["t-3", "t-2", "t-1", "t-4", "t-5"]  # " " < "'" < "-" < "_" < "ï" by code point
    with api_client(db_url) as client:
        for limit in (5, 2):  # one page, and pages joined through their keyset cursors
            slugs, url = [], f"/articles?sort=title&limit={limit}&fields=slug"
            while url:
                body = client.get(url).json()
                slugs += [item["slug"] for item in body["items"]]
                url = body["next"]
            assert slugs == expected
