"""A plastic projection's learning rule in fixed point (DESIGN §2.4 "Learning", §10).

Lava's fixed-point engine learns on the 8-bit weight mantissas, so a product that changes a
weight by `m·2^e · factors` model units in the float rule must change it by q times as many
mantissas, q = scale / 2^(input_shift + weight_exp) (mantissas per model unit). The float
rule's products (learning_rate · a_minus, learning_rate · a_plus, as Lava rounds them) are
scaled by q and rounded to the nearest m·2^e Lava can hold; the fixed rule's learning_rate is
then a power of two and a_minus, a_plus integers, whose literals Lava folds to exactly those
scalings (checked). Traces, time constants, t_epoch and the seed are unchanged: traces are in
the same units in both models.

Reward STDP: the weights change by `u0·t·y2`, scaling 1, which Lava's fixed point shifts right
by 5 (the product of a tag and a trace is 20 bits wide, the accumulator 15): fixed Δw =
(t·y2) >> 5, float Δw = t·y2. The reward trace holds reward mantissas, r per model unit of
reward (r a power of two with |reward_weight|·r in (32, 64], so a spike's mantissa leaves the
8-bit trace room for about two), and the tag's STDP products get the target q·(32/r)·m·2^e:
then fixed Δw ≈ q·Δw_float. The tag's decay (−eligibility_decay · t) is relative, unchanged.
"""
from __future__ import annotations

import math
from dataclasses import replace

from nmcompile.diagnostics import Diagnostic
from nmcompile.ir import FixedProjection, LavaRule, Network, Projection, lava_rule
from nmcompile.ir.learning import literal, nearest_scaling
from nmcompile.passes.quantize.projections import LEARNED_RANGE
from nmcompile.passes.quantize.report import LearningReport, ProductReport, QuantReport
from nmcompile.targets.schema import Numerics

REWARD_SHIFT = 5     # Lava's fixed u0·t·y2 >> 5: W = 9 (t) + 7 (y2) + 4 = 20, accumulator 15
REWARD_TOP = 64      # largest reward mantissa of a spike: y2 is 8 bits signed (≤ 127)
Y2_LIMIT = 127       # the fixed reward trace saturates at ±127 (−128)
TAG_LIMIT = 255      # Lava clips tag_1 to [−257, 255]
OFF_BY = 0.25        # a realised scaling further than this from its target is warned about
ROUNDED = ("learning_rate", "a_plus", "a_minus", "eligibility_decay")


def quantize_learning(proj: Projection, fixed: FixedProjection, scale: float, net: Network,
                      num: Numerics, report: QuantReport) -> LavaRule:
    """The fixed-point LavaRule of plastic projection `proj`, whose weights `fixed` holds at
    the post population's `scale`; its report and warnings go to `report`."""
    rule = lava_rule(proj.learning, net.dt, net.seed, proj.name, proj.weight)
    assert rule.sign_mode == fixed.sign_mode, (rule.sign_mode, fixed.sign_mode)
    q = scale / 2 ** (num.input_shift + fixed.weight_exp)
    stdp_variable, gain, reward = "weights", q, {}
    if rule.three_factor:
        r = reward_scale(rule.reward_weight)
        mantissa = int(round(rule.reward_weight * r))
        stdp_variable, gain = "tag_1", q * 2 ** REWARD_SHIFT / r
        reward = dict(reward_scale=r, reward_mantissa=mantissa,
                      reward_error=abs(mantissa / (rule.reward_weight * r) - 1),
                      reward_range=Y2_LIMIT / r, tag_range=TAG_LIMIT / gain)
    depress, potentiate = rule.products()[stdp_variable][:2]
    targets = [gain * _value(depress), gain * _value(potentiate)]
    realised = [nearest_scaling(t) for t in targets]
    learning_rate, a_minus, a_plus = _parameters(*realised)
    fixed_rule = replace(rule, learning_rate=learning_rate, a_minus=a_minus, a_plus=a_plus,
                         weight_units=q, **({"reward_weight": float(reward["reward_mantissa"])}
                                            if reward else {}))
    products = []
    for variable, series in rule.products().items():
        got = fixed_rule.products()[variable]
        for k, (float_p, fixed_p) in enumerate(zip(series, got)):
            retargeted = variable == stdp_variable and k < 2
            target = targets[k] if retargeted else _value(float_p)
            if retargeted:  # Lava's folding of the fixed parameters gives what was chosen
                assert _value(fixed_p) == realised[k][0] * 2.0 ** realised[k][1], (fixed_p,
                                                                                   realised[k])
            products.append(ProductReport(
                variable=variable, term="·".join((float_p[0], *float_p[3])),
                float_scaling=_value(float_p), target=target, mantissa=fixed_p[1],
                exponent=fixed_p[2]))
    low, high = LEARNED_RANGE[fixed.sign_mode]
    rep = LearningReport(name=proj.name, rule=rule.kind, weight_units=q,
                         sign_mode=fixed.sign_mode, learned_range=(low / q, high / q),
                         rounded=_rounded(proj), products=products, **reward)
    report.learning.append(rep)
    _warn(proj, rep, report)
    if rule.three_factor:
        _warn_reward(proj, rule, targets, gain, rep, report)
    return fixed_rule


def reward_scale(reward_weight: float) -> float:
    """r: the power of two with |reward_weight|·r in (REWARD_TOP/2, REWARD_TOP]."""
    return 2.0 ** math.floor(math.log2(REWARD_TOP / abs(reward_weight)))


def _value(product: tuple) -> float:
    """The scaling m·2^e of one product (dependency, mantissa, exponent, factors)."""
    return product[1] * 2.0 ** product[2]


def _parameters(minus: tuple[int, int], plus: tuple[int, int]) -> tuple[float, float, float]:
    """(learning_rate, a_minus, a_plus) whose products Lava folds to the scalings `minus` and
    `plus` (m, e): learning_rate = 2^e_min, whose literal is (1, e_min) below 1 and (2^e_min,
    0) above, and each a = m·2^(e − e_min), an integer, whose literal is (a, 0)."""
    e_min = min((e for m, e in (minus, plus) if m), default=0)
    return (2.0 ** e_min, minus[0] * 2.0 ** (minus[1] - e_min),
            plus[0] * 2.0 ** (plus[1] - e_min))


def _rounded(proj: Projection) -> list[tuple[str, float, float, str]]:
    """Parameters that do not survive as given: Lava's m·2^e literals (float and fixed alike)
    and, for a reward rule, the post impulse, which nmcompile's fixed reward post process adds
    as an integer."""
    rule, out = proj.learning, []
    for name in ROUNDED:
        if hasattr(rule, name):
            requested = float(getattr(rule, name))
            m, e = literal(requested)
            if m * 2.0 ** e != requested:
                out.append((name, requested, m * 2.0 ** e, "Lava"))
    if rule.three_factor and rule.post_impulse != int(rule.post_impulse):
        out.append(("post_impulse", float(rule.post_impulse), float(int(rule.post_impulse)),
                    "fixed point"))
    return out


def _warn_reward(proj: Projection, rule: LavaRule, targets: list[float], gain: float,
                 rep: LearningReport, report: QuantReport) -> None:
    """What Lava's fixed-point engine does to a reward rule that its float model does not:
    it clips the y traces to [0, 127] at a post neuron's spike step (spec of §10.1), so a
    negative reward trace is zeroed for every epoch in which the post neuron spikes; and a
    9-bit tag a single pairing fills saturates."""
    if rule.reward_weight < 0:
        report.diagnostics.append(Diagnostic(
            "warning", "NM619", f"projection {proj.name}: a negative reward_weight is lost in "
            f"fixed point whenever the post neuron spikes in the learning epoch (Lava's "
            f"fixed-point engine clips the reward trace to 0 … 127 at a post spike; float keeps "
            f"it): the weights do not fall there", proj.location))
    pairing = max(abs(targets[0]) * rule.y1_impulse, abs(targets[1]) * rule.x1_impulse) / gain
    if pairing > rep.tag_range:
        report.diagnostics.append(Diagnostic(
            "warning", "NM623", f"projection {proj.name}: one pre/post pairing adds "
            f"{pairing:.3g} to the eligibility tag, which holds ±{rep.tag_range:.3g} in fixed "
            f"point (9 bits): tags saturate at the first pairing; lower learning_rate, the "
            f"impulses or w_max", proj.location))


def _warn(proj: Projection, rep: LearningReport, report: QuantReport) -> None:
    for p in rep.products:
        if p.target and not p.mantissa:
            report.diagnostics.append(Diagnostic(
                "warning", "NM617", f"projection {proj.name}: learning term {p.variable} "
                f"{p.term} VANISHES in fixed point: it needs a scaling of {p.target:.3g}, below "
                f"half of Lava's smallest (2^-7); raise learning_rate or lower w_max",
                proj.location))
        elif p.relative_error > OFF_BY:
            report.diagnostics.append(Diagnostic(
                "warning", "NM618", f"projection {proj.name}: learning term {p.variable} "
                f"{p.term} is {p.realised:.4g} in fixed point instead of {p.target:.4g} "
                f"({p.relative_error:.0%} off): Lava's scaling m·2^e holds |m| ≤ 7 (8 negative) "
                f"and e in -7..8", proj.location))

