"""Lava's learning engine as backends/plasticity reproduces it, on cases worked out by hand
from docs/design.md §10 (the comparisons with the real Lava are in test_lava_learning.py and
test_emulator_learning.py): the rounding of parameters to m·2^e, one STDP pairing in float,
the fixed-point shifts and the weight generator's fixed seed."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile.backends.plasticity.connection import LearningConnection
from nmcompile.backends.plasticity.reward_post import RewardTraces
from nmcompile.ir import LavaRule
from nmcompile.ir.learning import literal, nearest_scaling, scaling


def rule(**changes) -> LavaRule:
    values = dict(kind="stdp", learning_rate=0.25, a_plus=1.0, a_minus=-1.0,
                  eligibility_decay=0.0, x1_tau=10.0, x1_impulse=16.0, y1_tau=5.0,
                  y1_impulse=16.0, y2_tau=0.0, reward=None, reward_weight=0.0, t_epoch=1,
                  rng_seed=11, sign_mode="excitatory")
    return LavaRule(**{**values, **changes})


@pytest.mark.parametrize("value, want", [(0.3, (1, -2)), (1.5, (1, 1)), (3.7, (3, 0)),
                                         (0.01, (1, -7)), (-0.5, (-1, -1)), (6, (6, 0))])
def test_parameters_round_as_lavas_float_to_literal(value, want):
    assert literal(value) == want


def test_a_product_beyond_lavas_mantissa_is_refused_and_even_ones_are_folded():
    assert scaling(2, 4) == (4, 1)          # 8: halved only while |m| > 7
    assert scaling(0.5, 6) == (6, -1)        # |6| ≤ 7: kept as it is
    with pytest.raises(ValueError, match="beyond Lava"):
        scaling(3, 3)                        # 9: odd, > 7
    with pytest.raises(ValueError, match="beyond Lava"):
        scaling(0.004)                       # 2^-8
    assert nearest_scaling(0.3) == (5, -4)  # 0.3125, the nearest m·2^e
    assert nearest_scaling(1e6) == (7, 8)


def pairing(fixed: bool, pre_step: int, post_step: int, steps: int = 6, **changes):
    conn = LearningConnection(rule(**changes), np.array([[100.0]]), fixed=fixed, steps=steps)
    for t in range(1, steps + 1):
        conn.spike_phase(t, np.array([t == pre_step]), np.array([t == post_step]))
        conn.learn(t)
    return conn.weights[0, 0]


def test_one_pre_before_post_pairing_in_float_potentiates_by_lr_a_plus_x1():
    # pre at step 1, post at step 3: at the post's epoch x1 = 16·e^(−2/10) (decayed twice),
    # and the pre's own epoch saw y1 = 0
    x1 = 16.0 * np.exp(-1 / 10.0) * np.exp(-1 / 10.0)
    assert pairing(False, 1, 3) == 100.0 + (1 * 2.0 ** -2 * True) * x1
    # post first: depression by lr·a_minus·y1
    y1 = 16.0 * np.exp(-1 / 5.0) * np.exp(-1 / 5.0)
    assert pairing(False, 3, 1) == 100.0 + (-1 * 2.0 ** -2 * True) * y1


def test_fixed_point_pairing_is_the_whole_trace_times_the_scaling_then_rounded():
    # 16 decays twice by e^(−1/10) with stochastic rounding (16·0.905 = 14.5 → 14 or 15,
    # · 0.905 → 12 … 14): the weight gains 2^-2 of it, rounded stochastically; likewise
    # y1 = 16 · e^(−1/5) twice → 10 … 12, lost at 2^-2
    assert pairing(True, 1, 3) - 100 in (3, 4)
    assert pairing(True, 3, 1) - 100 in (-3, -2)


def test_the_weight_generator_ignores_the_seed_and_the_trace_generators_follow_it():
    a = LearningConnection(rule(rng_seed=5), np.ones((1, 1)), fixed=True, steps=4)
    b = LearningConnection(rule(rng_seed=6), np.ones((1, 1)), fixed=True, steps=4)
    assert np.array_equal(a.weight_r, b.weight_r)
    assert np.array_equal(a.weight_r, np.random.default_rng(2).random(5))
    assert not np.array_equal(a.x_decay_r, b.x_decay_r)
    assert np.array_equal(b.y_imp_r, np.random.default_rng(9).integers(0, 128, 9))


def test_fixed_reward_stdp_shifts_tag_times_reward_by_five():
    # dw = u0·t·y2 has widths 9 + 7 + 4 = 20 > 15: Lava shifts the product right by 5
    conn = LearningConnection(rule(kind="reward_stdp", eligibility_decay=0.0,
                                   sign_mode="mixed"),
                              np.zeros((1, 1)), fixed=True, steps=2)
    conn.spike_phase(1, np.array([False]), np.array([False]), np.array([[0], [100], [0]]))
    conn.tag_1[:] = 64
    conn.learn(1)
    assert conn.weights[0, 0] == (64 * 100) >> 5    # 200 (exact: no fraction to round)


def test_float_reward_stdp_grows_by_tag_times_reward():
    conn = LearningConnection(rule(kind="reward_stdp", eligibility_decay=0.0,
                                   sign_mode="mixed"),
                              np.zeros((1, 1)), fixed=False, steps=2)
    conn.spike_phase(1, np.array([False]), np.array([False]), np.array([[0.0], [1.5], [0.0]]))
    conn.tag_1[:] = 0.25
    conn.learn(1)
    y2 = np.exp(-1 / 65535.0) * 1.5     # a three-factor y trace decays with τ = 65535
    assert conn.weights[0, 0] == 0.0 + ((1 * 2.0 ** 0 * 1) * 0.25) * y2


def test_the_reward_trace_takes_the_reward_spikes_one_step_later():
    traces = RewardTraces(rule(kind="reward_stdp", y2_tau=0.0, reward_weight=2.0), 2, 3,
                          fixed=False)
    y = traces.step(np.array([True, False]), np.array([True, True, False]))
    assert y[0].tolist() == [16.0, 0.0] and y[1].tolist() == [0.0, 0.0]
    y = traces.step(np.array([False, False]), np.zeros(3, bool))
    assert y[1].tolist() == [4.0, 4.0]          # two reward spikes, weight 2, a step later
