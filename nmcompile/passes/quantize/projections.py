"""Projections -> weight mantissas and exponents (DESIGN §2.4 "Weights"), whatever the model of
their post population: only its scale (register units per model unit) matters here.

Weight exponents are kept ≥ 0: Lava right-shifts each step's *summed* input, which floors it,
so a negative exponent adds no resolution to a single spike and biases sums downward.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.diagnostics import Diagnostic
from nmcompile.ir import FixedProjection, Projection
from nmcompile.passes.quantize.report import ProjectionReport, QuantReport
from nmcompile.targets.schema import Numerics


def quantize_projection(proj: Projection, scale: float, num: Numerics,
                        report: QuantReport) -> FixedProjection:
    w = proj.weight
    nwb = num.weight_bits
    q = weight_registers(w, scale, num)
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


def weight_registers(w: np.ndarray, scale: float, num: Numerics) -> WeightRegisters:
    """Weights `w` (model units) as mantissas and one exponent at `scale` (register units per
    model unit of the post population), DESIGN §2.4 "Weights"."""
    mode, step, top = weight_format(w, num.weight_bits)
    x = w * scale / 2 ** num.input_shift       # mantissa units at weight_exp 0
    exp = _weight_exp(x, mode, step, top, num)
    units = x / 2 ** exp / step
    lo = -256 // step if mode == "mixed" else (-(top // step) if mode == "inhibitory" else 0)
    hi = 0 if mode == "inhibitory" else top // step
    mant = (np.clip(np.rint(units), lo, hi) * step).astype(np.int32)
    return WeightRegisters(sign_mode=mode, step=step, top=top, exponent=exp, mantissas=mant,
                           saturated=int(np.count_nonzero((units < lo - 0.5)
                                                          | (units > hi + 0.5))))


def weight_format(w: np.ndarray, nwb: int) -> tuple[str, int, int]:
    """(sign mode, mantissa step, largest magnitude that survives Lava's clip + truncate)."""
    mode = "excitatory" if not w.size or w.min() >= 0 else (
        "inhibitory" if w.max() <= 0 else "mixed")
    step = 2 ** (8 - nwb + (mode == "mixed"))  # truncate_weights drops these low bits
    return mode, step, (255 // step) * step


def _rms(err: np.ndarray) -> float:
    """Root mean square, scaled by the largest error so that errors near 1e308 don't overflow."""
    top = float(err.max()) if err.size else 0.0
    return top * float(np.sqrt(np.mean((err / top) ** 2))) if top > 0 else 0.0


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
