"""Hypothesis strategy for valid model documents (DESIGN §4), every form the format allows.

    from strategies_doc import documents
    @given(case=documents())     # case.doc: the v1 document; case.files: {name: arrays} to
                                 # write next to it for `connect: {file: name}`

Connectors, weights and delays take every form: all_to_all, one_to_one, fixed_probability,
fixed_indegree, grid, list and file; scalar, uniform, normal and per-synapse lists; scalar,
uniform_int and per-synapse lists. Per-synapse lists are drawn only where the synapse count is
known before loading (not for the random connectors). Names include YAML look-alikes such
as `true`, `1e3` and `null`, which a writer must quote.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from nmcompile.frontends.modelfile import connectivity as conn

TRICKY_NAMES = ["true", "no", "null", "1e3", "1", "0x1F", "inf", "-", "_", "1_000", "on", "y"]
NAME_CHARS = "abcxyzABZ019_-"


@dataclass
class Case:
    doc: dict
    files: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


names = st.one_of(st.sampled_from(TRICKY_NAMES), st.text(NAME_CHARS, min_size=1, max_size=6))
finite = st.floats(-5, 5, allow_nan=False, width=64)
positive = st.floats(0.01, 100, allow_nan=False)


def shapes_for(size: int):
    """None or a 1-D/2-D/3-D shape whose product is size."""
    options = [None, [size]]
    options += [[a, size // a] for a in range(1, size + 1) if size % a == 0]
    options += [[a, b, size // (a * b)] for a in range(1, 4) for b in range(1, 4)
                if size % (a * b) == 0]
    return st.sampled_from(options)


@st.composite
def populations(draw, first: bool):
    """One population spec; the first is always lif, so projections have a target."""
    size = draw(st.integers(1, 12))
    spec: dict = {"size": size}
    shape = draw(shapes_for(size))
    if shape is not None:
        spec["shape"] = shape
    kind = "lif" if first else draw(st.sampled_from(["spike_array", "lif", "poisson"]))
    spec["model"] = kind
    if kind == "lif":
        tau = st.one_of(positive, positive, positive, st.just(math.inf))
        spec.update(tau_syn=draw(tau), tau_mem=draw(tau), v_th=draw(positive))
        if draw(st.booleans()):
            spec.update(bias=draw(finite), refractory=draw(st.integers(0, 5)))
    elif kind == "poisson":
        rate = st.floats(0, 100, allow_nan=False)  # ≤ 1 spike per step even at dt = 10 ms
        spec["rate"] = draw(st.one_of(rate, st.lists(rate, min_size=size, max_size=size)))
    else:
        pair = st.tuples(st.integers(0, size - 1), st.integers(0, 50)).map(list)
        spec["spikes"] = draw(st.lists(pair, max_size=10, unique_by=tuple))
    return spec


@st.composite
def connection(draw, pre: str, post: str, pops: dict, files: dict, index: int):
    """One projection's connect part: (spec, synapse count or None when random, the per-synapse
    values its connectivity file holds)."""
    n_pre, n_post = pops[pre]["size"], pops[post]["size"]
    same = pre == post
    spec: dict = {"pre": pre, "post": post}
    self_ok = True
    if same and draw(st.booleans()):
        self_ok = draw(st.booleans())
        spec["allow_self"] = self_ok
    shape_pre = tuple(pops[pre].get("shape") or [n_pre])
    shape_post = tuple(pops[post].get("shape") or [n_post])
    kinds = ["grid"] * (shape_pre == shape_post) + ["one_to_one"] * (n_pre == n_post)
    kinds += ["fixed_indegree", "all_to_all", "fixed_probability", "list", "file"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("all_to_all", "one_to_one"):
        make = conn.all_to_all if kind == "all_to_all" else conn.one_to_one
        spec["connect"] = kind
        return spec, len(make(n_pre, n_post, self_ok)[0]), set()
    if kind == "fixed_probability":
        spec["connect"] = {kind: draw(st.floats(0, 1))}
        return spec, None, set()
    if kind == "fixed_indegree":
        spec["connect"] = {kind: draw(st.integers(0, n_pre - (0 if self_ok else 1)))}
        return spec, None, set()
    if kind == "grid":
        grid = {"radius": draw(st.integers(0, 3))}
        for flag in ("diagonal", "wrap"):
            if draw(st.booleans()):
                grid[flag] = draw(st.booleans())
        spec["connect"] = {"grid": grid}
        made = conn.grid(shape_pre, grid["radius"], grid.get("diagonal", True),
                         grid.get("wrap", False), self_ok)
        return spec, len(made[0]), set()
    all_pairs = [(a, b) for a in range(n_pre) for b in range(n_post)]
    chosen = draw(st.lists(st.sampled_from(all_pairs), unique=True, max_size=15))
    count = len(chosen)
    if kind == "list":
        spec["connect"] = {"list": [list(p) for p in chosen]}
        return spec, count, set()
    arrays = {"pre": np.array([p for p, _ in chosen], dtype=np.int64),
              "post": np.array([q for _, q in chosen], dtype=np.int64)}
    if draw(st.booleans()):
        arrays["weight"] = np.array(draw(st.lists(finite, min_size=count, max_size=count)))
    if draw(st.booleans()):
        arrays["delay"] = np.array(draw(st.lists(st.integers(1, 20), min_size=count,
                                                 max_size=count)), dtype=np.int32)
    files[f"syn{index}.npz"] = arrays
    spec["connect"] = {"file": f"syn{index}.npz"}
    return spec, count, set(arrays) & {"weight", "delay"}


def weights(count):
    forms = [finite, st.tuples(finite, finite).map(lambda p: {"uniform": sorted(p)}),
             st.tuples(finite, st.floats(0, 2)).map(lambda p: {"normal": list(p)})]
    if count is not None:
        forms.append(st.lists(finite, min_size=count, max_size=count))
    return st.one_of(forms)


def delays(count):
    forms = [st.integers(1, 20),
             st.tuples(st.integers(1, 20), st.integers(1, 20)).map(
                 lambda p: {"uniform_int": sorted(p)})]
    if count is not None:
        forms.append(st.lists(st.integers(1, 20), min_size=count, max_size=count))
    return st.one_of(forms)


@st.composite
def documents(draw, max_populations: int = 4, max_projections: int = 4) -> Case:
    pop_names = draw(st.lists(names, min_size=1, max_size=max_populations, unique=True))
    pops = {name: draw(populations(first=i == 0)) for i, name in enumerate(pop_names)}
    lifs = [name for name in pop_names if pops[name]["model"] == "lif"]
    doc: dict = {"format": "nmcompile/v1", "name": draw(names)}
    for key, strategy in (("dt", st.floats(0.01, 10)), ("steps", st.integers(1, 500)),
                          ("seed", st.integers(0, 2**32))):
        if draw(st.booleans()):
            doc[key] = draw(strategy)
    doc["populations"] = pops
    files: dict = {}
    projections = []
    proj_names = draw(st.lists(names, max_size=max_projections, unique=True))
    for i, proj_name in enumerate(proj_names):
        pre = draw(st.sampled_from(pop_names))
        post = pre if pre in lifs and draw(st.booleans()) else draw(st.sampled_from(lifs))
        spec, count, in_file = draw(connection(pre, post, pops, files, i))
        if draw(st.booleans()):
            spec["name"] = proj_name
        if "weight" not in in_file:
            spec["weight"] = draw(weights(count))
        if "delay" not in in_file and draw(st.booleans()):
            spec["delay"] = draw(delays(count))
        projections.append(spec)
    if projections or draw(st.booleans()):
        doc["projections"] = projections
    probes = draw(st.lists(st.tuples(st.sampled_from(lifs), st.sampled_from(["u", "v"])),
                           unique=True, max_size=3))
    if probes or draw(st.booleans()):
        doc["probes"] = [{"population": p, "var": v} for p, v in probes]
    return Case(doc, files)
