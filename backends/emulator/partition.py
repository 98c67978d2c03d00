"""How the emulator splits its neurons between workers (threads): contiguous ranges of ring
columns, so each worker updates its own neurons and receives, through its own synapse
table, every input into them.

A worker's share of a step is its neurons' updates plus the synaptic events into them, so
the ranges balance neurons plus incoming synapses (each synapse weighted as one neuron
update: both cost a few nanoseconds). A range that is too small costs more in
synchronisation than it saves: workers get at least MIN_NEURONS_PER_WORKER neurons each.
"""
from __future__ import annotations

import os

import numpy as np

from nmcompile.ir import QuantizedNetwork

MIN_NEURONS_PER_WORKER = 2000


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0))


def worker_count(requested: int | None, n_neurons: int) -> int:
    """`requested` threads, or by default the cores available, but never more than one per
    MIN_NEURONS_PER_WORKER neurons when not requested."""
    if requested is not None:
        return max(1, min(int(requested), max(n_neurons, 1)))
    return max(1, min(available_cores(), n_neurons // MIN_NEURONS_PER_WORKER))


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
    total = np.cumsum(work, dtype=np.float64)
    targets = total[-1] * np.arange(1, workers) / workers if total.size else np.zeros(0)
    inner = np.searchsorted(total, targets, side="left") + 1 if total.size else []
    bounds = np.concatenate(([0], np.minimum(inner, work.size), [work.size]))
    return np.maximum.accumulate(bounds).astype(np.int64)
