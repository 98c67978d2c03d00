"""Run a network on one Brian2 code target: numpy, cython (runtime devices) or cpp_standalone.

All three compute the same floats: Brian2's default gcc flags (-ffast-math, -march=native)
would let the compiler fuse `v * v_keep` and `+ u` into one FMA or regroup sums, so compiled
targets use flags that keep IEEE semantics, and compiled code is cached in our own folders
(Brian2's cython cache key ignores compiler flags).
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import warnings
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from nmcompile.diagnostics import InputError, RunError
from nmcompile.ir import Network, source_spikes
from nmcompile.progress import progress_bar, wanted
from nmcompile.result import Result

from .lowering import collect, lower

CODE_TARGETS = ("numpy", "cython", "cpp_standalone")
EXACT_GCC_ARGS = ["-w", "-O3", "-std=c++11", "-fno-fast-math", "-ffp-contract=off"]


def cache_root() -> Path:
    """~/.cache/nmcompile/brian2 (or under $XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nmcompile" / "brian2"


def _import_brian2():
    """Brian2 2.8 imports setuptools' private MSVC helper, about which setuptools (>= 74) warns
    on every import: noise on every run, for a compiler this platform never uses."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="_get_vc_env is private", category=UserWarning)
        import brian2
    return brian2


def simulate(net: Network, steps: int, code_target: str = "numpy",
             progress: bool | str = False, label: str = "brian2") -> Result:
    """Run `net` for `steps` steps on `code_target`; a fresh Brian2 Network every call.

    `progress` as in nmcompile.progress.wanted; the bar is labelled `label` (the backend's name).
    """
    progress = wanted(progress)
    missing = refused(net, code_target) or missing_tool(code_target)
    if missing:
        raise InputError(missing)
    b2 = _import_brian2()

    if code_target == "cpp_standalone":
        # Brian2 names code objects uniquely among live objects: a previous run's objects,
        # kept alive by reference cycles, would rename ours (`_1`), and the C++ file names
        # with them, so make would rebuild. (Cython's cache is keyed by the code, which does
        # not contain those names.)
        gc.collect()
    with _prefs(code_target), _as_run_error(code_target):
        if code_target == "cpp_standalone":
            return _run_standalone(b2, net, steps, progress)
        clock = b2.Clock(dt=net.dt * b2.ms, name="nmc_clock")
        lowered = lower(net, steps, clock)
        network = b2.Network(*lowered.objects)
        with _progress_bar(progress, label) as report:
            network.run(steps * net.dt * b2.ms, namespace={}, report=report,
                        report_period=1 * b2.second)
        _check_compiled(network)
        return collect(lowered, net, steps)


def _check_compiled(network) -> None:
    """Brian2 turns a Cython compile error into a code object that silently does nothing."""
    for obj in network.sorted_objects:
        code_object = getattr(obj, "codeobj", None)
        for block, compiled in getattr(code_object, "compiled_code", {}).items():
            source = getattr(code_object.code, block, "").strip()
            if compiled is None and source and "EMPTY_CODE_BLOCK" not in source:
                raise RunError(f"brian2: compiling {code_object.name} ({block}) failed; "
                               "see the compiler messages above")


def missing_tool(code_target: str) -> str | None:
    """Why `code_target` cannot run here (unknown, Cython or a C++ toolchain missing), or None."""
    if code_target not in CODE_TARGETS:
        return f"unknown Brian2 code target {code_target!r}; choose from {', '.join(CODE_TARGETS)}"
    if code_target == "cython" and find_spec("Cython") is None:
        return "code target cython needs the Cython package (pip install 'nmcompile[brian2]')"
    if code_target == "cpp_standalone":
        tools = [os.environ.get("CXX") or "g++", "make"]
        absent = [t for t in tools if shutil.which(t.split()[0]) is None]
        if absent:
            return f"code target cpp_standalone needs {' and '.join(absent)} on the PATH"
    return None


def refused(net: Network, code_target: str) -> str | None:
    """Why `code_target` cannot run `net`, or None: cpp_standalone runs the whole simulation
    in C++, and plastic projections learn in Python between steps (lowering.py)."""
    plastic = [p.name for p in net.plastic_projections()]
    if code_target == "cpp_standalone" and plastic:
        return (f"brian2 code target cpp_standalone cannot run plastic projection(s) "
                f"{', '.join(plastic)}: their learning runs in Python between Brian2 steps; "
                f"use code target numpy or cython")
    return None


@contextlib.contextmanager
def _as_run_error(code_target: str):
    """A failing compile or simulation is a run failure (exit 1), not a traceback."""
    try:
        yield
    except (InputError, RunError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise RunError(f"brian2 ({code_target}) failed: {type(exc).__name__}: {exc}") from exc


def _run_standalone(b2, net: Network, steps: int, progress: bool) -> Result:
    """Build (or reuse) the C++ project of this exact model and run it."""
    import fcntl

    from brian2.devices.device import all_devices, reset_device, set_device

    directory = cache_root() / "standalone" / model_hash(net, steps)
    directory.mkdir(parents=True, exist_ok=True)
    device = all_devices["cpp_standalone"]
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # one build and run per folder at a time
        set_device("cpp_standalone", build_on_run=False)
        try:
            clock = b2.Clock(dt=net.dt * b2.ms, name="nmc_clock")
            lowered = lower(net, steps, clock)
            network = b2.Network(*lowered.objects)
            network.run(steps * net.dt * b2.ms, namespace={},
                        report="stderr" if progress else None)
            device.build(directory=str(directory), compile=True, run=True, clean=False,
                         with_output=progress)
            return collect(lowered, net, steps)
        finally:
            device.reinit()
            reset_device()


def model_hash(net: Network, steps: int) -> str:
    """Digest of what the generated C++ depends on: model (a current or not picks the group),
    source spikes, run, tools.

    One project folder per digest keeps `make` incremental: Brian2 rewrites only changed
    sources on every build, so a folder is never stale, merely fast to rebuild.
    """
    import brian2

    h = hashlib.sha256()
    head = {"dt": net.dt, "steps": steps, "brian2": brian2.__version__, "gcc": EXACT_GCC_ARGS,
            "cxx": os.environ.get("CXX"),
            "populations": [(p.name, p.size, p.model.kind, repr(p.model) if not p.is_source
                             else None, net.has_current(p.name))
                            for p in net.populations.values()],
            "probes": [(p.population, p.var) for p in net.probes]}
    h.update(json.dumps(head, sort_keys=True).encode())
    for pop in net.populations.values():
        if pop.is_source:
            for a in source_spikes(pop, net, steps):
                h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    for proj in net.projections:
        h.update(json.dumps([proj.name, proj.pre, proj.post]).encode())
        for a in (proj.pre_idx, proj.post_idx, proj.delay):
            h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(proj.weight, dtype=np.float64).tobytes())
    return h.hexdigest()[:24]


@contextlib.contextmanager
def _prefs(code_target: str):
    """Brian2 preferences for this run, restored afterwards (they are process-global)."""
    from brian2 import prefs

    wanted = {
        "codegen.target": "cython" if code_target == "cython" else "numpy",
        "codegen.cpp.extra_compile_args_gcc": EXACT_GCC_ARGS,
        "codegen.runtime.cython.cache_dir": str(cache_root() / "cython"),
        "devices.cpp_standalone.extra_make_args_unix": [f"-j{min(4, os.cpu_count() or 1)}"],
    }
    saved = {key: prefs[key] for key in wanted}
    try:
        for key, value in wanted.items():
            prefs[key] = value
        yield
    finally:
        for key, value in saved.items():
            prefs[key] = value


@contextlib.contextmanager
def _progress_bar(enabled: bool, label: str):
    """A Brian2 `report` callable drawing a tqdm bar that shows up after 2 s, or None."""
    if not enabled:
        yield None
        return
    bar = progress_bar(show=True, total=100, unit="%", desc=label, delay=2.0, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def report(elapsed, completed, start, duration):
        bar.update(round(100 * float(completed)) - bar.n)

    try:
        yield report
    finally:
        bar.close()
