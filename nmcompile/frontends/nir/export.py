"""save_nir: a Network as a NIR graph, the inverse of load_nir with discretization "exact"
(docs/design.md §7.6).

NIR says in its own fields what it can: LIF populations become LIF / CubaLIF / LI / CubaLI /
IF / I nodes whose r and w_in cancel the import's input scale, spike sources become Input
nodes fed by a raster beside the graph, each projection a Linear node per delay (behind a
Delay node). What NIR's fields can only say up to a float rounding (a tau in seconds, a bias
as r·v_leak, a weight times r·dm) or cannot say (initial state, refractory period, reset by
subtraction, names and order) goes beside them in flat `nmcompile.*` metadata, which the
import takes back where the NIR fields still agree with it. What NIR cannot express at all is
refused by name before anything is written."""
from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version

import nir
import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.files.atomic import atomic_output, release, reserve
from nmcompile.frontends.nir.graph import population_name
from nmcompile.ir import (LIF, Location, Network, Population, Projection, SpikeArray,
                          source_spikes)

RASTER_SUFFIX = ".input.npz"
MAX_DENSE_ENTRIES = 2**27  # 1 GiB of float64 per projection: past it, say so, do not allocate


def save_nir(net: Network, path: str) -> list[str]:
    """Write `net` as the NIR graph `path` (and, when it has spike sources, their spikes as
    the raster `<path without .nir>.input.npz`); return the files written.

    load_nir(path, dt=net.dt, discretization="exact", input=<the raster>) gives `net` back,
    Poisson sources as the SpikeArray of the spikes they made in net.steps steps."""
    path = str(path)
    check_exportable(net)
    graph = to_graph(net)
    sources = [p for p in net.populations.values() if p.is_source]
    if not sources:
        with atomic_output(path, "w+b") as fh:  # "w+": h5py reads back what it writes
            nir.write(fh, graph)
        return [path]
    raster, arrays = raster_path(path), raster_arrays(net, sources)
    reserve(raster)  # both outputs can be created before either is written
    try:
        with atomic_output(path, "w+b") as fh:
            nir.write(fh, graph)
        with atomic_output(raster, "wb") as fh:
            np.savez(fh, **arrays)
    finally:
        release(raster)  # nothing left behind when the graph could not be written
    return [path, raster]


def raster_path(path: str) -> str:
    stem = path[:-len(".nir")] if path.lower().endswith(".nir") else path
    return stem + RASTER_SUFFIX


# -- refusals -----------------------------------------------------------------------------------
def refusal(net: Network, message: str, code: str) -> InputError:
    """`MODEL: message`, naming the model file the network came from (or the network)."""
    return InputError(Diagnostic("error", code, message,
                                 Location(file=net.location.file or net.name)))


def check_exportable(net: Network) -> None:
    """Refuse, by name, the first thing NIR cannot express (before any array is built)."""
    for pop in net.populations.values():
        what = f"population {pop.name!r}"
        if population_name(pop.name) != pop.name:
            raise refusal(net, f"{what}: a NIR node name keeps letters, digits, -, _ and . "
                               f"only: the import would rename it", "NM720")
        if not pop.is_source and not isinstance(pop.model, LIF):
            raise refusal(net, f"{what} is {pop.model.kind}: NIR has no node for it", "NM721")
        if isinstance(pop.model, LIF):
            problem = lif_problem(pop.model, net.dt)
            if problem:
                raise refusal(net, f"{what}: {problem}", "NM722")
            if leak_free_bias(pop) is not None and not net.incoming(pop.name):
                raise refusal(net, f"{what}: tau_mem .inf with a bias and no input: NIR's IF "
                                   f"and I nodes have no v_leak, and no Affine feeds it to carry "
                                   f"the bias", "NM722")
    if net.currents:
        raise refusal(net, f"population {net.currents[0].population!r} has an injected "
                           f"current: NIR cannot carry injected currents", "NM723")
    for proj in net.projections:
        what = f"projection {proj.name!r}"
        if "," in proj.name:
            raise refusal(net, f"{what}: a name with a comma cannot be listed in the graph's "
                               f"metadata", "NM720")
        if proj.plastic:
            raise refusal(net, f"{what} learns ({proj.learning.kind}): NIR has no learning "
                               f"rules; export a model saved with its learned weights and "
                               f"without `learning:`", "NM726")
        if np.any(proj.weight == 0):
            raise refusal(net, f"{what} has synapses of weight 0: NIR's dense weight matrices "
                               f"cannot tell them from absent ones", "NM724")
        entries = np.unique(proj.delay).size * net.populations[proj.pre].size \
            * net.populations[proj.post].size
        if entries > MAX_DENSE_ENTRIES:
            raise refusal(net, f"{what} would need dense weight matrices of {entries:,} "
                               f"entries (one per delay), past {MAX_DENSE_ENTRIES:,}", "NM725")


def lif_problem(m: LIF, dt: float) -> str | None:
    """Why no NIR neuron node has these LIF parameters, or None. The import's input scale is
    r·dm (w_in·ds·r·dm): a decay of 0 per step has no r (or w_in) that makes it one."""
    if math.isinf(m.tau_mem):
        if m.tau_syn > 0:
            return ("tau_syn > 0 with tau_mem .inf: NIR has no node for it (CubaLIF and CubaLI "
                    "always leak)")
        return None
    if m.tau_syn > 0 and m.du(dt) == 0:
        return (f"tau_syn {m.tau_syn!r} ms: u does not decay in a step of dt {dt!r} ms, and "
                f"the synaptic current of NIR's CubaLIF and CubaLI always does")
    if not 0 < m.dv(dt) < 1:
        return (f"tau_mem {m.tau_mem!r} ms decays v by {m.dv(dt)!r} per step of dt {dt!r} ms: "
                f"NIR's leaky nodes need a decay between 0 and 1 (tau_mem .inf: an IF node)")
    return None


# -- the graph ----------------------------------------------------------------------------------
def to_graph(net: Network) -> nir.NIRGraph:
    """Populations first (under their own names), then each projection's Delay and Linear
    nodes, then one Output per neuron population; generated names avoid every other name."""
    nodes: dict[str, object] = {}
    edges: list[tuple[str, str]] = []
    for pop in net.populations.values():
        nodes[pop.name] = input_node(pop) if pop.is_source else neuron_node(pop, net.dt)
    carried: set[str] = set()  # leak-free populations whose bias an Affine already carries
    for proj in net.projections:
        bias = None
        if proj.post not in carried:
            bias = leak_free_bias(net.populations[proj.post])
            if bias is not None:
                carried.add(proj.post)
        add_projection(nodes, edges, proj, net, bias)
    for pop in net.neuron_populations():
        name = free_name(nodes, f"{pop.name}_output")
        nodes[name] = nir.Output(output_type={"output": np.array(node_shape(pop))})
        edges.append((pop.name, name))
    metadata = {
        "nmcompile.name": net.name,
        "nmcompile.populations": ",".join(net.populations),
        "nmcompile.projections": ",".join(p.name for p in net.projections),
        "nmcompile.probes": ",".join(f"{p.population}:{p.var}" for p in net.probes),
        "nmcompile.steps": int(net.steps),
        "nmcompile.seed": int(net.seed),
        "nmcompile.dt_ms": float(net.dt),
        "nmcompile.version": nmcompile_version(),
    }
    # type_check=False: nir's check would add Input/Output nodes of its own to the graph
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)


def nmcompile_version() -> str:
    """nmcompile.__version__, found as the package finds it (importing the package from here
    would close an import circle: nmcompile -> frontends.nir -> export -> nmcompile)."""
    try:
        return version("nmcompile")
    except PackageNotFoundError:
        return "0+unknown"


def node_shape(pop: Population) -> tuple[int, ...]:
    """Flat: NIR has no reshape node, so a (12, 12) population fed by a Linear of 144 outputs
    would fail nir's type check; the shape goes into `nmcompile.shape` (shape_metadata)."""
    return (pop.size,)


def shape_metadata(pop: Population) -> dict:
    return {"nmcompile.shape": np.array(pop.shape, dtype=np.int64)} if pop.shape else {}


def free_name(nodes: dict, base: str) -> str:
    """`base` made a node name (cleaned as the import cleans) that no node has yet."""
    base = population_name(base)
    name, k = base, 2
    while name in nodes:
        name, k = f"{base}_{k}", k + 1
    return name


def input_node(pop: Population) -> nir.Input:
    return nir.Input(input_type={"input": np.array(node_shape(pop))}, metadata=shape_metadata(pop))


def neuron_node(pop: Population, dt: float):
    """The NIR node whose exact discretisation at `dt` is the LIF: r = 1/dm (and w_in = 1/ds)
    make the import's input scale r·dm (w_in·ds·r·dm) one, v_leak = bias/dm its bias dm·v_leak;
    the leak-free IF / I take r = 1/dt_s, their input scale r·dt_s."""
    m, shape = pop.model, node_shape(pop)

    def full(value) -> np.ndarray:
        """One float64 per neuron, shaped like the population."""
        return np.broadcast_to(np.asarray(value, dtype=np.float64),
                               (pop.size,)).reshape(shape).copy()

    meta = {**stored_values(m), **shape_metadata(pop)}
    if math.isinf(m.tau_mem):
        r = full(1.0 / (dt / 1000.0))
        if m.spiking:
            return nir.IF(r=r, v_threshold=full(m.v_th), v_reset=full(0.0), metadata=meta)
        return nir.I(r=r, metadata=meta)
    dm = m.dv(dt)
    fields = dict(r=full(1.0 / dm), v_leak=full(np.asarray(m.bias, dtype=np.float64) / dm))
    spiking = dict(v_threshold=full(m.v_th), v_reset=full(0.0)) if m.spiking else {}
    if m.tau_syn == 0:
        node = nir.LIF if m.spiking else nir.LI
        return node(tau=full(m.tau_mem / 1000.0), **fields, **spiking, metadata=meta)
    node = nir.CubaLIF if m.spiking else nir.CubaLI
    return node(tau_syn=full(m.tau_syn / 1000.0), tau_mem=full(m.tau_mem / 1000.0),
                w_in=full(1.0 / m.du(dt)), **fields, **spiking, metadata=meta)


def stored_values(m: LIF) -> dict:
    """The IR's exact values, which the import restores (importer.stored_model)."""
    meta = {"nmcompile.tau_syn_ms": float(m.tau_syn), "nmcompile.tau_mem_ms": float(m.tau_mem)}
    for key in ("bias", "v_init", "u_init"):
        value = getattr(m, key)
        meta[f"nmcompile.{key}"] = np.asarray(value, dtype=np.float64).copy() \
            if isinstance(value, np.ndarray) else float(value)
    if m.refractory > 0:
        meta["nmcompile.refractory"] = int(m.refractory)
    if m.reset != "zero":
        meta["nmcompile.reset"] = m.reset
    return meta


def leak_free_bias(pop: Population) -> np.ndarray | None:
    """The bias of a leak-free LIF (an IF or I node, which has no v_leak), per neuron, or None
    when it has none. It is carried as the bias of an Affine that feeds the node: a constant
    input c adds r·dt·c = c per step (r = 1/dt), so c = bias."""
    m = pop.model
    if pop.is_source or not math.isinf(m.tau_mem) or not np.any(np.asarray(m.bias) != 0):
        return None
    return np.broadcast_to(np.asarray(m.bias, dtype=np.float64), (pop.size,)).copy()


def add_projection(nodes: dict, edges: list, proj: Projection, net: Network,
                   bias: np.ndarray | None = None) -> None:
    """pre -> [Delay of D-1 steps] -> Linear -> post for each delay D of the projection (the
    import counts one step per neuron-to-neuron hop), named after the projection; the first
    path is an Affine with `bias` when one is given (leak_free_bias)."""
    pre, post = net.populations[proj.pre], net.populations[proj.post]
    dt_s = net.dt / 1000.0
    delays = np.unique(proj.delay)
    for d in delays.tolist():
        sel = proj.delay == d
        label = proj.name if delays.size == 1 else f"{proj.name}_d{d}"
        source = proj.pre
        if d > 1:
            source = free_name(nodes, f"{proj.name}_delay{d}")
            nodes[source] = nir.Delay(delay=np.full(pre.size, (d - 1) * dt_s))
            edges.append((proj.pre, source))
        linear = free_name(nodes, label)
        nodes[linear] = linear_node(proj, sel, pre.size, post.size, bias)
        bias = None
        edges += [(source, linear), (linear, proj.post)]


def linear_node(proj: Projection, sel: np.ndarray, pre_size: int, post_size: int,
                bias: np.ndarray | None = None) -> nir.Linear | nir.Affine:
    """The dense (post × pre) weights of the selected synapses; their IR weights also in the
    order of the matrix's nonzeros (row by row: by post, then pre), for the import to restore
    exactly what the product with its input scale rounds. An Affine when a bias rides along."""
    pre_idx, post_idx, weight = proj.pre_idx[sel], proj.post_idx[sel], proj.weight[sel]
    dense = np.zeros((post_size, pre_size))
    dense[post_idx, pre_idx] = weight
    order = np.lexsort((pre_idx, post_idx))
    meta = {"nmcompile.projection": proj.name,
            "nmcompile.weight": weight[order].astype(np.float64)}
    if bias is not None:
        return nir.Affine(weight=dense, bias=bias, metadata=meta)
    return nir.Linear(weight=dense, metadata=meta)


# -- the raster ---------------------------------------------------------------------------------
def raster_arrays(net: Network, sources: list[Population]) -> dict[str, np.ndarray]:
    """Each source's spikes in the import's timing (a raster step t leaves the source at t-1):
    a SpikeArray's own, a Poisson source's realised over the run as every backend realises
    them; and the run length."""
    arrays = {"steps": np.array(net.steps, dtype=np.int64)}
    for pop in sources:
        if isinstance(pop.model, SpikeArray):  # all of them, also those past the run
            steps, neurons = pop.model.steps, pop.model.neurons
        else:
            steps, neurons = source_spikes(pop, net, net.steps)
        arrays[f"{pop.name}.spike_steps"] = np.asarray(steps, dtype=np.int64) + 1
        arrays[f"{pop.name}.spike_neurons"] = np.asarray(neurons, dtype=np.int64)
    return arrays


__all__ = ["save_nir"]
