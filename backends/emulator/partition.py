"""How the emulator splits its neurons between workers (threads, and processes: ranks own
whole cores of the target, each split between its threads): contiguous ranges of ring
columns, so each worker updates its own neurons and receives, through its own synapse
table, every input into them.

A worker's share of a step is its neurons' updates plus the synaptic events into them, so
the ranges balance neurons plus incoming synapses (each synapse weighted as one neuron
update: both cost a few nanoseconds). A share that is too small costs more in
synchronisation than it saves (a block of one step is one parallel region, some 5–10 µs
here), so by default workers get at least MIN_WORK_PER_WORKER of a step's estimated work,
neurons plus synapses / SYNAPSES_PER_UNIT (a synapse carries an event in about one step of
a hundred; an event costs about what a neuron's update does). Measured on 2 cores: CUBA
(4,000 neurons, 0.32 M synapses, 15 µs a step) ran slower on 2 threads than on 1; the
microcircuit at a tenth of its neurons (7,717, 29 M synapses) 1.7 times faster.
"""
from __future__ import annotations

import os

import numpy as np

from nmcompile.diagnostics import InputError
from nmcompile.ir import QuantizedNetwork

MIN_WORK_PER_WORKER = 10_000
SYNAPSES_PER_UNIT = 100


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def worker_count(requested: int | None, n_neurons: int, n_synapses: int = 0) -> int:
    """`requested` threads (at most one per neuron), or by default the cores available, but
    no more than one per MIN_WORK_PER_WORKER of neurons + synapses / SYNAPSES_PER_UNIT."""
    if requested is not None:
        return max(1, min(int(requested), max(n_neurons, 1)))
    work = n_neurons + n_synapses // SYNAPSES_PER_UNIT
    return max(1, min(available_cores(), work // MIN_WORK_PER_WORKER))


def indegrees(qnet: QuantizedNetwork, offset: dict[str, int], n_neurons: int) -> np.ndarray:
    """Synapses onto each ring column (zero weights included: an estimate of the work)."""
    counts = np.zeros(n_neurons, np.int64)
    for proj in qnet.projections:
        size = qnet.network.populations[proj.post].size
        counts[offset[proj.post]:offset[proj.post] + size] += np.bincount(
            proj.post_idx, minlength=size)
    return counts


def split(work: np.ndarray, workers: int) -> np.ndarray:
    """Bounds of `workers` contiguous ranges over len(work) columns, each with about the same
    total work: worker k owns columns bounds[k] … bounds[k + 1] − 1."""
    if work.size == 0:
        return np.zeros(workers + 1, np.int64)
    total = np.cumsum(work, dtype=np.float64)
    inner = np.searchsorted(total, total[-1] * np.arange(1, workers) / workers, side="left") + 1
    bounds = np.concatenate(([0], np.minimum(inner, work.size), [work.size]))
    return np.maximum.accumulate(bounds).astype(np.int64)


def core_grid(qnet: QuantizedNetwork, start: np.ndarray) -> np.ndarray:
    """Ring columns at which a core of the target may begin: each population's start and every
    multiple of the target's neurons per core within it (the mapping's blocks refine this
    grid when synapses or axons, not neurons, fill a core first)."""
    from nmcompile.targets import load_target
    resources = load_target(qnet.target).resources
    points = [np.arange(lo, hi, resources.max_neurons_per_core(fixed.kind))
              for (name, fixed), lo, hi in zip(qnet.populations.items(), start, start[1:])]
    return np.unique(np.concatenate(points + [start[-1:]]))


def split_ranks(work: np.ndarray, ranks: int, threads: int, grid: np.ndarray) -> np.ndarray:
    """Bounds of ranks × threads workers: ranks own contiguous whole cores (`grid` points,
    about the same work each), and each rank's range is split between its threads."""
    cores = grid.size - 1
    if ranks > cores:
        raise InputError(f"{ranks} processes, but the network's neurons fill only {cores} "
                         f"core(s) of the target: give at most {cores}")
    per_core = np.add.reduceat(work, grid[:-1]) if work.size else np.zeros(0)
    first_core = split(per_core, ranks)
    for k in range(1, ranks):  # at least one core each
        first_core[k] = min(max(first_core[k], first_core[k - 1] + 1), cores - (ranks - k))
    rank_bounds = grid[first_core]
    return np.concatenate([split(work[lo:hi], threads)[:-1] + lo
                           for lo, hi in zip(rank_bounds, rank_bounds[1:])]
                          + [rank_bounds[-1:]]).astype(np.int64)
