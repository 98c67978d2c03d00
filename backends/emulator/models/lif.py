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

from ..kernel import MAX_UV
from ..lava_semantics import DECAY_UNITY, DS_OFFSET, VTH_SHIFT, effective_bias

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})
NEVER = MAX_UV  # v is clipped to 2^23 − 1 before the test: v > 2^23 never holds


class LifRegisters:
    """The registers of one LIF population of `size` neurons, ready for the kernel."""

    def __init__(self, fixed: FixedLIF, size: int):
        self.keep_u = DECAY_UNITY - (fixed.du + DS_OFFSET)
        self.keep_v = DECAY_UNITY - fixed.dv
        self.vth = int(fixed.vth) << VTH_SHIFT if fixed.spiking else NEVER
        self.refractory = int(fixed.refractory)
        self.subtract = int(fixed.reset == "subtract")
        self.bias = effective_bias(fixed.per_neuron("bias_mant", size),
                                   fixed.per_neuron("bias_exp", size))
        self.u_init = fixed.per_neuron("u_init", size).astype(np.int64)
        self.v_init = fixed.per_neuron("v_init", size).astype(np.int64)

    @property
    def plain(self) -> bool:
        """Lava's PyLifModelBitAcc runs it (without a current): one bias for every neuron,
        no refractory period, zero reset. The kernel's plain loop needs no more."""
        uniform_bias = bool(np.all(self.bias == self.bias[0]))
        return self.refractory == 0 and not self.subtract and uniform_bias


def registers(fixed: FixedLIF, size: int) -> LifRegisters:
    return LifRegisters(fixed, size)
