"""Adaptive LIF (Lava's ATRLIF) in the float emulator (DESIGN §2.7): the floats the brian2
backend gives its NeuronGroup (each keep = 1 - delta in Python), for kernel.adaptive_range.
i, v and r start at 0, theta at theta_0."""
from __future__ import annotations

import numpy as np

from nmcompile.ir import Population
from nmcompile.ir.models import per_neuron

from .. import kernel
from . import Prepared

KIND = "adaptive_lif"
FEATURES = frozenset({"current"})
MODEL = kernel.ADAPTIVE_LIF
ROWS = {"i": 0, "v": 1, "theta": 2, "r": 3}
KEEPS = (kernel.I_KEEP, kernel.V_KEEP, kernel.THETA_KEEP, kernel.R_KEEP)  # of model.decays(dt)


def prepare(pop: Population, dt: float) -> Prepared:
    m, size = pop.model, pop.size
    floats = {column: 1 - delta for column, delta in zip(KEEPS, m.decays(dt))}
    floats.update({kernel.THETA_0: float(m.theta_0), kernel.THETA_STEP: float(m.theta_step)})
    return Prepared(floats=floats, bias=per_neuron(m.bias, size),
                    initial={ROWS["theta"]: np.full(size, float(m.theta_0))})
