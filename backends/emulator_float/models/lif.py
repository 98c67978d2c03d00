"""LIF in the float emulator (DESIGN §2.2, §2.5): the floats the brian2 backend gives its
NeuronGroup, computed the same way (`1 - du` in Python, the very float Lava's `(1 - du)` is),
for kernel.lif_range. The variant (refractory period, subtract reset) is a per-population
integer; a current is the engine's; v_th inf is an ordinary threshold no v exceeds."""
from __future__ import annotations

from nmcompile.ir import Population
from nmcompile.ir.models import per_neuron

from .. import kernel
from . import Prepared

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})
MODEL = kernel.LIF
ROWS = {"u": 0, "v": 1}


def prepare(pop: Population, dt: float) -> Prepared:
    m, size = pop.model, pop.size
    return Prepared(
        floats={kernel.U_KEEP: 1 - m.du(dt), kernel.V_KEEP: 1 - m.dv(dt),
                kernel.V_TH: float(m.v_th)},
        ints={kernel.REFRACTORY: int(m.refractory), kernel.SUBTRACT: int(m.reset == "subtract")},
        bias=per_neuron(m.bias, size),
        initial={ROWS["u"]: per_neuron(m.u_init, size), ROWS["v"]: per_neuron(m.v_init, size)})
