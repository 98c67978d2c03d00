"""Progress bars that leave multiprocessing alone.

tqdm's default lock is a multiprocessing RLock, and creating one fixes the process start
method; Lava's import then calls mp.set_start_method('fork') and fails ("context has already
been set"). Our bars live in one process, so a thread lock is all they need.
"""
from __future__ import annotations

import threading


def progress_bar(**kwargs):
    """A tqdm bar (same keyword arguments) whose lock is a threading.RLock."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
    return tqdm(**kwargs)
