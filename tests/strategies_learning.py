"""Hypothesis strategy for small random networks with plastic projections (docs/design.md
§10), for the parity suites.

    from strategies_learning import plastic_networks   # tests/ is on pytest's pythonpath
    @given(net=plastic_networks())

plastic_networks(*, max_size=5, steps=(30, 70)) -> SearchStrategy[Network]
    A network of `strategies.networks` (plain LIF: no refractory period, no variants, delays
    up to 4) plus one or two dense, delay-1 plastic projections from a source or a LIF
    population into a LIF population, each with pair STDP or reward-modulated STDP drawn
    with its parameters: learning rates and amplitudes Lava represents (powers of two times
    small integers), time constants 2–40 ms, impulses with and without fractions, epochs of
    1–3 steps, either sign bound, a seed; reward rules name a source as their reward
    population (one reward rule per post population, as the format requires). Weight
    probes are added at random.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from nmcompile.ir import Population, Projection, RewardSTDP, STDP, WeightProbe
from strategies import drive_scale, networks


def _rule(rng: np.random.Generator, reward: str | None, weights: np.ndarray):
    common = dict(learning_rate=float(rng.choice([2.0 ** -4, 2.0 ** -3, 2.0 ** -2])),
                  a_plus=float(rng.choice([1.0, 2.0, 3.0])),
                  a_minus=float(rng.choice([-1.0, -2.0, -0.5])),
                  tau_plus=float(rng.uniform(2.0, 40.0)), tau_minus=float(rng.uniform(2.0, 40.0)),
                  pre_impulse=float(rng.choice([16.0, 20.25, 8.5, 40.0])),
                  post_impulse=float(rng.choice([16.0, 11.75, 30.0])),
                  t_epoch=int(rng.choice([1, 1, 2, 3])), seed=int(rng.integers(1, 2**20)))
    if weights.min() < 0 < weights.max() or rng.random() < 0.3:
        common["sign"] = "mixed"
    if rng.random() < 0.5:
        common["w_max"] = float(np.abs(weights).max() * rng.uniform(1.0, 3.0)) or 1.0
    if reward is None:
        return STDP(**common)
    return RewardSTDP(**common, eligibility_decay=float(rng.choice([0.25, 0.5, 0.125])),
                      reward=reward, reward_weight=float(rng.choice([1.0, 2.5, -1.0])),
                      reward_tau=float(rng.choice([0.0, 5.0])))


def _plastic(rng, name: str, pre: Population, post: Population, scale: float,
             reward: str | None) -> Projection:
    pre_idx, post_idx = (a.ravel().astype(np.int32) for a in np.meshgrid(
        np.arange(pre.size), np.arange(post.size), indexing="ij"))
    if rng.random() < 0.7:
        weight = rng.uniform(0.0, 0.8, pre_idx.size) * scale
    else:
        weight = rng.normal(0.2, 0.5, pre_idx.size) * scale
    return Projection(name=name, pre=pre.name, post=post.name, pre_idx=pre_idx,
                      post_idx=post_idx, weight=weight,
                      delay=np.ones(pre_idx.size, np.int32),
                      learning=_rule(rng, reward, weight))


@st.composite
def plastic_networks(draw, *, max_size: int = 5, steps: tuple[int, int] = (30, 70)):
    net = draw(networks(max_size=max_size, steps=steps, max_delay=4, refractory=False))
    rng = np.random.default_rng(net.seed + 1)
    lifs = list(net.neuron_populations())
    sources = [p for p in net.populations.values() if p.is_source]
    plastic, rewarded = [], set()
    for k in range(draw(st.integers(1, 2))):
        post = lifs[int(rng.integers(len(lifs)))]
        pre = (sources + lifs)[int(rng.integers(len(sources) + len(lifs)))]
        reward = None
        if post.name not in rewarded and rng.random() < 0.5:
            reward = sources[int(rng.integers(len(sources)))].name
            rewarded.add(post.name)
        plastic.append(_plastic(rng, f"plastic{k}", pre, post, drive_scale(post.model), reward))
    probes = tuple(WeightProbe(projection=p.name, every=int(rng.integers(1, 8)))
                   for p in plastic if rng.random() < 0.5)
    return replace(net, projections=net.projections + tuple(plastic), weight_probes=probes)
