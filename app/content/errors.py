"""The one error shape for bad input: which file, which field, what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContentError:
    """One problem with one input file, in words a content author understands.

    ``field`` is a path into the file's data (``claims[2].confidence``, ``status``), ``front matter`` when the
    front matter as a whole cannot be read, or
    ``(file)`` when the problem concerns the file as a whole (encoding, syntax, size, location).
    """

    file: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "field": self.field, "message": self.message}


WHOLE_FILE = "(file)"


class InvalidContent(Exception):
    """Raised while parsing one article when its files cannot be read or break identity; carries every error."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__("; ".join(f"{e.file}: {e.field}: {e.message}" for e in errors))
        self.errors = errors
