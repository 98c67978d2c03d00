"""Quantization pass: a float network -> the integer network of one target (DESIGN §2.4 – §2.7).

Register semantics are Lava's bit-accurate models (loihi numerics: LIF, ATRLIF), with
nmcompile's own additions for the LIF variants and its own fixed-point Izhikevich: u (i)
decays by (du + 1)/4096, v by dv/4096; input and threshold are shifted left by 6; bias =
bias_mant << bias_exp; a projection adds (Σ mantissas of spiking synapses) << weight_exp.

This module is the driver: it refuses what the target cannot run at all (a delay beyond it,
a neuron model it has no numerics for), hands each neuron population to the module of its
model kind (a module of this package declaring `KIND`, found by scanning the package: lif.py
for "lif", izhikevich.py, adaptive_lif.py; adding a model adds a module and edits nothing
here) and then quantizes every projection with the scale its post population chose
(projections.py) and, for a plastic one, its learning rule (learning.py). What was lost is
collected in report.py. Every refusal of every population is listed at once.
"""
from __future__ import annotations

import pkgutil
from dataclasses import replace
from functools import cache
from importlib import import_module
from types import ModuleType

import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import FixedNeurons, FixedProjection, Network, Projection, QuantizedNetwork
from nmcompile.passes.quantize.learning import quantize_learning
from nmcompile.passes.quantize.projections import quantize_projection
from nmcompile.passes.quantize.report import QuantReport
from nmcompile.targets.schema import Numerics, Target


def quantize(net: Network, target: Target | str) -> QuantizedNetwork:
    """Lower every neuron population and projection of `net` to the integers of `target`."""
    from nmcompile.targets import load_target
    target = load_target(target)
    num = target.numerics
    _refuse_inexpressible(net, target)
    report = QuantReport(target=target.name)
    fixed_pops: dict[str, FixedNeurons] = {}
    refusals = []
    with np.errstate(over="ignore"):  # extreme models overflow to inf on purpose: handled below
        for pop in net.neuron_populations():
            module = model_modules()[pop.model.kind]
            try:
                fixed_pops[pop.name] = module.quantize_population(pop, net, num, report)
            except InputError as exc:
                refusals += exc.diagnostics
        if refusals:
            raise InputError(refusals)
        fixed_projs = tuple(_projection(p, fixed_pops[p.post].scale, net, num, report)
                            for p in net.projections)
    return QuantizedNetwork(network=net, target=target.name, populations=fixed_pops,
                            projections=fixed_projs, report=report)


def _projection(proj: Projection, scale: float, net: Network, num: Numerics,
                report: QuantReport) -> FixedProjection:
    """Weights, and a plastic projection's learning rule in mantissa units."""
    fixed = quantize_projection(proj, scale, num, report)
    if not proj.plastic:
        return fixed
    return replace(fixed, learning=quantize_learning(proj, fixed, scale, net, num, report))


@cache
def model_modules() -> dict[str, ModuleType]:
    """Model kind -> the module of this package that quantizes populations of that model
    (`quantize_population(pop, net, numerics, report)`)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = import_module(f"{__name__}.{info.name}")
        if hasattr(module, "KIND"):
            found[module.KIND] = module
    return found


def _refuse_inexpressible(net: Network, target: Target) -> None:
    """What the target's integer semantics cannot run at all (the loader already guarantees
    finite weights and neuron posts): a neuron model without numerics on the target, a delay
    beyond the target's (on `nmc run` this is the only check of the target's own max_delay;
    `nmc compile` also has the design rule)."""
    from nmcompile.targets import list_targets
    num = target.numerics
    errors = []
    for pop in net.neuron_populations():
        kind = pop.model.kind
        if kind not in num.models():
            others = [t.name for t in list_targets() if kind in t.numerics.models()]
            errors.append(Diagnostic(
                "error", "NM612", f"population {pop.name}: target {target.name} cannot run "
                f"model {kind} (it runs {', '.join(num.models())}: its numerics have no {kind} "
                f"block); built-in targets that run it: {', '.join(others) or 'none'}",
                pop.location))
    for proj in net.projections:
        if proj.n_synapses and int(proj.delay.max()) > num.max_delay:
            errors.append(Diagnostic(
                "error", "NM611", f"projection {proj.name}: delay {int(proj.delay.max())} > "
                f"{num.max_delay}, the longest delay of the target", proj.location))
    if errors:
        raise InputError(errors)
