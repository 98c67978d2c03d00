"""The current-based LIF neuron (DESIGN §2): its parameters, and its float step in numpy, the
reference every float backend is tested against (tests/oracle.py steps networks with it)."""
from __future__ import annotations

import math
from dataclasses import dataclass
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

    def features(self) -> dict[str, str]:
        """The optional features this parameter set uses, each with how to name it to a user
        (a backend declares which it supports: backends/base.py Capabilities)."""
        return {"refractory": f"refractory {self.refractory} > 0"} if self.refractory else {}

    def du(self, dt: float) -> float:
        """Fraction of u lost per step."""
        return decay_fraction(dt, self.tau_syn)

    def dv(self, dt: float) -> float:
        """Fraction of v lost per step."""
        return decay_fraction(dt, self.tau_mem)


def decay_fraction(dt: float, tau: float) -> float:
    """1 - exp(-dt/tau), exactly 0.0 for tau = inf."""
    return 0.0 if math.isinf(tau) else 1.0 - math.exp(-dt / tau)


@dataclass
class LIFState:
    """One population's float state between steps: u, v, and the step of each neuron's last
    spike (for refractory periods)."""

    u: np.ndarray
    v: np.ndarray
    last_spike: np.ndarray

    @staticmethod
    def zeros(size: int) -> "LIFState":
        return LIFState(u=np.zeros(size), v=np.zeros(size),
                        last_spike=np.full(size, -(10 ** 9), dtype=np.int64))


def lif_step(model: LIF, state: LIFState, a: np.ndarray, t: int, dt: float) -> np.ndarray:
    """Advance `state` by step `t` with input `a`; return the spikes (boolean per neuron).

    The float operations of Lava's PyLifModelFloat (refractory = 0) and
    PyLifRefractoryModelFloat (refractory r >= 1), one by one and in their order:
        u = u·(1-du);  u = u + a
        v = v·(1-dv) + u + bias          (r = 0, left to right)
        v = v·(1-dv) + (u + bias)        (r >= 1, neurons not within r steps of their last spike)
        s = v > v_th;  v = 0 where s
    """
    du, dv = model.du(dt), model.dv(dt)
    state.u = state.u * (1 - du)
    state.u = state.u + a
    if model.refractory == 0:
        state.v = state.v * (1 - dv) + state.u + model.bias
    else:
        free = state.last_spike + model.refractory < t
        state.v[free] = state.v[free] * (1 - dv) + (state.u[free] + model.bias)
    spikes = state.v > model.v_th
    state.v[spikes] = 0.0
    state.last_spike[spikes] = t
    return spikes
