"""What each neuron costs a core: synaptic memory (synapses plus delay buffers) and input axons.

Model of a core (Loihi style): synapses live on the core of their post neuron, reached through
one input axon per distinct presynaptic neuron (source neurons included); a neuron's spike
leaves its core once per distinct destination core (one output axon each).

Delay buffers are an ESTIMATE, as no target publishes their packing: a neuron whose longest
incoming delay is D keeps D − 1 pending-input slots besides its input register, each costing
one synaptic word (one synapse, or `bits_per_synapse` bits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.ir import Network, Projection

DELAY_SLOT_WORDS = 1  # synaptic words per extra delay slot per neuron (ESTIMATE, see above)


@dataclass(frozen=True, eq=False)
class IncomingSynapses:
    """Synapses into one population, sorted by post neuron (CSR-like), for block splitting.

    gpre: global id of each synapse's presynaptic neuron (offsets over all populations).
    prev_row: post row of the previous synapse with the same gpre (−1 if none), so the
      distinct presynaptic neurons of rows [a, b) are the synapses there with prev_row < a.
    words: synaptic words per post neuron; fan_in: distinct presynaptic neurons per post neuron.
    """

    row_ptr: np.ndarray
    gpre: np.ndarray
    prev_row: np.ndarray
    words: np.ndarray
    fan_in: np.ndarray
    max_delay: np.ndarray


def population_offsets(net: Network) -> dict[str, int]:
    """Global neuron id of each population's neuron 0 (all populations, in order)."""
    out, total = {}, 0
    for pop in net.populations.values():
        out[pop.name] = total
        total += pop.size
    return out


def incoming_synapses(net: Network, post: str, offsets: dict[str, int],
                      projs: list[Projection]) -> IncomingSynapses:
    """Gather the projections into `post` (`projs`, those with synapses), sorted by post row,
    with the axon bookkeeping; `offsets`: population_offsets(net)."""
    n = net.populations[post].size
    if not projs:
        zeros = np.zeros(n, np.int64)
        return IncomingSynapses(np.zeros(n + 1, np.int64), np.zeros(0, np.int64),
                                np.zeros(0, np.int64), zeros, zeros, zeros)
    rows = np.concatenate([p.post_idx for p in projs]).astype(np.int64)
    gpre = np.concatenate([p.pre_idx.astype(np.int64) + offsets[p.pre] for p in projs])
    delay = np.concatenate([p.delay for p in projs]).astype(np.int64)
    max_delay = np.zeros(n, np.int64)
    np.maximum.at(max_delay, rows, delay)
    # one sort by (gpre, row): neighbours with equal gpre give prev_row and duplicates
    key_sorted = np.sort(gpre * n + rows)  # np.sort is ~5x faster than argsort here
    g_sorted = key_sorted // n
    r_sorted = key_sorted - g_sorted * n
    same_pre = np.zeros(key_sorted.size, bool)
    same_pre[1:] = g_sorted[1:] == g_sorted[:-1]
    prev_sorted = np.where(same_pre, np.concatenate(([-1], r_sorted[:-1])), -1)
    first_pair = np.ones(key_sorted.size, bool)
    first_pair[1:] = key_sorted[1:] != key_sorted[:-1]
    fan_in = np.bincount(r_sorted[first_pair], minlength=n)
    by_row = stable_order(r_sorted)
    counts = np.bincount(rows, minlength=n)
    row_ptr = np.concatenate(([0], np.cumsum(counts)))
    words = counts + np.maximum(max_delay - 1, 0) * DELAY_SLOT_WORDS
    return IncomingSynapses(row_ptr=row_ptr, gpre=g_sorted[by_row], prev_row=prev_sorted[by_row],
                            words=words, fan_in=fan_in, max_delay=max_delay)


def stable_order(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable") for non-negative integers, by sorting packed keys."""
    n = values.size
    return np.sort(values.astype(np.int64) * max(n, 1) + np.arange(n)) % max(n, 1)


def distinct_pre_per_prefix(inc: IncomingSynapses, a: int, b: int) -> np.ndarray:
    """Distinct presynaptic neurons of rows [a, a+1), [a, a+2), ... [a, b): a cumulative count."""
    lo, hi = inc.row_ptr[a], inc.row_ptr[b]
    new = inc.prev_row[lo:hi] < a
    rows = np.repeat(np.arange(b - a), np.diff(inc.row_ptr[a:b + 1]))
    return np.cumsum(np.bincount(rows, weights=new, minlength=b - a)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PopulationCosts:
    """Per-neuron synaptic costs of the neuron populations, computed once and shared by the
    pass and the DRC (what a neuron's state costs depends on the target: Resources)."""

    incoming: dict[str, IncomingSynapses]


def population_costs(net: Network) -> PopulationCosts:
    offsets, into = population_offsets(net), {}
    for proj in net.projections:  # grouped once: a network of many populations (modules)
        if proj.n_synapses:       # would otherwise scan every projection for each of them
            into.setdefault(proj.post, []).append(proj)
    return PopulationCosts({p.name: incoming_synapses(net, p.name, offsets, into.get(p.name, []))
                            for p in net.neuron_populations()})
