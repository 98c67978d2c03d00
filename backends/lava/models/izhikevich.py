"""Izhikevich populations on Lava (docs/design.md §2.6): nmcompile's own NmcIzhikevich
(processes/izhikevich.py) on both backends, Lava having no Izhikevich process. Its float
model is float-exact with nmcompile.ir.models.izhikevich_step; its fixed_pt model is the
normative integer Izhikevich, run on the registers of a FixedIzhikevich.

Lava is imported inside the functions only (the capability check imports this module).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import Network, Population, QuantizedNetwork, fixed_current
from nmcompile.ir.models import per_neuron

KIND = "izhikevich"
FEATURES = frozenset({"current"})


def float_process(pop: Population, net: Network, steps: int):
    """The floating_pt process of one Izhikevich population, parameters straight from the
    model: h = dt, h_a = dt·a and keep_i = 1 − di, each formed once as izhikevich_step does."""
    from ..processes.izhikevich import NmcIzhikevich

    m = pop.model
    constants = dict(keep_i=1 - m.di(net.dt), h=float(net.dt), h_a=float(net.dt * m.a),
                     **{name: float(getattr(m, name)) for name in
                        ("k0", "k1", "k2", "v_b", "g", "b", "c", "d", "v_peak")})
    return NmcIzhikevich(shape=(pop.size,), v=np.array(per_neuron(m.v_init, pop.size)),
                         u=m.initial_u(pop.size), bias=np.array(per_neuron(m.bias, pop.size)),
                         constants=constants, current=net.current(pop.name, steps),
                         name=pop.name)


def fixed_process(pop: Population, qnet: QuantizedNetwork, steps: int):
    """The fixed_pt process of one Izhikevich population: the FixedIzhikevich registers."""
    from ..processes.izhikevich import FIXED_CONSTANTS, NmcIzhikevich

    fixed = qnet.populations[pop.name]

    def register(name: str) -> np.ndarray:  # one int32 per neuron
        return fixed.per_neuron(name, pop.size).astype(np.int32)

    def plain(value):  # Python ints for the worker: (mantissa, shift) pairs stay pairs
        return tuple(int(x) for x in value) if np.ndim(value) else int(value)

    constants = {name: plain(getattr(fixed, name)) for name in FIXED_CONSTANTS}
    return NmcIzhikevich(shape=(pop.size,), v=register("v_init"), u=register("u_init"),
                         bias=register("bias"), constants=constants,
                         current=fixed_current(qnet, pop.name, steps), name=pop.name)


def process_models(select_tag: str) -> dict[type, type]:
    """The ProcessModel of NmcIzhikevich for `select_tag`."""
    from ..processes import izhikevich as nmc

    model = (nmc.PyNmcIzhikevichModelFixed if select_tag == "fixed_pt"
             else nmc.PyNmcIzhikevichModelFloat)
    return {nmc.NmcIzhikevich: model}
