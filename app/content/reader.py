"""One article's files, read, turned into a validated record with everything the publisher derives.

Two layouts are accepted (DATA-CONTRACT §1.1, §1.6): the source layout (``content/articles/<year>/<slug>/``
with ``article.md``, ``agent.md`` and ``artifact.json``) and the packet layout (``<slug>.json`` with an
optional ``<slug>.md`` brief). Finding the files is app.ingest.discover's; this module starts from their bytes:
:func:`fingerprint` says whether they changed, and :func:`parse` validates and derives (ingest calls it only
for new or changed input).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from app import derive
from app.content.decode import load_json, markdown
from app.content.errors import ContentError, InvalidContent
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


def fingerprint(layout: str, year: str, slug: str, raw: dict[str, bytes]) -> str:
    digest = hashlib.sha256(f"{layout}\0{year}\0{slug}".encode())
    for role in sorted(raw):
        digest.update(f"\0{role}\0{len(raw[role])}\0".encode())
        digest.update(raw[role])
    return digest.hexdigest()


def packet_year(artifact: bytes) -> str:
    try:
        source_path = orjson.loads(artifact).get("sourcePath", "")
        return str(source_path).split("/")[2] if str(source_path).startswith("content/articles/") else "0000"
    except (orjson.JSONDecodeError, AttributeError, IndexError):
        return "0000"


def _expect(errors: list[ContentError], file: str, field_name: str, actual: Any, expected: str, why: str) -> None:
    if actual is not None and actual != expected:
        errors.append(ContentError(file, field_name, f"is {actual!r} but must be {expected!r} ({why})"))


def parse(source: InputArticle) -> ParsedArticle:
    """Validate one article's files against the schemas and each other, and derive what the publisher derives.

    Raises InvalidContent with every problem found (not only the first) when the article must be rejected.
    """
    errors: list[ContentError] = []
    paths = source.paths
    article = markdown(source.raw["article"], paths["article"], errors) if "article" in source.raw else None
    brief = markdown(source.raw["brief"], paths["brief"], errors) if "brief" in source.raw else None
    data = load_json(source.raw["artifact"], paths["artifact"], errors)
    # A file that cannot be read hides nothing else: the other files are still validated, and the cross-file
    # checks below run on whatever parsed.
    artifact = None
    if data is not None and data.get("schemaVersion") in (1, 2):
        message = f"is {data['schemaVersion']}, which is not supported. {SCHEMA_VERSION_HISTORY}"
        errors.append(ContentError(paths["artifact"], "schemaVersion", message))
    elif data is not None:
        artifact, problems = validate(Artifact, data, paths["artifact"])
        errors += problems
    brief_fm = None
    if article is not None:
        errors += validate(ArticleFrontMatter, article[1], paths["article"])[1]
    if brief is not None:
        brief_fm, problems = validate(BriefFrontMatter, brief[1], paths["brief"])
        errors += problems

    _check_identity(source, data, article[1] if article else None, brief[1] if brief else None, errors)
    if artifact is not None:
        _check_unique_ids(artifact, paths["artifact"], errors)
    if errors:
        raise InvalidContent(errors)
    assert artifact is not None and data is not None
    return _derive(source, artifact, data, article, brief, brief_fm)


def _check_identity(
    source: InputArticle,
    data: dict[str, Any] | None,
    article: dict[str, Any] | None,
    brief: dict[str, Any] | None,
    errors: list[ContentError],
) -> None:
    """The cross-file identity checks (slug, ids, own paths), over whichever files parsed (None: did not)."""
    paths, slug, year = source.paths, source.slug, source.year
    article_id = f"article:{slug}"
    where = "the directory name" if source.layout == "source" else "the packet file name"
    source_path = f"content/articles/{year}/{slug}/article.md"
    for file, payload in ((paths["artifact"], data), (paths.get("article"), article)):
        if file is None or not isinstance(payload, dict):
            continue
        _expect(errors, file, "slug", payload.get("slug"), slug, f"the slug comes from {where}")
        _expect(errors, file, "id", payload.get("id"), article_id, f"the id comes from {where}")
        if source.layout == "source":
            _expect(errors, file, "sourcePath", payload.get("sourcePath"), source_path, "the file's own location")
    if source.layout == "source" and data is not None:
        brief_path = f"content/articles/{year}/{slug}/agent.md"
        _expect(errors, paths["artifact"], "agentBriefPath", data.get("agentBriefPath"), brief_path,
                "the brief's own location")  # fmt: skip
    if source.layout == "source" and article is not None:
        _expect(errors, paths["article"], "agentArtifact", article.get("agentArtifact"),
                f"/agents/articles/{slug}.json", "the packet path of this slug")  # fmt: skip
    if brief is not None:
        _expect(errors, paths["brief"], "slug", brief.get("slug"), slug, f"the slug comes from {where}")
        _expect(errors, paths["brief"], "articleId", brief.get("articleId"), article_id, f"the id comes from {where}")
        _expect(errors, paths["brief"], "id", brief.get("id"), f"agent-brief:{slug}", f"the id comes from {where}")


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
