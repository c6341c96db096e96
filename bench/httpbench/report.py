"""The Markdown report of the wrk workloads: medians over rounds, ratios within a round, the targets' verdicts."""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections.abc import Sequence
from typing import Any

from .common import OUT, WORKLOADS, fmt, is_garden, median, verdict
from .runner import Run, cpu_text


def summarise(runs: list[Run], workers: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Medians over rounds for each (workload, server, variant) at ``workers``."""
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        if run.workers == workers:
            groups.setdefault((run.workload, run.server, run.variant), []).append(run)
    return {
        key: {
            "rps": median([r.rps for r in group]),
            "rps_min": min(r.rps for r in group),
            "rps_max": max(r.rps for r in group),
            "p50": median([r.p50_ms for r in group]),
            "p99": median([r.p99_ms for r in group]),
            "kb": median([r.kb_per_response for r in group]),
            "errors": sum(r.errors for r in group),
            "error_detail": "; ".join(sorted({r.error_detail for r in group if r.error_detail})),
            "stalled": sum(r.stalled for r in group),
            "cpu": (
                median([r.cpu_server for r in group]),
                median([r.cpu_wrk for r in group]),
                median([r.cpu_other for r in group]),
                median([r.cpu_db for r in group]),
            ),
            "urls": group[0].urls,
            "rounds": len(group),
        }
        for key, group in groups.items()
    }


def ratio(runs: list[Run], workers: int, top: tuple[str, str, str], bottom: tuple[str, str, str]) -> float:
    """The median over rounds of req/s(top) ÷ req/s(bottom), each ratio taken within one round."""
    by_key = {(r.round, r.workload, r.server, r.variant): r.rps for r in runs if r.workers == workers}
    values = [
        by_key[(n, *top)] / by_key[(n, *bottom)]
        for n in sorted({r.round for r in runs})
        if (n, *top) in by_key and (n, *bottom) in by_key and by_key[(n, *bottom)] > 0
    ]
    return median(values)


def backend_tag(system: str) -> str:
    """``postgresql`` for ``garden (postgresql)``; ``garden`` for the lone SQLite garden."""
    return system.removeprefix("garden (").removesuffix(")")


def row_flags(row: dict[str, Any]) -> str:
    """⚠ for a summary row with errors, ⏸ for one with stalls."""
    return (" ⚠" if row["errors"] else "") + (" ⏸" if row["stalled"] else "")


def _workload_rows(
    runs: list[Run], table: dict[Any, dict[str, Any]], workers: int, systems: Sequence[str]
) -> list[str]:
    """One row per workload, variant and server: the garden backends, then the peer."""
    out = []
    for letter in WORKLOADS:
        peer = WORKLOADS[letter][1]
        for variant in ("many", "one"):
            labelled = False
            for server in (*systems, peer):
                row = table.get((letter, server or "", variant))
                if row is None or server is None:
                    continue
                versus = ""
                if is_garden(server) and peer and (letter, peer, variant) in table:
                    versus = f"{ratio(runs, workers, (letter, server, variant), (letter, peer, variant)):.2f}×"
                label = "" if labelled else f"{letter} {WORKLOADS[letter][0]}"
                labelled = True
                errors = f"{row['errors']}{row_flags(row)}" + (f" ({row['error_detail']})" if row["errors"] else "")
                if row["stalled"]:
                    errors += f" (stalled in {row['stalled']}/{row['rounds']} rounds)"
                out.append(
                    f"| {label} | {row['urls'] if variant == 'many' else 1} | {server} | {fmt(row['rps'])} | "
                    f"{fmt(row['rps_min'])}–{fmt(row['rps_max'])} | {fmt(row['p50'], 2)} | "
                    f"{fmt(row['p99'], 2)} | {row['kb']:.1f} | {errors} | {cpu_text(*row['cpu'])} | {versus} |"
                )
    return out


def _feed_row(system: str, feed: dict[str, Any]) -> str:
    per = ", ".join(f"{d['mb_s']:.1f}" for d in feed["downloads"])
    first = feed["downloads"][0]
    return (
        f"| F /agents/feeds/claims.jsonl | 1 | {system} | **{feed['mb_s']:.1f} MB/s** (median) | {per} "
        f"| | | {first['mb'] * 1e3:,.0f} ({first['rows']:,} rows) | {feed['errors']} | | |"
    )


def _criteria(
    runs: list[Run], table: dict[Any, dict[str, Any]], workers: int, system: str, feed: dict[str, Any] | None
) -> list[str]:
    """The targets, pass/fail, for one garden backend."""

    def flagged(*keys: tuple[str, str, str]) -> str:
        rows = [table[key] for key in keys if key in table]
        return " (flagged runs ⚠/⏸)" if any(row["errors"] or row["stalled"] for row in rows) else ""

    out = []
    h_many = ("H", system, "many")
    for letter in ("B", "G"):
        value = ratio(runs, workers, (letter, system, "many"), h_many)
        ok = None if value != value else value >= 0.8
        note = flagged((letter, system, "many"), h_many)
        out.append(f"| {letter} ÷ H ({system}, rotating) | {fmt(value, 2)} | ≥ 0.80 | {verdict(ok)}{note} |")
    value = ratio(runs, workers, ("B", system, "many"), ("B", "nginx", "many"))
    out.append(f"| B {system} ÷ nginx (rotating) | {fmt(value, 2)} | (reported) | |")
    for letter in ("A", "C", "D"):
        value = ratio(runs, workers, (letter, system, "many"), (letter, "datasette", "many"))
        p99 = table.get((letter, system, "many"), {}).get("p99", float("nan"))
        judged = None
        if workers == 2 and value == value and p99 == p99:
            judged = value >= 6 and p99 <= 50
        target = "≥ 6× and p99 ≤ 50 ms" + ("" if workers == 2 else " (judged at 2 workers)")
        note = flagged((letter, system, "many"), (letter, "datasette", "many"))
        name = "÷ Datasette (rotating), garden p99" if system == "garden" else f"{system} ÷ Datasette (rotating), p99"
        out.append(f"| {letter} {name} | {fmt(value, 2)}×, {fmt(p99, 1)} ms | {target} | {verdict(judged)}{note} |")
    if feed is not None:
        of = "" if system == "garden" else f", {system}"
        out.append(f"| F feed throughput{of} | {feed['mb_s']:.1f} MB/s | ≥ 50 MB/s | {verdict(feed['mb_s'] >= 50)} |")
    return out


def _backend_comparison(
    runs: list[Run],
    table: dict[Any, dict[str, Any]],
    workers: int,
    systems: Sequence[str],
    feeds: dict[str, dict[str, Any]],
) -> list[str]:
    """Each further garden backend beside the first (postgresql ÷ sqlite): req/s, p99 and the per-round ratio."""
    reference, *others = systems
    out = []
    for other in others:
        heading = f"{backend_tag(other)} ÷ {backend_tag(reference)}"
        out += [
            f"Garden on {backend_tag(other)} ÷ garden on {backend_tag(reference)} (req/s; each ratio is the median "
            "of the per-round ratios):",
            "",
            f"| workload | variant | {reference} req/s · p99 ms | {other} req/s · p99 ms | {heading} |",
            "|---|---|---|---|---|",
        ]
        for letter in WORKLOADS:
            for variant in ("many", "one"):
                one, two = table.get((letter, reference, variant)), table.get((letter, other, variant))
                if one is None or two is None:
                    continue
                value = ratio(runs, workers, (letter, other, variant), (letter, reference, variant))
                flag = row_flags({key: one[key] + two[key] for key in ("errors", "stalled")})
                out.append(
                    f"| {letter} {WORKLOADS[letter][0]} | {'rotating' if variant == 'many' else 'single URL'} | "
                    f"{fmt(one['rps'])} · {fmt(one['p99'], 1)} | {fmt(two['rps'])} · {fmt(two['p99'], 1)} | "
                    f"**{fmt(value, 2)}×**{flag} |"
                )
        if reference in feeds and other in feeds:
            one_mb, two_mb = feeds[reference]["mb_s"], feeds[other]["mb_s"]
            out.append(
                f"| F feed (MB/s) | {len(feeds[other]['downloads'])} downloads | {one_mb:.1f} | {two_mb:.1f} | "
                f"**{two_mb / one_mb:.2f}×** |"
            )
        out.append("")
    return out


def _memory_lines(
    runs: list[Run], workers: int, system: str, mem: dict[str, Any] | None, feed: dict[str, Any] | None
) -> list[str]:
    """A garden backend's worker memory (after the runs, and during F) and how evenly its workers shared the work."""
    out = []
    if mem:
        rss = ", ".join(f"{v:.0f}" for v in mem["after_load_mb"])
        line = (
            f"{system[0].upper()}{system[1:]} memory: supervisor {mem['supervisor_mb']:.0f} MB; workers {rss} MB "
            "(VmRSS after the wrk runs)"
        )
        if feed is not None:
            before = ", ".join(f"{v:.0f}" for v in feed["rss_before_mb"].values())
            peak = ", ".join(f"{v:.0f}" for v in feed["rss_peak_mb"].values())
            line += f"; during F {before} → peak {peak} MB"
        out.append(line + ".")
    shares = [
        max(r.worker_cpu_share)
        for r in runs
        if r.workers == workers and r.server == system and len(r.worker_cpu_share) > 1
    ]
    if shares:
        out.append(
            f"Load balance: the busier worker did {statistics.median(shares):.0%} of the {system} workers' "
            f"CPU work in the median run (worst {max(shares):.0%})."
        )
    return out


def render_header(context: dict[str, Any], runs: list[Run], feeds: dict[int, dict[str, dict[str, Any]]],
                  args: argparse.Namespace) -> list[str]:  # fmt: skip
    """The title, the warnings (errors, stalls, noise), machine, versions, settings and notes."""
    out: list[str] = [f"# garden-api HTTP benchmark: {args.articles:,} articles", ""]
    out.append(f"{context['started']} · {context['elapsed']:.0f} s · commit {context['git']}")
    out.append("")
    out.append(f"Command: `{context['command']}`")
    out.append("")
    all_feeds = [feed for by_system in feeds.values() for feed in by_system.values()]
    total_errors = sum(run.errors for run in runs) + sum(feed["errors"] for feed in all_feeds)
    if total_errors:
        bad = sorted({f"{r.workload}/{r.server}/{r.variant} at {r.workers}w" for r in runs if r.errors})
        out.append(
            f"> **WARNING: {total_errors} errors** (unexpected statuses or socket errors) in: {', '.join(bad)}. "
            "Those rows are marked ⚠; their numbers are not comparable."
        )
        out.append("")
    stalled = sorted(
        {
            f"{r.workload}{'' if r.server == 'garden' else '/' + r.server}/{r.variant} at {r.workers}w"
            for r in runs
            if r.stalled
        }
    )
    if stalled:
        out.append(
            f"> **WARNING: garden stalled in {sum(r.stalled for r in runs)} runs** ({', '.join(stalled)}): it used "
            f"less than {args.stall_cores} core while wrk waited on it, so it was stuck, not busy. Those rows are "
            "marked ⏸; their numbers measure the stall, not the code path."
        )
        out.append("")
    for warning in context.get("warnings", []):
        out.append(f"> **WARNING: {warning}**")
        out.append("")
    noisy = [r for r in runs if r.cpu_other > args.noise_cores]
    if noisy:
        out.append(
            f"> **Note: {len(noisy)} of {len(runs)} runs shared the machine**: processes other than wrk and "
            f"the server under test used more than {args.noise_cores} core during them (worst "
            f"{max(r.cpu_other for r in noisy):.2f} cores). Medians over rounds damp this; the per-run "
            "numbers are in the JSON file."
        )
        out.append("")
    return out + render_settings(context, args)


def render_settings(context: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """Machine, versions, wrk's settings, the backends and the notes."""
    systems = args.systems
    out: list[str] = []
    out.append("Machine: " + " · ".join(f"{k} {v}" for k, v in context["machine"]))
    out.append("")
    out.append("Versions: " + " · ".join(f"{k} {v}" for k, v in context["versions"]))
    out.append("")
    backends = ""
    if systems != ["garden"]:
        backends = (
            f" Garden backends, in round order: {', '.join(backend_tag(system) for system in systems)}, one garden "
            "serve each (only one under load at a time), the extra env applied to every one."
        )
    out.append(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per rotating run, "
        f"{args.single_duration} s per single-URL run, a warm-up of at least {args.warmup} s before each run; "
        f"{args.rounds} rounds, medians shown. Extra garden env: "
        f"{' '.join(args.garden_env) if args.garden_env else 'none'}.{backends}"
    )
    out.append("")
    for line in context["notes"]:
        out.append(f"* {line}")
    out.append("")
    return out


def render_workers(
    workers: int,
    runs: list[Run],
    feeds: dict[int, dict[str, dict[str, Any]]],
    memory: dict[int, dict[str, dict[str, Any]]],
    systems: Sequence[str],
) -> list[str]:
    """One workers count's section: the runs, the backends compared, the targets, memory."""
    out: list[str] = []
    table = summarise(runs, workers)
    feeds_w, memory_w = feeds.get(workers, {}), memory.get(workers, {})
    if not table and not feeds_w:
        return out
    out.append(f"## {workers} worker{'s' if workers > 1 else ''}")
    out.append("")
    out.append(
        "| workload | URLs | server | req/s (median) | min–max | p50 ms | p99 ms | kB/resp | errors "
        "| CPU cores srv/wrk/other | garden ÷ peer |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    out.extend(_workload_rows(runs, table, workers, systems))
    out.extend(_feed_row(system, feeds_w[system]) for system in systems if system in feeds_w)
    out.append("")
    if len(systems) > 1:
        out.extend(_backend_comparison(runs, table, workers, systems, feeds_w))
    out.append("| criterion | measured | target | result |")
    out.append("|---|---|---|---|")
    for system in systems:
        out.extend(_criteria(runs, table, workers, system, feeds_w.get(system)))
    out.append("")
    for system in systems:
        out.extend(_memory_lines(runs, workers, system, memory_w.get(system), feeds_w.get(system)))
    out.append("")
    return out


def render(
    context: dict[str, Any],
    runs: list[Run],
    feeds: dict[int, dict[str, dict[str, Any]]],
    memory: dict[int, dict[str, dict[str, Any]]],
    args: argparse.Namespace,
) -> str:
    """The Markdown report. ``feeds`` and ``memory`` are by workers count, then garden backend."""
    systems = args.systems
    out = render_header(context, runs, feeds, args)
    for workers in args.worker_counts:
        out.extend(render_workers(workers, runs, feeds, memory, systems))
    if context.get("scaling"):
        out.extend(context["scaling"])
    out.append("Equivalence checks (made before the runs):")
    out.append("")
    out.extend(f"* {line}" for line in context["checks"] or ["(none: no peer ran)"])
    out.append("")
    out.append(
        "Columns: *URLs* is how many distinct requests a run rotates over (1: the single-URL case); *CPU "
        "cores* are the average cores used during the run by the server under test, by wrk, and by "
        "everything else on the machine; *garden ÷ peer* is the median of per-round ratios."
        + (
            " For garden on PostgreSQL the server's cores include those of the PostgreSQL processes serving its "
            "connections (shown as *db*), as SQLite's work is inside garden's own processes."
            if "garden (postgresql)" in systems
            else ""
        )
    )
    return "\n".join(out) + "\n"


def scaling_section(articles: int, label: str, runs: list[Run], systems: Sequence[str]) -> list[str]:
    """C and D at this size beside the 1,000-article results of the same label, if those exist."""
    base_file = OUT / f"results-1000{label}.json"
    if articles == 1000 or not base_file.exists():
        return []
    base_runs = [Run(**row) for row in json.loads(base_file.read_text())["runs"]]
    out = [
        f"## Scaling: {articles:,} vs 1,000 articles (garden, rotating; 1,000 from {base_file.name})",
        "",
        "| workers | workload | req/s 1k | req/s now | ratio | p99 ms 1k | p99 ms now |",
        "|---|---|---|---|---|---|---|",
    ]
    for workers in sorted({r.workers for r in runs}):
        now, then = summarise(runs, workers), summarise(base_runs, workers)
        for letter, system in itertools.product(("A", "C", "D", "E"), systems):
            key = (letter, system, "many")
            if key in now and key in then:
                out.append(
                    f"| {workers} | {letter}{'' if system == 'garden' else ' ' + system} | {fmt(then[key]['rps'])} | "
                    f"{fmt(now[key]['rps'])} | {now[key]['rps'] / then[key]['rps']:.2f} | "
                    f"{fmt(then[key]['p99'], 1)} | {fmt(now[key]['p99'], 1)} |"
                )
    out.append("")
    return out
