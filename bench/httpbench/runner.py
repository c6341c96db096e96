"""Running the load: wrk over a URL list (with the CPU each process used), and the feed downloads of F."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .common import CLK_TCK, OUT, WRK_SCRIPT, BenchError, is_garden, run_command
from .procs import Server, busy_ticks, cpu_ticks, postgres_backends, status_kb, ticks_by_pid, ticks_since
from .workloads import Plan


@dataclass
class Run:
    """One measured wrk run."""

    workers: int
    round: int
    workload: str
    server: str
    variant: str  # "many" (rotating) or "one" (single URL)
    urls: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    kb_per_response: float
    errors: int
    error_detail: str
    cpu_server: float  # cores
    cpu_wrk: float
    cpu_other: float
    worker_cpu_share: list[float] = field(default_factory=list)
    # garden used almost no CPU while wrk waited: the server was stuck, not busy (see the README)
    stalled: bool = False
    cpu_db: float = 0.0  # the PostgreSQL server processes serving garden's connections (part of cpu_server)


@dataclass
class Target:
    """A server the workloads run on: a garden backend or a peer."""

    name: str  # "garden", "garden (sqlite)", "garden (postgresql)", "nginx", "datasette"
    server: Server
    database: str = ""  # PostgreSQL: the database whose server processes work for this garden
    worker_pids: list[int] = field(default_factory=list)  # garden's uvicorn workers

    def db_pids(self) -> list[int]:
        return postgres_backends(self.database) if self.database else []


def run_wrk(
    wrk: str,
    target: Target,
    lines: list[str],
    expected: int,
    seconds: int,
    args: argparse.Namespace,
    worker_pids: list[int],
) -> dict[str, Any]:
    """One wrk run over ``lines``; the Lua summary plus CPU use (cores) of the server, wrk and everything else.

    The server's CPU includes its database's: on PostgreSQL, the server processes serving its connections.
    """
    urls_file = OUT / "wrk-urls.txt"
    urls_file.write_text("\n".join(lines) + "\n")
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        target.server.base,
        "--",
        str(urls_file),
        str(expected),
    ]
    busy0, server0, db0 = busy_ticks(), ticks_by_pid(target.server.pids()), ticks_by_pid(target.db_pids())
    workers0 = [cpu_ticks([pid]) for pid in worker_pids]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = run_command(command, timeout=seconds + 120)
    wall = time.monotonic() - started
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1 = busy_ticks()
    server_seconds = ticks_since(server0, target.server.pids()) / CLK_TCK
    db_seconds = ticks_since(db0, target.db_pids()) / CLK_TCK
    workers1 = [cpu_ticks([pid]) for pid in worker_pids]
    line = next((row for row in result.stdout.splitlines() if row.startswith("WRK_RESULT ")), None)
    if line is None:
        raise BenchError(f"wrk gave no result (status {result.returncode}):\n{result.stdout[-800:]}{result.stderr}")
    summary: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    wrk_seconds = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
    busy_seconds = (busy1 - busy0) / CLK_TCK
    summary["cpu_server"] = (server_seconds + db_seconds) / wall
    summary["cpu_db"] = db_seconds / wall
    summary["cpu_wrk"] = wrk_seconds / wall
    summary["cpu_other"] = max(0.0, busy_seconds - server_seconds - db_seconds - wrk_seconds) / wall
    spent = [after - before for before, after in zip(workers0, workers1, strict=True)]
    summary["worker_cpu_share"] = [round(s / sum(spent), 3) if sum(spent) else 0.0 for s in spent]
    return summary


def measure(
    wrk: str,
    target: Target,
    workers: int,
    round_number: int,
    letter: str,
    variant: str,
    lines: list[str],
    plan: Plan,
    args: argparse.Namespace,
) -> Run:
    name = target.name
    seconds = args.duration if variant == "many" else args.single_duration
    result = run_wrk(wrk, target, lines, plan.expected[letter], seconds, args, target.worker_pids)
    shares = result["worker_cpu_share"] if is_garden(name) else []
    # The server as a whole idle, or one of several workers doing (almost) none of the work: stuck, not busy.
    stalled = is_garden(name) and (
        result["cpu_server"] < args.stall_cores or (len(shares) > 1 and sum(shares) > 0 and min(shares) < 0.05)
    )
    socket_errors = {k: result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts") if result[k]}
    errors = sum(socket_errors.values()) + result["unexpected"]
    detail = ", ".join(
        [f"{k} {v}" for k, v in socket_errors.items()]
        + (
            [f"{result['unexpected']} unexpected status ({result['unexpected_statuses']})"]
            if result["unexpected"]
            else []
        )
    )
    run = Run(
        workers=workers,
        round=round_number,
        workload=letter,
        server=name,
        variant=variant,
        urls=len(lines),
        seconds=result["seconds"],
        requests=result["requests"],
        rps=result["rps"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        kb_per_response=result["bytes"] / max(1, result["requests"]) / 1e3,
        errors=errors,
        error_detail=detail,
        cpu_server=result["cpu_server"],
        cpu_wrk=result["cpu_wrk"],
        cpu_other=result["cpu_other"],
        worker_cpu_share=shares,
        stalled=stalled,
        cpu_db=result["cpu_db"],
    )
    flag = (f"  ERRORS: {detail}" if errors else "") + (
        f"  STALLED: garden used {run.cpu_server:.2f} cores, worker shares {shares}" if stalled else ""
    )
    print(
        f"  W={workers} r{round_number} {letter} {name:9} {variant:4} {run.rps:9.0f} req/s  p50 {run.p50_ms:7.2f} ms"
        f"  p99 {run.p99_ms:7.2f} ms  cpu srv/wrk/other "
        f"{cpu_text(run.cpu_server, run.cpu_wrk, run.cpu_other, run.cpu_db)}{flag}",
        flush=True,
    )
    return run


def cpu_text(server: float, wrk: float, other: float, db: float) -> str:
    """Cores used by the server under test, wrk and everything else; the database's part of the server's, if any."""
    return f"{server:.2f}/{wrk:.2f}/{other:.2f}" + (f" (db {db:.2f})" if db else "")


def feed_downloads(base: str, worker_pids: list[int], downloads: int) -> dict[str, Any]:
    """F: ``downloads`` sequential full downloads of the claims feed, uncompressed; MB/s and worker memory."""
    before = {pid: status_kb(pid, "VmRSS") for pid in worker_pids}
    peak = dict(before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in worker_pids:
                peak[pid] = max(peak[pid], status_kb(pid, "VmRSS"))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rounds = []
    try:
        for _ in range(downloads):
            # curl, not a Python client: at these rates the client's own parsing would be what is measured.
            result = subprocess.run(
                ["curl", "-s", "-o", str(OUT / "feed.jsonl"), "-H", "Accept-Encoding: identity",
                 "-w", "%{http_code} %{size_download} %{time_total}", f"{base}/agents/feeds/claims.jsonl"],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            code, size_text, seconds_text = [*result.stdout.split(), "0", "0", "1"][:3]
            status, size, seconds = int(code), int(size_text), float(seconds_text)
            with (OUT / "feed.jsonl").open("rb") as feed:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: feed.read(1 << 20), b""))
            rounds.append(
                {"status": status, "rows": rows, "mb": size / 1e6, "seconds": seconds, "mb_s": size / 1e6 / seconds}
            )
    finally:
        stop.set()
        sampler.join()
    return {
        "downloads": rounds,
        "mb_s": statistics.median(r["mb_s"] for r in rounds),
        "errors": sum(r["status"] != 200 for r in rounds),
        "rss_before_mb": {str(pid): kb / 1024 for pid, kb in before.items()},
        "rss_peak_mb": {str(pid): kb / 1024 for pid, kb in peak.items()},
    }
