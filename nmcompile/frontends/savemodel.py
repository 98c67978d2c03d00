"""Network -> model file v1, such that load_model(save_model(net)) == net.

Random draws are written out as realised values (explicit synapse lists, per-neuron lists), so
the saved file no longer depends on the seed for its structure. Projections past INLINE_LIMIT
synapses go to a sidecar .npz next to the model (`connect: {file: ...}`) to keep the YAML
readable, and so do the values of file currents (`<stem>.currents.<index>.npz`, with a `_`
added in the unlikely case that a projection is named `currents.<index>`). A plastic
projection keeps its `learning` mapping; `save_learned_model` writes a run's learned weights
in place of the initial ones (`nmc run --save-model`).
"""
from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import yaml

from nmcompile.diagnostics import InternalError, RunError
from nmcompile.files.atomic import atomic_output
from nmcompile.frontends.modelfile import FORMAT
from nmcompile.frontends.modelfile.learning import learning_doc
from nmcompile.frontends.modelfile.yamlmarks import DUMPER
from nmcompile.ir import Current, Network, Poisson, Population, Projection
from nmcompile.ir.learning import sign_of
from nmcompile.result import Result

INLINE_LIMIT = 2_000


def to_document(net: Network, sidecar_prefix: str | None = None) -> tuple[dict, dict]:
    """The model document and the sidecar arrays it refers to ({relative file name: arrays})."""
    sidecars: dict[str, dict[str, np.ndarray]] = {}
    projections = []
    for proj in net.projections:
        spec, arrays = projection_doc(proj, sidecar_prefix)
        projections.append(spec)
        if arrays:
            sidecars[spec["connect"]["file"]] = arrays
    doc = {"format": FORMAT, "name": net.name, "dt": float(net.dt), "steps": int(net.steps),
           "seed": int(net.seed),
           "populations": {p.name: population_doc(p) for p in net.populations.values()},
           "projections": projections,
           "probes": [{"population": p.population, "var": p.var} for p in net.probes]
           + [{"projection": p.projection, "every": int(p.every)} for p in net.weight_probes]}
    if net.currents:
        doc["currents"] = []
        for index, current in enumerate(net.currents):
            spec = current_doc(current)
            if current.kind == "file":  # named after the network when there is no prefix
                spec["file"] = f"{sidecar_prefix or net.name}.currents.{index}.npz"
                while spec["file"] in sidecars:  # a projection named currents.<index>
                    spec["file"] = spec["file"][:-4] + "_.npz"
                sidecars[spec["file"]] = {"current": current.values}
            doc["currents"].append(spec)
    return doc, sidecars


def population_doc(pop: Population) -> dict:
    m = pop.model
    out: dict = {"model": m.kind, "size": int(pop.size)}
    if pop.shape:
        out["shape"] = [int(d) for d in pop.shape]
    if not m.is_source:  # every parameter of the model's table, per-neuron values as lists;
        # None is a default computed from others (Izhikevich u_init = b·v_init): left out
        out.update({p.name: plain(getattr(m, p.name)) for p in m.PARAMS
                    if getattr(m, p.name) is not None})
    elif isinstance(m, Poisson):
        out["rate"] = scalar_or_list(m.rate)
    else:
        out["spikes"] = [[int(n), int(t)] for n, t in zip(m.neurons, m.steps)]
    return out


def plain(value):
    """A parameter value as YAML writes it: an array as a list of Python numbers."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def current_doc(current: Current) -> dict:
    """population, neurons, and steps or ramp as their points (a file current's `file` names
    its sidecar, which to_document adds)."""
    spec: dict = {"population": current.population}
    if current.neurons is not None:
        spec["neurons"] = current.neurons.tolist()
    if current.kind != "file":
        spec[current.kind] = [[int(t), float(v)] for t, v in current.points]
    return spec


def projection_doc(proj: Projection, sidecar_prefix: str | None) -> tuple[dict, dict | None]:
    spec: dict = {"name": proj.name, "pre": proj.pre, "post": proj.post}
    if sidecar_prefix is not None and proj.n_synapses > INLINE_LIMIT:
        arrays = {"pre": proj.pre_idx, "post": proj.post_idx, "weight": proj.weight,
                  "delay": proj.delay}
        spec["connect"] = {"file": f"{sidecar_prefix}.{proj.name}.npz"}
        return with_learning(spec, proj), arrays
    spec["connect"] = {"list": [[int(a), int(b)] for a, b in zip(proj.pre_idx, proj.post_idx)]}
    spec["weight"] = scalar_or_list(proj.weight) if proj.n_synapses else 0.0
    spec["delay"] = scalar_or_list(proj.delay) if proj.n_synapses else 1
    return with_learning(spec, proj), None


def with_learning(spec: dict, proj: Projection) -> dict:
    if proj.plastic:
        spec["learning"] = learning_doc(proj.learning)
    return spec


def scalar_or_list(values: np.ndarray):
    """One value when all are equal (and there is at least one), else the full list."""
    as_py = values.tolist()
    if len(as_py) and all(v == as_py[0] for v in as_py):
        return as_py[0]
    return as_py


def save_model(net: Network, path: str) -> None:
    """Write the model (and any sidecars) atomically: temporary files renamed when complete."""
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    doc, sidecars = to_document(net, sidecar_prefix=stem)
    for name, arrays in sidecars.items():
        with atomic_output(os.path.join(folder, name)) as fh:
            np.savez(fh, **arrays)
    text = yaml.dump(doc, Dumper=DUMPER, sort_keys=False, default_flow_style=None, width=100)
    if net.modules is not None and net.modules.children:  # the structure is not written:
        # say where the names came from
        top = [f"{c.name} ({c.module})" for c in net.modules.children]
        more = f" and {len(top) - 8:,} more" if len(top) > 8 else ""
        text = (f"# flattened from modules (docs/design.md §8); instances: "
                f"{', '.join(top[:8])}{more}\n" + text)
    with atomic_output(path, "w") as fh:
        fh.write(text)


def learned_network(net: Network, result: Result) -> tuple[Network, list[str]]:
    """`net` with each plastic projection's weights replaced by the run's learned ones (model
    units: a fixed-point backend's mantissas divided by meta["weight_scale"]), and warnings.

    The rule is kept, its sign bound written out when it came from the initial weights (the
    learned ones might imply another). A w_max the learned weights exceed (the float backends
    have no magnitude bound) is raised to their largest |w|, with a warning: else the file
    would not load."""
    scales = result.meta.get("weight_scale", {})
    projections, warnings = [], []
    for proj in net.projections:
        if not proj.plastic:
            projections.append(proj)
            continue
        if proj.name not in result.weights:
            raise RunError(f"backend {result.meta.get('backend')} gave no learned weights of "
                           f"projection {proj.name}: cannot write the learned model")
        learned = np.asarray(result.weights[proj.name])
        if learned.shape != proj.weight.shape:
            raise InternalError(f"learned weights of {proj.name}: shape {learned.shape}, "
                                f"{proj.n_synapses} synapses expected")
        if proj.name in scales:
            learned = learned / float(scales[proj.name])
        elif not np.issubdtype(learned.dtype, np.floating):
            raise InternalError(f"learned weights of {proj.name} are mantissas "
                                f"({learned.dtype}) without meta['weight_scale']")
        rule = replace(proj.learning, sign=sign_of(proj.learning, proj.weight))
        top = float(np.abs(learned).max(initial=0.0))
        if rule.w_max is not None and top > rule.w_max:
            warnings.append(f"projection {proj.name}: learned weights reach {top!r}, beyond "
                            f"w_max {rule.w_max!r}; written with w_max {top!r}")
            rule = replace(rule, w_max=top)
        projections.append(replace(proj, weight=learned.astype(np.float64), learning=rule))
    return replace(net, projections=tuple(projections)), warnings


def save_learned_model(net: Network, result: Result, path: str) -> list[str]:
    """Write `net` with the learned weights of `result` (see learned_network); the warnings."""
    learned, warnings = learned_network(net, result)
    save_model(learned, path)
    return warnings
