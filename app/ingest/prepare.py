"""Stage 3, prepare: read an article's files, fingerprint them, validate and derive (app.content.reader.parse)
and build its rows (app.ingest.rows), on every core.

A worker is handed a :class:`Task` (paths and, when the article is stored, its stored fingerprint) and hands
back an outcome: :class:`Built` (rows packed as tuples), :class:`Same` (the bytes are the stored ones; only the
stat signature moved), or :class:`Invalid` (every error of the article). The parent never holds an article's
bytes or its parsed form, and what crosses the process boundary is small: paths one way, rows the other.

At most :data:`WINDOW` chunks of :data:`CHUNK` articles are in flight, so memory does not grow with the corpus
when the writer is slower than the workers; results come back in walk order, so ids are assigned as they
would be one by one. Fewer than :data:`PARALLEL_FROM` tasks are prepared in-process (starting workers costs
more than it saves).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import multiprocessing
import os
import signal
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from app.content.errors import WHOLE_FILE, ContentError, InvalidContent
from app.content.reader import InputArticle, fingerprint, packet_year, parse
from app.ingest import rows
from app.ingest.discover import Found, Walk

CHUNK = 64  # articles per task sent to a worker
WINDOW = 4  # chunks in flight at once
PARALLEL_FROM = 256  # fewer tasks than this are prepared in-process


@dataclass(frozen=True, slots=True)
class Task:
    """An article to read: where it is, and (when stored from the same derivation) its stored fingerprint."""

    found: Found
    stored_fingerprint: str | None
    max_bytes: int


@dataclass(slots=True)
class Built:
    """A valid article's rows (ids counted from 0 within it), its active findings by severity, and the size of
    its input files in bytes (what the writer bounds its batches by, with their claims)."""

    slug: str
    rows: dict[str, list[tuple[Any, ...]]]
    ids: dict[str, int]
    severities: dict[str, int]
    size: int


@dataclass(frozen=True, slots=True)
class Same:
    """The files' bytes are the stored ones; only their stat signature changed."""

    slug: str
    stat: str


@dataclass(frozen=True, slots=True)
class Invalid:
    slug: str
    errors: list[ContentError]


Outcome = Built | Same | Invalid


def read(task: Task) -> InputArticle | Invalid:
    """The article's bytes and fingerprint, or the errors of files that could not be read."""
    found, raw, errors = task.found, {}, []
    for role, path in found.files.items():
        try:
            with open(path, "rb") as file:
                data = file.read(task.max_bytes + 1)
        except OSError as exc:
            errors.append(ContentError(found.paths[role], WHOLE_FILE, f"cannot be read: {exc.strerror}"))
            continue
        if len(data) > task.max_bytes:  # it grew since the walk checked it
            limit = f"over the {task.max_bytes:,}-byte limit (GARDEN_MAX_FILE_BYTES)"
            errors.append(ContentError(found.paths[role], WHOLE_FILE, f"has grown {limit}"))
            continue
        raw[role] = data
    if errors:
        return Invalid(found.slug, errors)
    year = found.year or packet_year(raw["artifact"])
    article = InputArticle(found.slug, year, found.layout, found.location, found.paths, raw)
    article.fingerprint = fingerprint(found.layout, year, found.slug, raw)
    return article


def read_all(paths: list[Path], max_bytes: int) -> tuple[list[InputArticle], Walk]:
    """Every readable article under ``paths`` in memory, and the walk with its errors: for tools and tests that
    want articles to parse (the ingest itself streams them through :func:`prepare_all`)."""
    walk = Walk(paths, max_bytes)
    walk.census()
    articles = []
    for found in walk.found():
        article = read(Task(found, None, max_bytes))
        if isinstance(article, Invalid):
            walk.errors += article.errors
        else:
            articles.append(article)
    return articles, walk


def prepare(task: Task, today: dt.date) -> Outcome:
    """One article, read, compared with the stored one, validated and built into rows."""
    article = read(task)
    if isinstance(article, Invalid):
        return article
    if article.fingerprint == task.stored_fingerprint:
        return Same(article.slug, task.found.stat)
    try:
        record = parse(article)
    except InvalidContent as exc:
        return Invalid(article.slug, exc.errors)
    packed, ids = rows.build(record, task.found.stat)
    severities = Counter(f.severity for f in record.findings if f.is_active(today))
    return Built(record.slug, packed, ids, dict(severities), sum(len(data) for data in article.raw.values()))


def _prepare_chunk(tasks: list[Task], today: dt.date) -> list[Outcome]:
    return [prepare(task, today) for task in tasks]


def prepare_all(tasks: Iterable[Task], today: dt.date) -> Iterator[Outcome]:
    """Every task's outcome, in order: in-process for a few, else on worker processes, one fewer than the cores
    (at most four): the writer, which turns rows into pages, needs a core of its own more than parsing needs
    another (at 50,000 articles it does twice the work of all parsing)."""
    stream = iter(tasks)
    first = list(islice(stream, PARALLEL_FROM))
    workers = min(max(1, (os.cpu_count() or 1) - 1), 4)  # a core stays the writer's: it is the slower side
    if len(first) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        yield from _prepare_chunk(first, today)
        for task in stream:
            yield prepare(task, today)
        return
    # fork: the workers inherit the loaded code and need nothing from the parent's database connections.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with, initargs=(os.getpid(),))
    try:
        pending: deque[Future[list[Outcome]]] = deque()
        chunks = _chunks(first, stream)
        for chunk in chunks:
            pending.append(pool.submit(_prepare_chunk, chunk, today))
            if len(pending) >= WINDOW:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(first: list[Task], rest: Iterator[Task]) -> Iterator[list[Task]]:
    for start in range(0, len(first), CHUNK):
        yield first[start : start + CHUNK]
    while chunk := list(islice(rest, CHUNK)):
        yield chunk


def _die_with(parent: int) -> None:
    """A worker ends when its ingest does, even killed: its siblings hold the task pipe open, so it would
    otherwise wait on it for ever. Linux's parent-death signal does it; elsewhere nothing is done."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the ingest died before the signal was asked for
        os._exit(1)
