"""Generate a synthetic content corpus of any size from the real one, for benchmarks.

The output is made of *batches*. Batch ``k`` is a replica of the real corpus in which every
article slug becomes ``<slug>-b<k>`` and every series slug becomes ``<series>-b<k>``; the last
batch is partial so that exactly ``count`` articles are written. Topics are kept, so topic sizes
grow with the corpus as they would in a real garden.

Within a copy only the identity changes: the front-matter lines that carry the slug are edited
in place (everything else stays byte for byte), the artifact's identity fields, series slug and
intra-corpus ``related`` links are rewritten, and ``contentHash`` (plus the hash on the latest
human approval of a trusted article) is recomputed so each copy is as consistent as its original.

Usage::

    python bench/generate_corpus.py --source ../shared/corpus --count 10000 --out /tmp/gen10k
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The publisher's front-matter block: the first later line starting with `---` closes it.
FRONT_MATTER = re.compile(r"^---\r?\n([\s\S]*?)\r?\n---")
# A top-level front-matter key line, in block YAML (`id: x`) or in the JSON-style flow mapping
# that two articles use (`  "id": "x",`). At most two spaces: deeper lines are nested values.
KEY_LINE = re.compile(r"^ {0,2}([\"']?)([A-Za-z][A-Za-z0-9_]*)\1[ \t]*:[ \t]*(.*)$")

# Front-matter keys that carry the article identity, with the value each must have.
ARTICLE_IDENTITY = {
    "id": "article:{slug}",
    "slug": "{slug}",
    "agentArtifact": "/agents/articles/{slug}.json",
    "sourcePath": "content/articles/{year}/{slug}/article.md",
}
AGENT_IDENTITY = {
    "id": "agent-brief:{slug}",
    "articleId": "article:{slug}",
    "slug": "{slug}",
}
# Artifact fields that carry the identity, with the value each must have.
ARTIFACT_IDENTITY = {
    "id": "article:{slug}",
    "slug": "{slug}",
    "canonicalPath": "/articles/{slug}/",
    "sourcePath": "content/articles/{year}/{slug}/article.md",
    "agentBriefPath": "content/articles/{year}/{slug}/agent.md",
}
ARTICLE_FILES = ("article.md", "agent.md", "artifact.json")


class CorpusError(Exception):
    """Raised when the source corpus cannot be read or the output directory cannot be used."""


@dataclass(frozen=True)
class Template:
    """A text split around its identity values: ``pieces[0] + v(keys[0]) + pieces[1] + ...``."""

    pieces: tuple[str, ...]
    keys: tuple[str, ...]

    def render(self, values: dict[str, str]) -> str:
        """Return the text with each identity key replaced by its value from ``values``."""
        parts = [self.pieces[0]]
        for key, piece in zip(self.keys, self.pieces[1:], strict=True):
            parts.append(values[key])
            parts.append(piece)
        return "".join(parts)


@dataclass(frozen=True)
class SourceArticle:
    """One real article, parsed once and ready to be copied into any batch."""

    year: str
    slug: str
    article_md: Template
    agent_md: Template
    artifact_json: str
    status: str
    series_slug: str | None
    series_order: int  # 0 when not in a series
    is_guide: bool
    claims: int
    sources: int
    # Whether the latest human approval carries the current hash (the contract's "trusted").
    trusted: bool


def resolve_articles_dir(source: Path) -> Path:
    """Return the ``content/articles`` dir for a repo root or for that dir itself."""
    nested = source / "content" / "articles"
    if nested.is_dir():
        return nested
    if next(source.glob("*/*/article.md"), None) is not None:
        return source
    raise CorpusError(f"{source}: neither a repo root holding content/articles nor a content/articles dir")


def identity_template(text: str, identity: dict[str, str], year: str, slug: str, name: str) -> Template:
    """Split ``text`` around the values of the identity keys of its front matter.

    Each key must occur exactly once at the top level and hold the value that ``identity``
    prescribes for ``slug``; anything else is a corpus the generator does not understand.
    """
    match = FRONT_MATTER.match(text)
    if match is None:
        raise CorpusError(f"{name}: no front matter")
    spans: dict[str, list[tuple[int, int]]] = {key: [] for key in identity}
    offset = match.start(1)
    for line in match.group(1).split("\n"):
        key_line = KEY_LINE.match(line)
        if key_line is not None and key_line.group(2) in spans:
            key = key_line.group(2)
            expected = identity[key].format(slug=slug, year=year)
            if _scalar(key_line.group(3)) != expected:
                raise CorpusError(f"{name}: front matter `{key}` is {key_line.group(3)!r}, expected {expected!r}")
            start = offset + key_line.start(3) + key_line.group(3).index(expected)
            spans[key].append((start, start + len(expected)))
        offset += len(line) + 1
    for key, found in spans.items():
        if len(found) != 1:
            raise CorpusError(f"{name}: front matter `{key}` occurs {len(found)} times, expected once")
    ordered = sorted((found[0], key) for key, found in spans.items())
    pieces, cursor = [], 0
    for (start, end), _key in ordered:
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    return Template(tuple(pieces), tuple(key for _span, key in ordered))


def _scalar(raw: str) -> str:
    """Return a one-line YAML/JSON scalar without its quotes and trailing comma."""
    value = raw.strip()
    if value.endswith(","):
        value = value[:-1].rstrip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


def latest_human_approval(artifact: dict[str, Any]) -> dict[str, Any] | None:
    """Return the latest (by reviewedAt, first on ties) review by ``human`` with status ``approved``."""
    latest: dict[str, Any] | None = None
    for review in artifact.get("provenance", {}).get("reviews", []):
        if review.get("reviewer") != "human" or review.get("status") != "approved":
            continue
        if latest is None or str(review.get("reviewedAt")) > str(latest.get("reviewedAt")):
            latest = review
    return latest


def load_article(directory: Path) -> SourceArticle:
    """Read and check one real article directory."""
    year, slug = directory.parent.name, directory.name
    texts: dict[str, str] = {}
    for file_name in ARTICLE_FILES:
        path = directory / file_name
        try:
            texts[file_name] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CorpusError(f"{path}: {error}") from error
    try:
        artifact = json.loads(texts["artifact.json"])
    except json.JSONDecodeError as error:
        raise CorpusError(f"{directory / 'artifact.json'}: {error}") from error
    for field, pattern in ARTIFACT_IDENTITY.items():
        expected = pattern.format(slug=slug, year=year)
        if artifact.get(field) != expected:
            raise CorpusError(
                f"{directory / 'artifact.json'}: `{field}` is {artifact.get(field)!r}, expected {expected!r}"
            )
    series = artifact.get("series")
    approval = latest_human_approval(artifact)
    content_hash = hashlib.sha256(texts["article.md"].encode("utf-8")).hexdigest()
    return SourceArticle(
        year=year,
        slug=slug,
        article_md=identity_template(texts["article.md"], ARTICLE_IDENTITY, year, slug, str(directory / "article.md")),
        agent_md=identity_template(texts["agent.md"], AGENT_IDENTITY, year, slug, str(directory / "agent.md")),
        artifact_json=texts["artifact.json"],
        status=str(artifact.get("status")),
        series_slug=series["slug"] if series else None,
        series_order=int(series["order"]) if series else 0,
        is_guide=bool(series) and series.get("role") == "guide",
        claims=len(artifact.get("claims", [])),
        sources=len(artifact.get("sources", [])),
        trusted=approval is not None and approval.get("contentHash") == content_hash,
    )


def load_corpus(source: Path) -> list[SourceArticle]:
    """Load every article dir two levels under ``content/articles``, sorted by year then slug."""
    articles_dir = resolve_articles_dir(source)
    directories = sorted(
        (path for path in articles_dir.glob("*/*") if path.is_dir()),
        key=lambda path: (path.parent.name, path.name),
    )
    articles = [load_article(directory) for directory in directories]
    if not articles:
        raise CorpusError(f"{articles_dir}: no article directories (expected <year>/<slug>/)")
    seen: set[str] = set()
    for article in articles:
        if article.slug in seen:
            raise CorpusError(f"{articles_dir}: slug {article.slug!r} is used twice")
        seen.add(article.slug)
    return articles


def guides_first(articles: Sequence[SourceArticle]) -> list[SourceArticle]:
    """Return ``articles`` with each series guide moved just before its series' first member.

    The partial batch takes a prefix of this order, so every series it touches has its guide.
    """
    guide_of: dict[str, SourceArticle] = {}
    for article in articles:
        if article.is_guide and article.series_slug is not None:
            guide_of.setdefault(article.series_slug, article)
    ordered: list[SourceArticle] = []
    placed: set[str] = set()
    for article in articles:
        guide = guide_of.get(article.series_slug or "")
        if guide is not None and guide.slug not in placed:
            ordered.append(guide)
            placed.add(guide.slug)
        if article.slug not in placed:
            ordered.append(article)
            placed.add(article.slug)
    return ordered


def contiguous_orders(batch: Sequence[SourceArticle]) -> dict[str, int]:
    """Map each series member of ``batch`` to an order that makes published members 0..n-1.

    Published members keep their relative order. An unpublished member takes the place its old
    order would have among them, so the real corpus's archived duplicate stays a duplicate.
    """
    published: dict[str, set[int]] = {}
    for article in batch:
        if article.series_slug is not None and article.status == "published":
            published.setdefault(article.series_slug, set()).add(article.series_order)
    ranks = {series: sorted(orders) for series, orders in published.items()}
    return {
        article.slug: bisect.bisect_left(ranks.get(article.series_slug, []), article.series_order)
        for article in batch
        if article.series_slug is not None
    }


def identity_values(identity: dict[str, str], slug: str, year: str) -> dict[str, str]:
    """Return the value of each identity key for an article ``slug`` in ``year``."""
    return {key: pattern.format(slug=slug, year=year) for key, pattern in identity.items()}


def batch_slug(slug: str, batch: int) -> str:
    """Return the slug of ``slug`` in batch ``batch``."""
    return f"{slug}-b{batch}"


def copy_artifact(
    article: SourceArticle,
    batch: int,
    article_md: bytes,
    new_order: int | None,
    link_batch: dict[str, int],
) -> str:
    """Return the artifact.json text of ``article`` in ``batch``, with its key order kept."""
    slug = batch_slug(article.slug, batch)
    artifact = json.loads(article.artifact_json)
    artifact.update(identity_values(ARTIFACT_IDENTITY, slug, article.year))
    series = artifact.get("series")
    if series:
        series["slug"] = batch_slug(series["slug"], batch)
        series["order"] = new_order
    for link in artifact.get("related", []):
        kind, _, target = str(link.get("id", "")).partition(":")
        if link.get("type") == "article" and kind == "article" and target in link_batch:
            link["id"] = "article:" + batch_slug(target, link_batch[target])
    content_hash = hashlib.sha256(article_md).hexdigest()
    artifact["contentHash"] = content_hash
    approval = latest_human_approval(artifact)
    if article.trusted and approval is not None:
        approval["contentHash"] = content_hash
    return json.dumps(artifact, indent=2, ensure_ascii=False) + "\n"


def prepare_output(out: Path, sources_dir: Path, force: bool) -> None:
    """Make sure ``out`` may be written: empty, or ``--force`` and then without ``content/``."""
    if out.exists() and not out.is_dir():
        raise CorpusError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise CorpusError(f"{out}: directory is not empty (pass --force to replace {out / 'content'})")
        content = out / "content"
        if sources_dir.resolve().is_relative_to(content.resolve()):
            raise CorpusError(f"{out}: --force would delete the source corpus {sources_dir}")
        if content.is_dir() and not content.is_symlink():
            shutil.rmtree(content)
        elif content.exists() or content.is_symlink():
            content.unlink()
    out.mkdir(parents=True, exist_ok=True)


def generate(source: Path, out: Path, count: int, *, force: bool = False) -> dict[str, Any]:
    """Write ``count`` synthetic articles made from the corpus at ``source`` into ``out``.

    Returns a summary: articles, claims, sources, batches, bytes written and seconds taken.
    """
    started = time.perf_counter()
    if count < 1:
        raise CorpusError(f"count must be at least 1, got {count}")
    real = load_corpus(source)
    prepare_output(out, resolve_articles_dir(source), force)
    full_batches, remainder = divmod(count, len(real))
    batches: list[list[SourceArticle]] = [real] * full_batches
    if remainder:
        batches.append(guides_first(real)[:remainder])
    real_slugs = [article.slug for article in real]
    articles_dir = out / "content" / "articles"
    made_dirs: set[Path] = set()
    claims = sources = written = 0
    for batch, members in enumerate(batches):
        orders = contiguous_orders(members)
        in_batch = {article.slug for article in members}
        # A link whose target is missing from a partial batch points at the previous full batch.
        link_batch = {slug: batch if slug in in_batch or batch == 0 else batch - 1 for slug in real_slugs}
        for article in members:
            slug = batch_slug(article.slug, batch)
            article_md = article.article_md.render(identity_values(ARTICLE_IDENTITY, slug, article.year))
            agent_md = article.agent_md.render(identity_values(AGENT_IDENTITY, slug, article.year))
            article_bytes = article_md.encode()
            artifact = copy_artifact(article, batch, article_bytes, orders.get(article.slug), link_batch)
            files = (article_bytes, agent_md.encode(), artifact.encode())
            year_dir = articles_dir / article.year
            if year_dir not in made_dirs:
                year_dir.mkdir(parents=True, exist_ok=True)
                made_dirs.add(year_dir)
            directory = year_dir / slug
            directory.mkdir()
            for file_name, data in zip(ARTICLE_FILES, files, strict=True):
                with open(os.path.join(directory, file_name), "wb") as handle:
                    handle.write(data)
                written += len(data)
            claims += article.claims
            sources += article.sources
    return {
        "articles": count,
        "claims": claims,
        "sources": sources,
        "batches": len(batches),
        "bytes": written,
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="repo root holding content/articles, or that dir")
    parser.add_argument("--count", type=int, required=True, help="number of articles to write")
    parser.add_argument("--out", type=Path, required=True, help="output dir; gets content/articles/<year>/<slug>/")
    parser.add_argument("--force", action="store_true", help="write into a non-empty --out, replacing its content/")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.source, args.out, args.count, force=args.force)
    except CorpusError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(
        f"wrote {summary['articles']} articles, {summary['claims']} claims, {summary['sources']} sources "
        f"({summary['batches']} batches, {summary['bytes'] / 1e6:.1f} MB) to {args.out} "
        f"in {summary['seconds']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
