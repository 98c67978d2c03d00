"""LIF population -> FixedLIF registers (DESIGN §2.4, with the variants of §2.5).

One scale per population (v_int ≈ v · scale; all its registers and the weights of every
projection into it share it). With a threshold it is the largest scale at which threshold,
bias, injected current and every incoming weight fit their formats and the worst-case |u|
and |v| stay within 24 bits, but never so small that the threshold mantissa drops under
2^8 or any projection's largest weight mantissa under 2^7; it is then lowered so the
threshold is an integer, i.e. represented exactly.

Variants (§2.5):
  * tau_syn 0: du = 4095, so u keeps (4096 − 4096)/4096 = 0 of itself: exact.
  * v_th inf (non-spiking): no threshold sets or floors the scale, so it comes from bias,
    currents, weights, initial values and headroom alone (a population whose state never
    leaves 0 gets scale 1); the vth register holds 2^threshold_bits − 1, a valid value no
    backend compares against.
  * reset subtract: a spike removes only v_th, so a drive above v_th per step lets v climb
    to (drive − v_th)/dv after its resets: the worst case of v says so.
  * refractory: copied; holding v never raises its worst case.
  * bias, u_init, v_init per neuron: bias takes one mantissa/exponent per neuron (the
    smallest exponent that fits); u_init, v_init are rint(value · scale) saturated to 24 bits.
    A register that is the same for every neuron is kept as one int.
  * injected currents: their largest magnitude bounds the scale (a current register is
    24 bits) and adds to the worst-case drive of v; registers are made at run time by
    ir.fixed_current, whose rounding the report measures over the network's steps.
"""
from __future__ import annotations

import math

import numpy as np

from nmcompile.ir import LIF, FixedLIF, Network, Population
from nmcompile.ir.models import per_neuron
from nmcompile.ir.quantized import CURRENT_LIMIT
from nmcompile.passes.quantize.report import (STATE_LIMIT, LIFReport, QuantReport,
                                              register_magnitude)
from nmcompile.passes.quantize.shared import (bias_limit, bias_registers, check_float_range,
                                              compact, current_extremes, current_rounding,
                                              decay_register, incoming_sums, input_warnings,
                                              leaky_bound, max_error, realised_tau,
                                              state_registers, uniform, warn,
                                              weight_scale_limits)
from nmcompile.targets.schema import Numerics

KIND = "lif"
MIN_THRESHOLD_MANT = 2 ** 8  # headroom never costs the threshold more than this resolution
# (nor a projection's largest weight more than 2^7: shared.weight_scale_limits)
INIT_LIMIT = STATE_LIMIT - 1  # u_init, v_init saturate to ±(2^23 − 1)


def quantize_population(pop: Population, net: Network, num: Numerics,
                        report: QuantReport) -> FixedLIF:
    m: LIF = pop.model
    du = decay_register(m.du(net.dt), 1)  # Lava adds ds_offset = 1
    dv = decay_register(m.dv(net.dt), 0)  # dm_offset = 0
    bias = per_neuron(m.bias, pop.size)
    u_init, v_init = per_neuron(m.u_init, pop.size), per_neuron(m.v_init, pop.size)
    c_pos, c_neg = _current_bounds(pop, net)
    worst = _worst_states(pop, net, du, dv, bias + c_pos, bias - c_neg, u_init, v_init)
    scale = _choose_scale(pop, net, num, worst, float(np.max(np.abs(bias))),
                          float(np.max(np.maximum(c_pos, c_neg))))
    shift = 2 ** num.threshold_shift
    top_vth = 2 ** num.threshold_bits - 1
    if m.spiking:
        # min() first: for a v_th near the float minimum the chosen scale may overflow to inf
        vth = max(1, math.floor(min(m.v_th * scale / shift, top_vth) + 1e-9))
        scale = vth * shift / m.v_th
    else:
        vth = top_vth
    what = (f"v_th = {m.v_th:g}" if m.spiking else "v_th = inf (non-spiking) with these "
            "weights, bias, currents and initial values")
    check_float_range(pop, scale, what, "v_th")
    bias_mant, bias_exp, bias_sat = bias_registers(bias * scale, num)
    realised_bias = bias_mant * 2.0 ** bias_exp / scale
    u_reg, u_sat = state_registers(u_init, scale, INIT_LIMIT)
    v_reg, v_sat = state_registers(v_init, scale, INIT_LIMIT)
    current_error, current_sat = current_rounding(pop, net, scale, CURRENT_LIMIT)
    keep_u = 1 - (du + 1) / 4096
    rep = LIFReport(
        name=pop.name, scale=scale, du=du, dv=dv, vth=vth,
        bias_mant=uniform(bias_mant), bias_exp=uniform(bias_exp),
        tau_syn=(m.tau_syn, realised_tau(keep_u, net.dt)),
        tau_mem=(m.tau_mem, realised_tau(1 - dv / 4096, net.dt)),
        v_th=(m.v_th, vth * shift / scale if m.spiking else math.inf),
        bias=(float(bias[0]), float(realised_bias[0])) if uniform(bias) is not None else None,
        bias_error=max_error(realised_bias, bias), bias_saturated=int(bias_sat.sum()),
        refractory=m.refractory, reset=m.reset, spiking=m.spiking,
        u_init_error=max_error(u_reg / scale, u_init),
        v_init_error=max_error(v_reg / scale, v_init),
        init_saturated=int(u_sat.sum() + v_sat.sum()),
        current_error=current_error, current_saturated=current_sat,
        u_worst=max(worst[0], worst[1]) * scale, v_worst=max(worst[2], worst[3]) * scale)
    report.populations.append(rep)
    _population_warnings(pop, rep, bias, realised_bias, report)
    return FixedLIF(du=du, dv=dv, vth=vth, bias_mant=compact(bias_mant),
                    bias_exp=compact(bias_exp), scale=scale, u_init=compact(u_reg),
                    v_init=compact(v_reg), refractory=m.refractory, reset=m.reset,
                    spiking=m.spiking)


def _current_bounds(pop: Population, net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the largest positive and negative injected current (model units, ≥ 0) at
    any step of any run, each current's own extreme counted even where another's offsets it."""
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for neurons, low, high in current_extremes(pop, net):
        pos[neurons] += np.maximum(high, 0.0)
        neg[neurons] += np.maximum(-low, 0.0)
    return pos, neg


def _worst_states(pop: Population, net: Network, du: int, dv: int, b_high: np.ndarray,
                  b_low: np.ndarray, u_init: np.ndarray, v_init: np.ndarray
                  ) -> tuple[float, float, float, float]:
    """Worst-case u+, u-, v+, v- (model units, over the neurons) if every input spiked every
    step, forever, with the bias plus current at its highest (b_high) or lowest (b_low).
    A state that starts beyond its steady worst case only decays toward it."""
    m: LIF = pop.model
    pos, neg = incoming_sums(pop, net)
    u_pos = np.maximum(pos * 4096 / (du + 1), np.maximum(u_init, 0.0))
    u_neg = np.maximum(neg * 4096 / (du + 1), np.maximum(-u_init, 0.0))
    up = np.maximum(b_high, 0.0)            # what bias and current push v up by, per step
    down = u_neg + np.maximum(-b_low, 0.0)  # ... and down by, with the inhibition
    if not m.spiking:
        v_pos = leaky_bound(u_pos + up, dv)
    else:
        # v above threshold resets at once, from at most max(v_th, v_init); a subtract reset
        # leaves v − v_th, which climbs while the drive beats v_th
        top = np.maximum(m.v_th, v_init)
        if m.reset == "subtract":
            top = np.maximum(top, leaky_bound(u_pos + up - m.v_th, dv))
        v_pos = top + u_pos + up
    v_pos = np.maximum(v_pos, v_init)
    v_neg = np.maximum(leaky_bound(down, dv), -v_init)
    return tuple(float(x.max(initial=0.0)) for x in (u_pos, u_neg, v_pos, v_neg))


def _choose_scale(pop: Population, net: Network, num: Numerics,
                  worst: tuple[float, ...], bias_max: float, current_max: float) -> float:
    """Largest scale at which threshold, bias, current and weights fit and the worst finite
    |u| or |v| (model units) stays in 24 bits, see the module docstring."""
    m: LIF = pop.model
    shift = 2 ** num.threshold_shift
    hard, floor = math.inf, 0.0
    if m.spiking:
        hard = (2 ** num.threshold_bits - 1) * shift / m.v_th
        floor = MIN_THRESHOLD_MANT * shift / m.v_th
    if bias_max:
        hard = min(hard, bias_limit(num) / bias_max)
    if current_max:
        hard = min(hard, CURRENT_LIMIT / current_max)
    weights_hard, weights_floor = weight_scale_limits(pop, net, num)
    hard, floor = min(hard, weights_hard), max(floor, weights_floor)
    largest = max([x for x in worst if math.isfinite(x)], default=0.0)
    room = (STATE_LIMIT - 1) / largest if largest > 0 else math.inf
    if not m.spiking and math.isinf(hard) and math.isinf(room) and floor == 0:
        return 1.0  # nothing to represent: the state never leaves 0
    return min(hard, max(room, floor))


def _population_warnings(pop: Population, rep: LIFReport, bias: np.ndarray,
                         realised_bias: np.ndarray, report: QuantReport) -> None:
    input_warnings(pop, rep, "u", bias, realised_bias, report)
    if rep.init_saturated:
        warn(report, pop, "NM608", f"{rep.init_saturated} initial values (u_init, v_init) "
                                   f"saturate at ±(2^23 − 1) register units")
    if rep.u_worst >= STATE_LIMIT:
        warn(report, pop, "NM603", f"u can WRAP: worst-case |u| is "
                                   f"{register_magnitude(rep.u_worst)} > 2^23 (all inputs "
                                   f"spiking every step); sign flips corrupt the run")
    if rep.v_worst >= STATE_LIMIT:
        warn(report, pop, "NM604", f"v can saturate: worst-case |v| is "
                                   f"{register_magnitude(rep.v_worst)} >= 2^23")
