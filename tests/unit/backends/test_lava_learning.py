"""Plastic projections on `lava` and `lava-fixed` (docs/design.md §10): Lava's LearningDense with
STDPLoihi / RewardModulatedSTDP, and nmcompile's RewardLIF as the reward post.

Each Lava run is checked against backends/plasticity (nmcompile's numpy reproduction of Lava's
learning engine, itself checked bit for bit against Lava by an independent re-implementation):
the engine is fed the spikes of the Lava run (pre, post, reward population) and must end with
the very same weights (float: ==, fixed: the same mantissas), the same weight-probe samples,
and deliver the same plastic input, which the post's u shows (tau_syn 0 / du 4095: u holds
only this step's input).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.backends.lava.lowering import build_fixed, build_float
from nmcompile.backends.plasticity.runner import PlasticProjections
from nmcompile.diagnostics import InputError
from nmcompile.ir import (LIF, STDP, FixedLIF, FixedProjection, Izhikevich, LavaRule, Network,
                          Poisson, Population, Probe, Projection, QuantizedNetwork, RewardSTDP,
                          SpikeArray, WeightProbe, source_raster)
from nmcompile.result import Result

pytestmark = pytest.mark.lava
STEPS = 60
EVERY = 7    # weight probe: samples after steps 6, 13, …, 55


def all_to_all(name, pre, post, n_pre, n_post, weight, learning=None) -> Projection:
    post_idx, pre_idx = (a.ravel().astype(np.int32) for a in
                         np.meshgrid(np.arange(n_post), np.arange(n_pre), indexing="ij"))
    return Projection(name=name, pre=pre, post=post, pre_idx=pre_idx, post_idx=post_idx,
                      weight=np.broadcast_to(np.asarray(weight, float), pre_idx.shape).copy(),
                      delay=np.ones(pre_idx.size, np.int32), learning=learning)


def network(rule, *, reward: bool) -> Network:
    """3 Poisson inputs -> 2 LIF neurons (u = this step's input), all-to-all and plastic; with
    `reward`, a LIF critic driven by its own cue (connected to nothing else) is the reward."""
    pops = {"pre": Population(name="pre", size=3, model=Poisson(rate=np.array([150., 250, 350]))),
            "post": Population(name="post", size=2,
                               model=LIF(tau_syn=0.0, tau_mem=10.0, v_th=1.0, bias=0.05))}
    projections = [all_to_all("learn", "pre", "post", 3, 2, [0.5, 0.3, 0.2, 0.4, 0.6, 0.1], rule)]
    if reward:
        pops["cue"] = Population(name="cue", size=1, model=SpikeArray(
            neurons=np.zeros(6, np.int64), steps=np.array([5, 12, 20, 31, 40, 50])))
        pops["critic"] = Population(name="critic", size=1,
                                    model=LIF(tau_syn=0.0, tau_mem=5.0, v_th=0.5))
        projections.append(all_to_all("cue_critic", "cue", "critic", 1, 1, 1.0))
    return Network(name="plastic", populations=pops, projections=tuple(projections),
                   probes=(Probe(population="post", var="u"),),
                   weight_probes=(WeightProbe(projection="learn", every=EVERY),),
                   steps=STEPS, seed=3)


STDP_RULE = STDP(learning_rate=2 ** -5, a_plus=1.0, a_minus=-1.0, tau_plus=4.0,
                 tau_minus=6.0, sign="excitatory")
RSTDP_RULE = RewardSTDP(learning_rate=2 ** -4, a_plus=1.0, a_minus=-1.0, tau_plus=4.0,
                        tau_minus=6.0, eligibility_decay=0.25, reward="critic",
                        reward_weight=2.0, reward_tau=5.0, sign="excitatory")


def quantized(net: Network, *, reward: bool) -> QuantizedNetwork:
    """Registers by hand, weights as mantissas: 64 per model unit (weight_exp 0 shifts none)."""
    base = dict(kind="stdp", learning_rate=0.125, a_plus=1.0, a_minus=-1.0,
                eligibility_decay=0.0, x1_tau=4.0, x1_impulse=20.25, y1_tau=6.0,
                y1_impulse=16.0, y2_tau=0.0, reward=None, reward_weight=0.0, t_epoch=1,
                rng_seed=1234, sign_mode="excitatory", weight_units=64.0)
    if reward:
        base.update(kind="reward_stdp", learning_rate=0.5, eligibility_decay=0.25,
                    x1_impulse=20.0, y2_tau=5.0, reward="critic", reward_weight=24.0,
                    t_epoch=2, rng_seed=77)
    fixed = []
    for proj in net.projections:
        mant = np.rint(proj.weight * 64).astype(np.int32)
        fixed.append(FixedProjection(
            name=proj.name, pre=proj.pre, post=proj.post, pre_idx=proj.pre_idx,
            post_idx=proj.post_idx, weight_mant=mant, delay=proj.delay, weight_exp=0,
            num_weight_bits=8, sign_mode="excitatory",
            learning=LavaRule(**base) if proj.learning else None))
    pops = {"post": FixedLIF(du=4095, dv=400, vth=64, bias_mant=3, bias_exp=0, scale=64.0)}
    if reward:
        pops["critic"] = FixedLIF(du=4095, dv=800, vth=32, bias_mant=0, bias_exp=0, scale=64.0)
    return QuantizedNetwork(network=net, target="hand", populations=pops,
                            projections=tuple(fixed))


def raster(result: Result, net: Network, name: str) -> np.ndarray:
    pop = net.populations[name]
    if pop.is_source:
        return source_raster(pop, net, STEPS)
    out = np.zeros((STEPS, pop.size), bool)
    steps, neurons = result.spikes[name]
    out[steps, neurons] = True
    return out


def replay(net: Network, result: Result, qnet: QuantizedNetwork | None = None):
    """The engine fed the run's spikes: its weights and samples, and the plastic input of the
    post population at each step (row t: what step t receives)."""
    engine = PlasticProjections(net, STEPS, qnet)
    spikes = {name: raster(result, net, name) for name in engine.populations}
    inputs = np.zeros((STEPS, net.populations["post"].size))
    for t in range(STEPS - 1):
        inputs[t + 1] = engine.step(t, {name: s[t] for name, s in spikes.items()})["post"]
    engine.step(STEPS - 1, {name: s[STEPS - 1] for name, s in spikes.items()})
    replayed = Result(spikes={})
    engine.finish(replayed)
    return replayed, inputs


def check_against_engine(net, result, qnet=None):
    replayed, inputs = replay(net, result, qnet)
    initial = (qnet.projections[0].weight_mant if qnet else net.projections[0].weight)
    learned = result.weights["learn"]
    assert learned.dtype == (np.int32 if qnet else np.float64)
    assert not np.array_equal(learned, initial)             # it learned something
    np.testing.assert_array_equal(learned, replayed.weights["learn"])
    samples = result.weight_traces["learn"]
    assert samples.shape == (STEPS // EVERY, 6)
    assert len({s.tobytes() for s in samples}) > 2          # the weights moved during the run
    np.testing.assert_array_equal(samples, replayed.weight_traces["learn"])
    u = result.traces[("post", "u")]
    np.testing.assert_array_equal(u, inputs * 64 if qnet else inputs)
    assert result.spikes["post"][0].size >= 10              # the post neurons took part
    return replayed


def test_stdp_float_learns_as_lava_s_float_engine():
    net = network(STDP_RULE, reward=False)
    result = LavaFloatBackend().run(net, STEPS, options={})
    check_against_engine(net, result)


def test_stdp_fixed_learns_as_lava_s_bit_approximate_engine():
    net = network(STDP_RULE, reward=False)
    qnet = quantized(net, reward=False)
    result = LavaFixedBackend().run(qnet, STEPS, options={})
    check_against_engine(net, result, qnet)
    assert result.meta["weight_scale"] == {"learn": 64.0}


def test_reward_stdp_float_learns_from_the_critic():
    net = network(RSTDP_RULE, reward=True)
    result = LavaFloatBackend().run(net, STEPS, options={})
    assert result.spikes["critic"][0].size >= 3
    check_against_engine(net, result)


def test_reward_stdp_fixed_learns_from_the_critic():
    net = network(RSTDP_RULE, reward=True)
    qnet = quantized(net, reward=True)
    result = LavaFixedBackend().run(qnet, STEPS, options={})
    assert result.spikes["critic"][0].size >= 3
    check_against_engine(net, result, qnet)


def test_a_reward_post_must_be_lif():
    net = network(RSTDP_RULE, reward=True)
    izh = Population(name="post", size=2, model=Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0))
    net = Network(name=net.name, populations={**net.populations, "post": izh},
                  projections=net.projections, steps=STEPS)
    (found,) = [d for d in LavaFloatBackend().check(net) if d.code == "NM402"]
    assert "population post" in found.message and "reward-modulated" in found.message
    with pytest.raises(InputError, match="needs a LIF post population"):
        LavaFloatBackend().run(net, STEPS, options={})


def test_a_reward_post_without_reward_runs_the_registers_of_lava_s_lif():
    """Reward weight 0: y2 stays 0, so dw = t·y2 = 0 and the weights never change; RewardLIF
    must then compute what Lava's own LIF (PyLifModelBitAcc) computes with a plain Dense."""
    net = network(RSTDP_RULE, reward=True)
    net = replace(net, probes=(Probe(population="post", var="v"),),
                  weight_probes=(WeightProbe(projection="learn", every=STEPS + 1),))
    qnet = quantized(net, reward=True)
    silent = replace(qnet, projections=tuple(
        replace(fp, learning=replace(fp.learning, reward_weight=0.0)) if fp.learning else fp
        for fp in qnet.projections))
    static = replace(silent, network=replace(net, weight_probes=(), projections=tuple(
        replace(p, learning=None) for p in net.projections)), projections=tuple(
        replace(fp, learning=None) for fp in qnet.projections))
    assert type(build_fixed(static, STEPS).neurons["post"]).__name__ == "LIF"
    learning = LavaFixedBackend().run(silent, STEPS, options={})
    plain = LavaFixedBackend().run(static, STEPS, options={})
    np.testing.assert_array_equal(learning.weights["learn"], qnet.projections[0].weight_mant)
    assert learning.weight_traces["learn"].shape == (0, 6)  # the run ends before a sample
    assert plain.spikes["post"][0].size >= 10
    for name in ("post", "critic"):
        for got, want in zip(learning.spikes[name], plain.spikes[name]):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(learning.traces[("post", "v")], plain.traces[("post", "v")])


def test_a_plastic_projection_s_pre_post_and_reward_are_one_component():
    """The critic reaches the post only as its reward: run apart, Lava would run the post's
    processes twice (they are connected through the reward Dense)."""
    net = network(RSTDP_RULE, reward=True)
    graph = build_float(net, STEPS)
    assert graph.components == [["post", "critic"]]
    assert type(graph.neurons["post"]).__name__ == "RewardLIF"
    assert set(graph.plastic) == {"learn"}
