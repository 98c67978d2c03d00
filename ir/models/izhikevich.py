"""The Izhikevich (2004) neuron (DESIGN §2, docs/design.md §2.6): its parameters, and its float
step in numpy, the reference every float backend is tested against (tests/oracle.py)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from .lif import decay_fraction
from .params import Param, per_neuron, same_values


@dataclass(frozen=True, kw_only=True, eq=False)
class Izhikevich:
    """Izhikevich, "Which model to use for cortical spiking neurons?" (IEEE TNN 2004), with the
    coefficients of its Fig. 1 script made parameters. Units are the paper's: mV, ms, and a
    dimensionless current to which synaptic input and injected currents add.

    di = 1 - exp(-dt/tau_syn) (1 for tau_syn 0: i holds only this step's input)
    i[t] = i[t-1]·(1-di) + a[t]
    I    = (i[t] + bias) + c[t]                   c: the injected current, if any
    v'   = v + dt·(((((k0·(v·v)) + (k1·v)) + k2) - u) + I)
    u'   = u + (dt·a)·((b·(v' - v_b)) - (g·u))
    s[t] = v' > v_peak;  where s[t]: v = c, u = u' + d;  elsewhere v = v', u = u'
    v[-1] = v_init, u[-1] = u_init (default b·v_init), i[-1] = 0.
    """

    kind: ClassVar[str] = "izhikevich"
    is_source: ClassVar[bool] = False
    STATE: ClassVar[tuple[str, ...]] = ("v", "u", "i")
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("a", "number", doc="time scale of the recovery variable u (1/ms)"),
        Param("b", "number", doc="sensitivity of u to v"),
        Param("c", "number", doc="v after a spike (mV)"),
        Param("d", "number", doc="added to u after a spike"),
        Param("k0", "number", 0.04, doc="coefficient of v² in dv/dt"),
        Param("k1", "number", 5.0, doc="coefficient of v in dv/dt"),
        Param("k2", "number", 140.0, doc="constant term of dv/dt"),
        Param("v_b", "number", 0.0, doc="u relaxes towards b·(v - v_b)"),
        Param("g", "number", 1.0, doc="coefficient of u in du/dt"),
        Param("v_peak", "number", 30.0, doc="spike when v' > v_peak (mV); above c"),
        Param("tau_syn", "tau", 0.0, allow_zero=True, doc="synaptic current time constant (ms); "
              "0: i holds only this step's input"),
        Param("bias", "number", 0.0, per_neuron=True, doc="constant current added to I"),
        Param("v_init", "number", -65.0, per_neuron=True, doc="v before step 0 (mV)"),
        Param("u_init", "number", None, per_neuron=True, doc="u before step 0; default b·v_init"),
    )
    a: float
    b: float
    c: float
    d: float
    k0: float = 0.04
    k1: float = 5.0
    k2: float = 140.0
    v_b: float = 0.0
    g: float = 1.0
    v_peak: float = 30.0
    tau_syn: float = 0.0
    bias: float | np.ndarray = 0.0
    v_init: float | np.ndarray = -65.0
    u_init: float | np.ndarray | None = None

    spiking: ClassVar[bool] = True

    def features(self) -> dict[str, str]:
        """No optional feature of its own (the driver adds "current")."""
        return {}

    TIE_STATE: ClassVar[tuple[str, ...]] = ("v",)

    def threshold_gap(self, state: dict[str, np.ndarray]) -> np.ndarray:
        """v' − v_peak from the probed v of a step that did not spike (v = v' then)."""
        return state["v"] - self.v_peak

    def problems(self) -> list[tuple[str, str]]:
        """Ranges that single-parameter checks cannot see: (parameter, message)."""
        if not self.v_peak > self.c:
            return [("v_peak", f"must be above c ({self.c:g}), got {self.v_peak:g}: a neuron "
                               f"reset to c would be above its own spike threshold")]
        return []

    def di(self, dt: float) -> float:
        """Fraction of i lost per step."""
        return decay_fraction(dt, self.tau_syn)

    def initial_u(self, size: int) -> np.ndarray:
        """u before step 0, one per neuron: u_init, or b·v_init."""
        if self.u_init is None:
            return self.b * per_neuron(self.v_init, size)
        return per_neuron(self.u_init, size).copy()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Izhikevich) and all(
            same_values(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


@dataclass
class IzhikevichState:
    """One population's float state between steps."""

    v: np.ndarray
    u: np.ndarray
    i: np.ndarray

    @staticmethod
    def initial(model: Izhikevich, size: int) -> "IzhikevichState":
        return IzhikevichState(v=per_neuron(model.v_init, size).copy(),
                               u=model.initial_u(size), i=np.zeros(size))


def izhikevich_step(model: Izhikevich, state: IzhikevichState, a: np.ndarray, t: int,
                    dt: float, current: np.ndarray | None = None) -> np.ndarray:
    """Advance `state` by one step with input `a` (and injected current `current`, one value
    per neuron, or None); return the spikes. One float operation per statement, in the
    grouping of the class docstring: the order every float backend follows."""
    state.i = state.i * (1 - model.di(dt))
    state.i = state.i + a
    drive = state.i + per_neuron(model.bias, state.v.size)
    if current is not None:
        drive = drive + current
    v, u = state.v, state.u
    q = v * v
    q = model.k0 * q
    q = q + model.k1 * v
    q = q + model.k2
    q = q - u
    q = q + drive
    q = dt * q
    v_new = v + q
    x = v_new - model.v_b
    x = model.b * x
    x = x - model.g * u
    x = (dt * model.a) * x
    u_new = u + x
    spikes = v_new > model.v_peak
    state.v = np.where(spikes, model.c, v_new)
    state.u = np.where(spikes, u_new + model.d, u_new)
    return spikes
