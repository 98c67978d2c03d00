"""Izhikevich in the emulator: a FixedIzhikevich's registers as the kernel reads them
(DESIGN §2.6, kernel.izhikevich_population).

Per population: i's decay multiplier (out of 4096, offset 1 as LIF's u), the six
coefficients as (mantissa, shift), k2, v_b, v_peak, c, d in state units, F and the two
saturation limits; per neuron: the bias (state units) and the initial v and u (i starts at 0).
"""
from __future__ import annotations

from nmcompile.ir import FixedIzhikevich

from .. import kernel
from ..lava_semantics import DECAY_UNITY, DS_OFFSET

KIND = "izhikevich"
FEATURES = frozenset({"current"})
ROWS = {"i": 0, "v": 1, "u": 2}  # kernel state row of each probe var
OVERFLOW = (("i_saturations", "i saturated"), ("v_saturations", "v saturated"),
            ("u_saturations", "u saturated"))  # counter, event; in the kernel's order
COEFFICIENTS = {"k0": (kernel.K0, kernel.K0_SHIFT), "k1": (kernel.K1, kernel.K1_SHIFT),
                "b": (kernel.B, kernel.B_SHIFT), "g": (kernel.G, kernel.G_SHIFT),
                "dt": (kernel.DT, kernel.DT_SHIFT), "dt_a": (kernel.DT_A, kernel.DT_A_SHIFT)}
STATE_UNITS = {"k2": kernel.K2, "v_b": kernel.V_B, "v_peak": kernel.V_PEAK, "c": kernel.C,
               "d": kernel.D}


class IzhikevichRegisters:
    """The registers of one Izhikevich population of `size` neurons, ready for the kernel."""

    model = kernel.IZHIKEVICH

    def __init__(self, fixed: FixedIzhikevich, size: int):
        self.fixed = fixed
        self.bias = fixed.per_neuron("bias", size)
        self.initial = {ROWS["v"]: fixed.per_neuron("v_init", size),
                        ROWS["u"]: fixed.per_neuron("u_init", size)}

    def params(self) -> dict[int, int]:
        """The population's columns of the kernel's parameter table."""
        f = self.fixed
        columns = {kernel.KEEP_U: DECAY_UNITY - (f.di + DS_OFFSET),
                   kernel.FRAC_BITS: f.frac_bits, kernel.STATE_LIMIT: f.state_limit,
                   kernel.DERIVATIVE_LIMIT: f.derivative_limit}
        for name, (mantissa, shift) in COEFFICIENTS.items():
            columns[mantissa], columns[shift] = getattr(f, name)
        for name, column in STATE_UNITS.items():
            columns[column] = getattr(f, name)
        return {column: int(value) for column, value in columns.items()}


def registers(fixed: FixedIzhikevich, size: int, has_current: bool) -> IzhikevichRegisters:
    return IzhikevichRegisters(fixed, size)
