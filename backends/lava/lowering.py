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
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import scipy.sparse as sp

from nmcompile.backends.registry import SOURCE_KINDS
from nmcompile.diagnostics import InputError
from nmcompile.ir import Network, Population, QuantizedNetwork, source_raster

from .models import REGISTRY

CONNECTIONS = ("auto", "dense", "sparse")
DENSE_MIN_DENSITY = 0.25        # auto: Dense at or above this fraction of present synapses
DENSE_MAX_CELLS = 1 << 22       # auto: never a dense (delay-stacked) matrix bigger than this


@dataclass
class LavaGraph:
    """The Lava processes of one network; each component is run on its own (Lava compiles
    only the processes connected to the one `run` is called on)."""

    components: list[list[str]]                     # neuron population names, per component
    neurons: dict[str, object] = field(default_factory=dict)        # name -> neuron process
    spike_sinks: dict[str, object] = field(default_factory=dict)    # name -> sink RingBuffer
    probe_reads: dict[tuple[str, str], object] = field(default_factory=dict)  # -> Read
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
    neurons = {p.name: REGISTRY.module(p.model.kind).float_process(p, net, steps)
               for p in _neuron_populations(net)}
    links = [(proj, proj.weight.astype(np.float64), {}) for proj in net.projections]
    return _assemble(net, neurons, links, steps, connection, "floating_pt")


def build_fixed(qnet: QuantizedNetwork, steps: int, connection: str = "auto") -> LavaGraph:
    """Processes for `select_tag='fixed_pt'`: integer registers of the quantized network."""
    from lava.utils.weightutils import SignMode

    net = qnet.network
    neurons = {p.name: REGISTRY.module(p.model.kind).fixed_process(p, qnet, steps)
               for p in _neuron_populations(net)}
    links = [(fp, fp.weight_mant.astype(np.int32),
              {"weight_exp": int(fp.weight_exp), "num_weight_bits": int(fp.num_weight_bits),
               "sign_mode": SignMode[fp.sign_mode.upper()]})
             for fp in qnet.projections]
    return _assemble(net, neurons, links, steps, connection, "fixed_pt")


def _neuron_populations(net: Network) -> list[Population]:
    return [p for p in net.populations.values() if not p.is_source]


def _assemble(net: Network, neurons: dict, links: list, steps: int, connection: str,
              select_tag: str) -> LavaGraph:
    """Wire sources, connections, sinks and probe readers around the given neurons."""
    from lava.proc.io.sink import Read, RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    if connection not in CONNECTIONS:
        raise InputError(f"option connection={connection!r}: choose from {', '.join(CONNECTIONS)}")
    graph = nx.Graph()
    graph.add_nodes_from(net.populations)
    source_dtype = np.int32 if select_tag == "fixed_pt" else np.float64
    sources, connections = {}, []
    for proj, weights, fixed_kwargs in links:
        if proj.pre_idx.size == 0:
            continue
        pre, post = net.populations[proj.pre], net.populations[proj.post]
        if pre.is_source and pre.name not in sources:
            raster = source_raster(pre, net, steps).T.astype(source_dtype)  # neurons × steps
            sources[pre.name] = Source(data=raster)
        out_port = (sources[pre.name] if pre.is_source else neurons[pre.name]).s_out
        conn = _connection(proj, weights, pre.size, post.size, connection, fixed_kwargs)
        connections.append(conn)
        out_port.connect(conn.s_in)
        conn.a_out.connect(neurons[post.name].a_in)
        graph.add_edge(pre.name, post.name)

    lava = LavaGraph(components=[
        [n for n in net.populations if n in comp and n in neurons]
        for comp in nx.connected_components(graph) if any(n in neurons for n in comp)])
    lava.neurons = neurons
    for name, proc in neurons.items():
        sink = Sink(shape=(net.populations[name].size,), buffer=steps)
        proc.s_out.connect(sink.a_in)
        lava.spike_sinks[name] = sink
    for probe in net.probes:
        reader = Read(buffer=steps)
        reader.connect_var(getattr(neurons[probe.population], probe.var))
        lava.probe_reads[(probe.population, probe.var)] = reader
    table = process_models(select_tag)
    for proc in [*sources.values(), *connections, *neurons.values(), *lava.spike_sinks.values(),
                 *lava.probe_reads.values()]:
        lava.models[proc] = table[type(proc)]
    return lava


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
