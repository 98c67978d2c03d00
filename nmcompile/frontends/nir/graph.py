"""A NIR graph as nmcompile's network (docs/design.md §7): flatten nested graphs, infer shapes,
fuse every chain of linear nodes between neuron nodes into one sparse projection.

The walk goes backwards from each neuron node through the linear nodes that feed it, composing
their sparse matrices, until it reaches neuron or Input nodes: what arrives at the neuron is a
sum of (source, extra delay) -> matrix terms plus a constant (the biases met on the way). A
neuron-to-neuron hop takes one step, Delay nodes add theirs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import nir
import numpy as np
import scipy.sparse as sp

from nmcompile.frontends.modelfile import MAX_DELAY
from nmcompile.frontends.nir.errors import NodeProblem, file_error, node_error
from nmcompile.frontends.nir.linear import LINEAR_NODES, linear_map
from nmcompile.frontends.nir.neurons import (NEURON_NODES, NeuronNode, checked_shape,
                                             neuron_node)

KNOWN = NEURON_NODES + LINEAR_NODES + (nir.Delay, nir.Input, nir.Output)
NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
DELAY_RTOL = 1e-9
BYTES_PER_FUSED_ENTRY = 40  # a sparse product's entry: float64 value, int index, and the
                            # temporaries of scipy's multiply and of the COO projection after


@dataclass
class FlatGraph:
    """Nested graphs expanded: every node under its dotted name, edges between them, and which
    nodes were the Input/Output nodes of nested graphs (identities here)."""

    nodes: dict[str, object] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    inner_ports: set[str] = field(default_factory=set)

    def predecessors(self) -> dict[str, list[str]]:
        pred: dict[str, list[str]] = {name: [] for name in self.nodes}
        for a, b in self.edges:
            pred[b].append(a)
        return pred


def flatten(graph: nir.NIRGraph, file: str, prefix: str = "") -> FlatGraph:
    """Every node of `graph` and its subgraphs under dotted names. An edge to a subgraph `g`
    enters its only Input node (or `g.name` names one), an edge from it leaves its only Output."""
    flat = FlatGraph()
    entry: dict[str, str] = {}
    exit_: dict[str, str] = {}
    for name, node in graph.nodes.items():
        full = prefix + str(name)
        if isinstance(node, nir.NIRGraph):
            inner = flatten(node, file, full + ".")
            flat.nodes.update(inner.nodes)
            flat.edges.extend(inner.edges)
            flat.inner_ports |= inner.inner_ports
            ins = [n for n, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [n for n, v in node.nodes.items() if isinstance(v, nir.Output)]
            for port in ins + outs:
                flat.inner_ports.add(f"{full}.{port}")
            if len(ins) == 1:
                entry[full] = f"{full}.{ins[0]}"
            if len(outs) == 1:
                exit_[full] = f"{full}.{outs[0]}"
        else:
            flat.nodes[full] = node
    for a, b in graph.edges:
        a, b = prefix + str(a), prefix + str(b)
        a = exit_.get(a, a)
        b = entry.get(b, b)
        for end in (a, b):
            if end not in flat.nodes:
                raise file_error(file, f"edge {a!r} -> {b!r} names {end!r}, which is not a node "
                                       f"of the graph (a subgraph with several Input/Output "
                                       f"nodes is entered as 'subgraph.input_name')")
        flat.edges.append((a, b))
    return flat


@dataclass
class Arrival:
    """What reaches a node's input: (source population, extra delay steps) -> sparse matrix
    (this signal's size × source size), and a constant (per element) or None. `projection` is
    the nmcompile.projection name met on the way (written by nmcompile's own export).

    `exact` holds, for terms that went through one exported Linear node and only selections
    (Delay rows, identities) otherwise, the IR's own weights nmcompile's export stored beside
    the NIR ones (`nmcompile.weight`): what the import restores when they agree (§7.6)."""

    terms: dict[tuple[str, int, str | None], sp.csr_array]
    constant: np.ndarray | None
    size: int
    exact: dict[tuple[str, int, str | None], sp.csr_array] = field(default_factory=dict)


class GraphImport:
    """One import: the flat graph, its node shapes, its neuron populations."""

    def __init__(self, flat: FlatGraph, file: str, dt_ms: float, discretization: str):
        self.flat, self.file, self.dt_ms = flat, file, dt_ms
        self.discretization = discretization
        self.pred = flat.predecessors()
        self.succ: dict[str, list[str]] = {n: [] for n in flat.nodes}
        for a, b in flat.edges:
            self.succ[a].append(b)
        self._check_known()
        self.neurons: dict[str, NeuronNode] = {}
        for name, node in flat.nodes.items():
            if isinstance(node, NEURON_NODES):
                self.neurons[name] = self.guard(name, lambda n=node: neuron_node(
                    n, dt_ms, discretization))
        self.out_shape: dict[str, tuple[int, ...]] = {}
        self.maps: dict[str, object] = {}
        self._infer_shapes()
        self._arrivals: dict[str, Arrival] = {}

    # -- errors ---------------------------------------------------------------------------
    def error(self, name: str, message: str):
        return node_error(self.file, name, self.flat.nodes[name], message)

    def guard(self, name: str, build):
        try:
            return build()
        except NodeProblem as exc:
            raise self.error(name, str(exc)) from None

    def _check_known(self) -> None:
        for name, node in self.flat.nodes.items():
            if not isinstance(node, KNOWN):
                raise self.error(name, f"nmcompile does not import {type(node).__name__} nodes "
                                       f"(it imports {', '.join(sorted(t.__name__ for t in KNOWN))})")
            if isinstance(node, nir.Input) and name not in self.flat.inner_ports and self.pred[name]:
                raise self.error(name, "an Input node has incoming edges")

    # -- shapes ---------------------------------------------------------------------------
    def is_source(self, name: str) -> bool:
        """A top-level Input node: a spike source population."""
        return isinstance(self.flat.nodes[name], nir.Input) and name not in self.flat.inner_ports

    def _intrinsic_shape(self, name: str) -> tuple[int, ...] | None:
        node = self.flat.nodes[name]
        if name in self.neurons:
            return self.neurons[name].shape
        if self.is_source(name) or (isinstance(node, nir.Input) and not self.pred[name]):
            # a top-level Input, or a nested graph's Input that nothing feeds (its graph is
            # entered elsewhere, e.g. at 'sub.lif'): it carries nothing, but has a shape
            return self.guard(name, lambda: checked_shape(node.input_type.get("input")))
        if isinstance(node, nir.Delay) and np.size(node.delay) > 1:  # one value: any signal
            return tuple(int(d) for d in np.shape(node.delay))
        return None

    def _infer_shapes(self) -> None:
        """Output shapes from the nodes that know theirs (neurons, inputs, delays) forwards
        through the linear nodes until nothing changes; then every input must agree."""
        for name in self.flat.nodes:
            shape = self._intrinsic_shape(name)
            if shape is not None:
                self.out_shape[name] = shape
        changed = True
        while changed:
            changed = False
            for name, node in self.flat.nodes.items():
                if name in self.out_shape or not self.pred[name]:
                    continue
                shapes = [self.out_shape.get(p) for p in self.pred[name]]
                if any(s is None for s in shapes):
                    continue
                in_shape = self._agreed(name, shapes)
                if isinstance(node, LINEAR_NODES):
                    lmap = self.guard(name, lambda: linear_map(node, in_shape))
                    self.maps[name] = lmap
                    self.out_shape[name] = tuple(int(d) for d in lmap.out_shape)
                else:
                    self.out_shape[name] = in_shape
                changed = True
        for name, node in self.flat.nodes.items():
            if name not in self.out_shape:
                loop = self._loop_without_neuron()
                if loop is not None:  # its nodes wait for each other's shapes
                    raise self.loop_error(loop)
                raise self.error(name, "its input shape cannot be inferred: no path from an "
                                       "Input or a neuron node reaches it")
            if self.pred[name] and not isinstance(node, LINEAR_NODES):
                arriving = self._agreed(name, [self.out_shape[p] for p in self.pred[name]])
                if size_of(arriving) != size_of(self.out_shape[name]):
                    raise self.error(name, f"receives shape {arriving} but has shape "
                                           f"{self.out_shape[name]}")

    def _loop_without_neuron(self) -> tuple[str, ...] | None:
        """A cycle (a, b, ..., a) along the edges with no neuron on it, or None: a depth-first
        walk that stops at neurons. Its nodes never get a shape, each waiting for the other's."""
        done: set[str] = set()
        for start in self.flat.nodes:
            if start in done or start in self.neurons:
                continue
            path, pending = [start], [iter(self.succ[start])]
            while path:
                nxt = next(pending[-1], None)
                if nxt is None:
                    done.add(path.pop())
                    pending.pop()
                elif nxt in path:
                    return tuple(path[path.index(nxt):]) + (nxt,)
                elif nxt not in done and nxt not in self.neurons:
                    path.append(nxt)
                    pending.append(iter(self.succ[nxt]))
        return None

    def loop_error(self, loop: tuple[str, ...]):
        return self.error(loop[0], f"a loop of linear nodes with no neuron on it "
                                   f"({' -> '.join(loop)}): an algebraic loop has no "
                                   f"step-by-step meaning")

    def _agreed(self, name: str, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        if any(size_of(s) != size_of(shapes[0]) for s in shapes):
            sources = ", ".join(f"{p} {s}" for p, s in zip(self.pred[name], shapes))
            raise self.error(name, f"its inputs have different sizes ({sources})")
        return shapes[0]

    # -- fusion ---------------------------------------------------------------------------
    def arrival(self, name: str) -> Arrival:
        """What arrives at the input of node `name` (the sum over its incoming edges)."""
        total = Arrival({}, None, size_of(self.out_shape[name]) if self.pred[name] else 0)
        for p in self.pred[name]:
            part = self.output(p, stack=(name,))
            total.size = part.size
            merge_into(total, part)
        return total

    def output(self, name: str, stack: tuple[str, ...]) -> Arrival:
        """What node `name` emits, as terms over source populations (memoized)."""
        if name in self._arrivals:
            return self._arrivals[name]
        size = size_of(self.out_shape[name])
        if name in self.neurons or self.is_source(name):  # where every walk ends
            out = Arrival({(name, 0, None): sp.identity(size, format="csr")}, None, size)
            self._arrivals[name] = out
            return out
        if name in stack:  # the stack runs against the edges
            raise self.loop_error((stack[stack.index(name):] + (name,))[::-1])
        node = self.flat.nodes[name]
        incoming = Arrival({}, None, size)
        for p in self.pred[name]:
            merge_into(incoming, self.output(p, stack + (name,)))
        if isinstance(node, LINEAR_NODES):
            out = self._through_linear(name, node, incoming)
        elif isinstance(node, nir.Delay):
            out = self._through_delay(name, node, incoming)
        else:  # the Input/Output nodes of nested graphs pass their input on
            out = incoming
        self._arrivals[name] = out
        return out

    def _through_linear(self, name: str, node, incoming: Arrival) -> Arrival:
        lmap = self.maps[name]
        hint = metadata_text(node, "nmcompile.projection")
        stored = self._stored_weights(name, node, lmap.matrix)
        terms, exact = {}, {}
        for (src, delay, proj), m in incoming.terms.items():
            key = (src, delay, hint if hint is not None else proj)
            if is_identity(m):  # the first linear node after a population: no product
                product = lmap.matrix
            else:
                self._check_product_size(name, lmap.matrix, m)
                product = (lmap.matrix @ m).tocsr()
            if key in terms:  # two paths summed: no stored weights for the sum
                terms[key] = terms[key] + product
                exact.pop(key, None)
                continue
            terms[key] = product
            if stored is not None and is_selection(m):
                exact[key] = (stored @ m).tocsr()
        constant = None
        if incoming.constant is not None:
            constant = lmap.matrix @ incoming.constant
        if lmap.bias is not None:
            constant = lmap.bias.copy() if constant is None else constant + lmap.bias
        return Arrival(terms, constant, lmap.matrix.shape[0], exact)

    def _check_product_size(self, name: str, a: sp.csr_array, b: sp.csr_array) -> None:
        """Refuse, before it is allocated, a fused matrix that cannot fit in memory: its
        entries are at most Σ_k (entries of column k of a)·(entries of row k of b)."""
        from nmcompile.memory import available_memory
        cols = np.bincount(a.indices, minlength=a.shape[1]).astype(np.float64)
        rows = np.diff(b.tocsr().indptr).astype(np.float64)
        need = BYTES_PER_FUSED_ENTRY * float(cols @ rows)
        have = available_memory()
        if need > have:
            raise self.error(name, f"fusing it with the nodes before it may take up to "
                                   f"{need / 2**20:,.0f} MiB of synapses, but only "
                                   f"{have / 2**20:,.0f} MiB of memory is available")

    def _stored_weights(self, name: str, node, matrix: sp.csr_array) -> sp.csr_array | None:
        """The `nmcompile.weight` array of an exported Linear node as a matrix shaped like its
        NIR weights (one value per nonzero, in CSR order), or None."""
        values = (getattr(node, "metadata", None) or {}).get("nmcompile.weight")
        if values is None:
            return None
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size != matrix.nnz:
            return None  # the NIR weights were edited: they, not the stored values, count
        stored = matrix.copy()
        stored.data = values
        return stored

    def _through_delay(self, name: str, node, incoming: Arrival) -> Arrival:
        """An elementwise delay: the rows of each distinct delay value move by its steps. A
        constant passes unchanged (NIR's signals have no start, so a delayed constant is the
        constant)."""
        steps = self.guard(name, lambda: delay_steps(node.delay, self.dt_ms / 1000.0,
                                                     incoming.size))
        terms, exact = {}, {}
        for value in np.unique(steps):
            rows = sp.diags((steps == value).astype(np.float64), format="csr")
            for (src, delay, proj), m in incoming.terms.items():
                part = (rows @ m).tocsr()
                part.eliminate_zeros()
                if part.nnz:
                    terms[(src, delay + int(value), proj)] = part
                    if (src, delay, proj) in incoming.exact:
                        kept = (rows @ incoming.exact[(src, delay, proj)]).tocsr()
                        kept.eliminate_zeros()
                        exact[(src, delay + int(value), proj)] = kept
        return Arrival(terms, incoming.constant, incoming.size, exact)


def merge_into(total: Arrival, part: Arrival) -> None:
    """Add `part` to `total` (signals that meet at a node sum; a sum has no stored weights)."""
    for key, m in part.terms.items():
        if key in total.terms:
            total.terms[key] = total.terms[key] + m
            total.exact.pop(key, None)
        else:
            total.terms[key] = m
            if key in part.exact:
                total.exact[key] = part.exact[key]
    if part.constant is not None:
        total.constant = part.constant.copy() if total.constant is None \
            else total.constant + part.constant


def is_identity(m) -> bool:
    """The identity a population's own signal starts as (a cheap check: O(size))."""
    return (m.shape[0] == m.shape[1] and m.nnz == m.shape[0]
            and np.array_equal(m.indices, np.arange(m.shape[0]))
            and np.array_equal(m.indptr, np.arange(m.shape[0] + 1)) and bool(np.all(m.data == 1)))


def is_selection(m: sp.csr_array) -> bool:
    """A matrix of ones with at most one per row and column: products with it only pick."""
    m = m.tocsr()
    return bool(np.all(m.data == 1.0) and np.all(np.diff(m.indptr) <= 1)
                and np.unique(m.indices).size == m.indices.size)


def delay_steps(delay, dt_s: float, size: int) -> np.ndarray:
    """A Delay node's delays as whole steps, one per element."""
    given = np.asarray(delay)
    seconds = given.astype(np.float64).ravel()
    # a float32 delay (what PyTorch exporters write) is only that exact: 3 ms is 0.003000000026
    rtol = max(DELAY_RTOL, 4 * float(np.finfo(given.dtype).eps)) \
        if np.issubdtype(given.dtype, np.floating) else DELAY_RTOL
    if seconds.size == 1:
        seconds = np.full(size, seconds[0])
    if seconds.size != size:
        raise NodeProblem(f"delay has {seconds.size} values for a signal of {size}")
    if not np.all(np.isfinite(seconds)) or np.any(seconds < 0):
        raise NodeProblem("delay must be finite and >= 0 seconds")
    steps = np.rint(seconds / dt_s)
    if steps.max(initial=0) + 1 > MAX_DELAY:
        raise NodeProblem(f"delay {seconds.max()!r} s is {int(steps.max())} steps of dt: "
                          f"a synapse's delay is at most {MAX_DELAY} steps")
    bad = np.abs(steps * dt_s - seconds) > rtol * np.maximum(seconds, dt_s)
    if bad.any():
        worst = seconds[bad][0]
        raise NodeProblem(f"delay {worst!r} s is not a whole number of steps of dt = {dt_s!r} s "
                          f"({worst / dt_s:.6g} steps): choose a --dt that divides it")
    return steps.astype(np.int64)


def size_of(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def metadata_text(node, key: str) -> str | None:
    value = (getattr(node, "metadata", None) or {}).get(key)
    if isinstance(value, bytes):
        value = value.decode("utf8")
    return None if value is None else str(value)


def population_name(node_name: str) -> str:
    """A NIR node name as a population name: dotted parts of letters, digits, - and _."""
    return ".".join(NAME_CHARS.sub("_", part) or "_" for part in node_name.split("."))


__all__ = ["Arrival", "FlatGraph", "GraphImport", "flatten", "population_name"]
