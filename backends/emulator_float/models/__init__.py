"""The float emulator's model modules (backends/registry.py): each gives the kernel one neuron
model's parameters and initial state as float64 arrays, and names the features of that model
the float emulator runs (every feature the brian2 backend runs: it is the reference).

Besides KIND and FEATURES, a module declares

    MODEL                               the kernel's code of the model (kernel.LIF, ...)
    ROWS                                {state variable: row of the kernel's state table}
    prepare(pop, dt) -> Prepared        the population's parameters and initial state
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nmcompile.backends.registry import ModelRegistry

REGISTRY = ModelRegistry(__name__)


@dataclass
class Prepared:
    """One population as the kernel reads it: columns of the per-population parameter tables
    (`floats`: kernel.U_KEEP ..., `ints`: kernel.REFRACTORY ...), the per-neuron bias, and the
    initial value of each state row it does not start at 0."""

    floats: dict[int, float]
    bias: np.ndarray
    initial: dict[int, np.ndarray]
    ints: dict[int, int] = field(default_factory=dict)
