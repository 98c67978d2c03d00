"""`nmc compile`: map and check design rules, quantize, report, write the chip image.

Mapping runs before quantization so that every design-rule violation and every quantization
refusal reach the user together, in one InputError (exit code 2).
"""
from __future__ import annotations

from dataclasses import dataclass

from nmcompile.diagnostics import InputError
from nmcompile.ir import Network, QuantizedNetwork
from nmcompile.targets.schema import Target

from .blocks import Mapping
from .drc import check_design_rules
from .costs import PopulationCosts, population_costs
from .partition import partition

# quantize's own delay refusal repeats the design rule NM601 (which names the limit and a fix)
_SAME_AS_DRC = {"NM611"}


@dataclass(frozen=True, eq=False)
class Compiled:
    qnet: QuantizedNetwork
    mapping: Mapping
    costs: PopulationCosts


def compile_network(net: Network, target: Target) -> Compiled:
    """Partition, check every design rule, quantize; all violations at once as an InputError."""
    from nmcompile.passes.quantize import quantize
    costs = population_costs(net)
    mapping = partition(net, target, costs)
    problems = [d for d in check_design_rules(net, target, mapping, costs) if d.severity == "error"]
    try:
        qnet = quantize(net, target)
    except InputError as exc:
        drc_codes = {d.code for d in problems}
        problems += [d for d in exc.diagnostics
                     if not (d.code in _SAME_AS_DRC and "NM601" in drc_codes)]
        qnet = None
    if problems:
        raise InputError(problems)
    return Compiled(qnet=qnet, mapping=mapping, costs=costs)


def emulator_run(qnet: QuantizedNetwork, steps: int):
    """Spikes of the compiled network on the emulator, for the traffic and energy report."""
    from nmcompile.backends import get_backend
    result = get_backend("emulator").run(qnet, steps, options={})
    result.meta["steps"] = steps
    return result
