"""Adaptive LIF populations on Lava (docs/design.md §2.7): Lava's own ATRLIF process with its
PyATRLIFModelFloat / PyATRLIFModelFixed, which are normative; nmcompile's NmcATRLIF
(processes/adaptive_lif.py) only for a population with an injected current.

Lava's decays are fractions `delta` on both models. Float: delta = 1 − exp(−dt/tau), from
AdaptiveLIF.decays. Fixed: delta = register / 4096 (FixedAdaptiveLIF). Lava's fixed model forms
delta·4096 (+ 1 for i) and 4096 minus that in float64, exact for a 12-bit register, so i
keeps 4096 − (di + 1) and v, theta, r keep 4096 − d out of 4096, as integers: i's decay
multiplies the int32 i by that float (|i·k| < 2^43, exact in float64) and truncates it back
to int64; the others convert it to int64 first. theta_0 and theta_step are the threshold
mantissas (Lava shifts them left by 6 once, and starts theta at theta_0 << 6 whatever it
holds: the Var is given that value).

Lava is imported inside the functions only (the capability check imports this module).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import Network, Population, QuantizedNetwork, fixed_current
from nmcompile.ir.models import per_neuron

KIND = "adaptive_lif"
FEATURES = frozenset({"current"})
DECAY_UNITY = 4096       # Lava's fixed model: delta · 2^12 is the decay register
THRESHOLD_SHIFT = 6      # Lava's fixed model: theta_0 and theta_step are used << 6


def float_process(pop: Population, net: Network, steps: int):
    """The floating_pt process of one adaptive LIF population, parameters from the model."""
    from lava.proc.atrlif.process import ATRLIF

    from ..processes.adaptive_lif import NmcATRLIF

    m = pop.model
    di, dv, dtheta, dr = m.decays(net.dt)
    params = dict(shape=(pop.size,), delta_i=di, delta_v=dv, delta_theta=dtheta, delta_r=dr,
                  theta=float(m.theta_0), theta_0=float(m.theta_0),
                  theta_step=float(m.theta_step), bias_mant=np.array(per_neuron(m.bias, pop.size)),
                  name=pop.name)
    current = net.current(pop.name, steps)
    if current is None:
        return ATRLIF(**params)
    return NmcATRLIF(current=current, **params)


def fixed_process(pop: Population, qnet: QuantizedNetwork, steps: int):
    """The fixed_pt process of one adaptive LIF population: the FixedAdaptiveLIF registers."""
    from lava.proc.atrlif.process import ATRLIF

    from ..processes.adaptive_lif import NmcATRLIF

    fixed = qnet.populations[pop.name]

    def register(name: str) -> np.ndarray:  # one int32 per neuron
        return fixed.per_neuron(name, pop.size).astype(np.int32)

    params = dict(shape=(pop.size,), delta_i=int(fixed.di) / DECAY_UNITY,
                  delta_v=int(fixed.dv) / DECAY_UNITY, delta_theta=int(fixed.dtheta) / DECAY_UNITY,
                  delta_r=int(fixed.dr) / DECAY_UNITY,
                  theta=int(fixed.theta_0) << THRESHOLD_SHIFT, theta_0=int(fixed.theta_0),
                  theta_step=int(fixed.theta_step), bias_mant=register("bias_mant"),
                  bias_exp=register("bias_exp"), name=pop.name)
    current = fixed_current(qnet, pop.name, steps)
    if current is None:
        return ATRLIF(**params)
    return NmcATRLIF(current=current, **params)


def process_models(select_tag: str) -> dict[type, type]:
    """The ProcessModel of every process class built here, for `select_tag`."""
    from lava.proc.atrlif import models as lava
    from lava.proc.atrlif.process import ATRLIF

    from ..processes import adaptive_lif as nmc

    if select_tag == "fixed_pt":
        return {ATRLIF: lava.PyATRLIFModelFixed, nmc.NmcATRLIF: nmc.PyNmcATRLIFModelFixed}
    return {ATRLIF: lava.PyATRLIFModelFloat, nmc.NmcATRLIF: nmc.PyNmcATRLIFModelFloat}
