"""Diagnostics with a location, and the two error kinds the CLI maps to exit codes."""
from __future__ import annotations

from dataclasses import dataclass

from nmcompile.files.inputfiles import printable
from nmcompile.ir import Location


@dataclass(frozen=True)
class Diagnostic:
    """One finding of a pass: printed as `file:line: path: message` (severity when not error)."""

    severity: str  # "error" | "warning" | "note"
    code: str      # e.g. "NM203"
    message: str
    location: Location = Location()

    def __str__(self) -> str:
        loc = self.location
        where = str(loc) if loc.file or loc.line is not None else \
            ("nmc" + (f": {loc.path}" if loc.path else ""))  # about the command, not a file
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return printable(f"{where}: {tag}{self.message}")  # one line, whatever a file name holds


class InputError(Exception):
    """Bad input (model, target, usage, image): exit code 2, one line per diagnostic, no traceback."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic("error", "NM000", diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RunError(Exception):
    """A run or parity failure (exit code 1): strict-mode overflow, a backend crash, a mismatch."""


class InternalError(Exception):
    """A broken invariant inside nmcompile: a bug to report, never the user's fault
    (the CLI prints it, like any unexpected exception, as one "internal error" line)."""


def error(message: str, location: Location = Location(), code: str = "NM100") -> InputError:
    return InputError(Diagnostic("error", code, message, location))
