"""Outputs are written to a temporary file next to their target and renamed when complete,
so a crash or Ctrl-C never leaves a half-written file behind.

A command reserves its outputs before any work (`reserve`): that creates the temporary file
in the output's folder, so an output that cannot be created (read-only folder, `/proc`, an
immutable file, a full disk's missing inode) is found before a long run, not after it. The
temporary file is named `<output>.nmc-partial-XXXXXXXX` — visible and recognisable, never
hidden — and removed on every exit Python sees (an exception, Ctrl-C, SIGTERM/SIGHUP through
`nmcompile.signals`, `sys.exit`). Only SIGKILL or a power cut can leave one behind.
"""
from __future__ import annotations

import atexit
import os
import tempfile
from contextlib import contextmanager

from nmcompile.diagnostics import error
from nmcompile.ir import Location

PARTIAL_MARK = ".nmc-partial-"
_reserved: dict[str, str] = {}   # absolute output path -> its temporary file


def check_writable(path: str) -> None:
    """Refuse an output whose folder is missing or read-only, or that names a folder or a
    special file (a FIFO, a device), or a file that cannot be replaced."""
    if not path:
        raise error("an output path is empty")
    where = Location(file=path)
    folder = os.path.dirname(os.path.abspath(path))
    shown = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise error(f"cannot write: folder {shown} does not exist", where)
    if os.path.isdir(path):
        raise error("cannot write: it is a folder", where)
    if os.path.exists(path) and not os.path.isfile(path):
        raise error("cannot write: it is not a regular file", where)
    if os.path.isfile(path) and not os.access(path, os.W_OK):
        raise error("cannot write: the file is read-only or immutable", where)
    if not os.access(folder, os.W_OK):
        raise error(f"cannot write: folder {shown} is not writable", where)


def reserve(path: str) -> None:
    """Check `path` and create its temporary file now; `atomic_output` will write into it."""
    key = os.path.abspath(path)
    if key in _reserved:
        return
    check_writable(path)
    folder = os.path.dirname(key)
    try:  # the longest legal output name still leaves room for the mark and 8 random letters
        room = os.pathconf(folder, "PC_NAME_MAX") - len(PARTIAL_MARK) - 8
    except (OSError, ValueError):
        room = 255 - len(PARTIAL_MARK) - 8
    try:
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path)[:max(room, 1)] + PARTIAL_MARK,
                                   dir=folder)
    except OSError as exc:
        raise error(f"cannot write: {exc.strerror or exc}", Location(file=path)) from None
    os.close(fd)
    _reserved[key] = tmp


@contextmanager
def atomic_output(path: str, mode: str = "wb"):
    """Yield a file object; on success it replaces `path` (with the permissions open() would
    give), on any failure it is removed."""
    reserve(path)
    tmp = _reserved[os.path.abspath(path)]
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is meant for secrets
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise error(f"cannot write: {exc.strerror or exc}", Location(file=path)) from None
    finally:
        release(path)


def release(path: str) -> None:
    """Remove the temporary file reserved for `path`, if any (the output is not written)."""
    tmp = _reserved.pop(os.path.abspath(path), None)
    if tmp is not None and os.path.lexists(tmp):
        os.unlink(tmp)


@atexit.register
def discard_reserved() -> None:
    """Remove every temporary file still reserved (outputs a failed command never wrote)."""
    for key in list(_reserved):
        release(key)
