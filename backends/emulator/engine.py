"""The emulator's main loop: Lava's step order over a whole quantized network (DESIGN §2).

Step t: every neuron takes its input for t from the ring and updates; a spike, of a neuron
or a source, is delivered d >= 1 steps ahead, so it never reaches step t itself and the
order of populations does not matter. Delivery can therefore wait: the kernel runs blocks of
as many steps as the shortest delay, and delivers a block's spikes at the start of the next
one. Workers (threads) own contiguous ranges of neurons and the synapses onto them
(partition.py, synapses.py); integer sums do not depend on their order, so every thread
count gives the same registers, spikes and overflow counts (DESIGN §9).

The whole loop is one compiled kernel (kernel.py: run_blocks, or run_blocks_with_variants
when a population is not plain LIF: a LIF variant of DESIGN §2.5, Izhikevich, adaptive LIF;
each also on threads); Python only builds its arrays (registers by models/, one module per
model kind) and reads them back.
"""
from __future__ import annotations

import multiprocessing
import time
from dataclasses import replace
from typing import NamedTuple

import numba
import numpy as np

from nmcompile.diagnostics import InputError, RunError
from nmcompile.ir import QuantizedNetwork, fixed_current, source_spikes
from nmcompile.result import Result

from nmcompile.backends.plasticity.runner import PlasticProjections
from . import kernel, ranks
from .models import REGISTRY
from .partition import core_grid, indegrees, split, split_ranks, worker_count
from .synapses import build_synapses

KERNELS = {(False, False): kernel.run_blocks, (True, False): kernel.run_blocks_with_variants,
           (False, True): kernel.run_blocks_threads,
           (True, True): kernel.run_blocks_threads_with_variants}


class Neurons(NamedTuple):
    """Every neuron (a ring column), its population's registers and its overflow counts."""

    start: np.ndarray     # population p owns columns [start[p], start[p + 1])
    params: np.ndarray    # per population: kernel.KEEP_U … (models/*.py: params())
    model: np.ndarray     # per population: kernel.LIF_PLAIN … kernel.ADAPTIVE_LIF
    bias: np.ndarray      # per neuron: effective bias (LIF, adaptive) or bias (Izhikevich)
    state: np.ndarray     # (kernel.STATE_ROWS, neurons): registers, from their initial values
    refractory_left: np.ndarray  # per neuron: steps it stays refractory (LIF variants)
    fired: np.ndarray     # per neuron: whether it spiked this step (plain LIF's vector loop)
    current: np.ndarray   # (steps, neurons with a current) int32 registers, or (0, 0)
    ring: np.ndarray      # (R, neurons) int32, R = max delay + 1: row t mod R is step t's
    #                       input, summed modulo 2^32 (each model wraps it to int32 first)
    overflow: np.ndarray  # (populations, kernel.N_OVERFLOW): models/*.py OVERFLOW counters


class Record(NamedTuple):
    """What the kernel writes out: probed registers and spikes."""

    probe_at: np.ndarray   # trace column c is state.flat[probe_at[c]] (row · neurons + neuron)
    trace: np.ndarray      # (steps, columns) int32
    spike_t: np.ndarray    # spikes as (step, column), up to the count run_blocks returns
    spike_n: np.ndarray


class Work(NamedTuple):
    """Each worker's share: its neurons, its spikes of the last two blocks, its counters."""

    bounds: np.ndarray            # worker k owns ring columns bounds[k] … bounds[k + 1] − 1
    first_population: np.ndarray  # per worker: the population of its first neuron
    spike_n: np.ndarray    # (2, workers, block · largest range) int64: a block's spikes,
    step_ptr: np.ndarray   # (2, workers, block + 1): … step s's are [ptr[s − b0], ptr[s − b0 + 1])
    probe_ptr: np.ndarray  # worker k records trace columns probe_column[ptr[k] … ptr[k+1]−1]
    probe_column: np.ndarray
    overflow: np.ndarray   # (workers, populations, kernel.N_OVERFLOW) counters
    first: np.ndarray      # strict mode: (workers, populations, kinds) first neuron, or −1
    event_step: np.ndarray  # strict mode: per worker, the step of its first overflow, or −1


def emulate(qnet: QuantizedNetwork, steps: int, *, strict: bool = False,
            threads: int | None = None) -> Result:
    """Run `qnet` for `steps` steps on `threads` threads (default: partition.worker_count),
    in each of the processes mpiexec started (ranks.py), which all return the whole result."""
    began = time.perf_counter()
    comm = ranks.world()
    net = qnet.network
    plastic = PlasticProjections(net, steps, qnet)
    if plastic and comm is not None:
        raise InputError(f"emulator runs plastic projections "
                         f"({', '.join(plastic.connections)}) on one process: drop --ranks "
                         f"(threads work)")
    qnet = replace(qnet, projections=tuple(p for p in qnet.projections if p.learning is None))
    names = list(qnet.populations)  # neuron populations first (ring columns), then sources
    names += [name for name, pop in net.populations.items() if pop.is_source]
    start = np.cumsum([0] + [net.populations[name].size for name in names]).astype(np.int64)
    offset = dict(zip(names, start.tolist()))
    n_pops, n_pre = len(qnet.populations), int(start[-1])
    neurons = _neurons(qnet, start[:n_pops + 1], steps)
    n_neurons = neurons.ring.shape[1]
    work_per_column = indegrees(qnet, offset, n_neurons) + 1
    if comm is None:
        threads = worker_count(threads, n_neurons, int(work_per_column.sum()) - n_neurons)
        bounds, w0 = split(work_per_column, threads), 0
    else:  # every rank the same threads (rank 0's choice), so that they agree on the split
        threads = comm.bcast(threads or worker_count(ranks.local_cores(comm), n_neurons), root=0)
        bounds = split_ranks(work_per_column, comm.size, threads,
                             core_grid(qnet, start[:n_pops + 1]))
        w0 = comm.rank * threads
    w1 = w0 + min(threads, bounds.size - 1)
    syn = build_synapses(qnet, offset, n_pre, bounds, owned=(bounds[w0], bounds[w1]))
    src_ptr, src_pre = _source_events(net, steps, offset, n_pre)
    probes = [(p.population, p.var) for p in net.probes if p.population in qnet.populations]
    record = _record(qnet, probes, offset, steps)
    block = 1 if plastic else min_delay(qnet)
    work = _work(neurons, record, bounds, block)

    run = KERNELS[(not np.all(neurons.model == kernel.LIF_PLAIN), threads > 1)]
    start_method = multiprocessing.get_start_method(allow_none=True)
    if threads > 1:  # more workers than numba's threads share them (tests split 3 ways on 2)
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    built = time.perf_counter()
    t, n_spikes, stopped = 0, 0, False
    while t < steps and not stopped:
        before = n_spikes
        ran_to, n_spikes = run(t, steps, block, strict, neurons, syn, src_ptr, src_pre, work,
                               record, n_spikes, w0, w1, comm is not None or bool(plastic))
        if ran_to > t and plastic:
            _learn(plastic, t, record.spike_n[before:n_spikes], src_pre[src_ptr[t]:src_ptr[t + 1]],
                   net, offset, n_pre, neurons.ring)
        if ran_to == t:  # the spike buffer could fill up in the next block: double it
            record = record._replace(spike_t=np.concatenate((record.spike_t, record.spike_t)),
                                     spike_n=np.concatenate((record.spike_n, record.spike_n)))
            continue
        if comm is not None:
            ranks.exchange(comm, work, (t // block) & 1, w0, w1)
        stopped = strict and (ranks.any_overflow(comm, work, w0, w1) if comm is not None
                              else work.event_step.max() >= 0)
        t = ran_to
    if start_method is None:  # numba's threads fixed it ("fork"), and Lava's import, which
        multiprocessing.set_start_method(None, force=True)  # sets it, would then fail
    if stopped:
        pop, step, register, neuron = _first_overflow(neurons, work)
        _, what = _module(qnet, names[pop]).OVERFLOW[register]
        raise RunError(f"population {names[pop]}: {what} at step {step}, neuron {neuron} "
                       f"(strict mode)")
    ran = time.perf_counter()
    overflow = work.overflow.sum(axis=0)
    if comm is not None:
        spike_t, spike_n, trace, overflow = ranks.gather(
            comm, record.spike_t[:n_spikes], record.spike_n[:n_spikes], record.trace, overflow)
        record, n_spikes = record._replace(spike_t=spike_t, spike_n=spike_n, trace=trace), \
            spike_t.size
    result = _result(qnet, neurons._replace(overflow=overflow), record, n_spikes, probes)
    plastic.finish(result)
    result.meta.update({
        "threads": threads,
        "processes": 1 if comm is None else comm.size,
        "synapses": int(syn.post.size),
        "synapse_bytes": int(sum(a.nbytes for a in syn if isinstance(a, np.ndarray))),
        "build_s": round(built - began, 6),
        "kernel_s": round(ran - built, 6),
    })
    return result


def _learn(plastic: PlasticProjections, t: int, fired: np.ndarray, sourced: np.ndarray,
           net, offset: dict[str, int], n_pre: int, ring: np.ndarray) -> None:
    """After step t: the plastic projections take its spikes (neuron columns, source
    indices: one mask over both, each population a view of it) and their input for step
    t + 1 joins the ring like a delay-1 synapse's (modulo 2^32)."""
    mask = np.zeros(n_pre, np.bool_)
    mask[fired] = True
    mask[sourced] = True
    spikes = {name: mask[offset[name]:offset[name] + net.populations[name].size]
              for name in plastic.populations}
    row = (t + 1) % ring.shape[0]
    for post, value in plastic.step(t, spikes).items():
        columns = ring[row, offset[post]:offset[post] + value.size]
        columns[:] = (columns + value).astype(np.int32)


def min_delay(qnet: QuantizedNetwork) -> int:
    """The shortest delay of any synapse (steps): spikes may wait this long for delivery."""
    return max(1, min([int(p.delay.min()) for p in qnet.projections if p.delay.size],
                      default=1))


def _first_overflow(neurons: Neurons, work: Work) -> tuple[int, int, int, int]:
    """Strict mode: (population, step, register, neuron) of the first overflow as one worker
    stepping population after population would meet it: the earliest step, the first
    population in it; for LIF a wrap of u before a saturation of v, for the other models the
    first neuron and its first register in step order."""
    step = int(work.event_step[work.event_step >= 0].min())
    first = work.first[work.event_step == step]  # (workers, populations, kinds)
    first = np.where(first >= 0, first, np.iinfo(np.int64).max).min(axis=0)
    pop = int(np.flatnonzero((first < np.iinfo(np.int64).max).any(axis=1))[0])
    row = first[pop]
    if neurons.model[pop] in (kernel.LIF_PLAIN, kernel.LIF_VARIANT):
        kind = 0 if row[0] < np.iinfo(np.int64).max else 1
    else:
        kind = int(np.argmin(row))  # argmin: the lowest kind among those at the first neuron
    return pop, step, kind, int(row[kind])


def _module(qnet: QuantizedNetwork, name: str):
    """The models/ module of population `name`."""
    return REGISTRY.module(qnet.populations[name].kind)


def _neurons(qnet: QuantizedNetwork, start: np.ndarray, steps: int) -> Neurons:
    net = qnet.network
    pops = [net.populations[name] for name in qnet.populations]
    with_current = [p for p, pop in enumerate(pops) if net.has_current(pop.name)]
    registers = [_module(qnet, pop.name).registers(qnet.populations[pop.name], pop.size,
                                                   p in with_current)
                 for p, pop in enumerate(pops)]
    params = np.zeros((len(pops), kernel.N_PARAMS), np.int64)
    params[:, kernel.CURRENT] = -1
    state = np.zeros((kernel.STATE_ROWS, int(start[-1])), np.int64)
    for p, r in enumerate(registers):
        for column, value in r.params().items():
            params[p, column] = value
        for row, values in r.initial.items():
            state[row, start[p]:start[p + 1]] = values
    current = np.zeros((steps if with_current else 0,
                        sum(pops[p].size for p in with_current)), np.int32)
    column = 0
    for p in with_current:  # filled one population at a time: one float copy at most
        params[p, kernel.CURRENT] = column
        current[:, column:column + pops[p].size] = fixed_current(qnet, pops[p].name, steps)
        column += pops[p].size
    max_delay = max([int(p.delay.max()) for p in qnet.projections if p.delay.size], default=1)
    n_neurons = int(start[-1])
    return Neurons(start=start, params=params,
                   model=np.array([r.model for r in registers], np.int64),
                   bias=np.concatenate([r.bias for r in registers] or [[]]).astype(np.int64),
                   state=state, refractory_left=np.zeros(n_neurons, np.int64),
                   fired=np.zeros(n_neurons, np.bool_), current=current,
                   ring=np.zeros((max_delay + 1, n_neurons), np.int32),
                   overflow=np.zeros((len(registers), kernel.N_OVERFLOW), np.int64))


def _record(qnet: QuantizedNetwork, probes: list[tuple[str, str]], offset: dict[str, int],
            steps: int) -> Record:
    n_neurons = sum(qnet.network.populations[name].size for name in qnet.populations)
    probe_at = np.concatenate([
        _module(qnet, pop).ROWS[var] * n_neurons + offset[pop]
        + np.arange(qnet.network.populations[pop].size) for pop, var in probes] or [[]])
    capacity = 16 * n_neurons + 1024
    return Record(probe_at=probe_at.astype(np.int64),
                  trace=np.zeros((steps, probe_at.size), np.int32),
                  spike_t=np.empty(capacity, np.int64), spike_n=np.empty(capacity, np.int64))


def _work(neurons: Neurons, record: Record, bounds: np.ndarray, block: int) -> Work:
    workers, n_pops = bounds.size - 1, neurons.start.size - 1
    n_neurons = neurons.ring.shape[1]
    probe_neuron = record.probe_at % max(n_neurons, 1)
    probe_worker = np.searchsorted(bounds, probe_neuron, side="right") - 1
    probe_column = np.argsort(probe_worker, kind="stable")
    largest = int(np.diff(bounds).max()) if workers else 0
    return Work(
        bounds=bounds,
        first_population=np.maximum(
            np.searchsorted(neurons.start, bounds[:-1], side="right") - 1, 0).astype(np.int64),
        spike_n=np.zeros((2, workers, block * largest), np.int64),
        step_ptr=np.zeros((2, workers, block + 1), np.int64),
        probe_ptr=np.searchsorted(probe_worker[probe_column], np.arange(workers + 1)).astype(
            np.int64),
        probe_column=probe_column.astype(np.int64),
        overflow=np.zeros((workers, n_pops, kernel.N_OVERFLOW), np.int64),
        first=np.full((workers, n_pops, kernel.N_OVERFLOW), -1, np.int64),
        event_step=np.full(workers, -1, np.int64))


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
    counts, warnings = {}, []
    for name, row in zip(qnet.populations, neurons.overflow):
        overflow = _module(qnet, name).OVERFLOW
        counts[name] = {counter: int(n) for (counter, _), n in zip(overflow, row)}
        if row.any():
            warnings.append(f"population {name}: " + ", ".join(
                f"{what} {int(n)} times" for (_, what), n in zip(overflow, row)))
    result.meta.update({
        "overflow": counts,
        "warnings": warnings,
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
