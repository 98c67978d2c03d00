"""Izhikevich population -> FixedIzhikevich registers (DESIGN §2.6, "Quantization").

Registers. v, u, i and every value held in state units (k2, v_b, v_peak, c, d, bias, v_init,
u_init, the injected current) are rint(value · 2^F), F the population's frac_bits; k0, k1, b,
g, dt and dt·a are (mantissa m, shift r) with m = rint(value · 2^r) a signed coefficient_bits
integer and r ∈ [0, 30] the largest at which |m| fits (the most precise form); a coefficient
that does not fit even at r = 0 is refused (NM613). i takes input as LIF's u: di is LIF's du,
with Lava's offset 1 (tau_syn 0: i keeps nothing, exactly; tau_syn inf cannot be held: NM605).
A register equal for every neuron is kept as one int.

F is the largest integer in 0 … 30 at which every worst case below, times 2^F, stays within
its register: the state limit L = 2^(state_bits−1) − 1 for v (and v' before the reset), u
(and u' + d), i, I = i + bias + c, k2, v_b, v_peak, c, d, bias, v_init, u_init and the
current's largest magnitude; the derivative limit 2^(derivative_bits−1) − 1 for dv/dt; and,
as for LIF's scale, every incoming projection's largest weight within its mantissa at the
target's largest weight exponent. No F ≥ 0 -> refused (NM615), naming what does not fit.

Worst cases, model units, honestly:

* i and I = i + bias + c (bounds of the integer semantics, whose decay truncates toward
  zero): with every excitatory input every step, forever, i ≤ A·4096/(di + 1), A the
  largest input one step brings (the sum of a neuron's positive weights; the same below with
  the negative ones); I adds the bias and the current's extreme values (0 counted only where
  a current is 0 at some step: before its first point, after the end of a file). F is chosen
  with the model's weights, then these bounds are taken again with the weights as quantized
  at F (rounding adds up to half a mantissa step per synapse) and F is lowered while they
  pass L; the report gives the latter.
* v, u and dv/dt (an ESTIMATE, not a proof): the equations are quadratic in v, and for a < 0
  (patterns S and T of the paper) or g = 0 (pattern R) u is not even contracting on its own,
  so no closed form bounds them for every parameter set; a bound that ignores the coupling of
  v and u either fails or is so loose that it wastes most of the register. So they are
  estimated in two parts:
  1. the envelope (smallest and largest values) of the float reference step from the
     population's extreme initial values (v_init, u_init) under each constant drive I_lo,
     (I_lo + I_hi)/2 and I_hi, for the network's steps (at least MIN_HORIZON, at most
     MAX_HORIZON, or until a block of BLOCK steps no longer widens it), v' before the reset
     and u' + d after it included; then again from the end state of every trajectory under
     every drive, up to MAX_PASSES times while the envelope grows, so that attractors the
     initial state does not reach under one constant drive are seen too (the tonic spiking
     of a bistable neuron, pattern P, that a pulse starts). Only reachable states are
     started from: the corners of an envelope are not (for a < 0 some of them even escape
     to infinity, which no run from the initial state does);
  2. one more step from anywhere in that envelope, under any drive in [I_lo, I_hi], by
     interval arithmetic: v' = v + dt·(k0·v² + k1·v) + dt·(k2 − u + I), whose quadratic part
     has an exact range over an interval, dv/dt = k0·v² + k1·v + k2 − u + I, and u' =
     (1 − dt·a·g)·u + dt·a·b·(v' − v_b), plus d where v' can pass v_peak. This covers a drive
     that jumps between its extremes (a rebound after inhibition, say).
  The three estimates then get one bit of margin (ENVELOPE_MARGIN) for what constant drives
  cannot show (a drive that alternates in the neuron's own rhythm, a run longer than the
  horizon). Should the float dynamics diverge within the horizon, v, u and dv/dt are
  unbounded: F comes from the other values alone and a warning (NM604) says v and u can
  saturate. Whatever happens, the emulator counts every saturation of i, v (or dv/dt) and u
  (`meta["overflow"]`, and `--strict` stops at the first).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import FixedIzhikevich, Izhikevich, Network, Population
from nmcompile.ir.models import per_neuron
from nmcompile.passes.quantize.report import Coefficient, IzhikevichReport, QuantReport
from nmcompile.passes.quantize.shared import (compact, current_range, current_rounding,
                                              decay_register, incoming_register_sums,
                                              incoming_sums, max_error,
                                              realised_tau, uniform, warn,
                                              weight_scale_limits)
from nmcompile.targets.schema import IzhikevichNumerics, Numerics

KIND = "izhikevich"
MAX_FRAC_BITS = 30      # as a coefficient's shift: beyond it no state would fit anyway
MAX_SHIFT = 30
MIN_HORIZON = 2000      # steps simulated at least: ten times u's time scale 1/a = 50 ms at
MAX_HORIZON = 20000     # a = 0.02, dt = 0.25 ms; at most, to keep compiling fast
ENVELOPE_MARGIN = 2.0   # one bit for what the estimate of v, u and dv/dt cannot see
BLOCK = 256             # steps of the envelope between two reductions
MAX_PASSES = 3          # envelopes from the end states of the previous one, while it grows
SETTLED = 2.0 ** -20    # a block of steps that widens the envelope by less has settled
HELD = ("k2", "v_b", "v_peak", "c", "d")  # scalar parameters held in state units


@dataclass(frozen=True)
class Worst:
    """Worst-case magnitudes in model units (inf: unbounded) and the drive range."""

    v: float
    u: float
    derivative: float
    i: float
    drive: float
    drive_range: tuple[float, float]


def quantize_population(pop: Population, net: Network, num: Numerics,
                        report: QuantReport) -> FixedIzhikevich:
    m: Izhikevich = pop.model
    fmt: IzhikevichNumerics = num.izhikevich
    limit = 2 ** (fmt.state_bits - 1) - 1
    derivative_limit = 2 ** (fmt.derivative_bits - 1) - 1
    di = decay_register(m.di(net.dt), 1)  # as LIF's du: Lava's ds_offset = 1
    values = {"k0": m.k0, "k1": m.k1, "b": m.b, "g": m.g, "dt": net.dt, "dt_a": net.dt * m.a}
    coefficients = {name: coefficient(values[name], fmt.coefficient_bits) for name in values}
    bias = per_neuron(m.bias, pop.size)
    v_init, u_init = per_neuron(m.v_init, pop.size), m.initial_u(pop.size)
    c_low, c_high = current_range(pop, net)
    worst = _worst(pop, net, di, bias, c_low, c_high, v_init, u_init)
    frac_bits, what = _frac_bits(pop, net, num, fmt, worst, {
        **{f"{name} = {getattr(m, name):.4g}": abs(getattr(m, name)) for name in HELD},
        **{f"|{name}| up to {value:.4g}": value for name, value in (
            ("bias", _largest(bias)), ("v_init", _largest(v_init)), ("u_init", _largest(u_init)),
            ("the current", float(np.max(np.maximum(-c_low, c_high), initial=0.0))))}})
    inputs = _input_registers(pop, net, num, frac_bits, di, bias, c_low, c_high)
    while frac_bits >= 0 and max(inputs) > limit:  # weights rounded up past the state limit
        frac_bits, what = frac_bits - 1, f"|i| up to {inputs[0] / 2.0 ** frac_bits:.4g}"
        inputs = _input_registers(pop, net, num, frac_bits, di, bias, c_low, c_high)
    _refuse(pop, fmt, values, coefficients, frac_bits, what)
    scale = 2.0 ** frac_bits
    held = {name: int(np.rint(getattr(m, name) * scale)) for name in HELD}
    bias_reg, v_reg, u_reg = (np.rint(x * scale).astype(np.int64) for x in (bias, v_init, u_init))
    current_error, current_sat = current_rounding(pop, net, scale, limit)
    rep = IzhikevichReport(
        name=pop.name, frac_bits=frac_bits, di=di,
        tau_syn=(m.tau_syn, realised_tau(1 - (di + 1) / 4096, net.dt)),
        coefficients={name: Coefficient(requested=values[name], realised=mant / 2.0 ** shift,
                                        mantissa=mant, shift=shift)
                      for name, (mant, shift) in coefficients.items()},
        rounding={**{name: abs(held[name] / scale - getattr(m, name)) for name in HELD},
                  "bias": max_error(bias_reg / scale, bias),
                  "v_init": max_error(v_reg / scale, v_init),
                  "u_init": max_error(u_reg / scale, u_init)},
        bias=((float(bias[0]), float(bias_reg[0] / scale)) if uniform(bias) is not None
              else None),
        current_error=current_error, current_saturated=current_sat,
        state_limit=limit, derivative_limit=derivative_limit,
        worst={"v": worst.v * scale, "u": worst.u * scale, "i": inputs[0], "I": inputs[1],
               "T": worst.derivative * scale})
    report.populations.append(rep)
    _warnings(pop, rep, worst, report)
    return FixedIzhikevich(frac_bits=frac_bits, di=di, **coefficients, **held,
                           bias=compact(bias_reg), v_init=compact(v_reg), u_init=compact(u_reg),
                           state_limit=limit, derivative_limit=derivative_limit)


def coefficient(value: float, bits: int) -> tuple[int, int] | None:
    """(mantissa, shift): the largest shift in 0 … 30 at which rint(value · 2^shift) fits a
    signed `bits` integer, i.e. the most precise form; None if it does not fit at shift 0."""
    top = 2 ** (bits - 1) - 1
    for shift in range(MAX_SHIFT, -1, -1):
        mantissa = np.rint(value * 2.0 ** shift)
        if abs(mantissa) <= top:
            return int(mantissa), shift
    return None


def _refuse(pop: Population, fmt: IzhikevichNumerics, values: dict[str, float],
            coefficients: dict[str, tuple[int, int] | None], frac_bits: int, what: str) -> None:
    """Every coefficient that does not fit (NM613) and a state that does not fit at F = 0
    (NM615), listed at once."""
    top = 2 ** (fmt.coefficient_bits - 1) - 1
    errors = [Diagnostic(
        "error", "NM613", f"population {pop.name}: {'dt·a' if name == 'dt_a' else name} = "
        f"{values[name]:g} does not fit the target's {fmt.coefficient_bits}-bit coefficient "
        f"mantissas (largest ±{top}): change the model's units or the time step", pop.location)
        for name, value in coefficients.items() if value is None]
    if frac_bits < 0:
        errors.append(Diagnostic(
            "error", "NM615", f"population {pop.name}: izhikevich values do not fit the "
            f"target's {fmt.state_bits}-bit state registers (±{2 ** (fmt.state_bits - 1) - 1}; "
            f"dv/dt ±{2 ** (fmt.derivative_bits - 1) - 1}) even at 1 register unit per model "
            f"unit: {what} needs {-frac_bits} more bit(s); scale the model's units down",
            pop.location))
    if errors:
        raise InputError(errors)


def _input_registers(pop: Population, net: Network, num: Numerics, frac_bits: int, di: int,
                     bias: np.ndarray, c_low: np.ndarray, c_high: np.ndarray
                     ) -> tuple[float, float]:
    """Worst-case |i| and |I| in register units at F = frac_bits from the registers
    themselves (weights as rounded, bias and current registers): bounds of the integer
    semantics, whose decay truncates toward zero."""
    scale = 2.0 ** frac_bits
    pos, neg = incoming_register_sums(pop, net, scale, num)
    i_pos, i_neg = pos * 4096 / (di + 1), neg * 4096 / (di + 1)
    held = np.rint(bias * scale)
    high = i_pos + held + np.ceil(c_high * scale)
    low = -i_neg + held + np.floor(c_low * scale)
    return (float(np.max(np.maximum(i_pos, i_neg))),
            float(max(np.max(high), -np.min(low), 0.0)))


def _largest(values: np.ndarray) -> float:
    return float(np.max(np.abs(values), initial=0.0))


def _worst(pop: Population, net: Network, di: int, bias: np.ndarray, c_low: np.ndarray,
           c_high: np.ndarray, v_init: np.ndarray, u_init: np.ndarray) -> Worst:
    """The worst cases of the module docstring, before the margin."""
    pos, neg = incoming_sums(pop, net)
    i_pos, i_neg = pos * 4096 / (di + 1), neg * 4096 / (di + 1)
    low = float(np.min(bias + c_low - i_neg))
    high = float(np.max(bias + c_high + i_pos))
    m: Izhikevich = pop.model
    horizon = min(max(net.steps, MIN_HORIZON), MAX_HORIZON)
    drives = (low, (low + high) / 2, high)
    starts = {(float(v0), float(u0)) for v0 in (v_init.min(), v_init.max())
              for u0 in (u_init.min(), u_init.max())}
    box = None
    for _ in range(MAX_PASSES):
        found = _envelope(m, net.dt, drives, starts, horizon)
        if found is None:
            box = None
            break
        *ranges, starts = found  # the next pass switches each end state to every drive
        grown = ranges if box is None else _union(box, ranges)
        if grown == box:
            break
        box = grown
    if box is None:
        v = u = derivative = math.inf
    else:
        stored, before, u_range, derivative = box
        step_v, step_u, step_t = _one_step(m, net.dt, stored, u_range, (low, high))
        v = max(map(abs, (*stored, *before, *step_v)))
        u = max(map(abs, (*u_range, *step_u)))
        derivative = max(derivative, *map(abs, step_t))
    return Worst(v=v, u=u, derivative=derivative, i=float(np.max(np.maximum(i_pos, i_neg))),
                 drive=max(abs(low), abs(high)), drive_range=(low, high))


def _union(a: list, b: list) -> list:
    """Two envelopes as one: the ranges' union, the larger |dv/dt|."""
    return [[min(x[0], y[0]), max(x[1], y[1])] for x, y in zip(a[:3], b[:3])] + [max(a[3], b[3])]


def _envelope(m: Izhikevich, dt: float, drives: tuple[float, ...],
              starts: set[tuple[float, float]], steps: int):
    """Over `steps` float reference steps from each start (v, u) under each constant drive:
    the range of the stored v (after the reset; the starts included), the range of v'
    (before it), the range of u (starts, u' and u' + d), the largest |dv/dt| and the set of
    end states; None when the dynamics diverge. Values are kept per block of steps and
    reduced once per block (numpy calls on a dozen numbers cost their overhead, not their
    work); a block that widens no range by more than SETTLED (relative) ends the simulation
    early: every trajectory has reached what it keeps repeating."""
    trajectories = [(v0, u0, drive) for v0, u0 in sorted(starts) for drive in sorted(set(drives))]
    v, u, drive = (np.array(x, np.float64) for x in zip(*trajectories))
    seen = {name: np.empty((BLOCK, v.size)) for name in ("stored", "before", "u", "reset", "q")}
    ranges = {"stored": [v.min(), v.max()], "before": [v.min(), v.max()],
              "u": [u.min(), u.max()], "reset": [u.min(), u.max()], "q": [0.0, 0.0]}
    dt_a = dt * m.a
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, steps, BLOCK):
            rows = min(BLOCK, steps - start)
            for row in range(rows):
                # the float operations of ir.models.izhikevich_step, in its order
                q = v * v
                q = m.k0 * q
                q = q + m.k1 * v
                q = q + m.k2
                q = q - u
                q = q + drive
                v_new = v + dt * q
                x = v_new - m.v_b
                x = m.b * x
                x = x - m.g * u
                u_new = u + dt_a * x
                spikes = v_new > m.v_peak
                v = np.where(spikes, m.c, v_new)
                u = np.where(spikes, u_new + m.d, u_new)
                seen["stored"][row], seen["before"][row] = v, v_new
                seen["u"][row], seen["reset"][row], seen["q"][row] = u_new, u, q
            if not all(np.isfinite(values[:rows]).all() for values in seen.values()):
                return None
            grew = False
            for name, values in seen.items():
                block = values[:rows]
                low, high = float(block.min()), float(block.max())
                old = ranges[name]
                room = SETTLED * max(1.0, abs(old[0]), abs(old[1]))
                grew |= not (low >= old[0] - room and high <= old[1] + room)
                ranges[name] = [min(old[0], low), max(old[1], high)]
            if not grew:
                break
    u_range = [min(ranges["u"][0], ranges["reset"][0]), max(ranges["u"][1], ranges["reset"][1])]
    return (ranges["stored"], ranges["before"], u_range, max(map(abs, ranges["q"])),
            set(zip(v.tolist(), u.tolist())))


def _quadratic_range(a2: float, a1: float, lo: float, hi: float) -> tuple[float, float]:
    """Exact range of a2·x² + a1·x over x in [lo, hi]."""
    xs = [lo, hi]
    if a2 and lo < -a1 / (2 * a2) < hi:
        xs.append(-a1 / (2 * a2))
    ys = [a2 * x * x + a1 * x for x in xs]
    return min(ys), max(ys)


def _times(k: float, lo: float, hi: float) -> tuple[float, float]:
    return min(k * lo, k * hi), max(k * lo, k * hi)


def _one_step(m: Izhikevich, dt: float, v: list[float], u: list[float],
              drive: tuple[float, float]):
    """Ranges of v', u' (u' + d included where v' can pass v_peak) and dv/dt one step from
    anywhere in the box v × u under any drive in its range."""
    rest = (m.k2 - u[1] + drive[0], m.k2 - u[0] + drive[1])       # k2 − u + I
    q_lo, q_hi = _quadratic_range(m.k0, m.k1, *v)
    derivative = (q_lo + rest[0], q_hi + rest[1])
    w_lo, w_hi = _quadratic_range(dt * m.k0, 1 + dt * m.k1, *v)   # v + dt·(k0·v² + k1·v)
    v_new = (w_lo + dt * rest[0], w_hi + dt * rest[1])
    dt_a = dt * m.a
    keep = _times(1 - dt_a * m.g, *u)
    pull = _times(dt_a * m.b, v_new[0] - m.v_b, v_new[1] - m.v_b)
    u_new = [keep[0] + pull[0], keep[1] + pull[1]]
    if v_new[1] > m.v_peak:
        u_new += [u_new[0] + m.d, u_new[1] + m.d]
    return v_new, (min(u_new), max(u_new)), derivative


def _frac_bits(pop: Population, net: Network, num: Numerics, fmt: IzhikevichNumerics,
               worst: Worst, registers: dict[str, float]) -> tuple[int, str]:
    """The largest F ≤ 30 at which everything fits (module docstring), negative when not even
    F = 0 does, and what needs the most bits."""
    limit = 2 ** (fmt.state_bits - 1) - 1
    derivative_limit = 2 ** (fmt.derivative_bits - 1) - 1
    needs = {f"|v| up to {worst.v:.4g}": (worst.v * ENVELOPE_MARGIN, limit),
             f"|u| up to {worst.u:.4g}": (worst.u * ENVELOPE_MARGIN, limit),
             f"|dv/dt| up to {worst.derivative:.4g}": (worst.derivative * ENVELOPE_MARGIN,
                                                        derivative_limit),
             f"|i| up to {worst.i:.4g}": (worst.i, limit),
             f"|I| up to {worst.drive:.4g}": (worst.drive, limit)}
    needs.update({what: (value, limit) for what, value in registers.items()})
    bits = {what: _fits(value, top) for what, (value, top) in needs.items()
            if math.isfinite(value)}
    weights = weight_scale_limits(pop, net, num)[0]
    if math.isfinite(weights):
        bits["the largest incoming weight"] = math.floor(math.log2(weights))
    what = min(bits, key=bits.get)
    return min(MAX_FRAC_BITS, bits[what]), what


def _fits(value: float, top: int) -> int:
    """The largest integer F with value · 2^F ≤ top (a large number for value 0, or a value
    so small that top / value overflows a float)."""
    if value <= 0 or not math.isfinite(top / value):
        return MAX_FRAC_BITS
    f = math.floor(math.log2(top / value))
    while value * 2.0 ** f > top:  # log2 may round up at an exact power of two
        f -= 1
    return f


def _warnings(pop: Population, rep: IzhikevichReport, worst: Worst, report: QuantReport) -> None:
    if math.isinf(pop.model.tau_syn):
        warn(report, pop, "NM605", f"tau_syn = inf cannot be expressed: i always decays by at "
                                   f"least 1/4096 per step (realised tau_syn = "
                                   f"{rep.tau_syn[1]:.4g} ms)")
    if math.isinf(worst.v):
        low, high = worst.drive_range
        warn(report, pop, "NM604", f"v and u can saturate: under a constant drive in "
                                   f"[{low:.4g}, {high:.4g}] the float dynamics diverge, so "
                                   f"their worst case is unbounded")
