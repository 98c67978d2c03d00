"""Spike sources: populations whose spikes are given, not computed (realised in ir/sources.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np


@dataclass(frozen=True, kw_only=True, eq=False)
class Poisson:
    """Poisson spike source: neuron i spikes at step t when U[t, i] < rate_i·dt/1000.

    U is drawn from the network seed and the population name only, so the first T steps
    are the same whatever the run length, on every backend and machine.
    """

    kind: ClassVar[str] = "poisson"
    is_source: ClassVar[bool] = True
    rate: np.ndarray  # Hz, one per neuron

    def features(self) -> dict[str, str]:
        return {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Poisson) and np.array_equal(self.rate, other.rate)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, eq=False)
class SpikeArray:
    """Explicit spikes: neuron `neurons[k]` spikes at step `steps[k]` (sorted by step, neuron)."""

    kind: ClassVar[str] = "spike_array"
    is_source: ClassVar[bool] = True
    neurons: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def features(self) -> dict[str, str]:
        return {}

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SpikeArray) and np.array_equal(self.neurons, other.neurons)
                and np.array_equal(self.steps, other.steps))

    __hash__ = None  # type: ignore[assignment]
