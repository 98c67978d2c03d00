"""load_nir: a NIR file as an nmcompile Network, with the choices the import made in its
metadata (docs/design.md §7)."""
from __future__ import annotations

import math
import os
from dataclasses import replace

import nir
import numpy as np

from nmcompile.frontends.modelfile import DT_RANGE, MAX_DELAY
from nmcompile.frontends.nir.errors import file_error
from nmcompile.frontends.nir.graph import Arrival, GraphImport, flatten, population_name
from nmcompile.frontends.nir.inputs import read_raster
from nmcompile.frontends.nir.neurons import DISCRETIZATIONS
from nmcompile.ir import (LIF, Location, Network, Population, Probe, Projection, SpikeArray,
                          decay_fraction)

DEFAULT_STEPS = 100  # a run length when neither --steps, the raster nor the file gives one
INPUT_TIMING = ("a raster spike at step t reaches the first neuron layer at step t (the source "
                "emits it at step t-1); every neuron-to-neuron hop takes 1 step, Delay nodes add "
                "theirs")
STORED_RTOL = 1e-9  # stored exact values count when the NIR fields still say the same


def load_nir(path: str, *, dt: float | None, discretization: str = "euler",
             input: str | None = None, steps: int | None = None) -> "Network":
    """The network of the NIR graph in `path`, for a time step of `dt` ms.

    discretization: "euler" (default; v += dt/tau·(v_leak - v + r·I)) or "exact"
    (1 - exp(-dt/tau)). input: the raster (.npz) of the graph's Input nodes. steps: the run
    length (default: the raster's `steps`, else the one nmcompile's export stored, else the
    last input spike's step + 1, else 100)."""
    path = str(path)
    if dt is None:
        raise file_error(path, "a NIR graph has no time step: give one with --dt MS "
                               "(dt=... in Python)", code="NM702")
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) \
            or not DT_RANGE[0] <= dt <= DT_RANGE[1]:
        raise file_error(path, f"--dt must be a step in ms from {DT_RANGE[0]:g} to "
                               f"{DT_RANGE[1]:g}, got {dt!r}", code="NM702")
    if discretization not in DISCRETIZATIONS:
        raise file_error(path, f"discretization must be one of {', '.join(DISCRETIZATIONS)}, "
                               f"got {discretization!r}", code="NM702")
    graph = read_graph(path)
    flat = flatten(graph, path)
    gi = GraphImport(flat, path, float(dt), discretization)
    names = unique_names(flat.nodes)
    sources = [n for n in flat.nodes if gi.is_source(n)]
    neurons = list(gi.neurons)
    if not neurons:
        raise file_error(path, "the graph has no neuron node (LIF, CubaLIF, IF, LI, CubaLI, I)",
                         code="NM703")
    spikes, raster_steps = ({n: SpikeArray() for n in sources}, None)
    if input is not None:
        spikes, raster_steps = read_raster(input, {n: int(np.prod(gi.out_shape[n]))
                                                  for n in sources})
    populations: dict[str, Population] = {}
    for n in sources:
        populations[names[n]] = Population(name=names[n], size=int(np.prod(gi.out_shape[n])),
                                           model=spikes[n],
                                           shape=shape_or_none(stored_shape(flat.nodes[n],
                                                                            gi.out_shape[n])),
                                           location=Location(file=path, path=f"node {n!r}"))
    projections: list[Projection] = []
    for n in neurons:
        arrival = gi.arrival(n)
        model = gi.neurons[n].model
        if arrival.constant is not None and np.any(arrival.constant):
            model = gi.neurons[n].add_constant_input(arrival.constant)
        model = stored_model(model, flat.nodes[n], float(dt))
        populations[names[n]] = Population(name=names[n], size=gi.neurons[n].size, model=model,
                                           shape=shape_or_none(stored_shape(
                                               flat.nodes[n], gi.neurons[n].shape)),
                                           location=Location(file=path, path=f"node {n!r}"))
        projections.extend(incoming_projections(n, arrival, gi, names, path))
    outputs = recorded_outputs(gi, names, path)
    meta = graph.metadata or {}
    populations = ordered(populations, text_list(meta.get("nmcompile.populations")))
    projections = list(ordered({p.name: p for p in projections},
                               text_list(meta.get("nmcompile.projections"))).values())
    last_input = max((int(s.steps.max()) + 2 for s in spikes.values() if s.steps.size),
                     default=None)
    run_steps = steps or raster_steps or stored_int(meta, "nmcompile.steps") or last_input \
        or DEFAULT_STEPS
    return Network(
        name=text(meta.get("nmcompile.name")) or network_name(path),
        populations=populations, projections=tuple(projections),
        probes=stored_probes(meta, populations, path), dt=float(dt), steps=int(run_steps),
        seed=stored_int(meta, "nmcompile.seed") or 0, location=Location(file=path),
        metadata={"format": "nir", "file": path, "nir_version": nir_version(path),
                  "dt_ms": float(dt), "discretization": discretization,
                  "input_timing": INPUT_TIMING, "input": input,
                  "inputs": {names[n]: n for n in sources},
                  "outputs": outputs,
                  "nodes": {names[n]: f"{n} ({type(flat.nodes[n]).__name__})"
                            for n in neurons}})


def read_graph(path: str) -> nir.NIRGraph:
    """nir.read's graph, or one line saying why it cannot be read."""
    if not os.path.exists(path):
        raise file_error(path, "no such file")
    try:
        graph = nir.read(path, type_check=False)
    except Exception as exc:  # h5py, KeyError, ValueError...: whatever nir cannot read
        reason = unreadable_node(path) or exception_text(exc)
        raise file_error(path, f"not a NIR graph nir can read: {reason}") from None
    if not isinstance(graph, nir.NIRGraph):
        raise file_error(path, f"holds a single {type(graph).__name__} node, not a NIRGraph")
    return graph


def unreadable_node(path: str) -> str | None:
    """Why nir cannot read the file where nir's own error does not say: a lone node instead
    of a graph, or `node 'NAME' (TYPE): why` for the first node nir cannot read on its own
    (nir names no node, and says nothing at all for a type it does not know); else None."""
    import h5py
    from nir.serialization import hdf2dict
    known = {t.__name__ for t in vars(nir).values()
             if isinstance(t, type) and issubclass(t, nir.NIRNode)}
    try:
        with h5py.File(path, "r") as fh:
            top = text(fh["node"]["type"][()])
            if top != "NIRGraph":  # nir.read(type_check=False) fails on a lone node
                return f"it holds a single {top} node, not a NIRGraph"
            graphs = [("", fh["node"])]
            while graphs:
                prefix, group = graphs.pop()
                for name, item in group["nodes"].items():
                    fields = hdf2dict(item)
                    kind = str(fields.get("type"))
                    if kind == "NIRGraph":
                        graphs.append((f"{prefix}{name}.", item))
                        continue
                    try:
                        nir.dict2NIRNode(fields)
                    except Exception as exc:
                        why = exception_text(exc) if kind in known else \
                            f"nir {nir.__version__} has no node type {kind!r}"
                        return f"node {prefix + name!r} ({kind}): {why}"
    except Exception:  # not even the layout of a graph: nir's own error says why
        return None
    return None


def exception_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def nir_version(path: str) -> str | None:
    from nir.serialization import read_version
    try:
        return read_version(path)
    except Exception:  # files of old writers have no version entry
        return None


def incoming_projections(post: str, arrival: Arrival, gi: GraphImport, names: dict[str, str],
                         path: str) -> list[Projection]:
    """One projection per source population (and stored projection name); synapses weighted
    by the post neurons' input scale; pairs that two delays connect go to extra projections."""
    scale = gi.neurons[post].input_scale
    groups: dict[tuple[str, str | None], list] = {}
    for (src, extra, stored), m in arrival.terms.items():
        groups.setdefault((src, stored), []).append((extra, m, arrival.exact.get((src, extra,
                                                                                 stored))))
    out = []
    longest = max((extra for _, extra, _ in arrival.terms), default=0)
    if 1 + longest > MAX_DELAY:
        raise gi.error(post, f"a path reaches it after {1 + longest} steps (its Delay nodes add "
                             f"up): a synapse's delay is at most {MAX_DELAY} steps")
    for (src, stored), parts in groups.items():
        columns = [by_pre(m, exact, scale, 1 + extra)
                   for extra, m, exact in sorted(parts, key=lambda p: p[0])]
        base = stored or default_projection_name(names[src], names[post])
        if len(columns) == 1:  # one delay: already sorted by (pre, post), no pair twice
            out.append(projection(base, names[src], names[post], *columns[0], path))
        else:
            out.extend(split_projections(base, names[src], names[post],
                                         *(np.concatenate(a) for a in zip(*columns)), path))
    return out


def by_pre(m, exact, scale: np.ndarray, delay: int) -> tuple[np.ndarray, ...]:
    """The synapses of one fused matrix (post × pre) as (pre, post, weight, delay) arrays
    sorted by pre, then post — its CSC form, without a sort — weighted by the post neurons'
    input scale, or by the values nmcompile's export stored where they agree; no zeros."""
    csc = m.tocsc()
    csc.sum_duplicates()  # canonical: sorted indices, no repeats
    pre_idx = np.repeat(np.arange(csc.shape[1], dtype=np.int32), np.diff(csc.indptr))
    post_idx = csc.indices.astype(np.int32)
    weight = csc.data * scale[post_idx]
    if exact is not None:
        kept = exact.tocsc()
        kept.sum_duplicates()
        if np.array_equal(kept.indptr, csc.indptr) and np.array_equal(kept.indices, csc.indices) \
                and np.allclose(kept.data, weight, rtol=STORED_RTOL, atol=0):
            weight = kept.data
    keep = weight != 0
    if not keep.all():
        pre_idx, post_idx, weight = pre_idx[keep], post_idx[keep], weight[keep]
    return pre_idx, post_idx, weight, np.full(pre_idx.size, delay, dtype=np.int32)


def projection(name: str, pre: str, post: str, pre_idx, post_idx, weight, delay,
               path: str) -> Projection:
    return Projection(name=name, pre=pre, post=post, pre_idx=pre_idx.astype(np.int32, copy=False),
                      post_idx=post_idx.astype(np.int32, copy=False),
                      weight=weight.astype(np.float64, copy=False),
                      delay=delay.astype(np.int32, copy=False),
                      location=Location(file=path, path=f"edges into {post!r}"))


def split_projections(name: str, pre: str, post: str, pre_idx, post_idx, weight, delay,
                      path: str) -> list[Projection]:
    """Projections without a repeated (pre, post) pair: the first holds each pair's shortest
    delay, the next the second shortest, and so on (named name, name-2, ...)."""
    order = np.lexsort((delay, post_idx, pre_idx))
    pre_idx, post_idx, weight, delay = (a[order] for a in (pre_idx, post_idx, weight, delay))
    pair = pre_idx.astype(np.int64) * (int(post_idx.max(initial=0)) + 1) + post_idx
    first = np.r_[True, pair[1:] != pair[:-1]] if pair.size else np.zeros(0, bool)
    rank = np.arange(pair.size) - np.maximum.accumulate(np.where(first, np.arange(pair.size), 0))
    return [projection(name if r == 0 else f"{name}-{r + 1}", pre, post, pre_idx[rank == r],
                       post_idx[rank == r], weight[rank == r], delay[rank == r], path)
            for r in range(int(rank.max(initial=0)) + 1)]


def default_projection_name(pre: str, post: str) -> str:
    """As a model file names a projection without a name."""
    return f"{pre}_to_{post}"


def recorded_outputs(gi: GraphImport, names: dict[str, str], path: str) -> dict[str, list[str]]:
    """Top-level Output node -> the populations that feed it (neuron nodes only)."""
    outputs = {}
    for name, node in gi.flat.nodes.items():
        if not isinstance(node, nir.Output) or name in gi.flat.inner_ports:
            continue
        feeding = []
        for p in gi.pred[name]:
            origin = through_identities(gi, p)
            if origin not in gi.neurons and not gi.is_source(origin):
                raise gi.error(name, f"is fed by {origin!r} "
                                     f"({type(gi.flat.nodes[origin]).__name__}), not by a "
                                     f"neuron node: nmcompile records the spikes of neuron "
                                     f"populations")
            feeding.append(names[origin])
        outputs[name] = feeding
    return outputs


def through_identities(gi: GraphImport, name: str) -> str:
    """The node behind a chain of nested graphs' Input/Output nodes (identities here)."""
    seen = set()
    while name in gi.flat.inner_ports:
        if name in seen or len(gi.pred[name]) != 1:
            break
        seen.add(name)
        name = gi.pred[name][0]
    return name


def unique_names(nodes) -> dict[str, str]:
    """NIR node name -> population name, distinct even where cleaning made two alike."""
    out, taken = {}, set()
    for n in nodes:
        base = population_name(n)
        name, k = base, 2
        while name in taken:
            name, k = f"{base}-{k}", k + 1
        taken.add(name)
        out[n] = name
    return out


def stored_model(model: LIF, node, dt: float) -> LIF:
    """The model with the exact values nmcompile's export stored in the node's metadata, each
    where the NIR fields still say the same (an edited file means what its NIR fields say);
    what NIR cannot say (initial v and u, refractory, reset) as stored."""
    meta = getattr(node, "metadata", None) or {}
    changes = {}
    for key in ("tau_syn", "tau_mem"):
        value = meta.get(f"nmcompile.{key}_ms")
        if value is not None:
            value = float(value)
            if abs(decay_fraction(dt, value) - decay_fraction(dt, getattr(model, key))) <= 1e-12:
                changes[key] = value
    for key in ("bias", "v_init", "u_init"):
        value = meta.get(f"nmcompile.{key}")
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        current = np.broadcast_to(np.asarray(getattr(model, key), dtype=np.float64), value.shape)
        # NIR has no initial state: the stored one is nmcompile's own, taken as it is
        if key != "bias" or np.allclose(value, current, rtol=STORED_RTOL, atol=0):
            changes[key] = float(value) if value.ndim == 0 else value.copy()
    if meta.get("nmcompile.refractory") is not None:
        changes["refractory"] = int(meta["nmcompile.refractory"])
    if text(meta.get("nmcompile.reset")) is not None:
        changes["reset"] = text(meta["nmcompile.reset"])
    return replace(model, **changes) if changes else model


def stored_probes(meta: dict, populations: dict[str, Population], path: str) -> tuple:
    probes = []
    for item in text_list(meta.get("nmcompile.probes")) or []:
        pop, _, var = item.partition(":")
        if pop in populations and var in getattr(populations[pop].model, "STATE", ()):
            probes.append(Probe(population=pop, var=var, location=Location(file=path)))
    return tuple(probes)


def ordered(items: dict, order: list[str] | None) -> dict:
    """`items` in the stored order when it names exactly these items, else as they are."""
    if order is None or sorted(order) != sorted(items):
        return items
    return {k: items[k] for k in order}


def text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf8")
    return None if value is None else str(value)


def text_list(value) -> list[str] | None:
    value = text(value)
    return None if value is None else [v for v in value.split(",") if v]


def stored_int(meta: dict, key: str) -> int | None:
    value = meta.get(key)
    return None if value is None else int(value)


def shape_or_none(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    return tuple(shape) if len(shape) > 1 else None


def stored_shape(node, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The population shape nmcompile's export stored (`nmcompile.shape`: it writes nodes flat,
    NIR having no reshape node) when it still fits the node's size, else the node's own."""
    stored = (getattr(node, "metadata", None) or {}).get("nmcompile.shape")
    if stored is None:
        return shape
    stored = tuple(int(d) for d in np.atleast_1d(stored))
    return stored if int(np.prod(stored)) == int(np.prod(shape)) else shape


def network_name(path: str) -> str:
    return population_name(os.path.splitext(os.path.basename(path))[0]).replace(".", "_")


__all__ = ["load_nir"]
