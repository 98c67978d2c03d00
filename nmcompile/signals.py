"""SIGTERM and SIGHUP stop `nmc` the way Ctrl-C does: cleanup runs, one line, exit 128+N.

Python leaves SIGTERM and SIGHUP to the kernel: the process dies on the spot and no
`finally` runs, so a Lava run left its worker processes and shared memory behind. Inside
`handled()` each of SIGINT, SIGTERM and SIGHUP raises `Interrupted`, a KeyboardInterrupt
(so everything that already cleans up after Ctrl-C also cleans up after these) carrying the
signal number; the CLI prints one line (`message`) and exits with `exit_code` (130, 143, 129).

`deferred()` holds the exception back until the end of a block, for code that must not be
cut in the middle: starting Lava's workers. A handler runs wherever the main thread is when
the signal arrives, including inside os.fork()'s at-fork hooks (logging's lock release),
where an exception is printed as "Exception ignored" and lost, and where it left logging's
lock taken and `nmc` hanging; an exception between a fork and multiprocessing's bookkeeping
would also leave a worker nobody knows of. Deferred, the signal is raised once every worker
of the run is known, and the teardown ends them all.

A second such signal while the first is handled (a teardown or a deferred block that hangs,
an impatient Ctrl-C) ends the process at once: one line, os._exit with the same convention,
no further cleanup. That cannot orphan Lava workers: they die with this process
(backends/lava/workers.py). Raising again instead would break off the teardown half-way and
then hang at exit, where multiprocessing joins the workers it still believes alive.

A signal ignored when `nmc` starts stays ignored (SIGHUP under nohup, SIGINT in a background
job of a script). The handlers act only in the process that installed them: a forked child
that still has them ignores SIGINT and dies quietly of SIGTERM or SIGHUP, as if unset.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP while `handled()` is active."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind a KeyboardInterrupt (a plain one is SIGINT)."""
    return getattr(exc, "signum", signal.SIGINT)


def exit_code(signum: int) -> int:
    """The shell's convention for a process ended by `signum`: 128 + signum."""
    return 128 + int(signum)


def message(signum: int) -> str:
    """'interrupted (SIGINT)', 'terminated (SIGTERM)', 'hung up (SIGHUP)'."""
    what = {signal.SIGINT: "interrupted", signal.SIGHUP: "hung up"}.get(signum, "terminated")
    return f"{what} ({signal.Signals(signum).name})"


class _State:
    owner: int | None = None      # pid of the process whose handlers are installed
    prog = "nmc"
    received: int | None = None   # the first signal, once one arrived
    raised = False                # ... and whether it was raised yet
    deferring = False


_state = _State()


@contextlib.contextmanager
def handled(prog: str = "nmc"):
    """SIGINT, SIGTERM and SIGHUP raise Interrupted inside the block (main thread only; in
    any other thread, where Python cannot set handlers, the block runs unchanged)."""
    global _state
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    outer, _state = _state, _State()
    _state.owner, _state.prog = os.getpid(), prog
    try:
        for signum, old in previous.items():
            if old != signal.SIG_IGN:  # ignored from the start (nohup, a background job): stays so
                signal.signal(signum, _handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
        _state = outer


@contextlib.contextmanager
def deferred():
    """Inside `handled()`: a signal arriving in the block is raised when the block ends."""
    state = _state
    if state.owner != os.getpid() or state.deferring:  # not handled here, or nested
        yield
        return
    state.deferring = True
    try:
        yield
    finally:
        state.deferring = False
        if state.received is not None and not state.raised:
            state.raised = True
            raise Interrupted(state.received)


def _handler(signum, frame):
    state = _state
    if os.getpid() != state.owner:  # inherited across fork: behave as if never set
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        return
    if state.received is not None:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{state.prog}: {message(signum)} during cleanup; exiting now\n")
            sys.stderr.flush()
        os._exit(exit_code(signum))
    state.received = signum
    if state.deferring:
        return
    state.raised = True
    raise Interrupted(signum)
