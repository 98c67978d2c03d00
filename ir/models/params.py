"""How a neuron model declares its parameters, so that front ends read and check them without
knowing the model: each model class lists `PARAMS`, and the model-file loader, the builder and
save_model follow that list (adding a model edits no front end)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REQUIRED = object()  # the default of a parameter that must be given


@dataclass(frozen=True)
class Param:
    """One parameter of a neuron model.

    kind: "tau"        a time constant in ms: > 0 or .inf (with allow_zero, also 0)
          "threshold"  a number > 0 or .inf
          "number"     any finite number
          "steps"      an integer number of steps ≥ 0
          "choice"     one of `choices`
    per_neuron: the value may also be a list (one per neuron) or a distribution
                ({uniform: [lo, hi]} or {normal: [mean, std]}) drawn once at load time.
    """

    name: str
    kind: str
    default: object = REQUIRED
    per_neuron: bool = False
    allow_zero: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def per_neuron(value: float | np.ndarray, size: int) -> np.ndarray:
    """A scalar-or-array parameter as one float64 per neuron."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,))


def same_values(a: object, b: object) -> bool:
    """Equality of two parameter values that may be scalars or arrays (NaN-free by validation)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    return a == b
