"""Partitioning pass: split neuron populations into contiguous blocks that fit a core, pack
blocks onto cores, then place cores on chips.

A core's limits are its neurons, synaptic words, input axons, output axons and, on a target
that counts them, neuron-state words (a neuron of a model with more state variables takes
more: Resources.neuron_state_words). Spike sources are not placed: their spikes come from the
host through input axons. Neurons too big for any core (fan-in, synaptic memory or fan-out)
still get a core of their own, so a mapping always exists; the design-rule check (drc.py)
reports what does not fit.

Output axons are the one limit a block cannot price alone: a neuron needs one per distinct
destination core, which depends on where the rest of the network lands. So the pass splits and
packs with an estimate of every neuron's output axons (none at first), measures them on the
result, and repeats with the larger of estimate and measure until every core of more than one
neuron fits. Estimates only grow, so every round that does not fit raises some of them; after
MAX_OUTPUT_ROUNDS the last mapping is kept and the design rules refuse it. (Cutting only the
overflowing cores' blocks and packing again, as this pass once did, let next-fit put the
pieces back on one core: nothing in the packing knew of output axons.)
"""
from __future__ import annotations


import numpy as np
import scipy.sparse as sp

from nmcompile.ir import Network
from nmcompile.targets.schema import Target

from .blocks import Mapping
from .costs import (IncomingSynapses, PopulationCosts, distinct_pre_per_prefix, population_costs,
                    population_offsets)
from .placement import place_cores
from .usage import core_usage

# Rounds measured: 2 for a 64×64-input CNN of 566,000 synapses on loihi2, at most 15 for 2,400
# random dense networks on small cores (most 1–3); a round costs about one split and pack.
MAX_OUTPUT_ROUNDS = 32


def split_population(inc: IncomingSynapses, size: int, neurons_cap: int, words_cap: int,
                     axons_cap: int, out_axons: np.ndarray, out_cap: int) -> list[tuple[int, int]]:
    """Greedy contiguous blocks within every cap (`out_axons`: each neuron's estimated output
    axons); the input-axon count is galloped so each block costs O(its synapses)."""
    blocks, a, guess = [], 0, 64
    cum_words = np.concatenate(([0], np.cumsum(inc.words)))
    cum_out = np.concatenate(([0], np.cumsum(out_axons)))
    while a < size:
        b_max = min(size, a + neurons_cap, _last_end_within(cum_words, a, words_cap),
                    _last_end_within(cum_out, a, out_cap))
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


def _last_end_within(cumulative: np.ndarray, a: int, cap: int) -> int:
    """The largest b with cumulative[b] − cumulative[a] ≤ cap (a prefix sum of costs ≥ 0)."""
    return int(np.searchsorted(cumulative, cumulative[a] + cap, "right")) - 1


def partition(net: Network, target: Target, costs: PopulationCosts | None = None,
              optimise: bool = True) -> Mapping:
    """Map every neuron onto exactly one core of `target` (see module docstring)."""
    res = target.resources
    costs = costs or population_costs(net)
    names = tuple(p.name for p in net.neuron_populations())
    out_axons = np.zeros(net.n_neurons, np.int64)  # estimate per neuron (global ids)
    for _ in range(MAX_OUTPUT_ROUNDS):
        blocks = split_populations(net, names, costs, res, out_axons)
        core = pack_next_fit(net, names, costs, *blocks, res, out_axons)
        mapping = Mapping(target=target.name, cores_per_chip=res.cores_per_chip,
                          populations=names, block_pop=blocks[0], block_start=blocks[1],
                          block_stop=blocks[2], block_core=core)
        pairs, gcore = neuron_core_pairs(net, mapping)
        per_core, _ = core_usage(net, target, costs, pairs, gcore)
        if not np.any((per_core["output_axons"] > res.output_axons_per_core)
                      & (per_core["neurons"] > 1)):
            break
        out_axons = np.maximum(out_axons, np.diff(pairs.indptr))
    return place_cores(net, mapping, pairs_to_packets(pairs, gcore), optimise=optimise)


def split_populations(net: Network, names, costs: PopulationCosts, res,
                      out_axons: np.ndarray) -> list[np.ndarray]:
    """Blocks (population index, start, stop) of every neuron population, in order."""
    offsets = population_offsets(net)
    pops, starts, stops = [], [], []
    for i, name in enumerate(names):
        pop = net.populations[name]
        for a, b in split_population(costs.incoming[name], pop.size,
                                     res.max_neurons_per_core(pop.model.kind),
                                     res.max_synapses_per_core(), res.input_axons_per_core,
                                     out_axons[offsets[name]:offsets[name] + pop.size],
                                     res.output_axons_per_core):
            pops.append(i)
            starts.append(a)
            stops.append(b)
    return [np.array(x, np.int64) for x in (pops, starts, stops)]


def pack_next_fit(net: Network, names, costs: PopulationCosts, pop, start, stop, res,
                  out_axons: np.ndarray) -> np.ndarray:
    """Give consecutive blocks a shared core while neurons, synaptic words, (summed) input
    axons, estimated output axons and neuron-state words fit."""
    offsets = population_offsets(net)
    core = np.zeros(pop.size, np.int64)
    used = np.zeros(5, np.int64)
    cap = np.array([res.neurons_per_core, res.max_synapses_per_core(), res.input_axons_per_core,
                    res.output_axons_per_core, res.neuron_state_words_per_core or 0])
    state_words = [res.neuron_state_words(net.populations[name].model.kind) for name in names]
    current = 0
    for k in range(pop.size):
        name = names[pop[k]]
        inc = costs.incoming[name]
        a, b = int(start[k]), int(stop[k])
        need = np.array([b - a, int(inc.words[a:b].sum()),
                         int(distinct_pre_per_prefix(inc, a, b)[-1]) if b > a else 0,
                         int(out_axons[offsets[name] + a:offsets[name] + b].sum()),
                         (b - a) * state_words[pop[k]]])
        if k and np.any(used + need > cap):
            current += 1
            used[:] = 0
        used += need
        core[k] = current
    return core


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
    return pairs_to_packets(*neuron_core_pairs(net, mapping))


def pairs_to_packets(pairs: sp.csr_matrix, gcore: np.ndarray) -> sp.csr_matrix:
    """core_packets from neuron_core_pairs' result."""
    n_cores = pairs.shape[1]
    src = gcore[np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))]
    on_chip = src >= 0
    return sp.csr_matrix((np.ones(int(on_chip.sum()), np.int64),
                          (src[on_chip], pairs.indices[on_chip])), shape=(n_cores, n_cores))
