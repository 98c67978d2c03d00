"""Lower an IR Network (float) or QuantizedNetwork (fixed point) to Lava processes.

One process per population: a neuron population's comes from the lowering module of its
model kind (models/, e.g. models/lif.py: Lava's LIF / LIFRefractory, or nmcompile's NmcLIF
for the features Lava lacks), a source population is a RingBuffer. One connection process
per projection, one sink RingBuffer per neuron population for its spikes and one `Read` per
probe: every neuron process holds each state variable of its model (the model's STATE) as a
Var of that name (LIF u, v; NmcIzhikevich v, u, i; ATRLIF i, v, theta, r), so a probe reads
the Var its `var` names. Every process is handed its ProcessModel by name (process_models),
so Lava never scans folders for them. Time alignment (DESIGN §2): Lava's Dense buffers one
step and Delay* delay k means k+1 steps, so IR delay d becomes Lava delay d−1.

Float summation order: `Dense` sums `weights[:, s].sum(axis=1)` (numpy pairwise sum over
spiking pre neurons), `Sparse` sums sequentially in pre order (CSR matvec), Delay* processes
add one partial sum per arrival step, and LIF `a_in` adds its incoming connections in the
order of Lava's channels, which comes from iterating a set of processes (compiler_graphs.
find_processes): with two or more projections into one population the last bits of u and v
may differ from one Lava run to the next. A float-exact peer therefore agrees up to ties
(DESIGN §3), never bit for bit; integer sums (fixed_pt) are unaffected.

Plastic projections (docs/design.md §10) become Lava's LearningDense, (n_post, n_pre) with
W[post_idx, pre_idx] = weight, no delay process (they have IR delay 1), with STDPLoihi or
RewardModulatedSTDP built from the projection's LavaRule and the rule's sign mode as a
SignMode member (an int fails in the worker at the first learning epoch). The post's spikes
reach the connection's s_in_bap. A reward-modulated projection's post population runs
nmcompile's RewardLIF (reward_lif/), which sends its spikes and traces y1, y2, y3 to the
connection's s_in_bap, s_in_y1..y3, and receives on a_third_factor_in an ordinary Dense from
the reward population, every entry the rule's reward_weight: one RewardLIF and one reward
Dense per post population, whatever the number of reward projections into it (the model
format makes their rules agree). A plastic projection's pre, post and reward population are
one component. A weight probe is a Read of the LearningDense's weights every `every` steps
(offset every − 1): Read reads after the learning phase of its step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import scipy.sparse as sp

from nmcompile.backends.registry import SOURCE_KINDS
from nmcompile.diagnostics import InputError, InternalError
from nmcompile.ir import (LavaRule, Network, Population, Projection, QuantizedNetwork, lava_rule,
                          source_raster)

from .models import REGISTRY

CONNECTIONS = ("auto", "dense", "sparse")
DENSE_MIN_DENSITY = 0.25        # auto: Dense at or above this fraction of present synapses
DENSE_MAX_CELLS = 1 << 22       # auto: never a dense (delay-stacked) matrix bigger than this


@dataclass
class PlasticLink:
    """A plastic projection's LearningDense, the synapse order of its IR projection (its
    weights are W[post_idx, pre_idx]) and the Read of its weight probe: `probed` with no
    reader when the run is shorter than the probe's interval (no sample)."""

    post: str
    dense: object
    post_idx: np.ndarray
    pre_idx: np.ndarray
    probed: bool = False
    reader: object | None = None

    def in_ir_order(self, matrix: np.ndarray) -> np.ndarray:
        """One value per synapse of the IR projection from (..., n_post, n_pre) matrices."""
        return matrix[..., self.post_idx, self.pre_idx]


@dataclass
class LavaGraph:
    """The Lava processes of one network; each component is run on its own (Lava compiles
    only the processes connected to the one `run` is called on)."""

    components: list[list[str]]                     # neuron population names, per component
    neurons: dict[str, object] = field(default_factory=dict)        # name -> neuron process
    spike_sinks: dict[str, object] = field(default_factory=dict)    # name -> sink RingBuffer
    probe_reads: dict[tuple[str, str], object] = field(default_factory=dict)  # -> Read
    plastic: dict[str, PlasticLink] = field(default_factory=dict)   # projection name -> link
    models: dict[object, type] = field(default_factory=dict)  # process -> its ProcessModel


def process_models(select_tag: str) -> dict[type, type]:
    """Lava process class -> the ProcessModel `select_tag` would pick, named explicitly:
    handed to Loihi2SimCfg per process, it spares Lava's per-run scan (and re-execution)
    of every module next to each process class, about a second per run. Neuron processes
    come from the model modules (models/)."""
    from lava.proc.dense import models as dense
    from lava.proc.io import sink, source
    from lava.proc.sparse import models as sparse

    fixed = select_tag == "fixed_pt"
    pick = {
        dense.Dense: dense.PyDenseModelBitAcc if fixed else dense.PyDenseModelFloat,
        dense.LearningDense: (dense.PyLearningDenseModelBitApproximate if fixed
                              else dense.PyLearningDenseModelFloat),
        dense.DelayDense: dense.PyDelayDenseModelBitAcc if fixed else dense.PyDelayDenseModelFloat,
        sparse.Sparse: sparse.PySparseModelBitAcc if fixed else sparse.PySparseModelFloat,
        sparse.DelaySparse: (sparse.PyDelaySparseModelBitAcc if fixed
                             else sparse.PyDelaySparseModelFloat),
        source.RingBuffer: source.PySendModelFixed if fixed else source.PySendModelFloat,
        sink.RingBuffer: sink.PyReceiveModelFixed if fixed else sink.PyReceiveModelFloat,
        sink.Read: sink.PyReadFixed if fixed else sink.PyReadFloat,
    }
    for kind in REGISTRY:
        if kind not in SOURCE_KINDS:
            pick.update(REGISTRY.module(kind).process_models(select_tag))
    return pick


def build_float(net: Network, steps: int, connection: str = "auto") -> LavaGraph:
    """Processes for `select_tag='floating_pt'`: parameters straight from the models."""
    rules = {p.name: lava_rule(p.learning, net.dt, net.seed, p.name, p.weight)
             for p in net.plastic_projections()}
    rewarded = _reward_rules(net, rules)
    neurons = {}
    for p in _neuron_populations(net):
        module = REGISTRY.module(p.model.kind)
        neurons[p.name] = (module.reward_float_process(p, net, steps, rewarded[p.name])
                           if p.name in rewarded else module.float_process(p, net, steps))
    links = [(proj, proj.weight.astype(np.float64), {}, rules.get(proj.name))
             for proj in net.projections]
    return _assemble(net, neurons, links, rewarded, steps, connection, "floating_pt")


def build_fixed(qnet: QuantizedNetwork, steps: int, connection: str = "auto") -> LavaGraph:
    """Processes for `select_tag='fixed_pt'`: integer registers of the quantized network."""
    from lava.utils.weightutils import SignMode

    net = qnet.network
    rules = {fp.name: fp.learning for fp in qnet.projections if fp.learning is not None}
    unruled = [p.name for p in net.plastic_projections() if p.name not in rules]
    if unruled:
        raise InternalError(f"plastic projection(s) {', '.join(unruled)} quantized without "
                            f"a learning rule")
    rewarded = _reward_rules(net, rules)
    neurons = {}
    for p in _neuron_populations(net):
        module = REGISTRY.module(p.model.kind)
        neurons[p.name] = (module.reward_fixed_process(p, qnet, steps, rewarded[p.name])
                           if p.name in rewarded else module.fixed_process(p, qnet, steps))
    links = [(fp, fp.weight_mant.astype(np.int32),
              {"weight_exp": int(fp.weight_exp), "num_weight_bits": int(fp.num_weight_bits),
               "sign_mode": SignMode[fp.sign_mode.upper()]}, fp.learning)
             for fp in qnet.projections]
    return _assemble(net, neurons, links, rewarded, steps, connection, "fixed_pt")


def reward_posts(net: Network) -> dict[str, Projection]:
    """Post population -> its first reward-modulated projection (the ones after it agree)."""
    posts: dict[str, Projection] = {}
    for proj in net.plastic_projections():
        if proj.learning.three_factor:
            posts.setdefault(proj.post, proj)
    return posts


def unsupported_reward_posts(net: Network) -> list[tuple[Projection, Population]]:
    """Reward-modulated projections whose post population cannot be a RewardLIF (not LIF)."""
    return [(proj, net.populations[post]) for post, proj in reward_posts(net).items()
            if not hasattr(REGISTRY.module(net.populations[post].model.kind),
                           "reward_float_process")]


def _reward_rules(net: Network, rules: dict[str, LavaRule]) -> dict[str, LavaRule]:
    """Post population -> the rule its RewardLIF and reward Dense follow."""
    unsupported = unsupported_reward_posts(net)
    if unsupported:
        proj, pop = unsupported[0]
        raise InputError(f"projection {proj.name}: reward-modulated STDP into population "
                         f"{pop.name} ({pop.model.kind}) needs a LIF post population on Lava")
    return {post: rules[proj.name] for post, proj in reward_posts(net).items()}


def _neuron_populations(net: Network) -> list[Population]:
    return [p for p in net.populations.values() if not p.is_source]


def _assemble(net: Network, neurons: dict, links: list, rewarded: dict[str, LavaRule],
              steps: int, connection: str, select_tag: str) -> LavaGraph:
    """Wire sources, connections, sinks and probe readers around the given neurons."""
    from lava.proc.io.sink import Read, RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    if connection not in CONNECTIONS:
        raise InputError(f"option connection={connection!r}: choose from {', '.join(CONNECTIONS)}")
    graph = nx.Graph()
    graph.add_nodes_from(net.populations)
    fixed = select_tag == "fixed_pt"
    source_dtype = np.int32 if fixed else np.float64
    sources, connections, plastic = {}, [], {}

    def spikes_of(name: str):  # the OutPort of a population's spikes (sources made on demand)
        pop = net.populations[name]
        if not pop.is_source:
            return neurons[name].s_out
        if name not in sources:
            raster = source_raster(pop, net, steps).T.astype(source_dtype)  # neurons × steps
            sources[name] = Source(data=raster)
        return sources[name].s_out

    for proj, weights, fixed_kwargs, rule in links:
        if proj.pre_idx.size == 0:
            continue
        pre, post = net.populations[proj.pre], net.populations[proj.post]
        if rule is None:
            conn = _connection(proj, weights, pre.size, post.size, connection, fixed_kwargs)
        else:
            conn = _learning_connection(proj, weights, pre.size, post.size, rule, fixed_kwargs)
            _send_post_traces(neurons[post.name], conn, rule)
            plastic[proj.name] = PlasticLink(post=post.name, dense=conn, post_idx=proj.post_idx,
                                             pre_idx=proj.pre_idx)
        connections.append(conn)
        spikes_of(pre.name).connect(conn.s_in)
        conn.a_out.connect(neurons[post.name].a_in)
        graph.add_edge(pre.name, post.name)
    for post, rule in rewarded.items():
        conn = _reward_connection(post, rule, net.populations[post].size,
                                  net.populations[rule.reward].size, fixed)
        connections.append(conn)
        spikes_of(rule.reward).connect(conn.s_in)
        conn.a_out.connect(neurons[post].a_third_factor_in)
        graph.add_edge(rule.reward, post)

    lava = LavaGraph(components=[
        [n for n in net.populations if n in comp and n in neurons]
        for comp in nx.connected_components(graph) if any(n in neurons for n in comp)])
    lava.neurons = neurons
    lava.plastic = plastic
    for name, proc in neurons.items():
        sink = Sink(shape=(net.populations[name].size,), buffer=steps)
        proc.s_out.connect(sink.a_in)
        lava.spike_sinks[name] = sink
    for probe in net.probes:
        reader = Read(buffer=steps)
        reader.connect_var(getattr(neurons[probe.population], probe.var))
        lava.probe_reads[(probe.population, probe.var)] = reader
    for probe in net.weight_probes:
        link = plastic.get(probe.projection)
        if link is None:
            raise InputError(f"weight probe of projection {probe.projection}: not a plastic "
                             f"projection")
        link.probed = True
        if steps // probe.every:  # sample k: after the learning of step (k + 1)·every − 1
            link.reader = Read(buffer=steps // probe.every, interval=probe.every,
                               offset=probe.every - 1)
            link.reader.connect_var(link.dense.weights)
    table = process_models(select_tag)
    readers = [link.reader for link in plastic.values() if link.reader is not None]
    for proc in [*sources.values(), *connections, *neurons.values(), *lava.spike_sinks.values(),
                 *lava.probe_reads.values(), *readers]:
        lava.models[proc] = table[type(proc)]
    return lava


def _learning_connection(proj, weights: np.ndarray, n_pre: int, n_post: int, rule: LavaRule,
                         fixed_kwargs: dict):
    """A LearningDense for one plastic projection (every pre to every post, delay 1)."""
    from lava.proc.dense.process import LearningDense
    from lava.utils.weightutils import SignMode

    if np.any(proj.delay != 1):
        raise InputError(f"projection {proj.name}: a plastic projection has delay 1 (Lava's "
                         f"LearningDense has no delays), got {int(proj.delay.max())}")
    dense = np.zeros((n_post, n_pre), dtype=weights.dtype)
    dense[proj.post_idx, proj.pre_idx] = weights
    kwargs = {**fixed_kwargs, "sign_mode": SignMode[rule.sign_mode.upper()]}
    return LearningDense(weights=dense, learning_rule=_learning_rule(proj.name, rule),
                         name=proj.name, **kwargs)


def _learning_rule(projection: str, rule: LavaRule):
    """Lava's STDPLoihi or RewardModulatedSTDP with the parameters of `rule`."""
    from lava.proc.learning_rules.r_stdp_learning_rule import RewardModulatedSTDP
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    common = dict(learning_rate=rule.learning_rate, A_plus=rule.a_plus, A_minus=rule.a_minus,
                  t_epoch=int(rule.t_epoch), rng_seed=int(rule.rng_seed))
    try:
        if rule.three_factor:
            return RewardModulatedSTDP(
                pre_trace_decay_tau=rule.x1_tau, post_trace_decay_tau=rule.y1_tau,
                pre_trace_kernel_magnitude=rule.x1_impulse,
                post_trace_kernel_magnitude=rule.y1_impulse,
                eligibility_trace_decay_tau=rule.eligibility_decay, **common)
        return STDPLoihi(tau_plus=rule.x1_tau, tau_minus=rule.y1_tau,
                         x1_impulse=rule.x1_impulse, y1_impulse=rule.y1_impulse, **common)
    except ValueError as exc:  # a scaling beyond Lava's m·2^e
        raise InputError(f"projection {projection}: {exc}") from exc


def _send_post_traces(post, conn, rule: LavaRule) -> None:
    """The post neurons' spikes (and, for a reward rule, RewardLIF's traces) to `conn`."""
    if not rule.three_factor:
        post.s_out.connect(conn.s_in_bap)
        return
    post.s_out_bap.connect(conn.s_in_bap)
    post.s_out_y1.connect(conn.s_in_y1)
    post.s_out_y2.connect(conn.s_in_y2)
    post.s_out_y3.connect(conn.s_in_y3)


def _reward_connection(post: str, rule: LavaRule, n_post: int, n_reward: int, fixed: bool):
    """Every reward neuron to every post neuron's a_third_factor_in, weight reward_weight
    (fixed: an integer mantissa, weight_exp 0, its sign mode stated so no bit is dropped)."""
    from lava.proc.dense.process import Dense
    from lava.utils.weightutils import SignMode

    if not fixed:
        return Dense(weights=np.full((n_post, n_reward), float(rule.reward_weight)),
                     name=f"{post}.reward")
    weight = int(rule.reward_weight)
    sign = SignMode.INHIBITORY if weight < 0 else SignMode.EXCITATORY
    return Dense(weights=np.full((n_post, n_reward), weight, dtype=np.int32),
                 num_weight_bits=8, weight_exp=0, sign_mode=sign, name=f"{post}.reward")


def _connection(proj, weights: np.ndarray, n_pre: int, n_post: int, connection: str,
                fixed_kwargs: dict):
    """Dense or Sparse (Delay* when any delay > 1) process for one projection."""
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.sparse.process import DelaySparse, Sparse

    lava_delay = proj.delay.astype(np.int64) - 1
    max_delay = int(lava_delay.max())
    shape = (n_post, n_pre)
    w = sp.csr_matrix((weights, (proj.post_idx, proj.pre_idx)), shape=shape)
    d = sp.csr_matrix((lava_delay, (proj.post_idx, proj.pre_idx)), shape=shape, dtype=np.int64)
    kwargs = dict(name=proj.name, **fixed_kwargs)
    if use_dense(proj.pre_idx.size, n_pre, n_post, max_delay, connection):
        if max_delay == 0:
            return Dense(weights=w.toarray(), **kwargs)
        return DelayDense(weights=w.toarray(), delays=d.toarray().astype(int),
                          max_delay=max_delay, **kwargs)
    if max_delay == 0:
        return Sparse(weights=w, **kwargs)
    return DelaySparse(weights=w, delays=d, max_delay=max_delay, **kwargs)


def use_dense(n_synapses: int, n_pre: int, n_post: int, max_lava_delay: int,
              connection: str = "auto") -> bool:
    """Dense when asked, or (auto) when the matrix is dense enough and not too big."""
    if connection != "auto":
        return connection == "dense"
    cells = n_pre * n_post
    return (n_synapses >= DENSE_MIN_DENSITY * cells
            and cells * (max_lava_delay + 1) <= DENSE_MAX_CELLS)
