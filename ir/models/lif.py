"""The current-based LIF neuron (DESIGN §2): its parameters, and its float step in numpy, the
reference every float backend is tested against (tests/oracle.py steps networks with it)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from .params import Param, per_neuron, same_values

RESETS = ("zero", "subtract")


@dataclass(frozen=True, kw_only=True, eq=False)
class LIF:
    """Current-based leaky integrate-and-fire neuron, Loihi style (DESIGN §2).

    du = 1 - exp(-dt/tau_syn) (1 for tau_syn 0), dv = 1 - exp(-dt/tau_mem) (0 for tau inf)
    u[t] = u[t-1]·(1-du) + a[t]
    v[t] = v[t-1]·(1-dv) + u[t] + b[t]          b[t] = bias, or (bias + c[t]) with a current
    v[t] = v[t-1]·(1-dv) + (u[t] + b[t])        refractory ≥ 1, when not refractory;
                                                v is held while refractory (r steps after a spike)
    s[t] = v[t] > v_th (and not refractory);  v_th = inf never spikes (a leaky integrator)
    v[t] = 0 where s[t]   (reset: subtract -> v[t] = v[t] - v_th)
    u[-1] = u_init, v[-1] = v_init.  bias, u_init, v_init: one value, or one per neuron.
    """

    kind: ClassVar[str] = "lif"
    is_source: ClassVar[bool] = False
    STATE: ClassVar[tuple[str, ...]] = ("u", "v")
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("tau_syn", "tau", allow_zero=True, doc="synaptic current time constant (ms); 0: u "
              "holds only this step's input; .inf: no decay"),
        Param("tau_mem", "tau", doc="membrane time constant (ms); .inf: no leak"),
        Param("v_th", "threshold", doc="threshold, v > v_th spikes; .inf: never spikes"),
        Param("bias", "number", 0.0, per_neuron=True, doc="constant input added to v each step"),
        Param("refractory", "steps", 0, doc="steps after a spike during which v is held"),
        Param("reset", "choice", "zero", choices=RESETS, doc="v after a spike: zero, or "
              "subtract (v - v_th)"),
        Param("v_init", "number", 0.0, per_neuron=True, doc="v before step 0"),
        Param("u_init", "number", 0.0, per_neuron=True, doc="u before step 0"),
    )
    tau_syn: float
    tau_mem: float
    v_th: float
    bias: float | np.ndarray = 0.0
    refractory: int = 0
    reset: str = "zero"
    v_init: float | np.ndarray = 0.0
    u_init: float | np.ndarray = 0.0

    def features(self) -> dict[str, str]:
        """The optional features this parameter set uses, each with how to name it to a user
        (a backend declares which it supports: backends/base.py Capabilities)."""
        used = {}
        if self.refractory:
            used["refractory"] = f"refractory {self.refractory} > 0"
        if self.reset == "subtract":
            used["reset_subtract"] = "reset: subtract"
        if math.isinf(self.v_th):
            used["non_spiking"] = "v_th: .inf (a non-spiking neuron)"
        return used

    TIE_STATE: ClassVar[tuple[str, ...]] = ("v",)

    def threshold_gap(self, state: dict[str, np.ndarray]) -> np.ndarray:
        """The tested quantity minus its threshold, from the probed state of a step that did
        not spike (parity judges float ties by it: DESIGN §3)."""
        return state["v"] - self.v_th

    def problems(self) -> list[tuple[str, str]]:
        """Ranges that single-parameter checks cannot see: none for LIF."""
        return []

    @property
    def spiking(self) -> bool:
        return math.isfinite(self.v_th)

    def du(self, dt: float) -> float:
        """Fraction of u lost per step."""
        return decay_fraction(dt, self.tau_syn)

    def dv(self, dt: float) -> float:
        """Fraction of v lost per step."""
        return decay_fraction(dt, self.tau_mem)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LIF) and all(
            same_values(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


def decay_fraction(dt: float, tau: float) -> float:
    """1 - exp(-dt/tau): exactly 0.0 for tau = inf, exactly 1.0 for tau = 0."""
    if tau == 0:
        return 1.0
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

    @staticmethod
    def initial(model: LIF, size: int) -> "LIFState":
        """The state before step 0: u_init, v_init, no spike yet."""
        state = LIFState.zeros(size)
        state.u[:] = per_neuron(model.u_init, size)
        state.v[:] = per_neuron(model.v_init, size)
        return state


def lif_step(model: LIF, state: LIFState, a: np.ndarray, t: int, dt: float,
             current: np.ndarray | None = None) -> np.ndarray:
    """Advance `state` by step `t` with input `a` (and injected current `current`, one value per
    neuron, or None); return the spikes (boolean per neuron).

    The float operations of Lava's PyLifModelFloat (refractory = 0) and
    PyLifRefractoryModelFloat (refractory r >= 1), one by one and in their order:
        u = u·(1-du);  u = u + a
        b = bias  or  b = bias + c                       (with an injected current)
        v = v·(1-dv) + u + b          (r = 0, left to right)
        v = v·(1-dv) + (u + b)        (r >= 1, neurons not within r steps of their last spike)
        s = v > v_th (not refractory);  v = 0 (or v - v_th) where s
    """
    du, dv = model.du(dt), model.dv(dt)
    state.u = state.u * (1 - du)
    state.u = state.u + a
    b = per_neuron(model.bias, state.v.size)
    if current is not None:
        b = b + current
    if model.refractory == 0:
        free = np.ones(state.v.size, dtype=bool)
        state.v = state.v * (1 - dv) + state.u + b
    else:
        free = state.last_spike + model.refractory < t
        state.v[free] = state.v[free] * (1 - dv) + (state.u[free] + b[free])
    spikes = (state.v > model.v_th) & free
    if model.reset == "subtract":
        state.v[spikes] = state.v[spikes] - model.v_th
    else:
        state.v[spikes] = 0.0
    state.last_spike[spikes] = t
    return spikes
