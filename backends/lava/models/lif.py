"""LIF populations on Lava (docs/design.md §2.2, §2.3, §2.5): Lava's own LIF / LIFRefractory
wherever they compute what the design asks, nmcompile's NmcLIF (processes/lif.py) otherwise.

Which process a population gets:
* float: reset zero and no injected current -> Lava's LIF, or LIFRefractory when refractory
  > 0 (v_th inf is Lava's LIF with vth = inf, which never spikes); otherwise NmcLIF;
* fixed: FixedLIF.plain (no refractory period, reset zero, spiking) and no injected current
  -> Lava's LIF with PyLifModelBitAcc; otherwise NmcLIF with its bit-accurate model;
* the post population of a reward-modulated projection (docs/design.md §10.2) -> RewardLIF
  (reward_lif/): NmcLIF's registers, plus the traces the learning connection reads.
So every network without the new features runs on exactly the Lava code it ran on before.
Per-neuron bias and initial u, v are plain arrays of Lava's LIF, on either process.

Lava is imported inside the functions only (the capability check imports this module).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import LavaRule, Network, Population, QuantizedNetwork, fixed_current
from nmcompile.ir.models import per_neuron

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})


def float_process(pop: Population, net: Network, steps: int):
    """The floating_pt process of one LIF population, parameters straight from the model."""
    from lava.proc.lif.process import LIF, LIFRefractory

    from ..processes.lif import NmcLIF

    m = pop.model
    params, features = _float_params(pop, net, steps)
    if m.reset == "zero" and features["current"] is None:
        if m.refractory:
            return LIFRefractory(refractory_period=int(m.refractory), **params)
        return LIF(**params)
    return NmcLIF(**features, **params)


def fixed_process(pop: Population, qnet: QuantizedNetwork, steps: int):
    """The fixed_pt process of one LIF population: the quantized network's registers."""
    from lava.proc.lif.process import LIF

    from ..processes.lif import NmcLIF

    params, features = _fixed_params(pop, qnet, steps)
    if qnet.populations[pop.name].plain and features["current"] is None:
        return LIF(**params)
    return NmcLIF(**features, **params)


def reward_float_process(pop: Population, net: Network, steps: int, rule: LavaRule):
    """The post process of reward-modulated projections (floating_pt): RewardLIF, the same
    registers as float_process's, plus the traces y1, y2 of `rule` (time in steps)."""
    from ..reward_lif.process import RewardLIF

    params, features = _float_params(pop, net, steps)
    return RewardLIF(**_reward_traces(rule), **features, **params)


def reward_fixed_process(pop: Population, qnet: QuantizedNetwork, steps: int, rule: LavaRule):
    """The post process of reward-modulated projections (fixed_pt): RewardLIF on the quantized
    registers, the traces of `rule` in its units."""
    from ..reward_lif.process import RewardLIF

    params, features = _fixed_params(pop, qnet, steps)
    return RewardLIF(**_reward_traces(rule), **features, **params)


def _float_params(pop: Population, net: Network, steps: int) -> tuple[dict, dict]:
    """Lava LIF parameters, and NmcLIF's features, of a float population."""
    def values(value) -> np.ndarray:  # one float64 per neuron, a writable copy for Lava
        return np.array(per_neuron(value, pop.size))

    m = pop.model
    params = dict(shape=(pop.size,), du=m.du(net.dt), dv=m.dv(net.dt), vth=float(m.v_th),
                  bias_mant=values(m.bias), u=values(m.u_init), v=values(m.v_init),
                  name=pop.name)
    features = dict(bias_exp=0, refractory_period=int(m.refractory), reset=m.reset,
                    spiking=m.spiking, current=net.current(pop.name, steps))
    return params, features


def _fixed_params(pop: Population, qnet: QuantizedNetwork, steps: int) -> tuple[dict, dict]:
    """Lava LIF registers, and NmcLIF's features, of a quantized population."""
    def register(name: str) -> np.ndarray:  # one int32 per neuron
        return fixed.per_neuron(name, pop.size).astype(np.int32)

    fixed = qnet.populations[pop.name]
    params = dict(shape=(pop.size,), du=int(fixed.du), dv=int(fixed.dv), vth=int(fixed.vth),
                  bias_mant=register("bias_mant"), bias_exp=register("bias_exp"),
                  u=register("u_init"), v=register("v_init"), name=pop.name)
    features = dict(refractory_period=int(fixed.refractory), reset=fixed.reset,
                    spiking=fixed.spiking, current=fixed_current(qnet, pop.name, steps))
    return params, features


def _reward_traces(rule: LavaRule) -> dict:
    return dict(y1_tau=rule.y1_tau, y1_impulse=rule.y1_impulse, y2_tau=rule.y2_tau)


def process_models(select_tag: str) -> dict[type, type]:
    """The ProcessModel of every process class built here, for `select_tag`."""
    from lava.proc.lif import models as lava
    from lava.proc.lif.process import LIF, LIFRefractory

    from ..processes import lif as nmc
    from ..reward_lif import models as reward
    from ..reward_lif.process import RewardLIF

    if select_tag == "fixed_pt":  # fixed never builds LIFRefractory (no bit-accurate model)
        return {LIF: lava.PyLifModelBitAcc, nmc.NmcLIF: nmc.PyNmcLifModelBitAcc,
                RewardLIF: reward.PyRewardLifModelFixed}
    return {LIF: lava.PyLifModelFloat, LIFRefractory: lava.PyLifRefractoryModelFloat,
            nmc.NmcLIF: nmc.PyNmcLifModelFloat, RewardLIF: reward.PyRewardLifModelFloat}
