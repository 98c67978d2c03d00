"""(neuron, destination core) pairs of a mapping, counted (DESIGN §5.3): a neuron needs one
output axon per pair, a core one input axon per pair; the report sorts the pairs by where
they go (its own core, its chip, another chip) and weighs them with spikes; the placement
weighs pairs of cores by them.

A network can have about as many pairs as synapses (a core per neuron), so they are never
listed: they are counted one presynaptic population at a time, from its synapses regrouped
by pre neuron (4 bytes a synapse of that population, then dropped).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nmcompile.ir import Network

from . import kernels
from .blocks import Mapping
from .costs import population_offsets, projections_by, regroup


@dataclass(frozen=True, eq=False)
class CorePairs:
    """The pairs of a mapping, counted per neuron (global ids) and per core (ids 0 … the
    largest used). Pairs of a spike source (not placed) come from the host."""

    gcore: np.ndarray         # core of every neuron, −1 for spike sources
    output_axons: np.ndarray  # per neuron: its pairs (distinct destination cores)
    input_axons: np.ndarray   # per core: its pairs (distinct presynaptic neurons)
    same_core: np.ndarray     # per neuron: pairs onto its own core,
    same_chip: np.ndarray     #   onto another core of its chip,
    hops: np.ndarray          #   the tile hops of those (row by row on a square grid),
    other_chip: np.ndarray    #   onto a core of another chip
    events: np.ndarray        # per core: spikes arriving at its synapses (zeros without spikes)
    packets: np.ndarray | None  # [core, destination core]: pairs of placed neurons, if asked


def neuron_cores(net: Network, mapping: Mapping) -> np.ndarray:
    """The global core of every neuron (−1 for spike sources)."""
    offsets = population_offsets(net)
    gcore = np.full(net.n_neurons, -1, np.int64)
    for name in mapping.populations:
        size = net.populations[name].size
        gcore[offsets[name]:offsets[name] + size] = mapping.neuron_cores(name, size)
    return gcore


def count_pairs(net: Network, mapping: Mapping, spikes: np.ndarray | None = None,
                packets: bool = False) -> CorePairs:
    """The pairs of `mapping`, with `spikes` (per neuron, global ids) the events per core,
    with `packets` the dense (cores × cores) count (for a few thousand cores at most)."""
    offsets = population_offsets(net)
    gcore = neuron_cores(net, mapping)
    n_cores = int(mapping.block_core.max()) + 1 if mapping.block_core.size else 0
    per_neuron = [np.zeros(net.n_neurons, np.int64) for _ in range(5)]
    input_axons, events = np.zeros(n_cores, np.int64), np.zeros(n_cores, np.int64)
    matrix = np.zeros((n_cores, n_cores) if packets else (0, 0), np.int64)
    weights = np.zeros(0, np.int64) if spikes is None else spikes.astype(np.int64, copy=False)
    width = math.ceil(math.sqrt(mapping.cores_per_chip))

    def destination(proj) -> np.ndarray:  # core of each neuron of proj's post population
        start = offsets[proj.post]
        return gcore[start:start + net.populations[proj.post].size]
    for pre, projs in projections_by(net, "pre").items():
        lists = regroup(projs, "pre", net.populations[pre].size, destination, n_cores)
        kernels.count_destinations(lists.ptr, lists.items, offsets[pre], gcore,
                                   mapping.cores_per_chip, width, weights, lists.seen,
                                   *per_neuron, input_axons, events, matrix)
    output_axons, same_core, same_chip, hops, other_chip = per_neuron
    return CorePairs(gcore=gcore, output_axons=output_axons, input_axons=input_axons,
                     same_core=same_core, same_chip=same_chip, hops=hops,
                     other_chip=other_chip, events=events, packets=matrix if packets else None)
