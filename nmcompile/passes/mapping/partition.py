"""Partitioning pass: split neuron populations into contiguous blocks that fit a core, pack
blocks onto cores, then place cores on chips.

A core's limits are its neurons, synaptic words, input axons, output axons and, on a target
that counts them, neuron-state words (a neuron of a model with more state variables takes
more: Resources.neuron_state_words) and learning bits (costs.LearningState). Spike sources
are not placed: their spikes come from the host through input axons. Neurons too big for any
core (fan-in, synaptic memory, fan-out or learning memory) still get a core of their own, so
a mapping always exists; the design-rule check (drc.py) reports what does not fit.

Output axons are the one limit a block cannot price alone: a neuron needs one per distinct
destination core, which depends on where the rest of the network lands. So the pass splits and
packs with an estimate of every neuron's output axons (none at first), measures them on the
result, and repeats with the larger of estimate and measure until every core of more than one
neuron fits. Estimates only grow, so every round that does not fit raises some of them; after
MAX_OUTPUT_ROUNDS the last mapping is kept and the design rules refuse it. (Cutting only the
overflowing cores' blocks and packing again, as this pass once did, let next-fit put the
pieces back on one core: nothing in the packing knew of output axons.)

Memory: a round regroups the synapses of one population at a time, into it to split it
(costs.presynaptic_lists) and out of it to count output axons (pairs.py), 4 bytes a synapse
of that population, dropped after: never a list of every synapse or pair of the network.
"""
from __future__ import annotations


import numpy as np

from nmcompile.ir import Network
from nmcompile.targets.schema import Target

from . import kernels
from .blocks import Mapping
from .costs import (PopulationCosts, SynapseLists, population_costs, population_offsets,
                    presynaptic_lists, projections_by)
from .pairs import count_pairs
from .placement import place_cores
from .usage import core_usage

# Rounds measured: 2 for a 64×64-input CNN of 566,000 synapses on loihi2, at most 15 for 2,400
# random dense networks on small cores (most 1–3); a round costs about one split and pack.
MAX_OUTPUT_ROUNDS = 32


def split_population(inputs: SynapseLists, size: int, neurons_cap: int, axons_cap: int,
                     additive: list[tuple[np.ndarray, int]]) -> list[tuple[int, int, int]]:
    """Greedy contiguous blocks (start, stop, input axons) within every cap (`inputs`: the
    presynaptic neurons of each neuron; `additive`: per-neuron costs that add up on a core,
    each with its cap: synaptic words, estimated output axons, learning bits); each block
    reads its synapses and those of the neuron after it."""
    blocks, a = [], 0
    cumulative = [(np.concatenate(([0], np.cumsum(cost))), cap) for cost, cap in additive]
    while a < size:
        b_max = min(size, a + neurons_cap, *(_last_end_within(cum, a, cap)
                                               for cum, cap in cumulative))
        rows, axons = inputs.rows_within(a, max(b_max, a + 1), axons_cap)
        blocks.append((a, a + rows, axons))
        a += rows
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
        pop, start, stop, fan_in = split_populations(net, names, costs, res, out_axons)
        core = pack_next_fit(net, names, costs, pop, start, stop, fan_in, res, out_axons)
        mapping = Mapping(target=target.name, cores_per_chip=res.cores_per_chip,
                          populations=names, block_pop=pop, block_start=start,
                          block_stop=stop, block_core=core)
        pairs = count_pairs(net, mapping)
        per_core, _ = core_usage(net, target, costs, pairs)
        if not np.any((per_core["output_axons"] > res.output_axons_per_core)
                      & (per_core["neurons"] > 1)):
            break
        out_axons = np.maximum(out_axons, pairs.output_axons)
    return place_cores(net, mapping, optimise=optimise)


def split_populations(net: Network, names, costs: PopulationCosts, res,
                      out_axons: np.ndarray) -> list[np.ndarray]:
    """Blocks (population index, start, stop, input axons) of every neuron population, in
    order. Each population's presynaptic lists are made for its split and dropped after."""
    offsets, into = population_offsets(net), projections_by(net, "post")
    blocks = []
    for i, name in enumerate(names):
        pop = net.populations[name]
        inputs = presynaptic_lists(net, name, offsets, into.get(name, []))
        additive = [(costs.incoming[name].words, res.max_synapses_per_core()),
                    (out_axons[offsets[name]:offsets[name] + pop.size],
                     res.output_axons_per_core)]
        state = costs.learning.get(name)
        if res.learning and state:  # its shared state takes its part of every core it is on
            additive.append((state.neuron_bits(res.learning), max(
                res.learning.memory_bits_per_core - state.shared_bits(res.learning), 0)))
        blocks += [(i, a, b, fan) for a, b, fan in split_population(
            inputs, pop.size, res.max_neurons_per_core(pop.model.kind),
            res.input_axons_per_core, additive)]
    return list(np.array(blocks, np.int64).reshape(-1, 4).T)


def pack_next_fit(net: Network, names, costs: PopulationCosts, pop, start, stop, fan_in, res,
                  out_axons: np.ndarray) -> np.ndarray:
    """Give consecutive blocks a shared core while neurons, synaptic words, (summed) input
    axons, estimated output axons, neuron-state words and learning bits fit (a block's
    learning bits include its population's shared state, counted again for a second block of
    the same population on one core: pessimistic, never over)."""
    offsets = population_offsets(net)
    words = np.zeros(net.n_neurons, np.int64)
    learning = np.zeros(net.n_neurons, np.int64)
    shared = np.zeros(len(names), np.int64)
    for k, name in enumerate(names):
        inc = costs.incoming[name]
        words[offsets[name]:offsets[name] + inc.words.size] = inc.words
        state = costs.learning.get(name)
        if res.learning and state:
            learning[offsets[name]:offsets[name] + inc.words.size] = state.neuron_bits(
                res.learning)
            shared[k] = state.shared_bits(res.learning)
    first = np.array([offsets[name] for name in names], np.int64)[pop]
    state_words = np.array([res.neuron_state_words(net.populations[name].model.kind)
                            for name in names], np.int64)

    def per_block(per_neuron: np.ndarray) -> np.ndarray:  # summed over each block's neurons
        cumulative = np.concatenate(([0], np.cumsum(per_neuron)))
        return cumulative[first + stop] - cumulative[first + start]
    need = np.stack([stop - start, per_block(words), fan_in, per_block(out_axons),
                     (stop - start) * state_words[pop], per_block(learning) + shared[pop]],
                    axis=1)
    cap = np.array([res.neurons_per_core, res.max_synapses_per_core(), res.input_axons_per_core,
                    res.output_axons_per_core, res.neuron_state_words_per_core or 0,
                    res.learning.memory_bits_per_core if res.learning else 0], np.int64)
    core = np.zeros(pop.size, np.int64)
    kernels.next_fit(need.astype(np.int64), cap, core)
    return core
