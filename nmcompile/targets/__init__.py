"""Built-in chip targets (YAML files next to this module) and the loader for a user's own file."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from nmcompile.diagnostics import error
from nmcompile.files.inputfiles import UnreadableFile, read_text_file
from nmcompile.frontends.modelfile.yamlmarks import parse
from nmcompile.ir import Location
from nmcompile.targets.schema import Numerics, Resources, Target, parse_target

_HERE = Path(__file__).parent


def list_targets() -> list[Target]:
    """Every built-in target, sorted by name."""
    return [load_target(p.stem) for p in sorted(_HERE.glob("*.yaml"))]


def load_target(name_or_path: str | os.PathLike | Target) -> Target:
    """A built-in target by name (`loihi2`) or a user's YAML file by path."""
    if isinstance(name_or_path, Target):
        return name_or_path
    text = str(name_or_path)
    builtin = _HERE / f"{text}.yaml"
    if os.sep not in text and not text.endswith((".yaml", ".yml", ".json")) and builtin.exists():
        return _load_file(str(builtin))
    if not os.path.exists(text):
        names = ", ".join(p.stem for p in sorted(_HERE.glob("*.yaml")))
        raise error(f"unknown target {text!r}: not a built-in ({names}) nor a file",
                    Location(text), code="NM500")
    return _load_file(text)


@lru_cache(maxsize=32)
def _load_file_cached(path: str, mtime: float | None) -> Target:
    doc, source = parse(_read_text(path), path)
    return parse_target(doc, source)


def _read_text(path: str) -> str:
    """The file's text, or an InputError (exit 2) saying why a user's target can't be read."""
    try:  # a FIFO or device is refused before it is opened
        return read_text_file(path).decode("utf-8")
    except UnreadableFile as exc:
        reason = exc.text("a target file")
    except UnicodeDecodeError as exc:
        reason = f"not a text (UTF-8) file: {exc.reason} at byte {exc.start}"
    raise error(f"cannot read target file: {reason}", Location(path), code="NM502")


def _load_file(path: str) -> Target:
    try:
        mtime = os.path.getmtime(path)
    except OSError:  # gone since load_target looked: _read_text says why
        mtime = None
    return _load_file_cached(path, mtime)


__all__ = ["Numerics", "Resources", "Target", "list_targets", "load_target"]
