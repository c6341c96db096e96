"""The cold report: latency percentiles and statuses per workload and system, the ratios to Datasette, and the
targets' verdicts (issue 13).

Percentiles are nearest-rank over the requests of one run (with 30 requests the p99 is the slowest). Garden ÷
Datasette is the median over requests of Datasette's time ÷ garden's for the same logical query (both answered
200), so that one slow query on either side does not decide it; the ratio of the p99s is shown beside it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .cold import COLD
from .cold_runner import ColdSeries
from .common import fmt, is_garden, median, verdict

MIN_QUERIES = 30  # the least number of distinct queries per kind for a verdict
LIST_RATIO = 5.0  # lists: at least this many times faster than Datasette
POSTGRES_FACTOR = 2.0  # PostgreSQL's p99 within this factor of SQLite's (search and lists)
POSTGRES_MAX_MS = 250.0
FEED_MB_S, FEED_GROWTH_MB = 100.0, 50.0


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats(series: ColdSeries) -> dict[str, Any]:
    ms = [t.ms for t in series.timings]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms, default=float("nan")),
        "statuses": dict(sorted(Counter(t.status for t in series.timings).items())),
        "flagged": [t for t in series.timings if t.flagged],
    }


def paired_ratio(garden: ColdSeries, peer: ColdSeries) -> float:
    """The median over requests of peer ms ÷ garden ms, for requests both answered 200."""
    theirs = {t.index: t.ms for t in peer.timings if t.status == 200}
    return median([theirs[t.index] / t.ms for t in garden.timings if t.status == 200 and t.index in theirs and t.ms])


def index_series(series: list[ColdSeries]) -> dict[tuple[str, str], ColdSeries]:
    return {(one.workload, one.system): one for one in series}


def statuses_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{status or 'error'}×{n}" for status, n in row["statuses"].items())


def latency_rows(series: list[ColdSeries], systems: Sequence[str], peer: str | None) -> list[str]:
    by_key = index_series(series)
    out = [
        "| workload | system | URLs | statuses | p50 ms | p95 ms | p99 ms | max ms | flagged | Datasette ÷ garden "
        "(median per request · of p99) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in COLD:
        for system in (*systems, *([peer] if peer else [])):
            one = by_key.get((name, system))
            if one is None:
                continue
            row, versus = stats(one), ""
            other = by_key.get((name, peer)) if peer else None
            if is_garden(system) and other is not None:
                theirs = stats(other)
                versus = f"**{fmt(paired_ratio(one, other), 1)}×** · {fmt(theirs['p99'] / row['p99'], 1)}×"
            flagged = len(row["flagged"])
            why = "; ".join(sorted({t.flagged for t in row["flagged"]}))
            out.append(
                f"| {name} | {system} | {one.urls} | {statuses_text(row)} | {fmt(row['p50'], 1)} | "
                f"{fmt(row['p95'], 1)} | {fmt(row['p99'], 1)} | {fmt(row['max'], 1)} | "
                f"{f'{flagged} ⚠ ({why})' if flagged else 0} | {versus} |"
            )
    return out


def workload_verdicts(series: list[ColdSeries], systems: Sequence[str], peer: str | None) -> list[str]:
    """Per garden system and workload: the p99 target, at least 30 queries, nothing flagged; lists ≥ 5× Datasette."""
    by_key, out = index_series(series), []
    for system in systems:
        for name, (group, _what, target) in COLD.items():
            one = by_key.get((name, system))
            if one is None or group == "feed":
                continue
            row = stats(one)
            ok = row["p99"] <= target and not row["flagged"] and (row["n"] >= MIN_QUERIES or name == "series-item")
            measured = f"p99 {fmt(row['p99'], 1)} ms over {row['n']}, {len(row['flagged'])} flagged"
            wanted = f"p99 ≤ {target:.0f} ms, ≥ {MIN_QUERIES} queries, none flagged"
            other = by_key.get((name, peer)) if peer else None
            if group == "lists" and other is not None:
                ratio = paired_ratio(one, other)
                ok = ok and ratio >= LIST_RATIO
                measured += f"; {fmt(ratio, 1)}× Datasette"
                wanted += f"; ≥ {LIST_RATIO:.0f}× Datasette"
            out.append(f"| {name} ({system}) | {measured} | {wanted} | {verdict(ok)} |")
    return out


def postgres_verdicts(series: list[ColdSeries], systems: Sequence[str]) -> list[str]:
    """PostgreSQL against SQLite: search and list p99 within 2×, and no request over 250 ms."""
    if "garden (postgresql)" not in systems or "garden (sqlite)" not in systems:
        return []
    by_key, out = index_series(series), []
    for name, (group, _what, _target) in COLD.items():
        one, two = by_key.get((name, "garden (sqlite)")), by_key.get((name, "garden (postgresql)"))
        if one is None or two is None or group not in ("search", "lists"):
            continue
        factor = stats(two)["p99"] / stats(one)["p99"]
        out.append(
            f"| {name}: PostgreSQL p99 ÷ SQLite p99 | {fmt(factor, 2)}× ({fmt(stats(two)['p99'], 1)} vs "
            f"{fmt(stats(one)['p99'], 1)} ms) | ≤ {POSTGRES_FACTOR:.0f}× | {verdict(factor <= POSTGRES_FACTOR)} |"
        )
    slowest = max((t.ms for one in series if one.system == "garden (postgresql)" for t in one.timings), default=0.0)
    out.append(
        f"| PostgreSQL: slowest request of all | {fmt(slowest, 1)} ms | ≤ {POSTGRES_MAX_MS:.0f} ms | "
        f"{verdict(slowest <= POSTGRES_MAX_MS)} |"
    )
    return out


def feed_rows(feeds: dict[str, dict[str, Any]]) -> list[str]:
    """The first download of the claims feed on a freshly started garden, per backend."""
    out = []
    for system, feed in feeds.items():
        first = feed["downloads"][0]
        growth = max(feed["rss_peak_mb"][pid] - feed["rss_before_mb"][pid] for pid in feed["rss_before_mb"])
        ok = first["status"] == 200 and first["mb_s"] >= FEED_MB_S and growth < FEED_GROWTH_MB
        out.append(
            f"| feed ({system}): first download, {first['mb']:,.1f} MB, {first['rows']:,} rows | "
            f"{first['mb_s']:,.1f} MB/s in {first['seconds']:.2f} s; worker grew {growth:.1f} MB | "
            f"≥ {FEED_MB_S:.0f} MB/s, < {FEED_GROWTH_MB:.0f} MB | {verdict(ok)} |"
        )
    return out


def header(context: dict[str, Any], series: list[ColdSeries], articles: int) -> list[str]:
    out = [f"# garden-api cold first requests: {articles:,} articles", ""]
    out += [f"{context['started']} · {context['elapsed']:.0f} s · commit {context['git']}", ""]
    out += [f"Command: `{context['command']}`", ""]
    flagged = [(one, t) for one in series for t in one.timings if t.flagged]
    if flagged:
        where = sorted({f"{one.workload}/{one.system}" for one, _t in flagged})
        out += [f"> **WARNING: {len(flagged)} flagged answers** (not 200, or a search without items) in: "
                f"{', '.join(where)}.", ""]  # fmt: skip
    out += [f"> **WARNING: {warning}**\n" for warning in context.get("warnings", [])]
    out += ["Machine: " + " · ".join(f"{k} {v}" for k, v in context["machine"]), ""]
    out += ["Versions: " + " · ".join(f"{k} {v}" for k, v in context["versions"]), ""]
    out += [f"* {line}" for line in context["notes"]]
    return [*out, ""]


def render(context: dict[str, Any], series: list[ColdSeries], feeds: dict[str, dict[str, Any]], args: Any) -> str:
    systems, peer = args.systems, context.get("peer")
    out = header(context, series, args.articles)
    out += ["## Latency, one request at a time", "", *latency_rows(series, systems, peer), ""]
    out += ["## Targets", "", "| criterion | measured | target | result |", "|---|---|---|---|"]
    out += workload_verdicts(series, systems, peer) + postgres_verdicts(series, systems) + feed_rows(feeds)
    out += ["", "Workloads:", ""]
    out += [f"* **{name}** ({group}): {what}" for name, (group, what, _t) in COLD.items()]
    out += ["", "Equivalence checks (made before the runs):", ""]
    out += [f"* {line}" for line in context["checks"] or ["(none: no peer ran)"]]
    out += ["", "Columns: *flagged* counts answers that were not 200, and 200 searches without items; percentiles "
            "are nearest-rank (with 30 requests the p99 is the slowest); *Datasette ÷ garden* is the median over "
            "requests of the two times for the same query, then the ratio of the p99s."]  # fmt: skip
    return "\n".join(out) + "\n"
