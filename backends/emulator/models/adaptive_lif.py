"""Adaptive LIF in the emulator: a FixedAdaptiveLIF's registers as Lava's PyATRLIFModelFixed
reads them (DESIGN §2.7, kernel.adaptive_population).

Lava takes each decay as delta = register / 4096 and keeps (4096 − delta · 4096) of v, θ and
r, (4096 − (delta · 4096 + 1)) of i: the multipliers below, exactly (delta · 4096 is the
register again in float64). θ_0 and θ_step are used as np.int32(register · 2^6), and θ starts
at θ_0 · 2^6 whatever its initial value; i, v and r start at 0.
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import FixedAdaptiveLIF

from .. import kernel
from ..lava_semantics import DECAY_UNITY, DS_OFFSET, VTH_SHIFT, effective_bias

KIND = "adaptive_lif"
FEATURES = frozenset({"current"})
ROWS = {"i": 0, "v": 1, "theta": 2, "r": 3}  # kernel state row of each probe var
OVERFLOW = (("i_wraps", "i wrapped"), ("v_saturations", "v saturated"))  # counter, event


def threshold_register(mantissa: int) -> int:
    """np.int32(mantissa · 2^6), as Lava's scale_threshold."""
    return int(np.array(int(mantissa) << VTH_SHIFT, np.int64).astype(np.int32))


class AdaptiveRegisters:
    """The registers of one adaptive LIF population of `size` neurons, ready for the kernel."""

    model = kernel.ADAPTIVE_LIF

    def __init__(self, fixed: FixedAdaptiveLIF, size: int):
        self.fixed = fixed
        self.bias = effective_bias(fixed.per_neuron("bias_mant", size),
                                   fixed.per_neuron("bias_exp", size))
        self.initial = {ROWS["theta"]: np.full(size, threshold_register(fixed.theta_0))}

    def params(self) -> dict[int, int]:
        """The population's columns of the kernel's parameter table."""
        f = self.fixed
        return {kernel.KEEP_U: DECAY_UNITY - (int(f.di) + DS_OFFSET),
                kernel.KEEP_V: DECAY_UNITY - int(f.dv),
                kernel.KEEP_THETA: DECAY_UNITY - int(f.dtheta),
                kernel.KEEP_R: DECAY_UNITY - int(f.dr),
                kernel.THETA_0: threshold_register(f.theta_0),
                kernel.THETA_STEP: threshold_register(f.theta_step)}


def registers(fixed: FixedAdaptiveLIF, size: int, has_current: bool) -> AdaptiveRegisters:
    return AdaptiveRegisters(fixed, size)
