"""What each neuron costs a core: synaptic memory (synapses plus delay buffers) and input axons.

Model of a core (Loihi style): synapses live on the core of their post neuron, reached through
one input axon per distinct presynaptic neuron (source neurons included); a neuron's spike
leaves its core once per distinct destination core (one output axon each).

Delay buffers are an ESTIMATE, as no target publishes their packing: a neuron whose longest
incoming delay is D keeps D − 1 pending-input slots besides its input register, each costing
one synaptic word (one synapse, or `bits_per_synapse` bits).

Learning (DESIGN §5.3): the post neurons of a plastic projection keep traces, and its synapses
a tag under a reward rule, on their own core; every core that holds any of them also keeps
the traces of the projection's presynaptic neurons (all of them: plastic projections are
dense) and its rule. LearningState counts these; the target's LearningMemory prices them.

Memory: what is kept is a few numbers per neuron. Synapses are regrouped by neuron only for
one population at a time (SynapseLists, 4 bytes a synapse), and dropped when counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nmcompile.ir import Network, Projection
from nmcompile.targets.schema import LearningMemory

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
class LearningState:
    """What on-chip learning keeps for the neurons of a population that plastic projections
    enter: per neuron its traces and `tagged` tags (reward rules); once on each core holding
    any of them, the traces of the `pre_neurons` presynaptic neurons and the `products` of
    the rules of those projections (`projections`, by name)."""

    projections: tuple[str, ...]
    tagged: np.ndarray
    pre_neurons: int
    products: int

    def neuron_bits(self, mem: LearningMemory) -> np.ndarray:
        return mem.post_bits + self.tagged * mem.tag_bits

    def shared_bits(self, mem: LearningMemory) -> int:
        return self.pre_neurons * mem.pre_bits + self.products * mem.product_bits


def learning_state(net: Network, post: str, projs: list[Projection]) -> LearningState | None:
    """The learning state of population `post` from `projs` (those into it), None without a
    plastic one. Each projection keeps its own presynaptic traces (their time constants are
    its rule's); a neuron keeps one set of post traces."""
    plastic = [p for p in projs if p.plastic]
    if not plastic:
        return None
    tagged = np.zeros(net.populations[post].size, np.int64)
    for proj in plastic:
        if proj.learning.three_factor:
            tagged += np.bincount(proj.post_idx, minlength=tagged.size)
    return LearningState(
        projections=tuple(p.name for p in plastic), tagged=tagged,
        pre_neurons=sum(net.populations[p.pre].size for p in plastic),
        products=sum(len(series) for p in plastic for series in p.learning.products().values()))


@dataclass(frozen=True, eq=False)
class PopulationCosts:
    """Per-neuron synaptic costs of the neuron populations, computed once and shared by the
    pass and the DRC (what a neuron's state costs depends on the target: Resources), and the
    learning state of those that plastic projections enter."""

    incoming: dict[str, IncomingSynapses]
    learning: dict[str, LearningState] = field(default_factory=dict)


def population_costs(net: Network) -> PopulationCosts:
    offsets, into = population_offsets(net), projections_by(net, "post")
    pops = list(net.neuron_populations())
    learning = {p.name: learning_state(net, p.name, into.get(p.name, [])) for p in pops}
    return PopulationCosts({p.name: incoming_synapses(net, p.name, offsets, into.get(p.name, []))
                            for p in pops},
                           {name: state for name, state in learning.items() if state})
