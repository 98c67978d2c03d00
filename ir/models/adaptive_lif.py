"""The adaptive-threshold LIF of Lava (ATRLIF; DESIGN §2, docs/design.md §2.7): its parameters,
and its float step in numpy, the reference every float backend is tested against."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from .lif import decay_fraction
from .params import Param, per_neuron, same_values


@dataclass(frozen=True, kw_only=True, eq=False)
class AdaptiveLIF:
    """Lava's ATRLIF (lava/proc/atrlif): a LIF whose threshold rises by theta_step at each
    spike and relaxes back to theta_0, with a relative refractory term r that a spike raises by
    twice the threshold. There is no reset of v: r does the work of one.

    di, dv, dtheta, dr = 1 - exp(-dt/tau) of tau_syn (0 allowed: 1), tau_mem, tau_theta, tau_r
    i[t]     = (1-di)·i[t-1] + a[t]
    v[t]     = (1-dv)·v[t-1] + i[t] + b[t]         b[t] = bias, or (bias + c[t]) with a current
    theta[t] = (1-dtheta)·(theta[t-1] - theta_0) + theta_0
    r[t]     = (1-dr)·r[t-1]
    s[t]     = (v[t] - r[t]) >= theta[t]
    where s[t]: r[t] = r[t] + 2·theta[t], then theta[t] = theta[t] + theta_step
    i[-1] = v[-1] = r[-1] = 0, theta[-1] = theta_0.
    """

    kind: ClassVar[str] = "adaptive_lif"
    is_source: ClassVar[bool] = False
    STATE: ClassVar[tuple[str, ...]] = ("i", "v", "theta", "r")
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("tau_syn", "tau", allow_zero=True, doc="synaptic current time constant (ms); 0: "
              "i holds only this step's input"),
        Param("tau_mem", "tau", doc="membrane time constant (ms)"),
        Param("tau_theta", "tau", doc="time constant of the threshold's return to theta_0 (ms)"),
        Param("tau_r", "tau", doc="time constant of the refractory term r (ms)"),
        Param("theta_0", "threshold", doc="resting threshold, > 0"),
        Param("theta_step", "number", doc="threshold increase per spike, ≥ 0"),
        Param("bias", "number", 0.0, per_neuron=True, doc="constant input added to v each step"),
    )
    tau_syn: float
    tau_mem: float
    tau_theta: float
    tau_r: float
    theta_0: float
    theta_step: float
    bias: float | np.ndarray = 0.0

    spiking: ClassVar[bool] = True

    def features(self) -> dict[str, str]:
        """No optional feature of its own (the driver adds "current")."""
        return {}

    TIE_STATE: ClassVar[tuple[str, ...]] = ("v", "r", "theta")

    def threshold_gap(self, state: dict[str, np.ndarray]) -> np.ndarray:
        """(v − r) − theta from the probed state of a step that did not spike."""
        return (state["v"] - state["r"]) - state["theta"]

    def problems(self) -> list[tuple[str, str]]:
        """Ranges that single-parameter checks cannot see: (parameter, message)."""
        out = []
        if self.theta_0 == float("inf"):
            out.append(("theta_0", "must be finite: an adaptive neuron with an infinite "
                                   "threshold never spikes (use lif with v_th: .inf)"))
        if not self.theta_step >= 0:
            out.append(("theta_step", f"must be ≥ 0, got {self.theta_step:g}"))
        return out

    def decays(self, dt: float) -> tuple[float, float, float, float]:
        """(di, dv, dtheta, dr): the fractions lost per step, as Lava's delta_* take them."""
        return tuple(decay_fraction(dt, tau) for tau in
                     (self.tau_syn, self.tau_mem, self.tau_theta, self.tau_r))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AdaptiveLIF) and all(
            same_values(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


@dataclass
class AdaptiveLIFState:
    """One population's float state between steps."""

    i: np.ndarray
    v: np.ndarray
    theta: np.ndarray
    r: np.ndarray

    @staticmethod
    def initial(model: AdaptiveLIF, size: int) -> "AdaptiveLIFState":
        return AdaptiveLIFState(i=np.zeros(size), v=np.zeros(size),
                                theta=np.full(size, float(model.theta_0)), r=np.zeros(size))


def adaptive_lif_step(model: AdaptiveLIF, state: AdaptiveLIFState, a: np.ndarray, t: int,
                      dt: float, current: np.ndarray | None = None) -> np.ndarray:
    """Advance `state` by one step; return the spikes. The float operations of Lava's
    PyATRLIFModelFloat in its order ((1 - delta) computed as Lava does, each step)."""
    di, dv, dtheta, dr = model.decays(dt)
    b = per_neuron(model.bias, state.v.size)
    if current is not None:
        b = b + current
    state.i = (1 - di) * state.i + a
    state.v = (1 - dv) * state.v + state.i + b
    state.theta = (1 - dtheta) * (state.theta - model.theta_0) + model.theta_0
    state.r = (1 - dr) * state.r
    spikes = (state.v - state.r) >= state.theta
    state.r[spikes] = state.r[spikes] + 2 * state.theta[spikes]
    state.theta[spikes] = state.theta[spikes] + model.theta_step
    return spikes
