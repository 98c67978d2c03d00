"""Run a LavaGraph with Loihi2SimCfg and always tear its worker processes down.

Lava starts one OS process per Lava process plus a runtime service and a shared-memory
manager. A clean `stop()` joins them; after an error or Ctrl-C a worker may never answer,
so the teardown then terminates the workers it started itself instead of waiting on them.
"""
from __future__ import annotations

import numpy as np

from nmcompile.diagnostics import RunError
from nmcompile.result import Result

from .lowering import LavaGraph

_JOIN_TIMEOUT_S = 5.0


def run_graph(graph: LavaGraph, steps: int, select_tag: str, trace_dtype) -> Result:
    """Run every component `steps` steps; spikes of every LIF population, probed traces."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    raster, traces = {}, {}
    for component in graph.components:
        anchor = graph.neurons[component[0]]
        failed = True
        try:
            anchor.run(condition=RunSteps(num_steps=steps),
                       run_cfg=Loihi2SimCfg(select_tag=select_tag))
            for name in component:
                raster[name] = graph.spike_sinks[name].data.get().T != 0  # (steps × neurons)
            for (pop, var), reader in graph.probe_reads.items():
                if pop in component:
                    traces[(pop, var)] = np.asarray(reader.data.get().T, dtype=trace_dtype)
            failed = False
        except Exception as exc:
            raise RunError(f"Lava run failed: {type(exc).__name__}: {exc}") from exc
        finally:
            shutdown(anchor.runtime, graceful=not failed)
    return Result.from_raster(raster, traces)


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
        actor.join(_JOIN_TIMEOUT_S)
        alive = actor.is_alive()


def _release(runtime, infrastructure) -> None:
    """After a forced teardown: shut the shared-memory manager and the watchdogs down."""
    runtime._is_running = runtime._is_started = False
    smm = getattr(infrastructure, "smm", None)
    if smm is not None:
        smm.shutdown()
    runtime._watchdog_manager.stop()
