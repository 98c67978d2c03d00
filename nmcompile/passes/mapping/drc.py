"""Design rules of a mapping: a list of small named functions, each returning every violation.

Each diagnostic names the object, the quantity, the limit and a fix, e.g.
`population exc: fan-in 5,000 axons > 4,096 per core on loihi2: split the projection or lower
connectivity`. `check_design_rules` runs them all, so a user sees every problem at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.diagnostics import Diagnostic
from nmcompile.ir import Network
from nmcompile.targets.schema import Target

from .blocks import Mapping
from .costs import population_offsets
from .costs import PopulationCosts
from .pairs import CorePairs, count_pairs
from .usage import core_usage


@dataclass(frozen=True, eq=False)
class DrcContext:
    """Everything a rule may read; computed once by `check_design_rules`."""

    net: Network
    target: Target
    costs: PopulationCosts
    mapping: Mapping
    pairs: CorePairs  # (neuron, destination core) pairs counted, see pairs.count_pairs


def _neurons(count: int, size: int) -> str:
    return f"{count:,} of {size:,} neurons" if size > 1 else "its neuron"


def rule_delay(ctx: DrcContext) -> list[Diagnostic]:
    limit = ctx.target.numerics.max_delay
    out = []
    for proj in ctx.net.projections:
        r = proj.delay_range()
        if r and r[1] > limit:
            n = int(np.count_nonzero(proj.delay > limit))
            out.append(Diagnostic(
                "error", "NM601",
                f"projection {proj.name}: delay {r[1]:,} steps > {limit:,} on {ctx.target.name} "
                f"({n:,} of {proj.n_synapses:,} synapses): shorten the delays or chain relay "
                f"neurons", proj.location))
    return out


def rule_fan_in(ctx: DrcContext) -> list[Diagnostic]:
    limit = ctx.target.resources.input_axons_per_core
    out = []
    for name, inc in ctx.costs.incoming.items():
        over = inc.fan_in > limit
        if over.any():
            pop = ctx.net.populations[name]
            out.append(Diagnostic(
                "error", "NM602",
                f"population {name}: fan-in {int(inc.fan_in.max()):,} axons > {limit:,} per core "
                f"on {ctx.target.name} ({_neurons(int(over.sum()), pop.size)}): split the "
                f"projection or lower connectivity", pop.location))
    return out


def rule_synaptic_memory(ctx: DrcContext) -> list[Diagnostic]:
    limit = ctx.target.resources.max_synapses_per_core()
    out = []
    for name, inc in ctx.costs.incoming.items():
        over = inc.words > limit
        if over.any():
            pop = ctx.net.populations[name]
            worst = int(np.argmax(inc.words))
            n_syn = int(inc.synapses[worst])
            out.append(Diagnostic(
                "error", "NM603",
                f"population {name}: synaptic memory {int(inc.words[worst]):,} words "
                f"({n_syn:,} synapses + {int(inc.words[worst]) - n_syn:,} delay slots) > "
                f"{limit:,} per core on {ctx.target.name} ({_neurons(int(over.sum()), pop.size)}): "
                f"lower connectivity, merge parallel projections or shorten delays", pop.location))
    return out


def rule_fan_out(ctx: DrcContext) -> list[Diagnostic]:
    """A neuron needs one output axon per destination core; one neuron alone may overflow a core."""
    limit = ctx.target.resources.output_axons_per_core
    offsets = population_offsets(ctx.net)
    dest_cores = ctx.pairs.output_axons
    out = []
    for name in ctx.mapping.populations:
        pop = ctx.net.populations[name]
        fan = dest_cores[offsets[name]:offsets[name] + pop.size]
        over = fan > limit
        if over.any():
            out.append(Diagnostic(
                "error", "NM604",
                f"population {name}: fan-out {int(fan.max()):,} cores > {limit:,} output axons "
                f"per core on {ctx.target.name} ({_neurons(int(over.sum()), pop.size)}): lower "
                f"connectivity or relay through more neurons", pop.location))
    return out


def rule_learning_memory(ctx: DrcContext) -> list[Diagnostic]:
    """A neuron's learning state with the state its core keeps for it (the presynaptic traces
    and rules of the plastic projections into its population) within one core's learning
    memory. Shared cores over the limit are the core-limits rule's."""
    mem = ctx.target.resources.learning
    out = []
    for name, state in ctx.costs.learning.items() if mem else ():
        own, shared = state.neuron_bits(mem), state.shared_bits(mem)
        over = own + shared > mem.memory_bits_per_core
        if over.any():
            pop = ctx.net.populations[name]
            worst = int(np.argmax(own))
            tags = int(state.tagged[worst])
            out.append(Diagnostic(
                "error", "NM621",
                f"population {name}: learning memory {int(own[worst]) + shared:,} bits "
                f"({mem.post_bits} for its traces, {tags * mem.tag_bits:,} for {tags:,} tags, "
                f"{state.pre_neurons * mem.pre_bits:,} for the traces of {state.pre_neurons:,} "
                f"presynaptic neurons, {state.products * mem.product_bits:,} for {state.products} "
                f"rule products) > {mem.memory_bits_per_core:,} per core on {ctx.target.name} "
                f"({_neurons(int(over.sum()), pop.size)}; plastic projections "
                f"{', '.join(state.projections)}): fewer presynaptic neurons or plastic "
                f"projections", pop.location))
    return out


def rule_cores(ctx: DrcContext) -> list[Diagnostic]:
    res = ctx.target.resources
    cores = int(np.unique(ctx.mapping.block_core).size)
    available = res.chips * res.cores_per_chip
    if cores <= available:
        return []
    chips = -(-cores // res.cores_per_chip)
    return [Diagnostic(
        "error", "NM605",
        f"network {ctx.net.name}: {cores:,} cores needed > {available:,} on {ctx.target.name} "
        f"({res.chips:,} chip(s) × {res.cores_per_chip:,} cores; {chips:,} chips would do): use a "
        f"target with more chips or shrink the network", ctx.net.location)]


def rule_core_limits(ctx: DrcContext) -> list[Diagnostic]:
    """Every core's totals within every per-core limit of the target, one line per limit.

    The rules above judge single neurons; this one judges what the partition packed together
    (its output-axon rounds may give up, §5.3), so a mapping that passes never exceeds a core.
    A core of one neuron is left to those rules, which name the cause."""
    per_core, capacity = core_usage(ctx.net, ctx.target, ctx.costs, ctx.pairs)
    shared = per_core["neurons"] > 1
    n_cores = ctx.mapping.cores.size
    out = []
    for resource, limit in capacity.items():
        over = np.flatnonzero(shared & (per_core[resource] > limit))
        if not over.size:
            continue
        worst = int(over[np.argmax(per_core[resource][over])])
        blocks = _core_blocks(ctx.mapping, worst)
        holds = ", ".join(f"{name}[{a}:{b}]" for name, a, b in blocks)
        out.append(Diagnostic(
            "error", "NM606",
            f"core {worst:,} ({holds}): {resource.replace('_', ' ')} "
            f"{int(per_core[resource][worst]):,} > {limit:,} per core on {ctx.target.name} "
            f"({over.size:,} of {n_cores:,} cores over): the partition found no mapping within "
            f"the limit: lower connectivity or use a target with larger cores",
            ctx.net.populations[blocks[0][0]].location))
    return out


def _core_blocks(mapping: Mapping, core: int) -> list[tuple[str, int, int]]:
    """(population, start, stop) of the neurons on `core`, adjacent blocks merged."""
    merged: list[tuple[str, int, int]] = []
    for k in np.flatnonzero(mapping.block_core == core):
        name, a, b = (mapping.populations[mapping.block_pop[k]], int(mapping.block_start[k]),
                      int(mapping.block_stop[k]))
        if merged and merged[-1][0] == name and merged[-1][2] == a:
            merged[-1] = (name, merged[-1][1], b)
        else:
            merged.append((name, a, b))
    return merged


RULES = (rule_delay, rule_fan_in, rule_synaptic_memory, rule_fan_out, rule_learning_memory,
         rule_core_limits, rule_cores)


def check_design_rules(net: Network, target: Target, mapping: Mapping,
                       costs: PopulationCosts) -> list[Diagnostic]:
    """Every violation of every rule, in rule order."""
    ctx = DrcContext(net, target, costs, mapping, count_pairs(net, mapping))
    return [d for rule in RULES for d in rule(ctx)]

