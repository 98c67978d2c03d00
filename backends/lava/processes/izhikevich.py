"""NmcIzhikevich: the Izhikevich (2004) neuron of docs/design.md §2.6 as a Lava process, with a
float model (float-exact with nmcompile.ir.models.izhikevich_step) and a fixed_pt model that
IS the normative integer Izhikevich: no chip publishes one, and nmcompile's emulator is
bit-exact with this model.

NmcIzhikevich holds per-neuron Vars v, u, i (the state, probe names), bias, and `current`,
the injected current as a table with one row per step (read at Lava's time_step − 1, as
NmcLIF does: docs/design.md's step t is time_step − 1, and time_step runs on across a
resumed run). The population's constants are process parameters, not Vars: their types
differ between the models (a float coefficient, or a (mantissa, shift) pair), and nothing
reads or writes them while a run goes on.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

FLOAT_CONSTANTS = ("keep_i", "h", "h_a", "k0", "k1", "k2", "v_b", "g", "b", "c", "d", "v_peak")
FIXED_CONSTANTS = ("frac_bits", "di", "k0", "k1", "b", "g", "dt", "dt_a", "k2", "v_b", "v_peak",
                   "c", "d", "state_limit", "derivative_limit")


class NmcIzhikevich(AbstractProcess):
    """Izhikevich neurons (docs/design.md §2.6).

    shape: (size,); v, u: initial values and bias, one per neuron or a scalar (floats for
    floating_pt, state registers for fixed_pt; i starts at 0); current: None, or (steps ×
    size) values added to the drive at each step (float, or int32 registers for fixed_pt);
    constants: the population's constants, for floating_pt the floats FLOAT_CONSTANTS
    (keep_i = 1 − di, h = dt, h_a = dt·a, then the model's parameters), for fixed_pt the
    registers FIXED_CONSTANTS of an nmcompile.ir.FixedIzhikevich (k0, k1, b, g, dt, dt_a as
    (mantissa, shift) pairs, the others ints). The model that runs checks they are all there.
    """

    def __init__(self, *, shape: tuple[int], v, u, bias, constants: Mapping[str, object],
                 current: np.ndarray | None = None, name: str | None = None) -> None:
        super().__init__(shape=shape, name=name)
        if current is not None and current.shape[1:] != tuple(shape):
            raise ValueError(f"current of shape {current.shape}: need (steps, *{shape})")
        self.proc_params["constants"] = dict(constants)
        self.proc_params["has_current"] = current is not None
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.v = Var(shape=shape, init=v)
        self.u = Var(shape=shape, init=u)
        self.i = Var(shape=shape, init=0)
        self.bias = Var(shape=shape, init=bias)
        # Lava wants a Var behind every LavaPyType of the model: without a current, one row
        # of zeros that the models never read (has_current is False).
        table = np.zeros((1, *shape)) if current is None else current
        self.current = Var(shape=table.shape, init=table)


def _constants(proc_params, names: tuple[str, ...]) -> dict:
    """The process constants a model needs, refused by name when one is missing."""
    given = proc_params["constants"]
    missing = [n for n in names if n not in given]
    if missing:
        raise ValueError(f"NmcIzhikevich constants lack {', '.join(missing)}")
    return {n: given[n] for n in names}


@implements(proc=NmcIzhikevich, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyNmcIzhikevichModelFloat(PyLoihiProcessModel):
    """The float step of nmcompile.ir.models.izhikevich_step (docs/design.md §2.6), one float
    operation per statement in its order, so the two agree bit for bit:

        i = i·keep_i;  i = i + a
        I = i + bias;  I = I + current[t]           (the second only with a current)
        q = v·v;  q = k0·q;  q = q + k1·v;  q = q + k2;  q = q − u;  q = q + I;  q = h·q
        v' = v + q
        x = v' − v_b;  x = b·x;  x = x − g·u;  x = h_a·x
        u' = u + x
        s = v' > v_peak;  v = c, u = u' + d where s;  v = v', u = u' elsewhere
    """

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    u: np.ndarray = LavaPyType(np.ndarray, float)
    i: np.ndarray = LavaPyType(np.ndarray, float)
    bias: np.ndarray = LavaPyType(np.ndarray, float)
    current: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.has_current = proc_params["has_current"]
        self.constants = _constants(proc_params, FLOAT_CONSTANTS)

    def run_spk(self):
        k = self.constants
        a_in_data = self.a_in.recv()
        self.i[:] = self.i * k["keep_i"]
        self.i[:] = self.i + a_in_data
        drive = self.i + self.bias
        if self.has_current:
            drive = drive + self.current[self.time_step - 1]
        v, u = self.v, self.u
        q = v * v
        q = k["k0"] * q
        q = q + k["k1"] * v
        q = q + k["k2"]
        q = q - u
        q = q + drive
        q = k["h"] * q
        v_new = v + q
        x = v_new - k["v_b"]
        x = k["b"] * x
        x = x - k["g"] * u
        x = k["h_a"] * x
        u_new = u + x
        spikes = v_new > k["v_peak"]
        self.v[:] = np.where(spikes, k["c"], v_new)
        self.u[:] = np.where(spikes, u_new + k["d"], u_new)
        self.s_out.send(spikes)


# --- fixed point: the integer operations of docs/design.md §2.6, on int64 numpy arrays ---

def round_shift(product: np.ndarray, shift: int) -> np.ndarray:
    """(product + 2^(shift−1)) >> shift, an arithmetic (flooring) shift: round to nearest,
    ties up; the product itself when shift is 0."""
    if shift == 0:
        return product
    return (product + (1 << (shift - 1))) >> shift


def times(x: np.ndarray, coefficient: tuple[int, int]) -> np.ndarray:
    """M(x, (m, r)) = round_shift(x·m, r): x times the coefficient m / 2^r, in state units."""
    mantissa, shift = coefficient
    return round_shift(x * mantissa, shift)


def decayed(x: np.ndarray, keep: int) -> np.ndarray:
    """D(x, k) = sign(x)·(|x|·k >> 12): x keeps k/4096 of itself, truncated toward zero (as
    Lava's LIF decays u)."""
    return np.sign(x) * ((np.abs(x) * keep) >> 12)


def saturated(x: np.ndarray, limit: int) -> np.ndarray:
    """x clipped to ±limit."""
    return np.clip(x, -limit, limit)


@implements(proc=NmcIzhikevich, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyNmcIzhikevichModelFixed(PyLoihiProcessModel):
    """The integer Izhikevich of docs/design.md §2.6: the normative reference.

    Registers (FixedIzhikevich): v, u, i, bias, current, k2, v_b, v_peak, c, d in state units
    (value · 2^F, F = frac_bits); k0, k1, b, g, dt, dt_a as (mantissa m, shift r);
    L = state_limit, LD = derivative_limit; keep = 4096 − (di + 1). v, u, i are stored as
    int32 between steps; each step computes in int64 numpy arrays (no intermediate
    overflows int64 for |v|, |u|, |i| ≤ 2^23 and |m| < 2^15), with

        M(x, (m, r)) = (x·m + 2^(r−1)) >> r   (r ≥ 1; x·m for r = 0; >> arithmetic: floor)
        D(x, k)      = sign(x)·((|x|·k) >> 12)                      (truncation toward zero)
        sat_X(x)     = clip(x, −X, X)

    in this order, per neuron (a = the summed projection input as Lava's ports deliver it:
    int32, the ports' contributions added in int32, i.e. wrapped to 32 bits; t = time_step − 1):

        i  = sat_L( D(i, keep) + (a << 6) )
        I  = i + bias + current[t]                          (+ current only with one)
        T  = sat_LD( M(M(v, (v, F)), k0) + M(v, k1) + k2 − u + I )
        v' = sat_L( v + M(T, dt) )
        u' = sat_L( u + M(M(v' − v_b, b) − M(u, g), dt_a) )
        s  = v' > v_peak
        v  = c, u = sat_L(u' + d)  where s;   v = v', u = u'  elsewhere

    a << 6 is taken in int64 (no 32-bit wrap there, unlike LIF's u). M(v, (v, F)) is v² in
    state units, (v·v + 2^(F−1)) >> F. T and u' use u before the step. Sums of int64 are
    exact, so their order does not matter. lava-fixed counts no overflow.
    """

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=32)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    v: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    u: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    i: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    bias: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)
    current: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.has_current = proc_params["has_current"]
        self.reg = _constants(proc_params, FIXED_CONSTANTS)
        self.keep_i = 4096 - (int(self.reg["di"]) + 1)

    def run_spk(self):
        reg, limit = self.reg, self.reg["state_limit"]
        a = self.a_in.recv().astype(np.int64)
        v, u = self.v.astype(np.int64), self.u.astype(np.int64)
        i = saturated(decayed(self.i.astype(np.int64), self.keep_i) + (a << 6), limit)
        drive = i + self.bias.astype(np.int64)
        if self.has_current:
            drive = drive + self.current[self.time_step - 1].astype(np.int64)
        square = round_shift(v * v, reg["frac_bits"])
        derivative = saturated(times(square, reg["k0"]) + times(v, reg["k1"]) + reg["k2"]
                               - u + drive, reg["derivative_limit"])
        v_new = saturated(v + times(derivative, reg["dt"]), limit)
        recovery = times(times(v_new - reg["v_b"], reg["b"]) - times(u, reg["g"]), reg["dt_a"])
        u_new = saturated(u + recovery, limit)
        spikes = v_new > reg["v_peak"]
        self.i[:] = i
        self.v[:] = np.where(spikes, reg["c"], v_new)
        self.u[:] = np.where(spikes, saturated(u_new + reg["d"], limit), u_new)
        self.s_out.send(spikes)
