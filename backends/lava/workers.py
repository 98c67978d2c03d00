"""Lava's worker processes die with the process that started them, however it dies.

Lava 0.10 runs each process model, the runtime service and the shared-memory manager's
server in processes forked (multiprocessing, start method 'fork') from the thread that calls
`run`. Nothing tells them when that process dies: after SIGKILL, a crash, or a signal with
its default action they live on, reparented to init, holding their /dev/shm segments (found
on a SIGTERM to `nmc run -b lava`: 16 processes and ~46 segments left).

Mechanism: while a run is `armed()`, every process forked from this one asks the kernel,
right after fork and before any Lava code runs in it, to be sent SIGKILL when its parent
dies (prctl PR_SET_PDEATHSIG), then checks that the parent is still the one that forked it
(the parent may have died before the request: then the child exits at once). Why this and
not a watchdog process that kills registered workers when its pipe from the parent closes:
* the kernel delivers it, also after SIGKILL of the parent or a crash, with no helper
  process that can itself be killed, hang, or start late;
* it needs no list of workers: the stdlib forks the shared-memory server inside
  `SharedMemoryManager.start()`, where nothing could register it before it runs;
* there is no window: the request is made in the fork hook, before the child runs anything.
PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process. Lava
forks from the thread that calls `run` (Runtime.initialize -> SharedMemoryManager.start and
MultiProcessing.build_actor -> Process.start); `nmc` runs it in the main thread, which lives
as long as the process. A program that runs the backend in another thread keeps that thread
in `run_graph` until the workers are torn down, so they never outlive it there either.
Without prctl (not Linux) arming only sets the signals below.

Signals in the workers: SIGINT is ignored (a terminal's Ctrl-C reaches the whole process
group; the parent stops the run and tears the workers down, so each worker printing its own
KeyboardInterrupt traceback is noise); SIGTERM and SIGHUP go back to their default, quiet
death (the parent's handlers from nmcompile.signals would otherwise be inherited), unless
ignored (SIGHUP under nohup).

Shared memory: Lava's channel buffers are SharedMemory segments created in this process and
registered with the stdlib resource tracker, an exec'd helper (not a fork, so not armed).
A teardown in this process unlinks them (session.shutdown). If this process is killed, its
workers die with it, which closes the last copies of the tracker's pipe, and the tracker
unlinks every segment still registered (printing a "leaked shared_memory objects" warning).
Only killing the tracker too (kill -9 of the whole process group) leaves segments behind.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1

_armed_by: int | None = None   # pid whose forks are armed (None in the forked children)
_prctl = None                  # libc prctl, loaded in the parent: no dlopen after fork
_hook_installed = False


@contextlib.contextmanager
def armed():
    """Every process forked from this one inside the block dies with its parent thread."""
    global _armed_by, _hook_installed
    _load_prctl()
    if not _hook_installed:  # os.register_at_fork cannot be undone: once, switched by _armed_by
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _hook_installed = True
    previous, _armed_by = _armed_by, os.getpid()
    try:
        yield
    finally:
        _armed_by = previous


def _after_fork_in_child() -> None:
    global _armed_by
    parent, _armed_by = _armed_by, None  # a worker's own forks are not armed
    if parent is None:
        return
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) != signal.SIG_IGN:  # nohup's SIGHUP stays ignored
            signal.signal(signum, signal.SIG_DFL)


def _load_prctl():
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # libc's, already loaded
        prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                          ctypes.c_ulong]
        prctl.restype = ctypes.c_int
        _prctl = prctl
    return _prctl
