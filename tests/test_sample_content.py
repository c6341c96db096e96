"""content/ (our own sample corpus) passes the publisher's JSON Schemas and covers what the issue asks for."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import CONTENT, SCHEMAS, need_shared

ARTICLE_DIRS = sorted((CONTENT / "articles").glob("*/*"))


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text.split("---\n", 2)[1])
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((need_shared(SCHEMAS) / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_every_file_passes_the_publishers_schema() -> None:
    """Every file of every article (one test, so that a checkout without ../shared skips one test, not 13)."""
    validators = {
        name: _validator(name) for name in ("article.schema.json", "agent.schema.json", "artifact.schema.json")
    }
    problems = []
    for article_dir in ARTICLE_DIRS:
        checks = [
            ("article.schema.json", _front_matter(article_dir / "article.md")),
            ("agent.schema.json", _front_matter(article_dir / "agent.md")),
            ("artifact.schema.json", json.loads((article_dir / "artifact.json").read_text(encoding="utf-8"))),
        ]
        for schema, data in checks:
            problems += [
                f"{article_dir.name} {schema} {'/'.join(map(str, e.path))}: {e.message}"
                for e in validators[schema].iter_errors(data)
            ]
    assert len(ARTICLE_DIRS) >= 13
    assert problems == []


def test_the_sample_covers_every_case_the_service_must_handle() -> None:
    artifacts = [json.loads((d / "artifact.json").read_text(encoding="utf-8")) for d in ARTICLE_DIRS]
    assert len(artifacts) >= 8
    series: dict[str, set[str]] = {}
    for artifact in artifacts:
        if "series" in artifact:
            series.setdefault(artifact["series"]["slug"], set()).add(artifact["series"]["role"])
    assert len(series) >= 2
    assert any({"guide", "chapter", "appendix"} <= roles for roles in series.values())
    assert any("series" not in a and a["status"] == "published" for a in artifacts)  # a standalone article
    statuses = [a["status"] for a in artifacts]
    assert "draft" in statuses and "archived" in statuses
    claims = [c for a in artifacts for c in a["claims"]]
    assert {c["confidence"] for c in claims} == {"low", "medium", "medium-high", "high"}
    verification = [c.get("verification", {}).get("status") for c in claims]
    assert "contested" in verification and "stale" in verification
    assert any(c["confidence"] == "high" and not c["counterevidence"] for c in claims)
