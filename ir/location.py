"""Where an IR object came from, for diagnostics."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where an object came from, for diagnostics: file, line and path inside the document."""

    file: str | None = None
    line: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}" if self.line is not None else \
            f"{self.file or '<network>'}"  # f-string: a file given as a Path is text too
        return f"{head}: {self.path}" if self.path else head
