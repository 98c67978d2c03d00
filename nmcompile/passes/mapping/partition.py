"""Partitioning pass: split neuron populations into contiguous blocks that fit a core, pack
blocks onto cores, split cores whose output axons overflow, then place cores on chips.

A core's limits are its neurons, synaptic words, input axons and, on a target that counts
them, neuron-state words (a neuron of a model with more state variables takes more: Resources
.neuron_state_words). Spike sources are not placed: their spikes come from the host through
input axons. Neurons too big for any core (fan-in or synaptic memory) still get a core of
their own, so a mapping always exists; the design-rule check (drc.py) reports what does not
fit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nmcompile.ir import Network
from nmcompile.targets.schema import Target

from .blocks import Mapping
from .costs import IncomingSynapses, distinct_pre_per_prefix, incoming_synapses, population_offsets
from .placement import place_cores

MAX_OUTPUT_ROUNDS = 8


@dataclass(frozen=True, eq=False)
class PopulationCosts:
    """Per-neuron synaptic costs of the neuron populations, computed once and shared by the
    pass and the DRC (what a neuron's state costs depends on the target: Resources)."""

    incoming: dict[str, IncomingSynapses]


def population_costs(net: Network) -> PopulationCosts:
    return PopulationCosts({p.name: incoming_synapses(net, p.name) for p in net.neuron_populations()})


def split_population(inc: IncomingSynapses, size: int, neurons_cap: int, words_cap: int,
                     axons_cap: int) -> list[tuple[int, int]]:
    """Greedy contiguous blocks; the axon count is galloped so each block costs O(its synapses)."""
    blocks, a, guess = [], 0, 64
    cum_words = np.concatenate(([0], np.cumsum(inc.words)))
    while a < size:
        b_max = min(size, a + neurons_cap,
                    int(np.searchsorted(cum_words, cum_words[a] + words_cap, "right")) - 1)
        b_max = max(b_max, a + 1)
        end = min(b_max, a + guess)
        while True:
            fan = distinct_pre_per_prefix(inc, a, end)
            fit = int(np.searchsorted(fan, axons_cap, "right"))
            if fit < end - a or end == b_max:
                break
            end = min(b_max, a + 2 * (end - a))
        b = a + max(fit, 1)
        blocks.append((a, b))
        guess = 2 * (b - a) + 8
        a = b
    return blocks


def partition(net: Network, target: Target, costs: PopulationCosts | None = None,
              optimise: bool = True) -> Mapping:
    """Map every neuron onto exactly one core of `target` (see module docstring)."""
    res = target.resources
    costs = costs or population_costs(net)
    names = tuple(p.name for p in net.neuron_populations())
    pops, starts, stops = [], [], []
    for i, name in enumerate(names):
        pop = net.populations[name]
        for a, b in split_population(costs.incoming[name], pop.size,
                                     res.max_neurons_per_core(pop.model.kind),
                                     res.max_synapses_per_core(), res.input_axons_per_core):
            pops.append(i)
            starts.append(a)
            stops.append(b)
    blocks = [np.array(x, np.int64) for x in (pops, starts, stops)]
    for _ in range(MAX_OUTPUT_ROUNDS):
        core = pack_next_fit(net, names, costs, *blocks, res)
        mapping = Mapping(target=target.name, cores_per_chip=res.cores_per_chip,
                          populations=names, block_pop=blocks[0], block_start=blocks[1],
                          block_stop=blocks[2], block_core=core)
        packets = core_packets(net, mapping)
        out_axons = packets.sum(axis=1).A1 if core.size else np.zeros(0)
        over = np.flatnonzero(out_axons > res.output_axons_per_core)
        if not over.size:
            break
        parts = np.ones(core.size, np.int64)
        for c in over:
            on_core = np.flatnonzero(core == c)
            parts[on_core] = -(-int(out_axons[c]) // res.output_axons_per_core)
        blocks = split_blocks(*blocks, parts)
    return place_cores(net, mapping, packets, optimise=optimise)


def pack_next_fit(net: Network, names, costs: PopulationCosts, pop, start, stop, res) -> np.ndarray:
    """Give consecutive blocks a shared core while neurons, synaptic words, (summed) axons
    and neuron-state words fit."""
    core = np.zeros(pop.size, np.int64)
    used = np.zeros(4, np.int64)
    cap = np.array([res.neurons_per_core, res.max_synapses_per_core(), res.input_axons_per_core,
                    res.neuron_state_words_per_core or 0])
    state_words = [res.neuron_state_words(net.populations[name].model.kind) for name in names]
    current = 0
    for k in range(pop.size):
        inc = costs.incoming[names[pop[k]]]
        a, b = int(start[k]), int(stop[k])
        need = np.array([b - a, int(inc.words[a:b].sum()),
                         int(distinct_pre_per_prefix(inc, a, b)[-1]) if b > a else 0,
                         (b - a) * state_words[pop[k]]])
        if k and np.any(used + need > cap):
            current += 1
            used[:] = 0
        used += need
        core[k] = current
    return core


def split_blocks(pop, start, stop, parts) -> list[np.ndarray]:
    """Cut block k into parts[k] near-equal contiguous pieces (at least one neuron each)."""
    out_pop, out_start, out_stop = [], [], []
    for p, a, b, n in zip(pop, start, stop, parts):
        n = max(1, min(int(n), int(b - a)))
        edges = np.linspace(a, b, n + 1).round().astype(np.int64)
        out_pop += [p] * n
        out_start += edges[:-1].tolist()
        out_stop += edges[1:].tolist()
    return [np.array(x, np.int64) for x in (out_pop, out_start, out_stop)]


def neuron_core_pairs(net: Network, mapping: Mapping) -> tuple[sp.csr_matrix, np.ndarray]:
    """(all neurons × cores) matrix with one entry per (neuron, destination core) pair, and the
    global core of every neuron (−1 for sources). Row nnz of a placed neuron = its output axons;
    column nnz = the input axons of a core. Entries count the synapses of each pair."""
    offsets = population_offsets(net)
    n_total = net.n_neurons
    n_cores = int(mapping.block_core.max()) + 1 if mapping.block_core.size else 0
    gcore = np.full(n_total, -1, np.int64)
    for name in mapping.populations:
        size = net.populations[name].size
        gcore[offsets[name]:offsets[name] + size] = mapping.neuron_cores(name, size)
    rows, cols = [], []
    for proj in net.projections:
        if proj.n_synapses:
            rows.append(proj.pre_idx.astype(np.int64) + offsets[proj.pre])
            cols.append(gcore[offsets[proj.post] + proj.post_idx.astype(np.int64)])
    if not rows:
        return sp.csr_matrix((n_total, n_cores), dtype=np.int32), gcore
    keys = np.sort(np.concatenate(rows) * max(n_cores, 1) + np.concatenate(cols))
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    unique = keys[first]
    pair_rows = unique // max(n_cores, 1)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(pair_rows, minlength=n_total))))
    synapses = np.diff(np.append(first, keys.size)).astype(np.int32)
    return sp.csr_matrix((synapses, unique - pair_rows * max(n_cores, 1), indptr),
                         shape=(n_total, n_cores)), gcore


def core_packets(net: Network, mapping: Mapping) -> sp.csr_matrix:
    """(cores × cores) count of (placed neuron, destination core) pairs: output axons = row sums.

    Entry [i, j] is how many neurons of core i send to core j: the packets per step if each of
    them spiked once.
    """
    pairs, gcore = neuron_core_pairs(net, mapping)
    n_cores = pairs.shape[1]
    src = gcore[np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))]
    on_chip = src >= 0
    return sp.csr_matrix((np.ones(int(on_chip.sum()), np.int64),
                          (src[on_chip], pairs.indices[on_chip])), shape=(n_cores, n_cores))
