"""Progress bars: drawn on a terminal or on request, and leaving multiprocessing alone.

When to draw: a bar redraws itself with carriage returns, right on a terminal and garbage in
a log. So a bar draws on its file (stderr) only if that is a terminal, unless forced. The
backend option `progress` says which (`wanted`): True draws, forced (the caller decided:
`nmc` passes True for a terminal or for --progress, and no bar otherwise); "auto" draws only
on a terminal; False or None never. Bars are labelled with the backend's registered name.

tqdm's default lock is a multiprocessing RLock, and creating one fixes the process start
method; Lava's import then calls mp.set_start_method('fork') and fails ("context has already
been set"). Our bars live in one process, so a thread lock is all they need.
"""
from __future__ import annotations

import sys
import threading


def wanted(progress, file=None) -> bool:
    """Whether to draw for a `progress` option: True always (forced), "auto" only when `file`
    (default: sys.stderr) is a terminal, anything false never."""
    if progress == "auto":
        return is_terminal(sys.stderr if file is None else file)
    return bool(progress)


def is_terminal(file) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def progress_bar(show: bool | str = "auto", **kwargs):
    """A tqdm bar (same keyword arguments) whose lock is a threading.RLock.

    `show` as in `wanted`: by default ("auto") the bar is drawn only if its `file` (default:
    stderr) is a terminal; show=True forces it, show=False disables it.
    """
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    if not wanted(show, kwargs.get("file")):
        kwargs["disable"] = True
    return tqdm(**kwargs)
