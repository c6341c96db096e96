"""``garden new``: a skeleton article that ingests with no errors and no warnings, for an author to fill in.

The skeleton is ``articles/<year>/<slug>/`` under ``GARDEN_CONTENT_DIR`` (``article.md``, ``agent.md`` and
``artifact.json``), dated today (``GARDEN_TODAY`` when set), with placeholder text that says what to write.
Decisions (docs/content-format.md, "Starting an article", says the same to authors):

* It is a **draft** in all three files: it is served only with the preview token until the author publishes it,
  and placeholder claims are never public by accident.
* Every required field is present, with the optional ones an author usually needs (``disclosure``; ``series``
  with ``--series``), so the files teach the format. Each claim has a marker in ``article.md`` and a line in
  ``agent.md``; the claim cites two sources of different types, so no diagnostic fires. The evidence snippets
  say "Evidence snippet pending", which the ``verified-claim-placeholder-evidence`` rule turns into an error if the
  claim is marked verified before they are replaced.
* ``contentHash`` is the sha256 of the ``article.md`` written; editing the article makes it stale, which ingest
  reports as the ``content-hash-rewritten`` warning until the author writes the new hash.
* ``--series`` joins an existing series as the next chapter (its title and the order after its highest), or,
  for a series no article names yet, starts it as its guide at order 0.
* The slug must be new in every year, as ingest requires; an invalid slug, a title under 8 characters or an
  existing article is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import orjson

from app.content.limits import MAX_SLUG, MAX_STRING

SLUG = re.compile(r"^[a-z0-9-]+$")
MIN_TITLE = 8
CLAIM = "Replace with the article's first claim in one sentence, in the same words in artifact.json and agent.md."
THESIS = (
    "Replace with the article's thesis: the one position the whole article argues, in one or two sentences "
    "(agent.md's Thesis section says it too)."
)
PENDING = "Evidence snippet pending: quote the passage of {source} that supports claim-001."


class AuthoringError(Exception):
    """A refusal, in one line: what was wrong and what is expected."""


def articles_dir(content_dir: Path) -> Path:
    """Where articles go: ``content/articles`` or ``articles`` inside ``content_dir``, as ingest finds them, or
    ``content_dir`` itself when it already holds year directories; ``<content_dir>/articles`` for a new one."""
    for candidate in (content_dir / "content" / "articles", content_dir / "articles"):
        if candidate.is_dir():
            return candidate
    if content_dir.is_dir() and any(re.fullmatch(r"\d{4}", c.name) and c.is_dir() for c in content_dir.iterdir()):
        return content_dir
    return content_dir / "articles"


def check_slug(slug: str, what: str = "slug") -> None:
    if not SLUG.fullmatch(slug):
        suggestion = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")
        hint = f" (for example {suggestion!r})" if suggestion and SLUG.fullmatch(suggestion) else ""
        raise AuthoringError(f"{what} {slug!r} is not valid: use lowercase letters, digits and hyphens{hint}")
    if len(slug) > MAX_SLUG:
        raise AuthoringError(f"{what} is {len(slug)} characters long; the most the API can serve is {MAX_SLUG}")


def check_title(title: str) -> str:
    title = title.strip()
    if len(title) < MIN_TITLE:
        raise AuthoringError(f"--title {title!r} is too short: a title has at least {MIN_TITLE} characters")
    if "\n" in title or "\r" in title or len(title) > MAX_STRING:
        raise AuthoringError(f"--title must be one line of at most {MAX_STRING:,} characters")
    return title


def _humanised(slug: str) -> str:
    words = slug.replace("-", " ").strip().capitalize()
    return words if len(words) >= MIN_TITLE else f"{words} (working title)".strip()


def series_place(articles: Path, series: str) -> dict[str, Any]:
    """The ``series`` object of a new member of ``series``: the next chapter, or the guide of a new series."""
    members = []
    for path in sorted(articles.glob("*/*/artifact.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue  # ingest reports the file; it does not stop a new article
        place = data.get("series") if isinstance(data, dict) else None
        if isinstance(place, dict) and place.get("slug") == series and isinstance(place.get("order"), int):
            members.append(place)
    if not members:
        return {"slug": series, "title": _humanised(series), "order": 0, "role": "guide"}
    title = next((m["title"] for m in members if isinstance(m.get("title"), str)), _humanised(series))
    return {"slug": series, "title": title, "order": max(m["order"] for m in members) + 1, "role": "chapter"}


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar: JSON's string escapes are YAML 1.2's too."""
    return json.dumps(text, ensure_ascii=False)


def article_md(slug: str, title: str, today: dt.date) -> str:
    return f"""---
schemaVersion: 1
id: article:{slug}
slug: {slug}
title: {_yaml_string(title)}
dek: "Replace with one sentence under the title: what the reader will learn."
date: {today.isoformat()}
updated: {today.isoformat()}
status: draft
maturity: seed
topic: your-topic
tags:
  - your-tag
summary: "Replace with two or three sentences for lists and search results: what the article argues, and for whom."
readingTime: 1 min
agentArtifact: /agents/articles/{slug}.json
sourcePath: content/articles/{today.year:04d}/{slug}/article.md
---

Replace this paragraph with the opening of the article. The body is Markdown, with HTML where you need it.
Every field above and every rule ingest applies is explained in garden-api's docs/content-format.md.

<h2 id="first-section">First section</h2>

<span id="claim-001" class="claim-marker" data-claim="claim-001">Claim C1</span> Replace with the text that makes \
the first claim. Every claim in artifact.json needs a marker like the one that starts this paragraph, and every \
marker needs a claim.

Headings written as HTML h2 elements with an id, like the one above, make the section outline agents receive.
"""


def agent_md(slug: str, title: str, today: dt.date) -> str:
    return f"""---
schemaVersion: 1
id: agent-brief:{slug}
articleId: article:{slug}
slug: {slug}
title: {_yaml_string(f'Agent Brief for "{title}"')}
tokenBudget: 1200
status: draft
updated: {today.isoformat()}
---

## Thesis

{THESIS}

## Claims

- `claim-001`: {CLAIM}

## Known Limits

Replace with what an agent should not use this article for: where its claims stop holding, what may be out of date.
"""


#: The skeleton's two sources: two kinds, so that its claim draws no source-diversity warning.
SOURCES = (("source-first", "paper"), ("source-second", "web-page"))


def _claim(day: str) -> dict[str, Any]:
    return {
        "id": "claim-001",
        "claim": CLAIM,
        "confidence": "medium",
        "status": "core",
        "evidence": [
            {"sourceId": sid, "snippet": PENDING.format(source=sid), "supports": "direct", "assessedAt": day}
            for sid, _ in SOURCES
        ],
        "counterevidence": [
            {"summary": "Replace with the strongest evidence or argument against the claim.", "assessedAt": day}
        ],
        "verification": {"status": "draft", "reviewedAt": day, "reviewer": "human"},
    }


def _source(sid: str, kind: str, day: str) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Replace with the title of the {sid.removeprefix('source-')} source",
        "url": "https://example.org/replace-with-the-source-url",
        "type": kind,
        "accessed": day,
    }


def artifact(slug: str, title: str, today: dt.date, series: dict[str, Any] | None, article: bytes) -> dict[str, Any]:
    """The skeleton's artifact.json as data, ``series`` (when given) in its usual place after ``topics``."""
    day, year = today.isoformat(), f"{today.year:04d}"
    head: dict[str, Any] = {
        "schemaVersion": 3,
        "id": f"article:{slug}",
        "slug": slug,
        "title": title,
        "canonicalPath": f"/articles/{slug}/",
        "sourcePath": f"content/articles/{year}/{slug}/article.md",
        "agentBriefPath": f"content/articles/{year}/{slug}/agent.md",
        "thesis": THESIS,
        "status": "draft",
        "maturity": "seed",
        "publishedAt": day,
        "updatedAt": day,
        "audiences": ["general readers"],
        "topics": ["your-topic"],
    }
    tail: dict[str, Any] = {
        "claims": [_claim(day)],
        "sources": [_source(sid, kind, day) for sid, kind in SOURCES],
        "related": [],
        "agentInstructions": ["Replace with what an agent using this article should do or avoid."],
        "disclosure": {"aiAssistance": False, "note": "Replace with whether and how AI tools helped write this."},
        "provenance": {
            "createdAt": day,
            "createdBy": "human",
            "agents": [],
            "reviews": [],
            "policy": {"id": "policy:default", "version": "1.0.0"},
        },
        "contentHash": hashlib.sha256(article).hexdigest(),
    }
    return head | ({"series": series} if series is not None else {}) | tail


def new_article(content_dir: Path, slug: str, *, title: str | None, series: str | None, today: dt.date) -> list[Path]:
    """Write the skeleton of ``slug`` and return the three files written; AuthoringError before writing anything
    when the slug, title or series is invalid or the slug is taken."""
    check_slug(slug)
    title = check_title(title) if title is not None else _humanised(slug)
    if series is not None:
        check_slug(series, "--series")
    articles = articles_dir(content_dir)
    taken = sorted(articles.glob(f"*/{slug}")) if articles.is_dir() else []
    if taken:
        raise AuthoringError(f"an article {slug!r} already exists at {taken[0]}; choose another slug")
    place = series_place(articles, series) if series is not None else None
    directory = articles / f"{today.year:04d}" / slug
    article = article_md(slug, title, today).encode()
    files = {
        "article.md": article,
        "agent.md": agent_md(slug, title, today).encode(),
        "artifact.json": orjson.dumps(artifact(slug, title, today, place, article), option=orjson.OPT_INDENT_2) + b"\n",
    }
    try:
        directory.mkdir(parents=True)
        for name, data in files.items():
            (directory / name).write_bytes(data)
    except FileExistsError:
        raise AuthoringError(f"{directory} already exists; choose another slug") from None
    except OSError as exc:
        raise AuthoringError(f"cannot write {exc.filename or directory}: {exc.strerror or exc}") from None
    return [directory / name for name in files]
