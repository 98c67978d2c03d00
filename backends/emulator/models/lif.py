"""LIF in the emulator: a FixedLIF's registers as the kernel reads them (DESIGN §2.3, §2.5).

Per population: decay multipliers (out of 4096), the threshold as compared (vth << 6), the
refractory period and the reset; per neuron: the effective bias (bias_mant << bias_exp) and
the initial u and v. The kernel's hot loop then costs a plain population nothing for the
variants: a non-spiking population gets a threshold no 24-bit v exceeds instead of a test,
and per-neuron biases, refractory counters and current rows are read only for populations
that have them (kernel.variant_population; the others run the plain loop of run_steps).
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import FixedLIF

from .. import kernel
from ..lava_semantics import DECAY_UNITY, DS_OFFSET, VTH_SHIFT, effective_bias

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})
ROWS = {"u": 0, "v": 1}  # kernel state row of each probe var
OVERFLOW = (("u_wraps", "u wrapped"), ("v_saturations", "v saturated"))  # counter, event
NEVER = kernel.MAX_UV  # v is clipped to 2^23 − 1 before the test: v > 2^23 never holds


class LifRegisters:
    """The registers of one LIF population of `size` neurons, ready for the kernel."""

    def __init__(self, fixed: FixedLIF, size: int, has_current: bool = False):
        self.keep_u = DECAY_UNITY - (fixed.du + DS_OFFSET)
        self.keep_v = DECAY_UNITY - fixed.dv
        self.vth = int(fixed.vth) << VTH_SHIFT if fixed.spiking else NEVER
        self.refractory = int(fixed.refractory)
        self.subtract = int(fixed.reset == "subtract")
        self.has_current = has_current
        self.bias = effective_bias(fixed.per_neuron("bias_mant", size),
                                   fixed.per_neuron("bias_exp", size))
        self.initial = {ROWS["u"]: fixed.per_neuron("u_init", size),
                        ROWS["v"]: fixed.per_neuron("v_init", size)}

    @property
    def plain(self) -> bool:
        """Lava's PyLifModelBitAcc runs it: one bias for every neuron, no refractory period,
        zero reset, no current. The kernel's plain loop needs no more."""
        uniform_bias = bool(np.all(self.bias == self.bias[0]))
        return (self.refractory == 0 and not self.subtract and uniform_bias
                and not self.has_current)

    @property
    def model(self) -> int:
        return kernel.LIF_PLAIN if self.plain else kernel.LIF_VARIANT

    def params(self) -> dict[int, int]:
        """The population's columns of the kernel's parameter table."""
        return {kernel.KEEP_U: self.keep_u, kernel.KEEP_V: self.keep_v, kernel.VTH: self.vth,
                kernel.BIAS: int(self.bias[0]), kernel.REFRACTORY: self.refractory,
                kernel.SUBTRACT: self.subtract}


def registers(fixed: FixedLIF, size: int, has_current: bool) -> LifRegisters:
    return LifRegisters(fixed, size, has_current)
