"""Adaptive LIF population -> FixedAdaptiveLIF registers (DESIGN §2.7: Lava's ATRLIF).

Decays: di = round(4096·di_f) − 1 (Lava's i keeps 4096 − (di + 1) of 4096, as LIF's u: tau_syn
0 keeps nothing, exactly; tau_syn inf cannot be held, NM605), dv, dtheta, dr = round(4096·d_f)
(each state keeps 4096 − d), all clipped to 0 … 4095.

Scale, one per population (registers ≈ model value · scale, theta_0 and theta_step used
shifted left by 6), chosen as LIF's (DESIGN §2.4): the largest at which theta_0, theta_step
(threshold_bits-wide mantissas of the target's adaptive_lif numerics), bias, injected current
and every incoming weight fit their formats and the worst cases below stay within 24 bits,
but never so small that theta_0's mantissa drops under 2^8 or a projection's largest weight
mantissa under 2^7; it is then lowered so that theta_0 is an integer mantissa, i.e. exact.
theta_step is rounded (its loss is reported; one that rounds to 0 warns, NM616), the bias
takes a mantissa and exponent per neuron as LIF's, a current rint(c · scale) saturated to
±(2^23 − 1). Lava's ATRLIF has no initial values: i = v = r = 0 and theta = theta_0.

Worst cases, model units (every input spiking every step forever, bias plus current at its
extremes):

* i, as LIF's u: P·4096/(di + 1) and N·4096/(di + 1) (P, N the largest sums of positive and
  |negative| weights into a neuron); i wraps beyond 2^23 (NM603) and may then hold anything,
  which leaves v bounded by its saturation alone.
* v has no reset (r does its work): it settles at most at (i + bias + current)·4096/dv on
  either side, unbounded when dv = 0 and the drive is not 0; v saturates at 2^23 − 1 (NM604).
* theta and r: theta ≥ theta_0 and r ≥ 0 always (they start there, decay towards theta_0 and
  0 with truncation toward zero, and only grow at a spike). A spike needs v − r ≥ theta, so
  at a spike theta ≤ v and r ≤ v − theta; after it theta ≤ v + theta_step and
  r + 2·theta ≤ v + theta ≤ 2v. Their decays bound them too, as if the neuron spiked every
  step: theta ≤ theta_0 + theta_step·4096/dtheta, r ≤ 2·theta·4096/dr. Each worst case is the
  smaller of the two bounds (v's worst case in place of v).
  In registers v ≤ 2^23 − 1 whatever happens, so theta < 2^23 + theta_step·2^6 < 2^24 and
  r < 2^24: Lava's int32 registers, and the emulator's, cannot overflow. The scale keeps theta
  and r within 24 bits as well, the width Lava declares for them (a chip register's); where
  the floors above push it beyond, a warning says so (NM609).

The scale comes from these worst cases in model units, with the model's weights. The report
and the warnings take them again in register units from the registers themselves (weights
as quantized, whose rounding adds up to half a mantissa step per synapse; bias and current
registers; theta_0 and theta_step << 6): bounds of Lava's integer semantics, whose decays
truncate toward zero, which no run passes.
"""
from __future__ import annotations

import math

import numpy as np

from nmcompile.ir import AdaptiveLIF, FixedAdaptiveLIF, Network, Population
from nmcompile.ir.models import per_neuron
from nmcompile.ir.quantized import CURRENT_LIMIT
from nmcompile.passes.quantize.report import (STATE_LIMIT, AdaptiveLIFReport, QuantReport,
                                              register_magnitude)
from nmcompile.passes.quantize.shared import (bias_limit, bias_registers, check_float_range,
                                              compact, current_range, current_rounding,
                                              decay_register, incoming_register_sums,
                                              incoming_sums, input_warnings, leaky_bound,
                                              max_error, realised_tau, uniform, warn,
                                              weight_scale_limits)
from nmcompile.targets.schema import Numerics

KIND = "adaptive_lif"
MIN_THRESHOLD_MANT = 2 ** 8  # as LIF's: headroom never costs theta_0 more resolution
REGISTER_TOP = STATE_LIMIT - 1  # v saturates at ±(2^23 − 1)


def quantize_population(pop: Population, net: Network, num: Numerics,
                        report: QuantReport) -> FixedAdaptiveLIF:
    m: AdaptiveLIF = pop.model
    fractions = m.decays(net.dt)
    di = decay_register(fractions[0], 1)  # Lava adds ds_offset = 1 to i's decay only
    dv, dtheta, dr = (decay_register(f, 0) for f in fractions[1:])
    bias = per_neuron(m.bias, pop.size)
    c_low, c_high = current_range(pop, net)
    worst = _worst_states(pop, net, di, dv, dtheta, dr, bias + c_low, bias + c_high)
    scale = _choose_scale(pop, net, num, worst, float(np.max(np.abs(bias))),
                          float(np.max(np.maximum(-c_low, c_high), initial=0.0)))
    shift = 2 ** num.adaptive_lif.threshold_shift
    theta_0 = max(1, math.floor(min(m.theta_0 * scale / shift,
                                    2 ** num.adaptive_lif.threshold_bits - 1) + 1e-9))
    scale = theta_0 * shift / m.theta_0
    check_float_range(pop, scale, f"theta_0 = {m.theta_0:g}", "theta_0")
    theta_step = int(np.rint(m.theta_step * scale / shift))
    bias_mant, bias_exp, bias_sat = bias_registers(bias * scale, num)
    realised_bias = bias_mant * 2.0 ** bias_exp / scale
    current_error, current_sat = current_rounding(pop, net, scale, CURRENT_LIMIT)
    drive = bias_mant * 2.0 ** bias_exp
    registers = _worst_registers(pop, net, num, scale, di, dv, dtheta, dr,
                                 (drive + np.floor(c_low * scale), drive + np.ceil(c_high * scale)),
                                 theta_0 * shift, theta_step * shift)
    rep = AdaptiveLIFReport(
        name=pop.name, scale=scale,
        tau_syn=(m.tau_syn, realised_tau(1 - (di + 1) / 4096, net.dt)),
        tau_mem=(m.tau_mem, realised_tau(1 - dv / 4096, net.dt)),
        tau_theta=(m.tau_theta, realised_tau(1 - dtheta / 4096, net.dt)),
        tau_r=(m.tau_r, realised_tau(1 - dr / 4096, net.dt)),
        theta_0=(m.theta_0, theta_0 * shift / scale),
        theta_step=(m.theta_step, theta_step * shift / scale),
        bias=(float(bias[0]), float(realised_bias[0])) if uniform(bias) is not None else None,
        bias_error=max_error(realised_bias, bias), bias_saturated=int(bias_sat.sum()),
        di=di, dv=dv, dtheta=dtheta, dr=dr, theta_0_mant=theta_0, theta_step_mant=theta_step,
        bias_mant=uniform(bias_mant), bias_exp=uniform(bias_exp),
        current_error=current_error, current_saturated=current_sat, worst=registers)
    report.populations.append(rep)
    _warnings(pop, rep, bias, realised_bias, report)
    return FixedAdaptiveLIF(di=di, dv=dv, dtheta=dtheta, dr=dr, theta_0=theta_0,
                            theta_step=theta_step, bias_mant=compact(bias_mant),
                            bias_exp=compact(bias_exp), scale=scale)


def _worst_states(pop: Population, net: Network, di: int, dv: int, dtheta: int, dr: int,
                  drive_low: np.ndarray, drive_high: np.ndarray) -> dict[str, float]:
    """Worst-case |i|, |v|, theta and r in model units, for the scale (module docstring),
    over the neurons; drive_low and drive_high are bias plus current at their extremes."""
    m: AdaptiveLIF = pop.model
    return _bounds(*incoming_sums(pop, net), di, dv, dtheta, dr, drive_low, drive_high,
                   m.theta_0, m.theta_step)


def _worst_registers(pop: Population, net: Network, num: Numerics, scale: float, di: int,
                     dv: int, dtheta: int, dr: int, drive: tuple[np.ndarray, np.ndarray],
                     theta_0: int, theta_step: int) -> dict[str, float]:
    """The same worst cases in register units, from the registers themselves (weights as
    rounded, bias and current registers, theta_0 and theta_step << 6): bounds of Lava's
    integer semantics, whose decays truncate toward zero. v saturates at 2^23 − 1, so theta
    and r never pass what a saturated v allows."""
    pos, neg = incoming_register_sums(pop, net, scale, num)
    out = _bounds(pos, neg, di, dv, dtheta, dr, *drive, theta_0, theta_step,
                  v_top=REGISTER_TOP, i_wraps=STATE_LIMIT)
    out["theta"] = min(out["theta"], REGISTER_TOP + theta_step)
    out["r"] = min(out["r"], 2 * REGISTER_TOP)
    return out


def _bounds(pos: np.ndarray, neg: np.ndarray, di: int, dv: int, dtheta: int, dr: int,
            drive_low: np.ndarray, drive_high: np.ndarray, theta_0: float, theta_step: float,
            v_top: float = math.inf, i_wraps: float = math.inf) -> dict[str, float]:
    """Worst-case |i|, |v|, theta, r from the largest input per step (pos, neg), the decays,
    the drive of bias plus current and the threshold parameters (module docstring); v_top
    caps the v at which a neuron can spike; an i that can reach i_wraps may wrap to any
    value, and then nothing bounds v but its saturation."""
    i_pos, i_neg = pos * 4096 / (di + 1), neg * 4096 / (di + 1)
    v_pos = leaky_bound(i_pos + np.maximum(drive_high, 0.0), dv)
    v_neg = leaky_bound(i_neg + np.maximum(-drive_low, 0.0), dv)
    if max(i_pos.max(initial=0.0), i_neg.max(initial=0.0)) >= i_wraps:
        v_pos, v_neg = np.full(v_pos.shape, math.inf), np.full(v_neg.shape, math.inf)
    v_spike = min(float(v_pos.max()), v_top)  # the largest v at which a neuron can spike
    theta = min(theta_0 + (theta_step * 4096 / dtheta if dtheta else
                           (math.inf if theta_step else 0.0)),
                max(theta_0, v_spike + theta_step))
    r = min(2 * theta * 4096 / dr if dr else math.inf, 2 * v_spike)
    return {"i": float(np.max(np.maximum(i_pos, i_neg))),
            "v": float(np.max(np.maximum(v_pos, v_neg))), "theta": theta, "r": r}


def _choose_scale(pop: Population, net: Network, num: Numerics, worst: dict[str, float],
                  bias_max: float, current_max: float) -> float:
    """Largest scale at which theta_0, theta_step, bias, current and weights fit and the worst
    finite state stays within 24 bits, floored as the module docstring says."""
    m: AdaptiveLIF = pop.model
    shift = 2 ** num.adaptive_lif.threshold_shift
    top = 2 ** num.adaptive_lif.threshold_bits - 1
    hard = top * shift / m.theta_0
    if m.theta_step:
        hard = min(hard, top * shift / m.theta_step)
    if bias_max:
        hard = min(hard, bias_limit(num) / bias_max)
    if current_max:
        hard = min(hard, CURRENT_LIMIT / current_max)
    weights_hard, weights_floor = weight_scale_limits(pop, net, num)
    hard = min(hard, weights_hard)
    floor = max(MIN_THRESHOLD_MANT * shift / m.theta_0, weights_floor)
    largest = max([x for x in worst.values() if math.isfinite(x)], default=0.0)
    room = REGISTER_TOP / largest if largest > 0 else math.inf
    return min(hard, max(room, floor))


def _warnings(pop: Population, rep: AdaptiveLIFReport, bias: np.ndarray,
              realised_bias: np.ndarray, report: QuantReport) -> None:
    input_warnings(pop, rep, "i", bias, realised_bias, report)
    if rep.theta_step[0] and not rep.theta_step_mant:
        warn(report, pop, "NM616", f"theta_step {rep.theta_step[0]:g} VANISHES (rounds to 0 at "
                                   f"one mantissa step of {rep.theta_0[1] / rep.theta_0_mant:.3g}"
                                   f"): the threshold never adapts")
    if rep.worst["i"] >= STATE_LIMIT:
        warn(report, pop, "NM603", f"i can WRAP: worst-case |i| is "
                                   f"{register_magnitude(rep.worst['i'])} > 2^23 (all inputs "
                                   f"spiking every step); sign flips corrupt the run")
    if rep.worst["v"] >= STATE_LIMIT:
        warn(report, pop, "NM604", f"v can saturate: worst-case |v| is "
                                   f"{register_magnitude(rep.worst['v'])} >= 2^23")
    beyond = [name for name in ("theta", "r") if rep.worst[name] >= STATE_LIMIT]
    if beyond:
        warn(report, pop, "NM609", f"{' and '.join(beyond)} can pass the 24 bits Lava declares "
                                   f"for {'them' if len(beyond) > 1 else 'it'} (worst case "
                                   f"{', '.join(register_magnitude(rep.worst[n]) for n in beyond)}"
                                   f"): Lava's model and the emulator hold them in 32 bits, "
                                   f"where they stay below 2^24, so runs are exact, but a "
                                   f"24-bit chip register would overflow")
