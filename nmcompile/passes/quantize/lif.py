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

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import LIF, FixedLIF, Network, Population
from nmcompile.ir.models import per_neuron
from nmcompile.ir.quantized import CURRENT_LIMIT
from nmcompile.passes.quantize.projections import weight_format
from nmcompile.passes.quantize.report import (STATE_LIMIT, PopulationReport, QuantReport,
                                              register_magnitude)
from nmcompile.targets.schema import Numerics

KIND = "lif"
MIN_THRESHOLD_MANT = 2 ** 8  # headroom never costs the threshold more than this resolution...
MIN_WEIGHT_MANT = 2 ** 7     # ...nor the largest weight of a projection (at weight_exp 0)
INIT_LIMIT = STATE_LIMIT - 1  # u_init, v_init saturate to ±(2^23 − 1)


def quantize_population(pop: Population, net: Network, num: Numerics,
                        report: QuantReport) -> FixedLIF:
    m: LIF = pop.model
    du = int(np.clip(round(4096 * m.du(net.dt)) - 1, 0, 4095))  # Lava adds ds_offset = 1
    dv = int(np.clip(round(4096 * m.dv(net.dt)), 0, 4095))      # dm_offset = 0
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
    _check_float_range(pop, scale)
    bias_mant, bias_exp, bias_sat = _bias(bias * scale, num)
    realised_bias = bias_mant * 2.0 ** bias_exp / scale
    u_reg, u_sat = _initial(u_init, scale)
    v_reg, v_sat = _initial(v_init, scale)
    current_error, current_sat = _current_rounding(pop, net, scale)
    keep_u = 1 - (du + 1) / 4096
    rep = PopulationReport(
        name=pop.name, scale=scale, du=du, dv=dv, vth=vth,
        bias_mant=_uniform(bias_mant), bias_exp=_uniform(bias_exp),
        tau_syn=(m.tau_syn, _realised_tau(keep_u, net.dt)),
        tau_mem=(m.tau_mem, _realised_tau(1 - dv / 4096, net.dt)),
        v_th=(m.v_th, vth * shift / scale if m.spiking else math.inf),
        bias=(float(bias[0]), float(realised_bias[0])) if _uniform(bias) is not None else None,
        bias_error=_max_error(realised_bias, bias), bias_saturated=int(bias_sat.sum()),
        refractory=m.refractory, reset=m.reset, spiking=m.spiking,
        u_init_error=_max_error(u_reg / scale, u_init),
        v_init_error=_max_error(v_reg / scale, v_init),
        init_saturated=int(u_sat.sum() + v_sat.sum()),
        current_error=current_error, current_saturated=current_sat,
        u_worst=max(worst[0], worst[1]) * scale, v_worst=max(worst[2], worst[3]) * scale)
    report.populations.append(rep)
    _population_warnings(pop, rep, bias, realised_bias, report)
    return FixedLIF(du=du, dv=dv, vth=vth, bias_mant=_compact(bias_mant),
                    bias_exp=_compact(bias_exp), scale=scale, u_init=_compact(u_reg),
                    v_init=_compact(v_reg), refractory=m.refractory, reset=m.reset,
                    spiking=m.spiking)


def _check_float_range(pop: Population, scale: float) -> None:
    """Every register value (|x| < 2^23) must map to a finite model value: then the realised
    parameters, the report and the traces of a run are all finite. Only values near float64's
    limits break this (a v_th, or for a non-spiking population the values that set its scale);
    other extreme values saturate and warn."""
    if math.isfinite(scale) and math.isfinite(STATE_LIMIT / scale):
        return
    why = ("an integer threshold needs more register units per model unit than float64 holds"
           if not math.isfinite(scale) else
           "the 24-bit state range would span more model units than float64 holds")
    what = (f"v_th = {pop.model.v_th:g}" if pop.model.spiking else "v_th = inf (non-spiking) "
            "with these weights, bias, currents and initial values")
    raise InputError(Diagnostic(
        "error", "NM614", f"population {pop.name}: {what} cannot be represented on this "
        f"target: {why}; express v_th, bias and weights in other units", pop.location))


def _current_bounds(pop: Population, net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the largest positive and negative injected current (model units, ≥ 0) at
    any step of any run: a steps/ramp current takes its extremes at its points (and is 0
    before the first), a file current within its values (0 after them); currents add."""
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for current in net.currents:
        if current.population != pop.name:
            continue
        values = current.values if current.kind == "file" else current.points[:, 1]
        if not values.size:
            continue
        neurons = slice(None) if current.neurons is None else current.neurons
        pos[neurons] += np.maximum(values.max(axis=0), 0.0)
        neg[neurons] += np.maximum(-values.min(axis=0), 0.0)
    return pos, neg


def _worst_states(pop: Population, net: Network, du: int, dv: int, b_high: np.ndarray,
                  b_low: np.ndarray, u_init: np.ndarray, v_init: np.ndarray
                  ) -> tuple[float, float, float, float]:
    """Worst-case u+, u-, v+, v- (model units, over the neurons) if every input spiked every
    step, forever, with the bias plus current at its highest (b_high) or lowest (b_low).
    A state that starts beyond its steady worst case only decays toward it."""
    m: LIF = pop.model
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for proj in net.incoming(pop.name):
        np.add.at(pos, proj.post_idx, np.maximum(proj.weight, 0))
        np.add.at(neg, proj.post_idx, np.maximum(-proj.weight, 0))
    u_pos = np.maximum(pos * 4096 / (du + 1), np.maximum(u_init, 0.0))
    u_neg = np.maximum(neg * 4096 / (du + 1), np.maximum(-u_init, 0.0))
    up = np.maximum(b_high, 0.0)            # what bias and current push v up by, per step
    down = u_neg + np.maximum(-b_low, 0.0)  # ... and down by, with the inhibition
    if not m.spiking:
        v_pos = _leaky_bound(u_pos + up, dv)
    else:
        # v above threshold resets at once, from at most max(v_th, v_init); a subtract reset
        # leaves v − v_th, which climbs while the drive beats v_th
        top = np.maximum(m.v_th, v_init)
        if m.reset == "subtract":
            top = np.maximum(top, _leaky_bound(u_pos + up - m.v_th, dv))
        v_pos = top + u_pos + up
    v_pos = np.maximum(v_pos, v_init)
    v_neg = np.maximum(_leaky_bound(down, dv), -v_init)
    return tuple(float(x.max(initial=0.0)) for x in (u_pos, u_neg, v_pos, v_neg))


def _leaky_bound(drive: np.ndarray, dv: int) -> np.ndarray:
    """Where v settles under a constant positive drive (0 for none): drive·4096/dv, ∞ when v
    never leaks (dv = 0)."""
    drive = np.maximum(drive, 0.0)
    if dv:
        return drive * 4096 / dv
    return np.where(drive > 0, math.inf, 0.0)


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
        hard = min(hard, (2 ** (num.bias_mant_bits - 1) - 1) * 2 ** num.bias_exp[1] / bias_max)
    if current_max:
        hard = min(hard, CURRENT_LIMIT / current_max)
    for proj in net.incoming(pop.name):
        w_max = float(np.abs(proj.weight).max()) if proj.n_synapses else 0.0
        if w_max > 0:
            top = weight_format(proj.weight, num.weight_bits)[2]
            hard = min(hard, top * 2 ** (num.weight_exp[1] + num.input_shift) / w_max)
            floor = max(floor, MIN_WEIGHT_MANT * 2 ** num.input_shift / w_max)
    largest = max([x for x in worst if math.isfinite(x)], default=0.0)
    room = (STATE_LIMIT - 1) / largest if largest > 0 else math.inf
    if not m.spiking and math.isinf(hard) and math.isinf(room) and floor == 0:
        return 1.0  # nothing to represent: the state never leaves 0
    return min(hard, max(room, floor))


def _bias(value: np.ndarray, num: Numerics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron (mantissa, exponent, saturated): the smallest exponent whose rounded
    mantissa fits, else the mantissa saturated at the largest exponent."""
    limit = 2 ** (num.bias_mant_bits - 1)
    mant = np.zeros(value.size, np.int64)
    exp = np.full(value.size, num.bias_exp[1], np.int64)
    todo = np.ones(value.size, bool)
    for e in range(num.bias_exp[0], num.bias_exp[1] + 1):
        m = np.rint(value / 2 ** e)   # floats: a value may be inf (v_th ≪ |bias|)
        fits = todo & (m >= -limit) & (m <= limit - 1)
        mant[fits], exp[fits] = m[fits], e
        todo &= ~fits
    e = num.bias_exp[1]
    mant[todo] = np.clip(np.rint(value[todo] / 2 ** e), -limit, limit - 1)
    return mant, exp, todo


def _initial(value: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """rint(value · scale) saturated to ±(2^23 − 1), and which values saturated."""
    reg = np.rint(value * scale)
    saturated = np.abs(reg) > INIT_LIMIT
    return np.clip(reg, -INIT_LIMIT, INIT_LIMIT).astype(np.int64), saturated


def _current_rounding(pop: Population, net: Network, scale: float) -> tuple[float | None, int]:
    """(largest |c_reg/scale − c|, saturated values) of the population's injected current
    over the network's steps, registers made as ir.fixed_current makes them; (None, 0)
    without a current."""
    c = net.current(pop.name, net.steps)
    if c is None:
        return None, 0
    reg = np.rint(c * scale)
    saturated = int(np.count_nonzero(np.abs(reg) > CURRENT_LIMIT))
    reg = np.clip(reg, -CURRENT_LIMIT, CURRENT_LIMIT)
    return _max_error(reg / scale, c), saturated


def _max_error(realised: np.ndarray, requested: np.ndarray) -> float:
    return float(np.max(np.abs(realised - requested), initial=0.0))


def _uniform(values: np.ndarray) -> float | int | None:
    """The one value every neuron has, or None."""
    first = values.flat[0]
    return first.item() if np.all(values == first) else None


def _compact(registers: np.ndarray) -> int | np.ndarray:
    """One int when every neuron has the same register value, else int32 per neuron."""
    same = _uniform(registers)
    return int(same) if same is not None else registers.astype(np.int32)


def _realised_tau(keep: float, dt: float) -> float:
    """The time constant whose per-step decay keeps the fraction `keep` of the state."""
    if keep >= 1:
        return math.inf
    return 0.0 if keep <= 0 else -dt / math.log(keep)


def _population_warnings(pop: Population, rep: PopulationReport, bias: np.ndarray,
                         realised_bias: np.ndarray, report: QuantReport) -> None:
    def warn(code: str, message: str) -> None:
        report.diagnostics.append(Diagnostic("warning", code, f"population {pop.name}: "
                                             + message, pop.location))
    if math.isinf(rep.tau_syn[0]):
        warn("NM605", f"tau_syn = inf cannot be expressed: u always decays by at least 1/4096 "
                      f"per step (realised tau_syn = {rep.tau_syn[1]:.4g} ms)")
    if rep.bias_saturated:
        worst = int(np.argmax(np.abs(realised_bias - bias)))
        where = "" if rep.bias is not None else f" in {rep.bias_saturated} of {pop.size} neurons"
        warn("NM606", f"bias {bias[worst]:g} saturates to {realised_bias[worst]:.4g}{where}")
    if rep.current_saturated:
        warn("NM607", f"the injected current saturates at ±(2^23 − 1) register units in "
                      f"{rep.current_saturated} values (step × neuron); largest error "
                      f"{rep.current_error:.4g}")
    if rep.init_saturated:
        warn("NM608", f"{rep.init_saturated} initial values (u_init, v_init) saturate at "
                      f"±(2^23 − 1) register units")
    if rep.u_worst >= STATE_LIMIT:
        warn("NM603", f"u can WRAP: worst-case |u| is {register_magnitude(rep.u_worst)} "
                      f"> 2^23 (all inputs spiking every step); sign flips corrupt the run")
    if rep.v_worst >= STATE_LIMIT:
        warn("NM604", f"v can saturate: worst-case |v| is {register_magnitude(rep.v_worst)} "
                      f">= 2^23")
