"""Run a LavaGraph with Loihi2SimCfg and always tear its worker processes down.

Lava starts one OS process per Lava process plus a runtime service and a shared-memory
manager. Two Lava habits need care here:
* a process model that raises can leave the blocking `run` waiting forever, so the run
  is started non-blocking and watched: a worker that exits before the run is done fails
  the run with the worker's own error;
* after an error or Ctrl-C a worker may never answer `stop()`, so the teardown then
  terminates (and if need be kills) the workers this run started instead of waiting.
"""
from __future__ import annotations

import multiprocessing
import time
import warnings

import numpy as np
from scipy.sparse import SparseEfficiencyWarning

from nmcompile.diagnostics import RunError
from nmcompile.progress import progress_bar
from nmcompile.result import Result

from .lowering import LavaGraph

_JOIN_TIMEOUT_S = 5.0
_POLL_S = 0.002
PROGRESS_CHUNKS = 50   # with progress: the run is resumed this many times at most...
MIN_CHUNK = 200        # ...each for at least this many steps


def run_graph(graph: LavaGraph, steps: int, select_tag: str, trace_dtype,
              progress: bool = False) -> Result:
    """Run every component `steps` steps; spikes of every LIF population, probed traces."""
    from lava.magma.core.run_configs import Loihi2SimCfg
    run_cfg = Loihi2SimCfg(select_tag=select_tag, exception_proc_model_map=graph.models)
    chunks = _chunks(steps, PROGRESS_CHUNKS if progress else 1)
    raster, traces = {}, {}
    with progress_bar(total=steps * len(graph.components), unit="step", disable=not progress,
              desc="lava", leave=False) as bar, warnings.catch_warnings():
        # Lava's fixed-point Sparse clips weights in place (once): scipy warns, workers inherit.
        warnings.simplefilter("ignore", SparseEfficiencyWarning)
        for component in graph.components:
            anchor = graph.neurons[component[0]]
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
                failed = False
            except RunError:
                raise
            except Exception as exc:
                raise RunError(f"Lava run failed: {type(exc).__name__}: {exc}") from exc
            finally:
                shutdown(anchor.runtime, graceful=not failed)
    return Result.from_raster(raster, traces)


def _chunks(steps: int, parts: int) -> list[int]:
    """`steps` cut into at most `parts` runs of at least MIN_CHUNK steps (Lava resumes a run)."""
    size = max(MIN_CHUNK, -(-steps // parts))
    return [min(size, steps - start) for start in range(0, steps, size)]


def _run_watched(anchor, steps: int, run_cfg) -> None:
    """`anchor.run(steps)` (or resume) that fails, instead of hanging, when a worker dies."""
    from lava.magma.core.run_conditions import RunSteps

    anchor.run(condition=RunSteps(num_steps=steps, blocking=False), run_cfg=run_cfg)
    runtime = anchor.runtime
    actors = runtime._messaging_infrastructure.actors
    while not all(port.probe() for port in runtime.service_to_runtime):
        dead = [a for a in actors if not a.is_alive()]
        if dead:
            errors = [a.exception[0] for a in dead if a.exception]
            detail = "; ".join(f"{type(e).__name__}: {e}" for e in errors) or "no error reported"
            raise RunError(f"Lava run failed: {len(dead)} worker process(es) ended early "
                           f"({detail})")
        time.sleep(_POLL_S)
    runtime.wait()  # the responses are there: collects them, raises on an ERROR response


def shutdown(runtime, *, graceful: bool) -> None:
    """Stop `runtime` and make sure none of its worker processes outlives this call."""
    if runtime is None:
        return
    infrastructure = runtime._messaging_infrastructure
    try:
        if graceful:
            runtime.stop()
    finally:
        for actor in getattr(infrastructure, "actors", []):
            _end(actor)
        if not graceful:
            _release(runtime, infrastructure)


def _end(actor) -> None:
    """Terminate, then kill, one worker this run started, unless it was joined already."""
    try:
        alive = actor.is_alive()
    except ValueError:  # "process object is closed": joined and closed by a clean stop
        return
    for signal_it in (actor.terminate, actor.kill):
        if not alive:
            return
        signal_it()
        multiprocessing.Process.join(actor, _JOIN_TIMEOUT_S)  # Lava's join() takes no timeout
        alive = actor.is_alive()


def _release(runtime, infrastructure) -> None:
    """After a forced teardown: release channel threads and the shared-memory manager."""
    runtime._is_running = runtime._is_started = False
    runtime.join()
    smm = getattr(infrastructure, "smm", None)
    if smm is not None:
        smm.shutdown()
    runtime._watchdog_manager.stop()
