"""LIF populations on Lava (docs/design.md §2.2, §2.3, §2.5): Lava's own LIF / LIFRefractory
wherever they compute what the design asks, nmcompile's NmcLIF (processes/lif.py) otherwise.

Which process a population gets:
* float: reset zero and no injected current -> Lava's LIF, or LIFRefractory when refractory
  > 0 (v_th inf is Lava's LIF with vth = inf, which never spikes); otherwise NmcLIF;
* fixed: FixedLIF.plain (no refractory period, reset zero, spiking) and no injected current
  -> Lava's LIF with PyLifModelBitAcc; otherwise NmcLIF with its bit-accurate model.
So every network without the new features runs on exactly the Lava code it ran on before.
Per-neuron bias and initial u, v are plain arrays of Lava's LIF, on either process.

Lava is imported inside the functions only (the capability check imports this module).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import Network, Population, QuantizedNetwork, fixed_current
from nmcompile.ir.models import per_neuron

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})


def float_process(pop: Population, net: Network, steps: int):
    """The floating_pt process of one LIF population, parameters straight from the model."""
    from lava.proc.lif.process import LIF, LIFRefractory

    from ..processes.lif import NmcLIF

    def values(value) -> np.ndarray:  # one float64 per neuron, a writable copy for Lava
        return np.array(per_neuron(value, pop.size))

    m = pop.model
    current = net.current(pop.name, steps)
    params = dict(shape=(pop.size,), du=m.du(net.dt), dv=m.dv(net.dt), vth=float(m.v_th),
                  bias_mant=values(m.bias), u=values(m.u_init), v=values(m.v_init),
                  name=pop.name)
    if m.reset == "zero" and current is None:
        if m.refractory:
            return LIFRefractory(refractory_period=int(m.refractory), **params)
        return LIF(**params)
    return NmcLIF(bias_exp=0, refractory_period=int(m.refractory), reset=m.reset,
                  spiking=m.spiking, current=current, **params)


def fixed_process(pop: Population, qnet: QuantizedNetwork, steps: int):
    """The fixed_pt process of one LIF population: the quantized network's registers."""
    from lava.proc.lif.process import LIF

    from ..processes.lif import NmcLIF

    def register(name: str) -> np.ndarray:  # one int32 per neuron
        return fixed.per_neuron(name, pop.size).astype(np.int32)

    fixed = qnet.populations[pop.name]
    current = fixed_current(qnet, pop.name, steps)
    params = dict(shape=(pop.size,), du=int(fixed.du), dv=int(fixed.dv), vth=int(fixed.vth),
                  bias_mant=register("bias_mant"), bias_exp=register("bias_exp"),
                  u=register("u_init"), v=register("v_init"), name=pop.name)
    if fixed.plain and current is None:
        return LIF(**params)
    return NmcLIF(refractory_period=int(fixed.refractory), reset=fixed.reset,
                  spiking=fixed.spiking, current=current, **params)


def process_models(select_tag: str) -> dict[type, type]:
    """The ProcessModel of every process class built here, for `select_tag`."""
    from lava.proc.lif import models as lava
    from lava.proc.lif.process import LIF, LIFRefractory

    from ..processes import lif as nmc

    if select_tag == "fixed_pt":  # fixed never builds LIFRefractory (no bit-accurate model)
        return {LIF: lava.PyLifModelBitAcc, nmc.NmcLIF: nmc.PyNmcLifModelBitAcc}
    return {LIF: lava.PyLifModelFloat, LIFRefractory: lava.PyLifRefractoryModelFloat,
            nmc.NmcLIF: nmc.PyNmcLifModelFloat}
