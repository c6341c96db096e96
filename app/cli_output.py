"""How ``garden ingest``, ``garden check`` and a failed first ``garden serve`` show what a run found.

* ``--json``: one JSON object (:func:`write_json`), the diagnostics streamed into its last key, ``findings``.
* On a terminal: tables, the input errors in full and the first :data:`TERMINAL_FINDINGS` diagnostics
  (errors before warnings), then how many more there are and that ``--json`` lists them all.
* Anywhere else (a pipe, a file, a CI log): plain lines, never wrapped, one per item, so that ``grep`` finds a
  path or a slug: ``path: field: message`` for an input error (standard error) and
  ``path: severity: rule: message`` for a diagnostic (standard output), every one of them.

The diagnostics are read one at a time (app.ingest.report.listed_findings), never held in a list.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from app.ingest import IngestReport

#: Diagnostics shown on a terminal; the rest are counted (``--json`` and plain output list every one).
TERMINAL_FINDINGS = 30

Findings = Callable[[], Iterator[dict[str, Any]]]
_COUNTED = ("added", "updated", "unchanged", "removed", "invalid")


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``, ``0 warnings``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _line(text: str) -> str:
    """One physical line: a message that holds line breaks (a YAML excerpt) has them folded into spaces."""
    return " ".join(text.split("\n")) if "\n" in text else text


def _message(item: dict[str, Any]) -> str:
    """A finding's message for a person: without the ``<year>/<slug>: `` it starts with (the path says it)."""
    message = str(item["message"])
    own = item["file"].removeprefix("content/articles/") + ": "
    return _line(message.removeprefix(own))


def write_json(report: IngestReport, findings: Iterable[dict[str, Any]], stream: IO[str]) -> None:
    """The report's JSON document with ``findings`` (every listed diagnostic) as its last key, written as the
    diagnostics are read: one compact object per line inside the indented document."""
    head = orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode()
    stream.write(head.removesuffix("\n}") + ',\n  "findings": [')
    separator = "\n    "
    for item in findings:
        stream.write(separator + orjson.dumps(item).decode())
        separator = ",\n    "
    stream.write("\n  ]\n}\n" if separator != "\n    " else "]\n}\n")


def diagnostic_counts(report: IngestReport) -> str:
    return f"{plural(report.diagnostics['error'], 'error')}, {plural(report.diagnostics['warning'], 'warning')}"


def print_report(report: IngestReport, findings: Findings, out: Console, err: Console, *, terminal: bool,
                 check: bool = False, error_line: bool = True) -> None:  # fmt: skip
    """The report for a person (``terminal``) or for grep; ``check``: worded for ``garden check``;
    ``error_line``: end with the ``Error:`` line when there are errors (else the caller says its own)."""
    if terminal:
        _tables(report, out, check)
        _terminal_findings(report, findings, out)
    else:
        _plain_summary(report, check)
        for item in findings():
            sys.stdout.write(f"{item['file']}: {item['severity']}: {item['rule']}: {_message(item)}\n")
        sys.stdout.flush()
    for line in _notes(report, check):
        if terminal:
            out.print(Text(line))
        else:
            sys.stdout.write(line + "\n")
    if report.errors:
        _print_errors(report, err, terminal=terminal, check=check, error_line=error_line)


def _checked(report: IngestReport) -> str:
    valid = len(report.added) + len(report.updated) + len(report.unchanged)
    return f"{plural(valid + len(report.invalid), 'article')}: {valid:,} valid, {len(report.invalid):,} invalid"


def _tables(report: IngestReport, out: Console, check: bool) -> None:
    if check:
        out.print(Text(f"Checked {_checked(report)}; nothing written. Diagnostics: {diagnostic_counts(report)}."))
    else:
        summary = Table(title="Dry run: nothing written" if report.dry_run else "Ingest", title_justify="left")
        for name in _COUNTED:
            summary.add_column(name, justify="right")
        summary.add_row(*(str(len(getattr(report, name))) for name in _COUNTED))
        out.print(summary)
        stored = Table(title="Stored corpus", title_justify="left")
        for name in ("articles", "claims", "sources", "diagnostics"):
            stored.add_column(name, justify="right")
        counts = report.counts
        stored.add_row(
            f"{counts['articles']} ({counts['public_articles']} public)",
            f"{counts['claims']} ({counts['public_claims']} public)",
            f"{counts['sources']} ({counts['public_sources']} public)",
            diagnostic_counts(report),
        )
        out.print(stored)


def _terminal_findings(report: IngestReport, findings: Findings, out: Console) -> None:
    total = report.diagnostics["error"] + report.diagnostics["warning"]
    if not total:
        return
    table = Table(title=f"{plural(total, 'diagnostic')} ({diagnostic_counts(report)})", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("message", overflow="fold")
    shown = 0
    for severity in ("error", "warning"):  # errors first: two passes over the stream, nothing kept
        if not report.diagnostics[severity]:
            continue
        for item in findings():
            if shown == TERMINAL_FINDINGS:
                break
            if item["severity"] == severity:
                table.add_row(Text(item["file"]), Text(item["severity"]), Text(item["rule"]), Text(_message(item)))
                shown += 1
    out.print(table)
    if total > shown:
        out.print(Text(f"… and {total - shown:,} more: --json lists them all (or pipe the output: one line each)."))


def _plain_summary(report: IngestReport, check: bool) -> None:
    if check:
        lines = [f"Checked {_checked(report)}; nothing written."]
    else:
        done = ", ".join(f"{len(getattr(report, name)):,} {name}" for name in _COUNTED)
        counts = report.counts
        corpus = (f"{plural(counts['articles'], 'article')} ({counts['public_articles']:,} public), "
                  f"{plural(counts['claims'], 'claim')} ({counts['public_claims']:,} public), "
                  f"{plural(counts['sources'], 'source')} ({counts['public_sources']:,} public)")  # fmt: skip
        lines = [f"{'Dry run (nothing written)' if report.dry_run else 'Ingest'}: {done}", f"Stored corpus: {corpus}"]
    lines.append(f"Diagnostics: {diagnostic_counts(report)}")
    sys.stdout.write("".join(line + "\n" for line in lines))


def _notes(report: IngestReport, check: bool) -> list[str]:
    notes = []
    if report.missing and not check:
        notes.append(f"Kept, not in the input ({len(report.missing):,}; --prune removes them): "
                     + ", ".join(report.missing))  # fmt: skip
    if report.removed:
        notes.append(f"Removed: {', '.join(report.removed)}")
    return notes + report.notes


def _print_errors(report: IngestReport, err: Console, *, terminal: bool, check: bool, error_line: bool) -> None:
    if terminal:
        table = Table(title=plural(len(report.errors), "error"), title_justify="left", show_lines=False)
        for name in ("file", "field", "problem"):
            table.add_column(name, overflow="fold")
        for error in report.errors:
            table.add_row(Text(error.file), Text(error.field), Text(error.message))
        err.print(table)
    else:
        sys.stderr.write("".join(f"{e.file}: {e.field}: {_line(e.message)}\n" for e in report.errors))
    if not error_line:
        return
    invalid = plural(len(report.invalid), "invalid article") if report.invalid else plural(len(report.errors), "error")
    written = "the valid articles were written" if report.written else "nothing was written"
    _error_line(err, f"{invalid}; {'nothing is written by a check' if check else written}.", terminal)


def _error_line(err: Console, message: str, terminal: bool) -> None:
    if terminal:
        err.print(Text(f"Error: {message}"))
    else:
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()


# --- settings ------------------------------------------------------------------------------------------------

_FIELD = re.compile(r'field "(\w+)"')


def settings_error(exc: Exception) -> str:
    """One line naming each bad ``GARDEN_`` variable and what it expects, from pydantic's ValidationError or
    pydantic-settings' SettingsError (a complex value, such as a list, that is not JSON)."""
    from pydantic import ValidationError

    from app.settings import Settings

    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            variable = f"GARDEN_{name.upper()}"
            given = os.environ.get(variable)
            shown = f"{variable}={_shown(name, given)}" if given is not None else variable
            problems.append(f"{shown}: {error['msg'].removeprefix('Value error, ')}")
        return "; ".join(problems)
    match = _FIELD.search(str(exc))
    if match is None or match[1] not in Settings.model_fields:
        return f"a GARDEN_ setting cannot be read: {exc}"
    name = match[1]
    field = Settings.model_fields[name]
    variable = f"GARDEN_{name.upper()}"
    example = orjson.dumps(field.default, default=str).decode()
    return (f"{variable}={_shown(name, os.environ.get(variable, ''))} is not valid JSON: it expects a JSON value "
            f"of type {_type_name(field.annotation)}, e.g. {variable}='{example}'")  # fmt: skip


#: Settings whose values may hold a secret (a token, a webhook secret, a password in a database URL): an error
#: names the variable and what it expects, never what it holds, since error output ends up in logs.
SECRET_SETTINGS = frozenset({"preview_token", "webhooks", "database_url"})


def _shown(name: str, given: str) -> str:
    """The value of ``GARDEN_<name>`` as an error may quote it: secrets withheld (see SECRET_SETTINGS)."""
    return "<not shown: it may hold a secret>" if name in SECRET_SETTINGS else repr(given)


def _type_name(annotation: Any) -> str:
    """``list[str]``, ``list[Subscription]``: the annotation without module paths."""
    return re.sub(r"\b(?:typing|[a-z_]+(?:\.[a-z_]+)+)\.", "", str(annotation))
