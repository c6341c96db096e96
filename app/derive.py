"""What the publisher derives from an article (DATA-CONTRACT §2.0, §2.6, §2.7): one implementation per rule.

Ingest computes these once and stores them; the REST API and the agent layer read the stored results,
so the two can never disagree. The only input that changes with time is the stale-source rule's (b)
branch (a source accessed more than 730 days before *today*): it is stored with the date from which it
applies (``Finding.active_from``) and resolved against today when read, so a stored corpus never goes
stale in the database while the calendar moves on.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.content.schema import Artifact, Claim, Counterevidence, Evidence, Source

# JavaScript's \s, which the publisher's word count splits on (Python's str.split() differs at the edges).
_JS_WHITESPACE = re.compile(r"[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
# Where the whitespace of Python's str.split() differs from JavaScript's \s: U+001C-U+001F and U+0085 are
# whitespace to Python only, U+FEFF to JavaScript only. A text holding none of them splits the same either way.
_NOT_BOTH_WHITESPACE = ("\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\ufeff")
_SECTION = re.compile(r'<h2 id="([^"]+)">([^<]+)</h2>')
_SPAN = re.compile(r"<span\b[^>]*>")
_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
_ID_ATTR = re.compile(r'\bid="(claim-\d{3})"')
_PLACEHOLDER = re.compile(r"evidence snippet pending", re.IGNORECASE)
ZERO_HASH = "sha256:" + "0" * 64

STATES = ("verified", "contested", "stale", "needs-evidence", "missing-counterevidence", "draft")


def token_estimate(brief_body: str) -> int:
    """ceil(words × 1.35) in float arithmetic over the agent.md body; 0 for an empty body."""
    if any(char in brief_body for char in _NOT_BOTH_WHITESPACE):
        count = len([word for word in _JS_WHITESPACE.split(brief_body) if word])
    else:
        count = len(brief_body.split())  # the same words, several times faster than the regex
    return math.ceil(count * 1.35) if count else 0


def content_hash(article_md: bytes) -> str:
    """Lowercase hex sha256 of the whole article.md."""
    return hashlib.sha256(article_md).hexdigest()


def section_outline(article_body: str) -> list[dict[str, str]]:
    """``[{id, title}]`` for each raw ``<h2 id="…">…</h2>`` in the body; Markdown headings do not count."""
    return [{"id": match.group(1), "title": match.group(2)} for match in _SECTION.finditer(article_body)]


def claim_markers(article_body: str) -> list[str]:
    """The claim ids of every ``<span class="…claim-marker…" id="claim-NNN">`` in document order."""
    markers: list[str] = []
    for tag in _SPAN.finditer(article_body):
        classes = _CLASS_ATTR.search(tag.group(0))
        claim_id = _ID_ATTR.search(tag.group(0))
        if classes and "claim-marker" in classes.group(1) and claim_id:
            markers.append(claim_id.group(1))
    return markers


def utf16_length(text: str) -> int:
    """String length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# Dates in an artifact repeat (a source's ``accessed`` is compared once per claim citing it): parse each once.
_iso_date = functools.lru_cache(maxsize=4096)(dt.date.fromisoformat)


def days_between(start: str, end: str) -> int:
    return (_iso_date(end) - _iso_date(start)).days


@functools.lru_cache(maxsize=4096)
def _days_after(day: str, days: int) -> str | None:
    """The ISO date ``days`` after ``day``, or None past the end of the calendar (year 9999)."""
    try:
        return (_iso_date(day) + dt.timedelta(days=days)).isoformat()
    except OverflowError:
        return None


def _utf16_longer_than(text: str, limit: int) -> bool:
    """``utf16_length(text) > limit``; a character is one or two UTF-16 code units, so the length often decides."""
    return len(text) > limit or (2 * len(text) > limit and utf16_length(text) > limit)


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnostic finding. ``active_from`` set: the finding applies only from that date on.

    ``origin`` is ``generator`` for the publisher's diagnostics (§2.6, served in diagnostics.json) and
    ``ingest`` for the cross-file checks that the publisher's validator makes and that §0 turns from
    rejections into diagnostics (status disagreement, brief claim lines, token budget).
    """

    rule: str
    severity: str
    message: str
    claim_id: str | None = None
    active_from: str | None = None
    origin: str = "generator"

    def is_active(self, today: dt.date) -> bool:
        return self.active_from is None or self.active_from <= today.isoformat()


def _provenance_findings(artifact: Artifact, prefix: str, public: bool, current_hash: str) -> list[Finding]:
    severity = "error" if public else "warning"
    findings: list[Finding] = []
    for index, agent in enumerate(artifact.provenance.agents):
        if ZERO_HASH in (agent.inputHash, agent.outputHash):
            findings.append(
                Finding(
                    "provenance-hash-zero",
                    severity,
                    f"{prefix}: provenance agent {index} ({agent.role}) has an all-zero hash.",
                )
            )
        if agent.inputHash == agent.outputHash:
            findings.append(
                Finding(
                    "provenance-hash-equal",
                    severity,
                    f"{prefix}: provenance agent {index} ({agent.role}) has inputHash equal to outputHash.",
                )
            )
    approvals = [r for r in artifact.provenance.reviews if r.reviewer == "human" and r.status == "approved"]
    if public and not approvals:
        findings.append(
            Finding("unapproved-publication", severity, f"{prefix}: published without a human approved review.")
        )
    if approvals:
        latest = sorted(approvals, key=lambda review: review.reviewedAt, reverse=True)[0]
        if latest.contentHash is None:
            findings.append(
                Finding(
                    "provenance-contentHash-missing",
                    severity,
                    f"{prefix}: the latest human approval ({latest.reviewedAt}) has no contentHash.",
                )
            )
        elif latest.contentHash != current_hash:
            findings.append(
                Finding(
                    "provenance-contentHash-mismatch",
                    "error",
                    f"{prefix}: the latest human approval ({latest.reviewedAt}) does not match the current "
                    "article.md hash.",
                )
            )
    return findings


def _orphan_findings(artifact: Artifact, prefix: str, markers: Sequence[str] | None) -> list[Finding]:
    if markers is None:  # a packet carries no article body to look for markers in
        return []
    claim_ids = [claim.id for claim in artifact.claims]
    marker_set, claim_set = set(markers), set(claim_ids)
    findings = [
        Finding("orphan-claim", "error", f"{prefix}: {cid} has no claim marker in article.md.")
        for cid in claim_ids
        if cid not in marker_set
    ]
    findings += [
        Finding("orphan-claim", "error", f"{prefix}: claim marker {cid} has no matching artifact claim.")
        for cid in dict.fromkeys(markers)
        if cid not in claim_set
    ]
    return findings


def _claim_findings(
    artifact: Artifact, claim: Claim, prefix: str, public: bool, sources: dict[str, Source], accepted: set[str]
) -> list[Finding]:
    """The claim's findings but the warnings accepted (see :func:`_accepted`); ``sources`` are the artifact's, by id."""
    cid = claim.id
    verification = claim.verification.status if claim.verification else None
    found: list[Finding] = []

    def add(rule: str, severity: str, text: str, active_from: str | None = None) -> None:
        if severity == "warning" and (f"{rule}:article" in accepted or f"{rule}:{cid}" in accepted):
            return
        found.append(Finding(rule, severity, f"{prefix}: {cid} {text}", cid, active_from))

    if not claim.evidence:
        add("empty-evidence", "error", "has no evidence.")
    if (claim.confidence == "high" or claim.status == "risk") and not claim.counterevidence:
        add(
            "missing-counterevidence",
            "warning",
            f"is {claim.confidence}-confidence {claim.status} with no counterevidence.",
        )
    if verification == "draft" and artifact.status == "published":
        add("published-article-with-draft-claim", "warning", "is still draft in a published article.")
    if public and claim.verification is None:
        add("published-claim-missing-verification", "error", "is published without verification.")
    if verification == "verified" and claim.evidence and all(_PLACEHOLDER.search(e.snippet) for e in claim.evidence):
        add(
            "verified-claim-placeholder-evidence",
            "error",
            "is verified but its evidence is only placeholder snippets.",
        )
    packets: list[Evidence | Counterevidence] = [*claim.evidence, *claim.counterevidence]
    for packet in packets:
        if packet.sourceId is not None and packet.sourceId not in sources:
            add(
                "dangling-graph-edge",
                "error",
                f"cites {packet.sourceId}, which is not in this article's sources.",
            )
    for evidence in claim.evidence:
        if len(evidence.snippet.strip()) < 12:
            add(
                "missing-evidence-snippet",
                "warning",
                f"evidence from {evidence.sourceId} has no usable snippet.",
            )
    for evidence in claim.evidence:
        if _utf16_longer_than(evidence.snippet, 300):
            add("snippet-too-long", "warning", "evidence snippet exceeds 300 characters.")
    _citation_findings(artifact, claim, sources, add)
    for counter in claim.counterevidence:
        if len(counter.summary.strip()) < 12:
            add(
                "counterevidence-missing-qualification",
                "warning",
                "has counterevidence without a usable summary.",
            )
    return found


def _citation_findings(artifact: Artifact, claim: Claim, sources: dict[str, Source], add: Callable[..., None]) -> None:
    """The findings about the sources a claim's evidence cites: repeated, stale, too few."""
    cited = [e.sourceId for e in claim.evidence]
    repeated = [sid for sid in dict.fromkeys(cited) if cited.count(sid) > 1]
    if repeated:
        add("duplicate-evidence-source", "warning", f"cites {', '.join(repeated)} more than once.")
    resolved = [sources[sid] for sid in dict.fromkeys(cited) if sid in sources]
    old = [s for s in resolved if days_between(s.accessed, artifact.updatedAt) > 365]
    if old:
        add(
            "stale-source",
            "warning",
            f"cites {', '.join(s.id for s in old)}, accessed more than 365 days before the article's update.",
        )
    oldest = min(resolved, key=lambda s: s.accessed) if resolved else None
    stale_from = _days_after(oldest.accessed, 731) if oldest else None
    if oldest and stale_from:
        add(
            "stale-source",
            "warning",
            f"cites {oldest.id}, accessed {oldest.accessed}, more than 730 days ago.",
            active_from=stale_from,
        )
    if claim.evidence and len(set(cited)) == 1:
        add("low-source-diversity", "warning", "relies on a single source for evidence.")
    if claim.evidence and len({s.type for s in resolved}) == 1:
        add("low-source-diversity", "warning", "relies on a single source type for evidence.")


def _accepted(artifact: Artifact) -> set[str]:
    """``rule:article`` and ``rule:<claimId>`` keys of the warnings the author accepted."""
    keys: set[str] = set()
    if artifact.diagnostics is None:
        return keys
    for entry in artifact.diagnostics.accepted:
        scope = entry.scope
        scopes = ["article"] if scope is None else [scope] if isinstance(scope, str) else scope
        keys.update(f"{entry.rule}:{item}" for item in scopes)
    return keys


def diagnose(
    artifact: Artifact,
    *,
    year: str,
    slug: str,
    public: bool,
    current_hash: str,
    markers: Sequence[str] | None,
) -> list[Finding]:
    """Every finding for one article in the publisher's order, accepted warnings removed (§2.6)."""
    prefix = f"{year}/{slug}"
    accepted = _accepted(artifact)
    findings = _provenance_findings(artifact, prefix, public, current_hash)
    findings += _orphan_findings(artifact, prefix, markers)
    sources = {source.id: source for source in artifact.sources}
    for claim in artifact.claims:
        findings += _claim_findings(artifact, claim, prefix, public, sources, accepted)
    return findings


@dataclass(frozen=True, slots=True)
class ClaimState:
    """A claim's state (§2.7) as stored: ``base`` today, or ``stale`` from ``stale_from`` on."""

    base: str
    stale_from: str | None

    def on(self, today: dt.date) -> str:
        if self.stale_from is not None and self.stale_from <= today.isoformat():
            return "stale"
        return self.base


def claim_state(verification_status: str | None, findings: Sequence[Finding]) -> ClaimState:
    """The first matching rule of §2.7 wins; only the date-bound stale-source finding is left open."""
    if verification_status in ("verified", "contested", "stale"):
        return ClaimState(verification_status, None)
    rules = {f.rule for f in findings if f.active_from is None}
    if rules & {"empty-evidence", "missing-evidence-snippet"}:
        return ClaimState("needs-evidence", None)
    if "missing-counterevidence" in rules:
        return ClaimState("missing-counterevidence", None)
    if "stale-source" in rules:
        return ClaimState("stale", None)
    dated = [f.active_from for f in findings if f.active_from is not None and f.rule == "stale-source"]
    return ClaimState("draft", min(dated) if dated else None)


_BRIEF_CLAIM_LINE = re.compile(r"^- `(claim-\d{3})`: (.*)$", re.MULTILINE)
_BRIEF_CLAIM_TEXT = re.compile(r"- `(claim-\d{3})`: (.*)$", re.MULTILINE)  # found by its literal start: faster


def _brief_claim_lines(brief_body: str) -> list[tuple[str, str]]:
    """``_BRIEF_CLAIM_LINE.findall(brief_body)``: a match runs to the end of its line, so the line-start matches
    are the ones the unanchored pattern finds at a line start."""
    found = _BRIEF_CLAIM_TEXT.finditer(brief_body)
    return [(m[1], m[2]) for m in found if m.start() == 0 or brief_body[m.start() - 1] == "\n"]


def _normalise_space(text: str) -> str:
    return " ".join(_JS_WHITESPACE.split(text)).strip()


def consistency_findings(
    artifact: Artifact,
    *,
    year: str,
    slug: str,
    statuses: dict[str, str],
    brief_body: str | None,
    token_budget: int | None,
    tokens: int,
    stored_hash: str,
    current_hash: str,
) -> list[Finding]:
    """The validator's cross-file checks that §0 keeps as diagnostics rather than rejections."""
    prefix = f"{year}/{slug}"
    findings: list[Finding] = []
    if len(set(statuses.values())) > 1:
        said = ", ".join(f"{name} says {value}" for name, value in statuses.items())
        findings.append(
            Finding(
                "status-mismatch",
                "error",
                f"{prefix}: the files disagree on status ({said}).",
                origin="ingest",
            )
        )
    if stored_hash != current_hash:
        findings.append(
            Finding(
                "content-hash-rewritten",
                "warning",
                f"{prefix}: artifact contentHash {stored_hash[:12]}… is stale; served as {current_hash[:12]}….",
                origin="ingest",
            )
        )
    if token_budget is not None and tokens > token_budget:
        findings.append(
            Finding(
                "brief-over-budget",
                "error",
                f"{prefix}: agent.md is about {tokens} tokens, over its tokenBudget of {token_budget}.",
                origin="ingest",
            )
        )
    if brief_body is not None:
        listed = {cid: text for cid, text in _brief_claim_lines(brief_body)}
        claims = {claim.id: claim.claim for claim in artifact.claims}
        for cid, text in listed.items():
            if cid in claims and text != claims[cid] and _normalise_space(text) != _normalise_space(claims[cid]):
                findings.append(
                    Finding(
                        "brief-claim-mismatch",
                        "error",
                        f"{prefix}: agent.md states {cid} differently from artifact.json.",
                        claim_id=cid,
                        origin="ingest",
                    )
                )
        if listed:
            for cid in claims:
                if cid not in listed:
                    findings.append(
                        Finding(
                            "brief-claim-omitted",
                            "warning",
                            f"{prefix}: agent.md does not list {cid}.",
                            claim_id=cid,
                            origin="ingest",
                        )
                    )
    return findings


def keyword_text(artifact: Artifact, summary: str | None, tags: Sequence[str]) -> str:
    """What the "keyword" dimension matches (§2.8): title, summary, thesis, topics, tags, claims and source
    titles joined with spaces, lowercased so that a lowercased query matches case-insensitively."""
    parts = [artifact.title, summary or "", artifact.thesis, *artifact.topics, *tags]
    parts += [claim.claim for claim in artifact.claims] + [source.title for source in artifact.sources]
    return " ".join(parts).lower()


def graph_edges(artifact: Artifact) -> list[tuple[str, str, str, str]]:
    """The article's graph edges (from, type, to, reviewedAt), each ``from:type:to`` once (§2.4).

    Every edge names its own article at one end, so duplicates can only come from within one article; they
    are merged here, the last occurrence giving reviewedAt, as the publisher's generator merges them.
    """
    article_id, updated = artifact.id, artifact.updatedAt
    edges = [(article_id, "covers", f"topic:{topic}", updated) for topic in artifact.topics]
    for claim in artifact.claims:
        node = f"{article_id}:{claim.id}"
        edges.append((article_id, "argues", node, updated))
        edges += [(e.sourceId, "supports", node, e.assessedAt or updated) for e in claim.evidence]
        edges += [(c.sourceId, "contests", node, c.assessedAt or updated) for c in claim.counterevidence if c.sourceId]
    edges += [(article_id, related.type, related.id, updated) for related in artifact.related]
    merged: dict[tuple[str, str, str], str] = {}
    for source, kind, target, reviewed in edges:
        merged[(source, kind, target)] = reviewed
    return [(source, kind, target, reviewed) for (source, kind, target), reviewed in merged.items()]


# Bump when a rule above changes what is stored: the next ingest then re-derives every article.
DERIVATION_VERSION = 6


def concerns_claim(rule: str, finding_claim_id: str | None, message: str, claim_id: str) -> bool:
    """Whether a finding belongs to a claim (§2.7): its claimId, or an orphan-claim message naming the claim."""
    return finding_claim_id == claim_id or (rule == "orphan-claim" and claim_id in message)


_H2 = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)


def brief_sections(brief_body: str) -> list[dict[str, str]]:
    """The brief cut at its ``## `` headings: ``[{heading, markdown}]``; text before the first is "(preamble)"."""
    sections: list[dict[str, str]] = []
    matches = list(_H2.finditer(brief_body))
    preamble = brief_body[: matches[0].start()] if matches else brief_body
    if preamble.strip():
        sections.append({"heading": "(preamble)", "markdown": preamble.strip()})
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(brief_body)
        sections.append({"heading": match.group(1), "markdown": brief_body[match.end() : end].strip()})
    return sections


def brief_claims(brief_body: str) -> list[dict[str, str]]:
    """The claim lines a brief lists (``- `claim-NNN`: text``), in order."""
    return [{"id": cid, "claim": text} for cid, text in _BRIEF_CLAIM_LINE.findall(brief_body)]
