"""The large agent files, stored once per corpus and served from disk in chunks (issue 12, finding 4).

At 5,000 articles ``garden-queries.json`` is 34 MB and ``graph/edges.json`` 35 MB; built per request they took
seconds, a database slot and hundreds of megabytes each. Every file whose size grows with the corpus (SPECS:
measured at 5,000 articles, from 0.04 MB for diagnostics.json to 35 MB) is instead built once per *generation*
(database, corpus version, date, site settings, caller's visibility) with its gzip, and each download streams the
stored bytes in ``CHUNK``-sized reads, holding neither a database connection nor the file in memory. Files
whose size does not grow with the corpus (manifest, packets, topics, the empty roadmap feed) stay live.

Decisions:

* **Local disk, not a table of chunks.** A download is then a file read: no database round trip per chunk,
  no slot, nothing written to the corpus database by API processes (a release may ship SQLite read-only,
  docs/deploy.md), and old generations go with one ``rmtree``. The cost is that each replica builds its own
  copy, once per generation (about 6 s of CPU for all files at 5,000 articles). The directory is
  ``GARDEN_CACHE_DIR``, by default ``<tmp>/garden-api-<uid>``, which must be this user's and not writable by
  others (else a local user could plant files); unusable, the files are built per request as before.
* **Atomic and durable.** A file and its gzip are written under temporary names, fsynced and renamed; a small
  ``.meta`` (ETag, sizes, token estimate) is renamed last and marks the pair complete. An open file keeps
  being readable when a later collection removes it.
* **Single flight.** One builder per file and generation across threads and worker processes: an exclusive
  ``flock`` on ``<file>.lock`` (per open file, so threads exclude each other too; the kernel drops it if the
  builder dies). The request that takes the lock builds from a session of its own, outside its deadline (a
  build may take longer than GARDEN_REQUEST_TIMEOUT: the request is then answered 503 and a later one finds the
  file), after checking that this session reads the request's corpus version; the others give their database
  slot back and poll for the ``.meta`` without one. If the lock comes free with nothing stored (the builder
  failed), they answer 503 with ``Retry-After``. The builder holds its heavy slot for the build (about 2 s for
  garden-queries.json at 5,000 articles, once).
* **Ready before the first request.** ``materialise()`` stores the public files (and the preview ones when a
  preview token is set) for the current version and date: ``garden agent-files`` runs it (an ingest does not:
  at 50,000 articles it would cost a one-article edit a minute and a gigabyte, issue 14), and
  ``garden serve`` in a process of its own while it starts listening (a request meanwhile waits on the lock,
  slotless). A version or date not yet stored (a re-ingest from another host, midnight) is built by the first
  request that asks. Ingest itself never imports this layer (app.cli orchestrates).
* **Keys.** The database is named by a digest of its URL; the version by the corpus version *and* its
  ``ingested_at`` (a database deleted and ingested again restarts at version 1) and a digest of this package's
  source (a new release may build different bytes).
* **Collection.** After each build: generations other than the current version and the one written before
  it are removed (by when they were written, not by number: a database made again restarts at version 1), dates
  older than yesterday, and other databases' directories untouched for a week.
* **Serving** (app.routers.agents): Context.respond's headers over the stored bytes, read from disk as they
  are sent, after the request's database slot is given back.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.agent import files, llms, reports
from app.budget import estimate
from app.db import make_engine
from app.http import GZIP_MIN_BYTES, JSON, CorpusVersion, code_fingerprint, read_corpus
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)
CHUNK = 128 * 1024
WAIT_SECONDS = 120.0  # how long a request waits for another's build before a 503
POLL_SECONDS = 0.05
NDJSON = "application/x-ndjson"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Spec:
    """One stored file: its URL path, builder (None: no such file) and media type; ``chunked`` files are sent
    without a length; ``eager`` ones are stored ahead of requests (``materialise``)."""

    path: str
    build: Callable[[files.Corpus], bytes | Iterator[bytes] | None]
    media_type: str
    chunked: bool = False
    eager: bool = True

    @property
    def name(self) -> str:
        """The file name: the path with ``~`` for ``/``, or a digest of a path holding other characters."""
        name = self.path.strip("/")
        return name.replace("/", "~") if _PLAIN_PATH.fullmatch(name) else f"~{_digest(name)}"


_PLAIN_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._/-]{0,150}")


def topic_spec(topic: str) -> Spec:
    """``/agents/topics/<topic>.json``: up to 4.8 MB at 5,000 articles, and each build reads the whole index,
    so it is stored too, but when first asked for (there are as many as topics); an unknown topic is not."""
    return Spec(f"/agents/topics/{topic}.json", lambda corpus: files.topic_json(corpus, topic), JSON, eager=False)


SPECS: dict[str, Spec] = {
    spec.path: spec
    for spec in (
        Spec("/agents/index.json", files.index_json, JSON),  # 8.4 MB at 5,000 articles
        Spec("/agents/index.jsonl", files.index_jsonl, NDJSON),  # 5.1 MB
        Spec("/agents/garden-queries.json", reports.garden_queries_json, JSON),  # 34.4 MB
        Spec("/agents/verification-report.json", reports.verification_report_json, JSON),  # 12.5 MB
        Spec("/agents/diagnostics.json", reports.diagnostics_json, JSON),  # grows with the findings
        Spec("/graph/nodes.json", files.nodes_json, JSON),  # 9.9 MB
        Spec("/graph/edges.json", files.edges_json, JSON),  # 34.6 MB
        Spec("/llms.txt", llms.llms_txt, TEXT),  # 2.0 MB
        Spec("/agents/feeds/claims.jsonl", files.claims_feed, NDJSON, chunked=True),  # 14.6 MB
        Spec("/agents/feeds/sources.jsonl", files.sources_feed, NDJSON, chunked=True),  # 13.6 MB
        Spec("/agents/feeds/edges.jsonl", files.edges_feed, NDJSON, chunked=True),  # 13.7 MB
    )
}


@dataclass(frozen=True, slots=True)
class Meta:
    """What a stored file's ``.meta`` holds: a digest of its bytes, sizes, and the token estimate of a JSON file.
    (Served, the file carries its URL's ETag, app.http.Context.etag, not this digest.)"""

    etag: str
    size: int
    gzip_size: int | None
    tokens: int | None


@dataclass(slots=True)
class Opened:
    meta: Meta
    file: BinaryIO
    gzip: bool


def _digest(*parts: object) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def cache_root(settings: Settings) -> Path:
    """GARDEN_CACHE_DIR, or a private directory of this user's under the system's temporary directory."""
    if settings.cache_dir is not None:
        settings.cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = settings.cache_dir
    else:
        root = Path(tempfile.gettempdir()) / f"garden-api-{os.getuid()}"
        root.mkdir(mode=0o700, exist_ok=True)
    # Another user able to write here could plant files that every client is then served: refuse (the files are
    # then built per request, app.routers.agents).
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(f"{root} is not a directory of this user's that only it can write")
    return root


@dataclass(frozen=True, slots=True)
class Generation:
    """The directory of one (database, corpus version, date, site settings, visibility)'s stored files."""

    directory: Path
    site: str
    today: dt.date
    preview: bool
    identity: files.Identity = files.PUBLISHER

    @classmethod
    def of(cls, settings: Settings, corpus: CorpusVersion, today: dt.date, preview: bool) -> Generation:
        database = cache_root(settings) / _digest(settings.database_url)
        version = database / f"v{corpus.version:012d}-{_digest(corpus.ingested_at, code_fingerprint())}"
        site = _digest(*settings.site_identity())
        directory = version / f"{today.isoformat()}-{site}-{'preview' if preview else 'public'}"
        directory.mkdir(parents=True, exist_ok=True)
        return cls(directory, settings.site_url, today, preview, files.Identity.of(settings))

    def _path(self, spec: Spec, suffix: str = "") -> Path:
        return self.directory / (spec.name + suffix)

    def lookup(self, spec: Spec) -> Meta | None:
        try:
            return Meta(**orjson.loads(self._path(spec, ".meta").read_bytes()))
        except (OSError, ValueError, TypeError):
            return None

    def open(self, spec: Spec, gzip_ok: bool) -> Opened | None:
        """The stored file (its gzip for a client that takes it), opened, or None if not stored."""
        meta = self.lookup(spec)
        if meta is None:
            return None
        use_gzip = gzip_ok and meta.gzip_size is not None
        try:
            return Opened(meta, self._path(spec, ".gz" if use_gzip else "").open("rb"), use_gzip)
        except FileNotFoundError:  # collected since the lookup
            return None

    @contextmanager
    def lock(self, spec: Spec, *, wait: bool) -> Iterator[bool]:
        """Hold the file's build lock (True), or yield False at once if another holds it and ``wait`` is off."""
        fd = os.open(self._path(spec, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock

    def build(self, session: Session, spec: Spec) -> Meta | None:
        """Build ``spec`` from ``session``'s snapshot and store it with its gzip; the caller holds the lock.
        None: there is no such file (an unknown topic), and nothing is left of it, not even its lock file."""
        started = time.perf_counter()
        built = spec.build(files.Corpus(session, self.site, self.today, preview=self.preview, identity=self.identity))
        if built is None:
            self._path(spec, ".lock").unlink(missing_ok=True)  # a racing builder finds no file either
            return None
        target, suffix = self._path(spec), f".tmp-{os.getpid()}-{threading.get_ident()}"
        body_tmp, gzip_tmp = target.with_name(target.name + suffix), target.with_name(target.name + ".gz" + suffix)
        try:
            digest, size, gzip_size = _write(
                built if isinstance(built, Iterator) else iter([built]), body_tmp, gzip_tmp
            )
            tokens = estimate(built) if isinstance(built, bytes) and spec.media_type == JSON else None
            meta = Meta(digest, size, gzip_size if size >= GZIP_MIN_BYTES else None, tokens)
            os.replace(body_tmp, target)
            if meta.gzip_size is not None:
                os.replace(gzip_tmp, self._path(spec, ".gz"))
            meta_tmp = self._path(spec, ".meta" + suffix)
            meta_tmp.write_bytes(orjson.dumps(meta))
            os.replace(meta_tmp, self._path(spec, ".meta"))
        finally:
            for leftover in (body_tmp, gzip_tmp):
                leftover.unlink(missing_ok=True)
        log.info("stored %s for %s: %d bytes, gzip %s, in %.2f s", spec.path, self.directory, size,
                 meta.gzip_size, time.perf_counter() - started)  # fmt: skip
        return meta


def _write(chunks: Iterator[bytes], body_path: Path, gzip_path: Path) -> tuple[str, int, int]:
    """Write the chunks to ``body_path`` and their gzip to ``gzip_path``, fsynced: (digest, size, gzip size)."""
    hasher = hashlib.blake2b(digest_size=12)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    size = 0
    with body_path.open("wb") as body, gzip_path.open("wb") as packed:
        for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            body.write(chunk)
            packed.write(compressor.compress(chunk))
        packed.write(compressor.flush())
        for out in (body, packed):
            out.flush()
            os.fsync(out.fileno())
        return hasher.hexdigest(), size, packed.tell()


_DATABASE_DIR = re.compile(r"[0-9a-f]{16}")
_VERSION_DIR = re.compile(r"v(\d{12})-[0-9a-f]{16}")
_DATE_DIR = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{16}-(public|preview)")
_IDLE = dt.timedelta(days=7).total_seconds()


def collect(generation: Generation) -> None:
    """Remove what no request will ask for: versions other than the current one and the one written before it,
    dates before yesterday, and
    other databases' files untouched for a week (only directories named as this module names them, so that a
    GARDEN_CACHE_DIR shared with other things loses nothing else). Open files stay readable. A failure (another
    process collecting at the same time) is logged and left for the next collection."""
    try:
        _collect_versions(generation.directory.parent, generation.today)
        database = generation.directory.parent.parent
        os.utime(database)
        now = time.time()
        for other in database.parent.iterdir():
            if other != database and _DATABASE_DIR.fullmatch(other.name) and now - other.stat().st_mtime > _IDLE:
                shutil.rmtree(other, ignore_errors=True)
    except OSError as exc:
        log.warning("collecting old agent files failed: %s", exc)


def _collect_versions(current: Path, today: dt.date) -> None:
    """Keep the version being served (``current``) and the other one written last (requests still reading the
    previous corpus), whatever their numbers: a database deleted and ingested again starts at version 1 again,
    below the stale versions of its predecessor."""
    others = [path for path in current.parent.iterdir() if _VERSION_DIR.fullmatch(path.name) and path != current]
    others.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    oldest_date = (today - dt.timedelta(days=1)).isoformat()
    for index, path in enumerate([current, *others]):
        if index > 1:
            shutil.rmtree(path, ignore_errors=True)
            continue
        for dated in path.iterdir():
            if _DATE_DIR.fullmatch(dated.name) and dated.name[:10] < oldest_date:
                shutil.rmtree(dated, ignore_errors=True)


# --- ahead of requests ------------------------------------------------------------------------------------


def materialise(settings: Settings, engine: Engine | None = None) -> int:
    """Store every file of SPECS for the current corpus version and date: the public files, and the preview
    ones too when a preview token is set. Returns how many were built (0: all were stored already)."""
    own = engine is None
    engine = engine or make_engine(settings.database_url)
    built = 0
    try:
        for preview in (False, True) if settings.preview_token else (False,):
            with Session(engine) as session:
                corpus = read_corpus(session)
                if corpus.version == 0:
                    return built
                generation = Generation.of(settings, corpus, settings.effective_today(), preview)
                for spec in SPECS.values():
                    with generation.lock(spec, wait=True):
                        if generation.lookup(spec) is None:
                            generation.build(session, spec)
                            built += 1
            collect(generation)
    finally:
        if own:
            engine.dispose()
    return built


def materialise_noting(settings: Settings) -> str:
    """``materialise``, as one line for ``garden agent-files`` to print; a failure is a note, not an error: the
    corpus is stored, and requests build the files."""
    started = time.perf_counter()
    try:
        built = materialise(settings)
    except (OSError, SQLAlchemyError) as exc:
        return f"Note: the agent files were not stored ahead of requests ({exc}); the first requests build them."
    return f"Stored {built} agent files ahead of requests in {time.perf_counter() - started:.1f} s."


def materialise_in_background() -> subprocess.Popen[bytes]:
    """``materialise`` in a process of its own (``garden serve`` listens meanwhile), so that the memory a build
    takes goes back to the system when it ends; it reads the same GARDEN_* environment. Failures are logged,
    and requests then build what is missing."""
    process = subprocess.Popen([sys.executable, "-m", "app.agent.store", str(os.getpid())])
    threading.Thread(target=process.wait, name="agent-files-reaper", daemon=True).start()
    return process


def _main(parent: int) -> None:
    """The background process: it ends when ``garden serve`` does (Linux's parent-death signal)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the process ends when it is done
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # garden serve ended before the signal was asked for
        sys.exit(1)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    try:
        started = time.perf_counter()
        built = materialise(get_settings())
        log.info("Agent files stored ahead of requests: %d built in %.1f s", built, time.perf_counter() - started)
    except KeyboardInterrupt:  # Ctrl-C reaches garden serve's whole process group
        sys.exit(130)
    except Exception:
        log.exception("Storing the agent files ahead of requests failed; requests will build them")
        sys.exit(1)


if __name__ == "__main__":
    _main(int(sys.argv[1]))
