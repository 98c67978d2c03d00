"""Injected currents (DESIGN §2): time-varying input added to a population's bias, realised
here once into one float64 per step (and per neuron), so every backend adds the very same
numbers. The model-file `currents:` section and the builder's `current()` produce these."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .location import Location

KINDS = ("steps", "ramp", "file")


@dataclass(frozen=True, kw_only=True, eq=False)
class Current:
    """One injected current into `neurons` of `population` (None: every neuron).

    kind "steps": points (k × 2: step, value), piecewise constant, the value from that step on;
    kind "ramp":  points, piecewise linear between them, constant after the last;
    before the first point both are 0.
    kind "file":  values, shape (n_steps,) or (n_steps, len(neurons)); 0 after its end.
    """

    population: str
    kind: str
    neurons: np.ndarray | None = None          # int64 indices, distinct, sorted as given
    points: np.ndarray | None = None           # (k, 2) float64, steps strictly increasing
    values: np.ndarray | None = None           # float64
    source: str | None = None                  # the file a "file" current was read from
    location: Location = field(default_factory=Location, compare=False)

    def realise(self, steps: int) -> np.ndarray:
        """The current at steps 0 … steps-1: shape (steps,) or (steps, len(neurons))."""
        if self.kind == "file":
            out = np.zeros((steps,) + self.values.shape[1:])
            n = min(steps, self.values.shape[0])
            out[:n] = self.values[:n]
            return out
        t = np.arange(steps, dtype=np.float64)
        at, value = self.points[:, 0], self.points[:, 1]
        k = np.searchsorted(at, t, side="right") - 1   # the last point at or before t
        out = np.zeros(steps)
        started = k >= 0
        out[started] = value[k[started]]
        if self.kind == "ramp":
            inner = started & (k < len(at) - 1)
            k0 = k[inner]
            # v0 + (v1 - v0)·(t - t0)/(t1 - t0), in this order on every backend (one place)
            out[inner] = value[k0] + (value[k0 + 1] - value[k0]) * (t[inner] - at[k0]) \
                / (at[k0 + 1] - at[k0])
        return out

    def __eq__(self, other: object) -> bool:
        def same(a, b):
            return (a is None and b is None) or (a is not None and b is not None
                                                 and np.array_equal(a, b))
        return (isinstance(other, Current) and (self.population, self.kind)
                == (other.population, other.kind) and same(self.neurons, other.neurons)
                and same(self.points, other.points) and same(self.values, other.values))

    __hash__ = None  # type: ignore[assignment]


def population_current(currents, population: str, size: int, steps: int) -> np.ndarray | None:
    """c_ext of one population, (steps × size) float64: its currents summed in the order they
    are listed (starting from 0.0, so one current is taken exactly); None if it has none."""
    mine = [c for c in currents if c.population == population]
    if not mine:
        return None
    total = np.zeros((steps, size))
    for c in mine:
        values = c.realise(steps)
        if c.neurons is None:
            total += values[:, None] if values.ndim == 1 else values
        else:
            total[:, c.neurons] += values[:, None] if values.ndim == 1 else values
    return total
