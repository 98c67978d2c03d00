"""Shared pytest configuration. Keep each concern in its own clearly marked section."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis.internal.conjecture import providers as _hypothesis_providers
from hypothesis.internal.constants_ast import Constants as _HypothesisConstants

# --- derandomized examples that stay the same (hypothesis 6.1xx) ---------------------------
# Hypothesis mixes literals it finds in the project's own modules (nmcompile is installed
# editable; examples' scripts are imported by their tests) into the values it draws. Which
# modules are loaded depends on which tests ran before, and the literals on every edit, so a
# derandomized test drew other networks in the full suite than alone (a coverage assertion of
# tests/parity/test_mixed_models.py failed only after tests/examples had run). An empty pool
# makes each test's examples depend on its own code alone. (Internal API: hypothesis is
# pinned by the lock; tests/unit/test_hypothesis_pool.py fails if the hook goes away.)
_hypothesis_providers._get_local_constants = lambda: _HypothesisConstants()


# --- no forked worker left (Lava backend, issue 4) ---------------------------------------
# Lava runs every process model in a forked worker (plus a forked shared-memory manager).
# A run must tear all of them down, also on errors and Ctrl-C; this check fails the session
# if any forked descendant of the test process is still alive once every test has run.
# Python's own multiprocessing resource_tracker is exec'd (another command line): ignored.

def forked_descendants(pid: int | None = None) -> list[int]:
    """Living descendants of `pid` (default: this process) that are forks of this process."""
    me = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
    out = []
    for child in _children(os.getpid() if pid is None else pid):
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == me:
                out.append(child)
        except OSError:  # ended meanwhile
            continue
        out += forked_descendants(child)
    return out


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_forked_worker_left():
    """Session teardown: fails (as an error of the last test) if a worker survived."""
    yield
    left = forked_descendants()
    if left:
        pytest.fail(f"{len(left)} forked worker process(es) still running after the tests: "
                    f"pids {left} (a Lava run was not stopped)")
