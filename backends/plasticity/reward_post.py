"""The traces nmcompile's reward post process sends a reward-modulated projection each step
(docs/design.md §10.2; the Lava process is backends/lava/reward_lif/): Lava's LearningLIF
sends none, so a three-factor rule would never change a weight.

    y1 = post trace:   float y1·d1 + impulse·s        fixed min(127, decay12(y1, d1) + impulse·s)
    y2 = reward trace: float y2·d2 + r                fixed clip(decay12(y2, d2) + r, −128, 127)
    y3 = 0

s: the post neuron's spike of this step; r: the reward input of this step (the spikes of the
reward population one step earlier, each adding reward_weight, through an all-to-all Dense);
d = exp(−1/τ) (float) or round(4096·exp(−1/τ)) (fixed), 0 for τ = 0; decay12 is the
magnitude decay of Lava's bit-accurate LIF, sign(y)·((|y|·d) >> 12): deterministic.
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import LavaRule


def float_decay(tau: float) -> float:
    return float(np.exp(-1.0 / tau)) if tau > 0 else 0.0


def fixed_decay(tau: float) -> int:
    return int(round(4096 * np.exp(-1.0 / tau))) if tau > 0 else 0


def decay12(values: np.ndarray, decay: int) -> np.ndarray:
    values = values.astype(np.int64)
    return np.sign(values) * ((np.abs(values) * decay) >> 12)


class RewardTraces:
    """y1, y2, y3 of one post population, and the reward input of its next step."""

    def __init__(self, rule: LavaRule, n_post: int, n_reward: int, *, fixed: bool):
        self.fixed, self.impulse = fixed, rule.y1_impulse
        kind = np.int64 if fixed else float
        self.y1, self.y2 = np.zeros(n_post, kind), np.zeros(n_post, kind)
        self.reward_in = np.zeros(n_post, kind)
        if fixed:
            self.d1, self.d2 = fixed_decay(rule.y1_tau), fixed_decay(rule.y2_tau)
            self.reward_weights = np.full((n_post, n_reward), int(rule.reward_weight),
                                          np.int64)
        else:
            self.d1, self.d2 = float_decay(rule.y1_tau), float_decay(rule.y2_tau)
            self.reward_weights = np.full((n_post, n_reward), float(rule.reward_weight))

    def step(self, spikes: np.ndarray, reward_spikes: np.ndarray) -> np.ndarray:
        """The post neurons spiked (`spikes`) in this step: update and return (y1, y2, y3);
        the reward population's spikes of this step reach y2 at the next."""
        if self.fixed:
            y1 = decay12(self.y1, self.d1) + int(self.impulse) * spikes
            y2 = decay12(self.y2, self.d2) + self.reward_in
            self.y1, self.y2 = np.minimum(y1, 127), np.clip(y2, -128, 127)
        else:
            self.y1 = self.y1 * self.d1 + self.impulse * spikes
            self.y2 = self.y2 * self.d2 + self.reward_in
        self.reward_in = self.reward_weights[:, reward_spikes].sum(axis=1)
        return np.stack([self.y1, self.y2, np.zeros_like(self.y1)])
