"""``garden webhooks``: add, list and remove receivers, and read the delivery log (app.webhooks).

Bad input (a URL that is not http(s), a malformed secret, an unknown receiver) is a one-line ``Error: …`` naming
the argument or option, and exit code 1. Secrets are printed only by ``add``, when it makes one.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Any, Literal

import orjson
import typer
from rich.console import Console

from app.db import get_engine, upgrade_to_head
from app.queries import webhooks as queries
from app.queries.errors import QueryError
from app.settings import get_settings
from app.webhooks.subscription import checked_secret, checked_url, new_secret

webhooks = typer.Typer(
    help="Webhook receivers: every committed ingest POSTs a signed event (Standard Webhooks) to each of them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")]


def _fail(message: str) -> None:
    err.print(f"Error: {message}", markup=False)
    raise typer.Exit(1)


def _engine() -> Any:
    engine = get_engine()
    upgrade_to_head(engine)
    return engine


@webhooks.command("add")
def add_command(
    url: Annotated[str, typer.Argument(metavar="URL", help="Where events are POSTed: an http(s) URL.")],
    secret: Annotated[
        str | None,
        typer.Option("--secret", metavar="whsec_…", help="The Standard Webhooks secret; default: a new one, printed."),
    ] = None,
) -> None:
    """Add a receiver: from the next committed ingest on, each version's event is POSTed to it."""
    try:
        checked_url(url)
    except ValueError as error:
        _fail(f"URL: {error}")
    if secret is not None:
        try:
            checked_secret(secret)
        except ValueError as error:
            _fail(f"--secret: {error}")
    made = secret is None
    secret = secret or new_secret()
    engine = _engine()
    try:
        with engine.begin() as conn:
            queries.add_subscription(conn, url, secret, dt.datetime.now(dt.UTC))
    except QueryError as error:
        _fail(f"URL: {error.message.removeprefix('url: ')}")
    finally:
        engine.dispose()
    out.print(f"Added {url}", markup=False)
    if made:
        out.print(f"Secret (give it to the receiver; it is not shown again): {secret}", markup=False)


@webhooks.command("remove")
def remove_command(url: Annotated[str, typer.Argument(metavar="URL", help="The receiver's URL, as added.")]) -> None:
    """Remove a receiver added with `garden webhooks add`, and cancel its pending deliveries."""
    engine = _engine()
    try:
        with engine.begin() as conn:
            dropped = queries.remove_subscription(conn, url, dt.datetime.now(dt.UTC))
    except QueryError as error:
        configured = any(item.url == url for item in get_settings().webhooks)
        _fail(
            f"URL: {error.message}" + ("; it is configured in GARDEN_WEBHOOKS: remove it there" if configured else "")
        )
    finally:
        engine.dispose()
    out.print(f"Removed {url}" + (f"; {dropped} pending deliveries cancelled" if dropped else ""), markup=False)


@webhooks.command("list")
def list_command(json_output: JsonOption = False) -> None:
    """List the receivers: those added here and those of GARDEN_WEBHOOKS (secrets are not shown)."""
    engine = _engine()
    try:
        with engine.connect() as conn:
            stored = queries.subscriptions(conn)
    finally:
        engine.dispose()
    rows = [{"url": row["url"], "origin": "added", "pending": row["pending"]} for row in stored]
    known = {row["url"] for row in rows}
    rows += [{"url": item.url, "origin": "GARDEN_WEBHOOKS", "pending": None}
             for item in get_settings().webhooks if item.url not in known]  # fmt: skip
    if json_output:
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if not rows:
        out.print("No webhook receivers. Add one with: garden webhooks add URL")
    for row in rows:
        pending = "" if row["pending"] is None else f"  {row['pending']} pending"
        out.print(f"{row['url']}  ({row['origin']}){pending}", markup=False)


State = Literal["pending", "delivered", "expired", "cancelled"]


@webhooks.command("log")
def log_command(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, metavar="N", help="Deliveries shown.")] = 20,
    state: Annotated[State | None, typer.Option("--state", help="Only deliveries in this state.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The newest deliveries, newest first, each with every attempt: its time, status code or error, duration."""
    engine = _engine()
    try:
        with engine.connect() as conn:
            found = queries.deliveries(conn, limit, state)
    finally:
        engine.dispose()
    if json_output:
        sys.stdout.write(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if not found:
        out.print("No deliveries yet.")
    for item in found:
        out.print(f"{item['event_id']}  version {item['version']}  {item['url']}  {item['state']}  "
                  f"{item['attempts']} attempts", markup=False)  # fmt: skip
        for attempt in item["log"]:
            outcome = attempt["status_code"] if attempt["status_code"] is not None else attempt["error"]
            out.print(f"  {attempt['attempted_at'].isoformat()}  {outcome}  {attempt['duration_ms']} ms", markup=False)
