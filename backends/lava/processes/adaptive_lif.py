"""NmcATRLIF: Lava's ATRLIF (adaptive threshold and refractoriness LIF, lava.proc.atrlif) plus
an injected current, the one thing docs/design.md §2.7 adds to it. Without a current the
lowering runs Lava's own ATRLIF process and models; these models are Lava's with the bias
of each step replaced by bias + current[t], and nothing else changed.

The current is a Var with one row per step, read at Lava's time_step − 1 (docs/design.md's
step t), as NmcLIF reads its own: time_step runs on across a resumed run.
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.variable import Var
from lava.proc.atrlif.models import PyATRLIFModelFixed, PyATRLIFModelFloat
from lava.proc.atrlif.process import ATRLIF


class NmcATRLIF(ATRLIF):
    """ATRLIF neurons with an injected current: ATRLIF's parameters, plus `current`, (steps ×
    size) values added to the bias at each step (float for floating_pt, int32 registers in
    the units of the effective bias for fixed_pt)."""

    def __init__(self, *, current: np.ndarray, **atrlif_params) -> None:
        super().__init__(**atrlif_params)
        shape = tuple(atrlif_params["shape"])
        if current.ndim != 1 + len(shape) or current.shape[1:] != shape:
            raise ValueError(f"current of shape {current.shape}: need (steps, *{shape})")
        self.current = Var(shape=current.shape, init=current)


class PyNmcATRLIFModelFloat(PyATRLIFModelFloat):
    """Lava's PyATRLIFModelFloat with b = bias_mant + current[t] (one float addition) in place
    of bias_mant (docs/design.md §2.7); every other operation is Lava's, in its order:

        i = (1 − delta_i)·i + a
        v = (1 − delta_v)·v + i + b                            (left to right)
        theta = (1 − delta_theta)·(theta − theta_0) + theta_0
        r = (1 − delta_r)·r
        s = (v − r) >= theta;  r = r + 2·theta, theta = theta + theta_step where s
    """

    # Lava's @implements refuses to re-point the process a parent model implements.
    implements_process = NmcATRLIF
    current: np.ndarray = LavaPyType(np.ndarray, float)

    def subthr_dynamics(self, activation_in: np.ndarray):
        b = self.bias_mant + self.current[self.time_step - 1]
        self.i[:] = (1 - self.delta_i) * self.i + activation_in
        self.v[:] = (1 - self.delta_v) * self.v + self.i + b
        self.theta[:] = (1 - self.delta_theta) * (self.theta - self.theta_0) + self.theta_0
        self.r[:] = (1 - self.delta_r) * self.r


class PyNmcATRLIFModelFixed(PyATRLIFModelFixed):
    """Lava's PyATRLIFModelFixed with the effective bias of step t = time_step − 1 being

        B = W(bias_mant << bias_exp  +  current[t])       int32 + int32, wrapped to 32 bits

    (Lava's scale_bias, then the current added in int32), which Lava's own subthr_dynamics
    then adds to v in place of the bias: v = clip(W(D(v) + i + B), ±(2^23 − 1)). Everything
    else is Lava's code, quirks included (docs/design.md §2.7).
    """

    # Lava's @implements refuses to re-point the process a parent model implements.
    implements_process = NmcATRLIF
    current: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def scale_bias(self):
        super().scale_bias()
        self.effective_bias = self.effective_bias + self.current[self.time_step - 1]
