"""IR Network -> Brian2 objects, and Brian2 monitors -> Result (DESIGN §1, §2).

Each LIF step is written as one binary float operation per statement, so Brian2's sympy
round trip cannot regroup a sum: the operations are those of Lava's PyLifModelFloat
(refractory = 0) and PyLifRefractoryModelFloat (refractory ≥ 1), in the same order.

Populations are packed into at most three Brian2 groups (LIF, refractory LIF, sources) with
per-neuron parameters, and projections into one Synapses per pair of groups: Brian2's cost
per step grows with the number of objects, so a network of many small populations runs
as fast as one written by hand with a single NeuronGroup.

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

from nmcompile.ir import LIF, Network, source_spikes
from nmcompile.result import Result

LIF_VARIABLES = """
u : 1
v : 1
a_acc : 1
u_keep : 1 (constant)
v_keep : 1 (constant)
bias : 1 (constant)
v_th : 1 (constant)
"""
REFRACTORY_VARIABLES = """
ref_steps : integer (constant)
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
LIF_GROUPS = ("lif", "lif_refractory")


@dataclass(frozen=True)
class Slot:
    """Where a population's neurons live: Brian2 group `group`, indices start .. start+size."""

    group: str   # "lif", "lif_refractory" or "sources"
    start: int
    size: int


@dataclass
class Lowered:
    """The Brian2 objects of one network, and where the Result is read from."""

    slots: dict[str, Slot]
    objects: list = field(default_factory=list)
    spike_monitors: dict = field(default_factory=dict)   # group -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)   # group -> (StateMonitor, indices)


def layout(net: Network) -> dict[str, Slot]:
    """Pack populations, in network order, into the LIF, refractory LIF and source groups."""
    slots, sizes = {}, {}
    for pop in net.populations.values():
        if isinstance(pop.model, LIF):
            group = LIF_GROUPS[pop.model.refractory > 0]
        else:
            group = "sources"
        slots[pop.name] = Slot(group, sizes.get(group, 0), pop.size)
        sizes[group] = sizes.get(group, 0) + pop.size
    return slots


def lower(net: Network, steps: int, clock) -> Lowered:
    """Build the Brian2 objects of `net` on `clock` (dt = net.dt ms) for a run of `steps` steps."""
    import brian2 as b2

    out = Lowered(slots=layout(net))
    groups = {}
    for group in LIF_GROUPS:
        members = [net.populations[name] for name, s in out.slots.items() if s.group == group]
        if members:
            groups[group] = _lif_group(group, members, net.dt, clock)
            out.spike_monitors[group] = b2.SpikeMonitor(groups[group], name=f"{group}_spikes")
    sources = _source_group(net, steps, out.slots, clock)
    if sources is not None:
        groups["sources"] = sources
    for k, (pair, projs) in enumerate(_projections_by_group_pair(net, out.slots).items()):
        if all(g in groups for g in pair):
            out.objects.append(_synapses(pair, projs, out.slots, groups, net.dt, clock, k))
    for group in LIF_GROUPS:
        probed = [p for p in net.probes if out.slots[p.population].group == group]
        if probed:
            variables = sorted({p.var for p in probed})
            indices = np.sort(np.concatenate([_indices(out.slots[name]) for name in
                                              dict.fromkeys(p.population for p in probed)]))
            monitor = b2.StateMonitor(groups[group], variables, record=indices, clock=clock,
                                      when="end", name=f"{group}_probes")
            out.state_monitors[group] = (monitor, indices)
    out.objects += list(groups.values()) + list(out.spike_monitors.values())
    out.objects += [monitor for monitor, _ in out.state_monitors.values()]
    return out


def _indices(slot: Slot) -> np.ndarray:
    return np.arange(slot.start, slot.start + slot.size)


def _lif_group(group: str, members: list, dt: float, clock):
    import brian2 as b2

    refractory = group == "lif_refractory"
    size = sum(p.size for p in members)
    neurons = b2.NeuronGroup(
        size, LIF_VARIABLES + (REFRACTORY_VARIABLES if refractory else ""),
        threshold="v > v_th", reset="v = 0" + ("\nref_left = ref_steps" if refractory else ""),
        clock=clock, namespace={}, name=group)

    def per_neuron(value_of):
        return np.concatenate([np.full(p.size, value_of(p.model)) for p in members])

    neurons.u_keep = per_neuron(lambda m: 1 - m.du(dt))  # the very floats Lava's (1 - du) gives
    neurons.v_keep = per_neuron(lambda m: 1 - m.dv(dt))
    neurons.bias = per_neuron(lambda m: m.bias)
    neurons.v_th = per_neuron(lambda m: m.v_th)
    if refractory:
        neurons.ref_steps = per_neuron(lambda m: m.refractory)
    neurons.run_regularly(LIF_REFRACTORY_STEP if refractory else LIF_STEP, clock=clock,
                          when="groups", name=f"{group}_step")
    return neurons


def _source_group(net: Network, steps: int, slots: dict[str, Slot], clock):
    """Every source population's spikes (from the IR) in one SpikeGeneratorGroup, or None."""
    import brian2 as b2

    ts, ns = [], []
    for name, slot in slots.items():
        if slot.group == "sources":
            t, n = source_spikes(net.populations[name], net, steps)
            ts.append(t)
            ns.append(n + slot.start)
    if not ts or not sum(t.size for t in ts):
        return None
    t, n = np.concatenate(ts), np.concatenate(ns)
    order = np.lexsort((n, t))
    size = sum(s.size for s in slots.values() if s.group == "sources")
    return b2.SpikeGeneratorGroup(size, n[order], t[order] * net.dt * b2.ms, clock=clock,
                                  sorted=True, name="sources")


def _projections_by_group_pair(net: Network, slots: dict[str, Slot]) -> dict[tuple, list]:
    pairs: dict[tuple, list] = {}
    for proj in net.projections:
        if proj.n_synapses:
            pairs.setdefault((slots[proj.pre].group, slots[proj.post].group), []).append(proj)
    return pairs


def _synapses(pair, projs, slots, groups, dt: float, clock, k: int):
    """One Synapses object for all projections between two groups (indices offset per slot)."""
    import brian2 as b2

    pre = np.concatenate([p.pre_idx.astype(np.int64) + slots[p.pre].start for p in projs])
    post = np.concatenate([p.post_idx.astype(np.int64) + slots[p.post].start for p in projs])
    weight = np.concatenate([p.weight.astype(np.float64) for p in projs])
    # Brian2 delivers a delay-0 spike in the step it is emitted, after the LIF update
    delays = (np.concatenate([p.delay for p in projs]).astype(np.float64) - 1.0) * dt
    uniform = bool(np.all(delays == delays[0]))  # one shared delay: Brian2's faster path
    syn = b2.Synapses(groups[pair[0]], groups[pair[1]], "w : 1 (constant)",
                      on_pre="a_acc_post += w", clock=clock, namespace={}, order=k,
                      delay=delays[0] * b2.ms if uniform else None,
                      name=f"{pair[0]}_to_{pair[1]}")
    syn.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    syn.w = weight
    if not uniform:
        syn.delay = delays * b2.ms
    return syn


def collect(lowered: Lowered, net: Network, steps: int) -> Result:
    """Spikes of every LIF population and the probed traces, as the common Result."""
    spikes, traces = {}, {}
    by_group = {}
    for group, mon in lowered.spike_monitors.items():
        step = np.rint(np.asarray(mon.t_) / (net.dt * 1e-3)).astype(np.int64)
        by_group[group] = (step, np.asarray(mon.i, dtype=np.int64))
    for pop in net.lif_populations():
        slot = lowered.slots[pop.name]
        step, index = by_group[slot.group]
        keep = (index >= slot.start) & (index < slot.start + slot.size)
        t, n = step[keep], index[keep] - slot.start
        order = np.lexsort((n, t))
        spikes[pop.name] = (t[order], n[order])
    for probe in net.probes:
        slot = lowered.slots[probe.population]
        monitor, indices = lowered.state_monitors[slot.group]
        columns = np.searchsorted(indices, _indices(slot))
        values = np.asarray(getattr(monitor, probe.var + "_"))[columns]
        traces[(probe.population, probe.var)] = np.ascontiguousarray(values.T[:steps])
    return Result(spikes=spikes, traces=traces)
