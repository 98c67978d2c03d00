"""Human summaries of a Network for `nmc validate` and `nmc info`."""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from nmcompile.ir import Current, Network, instance_totals

BRIEF_NEURONS = 8  # a current's neuron list longer than this is shown as a count


def one_line_summary(net: Network) -> str:
    delays = net.delay_range()
    return (f"{net.name}: {len(net.populations)} populations, {net.n_neurons:,} neurons, "
            f"{len(net.projections)} projections, {net.n_synapses:,} synapses, "
            f"delays {format_range(delays)}, {'cyclic' if net.has_cycles() else 'acyclic'}")


def format_range(r) -> str:
    return "none" if r is None else (f"{r[0]}" if r[0] == r[1] else f"{r[0]}-{r[1]}")


def info_table(net: Network) -> str:
    lines = [f"network {net.name}: dt {net.dt} ms, {net.steps} steps, seed {net.seed}",
             f"  neurons {net.n_neurons:,}, synapses {net.n_synapses:,}, "
             f"delays {format_range(net.delay_range())} steps, "
             f"graph {'has cycles' if net.has_cycles() else 'has no cycles'}",
             "populations:"]
    width = max(len(n) for n in net.populations)
    for pop in net.populations.values():
        m = pop.model
        shape = f" shape {list(pop.shape)}" if pop.shape else ""
        lines.append(f"  {pop.name:<{width}}  {m.kind:<11} {pop.size:>8,}{shape}  "
                     f"{model_detail(m)}")
    if net.projections:
        lines.append("projections:")
        width = max(len(p.name) for p in net.projections)
        for p in net.projections:
            w = p.weight
            wr = f"weights {w.min():.4g}..{w.max():.4g}" if w.size else "no synapses"
            lines.append(f"  {p.name:<{width}}  {p.pre} -> {p.post}  {p.n_synapses:>10,} synapses  "
                         f"{wr}  delays {format_range(p.delay_range())}")
            if p.plastic:
                lines.append(f"  {'':<{width}}  learns: {learning_detail(p.learning)}")
    if net.probes:
        lines.append("probes: " + ", ".join(f"{p.population}.{p.var}" for p in net.probes))
    if net.weight_probes:
        lines.append("weight probes: " + ", ".join(f"{p.projection} every {p.every} steps"
                                                   for p in net.weight_probes))
    if net.metadata.get("format") == "nir":
        lines += nir_choices(net.metadata)
    if net.modules is not None:
        lines += module_tree(net)
    if net.currents:
        lines.append("currents:")
        width = max(len(c.population) for c in net.currents)
        lines += [f"  {c.population:<{width}}  {current_detail(c)}" for c in net.currents]
    return "\n".join(lines)


def module_tree(net: Network) -> list[str]:
    """The instances the network was flattened from (DESIGN §8), nested as written, with the
    neurons and synapses of each instance and everything inside it."""
    totals = instance_totals(net.modules, {p.name: p.size for p in net.populations.values()},
                             {p.name: p.n_synapses for p in net.projections})
    rows = [(("  " * depth + inst.name) if inst.name else "(whole network)", inst.module,
             totals[inst.name], ", ".join(f"{k} {_value(v)}" for k, v in inst.params.items()))
            for depth, inst in net.modules.walk()]
    width = max(len(r[0]) for r in rows)
    mod = max(len(r[1]) for r in rows)
    lines = ["module tree (neurons and synapses of an instance and of everything inside it):"]
    lines += [f"  {name:<{width}}  {module:<{mod}}  {n:>10,} neurons  {s:>12,} synapses"
              + (f"  ({params})" if params else "")
              for name, module, (n, s), params in rows]
    return lines


def _value(v: object) -> str:
    """A parameter's value, short: floats to 6 significant digits, anything long cut."""
    text = f"{v:.6g}" if isinstance(v, float) else repr(v)
    return text if len(text) <= 32 else text[:31] + "…"


def nir_choices(meta: dict) -> list[str]:
    """What the NIR import chose (docs/design.md §7), so that a user sees how a continuous-time
    graph became this discrete network."""
    lines = [f"imported from NIR {meta.get('nir_version') or '(version not stated)'}: "
             f"{meta['file']}",
             f"  dt {meta['dt_ms']} ms (given), discretization {meta['discretization']}",
             f"  timing: {meta['input_timing']}",
             f"  input raster: {meta['input'] or 'none given'}"]
    for pop, node in meta["nodes"].items():
        lines.append(f"  {pop}: from node {node}")
    for out, pops in meta["outputs"].items():
        lines.append(f"  Output {out!r}: records {', '.join(pops)}")
    return lines


def learning_detail(rule) -> str:
    """A learning rule's kind and its parameters that are set (ir/learning.py)."""
    values = {f.name: getattr(rule, f.name) for f in fields(rule)}
    return f"{rule.kind} " + " ".join(f"{k} {_value(v)}" for k, v in values.items()
                                      if v is not None)


def model_detail(m) -> str:
    """A source's spikes or rates; a neuron model's required parameters and those not at their
    default (per-neuron values as one value or a range), and whether it cannot spike."""
    if m.kind == "spike_array":
        return f"{len(m.steps)} spikes"
    if m.kind == "poisson":
        return f"rate {m.rate.min():g}-{m.rate.max():g} Hz"
    parts = []
    for p in m.PARAMS:
        value = getattr(m, p.name)
        if isinstance(value, np.ndarray):
            low, high = value.min(), value.max()
            parts.append(f"{p.name} {low:.4g} per neuron" if low == high else
                         f"{p.name} {low:.4g}..{high:.4g} per neuron")
        elif p.required or value != p.default:
            parts.append(f"{p.name} {value}")
    if "non_spiking" in m.features():
        parts.append("(non-spiking)")
    return " ".join(parts)


def current_detail(c: Current) -> str:
    """Kind, extent and values of one injected current, and the neurons it goes to."""
    if c.kind == "file":
        v = c.values
        extent = f"{v.shape[0]:,} steps" + (f" x {v.shape[1]:,} neurons" if v.ndim == 2 else "")
    else:
        v = c.points[:, 1]
        at = c.points[:, 0].astype(np.int64)
        extent = f"{len(at)} point{'s' if len(at) > 1 else ''} at steps {at[0]}" + \
                 (f"..{at[-1]}" if len(at) > 1 else "")
    values = f"{v.min():.4g}" if v.min() == v.max() else f"{v.min():.4g}..{v.max():.4g}"
    if c.neurons is None:
        to = "every neuron"
    elif len(c.neurons) > BRIEF_NEURONS:
        to = f"{len(c.neurons):,} neurons"
    else:
        to = "neurons " + ", ".join(str(n) for n in c.neurons)
    return f"{c.kind:<5}  {extent}, values {values}  to {to}"
