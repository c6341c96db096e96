"""An oracle read straight from a content tree's files, without the service's code: the public articles in dir
order with their index entries, the claims and sources feed rows, and each claim's state.

It follows the publisher's rules as its contract states them (index entries, feeds, claim state), so that the
tests that compare the API with the publisher's derived files (``corpus/expected``) can run on our own
``content/`` too. ``tests/test_oracle.py`` checks it against the publisher's own files where ../shared is there.

Claim states: only the first three rules of the contract are followed (an explicit ``verification.status`` of
verified, contested or stale wins); a claim without one has a state that depends on diagnostics, which the
oracle does not compute, so reading a tree that holds such a claim fails loudly instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SITE = "https://aura-knowledge.github.io"  # the default GARDEN_SITE_URL
FRONT_MATTER = re.compile(r"---\r?\n(.*?)\r?\n---\r?\n?(.*)", re.DOTALL)
EXPLICIT_STATES = ("verified", "contested", "stale")


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    """(front matter with dates as YYYY-MM-DD strings, body) of a Markdown file."""
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    assert match, f"{path} has no front matter"
    data = yaml.safe_load(match.group(1))
    return {key: _iso(value) for key, value in data.items()}, match.group(2)


@dataclass(frozen=True)
class RawArticle:
    directory: Path
    fm: dict[str, Any]
    artifact: dict[str, Any]
    brief_body: str
    article_md: bytes

    @property
    def slug(self) -> str:
        return self.directory.name

    @property
    def public(self) -> bool:
        """Published in both front matter and artifact (the contract's "P" articles)."""
        return self.fm["status"] == "published" and self.artifact["status"] == "published"

    def entry(self, site: str = SITE) -> dict[str, Any]:
        """The index.json entry, keys in the contract's order."""
        a = self.artifact
        return {
            "id": a["id"], "slug": self.slug, "title": a["title"], "summary": self.fm["summary"],
            "status": a["status"], "maturity": a["maturity"], "topics": a["topics"], "tags": self.fm["tags"],
            "canonicalPath": a["canonicalPath"], "articleUrl": site + a["canonicalPath"],
            "agentJsonPath": f"/agents/articles/{self.slug}.json",
            "agentMarkdownPath": f"/agents/articles/{self.slug}.md", "updatedAt": a["updatedAt"],
            "claimCount": len(a["claims"]), "sourceCount": len(a["sources"]),
            "tokenEstimate": math.ceil(len(self.brief_body.split()) * 1.35),
            "contentHash": hashlib.sha256(self.article_md).hexdigest(),
        }  # fmt: skip

    def claim_rows(self, site: str = SITE) -> list[dict[str, Any]]:
        """The claims.jsonl rows of this article, in artifact order."""
        a, rows = self.artifact, []
        for claim in a["claims"]:
            dates = sorted(p["assessedAt"] for p in claim["evidence"] if "assessedAt" in p)
            rows.append({
                "articleId": a["id"], "slug": self.slug, "claimId": f"{a['id']}:{claim['id']}",
                "localClaimId": claim["id"], "claim": claim["claim"], "confidence": claim["confidence"],
                "status": claim["status"],
                "verificationStatus": (claim.get("verification") or {}).get("status", "draft"),
                "asOf": dates[-1] if dates else None, "evidenceCount": len(claim["evidence"]),
                "counterevidenceCount": len(claim["counterevidence"]), "articleUrl": site + a["canonicalPath"],
            })  # fmt: skip
        return rows

    def source_rows(self, site: str = SITE) -> list[dict[str, Any]]:
        """The sources.jsonl rows of this article, in artifact order (keys absent from a source are omitted)."""
        a, rows = self.artifact, []
        for source in a["sources"]:
            row = {"articleId": a["id"], "slug": self.slug, "sourceId": source["id"]}
            row |= {key: source[key] for key in ("title", "type", "url", "accessed") if key in source}
            rows.append(row | {"articleUrl": site + a["canonicalPath"]})
        return rows

    def states(self) -> dict[str, str]:
        """{local claim id: claim state}, for claims with an explicit verification status."""
        out = {}
        for claim in self.artifact["claims"]:
            status = (claim.get("verification") or {}).get("status")
            assert status in EXPLICIT_STATES, (
                f"{self.directory}: {claim['id']} has verification status {status!r}; the oracle reads only "
                f"{EXPLICIT_STATES} (other states depend on diagnostics)"
            )
            out[claim["id"]] = status
        return out


def read_tree(content: Path) -> list[RawArticle]:
    """Every article under ``content/articles/<year>/<slug>/``, in dir order (year, then slug)."""
    directories = sorted(path for path in (content / "articles").glob("*/*") if path.is_dir())
    assert directories, f"no articles under {content}"
    out = []
    for directory in directories:
        fm, _ = split_front_matter(directory / "article.md")
        _, brief = split_front_matter(directory / "agent.md")
        artifact = json.loads((directory / "artifact.json").read_text(encoding="utf-8"))
        out.append(RawArticle(directory, fm, artifact, brief, (directory / "article.md").read_bytes()))
    return out
