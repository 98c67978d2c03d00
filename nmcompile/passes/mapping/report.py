"""Resource report of a mapping: utilisation per core, spike traffic, energy and time per step.

Traffic comes from a run's spikes: a spike leaves its core once per destination core (one
packet), and costs one synaptic operation per synapse. Energy and time use the target's
per-operation figures, each quoted with the source written next to it in the target file.
Stated approximations: an "active" neuron update is one whose neuron spiked that step; a
packet to another core of the same chip costs one within-tile spike plus one tile hop per step
of Manhattan distance, cores laid out row by row on a square grid; packets between chips and
from the host are counted but not costed (no target gives a figure for them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nmcompile.ir import Network, instance_totals, source_spikes
from nmcompile.result import Result
from nmcompile.targets.schema import Target

from .blocks import Mapping
from .costs import population_offsets
from .costs import PopulationCosts
from .pairs import CorePairs, count_pairs
from .usage import core_usage


@dataclass
class MappingReport:
    """Everything `nmc compile --report` prints about the mapping, and its JSON form."""

    target: str
    placement: str
    chips_used: int
    cores_used: int
    capacity: dict[str, int]                # resource -> limit per core: neurons, synaptic_words,
                                            # input_axons, output_axons (neuron_state_words too
                                            # on a target that counts neuron state)
    per_core: dict[str, list[int]]          # resource -> value per used core (sorted core ids)
    core_ids: list[int]
    static_inter_chip_pairs: int
    traffic: dict[str, int] = field(default_factory=dict)
    energy_pj: dict[str, float] = field(default_factory=dict)
    time_ns: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    # a network flattened from modules: one row per instance (with everything inside it):
    # name, module, depth, neurons, synapses, cores (its neurons are on), spikes (with a run)
    instances: list[dict] = field(default_factory=list)
    # plastic projections on a target that counts learning memory: what the learning_bits of
    # every core hold, summed (see _learning)
    learning: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "learning" or v}

    def text(self) -> str:
        lines = [f"mapping on {self.target}: {self.chips_used} chip(s), {self.cores_used} core(s), "
                 f"placement {self.placement}; inter-chip (neuron, core) pairs "
                 f"{self.static_inter_chip_pairs:,}",
                 "  utilisation per core     min     mean      max   (limit)"]
        for res in self.capacity:
            frac = np.asarray(self.per_core[res], float) / self.capacity[res]
            lines.append(f"    {res:<18} {frac.min():7.1%} {frac.mean():7.1%} {frac.max():7.1%}"
                         f"   ({self.capacity[res]:,})" if frac.size else f"    {res:<18} -")
        if self.traffic:
            t = self.traffic
            lines.append(f"  traffic over {t['steps']} steps: {t['spikes']:,} spikes, "
                         f"{t['synaptic_events']:,} synaptic events; packets {t['packets']:,}: "
                         f"{t['within_core']:,} within a core, {t['between_cores']:,} between "
                         f"cores of a chip ({t['hops']:,} hops), {t['between_chips']:,} between "
                         f"chips, {t['from_host']:,} from the host")
        for name, costs, unit, how in (
                ("energy", self.energy_pj, "pJ", "summed over cores"),
                ("time", self.time_ns, "ns", "the busiest core's work plus the barrier sync; "
                                             "work summed over cores")):
            if costs:
                parts = ", ".join(f"{k} {v:,.1f}" for k, v in costs.items() if k != "per_step")
                lines.append(f"  {name} per step ≈ {costs['per_step']:,.1f} {unit} ({how}: "
                             f"{parts})")
        if self.learning:
            n = self.learning
            lines.append(f"  learning state {n['bits']:,} bits: traces of {n['post_neurons']:,} "
                         f"neurons, {n['tags']:,} tags, traces of {n['pre_neurons']:,} "
                         f"presynaptic neurons and {n['products']:,} rule products (these two "
                         f"once per core their post neurons are on)")
        if self.missing:
            lines.append(f"  not estimated (no figure in target {self.target}): "
                         + ", ".join(self.missing))
        for key, src in self.sources.items():
            lines.append(f"    {key}: {src}")
        return "\n".join(lines + self._instance_lines())

    def _instance_lines(self) -> list[str]:
        if not self.instances:
            return []
        names = ["  " * row["depth"] + (row["name"] or "(whole network)")
                 for row in self.instances]
        width = max(len(n) for n in names)
        mod = max(len(row["module"]) for row in self.instances)
        spikes = "spikes" in self.instances[0]
        lines = ["  by instance (each with everything inside it):",
                 f"    {'':<{width}}  {'':<{mod}} {'neurons':>10} {'synapses':>12} {'cores':>6}"
                 + (f" {'spikes':>10}" if spikes else "")]
        for name, row in zip(names, self.instances):
            lines.append(f"    {name:<{width}}  {row['module']:<{mod}} {row['neurons']:>10,} "
                         f"{row['synapses']:>12,} {row['cores']:>6,}"
                         + (f" {row['spikes']:>10,}" if spikes else ""))
        return lines


def mapping_report(net: Network, target: Target, mapping: Mapping, costs: PopulationCosts,
                   run: Result | None = None, steps: int | None = None) -> MappingReport:
    """Utilisation of `mapping`; with an emulator `run`, its traffic, energy and time too."""
    spikes = None
    if run is not None:
        steps = int(steps or run.meta.get("steps") or net.steps)
        spikes = _spike_counts(net, run, steps)
    pairs = count_pairs(net, mapping, spikes)
    used = np.unique(mapping.block_core)
    per_core, capacity = core_usage(net, target, costs, pairs)
    report = MappingReport(
        target=target.name, placement=mapping.placement, chips_used=mapping.n_chips,
        cores_used=int(used.size), capacity=capacity,
        per_core={k: [int(x) for x in v[used]] for k, v in per_core.items()},
        core_ids=[int(c) for c in used], static_inter_chip_pairs=int(pairs.other_chip.sum()))
    if "learning_bits" in capacity:
        report.learning = _learning(net, costs, mapping, int(per_core["learning_bits"].sum()))
    if spikes is not None:
        report.traffic = _traffic(pairs, spikes, steps)
        _estimate(report, target, pairs, spikes, steps)
    if net.modules is not None:
        report.instances = _by_instance(net, pairs.gcore, spikes)
    return report


def _by_instance(net: Network, gcore: np.ndarray, spikes: np.ndarray | None) -> list[dict]:
    """The report's figures per instance of the module tree (DESIGN §8), subtrees included."""
    offsets = population_offsets(net)
    sizes = {p.name: p.size for p in net.populations.values()}
    fired = {name: int(spikes[offsets[name]:offsets[name] + size].sum()) if spikes is not None
             else 0 for name, size in sizes.items()}
    totals = instance_totals(net.modules, sizes, {p.name: p.n_synapses for p in net.projections})
    spiked = instance_totals(net.modules, fired, {})
    rows = []
    for depth, inst in net.modules.walk():
        cores = [gcore[offsets[p]:offsets[p] + sizes[p]] for p in inst.all_populations()]
        cores = np.concatenate(cores) if cores else np.empty(0, np.int64)
        row = dict(name=inst.name, module=inst.module, params=inst.params, depth=depth,
                   neurons=int(totals[inst.name][0]), synapses=int(totals[inst.name][1]),
                   cores=int(np.unique(cores[cores >= 0]).size))
        if spikes is not None:
            row["spikes"] = int(spiked[inst.name][0])
        rows.append(row)
    return rows


def _learning(net: Network, costs: PopulationCosts, mapping: Mapping, bits: int) -> dict:
    """What the learning memory of the cores holds: post neurons (their traces), tags, and,
    once per core their population is on, presynaptic neurons (their traces) and products."""
    out = {"bits": bits, "post_neurons": 0, "tags": 0, "pre_neurons": 0, "products": 0}
    for name, state in costs.learning.items():
        cores = np.unique(mapping.neuron_cores(name, state.tagged.size)).size
        out["post_neurons"] += int(state.tagged.size)
        out["tags"] += int(state.tagged.sum())
        out["pre_neurons"] += state.pre_neurons * cores
        out["products"] += state.products * cores
    return out


def _spike_counts(net: Network, run: Result, steps: int) -> np.ndarray:
    counts = np.zeros(net.n_neurons, np.int64)
    offsets = population_offsets(net)
    for pop in net.populations.values():
        neurons = source_spikes(pop, net, steps)[1] if pop.is_source else run.spikes[pop.name][1]
        counts[offsets[pop.name]:offsets[pop.name] + pop.size] = np.bincount(neurons,
                                                                             minlength=pop.size)
    return counts


def _traffic(pairs: CorePairs, spikes: np.ndarray, steps: int) -> dict[str, int]:
    """Packets: each spike once per (neuron, destination core) pair, by where the pair goes."""
    host = pairs.gcore < 0
    return {"steps": steps, "spikes": int(spikes.sum()),
            "synaptic_events": int(pairs.events.sum()),
            "packets": int(spikes @ pairs.output_axons),
            "within_core": int(spikes @ pairs.same_core),
            "between_cores": int(spikes @ pairs.same_chip),
            "hops": int(spikes @ pairs.hops),
            "between_chips": int(spikes @ pairs.other_chip),
            "from_host": int(spikes[host] @ pairs.output_axons[host]),
            "active_updates": int(spikes[~host].sum()),
            "neuron_updates": int(np.count_nonzero(~host)) * steps}


def _estimate(report: MappingReport, target: Target, pairs: CorePairs, spikes, steps) -> None:
    """Per-step energy (pJ) and time (ns); every figure used is quoted with its source."""
    t = report.traffic
    counts = {"synaptic_op": t["synaptic_events"], "neuron_update_active": t["active_updates"],
              "neuron_update_inactive": t["neuron_updates"] - t["active_updates"],
              "spike_within_tile": t["within_core"] + t["between_cores"], "tile_hop": t["hops"]}
    cited = _figure_sources(target)
    sources = {k: cited.get(k, f"target {target.name} (no source given)")
               for k in (*target.energy, *target.time)}
    for table, unit, out in ((target.energy, "pj", report.energy_pj),
                             (target.time, "ns", report.time_ns)):
        for op, n in counts.items():
            key = f"{op}_{unit}"
            if key in table:
                out[op] = table[key] * n / steps
                report.sources[key] = sources[key]
            else:
                report.missing.append(key)
    if report.time_ns:
        report.time_ns["per_step"] = _step_time_ns(target, pairs, spikes, steps)
        if "barrier_sync_ns" in target.time:
            report.sources["barrier_sync_ns"] = sources["barrier_sync_ns"]
    if report.energy_pj and "static_power_per_core_mw" in target.energy and report.time_ns:
        report.energy_pj["static"] = (target.energy["static_power_per_core_mw"] * 1e-3
                                      * report.cores_used * report.time_ns["per_step"] * 1e-9
                                      * 1e12)
        report.sources["static_power_per_core_mw"] = sources["static_power_per_core_mw"]
    if report.energy_pj:
        report.energy_pj["per_step"] = sum(report.energy_pj.values())


def _step_time_ns(target: Target, pairs: CorePairs, spikes, steps) -> float:
    """Cores run in parallel: the busiest core's mean work per step, plus the barrier sync."""
    fig = target.time
    n_cores, gcore = pairs.events.size, pairs.gcore
    lif = gcore >= 0
    active = np.bincount(gcore[lif], weights=spikes[lif], minlength=n_cores)
    inactive = np.bincount(gcore[lif], minlength=n_cores) * steps - active
    work = (pairs.events.astype(np.float64) * fig.get("synaptic_op_ns", 0.0)
            + active * fig.get("neuron_update_active_ns", 0.0)
            + inactive * fig.get("neuron_update_inactive_ns", 0.0)) / steps
    return float(work.max(initial=0.0)) + fig.get("barrier_sync_ns", 0.0)


def _figure_sources(target: Target) -> dict[str, str]:
    """The comment written after each figure in the target file (where its source is cited)."""
    if not target.file:
        return {}
    out = {}
    with open(target.file, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"\s*([a-z_]+)\s*:\s*[-0-9.e]+\s*#\s*(.+?)\s*$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out
