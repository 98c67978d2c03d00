"""Human summaries of a Network for `nmc validate` and `nmc info`."""
from __future__ import annotations

from nmcompile.ir import LIF, Network


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
        detail = (f"tau_syn {m.tau_syn} tau_mem {m.tau_mem} v_th {m.v_th} bias {m.bias} "
                  f"refractory {m.refractory}" if isinstance(m, LIF) else
                  f"{len(m.steps)} spikes" if m.kind == "spike_array" else
                  f"rate {m.rate.min():g}-{m.rate.max():g} Hz")
        shape = f" shape {list(pop.shape)}" if pop.shape else ""
        lines.append(f"  {pop.name:<{width}}  {m.kind:<11} {pop.size:>8,}{shape}  {detail}")
    if net.projections:
        lines.append("projections:")
        width = max(len(p.name) for p in net.projections)
        for p in net.projections:
            w = p.weight
            wr = f"weights {w.min():.4g}..{w.max():.4g}" if w.size else "no synapses"
            lines.append(f"  {p.name:<{width}}  {p.pre} -> {p.post}  {p.n_synapses:>10,} synapses  "
                         f"{wr}  delays {format_range(p.delay_range())}")
    if net.probes:
        lines.append("probes: " + ", ".join(f"{p.population}.{p.var}" for p in net.probes))
    return "\n".join(lines)
