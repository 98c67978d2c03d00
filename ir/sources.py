"""Spikes of source populations, realised once from the network seed for every backend."""
from __future__ import annotations

import numpy as np

from .models import Poisson, SpikeArray
from .network import Network, Population
from .seeds import stable_rng

_CHUNK_DRAWS = 4_000_000  # uniform draws per chunk: bounds memory for long Poisson runs


def source_spikes(pop: Population, net: Network, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, neurons) of every spike of a source population in [0, steps), sorted by step, neuron.

    Poisson draws come from stable_rng(seed, "poisson", name) row by row, so a longer run
    starts with exactly the spikes of a shorter one.
    """
    model = pop.model
    if isinstance(model, SpikeArray):
        keep = model.steps < steps
        return model.steps[keep].astype(np.int64), model.neurons[keep].astype(np.int64)
    if isinstance(model, Poisson):
        p = np.clip(model.rate * net.dt / 1000.0, 0.0, 1.0)
        rng = stable_rng(net.seed, "poisson", pop.name)
        rows = max(1, _CHUNK_DRAWS // max(pop.size, 1))
        out_t, out_n = [], []
        for start in range(0, steps, rows):
            n_rows = min(rows, steps - start)
            t, n = np.nonzero(rng.random((n_rows, pop.size)) < p)
            out_t.append(t + start)
            out_n.append(n)
        if not out_t:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(out_t).astype(np.int64), np.concatenate(out_n).astype(np.int64)
    raise TypeError(f"population {pop.name} is not a spike source")


def source_raster(pop: Population, net: Network, steps: int) -> np.ndarray:
    """Boolean (steps × size) raster of a source population."""
    raster = np.zeros((steps, pop.size), dtype=bool)
    t, n = source_spikes(pop, net, steps)
    raster[t, n] = True
    return raster
