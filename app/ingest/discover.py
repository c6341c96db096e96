"""Stage 1, discover: walk the PATHs given to ``garden ingest`` and yield each article's files as paths and a
stat signature, never their bytes.

Two layouts are accepted (DATA-CONTRACT §1.1, §1.6):

* the source layout: ``content/articles/<year>/<slug>/{article.md, agent.md, artifact.json}``; a PATH may be
  the repository root that holds ``content/articles``, the ``content`` directory, or ``content/articles`` itself;
* the packet layout: a directory of ``<slug>.json`` packets, each with an optional ``<slug>.md`` brief.

The walk happens twice. The first (:meth:`Walk.census`) only lists directory names: it counts the articles (for
the progress bar) and finds a slug used twice, so that no copy of it is ever written. The second
(:meth:`Walk.found`) checks every file with ``lstat`` (missing, special, a symlink out of the content root,
over the size limit) and yields a :class:`Found`. What the walk keeps is one entry per slug (the census); the
files themselves are read later, by the worker that parses them (app.ingest.prepare).

**The stat signature** (``Found.stat``) is device, inode, size, modification and change time of each file, in
nanoseconds, kept as a 128-bit digest (32 hex digits an article: a run reads them all back). An article whose
signature equals the stored one is unchanged and is not read at all; otherwise its bytes are read and compared
by fingerprint (the sha256 of app.content.reader). Like git's index, a signature
taken while a file may still be changing in the same clock tick cannot be trusted: a file modified less than
:data:`RACY_NS` before the walk began gets the signature ``""``, which never matches, so the next run reads it.
(The change time is in the signature but not in that test: setting a file's times back with ``touch`` moves
its change time to now, and a later write moves its modification time again.)
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.content.errors import WHOLE_FILE, ContentError
from app.content.reader import SOURCE_FILES, Layout

RACY_NS = 2_000_000_000  # a file modified this recently (ns) before the walk gets no trusted signature


@dataclass(frozen=True, slots=True)
class Found:
    """One article's files as found: the paths errors show, the real paths to read, and their stat signature.

    ``year`` is ``""`` for a packet: it is in the packet's ``sourcePath``, which only its reader sees."""

    slug: str
    year: str
    layout: Layout
    location: str
    paths: dict[str, str]
    files: dict[str, str]
    stat: str


@dataclass(slots=True)
class _Entry:
    slug: str
    year: str
    layout: Layout
    location: str
    directory: str  # the article directory (source) or the packet directory
    root: str  # the resolved content root files must stay inside
    shown_dir: str  # the directory as errors name it
    real_dir: str | None = None  # the article directory resolved (source layout)


@dataclass(slots=True)
class Walk:
    """The walk of ``paths``: errors and unreadable paths as found, and the articles (twice, see the module)."""

    paths: list[Path]
    max_bytes: int
    errors: list[ContentError] = field(default_factory=list)
    invalid_slugs: set[str] = field(default_factory=set)
    unreadable_paths: list[str] = field(default_factory=list)
    total: int = 0
    _twice: dict[str, list[str]] = field(default_factory=dict)
    _listed: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    _started_ns: int = 0

    def census(self) -> None:
        """Count the articles and find every slug used twice (an error for each copy; no copy is written)."""
        first: dict[str, str] = {}
        for entry in self._entries(report=True):
            self.total += 1
            if entry.slug in first:
                self._twice.setdefault(entry.slug, [first[entry.slug]]).append(entry.location)
            else:
                first[entry.slug] = entry.location
        for slug in first.keys() & self.invalid_slugs:  # a slug also held by an unreadable entry
            self._twice.setdefault(slug, [first[slug]])

    def found(self) -> Iterator[Found]:
        """Each readable article not used twice, in walk order; the errors of the others go to ``errors``."""
        self._started_ns = time.time_ns()
        duplicates: list[ContentError] = []
        for entry in self._entries(report=False):
            if entry.slug in self._twice:
                duplicates.append(self._duplicate(entry))
                continue
            article = self._check(entry)
            if article is not None:
                yield article
        self.errors += duplicates
        self.invalid_slugs.update(self._twice)

    def _duplicate(self, entry: _Entry) -> ContentError:
        others = [location for location in self._twice[entry.slug] if location != entry.location]
        where = f"also at {', '.join(others)}" if others else "also in an unreadable entry"
        artifact = f"{entry.location}/{SOURCE_FILES['artifact']}" if entry.layout == "source" else entry.location
        return ContentError(artifact, "slug", f"slug '{entry.slug}' is used twice ({where})")

    def _entries(self, report: bool) -> Iterator[_Entry]:
        """Every article entry under the paths (``report``: record the walk's own errors, on the first walk)."""
        for path in self.paths:
            shown = str(path).rstrip("/") or "/"
            if not path.is_dir():
                if report:
                    self._unreadable(shown, f"{_not_a_directory(path)}; expected a content repository, a "
                                            "content/articles directory or a directory of packets")  # fmt: skip
            elif (path / "content" / "articles").is_dir():
                yield from self._source(path / "content" / "articles", f"{shown}/content/articles", report)
            elif (path / "articles").is_dir():  # a content directory, like GARDEN_CONTENT_DIR
                yield from self._source(path / "articles", f"{shown}/articles", report)
            elif any(path.glob("*.json")):
                yield from self._packets(path, shown)
            elif any(child.is_dir() for child in path.iterdir()):
                yield from self._source(path, shown, report)
            elif report:
                self._unreadable(shown, "holds no articles: expected content/articles/<year>/<slug>/, a "
                                        "content/articles directory or <slug>.json packets")  # fmt: skip

    def _unreadable(self, shown: str, message: str) -> None:
        self.unreadable_paths.append(shown)
        self.errors.append(ContentError(shown, WHOLE_FILE, message))

    def _source(self, articles_dir: Path, shown_root: str, report: bool) -> Iterator[_Entry]:
        root = os.path.realpath(articles_dir)
        for year, year_dir, _ in self._subdirs(str(articles_dir), shown_root, report, slugs=False):
            real_year = os.path.realpath(year_dir)
            for slug, article_dir, linked in self._subdirs(year_dir, f"{shown_root}/{year}", report, slugs=True):
                location = f"{shown_root}/{year}/{slug}"
                real = os.path.realpath(article_dir) if linked else f"{real_year}/{slug}"
                yield _Entry(slug, year, "source", location, article_dir, root, location, real)

    def _packets(self, packet_dir: Path, shown_root: str) -> Iterator[_Entry]:
        root = os.path.realpath(packet_dir)
        for packet in sorted(packet_dir.glob("*.json")):
            yield _Entry(packet.stem, "", "packet", f"{shown_root}/{packet.name}", str(packet_dir), root, shown_root)

    def _subdirs(self, directory: str, shown: str, report: bool, slugs: bool) -> list[tuple[str, str, bool]]:
        """The directories in ``directory``, and whether each is a symlink; an entry that cannot be followed (a
        symlink loop) is an error, and an unreadable path (so ``--prune`` removes nothing), and, when the
        entries are ``slugs``, an invalid slug. The census lists each directory; the second walk reuses that
        listing (names only: a fifth of an unchanged 50,000-article run went to listing every year twice)."""
        if not report and directory in self._listed:
            return self._listed.pop(directory)
        subdirs = []
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    if entry.is_dir():
                        subdirs.append((entry.name, entry.path, entry.is_symlink()))
                except OSError as exc:
                    if report:
                        self._unreadable(f"{shown}/{entry.name}", _unreadable(exc))
                        if slugs:  # a slug stored earlier is not "missing": it is there, unreadable
                            self.invalid_slugs.add(entry.name)
        subdirs.sort()
        if report:
            self._listed[directory] = subdirs
        return subdirs

    def _check(self, entry: _Entry) -> Found | None:
        """The entry's files checked with ``lstat``, or None with their errors recorded."""
        if entry.layout == "source":
            real_dir = entry.real_dir or os.path.realpath(entry.directory)
            inside = real_dir if _within(real_dir, entry.root) else None  # else each file reports the escape
            plain = self._plain(entry, inside) if inside is not None else None
            if plain is not None:
                return plain
            paths = {role: f"{entry.location}/{name}" for role, name in SOURCE_FILES.items()}
            names = SOURCE_FILES
        else:
            paths = {"artifact": entry.location}
            names = {"artifact": f"{entry.slug}.json"}
            brief = f"{entry.slug}.md"
            if os.path.lexists(f"{entry.directory}/{brief}"):
                paths["brief"] = f"{entry.shown_dir}/{brief}"
                names = {**names, "brief": brief}
            inside = None
        errors: list[ContentError] = []
        files: dict[str, str] = {}
        signature: list[str] = []
        for role, name in names.items():
            checked = _check_file(entry.directory, name, paths[role], entry.root, self.max_bytes, errors, inside)
            if checked is not None:
                files[role] = checked[0]
                signature.append(self._signature(checked[1]))
        if errors:
            self.errors += errors
            self.invalid_slugs.add(entry.slug)
            return None
        digest = hashlib.blake2b("|".join(signature).encode(), digest_size=16).hexdigest() if all(signature) else ""
        return Found(entry.slug, entry.year, entry.layout, entry.location, paths, files, digest)

    def _plain(self, entry: _Entry, inside: str) -> Found | None:
        """The common case, checked with one ``lstat`` a file and nothing else: an article directory inside the
        root whose three files are regular files within the size limit. None for anything else (a missing file,
        a symlink, a special or oversized file), which :meth:`_check` then examines and reports file by file.
        At 50,000 articles this is most of an unchanged run's walk (150,000 files)."""
        directory, limit = entry.directory, self.max_bytes
        files, signature = {}, []
        for role, name in SOURCE_FILES.items():
            try:
                info = os.lstat(f"{directory}/{name}")
            except OSError:
                return None
            if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                return None
            files[role] = f"{inside}/{name}"
            signature.append(self._signature(info))
        location = entry.location
        paths = {role: f"{location}/{name}" for role, name in SOURCE_FILES.items()}
        digest = hashlib.blake2b("|".join(signature).encode(), digest_size=16).hexdigest() if all(signature) else ""
        return Found(entry.slug, entry.year, entry.layout, location, paths, files, digest)

    def _signature(self, info: os.stat_result) -> str:
        if info.st_mtime_ns > self._started_ns - RACY_NS:
            return ""
        return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def _check_file(
    directory: str, name: str, shown: str, root: str, max_bytes: int, errors: list[ContentError], real_dir: str | None
) -> tuple[str, os.stat_result] | None:
    """The file's real path and stat, or None with an error when it is missing, outside the root, special or
    too big. ``real_dir``, when given, is the file's directory already resolved and inside the root: a file
    that is not itself a symlink then needs one ``lstat``, not a walk of its whole path."""
    path = f"{directory}/{name}"
    try:
        info = os.lstat(path)
        if real_dir is not None and not stat.S_ISLNK(info.st_mode):
            real = f"{real_dir}/{name}"
        else:
            real = str(Path(path).resolve(strict=True))  # a missing file or a loop raises
            info = os.stat(real)
    except FileNotFoundError:
        errors.append(ContentError(shown, WHOLE_FILE, "file is missing (or is a broken symlink)"))
        return None
    except (RuntimeError, OSError) as exc:  # Python 3.11 says RuntimeError for a loop, later ones OSError ELOOP
        errors.append(ContentError(shown, WHOLE_FILE, _unreadable(exc)))
        return None
    if not _within(real, root):
        errors.append(ContentError(shown, WHOLE_FILE, f"is a symlink that leads outside the content root (to {real})"))
        return None
    if not stat.S_ISREG(info.st_mode):
        errors.append(ContentError(shown, WHOLE_FILE, "is not a regular file"))
        return None
    if info.st_size > max_bytes:
        limit = f"over the {max_bytes:,}-byte limit (GARDEN_MAX_FILE_BYTES)"
        errors.append(ContentError(shown, WHOLE_FILE, f"is {info.st_size:,} bytes, {limit}"))
        return None
    return real, info


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _unreadable(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno == errno.ELOOP):
        return "is a symlink loop (a symlink that leads, through others, back to itself)"
    return f"cannot be read: {exc.strerror if isinstance(exc, OSError) else exc}"


def _not_a_directory(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        return _unreadable(exc) if exc.errno == errno.ELOOP else "does not exist"
    return "is not a directory"
