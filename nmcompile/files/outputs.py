"""A command's outputs, checked together before any work: none may replace an input or
another output of the same command, each has the extension of what it holds, and each can
be created (its temporary file is made now, see `nmcompile.files.atomic.reserve`).

Paths are compared as the file system sees them: resolved (symlinks followed) and, where
the file exists, by device and inode, so a hard link or `./m.yaml` vs `m.yaml` is caught.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from nmcompile.diagnostics import error
from nmcompile.files.atomic import check_writable, release, reserve
from nmcompile.ir import Location

# kind -> (extensions, what it is)
KINDS = {
    "image": ((".nmc",), "a chip image"),
    "result": ((".npz",), "a result"),
    "plot": ((".png", ".svg", ".pdf"), "a plot"),
    "json": ((".json",), "a JSON report"),
    "junit": ((".xml",), "a JUnit report"),
    "model": ((".yaml", ".yml"), "a model file"),
    "nir": ((".nir",), "a NIR graph"),
}


def check_outputs(inputs: Iterable[str | None],
                  outputs: Iterable[tuple[str, str | None, str]]) -> None:
    """`outputs` are (flag, path or None, kind); an InputError names the first bad one."""
    outputs = [(flag, path, kind) for flag, path, kind in outputs if path is not None]
    taken: list[tuple[str, str, tuple]] = []
    for flag, path, kind in outputs:
        if not path.strip():
            raise error(f"{flag}: the output path is empty")
        where = Location(file=path)
        extensions, what = KINDS[kind]
        if not path.lower().endswith(extensions):
            raise error(f"{flag} writes {what}: name the file *{' or *'.join(extensions)}", where)
        ident = _identity(path)
        for other_flag, other_path, other in taken:
            if _same(ident, other):
                raise error(f"{flag} and {other_flag} name the same file: give each its own",
                            where)
        taken.append((flag, path, ident))
    check_not_inputs(inputs, outputs)
    for flag, path, _ in outputs:
        check_writable(path)
    try:
        for _, path, _ in outputs:
            reserve(path)
    except BaseException:
        for _, path, _ in outputs:
            release(path)
        raise


def check_not_inputs(inputs: Iterable[str | None],
                     outputs: Iterable[tuple[str, str | None, str]]) -> None:
    """No output may be one of `inputs` (also called once a model is read, with the files
    it read: connectivity `.npz` files)."""
    sources = [(path, _identity(path)) for path in inputs if path]
    for flag, path, _ in outputs:
        if path is None:
            continue
        ident = _identity(path)
        for source, other in sources:
            if _same(ident, other):
                raise error(f"{flag} would overwrite the input {source}: choose another name",
                            Location(file=path))


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    try:
        st = os.stat(path)
        inode = (st.st_dev, st.st_ino)
    except OSError:
        inode = None
    return os.path.realpath(path), inode


def _same(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])
