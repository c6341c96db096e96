"""The cold mode (``--cold``): garden with the response cache off on each backend, Datasette on the same SQLite
file, the cold plan (:mod:`httpbench.cold`) checked against Datasette, the sequential runs, then the claims feed's
first download on a freshly started garden, and the report (:mod:`httpbench.cold_report`)."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from .cold import COLD, ColdPlan, ColdRequest, prepare_cold
from .cold_report import render
from .cold_runner import ColdSeries, run_cold
from .common import OUT, ROOT, BenchError
from .corpora import Backend, build_databases
from .load import raw_args, run_header
from .peers import ensure_datasette, garden_workers, start_datasette, start_garden, tool_versions
from .procs import Server, servers, wait_quiet
from .runner import feed_downloads

GROUPS = sorted({group for group, _what, _target in COLD.values()})
CACHE_OFF = {"GARDEN_RESPONSE_CACHE_MB": "0"}
PEER = "datasette"


def select(only: str | None) -> set[str]:
    """The cold workloads named by ``--only`` (names or groups, comma list); all of them by default."""
    if not only:
        return set(COLD)
    chosen: set[str] = set()
    for word in (part.strip().lower() for part in only.split(",") if part.strip()):
        named = {name for name, (group, _w, _t) in COLD.items() if word in (name, group)}
        if not named:
            raise BenchError(f"--only {word!r}: with --cold choose among {', '.join([*GROUPS, *COLD])}")
        chosen |= named
    return chosen


def identities(request: ColdRequest, body: Any, rows: list[dict[str, Any]]) -> tuple[Any, Any]:
    """What garden and Datasette returned for ``request``, in comparable form."""
    path = request.path
    if path.startswith(("/articles?", "/articles/")):
        items = body["items"] if "?" in path else [body]
        return [i["slug"] for i in items], [r["slug"] for r in rows]
    if path.startswith(("/claims?", "/claims/")):
        items = body["items"] if "?" in path else [body]
        return [i["claimId"] for i in items], [r["claim_id"] for r in rows]
    if path.startswith("/sources?"):
        return [(i["slug"], i["sourceId"]) for i in body["items"]], [(r["slug"], r["source_id"]) for r in rows]
    if path.startswith("/series/"):
        return [m["slug"] for m in body["members"]], [r["slug"] for r in rows]
    if path.startswith("/topics"):
        mine = [(i["topic"], i["articleCount"], i["claimCount"]) for i in body["items"]]
        return mine, [(r["topic"], r["article_count"], r["claim_count"]) for r in rows]
    raise AssertionError(path)


def same_total(body: Any, rows: list[dict[str, Any]]) -> bool | None:
    """Whether garden's ``total`` equals Datasette's count; None where either has none, or garden's is not exact."""
    if not isinstance(body, dict) or "total" not in body or not rows or "total" not in rows[0]:
        return None
    if body.get("totalRelation", "eq") != "eq":
        return None
    return bool(body["total"] == rows[0]["total"])


def check_cold(plan: ColdPlan, garden: str, peer: str, sample: int) -> None:
    """For up to ``sample`` requests of each workload with a Datasette equivalent: the same rows, same order."""
    with (
        httpx.Client(base_url=garden, timeout=600) as mine,
        httpx.Client(base_url=peer, timeout=600) as theirs,
    ):
        for name, requests in plan.requests.items():
            paired = [request for request in requests if request.peer]
            if not paired:
                continue
            checked = paired[:: max(1, len(paired) // sample)][:sample]
            same = totals = exact = 0
            for request in checked:
                body, rows = mine.get(request.path).json(), theirs.get(str(request.peer)).json().get("rows", [])
                ours, their = identities(request, body, rows)
                same += ours == their
                total = same_total(body, rows)
                totals += total is not None
                exact += bool(total)
            line = (
                f"{name}: Datasette returned the same rows in the same order for {same}/{len(checked)} sampled queries"
            )
            plan.checks.append(line + (f", the same total for {exact}/{totals}" if totals else ""))
            if same < len(checked) or exact < totals:
                plan.warnings.append(f"Datasette's equivalent of {name} differs from garden (see the checks)")


def start_gardens(backends: list[Backend], args: argparse.Namespace, env: dict[str, str], notes: list[str],
                  started: list[Server]) -> dict[str, Server]:  # fmt: skip
    gardens = {}
    for backend in backends:
        server = start_garden(backend, args.cold_workers, env, args.retry_wait, notes)
        started.append(server)
        print(f"{backend.system} serve --workers {args.cold_workers} (cache off) at {server.base}", flush=True)
        gardens[backend.system] = server
    return gardens


def first_feeds(backends: list[Backend], args: argparse.Namespace, env: dict[str, str], notes: list[str],
                started: list[Server]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per backend: a garden started for this alone, one download of the claims feed, the workers' memory."""
    feeds = {}
    for backend in backends:
        [server] = start_gardens([backend], args, env, notes, started).values()
        time.sleep(1)  # let the workers settle before their memory is read
        feeds[backend.system] = feed = feed_downloads(server.base, garden_workers(server), 1)
        print(f"  feed {backend.system}: first download {feed['downloads'][0]['mb_s']:.1f} MB/s", flush=True)
        server.stop()
        started.remove(server)
    return feeds


def measure(args: argparse.Namespace, chosen: set[str], env: dict[str, str], backends: list[Backend],
            db: Path | None, notes: list[str]) -> tuple[ColdPlan, list[ColdSeries], dict[str, Any], bool]:  # fmt: skip
    """Start everything, prepare and check the plan, run it; then the feed on fresh servers."""
    latency = chosen - {"feed"}
    peer_needed = db is not None and bool(latency - {"series"} - {n for n in latency if n.startswith("search")})
    series: list[ColdSeries] = []
    plan = ColdPlan()
    with servers() as started:
        if latency:
            gardens = start_gardens(backends, args, env, notes, started)
            plan, _sample = prepare_cold(next(iter(gardens.values())).base, db, latency, args)
            bases = {name: server.base for name, server in gardens.items()}
            if peer_needed and db is not None:
                datasette = start_datasette(ensure_datasette(args.datasette), db)
                started.append(datasette)
                datasette.wait_ready(datasette.base + "/-/versions.json")
                check_cold(plan, next(iter(bases.values())), datasette.base, 5)
                bases[PEER] = datasette.base
            for line in plan.facts + plan.checks:
                print(line, flush=True)
            # `garden serve` stores the large agent files in a process of its own as it starts (minutes of CPU at
            # 50,000 articles): time nothing until the machine is idle again, or the runs measure that build.
            waited, load = wait_quiet(0.3, 900)
            notes.append(f"waited {waited:.0f} s for the servers' start-up work to end (load then {load:.2f} cores)")
            series = run_cold(plan, bases, PEER if PEER in bases else None, args.cold_timeout, list(COLD))
            for server in gardens.values():
                server.stop()
                started.remove(server)
        feeds = first_feeds(backends, args, env, notes, started) if "feed" in chosen else {}
    return plan, series, feeds, peer_needed


def run_cold_mode(args: argparse.Namespace, chosen: set[str], extra_env: dict[str, str], label: str,
                  started_at: float) -> int:  # fmt: skip
    env = {**extra_env, **CACHE_OFF}
    backends, db, notes = build_databases(args, need_sqlite=True)
    for line in notes:
        print(line, flush=True)
    args.systems = [backend.system for backend in backends]
    plan, series, feeds, with_peer = measure(args, chosen, env, backends, db, notes)
    datasette_path = ensure_datasette(args.datasette) if with_peer else None
    context = {
        **run_header(started_at, tool_versions(datasette_path, None, None, backends)),
        "notes": [*notes, f"garden env: {' '.join(f'{k}={v}' for k, v in env.items())}", *plan.facts],
        "checks": plan.checks,
        "warnings": plan.warnings,
        "peer": PEER if with_peer else None,
    }
    report = render(context, series, feeds, args)
    stem = OUT / f"cold-{args.articles}{label}"
    stem.with_suffix(".md").write_text(report)
    raw = {"args": raw_args(args), "context": context, "series": [asdict(one) for one in series], "feeds": feeds}
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    print()
    print(report)
    print(f"wrote {stem.with_suffix('.md').relative_to(ROOT)} and {stem.with_suffix('.json').name}")
    return 0
