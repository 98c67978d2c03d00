"""IR Network -> Brian2 objects, and Brian2 monitors -> Result (DESIGN §1, §2).

This is the model-independent part: groups, spike sources, synapses, monitors. What a neuron
model's group holds (variables, step, threshold, reset, parameters) comes from its module in
backends/brian2/models/ (REGISTRY.module(kind)), which also names the group of each population.

Populations are packed into few Brian2 groups: one NeuronGroup per group key of the model
module (for LIF: refractory or not, reset, injected current or not) with per-neuron
parameters, one SpikeGeneratorGroup for all spike sources, and one Synapses per pair of
groups. Brian2's cost per step grows with the number of objects, so a network of many small
populations runs as fast as one written by hand with a single NeuronGroup.

Schedule of one Brian2 time step (= one IR step t):
  groups     neuron step: the state updated from the input accumulator (the module's INPUT),
             which is then cleared; an injected current is read at row t
  thresholds spikes of the neuron groups; spike sources emit their spikes of step t
  synapses   spikes are delivered: Brian2 delay d-1 steps adds w to the accumulator at step
             t+d-1, so the neuron step of t+d consumes it (IR delay d)
  resets     the model's reset (LIF: v = 0 or v - v_th, and the refractory countdown starts)
  end        probes record the state variables after the reset

Plastic projections are not Synapses: backends/plasticity's runner owns their weights and
learning (Lava's float learning engine) and computes their input. A network_operation in
`before_synapses` hands it the spikes of step t (neurons and sources have spiked in
`thresholds`) and adds the input it returns for step t + 1 into the post neurons'
accumulator, which the neuron step of t has just cleared: the accumulator then sums
(0 + plastic) + the Synapses' weights, the order in which emulator-float adds them too (it
adds the plastic input between two steps, before delivering the next step's weights).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nmcompile.ir import Network, Projection, source_spikes
from nmcompile.result import Result

from .models import REGISTRY

SOURCES = "sources"   # the group of every spike source population


@dataclass(frozen=True)
class Slot:
    """Where a population's neurons live: Brian2 group `group`, indices start .. start+size."""

    group: str   # a model module's group key, or SOURCES
    start: int
    size: int


@dataclass
class Lowered:
    """The Brian2 objects of one network, and where the Result is read from."""

    slots: dict[str, Slot]
    objects: list = field(default_factory=list)
    spike_monitors: dict = field(default_factory=dict)   # group -> SpikeMonitor
    state_monitors: dict = field(default_factory=dict)   # group -> (StateMonitor, indices)
    plastic: object = None   # backends/plasticity PlasticProjections, for a plastic network


def layout(net: Network) -> dict[str, Slot]:
    """Pack populations, in network order, into their groups: sources into one, neurons into
    the group their model module names."""
    slots, sizes = {}, {}
    for pop in net.populations.values():
        group = SOURCES if pop.is_source else REGISTRY.module(pop.model.kind).group_key(pop, net)
        slots[pop.name] = Slot(group, sizes.get(group, 0), pop.size)
        sizes[group] = sizes.get(group, 0) + pop.size
    return slots


def lower(net: Network, steps: int, clock) -> Lowered:
    """Build the Brian2 objects of `net` on `clock` (dt = net.dt ms) for a run of `steps` steps."""
    import brian2 as b2

    out = Lowered(slots=layout(net))
    members: dict[str, list] = {}   # neuron group -> its populations, in network order
    for name, slot in out.slots.items():
        if slot.group != SOURCES:
            members.setdefault(slot.group, []).append(net.populations[name])
    groups, inputs = {}, {}
    for group, pops in members.items():
        module = REGISTRY.module(pops[0].model.kind)
        groups[group] = module.neuron_group(group, pops, net, steps, clock)
        inputs[group] = module.INPUT
        out.spike_monitors[group] = b2.SpikeMonitor(groups[group], name=f"{group}_spikes")
    sources = _source_group(net, steps, out.slots, clock)
    if sources is not None:
        groups[SOURCES] = sources
    for k, (pair, projs) in enumerate(_projections_by_group_pair(net, out.slots).items()):
        if all(g in groups for g in pair):
            out.objects.append(_synapses(pair, projs, out.slots, groups, inputs[pair[1]],
                                         net.dt, clock, k))
    for group in members:
        probed = [p for p in net.probes if out.slots[p.population].group == group]
        if probed:
            variables = sorted({_variable(net, p) for p in probed})
            indices = np.sort(np.concatenate([_indices(out.slots[name]) for name in
                                              dict.fromkeys(p.population for p in probed)]))
            monitor = b2.StateMonitor(groups[group], variables, record=indices, clock=clock,
                                      when="end", name=f"{group}_probes")
            out.state_monitors[group] = (monitor, indices)
    if net.plastic_projections():
        out.plastic, operation = _plastic_delivery(net, steps, out.slots, groups, inputs, clock)
        out.objects.append(operation)
    out.objects += list(groups.values()) + list(out.spike_monitors.values())
    out.objects += [monitor for monitor, _ in out.state_monitors.values()]
    return out


def _variable(net: Network, probe) -> str:
    """The group variable holding the probed state variable (its model module renames those
    whose name Brian2 reserves)."""
    module = REGISTRY.module(net.populations[probe.population].model.kind)
    return module.RENAMED.get(probe.var, probe.var)


def _indices(slot: Slot) -> np.ndarray:
    return np.arange(slot.start, slot.start + slot.size)


def _source_group(net: Network, steps: int, slots: dict[str, Slot], clock):
    """Every source population's spikes (from the IR) in one SpikeGeneratorGroup, or None."""
    import brian2 as b2

    ts, ns = [], []
    for name, slot in slots.items():
        if slot.group == SOURCES:
            t, n = source_spikes(net.populations[name], net, steps)
            ts.append(t)
            ns.append(n + slot.start)
    if not ts or not sum(t.size for t in ts):
        return None
    t, n = np.concatenate(ts), np.concatenate(ns)
    order = np.lexsort((n, t))
    size = sum(s.size for s in slots.values() if s.group == SOURCES)
    return b2.SpikeGeneratorGroup(size, n[order], t[order] * net.dt * b2.ms, clock=clock,
                                  sorted=True, name=SOURCES)


def synaptic(proj: Projection) -> bool:
    """Whether a projection becomes Brian2 Synapses: it has synapses, and no learning rule (the
    plasticity runner delivers a plastic projection's input)."""
    return bool(proj.n_synapses) and not proj.plastic


def _projections_by_group_pair(net: Network, slots: dict[str, Slot]) -> dict[tuple, list]:
    pairs: dict[tuple, list] = {}
    for proj in net.projections:
        if synaptic(proj):
            pairs.setdefault((slots[proj.pre].group, slots[proj.post].group), []).append(proj)
    return pairs


def _synapses(pair, projs, slots, groups, target: str, dt: float, clock, k: int):
    """One Synapses object for all projections between two groups (indices offset per slot),
    adding each weight to variable `target` of the post group."""
    import brian2 as b2

    pre = np.concatenate([p.pre_idx.astype(np.int64) + slots[p.pre].start for p in projs])
    post = np.concatenate([p.post_idx.astype(np.int64) + slots[p.post].start for p in projs])
    weight = np.concatenate([p.weight.astype(np.float64) for p in projs])
    # Brian2 delivers a delay-0 spike in the step it is emitted, after the neuron update
    delays = (np.concatenate([p.delay for p in projs]).astype(np.float64) - 1.0) * dt
    uniform = bool(np.all(delays == delays[0]))  # one shared delay: Brian2's faster path
    syn = b2.Synapses(groups[pair[0]], groups[pair[1]], "w : 1 (constant)",
                      on_pre=f"{target}_post += w", clock=clock, namespace={}, order=k,
                      delay=delays[0] * b2.ms if uniform else None,
                      name=f"{pair[0]}_to_{pair[1]}")
    syn.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    syn.w = weight
    if not uniform:
        syn.delay = delays * b2.ms
    return syn


def _plastic_delivery(net: Network, steps: int, slots: dict[str, Slot], groups: dict,
                      inputs: dict[str, str], clock):
    """(runner, network_operation): the plasticity runner of `net`'s plastic projections, and
    the operation that steps it once per Brian2 step (module docstring: the schedule)."""
    import brian2 as b2

    from nmcompile.backends.plasticity.runner import PlasticProjections

    runner = PlasticProjections(net, steps)
    step = 0

    def spikes_of(name: str) -> np.ndarray:
        slot = slots[name]
        fired = np.zeros(slot.size, bool)
        group = groups.get(slot.group)   # no source group when no source ever spikes
        if group is not None:
            index = np.asarray(group.spikes) - slot.start
            fired[index[(index >= 0) & (index < slot.size)]] = True
        return fired

    def deliver():
        nonlocal step
        received = runner.step(step, {name: spikes_of(name) for name in runner.populations})
        for post, values in received.items():
            slot = slots[post]
            accumulator = groups[slot.group].variables[inputs[slot.group]].get_value()
            accumulator[slot.start:slot.start + slot.size] += values
        step += 1

    return runner, b2.NetworkOperation(deliver, clock=clock, when="before_synapses",
                                       name="plastic_projections")


def collect(lowered: Lowered, net: Network, steps: int) -> Result:
    """Spikes of every neuron (not source) population and the probed traces, as the common
    Result."""
    spikes, traces = {}, {}
    by_group = {}
    for group, mon in lowered.spike_monitors.items():
        step = np.rint(np.asarray(mon.t_) / (net.dt * 1e-3)).astype(np.int64)
        by_group[group] = (step, np.asarray(mon.i, dtype=np.int64))
    for pop in net.populations.values():
        if pop.is_source:
            continue
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
        values = np.asarray(getattr(monitor, _variable(net, probe) + "_"))[columns]
        traces[(probe.population, probe.var)] = np.ascontiguousarray(values.T[:steps])
    result = Result(spikes=spikes, traces=traces)
    if lowered.plastic is not None:
        lowered.plastic.finish(result)
    return result
