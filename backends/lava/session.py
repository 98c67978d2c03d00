"""Run a LavaGraph with Loihi2SimCfg and always tear its worker processes down.

Lava starts one OS process per Lava process plus a runtime service and a shared-memory
manager. Two Lava habits need care here:
* a process model that raises can leave the blocking `run` waiting forever, so the run
  is started non-blocking and watched: a worker that exits before the run is done fails
  the run with the worker's own error;
* after an error or Ctrl-C a worker may never answer `stop()`, so the teardown then
  terminates (and if need be kills) the workers this run started instead of waiting, and
  unlinks the run's shared-memory segments itself (the manager's server may be gone).
The run is `workers.armed()`: its workers die with this process if it is killed before the
teardown can run, and ignore Ctrl-C (the teardown here ends them). Under `nmc`, SIGINT,
SIGTERM or SIGHUP arriving while the workers start is raised once they have all started
(nmcompile.signals.deferred): the teardown then knows every one of them.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import time
import warnings

import numpy as np
from scipy.sparse import SparseEfficiencyWarning

from nmcompile import signals
from nmcompile.diagnostics import RunError
from nmcompile.progress import progress_bar, wanted
from nmcompile.result import Result

from . import workers
from .lowering import LavaGraph, PlasticLink

_JOIN_TIMEOUT_S = 5.0
_POLL_S = 0.002
PROGRESS_CHUNKS = 50   # with progress: the run is resumed this many times at most...
MIN_CHUNK = 200        # ...each for at least this many steps


def run_graph(graph: LavaGraph, steps: int, select_tag: str, trace_dtype,
              progress: bool | str = False, label: str = "lava") -> Result:
    """Run every component `steps` steps; spikes of every LIF population, probed traces,
    the final weights of plastic projections and their weight-probe samples.

    `progress` as in nmcompile.progress.wanted; the bar is labelled `label`
    (the backend's name).
    """
    from lava.magma.core.run_configs import Loihi2SimCfg
    run_cfg = Loihi2SimCfg(select_tag=select_tag, exception_proc_model_map=graph.models)
    show = wanted(progress)
    chunks = _chunks(steps, PROGRESS_CHUNKS if show else 1)
    raster, traces, weights, weight_traces = {}, {}, {}, {}
    with progress_bar(show=show, total=steps * len(graph.components), unit="step",
                      desc=label, leave=False) as bar, warnings.catch_warnings(), workers.armed():
        # Lava's fixed-point Sparse clips weights in place (once): scipy warns, workers inherit.
        warnings.simplefilter("ignore", SparseEfficiencyWarning)
        for component in graph.components:
            anchor = graph.neurons[component[0]]
            earlier = set(multiprocessing.active_children())
            failed = True
            try:
                for chunk in chunks:
                    _run_watched(anchor, chunk, run_cfg)
                    bar.update(chunk)
                for name in component:
                    raster[name] = graph.spike_sinks[name].data.get().T != 0  # steps × neurons
                for (pop, var), reader in graph.probe_reads.items():
                    if pop in component:
                        traces[(pop, var)] = np.asarray(reader.data.get().T, dtype=trace_dtype)
                for name, link in graph.plastic.items():
                    if link.post in component:
                        _read_weights(name, link, trace_dtype, weights, weight_traces)
                failed = False
            except RunError:
                raise
            except Exception as exc:
                raise RunError(f"Lava run failed: {type(exc).__name__}: {exc}") from exc
            finally:
                shutdown(anchor.runtime, graceful=not failed, spare=earlier)
    result = Result.from_raster(raster, traces)
    result.weights, result.weight_traces = weights, weight_traces
    return result


def _read_weights(name: str, link: PlasticLink, dtype, weights: dict, weight_traces: dict):
    """A plastic projection's final weights and weight-probe samples, in IR synapse order
    (read before the runtime stops: a stopped runtime's Vars cannot be read)."""
    weights[name] = np.asarray(link.in_ir_order(link.dense.weights.get()), dtype=dtype)
    if link.reader is not None:  # (n_post, n_pre, samples) -> (samples, synapses)
        samples = np.moveaxis(link.reader.data.get(), -1, 0)
        weight_traces[name] = np.asarray(link.in_ir_order(samples), dtype=dtype)
    elif link.probed:  # the run ended before the first sample
        weight_traces[name] = np.zeros((0, link.post_idx.size), dtype=dtype)


def _chunks(steps: int, parts: int) -> list[int]:
    """`steps` cut into at most `parts` runs of at least MIN_CHUNK steps (Lava resumes a run)."""
    size = max(MIN_CHUNK, -(-steps // parts))
    return [min(size, steps - start) for start in range(0, steps, size)]


def _run_watched(anchor, steps: int, run_cfg) -> None:
    """`anchor.run(steps)` (or resume) that fails, instead of hanging, when a worker dies."""
    from lava.magma.core.run_conditions import RunSteps

    if anchor.runtime is None:  # what anchor.run would do first, with the forks deferred
        executable = anchor.compile(run_cfg)
        with signals.deferred():  # a signal now is raised once every worker is known
            anchor.create_runtime(executable=executable)
    anchor.run(condition=RunSteps(num_steps=steps, blocking=False), run_cfg=run_cfg)
    runtime = anchor.runtime
    actors = runtime._messaging_infrastructure.actors
    while not all(port.probe() for port in runtime.service_to_runtime):
        dead = [a for a in actors if not a.is_alive()]
        if dead:
            raise RunError(f"Lava run failed: {len(dead)} worker process(es) ended early "
                           f"({_worker_errors(dead)})")
        time.sleep(_POLL_S)
    try:
        runtime.wait()  # the responses are there: collects them, raises on an ERROR response
    except RuntimeError as exc:  # "N Exception(s) occurred. See output above": Lava logs the
        #                          workers' tracebacks at INFO only (e.g. a LearningDense
        #                          given an int sign mode fails at its first epoch)
        raise RunError(f"Lava run failed: {exc} ({_worker_errors(actors)})") from exc


def _worker_errors(actors) -> str:
    """The exceptions Lava's worker processes reported, one line."""
    errors = []
    for actor in actors:
        with contextlib.suppress(ValueError, OSError, EOFError):  # closed by Lava already
            if actor.exception:
                errors.append(actor.exception[0])
    return "; ".join(f"{type(e).__name__}: {e}" for e in errors) or "no error reported"


def shutdown(runtime, *, graceful: bool, spare=()) -> None:
    """Stop `runtime` and make sure none of its worker processes outlives this call.

    Also ends any other child process started since, except those in `spare`: the
    shared-memory manager's server, a worker Lava started but had not listed yet when an
    error arrived. A child left alive would also make Python's exit wait for it forever
    (multiprocessing joins its children at exit).
    """
    if runtime is None:
        _end_all(set(multiprocessing.active_children()) - set(spare))
        return
    infrastructure = runtime._messaging_infrastructure
    stopped = False
    try:
        if graceful:
            runtime.stop()
            stopped = True
    finally:
        _end_all(getattr(infrastructure, "actors", []))
        if not stopped:  # an error, an interrupt, or one that arrived during stop()
            _release(runtime, infrastructure)
        _end_all(set(multiprocessing.active_children()) - set(spare))


def _end_all(processes) -> None:
    """Terminate, then kill, the still running ones among `processes`, all at once."""
    alive = [p for p in processes if _alive(p)]
    for signal_them in (multiprocessing.Process.terminate, multiprocessing.Process.kill):
        if not alive:
            return
        for process in alive:
            signal_them(process)
        deadline = time.monotonic() + _JOIN_TIMEOUT_S
        for process in alive:  # Lava's join() takes no timeout
            multiprocessing.Process.join(process, max(0.0, deadline - time.monotonic()))
        alive = [p for p in alive if _alive(p)]


def _alive(process) -> bool:
    try:
        return process.is_alive()
    except ValueError:  # "process object is closed": joined and closed by a clean stop
        return False


def _release(runtime, infrastructure) -> None:
    """After a forced teardown: release channel threads, the shared-memory manager and the
    run's segments. Best effort, step by step: the error being raised is the one to report."""
    runtime._is_running = runtime._is_started = False
    with contextlib.suppress(Exception):
        runtime.join()
    smm = getattr(infrastructure, "smm", None)
    if smm is not None:
        segments = list(getattr(smm, "_shared_memory_handles", []))
        with contextlib.suppress(Exception):
            smm.shutdown()  # the server unlinks what it tracks, if it is still there
        for segment in segments:
            with contextlib.suppress(OSError):
                segment.unlink()  # and unregisters it from the resource tracker
    watchdog = getattr(runtime, "_watchdog_manager", None)
    if watchdog is not None:
        with contextlib.suppress(Exception):
            watchdog.stop()
