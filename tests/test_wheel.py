"""The project as a package: a wheel built from it, installed (not editable) into a fresh virtual environment,
migrates, ingests and serves from a directory outside the repository, where nothing can be imported from the
source tree.

Installing the wheel's dependencies from the index would be slow and need the network, so the fresh environment
gets only the wheel (``--no-deps``) and a ``.pth`` file naming the site directories where this environment's
copies of those dependencies are installed. A path line in a ``.pth`` file is appended to ``sys.path``, but
the ``.pth`` files inside that directory are not run (the test checks it): the development install's editable
finder, which would import ``app`` from a checkout, never loads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.conftest import CONTENT, ROOT, free_port

pytestmark = pytest.mark.slow

SLUG = "soil-from-the-ground-up"  # an article of content/


def _run(command: list[str | Path], **options: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120,
                            check=False, **options)  # type: ignore[call-overload]  # fmt: skip
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def _dependency_sites() -> list[str]:
    """The site directories holding this environment's copies of garden-api's dependencies."""
    sites: dict[str, None] = {}
    for line in metadata.requires("garden-api") or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            sites[str(Path(str(metadata.distribution(requirement.name).locate_file(""))).resolve())] = None
    return list(sites)


def _build_wheel(work: Path) -> Path:
    """The wheel, built from a copy of what the Dockerfile's build stage copies (no build/ or egg-info is left
    in the checkout, and nothing else of it can end up in the wheel)."""
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("app", "migrations"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
          "--wheel-dir", work / "dist", source])  # fmt: skip
    (wheel,) = (work / "dist").glob("garden_api-*.whl")
    return wheel


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, and this environment's dependencies on its path."""
    work = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(work)
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel])
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(purelib) / "garden_test_dependencies.pth").write_text("\n".join(_dependency_sites()) + "\n")
    return venv


@pytest.fixture
def elsewhere(venv: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the repository, and an environment for the installed ``garden``."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GARDEN_", "PYTHON"))}
    env.update(
        GARDEN_CONTENT_DIR=str(CONTENT),
        GARDEN_CACHE_DIR=str(tmp_path / "cache"),
        GARDEN_TODAY="2026-11-22",
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return cwd, env


def test_the_wheel_holds_the_migrations_inside_the_package(venv: Path, elsewhere: tuple[Path, dict[str, str]]) -> None:
    cwd, env = elsewhere
    probe = (
        "import json, sys, app, app.db, app.migrations; "
        "print(json.dumps({'app': app.__file__, 'migrations': str(app.db.MIGRATIONS_DIR), "
        "'editable': sorted(name for name in sys.modules if name.startswith('__editable__'))}))"
    )
    found = json.loads(_run([venv / "bin" / "python", "-c", probe], cwd=cwd, env=env).stdout)
    installed = venv.resolve()
    assert Path(found["app"]).resolve().is_relative_to(installed), found
    migrations = Path(found["migrations"]).resolve()
    assert migrations.is_relative_to(installed) and migrations.name == "migrations", found
    assert (migrations / "env.py").is_file() and (migrations / "script.py.mako").is_file()
    shipped = sorted(path.name for path in (migrations / "versions").glob("*.py"))
    assert shipped == sorted(path.name for path in (ROOT / "migrations/versions").glob("*.py"))
    assert found["editable"] == [], "the development install's .pth files must not run in the fresh environment"
    script = (venv / "bin" / "garden").read_text(encoding="utf-8").splitlines()[0]
    assert script.startswith("#!") and Path(script[2:].strip()).parent.resolve() == (venv / "bin").resolve()


def test_the_installed_garden_migrates_ingests_and_serves(
    venv: Path, elsewhere: tuple[Path, dict[str, str]], db_url: str
) -> None:
    """On a fresh database: SQLite, and PostgreSQL too when GARDEN_TEST_POSTGRES_URL is set."""
    cwd, env = elsewhere
    env = {**env, "GARDEN_DATABASE_URL": db_url}
    garden = venv / "bin" / "garden"
    assert "newest schema" in _run([garden, "migrate"], cwd=cwd, env=env).stdout
    report = json.loads(_run([garden, "ingest", "--json"], cwd=cwd, env=env).stdout)
    articles = len(list(CONTENT.glob("articles/*/*/article.md")))
    assert report["counts"]["articles"] == articles and articles > 0, report

    port = free_port()
    log = cwd / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(garden), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=cwd,
                                  env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
        while True:
            assert server.poll() is None, f"garden serve exited with {server.returncode}:\n{log.read_text()}"
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"garden serve did not answer within 30 s:\n{log.read_text()}"
                time.sleep(0.1)
        assert ready.status_code == 200, ready.text
        assert ready.json()["corpus"]["articles"] == report["counts"]["public_articles"] > 0, ready.json()
        article = httpx.get(f"{base}/articles/{SLUG}", timeout=5)
        assert article.status_code == 200, article.text
        assert article.json()["slug"] == SLUG
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
