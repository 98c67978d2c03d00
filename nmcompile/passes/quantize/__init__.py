"""Quantization pass: a float LIF network -> the integer network of one target (DESIGN §2).

Register semantics are Lava's bit-accurate models (loihi numerics):
  u decays by (du + 1)/4096, v by dv/4096; input and threshold are shifted left by 6;
  bias = bias_mant << bias_exp; a projection adds (Σ mantissas of spiking synapses) << weight_exp.
One scale per post-population maps model units to register units (v_int ≈ v · scale). It is the
largest scale at which threshold, bias and every incoming weight fit their formats and the
worst-case |u| and |v| (every input spiking every step) stay within 24 bits, but never so
small that the threshold mantissa drops under 2^8 or any projection's largest weight mantissa
under 2^7 (worst cases are pessimistic; vanishing weights are not);
it is then lowered so the threshold is an integer, i.e. represented exactly.

Weight exponents are kept ≥ 0: Lava right-shifts each step's *summed* input, which floors it,
so a negative exponent adds no resolution to a single spike and biases sums downward.
Refractory periods are refused: Lava's bit-accurate LIF has none (see DESIGN §2).
"""
from __future__ import annotations

import math

import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import LIF, FixedLIF, FixedProjection, Network, Population, Projection
from nmcompile.ir import QuantizedNetwork
from nmcompile.passes.quantize.report import (STATE_LIMIT, PopulationReport, ProjectionReport,
                                              QuantReport, register_magnitude)
from nmcompile.targets.schema import Numerics, Target

MIN_THRESHOLD_MANT = 2 ** 8  # headroom never costs the threshold more than this resolution...
MIN_WEIGHT_MANT = 2 ** 7     # ...nor the largest weight of a projection (at weight_exp 0)


def quantize(net: Network, target: Target | str) -> QuantizedNetwork:
    """Lower every LIF population and projection of `net` to the integers of `target`."""
    from nmcompile.targets import load_target
    target = load_target(target)
    num = target.numerics
    _refuse_inexpressible(net, num)
    report = QuantReport(target=target.name)
    fixed_pops: dict[str, FixedLIF] = {}
    with np.errstate(over="ignore"):  # extreme models overflow to inf on purpose: handled below
        for pop in net.lif_populations():
            fixed_pops[pop.name] = _population(pop, net, num, report)
        fixed_projs = tuple(_projection(p, fixed_pops[p.post].scale, num, report)
                            for p in net.projections)
    return QuantizedNetwork(network=net, target=target.name, populations=fixed_pops,
                            projections=fixed_projs, report=report)


def _refuse_inexpressible(net: Network, num: Numerics) -> None:
    """What the target's integer semantics cannot run at all (the loader already guarantees
    finite weights and LIF posts). On `nmc run` backend.check() refuses refractory first, but
    `nmc compile` and direct callers have no other refractory check, and the target's own
    max_delay is checked only here on `nmc run` (`nmc compile` also has the design rule)."""
    errors = []
    for pop in net.lif_populations():
        if pop.model.refractory > 0:
            errors.append(Diagnostic(
                "error", "NM610", f"population {pop.name}: refractory {pop.model.refractory} "
                "cannot be expressed in Lava's bit-accurate LIF (fixed point has no refractory "
                "period); use refractory: 0 or a float backend", pop.location))
    for proj in net.projections:
        if proj.n_synapses and int(proj.delay.max()) > num.max_delay:
            errors.append(Diagnostic(
                "error", "NM611", f"projection {proj.name}: delay {int(proj.delay.max())} > "
                f"{num.max_delay}, the longest delay of the target", proj.location))
    if errors:
        raise InputError(errors)


# -- populations ------------------------------------------------------------------------------
def _population(pop: Population, net: Network, num: Numerics, report: QuantReport) -> FixedLIF:
    m: LIF = pop.model
    du = int(np.clip(round(4096 * m.du(net.dt)) - 1, 0, 4095))  # Lava adds ds_offset = 1
    dv = int(np.clip(round(4096 * m.dv(net.dt)), 0, 4095))      # dm_offset = 0
    u_pos, u_neg, v_pos, v_neg = _worst_states(pop, net, du, dv)
    finite = [x for x in (u_pos, u_neg, v_pos, v_neg) if math.isfinite(x)]
    scale = _choose_scale(pop, net, num, max(finite, default=0.0))
    shift = 2 ** num.threshold_shift
    # min() first: for a v_th near the float minimum the chosen scale may overflow to inf
    vth = max(1, math.floor(min(m.v_th * scale / shift, 2 ** num.threshold_bits - 1) + 1e-9))
    scale = vth * shift / m.v_th
    _check_float_range(pop, scale)
    bias_mant, bias_exp, bias_sat = _bias(m.bias * scale, num)
    keep_u = 1 - (du + 1) / 4096
    rep = PopulationReport(
        name=pop.name, scale=scale, du=du, dv=dv, vth=vth, bias_mant=bias_mant,
        bias_exp=bias_exp, tau_syn=(m.tau_syn, _realised_tau(keep_u, net.dt)),
        tau_mem=(m.tau_mem, _realised_tau(1 - dv / 4096, net.dt)),
        v_th=(m.v_th, vth * 2 ** num.threshold_shift / scale),
        bias=(m.bias, bias_mant * 2 ** bias_exp / scale),
        u_worst=max(u_pos, u_neg) * scale, v_worst=max(v_pos, v_neg) * scale)
    report.populations.append(rep)
    _population_warnings(pop, rep, bias_sat, report)
    return FixedLIF(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, scale=scale)


def _check_float_range(pop: Population, scale: float) -> None:
    """Every register value (|x| < 2^23) must map to a finite model value: then the realised
    parameters, the report and the traces of a run are all finite. Only a v_th near float64's
    limits breaks this; other extreme values saturate and warn."""
    if math.isfinite(scale) and math.isfinite(STATE_LIMIT / scale):
        return
    why = ("an integer threshold needs more register units per model unit than float64 holds"
           if not math.isfinite(scale) else
           "the 24-bit state range would span more model units than float64 holds")
    raise InputError(Diagnostic(
        "error", "NM614", f"population {pop.name}: v_th = {pop.model.v_th:g} cannot be "
        f"represented on this target: {why}; express v_th, bias and weights in other units",
        pop.location))


def _worst_states(pop: Population, net: Network, du: int, dv: int) -> tuple[float, ...]:
    """Worst-case u+, u-, v+, v- (model units) if every input spiked every step, forever."""
    m: LIF = pop.model
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for proj in net.incoming(pop.name):
        np.add.at(pos, proj.post_idx, np.maximum(proj.weight, 0))
        np.add.at(neg, proj.post_idx, np.maximum(-proj.weight, 0))
    u_pos = float(pos.max()) * 4096 / (du + 1) if pop.size else 0.0
    u_neg = float(neg.max()) * 4096 / (du + 1) if pop.size else 0.0
    v_pos = m.v_th + u_pos + max(m.bias, 0.0)   # v above threshold resets at once
    drive = u_neg + max(-m.bias, 0.0)
    v_neg = drive * 4096 / dv if dv else (math.inf if drive > 0 else 0.0)
    return u_pos, u_neg, v_pos, v_neg


def _choose_scale(pop: Population, net: Network, num: Numerics, worst: float) -> float:
    """Largest scale at which threshold, bias and weights fit and the worst finite |u| or |v|
    (model units) stays in 24 bits, see the module docstring."""
    m: LIF = pop.model
    shift = 2 ** num.threshold_shift
    hard = (2 ** num.threshold_bits - 1) * shift / m.v_th
    if m.bias:
        hard = min(hard, (2 ** (num.bias_mant_bits - 1) - 1) * 2 ** num.bias_exp[1] / abs(m.bias))
    floor = MIN_THRESHOLD_MANT * shift / m.v_th
    for proj in net.incoming(pop.name):
        w_max = float(np.abs(proj.weight).max()) if proj.n_synapses else 0.0
        if w_max > 0:
            top = _format(proj.weight, num.weight_bits)[2]
            hard = min(hard, top * 2 ** (num.weight_exp[1] + num.input_shift) / w_max)
            floor = max(floor, MIN_WEIGHT_MANT * 2 ** num.input_shift / w_max)
    room = (STATE_LIMIT - 1) / worst if worst > 0 else math.inf
    return min(hard, max(room, floor))


def _bias(value: float, num: Numerics) -> tuple[int, int, bool]:
    """(mantissa, exponent, saturated) with the smallest exponent whose mantissa fits."""
    limit = 2 ** (num.bias_mant_bits - 1)
    for exp in range(num.bias_exp[0], num.bias_exp[1] + 1):
        mant = np.rint(value / 2 ** exp)   # a float: value may be inf (v_th ≪ |bias|)
        if -limit <= mant <= limit - 1:
            return int(mant), exp, False
    exp = num.bias_exp[1]
    return int(np.clip(np.rint(value / 2 ** exp), -limit, limit - 1)), exp, True


def _realised_tau(keep: float, dt: float) -> float:
    """The time constant whose per-step decay keeps the fraction `keep` of the state."""
    if keep >= 1:
        return math.inf
    return 0.0 if keep <= 0 else -dt / math.log(keep)


def _population_warnings(pop: Population, rep: PopulationReport, bias_saturated: bool,
                         report: QuantReport) -> None:
    def warn(code: str, message: str) -> None:
        report.diagnostics.append(Diagnostic("warning", code, f"population {pop.name}: "
                                             + message, pop.location))
    if math.isinf(rep.tau_syn[0]):
        warn("NM605", f"tau_syn = inf cannot be expressed: u always decays by at least 1/4096 "
                      f"per step (realised tau_syn = {rep.tau_syn[1]:.4g} ms)")
    if bias_saturated:
        warn("NM606", f"bias {rep.bias[0]:g} saturates to {rep.bias[1]:.4g}")
    if rep.u_worst >= STATE_LIMIT:
        warn("NM603", f"u can WRAP: worst-case |u| is {register_magnitude(rep.u_worst)} "
                      f"> 2^23 (all inputs spiking every step); sign flips corrupt the run")
    if rep.v_worst >= STATE_LIMIT:
        warn("NM604", f"v can saturate: worst-case |v| is {register_magnitude(rep.v_worst)} "
                      f">= 2^23")


# -- projections ------------------------------------------------------------------------------
def _projection(proj: Projection, scale: float, num: Numerics,
                report: QuantReport) -> FixedProjection:
    w = proj.weight
    nwb = num.weight_bits
    mode, step, top = _format(w, nwb)
    x = w * scale / 2 ** num.input_shift       # mantissa units at weight_exp 0
    exp = _weight_exp(x, mode, step, top, num)
    units = x / 2 ** exp / step
    lo = -256 // step if mode == "mixed" else (-(top // step) if mode == "inhibitory" else 0)
    hi = 0 if mode == "inhibitory" else top // step
    mant = (np.clip(np.rint(units), lo, hi) * step).astype(np.int32)
    realised = mant * 2.0 ** (exp + num.input_shift) / scale
    err = np.abs(realised - w)
    lsb = step * 2.0 ** (exp + num.input_shift) / scale
    rep = ProjectionReport(
        name=proj.name, post=proj.post, synapses=proj.n_synapses, sign_mode=mode,
        weight_exp=exp, num_weight_bits=nwb, lsb=lsb,
        rms_error=_rms(err), max_error=float(err.max()) if w.size else 0.0,
        max_abs_weight=float(np.abs(w).max()) if w.size else 0.0,
        zeroed=int(np.count_nonzero((mant == 0) & (w != 0))),
        saturated=int(np.count_nonzero((units < lo - 0.5) | (units > hi + 0.5))))
    report.projections.append(rep)
    if rep.zeroed:
        report.diagnostics.append(Diagnostic(
            "warning", "NM601", f"projection {proj.name}: {rep.zeroed} of {rep.synapses} weights "
            f"VANISH (round to 0; one step of the mantissa is {lsb:.3g})", proj.location))
    if rep.saturated:
        report.diagnostics.append(Diagnostic(
            "warning", "NM602", f"projection {proj.name}: {rep.saturated} of {rep.synapses} "
            f"weights saturate at ±{top * 2.0 ** (exp + num.input_shift) / scale:.4g}",
            proj.location))
    return FixedProjection(name=proj.name, pre=proj.pre, post=proj.post, pre_idx=proj.pre_idx,
                           post_idx=proj.post_idx, weight_mant=mant,
                           delay=proj.delay.astype(np.int32), weight_exp=exp,
                           num_weight_bits=nwb, sign_mode=mode)


def _rms(err: np.ndarray) -> float:
    """Root mean square, scaled by the largest error so that errors near 1e308 don't overflow."""
    top = float(err.max()) if err.size else 0.0
    return top * float(np.sqrt(np.mean((err / top) ** 2))) if top > 0 else 0.0


def _format(w: np.ndarray, nwb: int) -> tuple[str, int, int]:
    """(sign mode, mantissa step, largest magnitude that survives Lava's clip + truncate)."""
    mode = "excitatory" if not w.size or w.min() >= 0 else (
        "inhibitory" if w.max() <= 0 else "mixed")
    step = 2 ** (8 - nwb + (mode == "mixed"))  # truncate_weights drops these low bits
    return mode, step, (255 // step) * step


def _weight_exp(x: np.ndarray, mode: str, step: int, top: int, num: Numerics) -> int:
    """Smallest exponent (≥ 0 when the range allows) at which every mantissa fits."""
    lo, hi = num.weight_exp
    start = max(lo, 0) if hi >= 0 else hi
    pos = float(x.max()) if x.size else 0.0
    neg = float(-x.min()) if x.size else 0.0
    neg_limit = 256 if mode == "mixed" else top
    for exp in range(start, hi + 1):
        scaled_pos = np.rint(pos / 2 ** exp / step) * step
        scaled_neg = np.rint(neg / 2 ** exp / step) * step
        if scaled_pos <= top and scaled_neg <= neg_limit:
            return exp
    return hi
