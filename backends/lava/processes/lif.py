"""NmcLIF: Lava's LIF plus what Lava 0.10 lacks (docs/design.md §2.5) — refractory periods
(also in fixed point), subtract reset, non-spiking neurons and an injected current — with a
float and a bit-accurate ProcessModel. The bit-accurate one is the normative reference for
those features: nmcompile's emulator is bit-exact with it.

NmcLIF holds the Vars of Lava's LIF (per-neuron u, v, bias_mant, bias_exp; du, dv, vth), the
`refractory_period_end` of Lava's LIFRefractory, and `current`, the injected current as a
table with one row per step. A table rather than an extra InPort fed by a RingBuffer: it
costs no extra worker process, and it is read at the model's own time_step, which runs on
when a run is resumed (session.py runs in chunks), so no second clock has to stay aligned.

Steps: Lava's time_step is 1 at the first step, so docs/design.md's step t is time_step − 1
(current row t). Refractory periods as Lava's PyLifRefractoryModelFloat: a neuron spiking at
time_step T gets refractory_period_end = T + r and is free again once refractory_period_end <
time_step, i.e. it is refractory during T + 1 … T + r (r = 0: always free).
"""
from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed, AbstractPyLifModelFloat
from lava.proc.lif.process import AbstractLIF

RESETS = ("zero", "subtract")


class NmcLIF(AbstractLIF):
    """LIF neurons with refractory period, reset mode, spiking flag and injected current.

    shape: (size,); u, v: initial values (scalar or one per neuron); du, dv, vth: as Lava's
    LIF (floats for floating_pt, integer registers for fixed_pt); bias_mant, bias_exp: one per
    neuron (or scalar); refractory_period: steps ≥ 0 v is held after a spike; reset: "zero" or
    "subtract" (v − vth, in fixed point v − (vth << 6)); spiking: False never spikes (vth is
    then ignored); current: None, or (steps × size) values added to the bias at each step
    (float for floating_pt, int32 registers for fixed_pt), one row per step of the run.
    """

    def __init__(self, *, shape: tuple[int], u, v, du, dv, bias_mant, bias_exp, vth,
                 refractory_period: int = 0, reset: str = "zero", spiking: bool = True,
                 current: np.ndarray | None = None, name: str | None = None) -> None:
        super().__init__(shape=shape, u=u, v=v, du=du, dv=dv, bias_mant=bias_mant,
                         bias_exp=bias_exp, name=name, log_config=None)
        if refractory_period < 0:
            raise ValueError(f"refractory_period {refractory_period} < 0")
        if reset not in RESETS:
            raise ValueError(f"reset {reset!r}: choose from {', '.join(RESETS)}")
        if current is not None and current.shape[1:] != tuple(shape):
            raise ValueError(f"current of shape {current.shape}: need (steps, *{shape})")
        self.proc_params["refractory_period"] = int(refractory_period)
        self.proc_params["reset"] = reset
        self.proc_params["spiking"] = bool(spiking)
        self.proc_params["has_current"] = current is not None
        self.vth = Var(shape=(1,), init=vth)
        self.refractory_period_end = Var(shape=shape, init=0)
        # Lava wants a Var behind every LavaPyType of the model: without a current, one row
        # of zeros that the models never read (has_current is False).
        table = np.zeros((1, *shape)) if current is None else current
        self.current = Var(shape=table.shape, init=table)


def _read_params(model, proc_params) -> None:
    """The process parameters both models read, as attributes of `model`."""
    model.refractory_period = proc_params["refractory_period"]
    model.subtract = proc_params["reset"] == "subtract"
    model.spiking = proc_params["spiking"]
    model.has_current = proc_params["has_current"]


@implements(proc=NmcLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyNmcLifModelFloat(AbstractPyLifModelFloat):
    """The float step of nmcompile.ir.models.lif_step, operation for operation (for reset
    zero without a current: Lava's PyLifModelFloat, or PyLifRefractoryModelFloat when r ≥ 1):

        u = u·(1 − du);  u += a
        b = bias_mant, or bias_mant + current[t] (one addition)
        r = 0:  v = v·(1 − dv) + u + b                       (left to right)
        r ≥ 1:  v = v·(1 − dv) + (u + b)   where free, held elsewhere
        s = (v > vth) & free (never when not spiking);  v = 0, or v − vth, where s
    """

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    vth: float = LavaPyType(float, float)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)
    current: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        _read_params(self, proc_params)

    def run_spk(self):
        self.s_out.send(self.lif_step(self.a_in.recv()))

    def lif_step(self, a_in_data: np.ndarray) -> np.ndarray:
        """One step on this step's input: the registers updated, the spikes returned (a
        subclass sends them on more ports: reward_lif/)."""
        free = self.refractory_period_end < self.time_step
        self.u[:] = self.u * (1 - self.du)
        self.u[:] += a_in_data
        b = self.bias_mant
        if self.has_current:
            b = b + self.current[self.time_step - 1]
        if self.refractory_period == 0:
            self.v[:] = self.v * (1 - self.dv) + self.u + b
        else:
            self.v[free] = self.v[free] * (1 - self.dv) + (self.u[free] + b[free])
        spikes = (self.v > self.vth) & free & self.spiking
        self.refractory_period_end[spikes] = self.time_step + self.refractory_period
        if self.subtract:
            self.v[spikes] = self.v[spikes] - self.vth
        else:
            self.v[spikes] = 0
        return spikes


@implements(proc=NmcLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyNmcLifModelBitAcc(AbstractPyLifModelFixed):
    """Lava's PyLifModelBitAcc plus the features of docs/design.md §2.5 "Fixed-point step".

    Everything Lava computes is Lava's own code (AbstractPyLifModelFixed.scale_bias and
    subthr_dynamics), with Lava's dtypes, so every wrap happens where Lava's does: u is
    updated as in §2.3 (int64 decay product, int32 input << 6, one 24-bit wrap) and the new
    v is clip(W(D(v) + u + B)) in int32. What this model adds, per step t = time_step − 1:

        free = refractory_period_end < time_step          (before the step)
        B    = effective_bias + current[t]                 int32 + int32, wraps (W)
               (effective_bias: Lava's scale_bias, bias_mant (held as int16) << bias_exp
                in int32; B = effective_bias itself without a current)
        u, v' = Lava's subthr_dynamics with B as its bias
        v    = v' where free, the v before the step elsewhere (held while refractory)
        s    = (v > vth << 6) & free;  no spike at all when not spiking
        v    = 0 where s; subtract: v − (vth << 6) where s (≥ 1 and < v: never wraps)
        refractory_period_end = time_step + r where s

    Without refractory period, subtract reset, current and with spiking this is exactly
    PyLifModelBitAcc (free is always true), though the lowering then uses Lava's own LIF.
    """

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)
    current: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        _read_params(self, proc_params)
        self.effective_vth = 0

    def scale_threshold(self):
        """vth << 6, as PyLifModelBitAcc."""
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def run_spk(self):
        self.s_out.send(self.lif_step(self.a_in.recv()))

    def lif_step(self, a_in_data: np.ndarray) -> np.ndarray:
        """One step on this step's input: the registers updated, the spikes returned."""
        free = self.refractory_period_end < self.time_step
        self.scale_bias()
        if not self.isthrscaled:
            self.scale_threshold()
        if self.has_current:
            self.effective_bias = self.effective_bias + self.current[self.time_step - 1]
        v_before = self.v.copy()
        self.subthr_dynamics(activation_in=a_in_data)
        self.v[~free] = v_before[~free]
        spikes = (self.v > self.effective_vth) & free & self.spiking
        self.refractory_period_end[spikes] = self.time_step + self.refractory_period
        if self.subtract:
            self.v[spikes] = self.v[spikes] - self.effective_vth
        else:
            self.v[spikes] = 0
        return spikes
