"""What every module of the harness shares: paths, the workload table, the error type, small helpers."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "bench" / "out"
WRK_SCRIPT = ROOT / "bench" / "wrk" / "rotate.lua"
DATASETTE_METADATA = ROOT / "bench" / "datasette" / "metadata.yaml"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IDENTITY = {"Accept-Encoding": "identity"}  # the bytes a client parses, and the ETag of the uncompressed body

#: Workload letter: (what it asks for, its peer or None).
WORKLOADS: dict[str, tuple[str, str | None]] = {
    "A": ("/articles/{slug}", "datasette"),
    "B": ("/agents/articles/{slug}.json", "nginx"),
    "C": ("/claims?topic=T&confidence=high&limit=50", "datasette"),
    "D": ("/articles?topic=T&sort=-updated&limit=20 + next page", "datasette"),
    "E": ("/search?q=W", None),
    "F": ("/agents/feeds/claims.jsonl (MB/s)", None),
    "G": ("B with If-None-Match (304)", None),
    "H": ("/healthz", None),
}
#: The databases garden can be measured on (--backends), in the order they run within a round.
BACKENDS = ("sqlite", "postgresql")
#: Packages whose versions the report lists (those not installed say so).
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "pydantic", "orjson", "httpx")
_STOPWORDS = (
    "about after again against also among and are because been before being between both but can cannot does "
    "doing down during each every for from have having here into its itself just like make more most much "
    "must not now off once only other our out over own same should some such than that the their them then "
    "there these they this those through too under until very was were what when where which while who whom "
    "why will with without you your"
)
TITLE_STOPWORDS = frozenset(_STOPWORDS.split())


class BenchError(Exception):
    """A step that cannot go on: a tool is missing, a server does not start, a request fails."""


def run_command(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def which(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (str(path) for path in (Path("/usr/sbin") / binary, Path("/sbin") / binary) if path.exists()), None
    )


def path_of(url: str) -> str:
    """The path and query of ``url`` (a ``next`` link is absolute)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def get_ok(client: httpx.Client, url: str) -> httpx.Response:
    """GET ``url``; anything but a 200 is a BenchError."""
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return response


def all_items(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    """Every item of a paged list, following ``next``."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = get_ok(client, next_url).json()
        items += body["items"]
        next_url = body.get("next")
    return items


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float, digits: int = 0) -> str:
    return "—" if value != value else f"{value:,.{digits}f}"  # NaN check


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")


def is_garden(name: str) -> bool:
    return name.startswith("garden")
