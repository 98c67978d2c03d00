"""Test-only oracle: DESIGN §2 float equations stepped in plain numpy, as plainly as possible.

    from oracle import oracle_run          # tests/ is on pytest's pythonpath
    result = oracle_run(net, steps)        # -> nmcompile.result.Result

Per step t: every LIF population's input

    a    = Σ w over synapses whose pre neuron spiked at t - delay
           (projections in network order, synapses in their COO order)

then the model's own float reference step (STEPS: nmcompile.ir.lif_step, the float
operations of Lava's PyLifModelFloat and PyLifRefractoryModelFloat one by one;
izhikevich_step; adaptive_lif_step, Lava's PyATRLIFModelFloat), from the model's initial
state and with the population's injected current (Network.current). Spike sources come from
nmcompile.ir.source_raster. The Result holds spikes of every neuron population and the
probed traces (steps × neurons, values after the reset).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import (AdaptiveLIFState, IzhikevichState, LIFState, Network,
                         adaptive_lif_step, izhikevich_step, lif_step, source_raster)
from nmcompile.result import Result


STEPS = {"lif": (LIFState, lif_step), "izhikevich": (IzhikevichState, izhikevich_step),
         "adaptive_lif": (AdaptiveLIFState, adaptive_lif_step)}


def oracle_run(net: Network, steps: int | None = None) -> Result:
    """Simulate `net` for `steps` steps (default net.steps) with the DESIGN §2 float equations."""
    steps = net.steps if steps is None else steps
    fired = {}  # population -> boolean (steps × size) raster, filled step by step for neurons
    for pop in net.populations.values():
        fired[pop.name] = (source_raster(pop, net, steps) if pop.is_source
                           else np.zeros((steps, pop.size), dtype=bool))
    lif = {p.name: p for p in net.neuron_populations()}
    state = {name: STEPS[p.model.kind][0].initial(p.model, p.size) for name, p in lif.items()}
    current = {name: net.current(name, steps) for name in lif}
    traces = {(pr.population, pr.var): np.zeros((steps, lif[pr.population].size))
              for pr in net.probes}

    for t in range(steps):
        a = {name: np.zeros(p.size) for name, p in lif.items()}
        for proj in net.projections:
            src_step = t - proj.delay.astype(np.int64)
            ok = src_step >= 0
            hit = np.zeros(proj.n_synapses, dtype=bool)
            hit[ok] = fired[proj.pre][src_step[ok], proj.pre_idx[ok]]
            np.add.at(a[proj.post], proj.post_idx[hit], proj.weight[hit])
        for name, pop in lif.items():
            c = current[name]
            step = STEPS[pop.model.kind][1]
            fired[name][t] = step(pop.model, state[name], a[name], t, net.dt,
                                  None if c is None else c[t])
        for (pop_name, var), trace in traces.items():
            trace[t] = getattr(state[pop_name], var)

    return Result.from_raster({name: fired[name] for name in lif}, traces,
                              {"backend": "oracle", "steps": steps, "dt": net.dt})
