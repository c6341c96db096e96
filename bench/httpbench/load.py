"""The wrk mode (workloads A–H): start garden per workers count and backend, collect the plan, start and check
the peers, run the interleaved rounds, measure the feed and the memory, write the report."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .checks import compare_gardens, prepare_peers
from .common import OUT, ROOT, WORKLOADS, is_garden
from .corpora import Backend, build_databases, postgres_vacuum_state, safe_url
from .peers import (
    ensure_apt,
    ensure_datasette,
    garden_log_summary,
    garden_workers,
    git_state,
    machine,
    start_datasette,
    start_garden,
    start_nginx,
    tool_versions,
)
from .procs import Server, status_kb, wait_quiet
from .report import render, scaling_section
from .runner import Run, Target, feed_downloads, measure, run_wrk
from .workloads import Plan, etag_drift, prepare_garden


@dataclass
class Load:
    """Everything one wrk-mode invocation gathers on its way to the report."""

    args: argparse.Namespace
    only: set[str]
    extra_env: dict[str, str]
    wrk: str = ""
    nginx: str = ""
    datasette: Path = Path()
    backends: list[Backend] = field(default_factory=list)
    db: Path | None = None
    notes: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    feeds: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)  # workers: garden backend: F
    memory: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    plan: Plan | None = None
    peers: dict[str, Target] = field(default_factory=dict)
    quiet: dict[str, float] = field(default_factory=lambda: {"waits": 0, "seconds": 0.0, "gave_up": 0})

    @property
    def need_nginx(self) -> bool:
        return "B" in self.only

    @property
    def need_datasette(self) -> bool:
        return bool({"A", "C", "D"} & self.only)


def refresh_workers(garden: Target, notes: list[str], where: str, when: str) -> None:
    """Follow uvicorn if it replaced a worker since the last run (and say so in the report)."""
    current = garden_workers(garden.server)
    if current != garden.worker_pids:
        on = "" if garden.name == "garden" else f", {garden.name}"
        notes.append(f"{where}{on}: uvicorn replaced a worker (pids {garden.worker_pids} -> {current}) before {when}")
        garden.worker_pids = current


def garden_memory(garden: Target) -> dict[str, Any]:
    """The supervisor's and each worker's memory (MB) now, and each worker's peak."""
    supervisor = garden.server.pid if garden.worker_pids != [garden.server.pid] else None
    return {
        "supervisor_mb": status_kb(supervisor, "VmRSS") / 1024 if supervisor else 0.0,
        "after_load_mb": [status_kb(pid, "VmRSS") / 1024 for pid in garden.worker_pids],
        "peak_mb": [status_kb(pid, "VmHWM") / 1024 for pid in garden.worker_pids],
    }


def start_gardens(load: Load, workers: int, started: list[Server]) -> list[Target]:
    """One garden per backend, started one after the other; each is idle while another is measured."""
    gardens: list[Target] = []
    for backend in load.backends:
        server = start_garden(backend, workers, load.extra_env, load.args.retry_wait, load.notes)
        started.append(server)
        print(f"{backend.system} serve --workers {workers} at {server.base}", flush=True)
        gardens.append(Target(backend.system, server, backend.database, garden_workers(server)))
    return gardens


def first_plan(load: Load, gardens: list[Target], started: list[Server], static: Path) -> Plan:
    """The plan from the first garden; the peers started and checked against it; the backends compared."""
    args = load.args
    plan = prepare_garden(gardens[0].server.base, static, load.only, args.search_words, args.search_phrases)
    if load.need_nginx:
        load.peers["nginx"] = Target("nginx", start_nginx(load.nginx, static))
        started.append(load.peers["nginx"].server)
    if load.need_datasette and load.db is not None:
        load.peers["datasette"] = Target("datasette", start_datasette(load.datasette, load.db))
        started.append(load.peers["datasette"].server)
    for name, peer_target in load.peers.items():
        peer_target.server.wait_ready(
            peer_target.server.base + ("/-/versions.json" if name == "datasette" else plan.single["B", "garden"])
        )
    prepare_peers(
        plan,
        load.peers["nginx"].server.base if "nginx" in load.peers else None,
        load.peers["datasette"].server.base if "datasette" in load.peers else None,
        static,
        args.check_sample,
    )
    if len(gardens) > 1:
        compare_gardens(plan, {g.name: g.server.base for g in gardens}, args.check_sample)
    load.notes.extend(plan.facts)
    for line in plan.facts + plan.checks:
        print(line, flush=True)
    return plan


def check_drift(load: Load, plan: Plan, gardens: list[Target], checked: list[Target], workers: int) -> None:
    """Another server on the same data must produce the same packets (same ETags)."""
    for garden in checked:
        differ, sample = etag_drift(plan, garden.server.base)
        if differ:
            on = "" if garden.name == "garden" else f", {garden.name}"
            load.notes.append(
                f"{workers} workers{on}: {differ}/{sample} sampled packets have another ETag than under the "
                f"first server, {gardens[0].name} with {load.args.worker_counts[0]} workers (the app changed, "
                "or the backends differ?); G may see 200s"
            )


def wait_for_quiet(load: Load) -> None:
    args, quiet = load.args, load.quiet
    budget = min(args.quiet_wait, args.quiet_budget - quiet["seconds"])
    if budget > 0:
        waited, cores = wait_quiet(args.noise_cores, budget)
        quiet["waits"] += waited > 0.6
        quiet["seconds"] += waited
        quiet["gave_up"] += cores > args.noise_cores


def run_round(load: Load, plan: Plan, gardens: list[Target], workers: int, round_number: int, peers: bool) -> None:
    """Every chosen workload once: each garden backend, then the peer, back to back; rotating, then single URL."""
    args = load.args
    for letter in WORKLOADS:
        if letter not in load.only or letter == "F":
            continue
        wait_for_quiet(load)
        peer = WORKLOADS[letter][1]
        targets = list(gardens)  # in backend order, then the peer: back to back within the round
        if peer and peers and peer in load.peers and (letter, peer) in plan.lines:
            targets.append(load.peers[peer])
        variants = ("many",) if letter == "H" else ("many", "one")  # H is one URL anyway
        for variant in variants:
            for target in targets:
                key = "garden" if is_garden(target.name) else target.name  # one URL list per kind
                lines = plan.lines[letter, key] if variant == "many" else [plan.single[letter, key]]
                if args.warmup > 0:
                    # Before every measured run: long enough for a few passes over the list at the
                    # uncached rate (~1,000 req/s), so each worker has seen each URL; the other
                    # workloads' entries may have pushed these out of the response cache since.
                    warm = max(args.warmup, math.ceil(len(lines) * 4 / 1000))
                    run_wrk(load.wrk, target, lines, plan.expected[letter], warm, args, [])
                if is_garden(target.name):
                    refresh_workers(target, load.notes, f"{workers} workers", f"{letter} in round {round_number}")
                load.runs.append(measure(load.wrk, target, workers, round_number, letter, variant, lines, plan, args))


def finish_workers(load: Load, gardens: list[Target], workers: int, started: list[Server]) -> None:
    """Memory after the runs, the feed (F), then stop this workers count's gardens."""
    load.feeds[workers], load.memory[workers] = {}, {}
    for garden in gardens:
        load.memory[workers][garden.name] = garden_memory(garden)
        if "F" in load.only:
            feed = load.feeds[workers][garden.name] = feed_downloads(
                garden.server.base, garden.worker_pids, load.args.feed_downloads
            )
            print(f"  W={workers} F {garden.name} feed {feed['mb_s']:.1f} MB/s", flush=True)
    for garden in gardens:
        garden.server.stop()
        started.remove(garden.server)
        logged = garden_log_summary(garden.server.log)
        if logged:
            load.notes.append(f"{garden.name} --workers {workers} logged {logged}")


def measure_all(load: Load, started: list[Server]) -> Plan:
    """For each workers count: the gardens, (the first time) the plan and peers, the rounds, F and memory."""
    args, static = load.args, OUT / "static"
    for index, workers in enumerate(args.worker_counts):
        gardens = start_gardens(load, workers, started)
        drift_checked = gardens
        if load.plan is None:
            load.plan = first_plan(load, gardens, started, static)
            drift_checked = gardens[1:]  # the plan's ETags come from the first
        check_drift(load, load.plan, gardens, drift_checked, workers)
        with_peers = args.peers_for_all_workers or index == len(args.worker_counts) - 1
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}/{args.rounds}, {workers} worker(s)", flush=True)
            run_round(load, load.plan, gardens, workers, round_number, with_peers)
        finish_workers(load, gardens, workers, started)
    assert load.plan is not None
    return load.plan


def prepare(load: Load) -> None:
    """The tools, the peers' binaries and the databases."""
    load.wrk = ensure_apt("wrk", "wrk")
    load.nginx = ensure_apt("nginx", "nginx-light")
    load.datasette = ensure_datasette(load.args.datasette)
    load.backends, load.db, load.notes = build_databases(load.args, need_sqlite=load.need_datasette)
    for line in load.notes:
        print(line, flush=True)
    load.args.systems = [backend.system for backend in load.backends]


def closing_notes(load: Load) -> None:
    args, quiet = load.args, load.quiet
    for backend in load.backends:
        if backend.name == "postgresql":
            load.notes.append(f"PostgreSQL after the runs: {postgres_vacuum_state(backend.url)}")
    if quiet["waits"]:
        load.notes.append(
            f"waited {quiet['seconds']:.0f} s in all, before {quiet['waits']:.0f} workloads, for other processes to "
            f"use less than {args.noise_cores} core; went on regardless {quiet['gave_up']:.0f} times (at most "
            f"{args.quiet_wait:.0f} s per workload, {args.quiet_budget:.0f} s in all)"
        )


def command_line() -> str:
    return " ".join(shlex.quote(part) for part in ["python", "bench/http_bench.py", *sys.argv[1:]])


def run_header(started_at: float, versions: list[tuple[str, str]]) -> dict[str, Any]:
    """What every report opens with: when, how long, which commit, the command, the machine, the versions."""
    return {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed": time.monotonic() - started_at,
        "git": git_state(),
        "command": command_line(),
        "machine": machine(),
        "versions": versions,
    }


def raw_args(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments as the JSON file keeps them (no password, no source path)."""
    return {k: safe_url(v) if k == "postgres_url" else v for k, v in vars(args).items() if k != "source"}


def write_report(load: Load, plan: Plan, label: str, started_at: float) -> None:
    args = load.args
    context = {
        **run_header(started_at, tool_versions(load.datasette, load.nginx, load.wrk, load.backends)),
        "notes": load.notes,
        "checks": plan.checks,
        "warnings": plan.warnings,
        "scaling": scaling_section(args.articles, label, load.runs, args.systems),
    }
    report = render(context, load.runs, load.feeds, load.memory, args)
    stem = OUT / f"results-{args.articles}{label}"
    stem.with_suffix(".md").write_text(report)
    raw = {
        "args": raw_args(args),
        "context": context,
        "runs": [asdict(run) for run in load.runs],
        "feeds": load.feeds,
        "memory": load.memory,
    }
    stem.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    print()
    print(report)
    print(f"wrote {stem.with_suffix('.md').relative_to(ROOT)} and {stem.with_suffix('.json').name}")
