"""``garden``: a thin command line over the library (ingest, serve, migrate).

User errors end with a one-line ``Error: …`` and exit code 1, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.db import get_engine, upgrade_to_head
from app.ingest import ConcurrentIngest, IngestReport, ingest
from app.settings import get_settings

cli = typer.Typer(
    help="garden-api: agent-readable articles over HTTP.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


@cli.command("migrate")
def migrate_command() -> None:
    """Upgrade the database at GARDEN_DATABASE_URL to the newest schema."""
    upgrade_to_head(get_engine())
    out.print(f"Database is at the newest schema: {_safe_url()}")


@cli.command("ingest")
def ingest_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Content repository roots, content/articles directories or packet directories. "
            "Default: GARDEN_CONTENT_DIR.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going",
            help="Load the valid articles and keep the stored version of invalid ones (still exits 1).",
        ),
    ] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove stored articles that are not in the input.")] = False,
) -> None:
    """Validate article files and load them into the database in one transaction."""
    settings = get_settings()
    engine = get_engine()
    if not dry_run:
        upgrade_to_head(engine)
    show_progress = not json_output and err.is_terminal
    with _progress(show_progress) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(
                    "Validating and writing" if phase == "validate" else "Committing", total=total
                )
            bar.update(tasks[phase], completed=done)

        try:
            report = ingest(
                engine,
                paths or [settings.content_dir],
                today=settings.effective_today(),
                dry_run=dry_run,
                keep_going=keep_going,
                prune=prune,
                max_file_bytes=settings.max_file_bytes,
                progress=advance if show_progress else None,
            )
        finally:
            engine.dispose()  # the last connection out checkpoints SQLite's WAL into the database file
    if json_output:
        sys.stdout.write(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


@cli.command("agent-files")
def agent_files_command() -> None:
    """Store the large agent files for the stored corpus now (serve does it as it starts; requests build the rest)."""
    from app.agent.store import materialise_noting

    out.print(materialise_noting(get_settings()))


@cli.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (off: it costs throughput).")] = False,
) -> None:
    """Serve the API: migrate, ingest GARDEN_CONTENT_DIR if the database holds no articles, then listen.

    Connection limits (GARDEN_MAX_HEADER_BYTES, the timeouts, GARDEN_MAX_CONCURRENCY, GARDEN_MAX_CONNECTIONS)
    are enforced by app.server's protocol; the soft open-file limit is raised to the hard one.
    """
    import uvicorn

    from app.ingest import stored_article_count

    settings = get_settings()
    engine = get_engine()
    upgrade_to_head(engine)
    if stored_article_count(engine) == 0:
        report = ingest(
            engine,
            [settings.content_dir],
            today=settings.effective_today(),
            max_file_bytes=settings.max_file_bytes,
        )
        if not report.ok:
            _print_report(report)
            err.print(f"Error: {settings.content_dir} did not ingest cleanly; nothing was loaded.")
            raise typer.Exit(1)
        out.print(f"Loaded {report.counts['articles']} articles from {settings.content_dir}.")
    engine.dispose()
    from app.agent.store import materialise_in_background
    from app.server import LimitedHttpToolsProtocol, raise_open_file_limit

    materialise_in_background()  # the large agent files, stored while the server starts listening

    raise_open_file_limit()  # before the workers start: they inherit it
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=access_log,
        http=LimitedHttpToolsProtocol,  # head size, read timeouts, request cap: see app/server.py
        ws="none",  # no route is a WebSocket; an upgrade would leave the limits behind
        loop=settings.event_loop,
        timeout_keep_alive=max(1, round(settings.keep_alive_timeout)),  # the protocol uses the exact value
    )


# Authoring: `garden new` and `garden schema` (app.authoring, app.content.json_schema; docs/content-format.md).
@cli.command("new")
def new_command(
    slug: Annotated[
        str, typer.Argument(metavar="SLUG", help="The new article's slug: lowercase letters, digits and hyphens.")
    ],
    title: Annotated[str | None, typer.Option(metavar="TEXT", help="Its title (default: made from the slug).")] = None,
    series: Annotated[str | None, typer.Option(metavar="SLUG", help="Slug of a series to join (or start).")] = None,
) -> None:
    """Write a draft skeleton article (article.md, agent.md, artifact.json) under GARDEN_CONTENT_DIR."""
    from app.authoring import AuthoringError, new_article

    settings = get_settings()
    try:
        files = new_article(settings.content_dir, slug, title=title, series=series, today=settings.effective_today())
    except AuthoringError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    print("\n".join(["Wrote a draft article:", *(f"  {path}" for path in files)]))
    print("Replace the placeholders (docs/content-format.md explains every field), then run `garden ingest`.")
    print("Drafts are served only with GARDEN_PREVIEW_TOKEN; set status: published in all three files to publish.")


@cli.command("schema")
def schema_command(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="artifact|article|agent",
            help="Print that JSON Schema. Omit it with --out for all three.",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Write the schemas into this directory.")
    ] = None,
) -> None:
    """Print or write the JSON Schemas of artifact.json and the article.md and agent.md front matters."""
    from app.content.json_schema import SPECS, schema_bytes

    if (name is not None and name not in SPECS) or (name is None and out_dir is None):
        given = f"{name!r} is not a schema: " if name is not None else ""
        print(f"Error: {given}name artifact, article or agent, or give --out DIR to write all three", file=sys.stderr)
        raise typer.Exit(1)
    if out_dir is None:
        sys.stdout.buffer.write(schema_bytes(str(name), get_settings().public_url))
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for spec in [SPECS[name]] if name else SPECS.values():
            (out_dir / spec.file).write_bytes(schema_bytes(spec.name, get_settings().public_url))
            print(out_dir / spec.file)
    except OSError as exc:
        print(f"Error: cannot write {exc.filename or out_dir}: {exc.strerror or exc}", file=sys.stderr)
        raise typer.Exit(1) from None


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    )


def _print_report(report: IngestReport) -> None:
    summary = Table(title="Dry run: nothing written" if report.dry_run else "Ingest", title_justify="left")
    for name in ("added", "updated", "unchanged", "removed", "invalid"):
        summary.add_column(name, justify="right")
    summary.add_row(
        *(str(len(getattr(report, name))) for name in ("added", "updated", "unchanged", "removed", "invalid"))
    )
    out.print(summary)
    stored = Table(title="Stored corpus", title_justify="left")
    for name in ("articles", "claims", "sources", "diagnostics"):
        stored.add_column(name, justify="right")
    counts = report.counts
    stored.add_row(
        f"{counts['articles']} ({counts['public_articles']} public)",
        f"{counts['claims']} ({counts['public_claims']} public)",
        f"{counts['sources']} ({counts['public_sources']} public)",
        f"{report.diagnostics['error']} errors, {report.diagnostics['warning']} warnings",
    )
    out.print(stored)
    if report.missing:
        out.print(f"Kept, not in the input ({len(report.missing)}; --prune removes them): {', '.join(report.missing)}")
    if report.removed:
        out.print(f"Removed: {', '.join(report.removed)}")
    for note in report.notes:
        out.print(note)
    if report.errors:
        errors = Table(title=f"{len(report.errors)} errors", title_justify="left", show_lines=False)
        for name in ("file", "field", "problem"):
            errors.add_column(name, overflow="fold")
        for error in report.errors:
            errors.add_row(error.file, error.field, error.message)
        err.print(errors)
        written = "the valid articles were written" if report.written else "nothing was written"
        err.print(f"Error: {len(report.invalid) or len(report.errors)} invalid input(s); {written}.")


def main() -> None:
    """The ``garden`` console script."""
    try:
        cli()
    except SQLAlchemyError as exc:
        err.print(f"Error: the database at {_safe_url()} failed: {exc.orig if isinstance(exc, DBAPIError) else exc}")
        sys.exit(1)
    except ConcurrentIngest:
        err.print("Error: other ingests kept committing while this one ran; nothing was written. Run it again.")
        sys.exit(1)


if __name__ == "__main__":
    main()
