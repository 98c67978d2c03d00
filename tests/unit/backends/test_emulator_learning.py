"""The emulator's learning against the real Lava's fixed point (LearningDense, bit-approximate
model): every spike, the learned weights and every weight sample equal, for pair STDP and
reward-modulated STDP, on hand-built registers (the quantization of rules is tested in
tests/unit/passes; here the same LavaRule reaches both backends)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from handbuilt import fixed_network, fixed_projection, source

from nmcompile.backends import get_backend
from nmcompile.ir import (LIF, FixedLIF, LavaRule, Population, Projection, RewardSTDP, STDP,
                          WeightProbe)

pytestmark = pytest.mark.lava

LIF_MODEL = LIF(tau_syn=5.0, tau_mem=10.0, v_th=1.0)
REGISTERS = FixedLIF(du=410, dv=410, vth=100, bias_mant=0, bias_exp=0, scale=6400.0)


def plastic_network(kind: str, *, steps: int, n_pre: int, n_post: int, t_epoch: int,
                    sign_mode: str, weight_exp: int, seed: int):
    """Random pre spikes (and reward spikes) into a LIF population through one dense plastic
    projection whose rule reaches both backends as the same LavaRule."""
    rng = np.random.default_rng(seed)
    t, n = np.nonzero(rng.random((steps, n_pre)) < 0.25)
    pops = [(source("in", n_pre, t, n), None),
            (Population(name="out", size=n_post, model=LIF_MODEL), REGISTERS)]
    pre_idx, post_idx = (a.ravel() for a in np.meshgrid(np.arange(n_pre), np.arange(n_post),
                                                        indexing="ij"))
    low = -120 if sign_mode == "mixed" else 20
    mant = rng.integers(low, 120, pre_idx.size)
    three = kind == "reward_stdp"
    rule = LavaRule(kind=kind, learning_rate=0.5 if three else 0.25, a_plus=2, a_minus=-1,
                    eligibility_decay=0.25 if three else 0.0, x1_tau=10.5, x1_impulse=20.25,
                    y1_tau=7, y1_impulse=11.5, y2_tau=5 if three else 0.0,
                    reward="da" if three else None, reward_weight=30 if three else 0,
                    t_epoch=t_epoch, rng_seed=seed + 90, sign_mode=sign_mode)
    if three:
        rewards = np.flatnonzero(rng.random(steps) < 0.1)
        pops.insert(1, (source("da", 1, rewards, np.zeros(rewards.size, np.int64)), None))
        learning = RewardSTDP(learning_rate=0.5, a_plus=2, a_minus=-1, tau_plus=10.5,
                              tau_minus=7, eligibility_decay=0.25, reward="da")
    else:
        learning = STDP(learning_rate=0.25, a_plus=2, a_minus=-1, tau_plus=10.5, tau_minus=7)
    fp = replace(fixed_projection("p", "in", "out", pre_idx, post_idx, mant,
                                  weight_exp=weight_exp), sign_mode=sign_mode, learning=rule)
    qnet = fixed_network(pops, [fp], steps=steps)
    plastic = Projection(name="p", pre="in", post="out", pre_idx=fp.pre_idx,
                         post_idx=fp.post_idx, weight=mant.astype(float),
                         delay=fp.delay, learning=learning)
    net = replace(qnet.network, projections=(plastic,),
                  weight_probes=(WeightProbe(projection="p", every=7),))
    return replace(qnet, network=net)


def assert_same_learning(qnet, threads: int = 1):
    steps = qnet.network.steps
    emulated = get_backend("emulator").run(qnet, steps, options={"threads": threads})
    lava = get_backend("lava-fixed").run(qnet, steps, options={})
    for a, b in zip(emulated.spikes["out"], lava.spikes["out"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(emulated.weights["p"], lava.weights["p"])
    np.testing.assert_array_equal(emulated.weight_traces["p"], lava.weight_traces["p"])
    assert emulated.weight_traces["p"].shape == (steps // 7, qnet.projections[0].pre_idx.size)
    initial = qnet.network.projections[0].weight
    assert np.count_nonzero(emulated.weights["p"] != initial) > initial.size // 2  # it learned
    assert emulated.spikes["out"][0].size > 10
    return emulated


def test_stdp_two_step_epochs_mixed_signs_on_two_threads_equals_lava_fixed():
    qnet = plastic_network("stdp", steps=60, n_pre=6, n_post=3, t_epoch=2,
                           sign_mode="mixed", weight_exp=3, seed=3)
    assert_same_learning(qnet, threads=2)


def test_reward_stdp_with_a_reward_population_equals_lava_fixed():
    qnet = plastic_network("reward_stdp", steps=60, n_pre=5, n_post=3, t_epoch=1,
                           sign_mode="excitatory", weight_exp=3, seed=4)
    result = assert_same_learning(qnet)
    assert result.meta["weight_scale"] == {"p": 1.0}

