"""Outputs are written to a temporary file next to their target and renamed when complete,
so a crash or Ctrl-C never leaves a half-written file behind."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

from nmcompile.diagnostics import error


def check_writable(path: str) -> None:
    """Refuse, before any work is done, an output whose folder is missing or read-only."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise error(f"cannot write {path}: folder {os.path.dirname(path) or '.'} does not exist")
    if not os.access(folder, os.W_OK):
        raise error(f"cannot write {path}: folder {os.path.dirname(path) or '.'} is not writable")
    if os.path.isdir(path):
        raise error(f"cannot write {path}: it is a folder")


@contextmanager
def atomic_output(path: str, mode: str = "wb"):
    """Yield a file object; on success it replaces `path` (with the permissions open() would
    give), on any failure it is removed."""
    check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=".nmc-", suffix=os.path.splitext(path)[1],
                               dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is meant for secrets
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
