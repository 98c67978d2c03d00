"""Float and bit-accurate models of RewardLIF. After the LIF step of NmcLIF's model (spikes
s[t]) and with r[t] the reward input received this step (the reward population's spikes of
step t − 1, each adding the reward weight), per neuron:

    float: y1 = y1·d1 + y1_impulse·s[t]                d = exp(−1/tau), 0 for tau 0
           y2 = y2·d2 + r[t]
    fixed: y1 = min(127, decay12(y1, d1) + y1_impulse·s[t])       d = round(4096·exp(−1/tau))
           y2 = clip(decay12(y2, d2) + r[t], −128, 127)           decay12(y, d) =
                                                                   sign(y)·((|y|·d) >> 12)

then sends s_out = s_out_bap = s[t], s_out_y1 = y1, s_out_y2 = y2, s_out_y3 = 0. Fixed point
uses the truncating magnitude decay of Lava's bit-accurate LIF: deterministic, no stochastic
rounding; y1 includes the spike of this very step, as a two-factor rule's y1 does. nmcompile's
other backends reproduce these traces (backends/plasticity/reward_post.py).
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.neuron import LearningNeuronModelFixed, LearningNeuronModelFloat

from nmcompile.backends.lava.processes.lif import PyNmcLifModelBitAcc, PyNmcLifModelFloat
from nmcompile.backends.lava.reward_lif.process import RewardLIF

TRACE_MIN, TRACE_MAX = -128, 127     # the 8-bit signed y ports of Lava's fixed learning neuron
DECAY_UNITY = 4096


def float_decay(tau: float) -> float:
    return float(np.exp(-1.0 / tau)) if tau > 0 else 0.0


def fixed_decay(tau: float) -> int:
    return int(round(DECAY_UNITY * np.exp(-1.0 / tau))) if tau > 0 else 0


def decay12(values: np.ndarray, decay: int) -> np.ndarray:
    """sign(y)·((|y|·decay) >> 12) in int64: the magnitude decay of Lava's bit-accurate LIF."""
    values = values.astype(np.int64)
    return np.sign(values) * ((np.abs(values) * decay) >> 12)


class PyRewardLifModelFloat(LearningNeuronModelFloat, PyNmcLifModelFloat):
    """NmcLIF's float step, then the float traces above."""

    # Lava's @implements refuses to re-point the process a parent model implements; the
    # protocol, resources and tags are PyNmcLifModelFloat's.
    implements_process = RewardLIF

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.d1 = float_decay(proc_params["y1_tau"])
        self.d2 = float_decay(proc_params["y2_tau"])
        self.impulse = proc_params["y1_impulse"]

    def run_spk(self):
        spikes = self.lif_step(self.a_in.recv())
        reward = self.a_third_factor_in.recv()
        self.y1[:] = self.y1 * self.d1 + self.impulse * spikes
        self.y2[:] = self.y2 * self.d2 + reward
        self.s_out.send(spikes)
        self.s_out_bap.send(spikes)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(np.zeros_like(self.y3))


class PyRewardLifModelFixed(LearningNeuronModelFixed, PyNmcLifModelBitAcc):
    """NmcLIF's bit-accurate step, then the integer traces above."""

    implements_process = RewardLIF  # as above; the rest is PyNmcLifModelBitAcc's

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.d1 = fixed_decay(proc_params["y1_tau"])
        self.d2 = fixed_decay(proc_params["y2_tau"])
        self.impulse = int(proc_params["y1_impulse"])

    def run_spk(self):
        spikes = self.lif_step(self.a_in.recv())
        reward = self.a_third_factor_in.recv().astype(np.int64)
        y1 = decay12(self.y1, self.d1) + self.impulse * spikes
        y2 = decay12(self.y2, self.d2) + reward
        self.y1[:] = np.minimum(y1, TRACE_MAX)
        self.y2[:] = np.clip(y2, TRACE_MIN, TRACE_MAX)
        self.s_out.send(spikes)
        self.s_out_bap.send(spikes)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(np.zeros_like(self.y3))
