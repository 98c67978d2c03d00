"""Izhikevich (2004) in the float emulator (DESIGN §2.6): the floats the brian2 backend gives
its NeuronGroup, computed the same way (`1 - di`, h = dt and h_a = dt·a in Python), for
kernel.izhikevich_range."""
from __future__ import annotations

from nmcompile.ir import Population
from nmcompile.ir.models import per_neuron

from .. import kernel
from . import Prepared

KIND = "izhikevich"
FEATURES = frozenset({"current"})
MODEL = kernel.IZHIKEVICH
ROWS = {"i": 0, "v": 1, "u": 2}
COEFFICIENTS = {"b": kernel.B, "c": kernel.C, "d": kernel.D, "k0": kernel.K0, "k1": kernel.K1,
                "k2": kernel.K2, "v_b": kernel.V_B, "g": kernel.G, "v_peak": kernel.V_PEAK}


def prepare(pop: Population, dt: float) -> Prepared:
    m, size = pop.model, pop.size
    floats = {column: float(getattr(m, name)) for name, column in COEFFICIENTS.items()}
    floats.update({kernel.I_KEEP: 1 - m.di(dt), kernel.H: dt, kernel.H_A: dt * m.a})
    return Prepared(floats=floats, bias=per_neuron(m.bias, size),
                    initial={ROWS["v"]: per_neuron(m.v_init, size),
                             ROWS["u"]: m.initial_u(size)})
