"""`nmc run -b lava` stopped by a signal leaves no worker process and no shared memory (issue 10).

Each test starts the real command in its own session (process group), waits until its Lava
workers run, records them (every descendant, with its start time, so a reused PID is not
mistaken for a survivor) and the /dev/shm segments the run maps, sends one signal and checks
that within CLEANUP_S no recorded process is alive, no process of the run's session either
(orphans keep it: this catches workers started after the recording) and no recorded segment
exists. Segments are the run's own (new since the start *and* mapped by its processes):
other runs on the same machine create and remove segments meanwhile. Linux only (/proc).

Also here: progress bars are named after the backend and silent unless on a terminal or forced.
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nmcompile.ir import LIF, Network, Population, Projection, SpikeArray
from nmcompile.progress import progress_bar, wanted

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "examples" / "recurrent_ei.yaml"
START_S = 180.0      # Lava's import and build on a loaded 2-core CI machine
SETTLED_S = 1.0      # no new worker for this long: the run is under way
CLEANUP_S = 10.0     # everything must be gone this long after the signal

linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="reads /proc; workers die with nmc through PR_SET_PDEATHSIG")


def nmc_command() -> list[str]:
    script = Path(sys.executable).with_name("nmc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nmcompile.cli"]


# --- /proc helpers -------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # ended meanwhile
            continue
    return found


def descendants(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        out += [child] + descendants(child)
    return out


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from the state on (state, ppid, pgrp, session, ...), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "


def identity(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of `pid`, or None if there is no such process."""
    fields = stat_fields(pid)
    return None if fields is None else (fields[0], int(fields[19]))


def session_members(sid: int) -> list[int]:
    """Living processes of session `sid`: whatever a run started, orphaned or not, keeps it."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields is not None and int(fields[3]) == sid and fields[0] not in ("Z", "X"):
                out.append(int(entry.name))
    return out


def still_running(recorded: dict[int, int]) -> list[int]:
    """The recorded processes (pid -> start time) that are alive: same process, not a zombie."""
    out = []
    for pid, started in recorded.items():
        now = identity(pid)
        if now is not None and now[1] == started and now[0] not in ("Z", "X"):
            out.append(pid)
    return out


def shm_mapped(pid: int) -> set[str]:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    return {token[len("/dev/shm/"):] for line in maps.splitlines() for token in line.split()
            if token.startswith("/dev/shm/")}


def shm_entries() -> set[str]:
    return set(os.listdir("/dev/shm"))


# --- the run under test --------------------------------------------------------------------

def _default_signals():  # in the child: a signal the test runner ignores is not inherited
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


class LavaRun:
    """`nmc run examples/recurrent_ei.yaml -b lava --steps 30000 -q`, its workers, its memory."""

    def __init__(self):
        self.shm_before = shm_entries()
        self.proc = subprocess.Popen(
            nmc_command() + ["run", str(MODEL), "-b", "lava", "--steps", "30000", "-q"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True, preexec_fn=_default_signals)
        self.workers: dict[int, int] = {}   # pid -> start time
        self.segments: set[str] = set()

    def wait_until_running(self, forks: int = 3, settled: float = SETTLED_S) -> None:
        """Until at least `forks` Lava processes exist and none was added for `settled` s."""
        me = Path(f"/proc/{self.proc.pid}/cmdline").read_bytes()
        deadline, seen, since = time.monotonic() + START_S, None, time.monotonic()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.clean_up()
                pytest.fail(f"nmc ended before its workers ran: {self.proc.communicate()}")
            found = sorted(descendants(self.proc.pid))
            if found != seen:
                seen, since = found, time.monotonic()
            if (sum(_cmdline(p) == me for p in found) >= forks
                    and time.monotonic() - since >= settled):
                break
            time.sleep(0.002 if settled == 0 else 0.05)
        else:
            pytest.fail(f"not {forks} Lava workers (settled) within {START_S} s: {seen}")
        for pid in seen:
            now = identity(pid)
            if now is not None:
                self.workers[pid] = now[1]
        mapped = set().union(*(shm_mapped(p) for p in [self.proc.pid, *self.workers]))
        self.segments = (shm_entries() - self.shm_before) & mapped

    def finish(self) -> tuple[int, str, str]:
        """Exit code, stdout, stderr, once everything recorded is gone (within CLEANUP_S)."""
        deadline = time.monotonic() + CLEANUP_S
        while time.monotonic() < deadline:
            if (self.proc.poll() is not None and not still_running(self.workers)
                    and not session_members(self.proc.pid)
                    and not self.segments & shm_entries()):
                break
            time.sleep(0.05)
        left, kept = still_running(self.workers), self.segments & shm_entries()
        strays = session_members(self.proc.pid)  # also workers started after the recording
        ended = self.proc.poll() is not None
        if left or strays or not ended:
            self.clean_up()  # survivors hold the output pipes: reading them would block
        out, err = self.proc.communicate()
        assert ended, f"nmc still running {CLEANUP_S} s after the signal; stderr: {err}"
        assert not left, (f"{len(left)} of {len(self.workers)} workers still running "
                          f"{CLEANUP_S} s after the signal: {left}; stderr: {err}")
        assert not strays, f"processes of the run's session still running: {strays}; {err}"
        assert not kept, f"{len(kept)} of {len(self.segments)} /dev/shm segments left: {kept}"
        return self.proc.returncode, out, err

    def clean_up(self) -> None:
        """End whatever this run left (its own processes and segments only); no-op if none."""
        if self.proc.poll() is None:
            for pid in descendants(self.proc.pid):  # also those not recorded yet
                now = identity(pid)
                if now is not None:
                    self.workers.setdefault(pid, now[1])
            self.proc.kill()
            self.proc.wait()
        for pid in set(still_running(self.workers)) | set(session_members(self.proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for name in self.segments & shm_entries():
            try:
                os.unlink(f"/dev/shm/{name}")
            except OSError:
                pass


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture
def lava_run():
    """A run under way: every worker started, the segments in use."""
    with started() as run:
        run.wait_until_running()
        assert len(run.workers) >= 4, run.workers  # tracker, manager, service, processes
        assert run.segments, "the run maps no new /dev/shm segment: nothing would be checked"
        yield run


@contextlib.contextmanager
def started():
    run = LavaRun()
    try:
        yield run
    finally:
        run.clean_up()
        run.proc.stdout.close()
        run.proc.stderr.close()


# --- signals -------------------------------------------------------------------------------

@linux
@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.parametrize("signum, code, line", [
    (signal.SIGTERM, 143, "nmc: terminated (SIGTERM)"),
    (signal.SIGHUP, 129, "nmc: hung up (SIGHUP)"),
])
def test_sigterm_and_sighup_stop_the_run_like_ctrl_c(lava_run, signum, code, line):
    os.kill(lava_run.proc.pid, signum)
    returncode, out, err = lava_run.finish()
    assert returncode == code, err
    assert err.splitlines() == [line]
    assert "Traceback" not in err and out == ""


@linux
@pytest.mark.slow
@pytest.mark.lava
def test_sigkill_leaves_no_worker_and_no_shared_memory(lava_run):
    """Nothing runs in nmc after SIGKILL: the workers die with it (PR_SET_PDEATHSIG) and the
    resource tracker then unlinks the segments (and says so on stderr)."""
    os.kill(lava_run.proc.pid, signal.SIGKILL)
    returncode, _, _ = lava_run.finish()
    assert returncode == -signal.SIGKILL


@linux
@pytest.mark.slow
@pytest.mark.lava
def test_ctrl_c_to_the_process_group_prints_one_line_and_no_worker_traceback(lava_run):
    """A terminal's Ctrl-C reaches every process of the group: workers ignore it, nmc ends them."""
    os.killpg(lava_run.proc.pid, signal.SIGINT)
    returncode, out, err = lava_run.finish()
    assert returncode == 130, err
    assert err.splitlines() == ["nmc: interrupted (SIGINT)"]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and out == ""


@linux
@pytest.mark.slow
@pytest.mark.lava
def test_a_signal_while_the_workers_start_is_raised_once_all_are_known():
    """SIGTERM right after the first Lava worker forked: the handler must not raise inside
    os.fork()'s hooks (the exception would be lost and nmc hang) nor before Lava lists the
    worker; the workers started after the signal are checked through the run's session."""
    with started() as run:
        run.wait_until_running(forks=2, settled=0)   # the manager's server and a first worker
        os.kill(run.proc.pid, signal.SIGTERM)
        returncode, out, err = run.finish()
    assert returncode == 143, err
    assert err.splitlines() == ["nmc: terminated (SIGTERM)"]


# --- progress bars -------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drawn(show, file) -> str:
    with progress_bar(show=show, total=3, desc="x", file=file, mininterval=0) as bar:
        bar.update(3)
    return file.getvalue()


def test_a_bar_draws_on_a_terminal_or_when_forced_only():
    assert drawn("auto", io.StringIO()) == ""         # a log file: nothing, not even \r
    assert "x: 100%" in drawn("auto", Terminal())
    assert "x: 100%" in drawn(True, io.StringIO())    # forced: the user asked (--progress)
    assert drawn(False, Terminal()) == ""
    assert wanted("auto", Terminal()) and not wanted("auto", io.StringIO())
    assert wanted(True, io.StringIO()) and not wanted(None, Terminal())


def tiny_net() -> Network:
    pops = {"cue": Population(name="cue", size=1, model=SpikeArray(neurons=np.array([0]),
                                                                   steps=np.array([1]))),
            "n": Population(name="n", size=1, model=LIF(tau_syn=5.0, tau_mem=10.0, v_th=1.0))}
    proj = Projection(name="p", pre="cue", post="n", pre_idx=np.array([0], np.int32),
                      post_idx=np.array([0], np.int32), weight=np.array([1.5]),
                      delay=np.array([1], np.int32))
    return Network(name="tiny", populations=pops, projections=(proj,), steps=20)


@pytest.mark.slow
@pytest.mark.lava
def test_the_lava_bar_is_named_by_the_backend_and_silent_off_a_terminal(capsys):
    from nmcompile import driver
    driver.run(tiny_net(), "lava-fixed", options={"progress": True})
    assert "lava-fixed:" in capsys.readouterr().err        # not "lava"
    driver.run(tiny_net(), "lava", options={"progress": "auto"})  # captured stderr: no TTY
    assert capsys.readouterr().err == ""
