"""/docs and /redoc work with no outside network: their JavaScript, CSS and favicon come from this server.

The browser test opens both pages in headless Chromium (Debian's ``chromium``) against a real ``garden serve``,
with every host but 127.0.0.1 mapped to nothing, waits for the page to render, and reads two things: the DOM it
dumps (Swagger UI's operation blocks, ReDoc's operation sections, one per operation of the OpenAPI document) and
Chromium's network log (every URL the pages asked for, and every TCP connection the browser opened: none beyond
127.0.0.1).
Without chromium the test skips with its reason, except in CI (``CI=true``), where it fails: .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import api_client, running_server


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium is not installed (Debian: apt-get install chromium): /docs and /redoc were not rendered"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason}; in CI it must be: .ci/run installs it")
    pytest.skip(reason)


def _render(chromium: str, url: str, workdir: Path) -> tuple[str, Path]:
    """The DOM of ``url`` once rendered, and Chromium's network log of it."""
    net_log = workdir / "net-log.json"
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
        "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
        "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
        f"--user-data-dir={workdir / 'profile'}",
        # The outside network is unavailable: every host name resolves to nothing, 127.0.0.1 is reached directly.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--log-net-log={net_log}", "--net-log-capture-mode=Default",
        "--virtual-time-budget=30000", "--dump-dom", url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, net_log


def _network(net_log: Path, page: str) -> tuple[set[str], set[str]]:
    """(every URL the page asked for: the page itself and what it loaded, every address the browser opened a TCP
    connection to) in a Chromium network log. Chromium's own service traffic (network time, component updates,
    account list: requests with no initiating origin) is the browser's, not the page's; the resolver rule stops it,
    and the TCP connections show that nothing at all left."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    asked, connected = set(), set()
    for event in log["events"]:
        name, params = names.get(event["type"]), event.get("params") or {}
        url = params.get("url")
        if name == "URL_REQUEST_START_JOB" and url and (params.get("initiator") != "not an origin" or url == page):
            asked.add(url)
        elif name in ("TCP_CONNECT_ATTEMPT", "TCP_CONNECT") and (params.get("address") or params.get("remote_address")):
            connected.add(params.get("address") or params["remote_address"])
    return asked, connected


def test_pages_name_only_local_assets(content_db: str) -> None:
    """No CDN, no web font: every script, stylesheet and icon of both pages is served here."""
    with api_client(content_db) as client:
        for page in ("/docs", "/redoc"):
            response = client.get(page)
            html = response.text
            assert "https://" not in html and "http://" not in html, page
            assert response.headers["content-security-policy"].startswith("default-src 'self';")
            assets = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
            for asset in assets:
                response = client.get(asset)
                assert response.status_code == 200, asset
                assert len(response.content) > 1000, asset
                kind = response.headers["content-type"]
                assert kind.startswith(("text/javascript", "application/javascript", "text/css", "image/")), kind
        redirect = client.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200 and "oauth2" in redirect.text


@pytest.mark.slow
def test_docs_render_in_headless_chromium_without_the_outside_network(content_db: str, tmp_path: Path) -> None:
    chromium = _chromium()
    with running_server(content_db, tmp_path / "serve.log") as base:
        spec = httpx.get(f"{base}/openapi.json").json()
        operations = [op for item in spec["paths"].values() for op in item.values()]
        rendered = {}
        for page in ("docs", "redoc"):
            workdir = tmp_path / page
            workdir.mkdir()
            dom, net_log = _render(chromium, f"{base}/{page}", workdir)
            asked, connected = _network(net_log, f"{base}/{page}")
            assert [url for url in asked if urlsplit(url).hostname != "127.0.0.1"] == [], f"/{page} asked beyond"
            assert connected and all(address.startswith("127.0.0.1:") for address in connected), connected
            assert f"{base}/openapi.json" in asked and any(u.startswith(f"{base}/docs/assets/") for u in asked)
            rendered[page] = dom
    swagger_blocks = re.findall(r'class="opblock opblock-(?:get|head|post|put|delete|patch)\b', rendered["docs"])
    assert len(swagger_blocks) == len(operations), "Swagger UI did not render every operation"
    assert "/articles/{slug}/claims" in rendered["docs"]
    redoc_sections = set(re.findall(r'data-section-id="(?:tag/[^"]*/)?operation/([^"]*)"', rendered["redoc"]))
    assert redoc_sections == {op["operationId"] for op in operations}, "ReDoc did not render every operation"
    summaries = [op["summary"] for op in operations if op["summary"].isascii() and "&" not in op["summary"]]
    assert summaries and all(summary in rendered["redoc"] for summary in summaries[:10])
