"""Neuron models and spike sources: one small frozen dataclass each, equations in the docstring."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np


@dataclass(frozen=True, kw_only=True)
class LIF:
    """Current-based leaky integrate-and-fire neuron, Loihi style (DESIGN §2).

    du = 1 - exp(-dt/tau_syn), dv = 1 - exp(-dt/tau_mem) (0 when tau is inf)
    u[t] = u[t-1]·(1-du) + a[t]
    v[t] = v[t-1]·(1-dv) + u[t] + bias       (refractory: (u[t] + bias) grouped, v held at 0)
    s[t] = v[t] > v_th;  v[t] = 0 where s[t]
    """

    kind: ClassVar[str] = "lif"
    is_source: ClassVar[bool] = False
    tau_syn: float
    tau_mem: float
    v_th: float
    bias: float = 0.0
    refractory: int = 0

    def du(self, dt: float) -> float:
        """Fraction of u lost per step."""
        return decay_fraction(dt, self.tau_syn)

    def dv(self, dt: float) -> float:
        """Fraction of v lost per step."""
        return decay_fraction(dt, self.tau_mem)


def decay_fraction(dt: float, tau: float) -> float:
    """1 - exp(-dt/tau), exactly 0.0 for tau = inf."""
    return 0.0 if math.isinf(tau) else 1.0 - math.exp(-dt / tau)


@dataclass(frozen=True, kw_only=True, eq=False)
class Poisson:
    """Poisson spike source: neuron i spikes at step t when U[t, i] < rate_i·dt/1000.

    U is drawn from the network seed and the population name only, so the first T steps
    are the same whatever the run length, on every backend and machine.
    """

    kind: ClassVar[str] = "poisson"
    is_source: ClassVar[bool] = True
    rate: np.ndarray  # Hz, one per neuron

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

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, SpikeArray) and np.array_equal(self.neurons, other.neurons)
                and np.array_equal(self.steps, other.steps))

    __hash__ = None  # type: ignore[assignment]


NeuronModel = LIF | Poisson | SpikeArray
MODELS: dict[str, type] = {m.kind: m for m in (LIF, Poisson, SpikeArray)}
