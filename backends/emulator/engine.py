"""The emulator's main loop: Lava's step order over a whole quantized network (DESIGN §2).

Step t: every LIF neuron takes its input for t from the ring and updates; a spike, of a LIF
or a source, is delivered d >= 1 steps ahead, so it never reaches step t itself and the
order of populations does not matter. The whole loop is one compiled kernel (kernel.py);
Python only builds its arrays and reads them back.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nmcompile.diagnostics import RunError
from nmcompile.ir import QuantizedNetwork, source_spikes
from nmcompile.result import Result

from .kernel import run_steps
from .lava_semantics import LifRegisters
from .synapses import build_synapses

VARS = ("u", "v")  # probe_var codes in the kernel


class Neurons(NamedTuple):
    """Every LIF neuron (a ring column), its population's registers and its overflow counts."""

    start: np.ndarray     # population p owns columns [start[p], start[p + 1])
    params: np.ndarray    # per population: keep_u, keep_v, bias, vth (LifRegisters)
    u: np.ndarray
    v: np.ndarray
    ring: np.ndarray      # (max delay + 1, neurons): row t mod R holds the input summed for t
    overflow: np.ndarray  # per population: u wraps, v saturations


class Record(NamedTuple):
    """What the kernel writes out: probed registers, spikes, and the strict-mode stop."""

    probe_idx: np.ndarray  # trace column c is u (probe_var 0) or v (1) of neuron probe_idx[c]
    probe_var: np.ndarray
    trace: np.ndarray      # (steps, columns) int32
    spike_t: np.ndarray    # spikes as (step, column), up to the count run_steps returns
    spike_n: np.ndarray
    event: np.ndarray      # strict mode: population, step, 0 wrap/1 saturation, neuron; or -1s


def emulate(qnet: QuantizedNetwork, steps: int, *, strict: bool = False) -> Result:
    net = qnet.network
    names = list(qnet.populations)  # LIF populations first (ring columns), then sources
    names += [name for name, pop in net.populations.items() if pop.is_source]
    start = np.cumsum([0] + [net.populations[name].size for name in names]).astype(np.int64)
    offset = dict(zip(names, start.tolist()))
    n_pops, n_pre = len(qnet.populations), int(start[-1])
    neurons = _neurons(qnet, start[:n_pops + 1])
    syn = build_synapses(qnet, offset, n_pre)
    src_ptr, src_pre = _source_events(net, steps, offset, n_pre)
    probes = [(p.population, p.var) for p in net.probes if p.population in qnet.populations]
    record = _record(qnet, probes, offset, steps)

    t, n_spikes = 0, 0
    while True:
        t, n_spikes = run_steps(t, steps, strict, neurons, syn, src_ptr, src_pre, record, n_spikes)
        if t == steps or record.event[0] >= 0:
            break
        # stopped early because the spike buffer could fill up: double it and go on
        record = record._replace(spike_t=np.concatenate((record.spike_t, record.spike_t)),
                                 spike_n=np.concatenate((record.spike_n, record.spike_n)))
    if record.event[0] >= 0:
        pop, step, kind, neuron = record.event.tolist()
        raise RunError(f"population {names[pop]}: {('u wrapped', 'v saturated')[kind]} at step "
                       f"{step}, neuron {neuron} (strict mode)")
    return _result(qnet, neurons, record, n_spikes, probes)


def _neurons(qnet: QuantizedNetwork, start: np.ndarray) -> Neurons:
    registers = [LifRegisters(fixed) for fixed in qnet.populations.values()]
    max_delay = max([int(p.delay.max()) for p in qnet.projections if p.delay.size], default=1)
    n_lif = int(start[-1])
    return Neurons(start=start,
                   params=np.array([[r.keep_u, r.keep_v, r.bias, r.vth] for r in registers],
                                   np.int64).reshape(-1, 4),
                   u=np.zeros(n_lif, np.int64), v=np.zeros(n_lif, np.int64),
                   ring=np.zeros((max_delay + 1, n_lif), np.int64),
                   overflow=np.zeros((len(registers), 2), np.int64))


def _record(qnet: QuantizedNetwork, probes: list[tuple[str, str]], offset: dict[str, int],
            steps: int) -> Record:
    sizes = [qnet.network.populations[pop].size for pop, _ in probes]
    probe_idx = np.concatenate([np.arange(size) + offset[pop]
                                for (pop, _), size in zip(probes, sizes)] or [[]])
    capacity = 16 * sum(qnet.network.populations[name].size for name in qnet.populations) + 1024
    return Record(probe_idx=probe_idx.astype(np.int64),
                  probe_var=np.repeat([VARS.index(var) for _, var in probes],
                                      sizes).astype(np.int64),
                  trace=np.zeros((steps, probe_idx.size), np.int32),
                  spike_t=np.empty(capacity, np.int64), spike_n=np.empty(capacity, np.int64),
                  event=np.full(4, -1, np.int64))


def _result(qnet: QuantizedNetwork, neurons: Neurons, record: Record, n_spikes: int,
            probes: list[tuple[str, str]]) -> Result:
    traces, col = {}, 0
    for key in probes:
        size = qnet.network.populations[key[0]].size
        traces[key] = np.ascontiguousarray(record.trace[:, col:col + size])
        col += size
    spike_t, spike_n = record.spike_t[:n_spikes], record.spike_n[:n_spikes]
    spikes = {}
    for name, lo, hi in zip(qnet.populations, neurons.start, neurons.start[1:]):
        mine = (spike_n >= lo) & (spike_n < hi)
        spikes[name] = (spike_t[mine], spike_n[mine] - lo)
    result = Result(spikes=spikes, traces=traces)
    counts = {name: {"u_wraps": int(w), "v_saturations": int(s)}
              for name, (w, s) in zip(qnet.populations, neurons.overflow)}
    result.meta.update({
        "overflow": counts,
        "warnings": [f"population {name}: u wrapped {o['u_wraps']} times, v saturated "
                     f"{o['v_saturations']} times" for name, o in counts.items()
                     if o["u_wraps"] or o["v_saturations"]],
        "scale": {name: fixed.scale for name, fixed in qnet.populations.items()},
        "units": "register",
    })
    return result


def _source_events(net, steps: int, offset: dict[str, int],
                   n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """Source spikes as CSR by step: the pre indices spiking at t are pre[ptr[t]:ptr[t + 1]]."""
    keys = [np.zeros(0, np.int64)]
    for name, pop in net.populations.items():
        if pop.is_source:
            t, n = source_spikes(pop, net, steps)
            keys.append(t * n_pre + offset[name] + n)
    keys = np.unique(np.concatenate(keys))  # a repeated SpikeArray entry is one spike
    ptr = np.searchsorted(keys // max(n_pre, 1), np.arange(steps + 1)).astype(np.int64)
    return ptr, keys % max(n_pre, 1)
