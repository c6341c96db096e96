"""Finding article files under the PATHs given to ``garden ingest`` and turning each into a validated record.

Two layouts are accepted (DATA-CONTRACT §1.1, §1.6):

* the source layout: ``content/articles/<year>/<slug>/{article.md, agent.md, artifact.json}``; a PATH may be
  the repository root that holds ``content/articles``, the ``content`` directory, or ``content/articles`` itself;
* the packet layout: a directory of ``<slug>.json`` packets, each with an optional ``<slug>.md`` brief.

Reading happens in two steps so that an unchanged corpus costs little: :func:`discover` reads the raw bytes
and fingerprints them; :func:`parse` validates and derives, and ingest calls it only for new or changed input.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from app import derive
from app.content.decode import load_json, markdown
from app.content.errors import WHOLE_FILE, ContentError, InvalidContent
from app.content.frontmatter import to_json_value
from app.content.schema import (
    SCHEMA_VERSION_HISTORY,
    ArticleFrontMatter,
    Artifact,
    BriefFrontMatter,
    validate,
)

Layout = Literal["source", "packet"]
SOURCE_FILES = {"article": "article.md", "brief": "agent.md", "artifact": "artifact.json"}


@dataclass(slots=True)
class InputArticle:
    """One article's files as found on disk: raw bytes and a fingerprint, not yet parsed."""

    slug: str
    year: str
    layout: Layout
    location: str
    paths: dict[str, str]
    raw: dict[str, bytes]
    fingerprint: str = ""

    @property
    def dir_key(self) -> str:
        """The publisher's "dir order" key: year, then slug, a prefix first (§2.0)."""
        return f"{self.year}/{self.slug}"


@dataclass(slots=True)
class Discovery:
    """Everything found under the PATHs: readable articles, and the errors of the rest."""

    articles: list[InputArticle] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    invalid_slugs: set[str] = field(default_factory=set)
    unreadable_paths: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedArticle:
    """A validated article with everything the publisher derives from it, ready to store."""

    source: InputArticle
    artifact: Artifact
    front_matter: dict[str, Any] | None
    brief_front_matter: dict[str, Any] | None
    fm_status: str
    content_hash: str
    token_estimate: int
    section_outline: list[Any]
    findings: list[derive.Finding]
    states: dict[str, derive.ClaimState]

    @property
    def slug(self) -> str:
        return self.source.slug

    @property
    def is_public(self) -> bool:
        """Published in both front matter and artifact: "published (P)" of §2.0."""
        return self.fm_status == "published" and self.artifact.status == "published"


def _fingerprint(layout: str, year: str, slug: str, raw: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"{layout}\0{year}\0{slug}".encode())
    for role in sorted(raw):
        digest.update(f"\0{role}\0{len(raw[role])}\0".encode())
        digest.update(raw[role])
    return digest.hexdigest()


def _read(
    path: Path, shown: str, root: Path, max_bytes: int, errors: list[ContentError], real_dir: Path | None = None
) -> bytes | None:
    """The file's bytes, or None with an error when it is missing, outside the root, special or too big.

    ``real_dir``, when given, is the file's directory already resolved (and known to be inside the root): a file
    that is not itself a symlink then needs one ``lstat``, not a walk of its whole path.
    """
    try:
        info = os.lstat(path)
        if real_dir is not None and not stat.S_ISLNK(info.st_mode):
            real = real_dir / path.name
        else:
            real = path.resolve(strict=True)
            info = os.stat(real)
    except FileNotFoundError:
        errors.append(ContentError(shown, WHOLE_FILE, "file is missing (or is a broken symlink)"))
        return None
    except (RuntimeError, OSError) as exc:  # Python 3.11 says RuntimeError for a loop, later ones OSError ELOOP
        errors.append(ContentError(shown, WHOLE_FILE, _unreadable(exc)))
        return None
    if not real.is_relative_to(root):
        errors.append(ContentError(shown, WHOLE_FILE, f"is a symlink that leads outside the content root (to {real})"))
        return None
    if not stat.S_ISREG(info.st_mode):
        errors.append(ContentError(shown, WHOLE_FILE, "is not a regular file"))
        return None
    if info.st_size > max_bytes:
        limit = f"over the {max_bytes:,}-byte limit (GARDEN_MAX_FILE_BYTES)"
        errors.append(ContentError(shown, WHOLE_FILE, f"is {info.st_size:,} bytes, {limit}"))
        return None
    try:
        with open(real, "rb") as file:
            return file.read()
    except OSError as exc:
        errors.append(ContentError(shown, WHOLE_FILE, f"cannot be read: {exc.strerror}"))
        return None


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno == errno.ELOOP):
        return "is a symlink loop (a symlink that leads, through others, back to itself)"
    return f"cannot be read: {exc.strerror if isinstance(exc, OSError) else exc}"


def _subdirs(directory: Path, shown: str, found: Discovery, slugs: bool) -> list[Path]:
    """The directories in ``directory``; an entry that cannot be followed (a symlink loop) is an error, and an
    unreadable path (so ``--prune`` removes nothing), and, when the entries are ``slugs``, an invalid slug."""
    subdirs = []
    with os.scandir(directory) as entries:
        for entry in entries:
            try:
                if entry.is_dir():
                    subdirs.append(Path(entry.path))
            except OSError as exc:
                found.errors.append(ContentError(f"{shown}/{entry.name}", WHOLE_FILE, _unreadable(exc)))
                found.unreadable_paths.append(f"{shown}/{entry.name}")
                if slugs:  # a slug stored earlier is not "missing": it is there, unreadable
                    found.invalid_slugs.add(entry.name)
    return sorted(subdirs)


def _discover_source(articles_dir: Path, shown_root: str, max_bytes: int, found: Discovery) -> None:
    root = articles_dir.resolve()
    for year_dir in _subdirs(articles_dir, shown_root, found, slugs=False):
        for article_dir in _subdirs(year_dir, f"{shown_root}/{year_dir.name}", found, slugs=True):
            location = f"{shown_root}/{year_dir.name}/{article_dir.name}"
            paths = {role: f"{location}/{name}" for role, name in SOURCE_FILES.items()}
            errors: list[ContentError] = []
            real_dir = article_dir.resolve()
            inside = real_dir if real_dir.is_relative_to(root) else None  # else each file reports the escape
            raw = {
                role: _read(article_dir / name, paths[role], root, max_bytes, errors, inside)
                for role, name in SOURCE_FILES.items()
            }
            if errors:
                found.errors.extend(errors)
                found.invalid_slugs.add(article_dir.name)
                continue
            complete = {role: data for role, data in raw.items() if data is not None}
            found.articles.append(InputArticle(article_dir.name, year_dir.name, "source", location, paths, complete))


def _discover_packets(packet_dir: Path, shown_root: str, max_bytes: int, found: Discovery) -> None:
    root = packet_dir.resolve()
    for packet in sorted(packet_dir.glob("*.json")):
        slug = packet.stem
        paths = {"artifact": f"{shown_root}/{packet.name}"}
        errors: list[ContentError] = []
        raw: dict[str, bytes] = {}
        data = _read(packet, paths["artifact"], root, max_bytes, errors)
        if data is not None:
            raw["artifact"] = data
        brief = packet.with_suffix(".md")
        if brief.exists() or brief.is_symlink():
            paths["brief"] = f"{shown_root}/{brief.name}"
            data = _read(brief, paths["brief"], root, max_bytes, errors)
            if data is not None:
                raw["brief"] = data
        if errors:
            found.errors.extend(errors)
            found.invalid_slugs.add(slug)
            continue
        # The year of a packet is the one in its sourcePath; parse() checks the path itself.
        found.articles.append(
            InputArticle(slug, _packet_year(raw["artifact"]), "packet", paths["artifact"], paths, raw)
        )


def _packet_year(artifact: bytes) -> str:
    try:
        source_path = orjson.loads(artifact).get("sourcePath", "")
        return str(source_path).split("/")[2] if str(source_path).startswith("content/articles/") else "0000"
    except (orjson.JSONDecodeError, AttributeError, IndexError):
        return "0000"


def _not_a_directory(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        return _unreadable(exc) if exc.errno == errno.ELOOP else "does not exist"
    return "is not a directory"


def discover(paths: list[Path], max_bytes: int) -> Discovery:
    """Find and read every article under ``paths``; fingerprint each; reject a slug found twice."""
    found = Discovery()
    for path in paths:
        shown = str(path).rstrip("/") or "/"
        if not path.is_dir():
            what = _not_a_directory(path)
            found.unreadable_paths.append(shown)
            found.errors.append(
                ContentError(
                    shown,
                    WHOLE_FILE,
                    f"{what}; expected a content repository, a content/articles directory or a directory of packets",
                )
            )
        elif (path / "content" / "articles").is_dir():
            _discover_source(path / "content" / "articles", f"{shown}/content/articles", max_bytes, found)
        elif (path / "articles").is_dir():  # a content directory, like GARDEN_CONTENT_DIR
            _discover_source(path / "articles", f"{shown}/articles", max_bytes, found)
        elif any(path.glob("*.json")):
            _discover_packets(path, shown, max_bytes, found)
        elif any(child.is_dir() for child in path.iterdir()):
            _discover_source(path, shown, max_bytes, found)
        else:
            found.unreadable_paths.append(shown)
            found.errors.append(
                ContentError(
                    shown,
                    WHOLE_FILE,
                    "holds no articles: expected content/articles/"
                    "<year>/<slug>/, a content/articles directory or <slug>.json packets",
                )
            )
    by_slug: dict[str, list[InputArticle]] = {}
    for article in found.articles:
        by_slug.setdefault(article.slug, []).append(article)
    for slug, copies in by_slug.items():
        if len(copies) > 1 or slug in found.invalid_slugs:
            for copy in copies:
                others = [other.location for other in copies if other is not copy]
                where = f"also at {', '.join(others)}" if others else "also in an unreadable entry"
                found.errors.append(
                    ContentError(copy.paths["artifact"], "slug", f"slug '{slug}' is used twice ({where})")
                )
            found.invalid_slugs.add(slug)
    found.articles = [a for a in found.articles if a.slug not in found.invalid_slugs]
    for article in found.articles:
        article.fingerprint = _fingerprint(article.layout, article.year, article.slug, article.raw)
    return found


def _expect(errors: list[ContentError], file: str, field_name: str, actual: Any, expected: str, why: str) -> None:
    if actual is not None and actual != expected:
        errors.append(ContentError(file, field_name, f"is {actual!r} but must be {expected!r} ({why})"))


def parse(source: InputArticle) -> ParsedArticle:
    """Validate one article's files against the schemas and each other, and derive what the publisher derives.

    Raises InvalidContent with every problem found (not only the first) when the article must be rejected.
    """
    errors: list[ContentError] = []
    paths, slug, year = source.paths, source.slug, source.year
    article = markdown(source.raw["article"], paths["article"], errors) if "article" in source.raw else None
    brief = markdown(source.raw["brief"], paths["brief"], errors) if "brief" in source.raw else None
    data = load_json(source.raw["artifact"], paths["artifact"], errors)
    if errors:
        raise InvalidContent(errors)
    assert data is not None

    if data.get("schemaVersion") in (1, 2):
        raise InvalidContent(
            [
                ContentError(
                    paths["artifact"],
                    "schemaVersion",
                    f"is {data['schemaVersion']}, which is not supported. {SCHEMA_VERSION_HISTORY}",
                )
            ]
        )
    artifact, problems = validate(Artifact, data, paths["artifact"])
    errors += problems
    brief_fm = None
    if article is not None:
        errors += validate(ArticleFrontMatter, article[1], paths["article"])[1]
    if brief is not None:
        brief_fm, problems = validate(BriefFrontMatter, brief[1], paths["brief"])
        errors += problems

    article_id = f"article:{slug}"
    where = "the directory name" if source.layout == "source" else "the packet file name"
    source_path = f"content/articles/{year}/{slug}/article.md"
    for file, payload in ((paths["artifact"], data), (paths.get("article"), article and article[1])):
        if file is None or not isinstance(payload, dict):
            continue
        _expect(errors, file, "slug", payload.get("slug"), slug, f"the slug comes from {where}")
        _expect(errors, file, "id", payload.get("id"), article_id, f"the id comes from {where}")
        if source.layout == "source":
            _expect(errors, file, "sourcePath", payload.get("sourcePath"), source_path, "the file's own location")
    if source.layout == "source":
        _expect(
            errors,
            paths["artifact"],
            "agentBriefPath",
            data.get("agentBriefPath"),
            f"content/articles/{year}/{slug}/agent.md",
            "the brief's own location",
        )
        if article is not None:
            _expect(
                errors,
                paths["article"],
                "agentArtifact",
                article[1].get("agentArtifact"),
                f"/agents/articles/{slug}.json",
                "the packet path of this slug",
            )
    if brief is not None:
        _expect(errors, paths["brief"], "slug", brief[1].get("slug"), slug, f"the slug comes from {where}")
        _expect(
            errors,
            paths["brief"],
            "articleId",
            brief[1].get("articleId"),
            article_id,
            f"the id comes from {where}",
        )
        _expect(
            errors,
            paths["brief"],
            "id",
            brief[1].get("id"),
            f"agent-brief:{slug}",
            f"the id comes from {where}",
        )
    if artifact is not None:
        _check_unique_ids(artifact, paths["artifact"], errors)
    if errors:
        raise InvalidContent(errors)
    assert artifact is not None
    return _derive(source, artifact, data, article, brief, brief_fm)


def _check_unique_ids(artifact: Artifact, file: str, errors: list[ContentError]) -> None:
    for kind, ids in (("claims", [c.id for c in artifact.claims]), ("sources", [s.id for s in artifact.sources])):
        seen: dict[str, int] = {}
        for index, item_id in enumerate(ids):
            if item_id in seen:
                message = f"{item_id!r} is used twice (also {kind}[{seen[item_id]}])"
                errors.append(ContentError(file, f"{kind}[{index}].id", message))
            seen.setdefault(item_id, index)


def _derive(
    source: InputArticle,
    artifact: Artifact,
    data: dict[str, Any],
    article: tuple[str, dict[str, Any], str] | None,
    brief: tuple[str, dict[str, Any], str] | None,
    brief_fm: BriefFrontMatter | None,
) -> ParsedArticle:
    brief_body = brief[2] if brief else None
    statuses: dict[str, str] = {"artifact.json": artifact.status}
    if article is not None:
        # The source layout: everything is derived from the files (§2.1).
        current_hash = derive.content_hash(source.raw["article"])
        tokens = derive.token_estimate(brief_body or "")
        outline: list[Any] = derive.section_outline(article[2])
        markers: list[str] | None = derive.claim_markers(article[2])
        fm_status = str(article[1]["status"])
        statuses = {"article.md": fm_status, **statuses}
    else:
        # A packet already carries its derived keys; they are served as given (§0).
        current_hash = artifact.contentHash
        given = data.get("tokenEstimate")
        tokens = given if isinstance(given, int) else derive.token_estimate(brief_body or "")
        given_outline = data.get("sectionOutline")
        outline = given_outline if isinstance(given_outline, list) else []
        markers = None
        fm_status = artifact.status
    if brief_fm is not None:
        statuses["agent.md"] = brief_fm.status
    public = fm_status == "published" and artifact.status == "published"
    findings = derive.diagnose(
        artifact,
        year=source.year,
        slug=source.slug,
        public=public,
        current_hash=current_hash,
        markers=markers,
    )
    findings += derive.consistency_findings(
        artifact,
        year=source.year,
        slug=source.slug,
        statuses=statuses,
        brief_body=brief_body,
        token_budget=brief_fm.tokenBudget if brief_fm else None,
        tokens=tokens,
        stored_hash=artifact.contentHash,
        current_hash=current_hash,
    )
    states = _claim_states(artifact, findings)
    return ParsedArticle(
        source=source,
        artifact=artifact,
        front_matter=to_json_value(article[1]) if article else None,
        brief_front_matter=to_json_value(brief[1]) if brief else None,
        fm_status=fm_status,
        content_hash=current_hash,
        token_estimate=tokens,
        section_outline=outline,
        findings=findings,
        states=states,
    )


def _claim_states(artifact: Artifact, findings: list[derive.Finding]) -> dict[str, derive.ClaimState]:
    """Each claim's state (§2.7), from its own generator findings (grouped once, in order)."""
    own: dict[str | None, list[derive.Finding]] = {}
    for finding in findings:
        if finding.origin == "generator":
            own.setdefault(finding.claim_id, []).append(finding)
    states = {}
    for claim in artifact.claims:
        status = claim.verification.status if claim.verification else None
        states[claim.id] = derive.claim_state(status, own.get(claim.id, []))
    return states
