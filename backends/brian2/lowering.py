"""IR Network -> Brian2 objects, and Brian2 monitors -> Result (DESIGN §1, §2).

Each LIF step is written as one binary float operation per statement, so Brian2's sympy
round trip cannot regroup a sum: the operations are those of Lava's PyLifModelFloat
(refractory = 0) and PyLifRefractoryModelFloat (refractory ≥ 1), in the same order.

Schedule of one Brian2 time step (= one IR step t):
  groups     LIF step: u, v updated from the input accumulator a_acc, which is then cleared
  thresholds v > v_th; spike sources emit their spikes of step t
  synapses   spikes are delivered: Brian2 delay d-1 steps adds w to a_acc at step t+d-1,
             so the LIF step of t+d consumes it (IR delay d)
  resets     v = 0 (and the refractory countdown starts)
  end        probes record u/v after the reset
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nmcompile.ir import LIF, Network, Population, source_spikes
from nmcompile.result import Result

LIF_VARIABLES = """
u : 1
v : 1
a_acc : 1
u_keep : 1 (shared, constant)
v_keep : 1 (shared, constant)
bias : 1 (shared, constant)
v_th : 1 (shared, constant)
"""
REFRACTORY_VARIABLES = """
ref_steps : integer (shared, constant)
ref_left : integer
"""
# v = v·(1-dv) + u + bias, evaluated left to right (PyLifModelFloat.subthr_dynamics)
LIF_STEP = """
u = u * u_keep
u = u + a_acc
a_acc = 0
v = v * v_keep
v = v + u
v = v + bias
"""
# v = v·(1-dv) + (u + bias) for neurons not refractory; v stays 0 while refractory (it was
# reset to 0 by the spike that started the countdown, and 0·v_keep + 0 is 0)
LIF_REFRACTORY_STEP = """
u = u * u_keep
u = u + a_acc
a_acc = 0
u_bias = u + bias
u_bias = u_bias * int(ref_left == 0)
v = v * v_keep
v = v + u_bias
ref_left = ref_left - int(ref_left > 0)
"""


@dataclass
class Lowered:
    """The Brian2 objects of one network, and the monitors the Result is read from."""

    objects: list = field(default_factory=list)
    spike_monitors: dict = field(default_factory=dict)   # population -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)   # population -> StateMonitor


def lower(net: Network, steps: int, clock) -> Lowered:
    """Build the Brian2 objects of `net` on `clock` (dt = net.dt ms) for a run of `steps` steps."""
    import brian2 as b2

    out = Lowered()
    groups = {}
    used = {p.pre for p in net.projections if p.n_synapses}
    for k, pop in enumerate(net.populations.values()):
        if isinstance(pop.model, LIF):
            groups[pop.name] = _lif_group(pop, k, net.dt, clock)
            out.spike_monitors[pop.name] = b2.SpikeMonitor(groups[pop.name], name=f"p{k}_spikes")
        elif pop.name in used:
            t, n = source_spikes(pop, net, steps)
            groups[pop.name] = b2.SpikeGeneratorGroup(pop.size, n, t * net.dt * b2.ms, clock=clock,
                                                      sorted=True, name=f"p{k}_source")
    for k, proj in enumerate(net.projections):
        if proj.n_synapses:
            out.objects.append(_synapses(proj, k, groups, net.dt, clock))
    names = list(net.populations)
    for pop_name in dict.fromkeys(p.population for p in net.probes):
        variables = sorted({p.var for p in net.probes if p.population == pop_name})
        out.state_monitors[pop_name] = b2.StateMonitor(
            groups[pop_name], variables, record=True, clock=clock, when="end",
            name=f"p{names.index(pop_name)}_probe")
    out.objects += list(groups.values()) + list(out.spike_monitors.values())
    out.objects += list(out.state_monitors.values())
    return out


def _lif_group(pop: Population, k: int, dt: float, clock):
    import brian2 as b2

    m: LIF = pop.model
    refractory = m.refractory > 0
    group = b2.NeuronGroup(
        pop.size, LIF_VARIABLES + (REFRACTORY_VARIABLES if refractory else ""),
        threshold="v > v_th", reset="v = 0" + ("\nref_left = ref_steps" if refractory else ""),
        clock=clock, namespace={}, name=f"p{k}_lif")
    group.u_keep = 1 - m.du(dt)   # the very floats Lava's (1 - du), (1 - dv) give
    group.v_keep = 1 - m.dv(dt)
    group.bias = m.bias
    group.v_th = m.v_th
    if refractory:
        group.ref_steps = m.refractory
    group.run_regularly(LIF_REFRACTORY_STEP if refractory else LIF_STEP, clock=clock,
                        when="groups", name=f"p{k}_step")
    return group


def _synapses(proj, k: int, groups: dict, dt: float, clock):
    import brian2 as b2

    syn = b2.Synapses(groups[proj.pre], groups[proj.post], "w : 1 (constant)",
                      on_pre="a_acc_post += w", clock=clock, namespace={}, order=k,
                      name=f"x{k}_synapses")
    syn.connect(i=proj.pre_idx.astype(np.int32), j=proj.post_idx.astype(np.int32))
    syn.w = proj.weight.astype(np.float64)
    # Brian2 delivers a delay-0 spike in the step it is emitted, after the LIF update
    syn.delay = (proj.delay.astype(np.float64) - 1.0) * dt * b2.ms
    return syn


def collect(lowered: Lowered, net: Network, steps: int) -> Result:
    """Spikes of every LIF population and the probed traces, as the common Result."""
    spikes, traces = {}, {}
    for name, mon in lowered.spike_monitors.items():
        step = np.rint(np.asarray(mon.t_) / (net.dt * 1e-3)).astype(np.int64)
        neuron = np.asarray(mon.i, dtype=np.int64)
        order = np.lexsort((neuron, step))
        spikes[name] = (step[order], neuron[order])
    for probe in net.probes:
        values = np.asarray(getattr(lowered.state_monitors[probe.population], probe.var + "_"))
        traces[(probe.population, probe.var)] = np.ascontiguousarray(values.T[:steps])
    return Result(spikes=spikes, traces=traces)
