"""Learning rules a projection may carry (docs/design.md §10): Lava's pair STDP (`STDPLoihi`)
and reward-modulated STDP (`RewardModulatedSTDP`), with their parameters in model units.

Lava's learning engine is normative. Its rule is a sum of products `m · 2^e · dependency ·
factors`, and Lava rounds every parameter to `m · 2^e` when it builds the rule, in float and
fixed point alike (`scaling` below does the same, so the float backends use Lava's values).
Time constants are in ms here and in steps for Lava (tau / dt). Traces are in Lava's units:
an impulse is what one spike adds to its trace; fixed point keeps traces in 7 bits, so an
impulse is at most 127.

Plastic projections are dense (every pre to every post) with delay 1, because Lava's
`LearningDense` learns every entry of its weight matrix and has no delays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .seeds import stable_rng

SIGNS = ("excitatory", "inhibitory", "mixed")
MANTISSA = (-8, 7)    # Lava's scaling mantissa (4 bits, signed)
EXPONENT = (-7, 8)    # and exponent
TRACE_MAX = 127       # a fixed-point trace is 7 bits


def literal(value: float) -> tuple[int, int]:
    """(mantissa, exponent) of one parameter as Lava's float_to_literal writes it into the
    rule string: sign · max(int|v|, 1) · 2^round(log2(rest)) (0.3 → 2⁻², 1.5 → 2, 3.7 → 3)."""
    if value == 0:
        return 0, 0
    sign, magnitude = (1 if value > 0 else -1), abs(float(value))
    mantissa = max(int(magnitude), 1)
    rest = magnitude / mantissa
    if rest == 1:
        return sign * mantissa, 0
    return sign * mantissa, int(np.round(np.log2(rest)))


def scaling(*values: float, sign: int = 1) -> tuple[int, int]:
    """The scaling (m, e) Lava folds from the literals of `values` (their product): mantissas
    multiplied, exponents added, then halved while |m| > 7, m even and e < 8. Raises
    ValueError when the result has no 4-bit mantissa and exponent in −7 … 8."""
    mantissa, exponent = sign, 0
    for value in values:
        m, e = literal(value)
        mantissa, exponent = mantissa * m, exponent + e
    while abs(mantissa) > 7 and mantissa % 2 == 0 and exponent < 8:
        mantissa, exponent = mantissa // 2, exponent + 1
    if mantissa == 0:
        return 0, 0
    if not (MANTISSA[0] <= mantissa <= MANTISSA[1] and EXPONENT[0] <= exponent <= EXPONENT[1]):
        raise ValueError(f"{' × '.join(f'{v:g}' for v in values)} is {mantissa}·2^{exponent}, "
                         f"beyond Lava's m·2^e with {MANTISSA[0]} ≤ m ≤ {MANTISSA[1]}, "
                         f"{EXPONENT[0]} ≤ e ≤ {EXPONENT[1]}")
    return mantissa, exponent


def nearest_scaling(value: float) -> tuple[int, int]:
    """The m · 2^e (Lava's ranges) nearest to `value`, for a scaling the quantization pass
    computes (0 → (0, 0); beyond the range: the largest or smallest representable)."""
    if value == 0:
        return 0, 0
    best = None
    for e in range(EXPONENT[0], EXPONENT[1] + 1):
        m = int(np.clip(np.rint(value / 2.0 ** e), *MANTISSA))
        if m == 0:
            continue
        err = abs(m * 2.0 ** e - value)
        if best is None or err < best[0] or (err == best[0] and abs(m) > abs(best[1])):
            best = (err, m, e)
    return (best[1], best[2]) if best else (0, 0)


@dataclass(frozen=True, kw_only=True)
class STDP:
    """Pair STDP, Lava's STDPLoihi: per learning epoch

        dw = learning_rate · a_minus · x0 · y1 + learning_rate · a_plus · y0 · x1

    x1: pre trace (impulse pre_impulse, time constant tau_plus), y1: post trace
    (post_impulse, tau_minus); x0 / y0: the pre / post neuron spiked in the epoch. a_minus
    is multiplied in as given: depression needs a negative a_minus (Lava's convention).

    t_epoch: steps per learning epoch; sign: the weights' sign bound (excitatory: w ≥ 0,
    inhibitory: w ≤ 0, mixed: none; default: that of the initial weights); w_max: the
    largest |w| fixed point must hold (its 8-bit range is scaled to it; the float backends
    have no magnitude bound, as Lava's float model); seed: Lava's rng_seed for fixed point's
    stochastic rounding (default: derived from the network's seed and the projection).
    """

    kind: ClassVar[str] = "stdp"
    three_factor: ClassVar[bool] = False
    learning_rate: float
    a_plus: float
    a_minus: float
    tau_plus: float
    tau_minus: float
    pre_impulse: float = 16.0
    post_impulse: float = 16.0
    t_epoch: int = 1
    sign: str | None = None
    w_max: float | None = None
    seed: int | None = None

    def products(self) -> dict[str, list[tuple[int, int]]]:
        """The scalings (m, e) of the rule's products, per variable, in Lava's order."""
        return {"weights": [scaling(self.learning_rate, self.a_minus),
                            scaling(self.learning_rate, self.a_plus)]}


@dataclass(frozen=True, kw_only=True)
class RewardSTDP:
    """Reward-modulated STDP, Lava's RewardModulatedSTDP: per learning epoch

        dw = u0 · t · y2
        dt = learning_rate · a_minus · x0 · y1 + learning_rate · a_plus · y0 · x1
             − u0 · t · eligibility_decay

    t: the synapse's eligibility tag; y2: the post neuron's reward trace, which decays with
    reward_tau and grows by reward_weight at each spike of the population `reward` (every
    reward neuron reaches every post neuron, one step later); y1: the post trace
    (post_impulse, tau_minus), x1 the pre trace (pre_impulse, tau_plus); eligibility_decay:
    the fraction of the tag removed each epoch (Lava's eligibility_trace_decay_tau, which is
    a fraction, not a time constant). Other fields as STDP.
    """

    kind: ClassVar[str] = "reward_stdp"
    three_factor: ClassVar[bool] = True
    learning_rate: float
    a_plus: float
    a_minus: float
    tau_plus: float
    tau_minus: float
    eligibility_decay: float
    reward: str
    reward_weight: float = 1.0
    reward_tau: float = 0.0
    pre_impulse: float = 16.0
    post_impulse: float = 16.0
    t_epoch: int = 1
    sign: str | None = None
    w_max: float | None = None
    seed: int | None = None

    def products(self) -> dict[str, list[tuple[int, int]]]:
        """Scalings per variable in Lava's order: dw (u0 · t · y2, scaling 1), then dt."""
        return {"weights": [(1, 0)],
                "tag": [scaling(self.learning_rate, self.a_minus),
                        scaling(self.learning_rate, self.a_plus),
                        scaling(self.eligibility_decay, sign=-1)]}


LearningRule = STDP | RewardSTDP
RULES = {rule.kind: rule for rule in (STDP, RewardSTDP)}


def rng_seed(rule: LearningRule, network_seed: int, projection: str) -> int:
    """Lava's rng_seed of a projection: the rule's, else one derived from the network's seed
    and the projection's name (stable across runs and backends)."""
    if rule.seed is not None:
        return int(rule.seed)
    return int(stable_rng(network_seed, "learning", projection).integers(1, 2**31 - 8))


def sign_of(rule: LearningRule, weights: np.ndarray) -> str:
    """The sign bound of a plastic projection: the rule's, else its initial weights'."""
    if rule.sign is not None:
        return rule.sign
    if not weights.size or weights.min() >= 0:
        return "excitatory"
    return "inhibitory" if weights.max() <= 0 else "mixed"


def decay_per_step(tau_ms: float, dt: float) -> float:
    """exp(−1/τ) with τ in steps (Lava's trace decay); 0 for τ = 0 (no memory)."""
    return float(np.exp(-1.0 / (tau_ms / dt))) if tau_ms > 0 else 0.0


@dataclass(frozen=True, kw_only=True)
class LavaRule:
    """A plastic projection's rule in Lava's terms: what STDPLoihi / RewardModulatedSTDP and
    nmcompile's reward post process take, and what backends/plasticity runs. Float backends
    get it from `lava_rule` (the model's values, time in steps); fixed point from the
    quantization pass (scalings and reward in mantissa units).

    x1: the pre trace; y1: the post trace; y2 (reward rules): the reward trace, which grows
    by reward_weight per reward spike and decays with y2_tau; taus in steps (0: no memory).
    """

    kind: str
    learning_rate: float
    a_plus: float
    a_minus: float
    eligibility_decay: float
    x1_tau: float
    x1_impulse: float
    y1_tau: float
    y1_impulse: float
    y2_tau: float
    reward: str | None
    reward_weight: float
    t_epoch: int
    rng_seed: int
    sign_mode: str
    weight_units: float = 1.0  # weight units per model unit: 1 for float rules, mantissas per
    #                            model unit (q) in fixed point

    @property
    def three_factor(self) -> bool:
        return self.kind == RewardSTDP.kind

    def products(self) -> dict[str, list[tuple[str, int, int, tuple[str, ...]]]]:
        """Lava's product series per synaptic variable, in the order Lava applies them:
        (dependency, mantissa, exponent, factors)."""
        depress = ("x0", *scaling(self.learning_rate, self.a_minus), ("y1",))
        potentiate = ("y0", *scaling(self.learning_rate, self.a_plus), ("x1",))
        if not self.three_factor:
            return {"weights": [depress, potentiate]}
        return {"weights": [("u", 1, 0, ("t", "y2"))],
                "tag_1": [depress, potentiate,
                          ("u", *scaling(self.eligibility_decay, sign=-1), ("t",))]}


def lava_rule(rule: LearningRule, dt: float, network_seed: int, projection: str,
              weights: np.ndarray) -> LavaRule:
    """The float model's rule of a projection: the model's parameters, time in steps."""
    reward = rule.three_factor
    return LavaRule(
        kind=rule.kind, learning_rate=rule.learning_rate, a_plus=rule.a_plus,
        a_minus=rule.a_minus,
        eligibility_decay=rule.eligibility_decay if reward else 0.0,
        x1_tau=rule.tau_plus / dt, x1_impulse=rule.pre_impulse,
        y1_tau=rule.tau_minus / dt, y1_impulse=rule.post_impulse,
        y2_tau=rule.reward_tau / dt if reward else 0.0,
        reward=rule.reward if reward else None,
        reward_weight=rule.reward_weight if reward else 0.0,
        t_epoch=rule.t_epoch, rng_seed=rng_seed(rule, network_seed, projection),
        sign_mode=sign_of(rule, weights))
