"""What each neuron costs a core: synaptic memory (synapses plus delay buffers) and input axons.

Model of a core (Loihi style): synapses live on the core of their post neuron, reached through
one input axon per distinct presynaptic neuron (source neurons included); a neuron's spike
leaves its core once per distinct destination core (one output axon each).

Delay buffers are an ESTIMATE, as no target publishes their packing: a neuron whose longest
incoming delay is D keeps D − 1 pending-input slots besides its input register, each costing
one synaptic word (one synapse, or `bits_per_synapse` bits).

Memory: what is kept is a few numbers per neuron. Synapses are regrouped by neuron only for
one population at a time (SynapseLists, 4 bytes a synapse), and dropped when counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.ir import Network, Projection

from . import kernels

DELAY_SLOT_WORDS = 1  # synaptic words per extra delay slot per neuron (ESTIMATE, see above)


@dataclass(frozen=True, eq=False)
class IncomingSynapses:
    """Per post neuron of one population: its synapses, synaptic words (synapses plus delay
    slots), fan-in (distinct presynaptic neurons) and longest incoming delay."""

    synapses: np.ndarray
    words: np.ndarray
    fan_in: np.ndarray
    max_delay: np.ndarray


@dataclass(frozen=True, eq=False)
class SynapseLists:
    """Synapses regrouped by neuron (CSR): row i holds items[ptr[i]:ptr[i + 1]], one item
    (a global neuron id or a core) per synapse. `seen` (one flag per possible item, all
    False between calls) lets the kernels count distinct items without sorting."""

    ptr: np.ndarray
    items: np.ndarray
    seen: np.ndarray

    def distinct(self) -> np.ndarray:
        """Distinct items of each row."""
        out = np.zeros(self.ptr.size - 1, np.int64)
        kernels.distinct_per_row(self.ptr, self.items, self.seen, out)
        return out

    def rows_within(self, a: int, b: int, cap: int) -> tuple[int, int]:
        """(k, d): the most rows from a on (before b) with d ≤ cap distinct items together,
        or k = 1 (d > cap) when row a alone has more."""
        k, d = kernels.rows_within(self.ptr, self.items, a, b, cap, self.seen)
        return int(k), int(d)


def population_offsets(net: Network) -> dict[str, int]:
    """Global neuron id of each population's neuron 0 (all populations, in order)."""
    out, total = {}, 0
    for pop in net.populations.values():
        out[pop.name] = total
        total += pop.size
    return out


def projections_by(net: Network, end: str) -> dict[str, list[Projection]]:
    """The projections with synapses by their `end` population ("pre" or "post"), grouped
    once: a network of many populations (modules) would otherwise scan every projection
    for each of them."""
    out: dict[str, list[Projection]] = {}
    for proj in net.projections:
        if proj.n_synapses:
            out.setdefault(getattr(proj, end), []).append(proj)
    return out


def index_dtype(n: int) -> type:
    """The integer type of an id below n: int32, 4 bytes a synapse, unless it would wrap."""
    return np.int32 if n < 2**31 else np.int64


def regroup(projs: list[Projection], by: str, rows: int, lookup, n_items: int) -> SynapseLists:
    """The synapses of `projs` in rows of their `by` neuron ("pre" or "post": an index below
    `rows`), each synapse's item lookup(proj)[index of its other neuron] (< n_items).
    A counting sort, one projection at a time."""
    other = "post" if by == "pre" else "pre"
    counts = np.zeros(rows, np.int64)
    for proj in projs:
        kernels.count(getattr(proj, f"{by}_idx"), counts)
    ptr = np.zeros(rows + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    items = np.empty(int(ptr[-1]), index_dtype(n_items))
    fill = np.zeros(rows, np.int64)
    for proj in projs:
        kernels.scatter(getattr(proj, f"{by}_idx"), getattr(proj, f"{other}_idx"),
                        lookup(proj).astype(items.dtype, copy=False), ptr, fill, items)
    return SynapseLists(ptr=ptr, items=items, seen=np.zeros(n_items, bool))


def presynaptic_lists(net: Network, post: str, offsets: dict[str, int],
                      projs: list[Projection]) -> SynapseLists:
    """The presynaptic neurons (global ids) of each neuron of `post`, from `projs` (those
    into it); `offsets`: population_offsets(net)."""
    def global_ids(proj: Projection) -> np.ndarray:
        start = offsets[proj.pre]
        return np.arange(start, start + net.populations[proj.pre].size)
    return regroup(projs, "post", net.populations[post].size, global_ids, net.n_neurons)


def incoming_synapses(net: Network, post: str, offsets: dict[str, int],
                      projs: list[Projection]) -> IncomingSynapses:
    """The costs of each neuron of `post` from `projs` (those into it, with synapses);
    `offsets`: population_offsets(net)."""
    lists = presynaptic_lists(net, post, offsets, projs)
    longest = np.zeros(net.populations[post].size, np.int64)
    for proj in projs:
        kernels.longest_delay(proj.post_idx, proj.delay, longest)
    synapses = np.diff(lists.ptr)
    return IncomingSynapses(synapses=synapses, fan_in=lists.distinct(), max_delay=longest,
                            words=synapses + np.maximum(longest - 1, 0) * DELAY_SLOT_WORDS)


@dataclass(frozen=True, eq=False)
class PopulationCosts:
    """Per-neuron synaptic costs of the neuron populations, computed once and shared by the
    pass and the DRC (what a neuron's state costs depends on the target: Resources)."""

    incoming: dict[str, IncomingSynapses]


def population_costs(net: Network) -> PopulationCosts:
    offsets, into = population_offsets(net), projections_by(net, "post")
    return PopulationCosts({p.name: incoming_synapses(net, p.name, offsets, into.get(p.name, []))
                            for p in net.neuron_populations()})
