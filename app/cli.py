"""``garden``: a thin command line over the library (ingest, check, serve, migrate, agent-files).

User errors end with a one-line ``Error: …`` and exit code 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.cli_output import plural, print_report, settings_error, write_json
from app.db import get_engine, upgrade_to_head
from app.ingest import ConcurrentIngest, FindingSpool, IngestReport, ingest
from app.ingest.report import listed_findings
from app.settings import get_settings
from app.webhooks.cli import webhooks

cli = typer.Typer(
    help="garden-api: agent-readable articles over HTTP.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # click's help: a flag is shown as a flag (typer's panels print "--json <bool>")
)
out = Console(soft_wrap=True)  # a long line is the terminal's to wrap; off a terminal it is never broken
err = Console(stderr=True, soft_wrap=True)
cli.add_typer(webhooks, name="webhooks")  # app.webhooks.cli


@cli.command("migrate")
def migrate_command() -> None:
    """Upgrade the database at GARDEN_DATABASE_URL to the newest schema."""
    upgrade_to_head(get_engine())
    out.print(f"Database is at the newest schema: {_safe_url()}")


#: The PATH arguments of `garden ingest` and `garden check`.
ContentPaths = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Content repository roots, content/articles directories or packet directories. "
        "Default: GARDEN_CONTENT_DIR.",
        show_default=False,
        metavar="PATH",
    ),
]


@cli.command("ingest")
def ingest_command(
    paths: ContentPaths = None,
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
    engine = get_engine()
    if not dry_run:
        upgrade_to_head(engine)
    try:
        _run_and_report(engine, paths, json_output, dry_run=dry_run, keep_going=keep_going, prune=prune)
    finally:
        engine.dispose()  # the last connection out checkpoints SQLite's WAL into the database file


@cli.command("check")
def check_command(
    paths: ContentPaths = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of lines.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 on diagnostics of severity error too, not only on invalid input.")
    ] = False,
) -> None:
    """Validate article files and list every error and diagnostic; writes nothing and needs no database.

    Every article is checked in full, as a first ingest would (the database, if any, is not read). Exit code 1
    when an article is invalid (it would not ingest), or with --strict when a diagnostic is an error.
    """
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")  # empty and in memory: nothing is read or written on disk
    report = _run_and_report(engine, paths, json_output, dry_run=True, check=True)
    raise typer.Exit(1 if not report.ok or (strict and report.diagnostics["error"]) else 0)


def _run_and_report(engine: Engine, paths: list[Path] | None, json_output: bool, *, dry_run: bool,
                    keep_going: bool = False, prune: bool = False, check: bool = False) -> IngestReport:  # fmt: skip
    """Run the ingest (or its dry run) with a progress bar on a terminal, and print its report with every
    diagnostic. ``check``: worded for ``garden check``, and returns the report; else exits 0 or 1."""
    settings = get_settings()
    show_progress = not json_output and _on_terminal(err)
    spool = FindingSpool(settings.effective_today())
    try:
        with _progress(show_progress) as bar:
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    validating = "Validating" if dry_run else "Validating and writing"
                    tasks[phase] = bar.add_task(validating if phase == "validate" else "Committing", total=total)
                bar.update(tasks[phase], completed=done)

            report = ingest(
                engine,
                paths or [settings.content_dir],
                today=settings.effective_today(),
                max_file_bytes=settings.max_file_bytes,
                change_retention=settings.change_retention,
                progress=advance if show_progress else None,
                findings=spool,
                dry_run=dry_run,
                keep_going=keep_going,
                prune=prune,
            )
        unchanged = set(report.unchanged)

        def findings() -> Iterator[dict[str, Any]]:
            return listed_findings(engine, spool, unchanged, settings.effective_today())

        if json_output:
            write_json(report, findings(), sys.stdout)
        else:
            print_report(report, findings, out, err, terminal=_on_terminal(out), check=check)
    finally:
        spool.close()
    if not check:
        raise typer.Exit(0 if report.ok else 1)
    return report


def _on_terminal(console: Console) -> bool:
    """Whether ``console`` writes to a terminal: tables and a progress bar there, plain lines elsewhere."""
    return console.is_terminal


@cli.command("agent-files")
def agent_files_command() -> None:
    """Store the large agent files for the stored corpus now (serve does it as it starts; requests build the rest)."""
    from app.agent.store import materialise_noting

    out.print(materialise_noting(get_settings()))


@cli.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(metavar="ADDRESS", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, metavar="N", help="Worker processes (at least 1).")] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (off by default: it costs throughput).")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Ingest GARDEN_CONTENT_DIR again whenever a file under it changes."),
    ] = False,
) -> None:
    """Serve the API: migrate, ingest GARDEN_CONTENT_DIR if the database holds no articles, then listen.

    Without --watch, the log says (in the background) whether the stored corpus differs from GARDEN_CONTENT_DIR.
    Connection limits (GARDEN_MAX_HEADER_BYTES, the timeouts, GARDEN_MAX_CONCURRENCY, GARDEN_MAX_CONNECTIONS)
    are enforced by app.server's protocol; the soft open-file limit is raised to the hard one.
    """
    import uvicorn

    from app import serve_content

    settings = get_settings()
    created = serve_content.created_sqlite_file(settings.database_url)
    engine = get_engine()
    try:
        upgrade_to_head(engine)
        loaded = _first_load(engine, created)
    except BaseException:  # nothing is served: a database file this run created goes again
        engine.dispose()
        if created is not None:
            serve_content.remove_database_file(created)
        raise
    engine.dispose()
    from app.agent.store import materialise_in_background
    from app.server import LimitedHttpToolsProtocol, raise_open_file_limit

    materialise_in_background()  # the large agent files, stored while the server starts listening
    if watch or not loaded:
        serve_content.start(settings.content_dir, watch)

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


def _first_load(engine: Engine, created: Path | None) -> bool:
    """Ingest GARDEN_CONTENT_DIR into a database that holds no articles; whether it did. A failure removes the
    database file ``created`` (this run created it) before it is reported, and exits 1."""
    from app import serve_content
    from app.ingest import stored_article_count

    if stored_article_count(engine) != 0:
        return False
    settings = get_settings()
    spool = FindingSpool(settings.effective_today())
    try:
        report = ingest(engine, [settings.content_dir], today=settings.effective_today(),
                        max_file_bytes=settings.max_file_bytes, findings=spool)  # fmt: skip
        if report.ok:
            loaded = plural(report.counts["articles"], "article")
            out.print(f"Loaded {loaded} from {settings.content_dir}.", markup=False)
            return True
        engine.dispose()
        removed = ""
        if created is not None:
            serve_content.remove_database_file(created)
            removed = f", and {created} (created by this run) was removed"
        print_report(report, lambda: iter(spool), out, err, terminal=_on_terminal(out), error_line=False)
    finally:
        spool.close()
    err.print(
        f"Error: GARDEN_CONTENT_DIR={settings.content_dir} did not ingest cleanly, so nothing was loaded{removed}. "
        "Point GARDEN_CONTENT_DIR at a content repository (content/articles/<year>/<slug>/), or load one with "
        "`garden ingest PATH`.",
        markup=False,
    )
    raise typer.Exit(1)


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


def _database_url_problem() -> str | None:
    """What is wrong with GARDEN_DATABASE_URL itself, if anything (the URL is never shown whole: it may hold a
    password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expects = "it expects sqlite:///path/to/garden.db or postgresql+psycopg://user:password@host:5432/db"
    try:
        url = make_url(get_settings().database_url)
    except ArgumentError:
        return f"GARDEN_DATABASE_URL cannot be read as a database URL: {expects}"
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        backend = url.get_backend_name()
        return f"GARDEN_DATABASE_URL names a {backend!r} database; garden-api runs on SQLite or PostgreSQL: {expects}"
    return None


def main() -> None:
    """The ``garden`` console script."""
    try:
        cli()
    except (SQLAlchemyError, ModuleNotFoundError) as exc:
        problem = _database_url_problem()
        if problem is not None:
            err.print(f"Error: {problem}", markup=False, highlight=False)
            sys.exit(1)
        if not isinstance(exc, SQLAlchemyError):
            raise
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        err.print(f"Error: the database at {_safe_url()} failed: {detail}", markup=False, highlight=False)
        sys.exit(1)
    except ConcurrentIngest:
        err.print("Error: other ingests kept committing while this one ran; nothing was written. Run it again.")
        sys.exit(1)
    except (ValidationError, SettingsError) as exc:  # a GARDEN_ setting pydantic refused
        if isinstance(exc, ValidationError) and exc.title != "Settings":
            raise
        err.print(f"Error: {settings_error(exc)}", markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
