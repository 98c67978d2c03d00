"""Projections -> weight mantissas and exponents (DESIGN §2.4 "Weights"), whatever the model of
their post population: only its scale (register units per model unit) matters here.

Weight exponents are kept ≥ 0: Lava right-shifts each step's *summed* input, which floors it,
so a negative exponent adds no resolution to a single spike and biases sums downward.

A plastic projection's format is chosen for the weights it may come to hold, not only its
initial ones: its rule's sign mode (Lava's LearningDense takes it from its parameters, not
from the weights) and an exponent at which ±w_max fits (docs/design.md §10).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.diagnostics import Diagnostic
from nmcompile.ir import FixedProjection, Projection
from nmcompile.ir.learning import sign_of
from nmcompile.passes.quantize.report import ProjectionReport, QuantReport
from nmcompile.targets.schema import Numerics


def quantize_projection(proj: Projection, scale: float, num: Numerics,
                        report: QuantReport) -> FixedProjection:
    w = proj.weight
    nwb = num.weight_bits
    q = weight_registers(w, scale, num, *plastic_format(proj))
    mant, exp, step = q.mantissas, q.exponent, q.step
    realised = mant * 2.0 ** (exp + num.input_shift) / scale
    err = np.abs(realised - w)
    lsb = step * 2.0 ** (exp + num.input_shift) / scale
    rep = ProjectionReport(
        name=proj.name, post=proj.post, synapses=proj.n_synapses, sign_mode=q.sign_mode,
        weight_exp=exp, num_weight_bits=nwb, lsb=lsb,
        rms_error=_rms(err), max_error=float(err.max()) if w.size else 0.0,
        max_abs_weight=float(np.abs(w).max()) if w.size else 0.0,
        zeroed=int(np.count_nonzero((mant == 0) & (w != 0))), saturated=q.saturated)
    report.projections.append(rep)
    if rep.zeroed:
        report.diagnostics.append(Diagnostic(
            "warning", "NM601", f"projection {proj.name}: {rep.zeroed} of {rep.synapses} weights "
            f"VANISH (round to 0; one step of the mantissa is {lsb:.3g})", proj.location))
    if rep.saturated:
        report.diagnostics.append(Diagnostic(
            "warning", "NM602", f"projection {proj.name}: {rep.saturated} of {rep.synapses} "
            f"weights saturate at ±{q.top * 2.0 ** (exp + num.input_shift) / scale:.4g}",
            proj.location))
    return FixedProjection(name=proj.name, pre=proj.pre, post=proj.post, pre_idx=proj.pre_idx,
                           post_idx=proj.post_idx, weight_mant=mant,
                           delay=proj.delay.astype(np.int32), weight_exp=exp,
                           num_weight_bits=nwb, sign_mode=q.sign_mode)


@dataclass(frozen=True, eq=False)
class WeightRegisters:
    """Weights at one scale: sign mode, mantissa step and largest magnitude, exponent,
    mantissas (int32) and how many saturated."""

    sign_mode: str
    step: int
    top: int
    exponent: int
    mantissas: np.ndarray
    saturated: int


# the range Lava's learning engine clips a learned 8-bit weight to, per sign mode (clip_weights)
LEARNED_RANGE = {"excitatory": (0, 255), "inhibitory": (-255, 0), "mixed": (-256, 255)}


def plastic_format(proj: Projection) -> tuple[str | None, float]:
    """(sign mode, reach) of a projection's weight format. Static: (None, 0), the format of its
    weights. Plastic: its rule's sign mode, and the largest |weight| learning may take a
    synapse to, the rule's w_max (default: the largest |initial weight|)."""
    if not proj.plastic:
        return None, 0.0
    largest = float(np.abs(proj.weight).max()) if proj.n_synapses else 0.0
    return sign_of(proj.learning, proj.weight), max(largest, proj.learning.w_max or 0.0)


def weight_registers(w: np.ndarray, scale: float, num: Numerics, mode: str | None = None,
                     reach: float = 0.0) -> WeightRegisters:
    """Weights `w` (model units) as mantissas and one exponent at `scale` (register units per
    model unit of the post population), DESIGN §2.4 "Weights". `mode`: the sign mode (None:
    that of the weights); `reach`: a magnitude the exponent must hold as if it were one of the
    weights, in each direction the sign mode allows (a plastic projection's w_max)."""
    mode, step, top = weight_format(w, num.weight_bits, mode)
    x = w * scale / 2 ** num.input_shift       # mantissa units at weight_exp 0
    exp = _weight_exp(x, mode, step, top, num, reach * scale / 2 ** num.input_shift)
    units = x / 2 ** exp / step
    lo = -256 // step if mode == "mixed" else (-(top // step) if mode == "inhibitory" else 0)
    hi = 0 if mode == "inhibitory" else top // step
    mant = (np.clip(np.rint(units), lo, hi) * step).astype(np.int32)
    return WeightRegisters(sign_mode=mode, step=step, top=top, exponent=exp, mantissas=mant,
                           saturated=int(np.count_nonzero((units < lo - 0.5)
                                                          | (units > hi + 0.5))))


def weight_format(w: np.ndarray, nwb: int, mode: str | None = None) -> tuple[str, int, int]:
    """(sign mode, mantissa step, largest magnitude that survives Lava's clip + truncate);
    the sign mode is `mode`, or without it that of the weights."""
    if mode is None:
        mode = "excitatory" if not w.size or w.min() >= 0 else (
            "inhibitory" if w.max() <= 0 else "mixed")
    step = 2 ** (8 - nwb + (mode == "mixed"))  # truncate_weights drops these low bits
    return mode, step, (255 // step) * step


def _rms(err: np.ndarray) -> float:
    """Root mean square, scaled by the largest error so that errors near 1e308 don't overflow."""
    top = float(err.max()) if err.size else 0.0
    return top * float(np.sqrt(np.mean((err / top) ** 2))) if top > 0 else 0.0


def _weight_exp(x: np.ndarray, mode: str, step: int, top: int, num: Numerics,
               reach: float = 0.0) -> int:
    """Smallest exponent (≥ 0 when the range allows) at which every mantissa fits, and a
    mantissa of magnitude `reach` in each direction the sign mode allows."""
    lo, hi = num.weight_exp
    start = max(lo, 0) if hi >= 0 else hi
    pos = max(float(x.max()) if x.size else 0.0, reach if mode != "inhibitory" else 0.0)
    neg = max(float(-x.min()) if x.size else 0.0, reach if mode != "excitatory" else 0.0)
    neg_limit = 256 if mode == "mixed" else top
    for exp in range(start, hi + 1):
        scaled_pos = np.rint(pos / 2 ** exp / step) * step
        scaled_neg = np.rint(neg / 2 ** exp / step) * step
        if scaled_pos <= top and scaled_neg <= neg_limit:
            return exp
    return hi
