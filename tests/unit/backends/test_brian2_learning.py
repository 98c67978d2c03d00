"""Plastic projections on the brian2 backend (backends/plasticity's runner stepped by a
network_operation): a pre spike at step t reaches the post at step t + 1 with the weight
before the learning of step t, depression and potentiation come from the right spikes, and
cpp_standalone refuses plastic networks. Lava's float model, bit for bit, on networks of its
own: backends/plasticity's tests; brian2 against emulator-float:
test_emulator_float_learning.py, which builds its networks with the helpers here."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.diagnostics import InputError
from nmcompile.ir import (LIF, Network, Poisson, Population, Probe, Projection, SpikeArray,
                          WeightProbe)
from nmcompile.ir.learning import STDP, RewardSTDP

pytest.importorskip("brian2")


def all_to_all(name: str, pre: Population, post: Population, weight, *, learning=None,
               delay=1) -> Projection:
    """Every pre neuron onto every post neuron (pre-major), the weights as given."""
    pre_idx, post_idx = (a.ravel().astype(np.int32) for a in
                         np.meshgrid(np.arange(pre.size), np.arange(post.size), indexing="ij"))
    return Projection(name=name, pre=pre.name, post=post.name, pre_idx=pre_idx,
                      post_idx=post_idx, learning=learning,
                      weight=np.broadcast_to(weight, pre_idx.shape).astype(float),
                      delay=np.broadcast_to(delay, pre_idx.shape).astype(np.int32))


def spikes_at(size: int, rng, steps: int, count: int) -> SpikeArray:
    keys = np.unique(rng.integers(0, steps, count) * size + rng.integers(0, size, count))
    return SpikeArray(neurons=keys % size, steps=keys // size)


def stdp_network(seed: int = 0, steps: int = 300) -> Network:
    """Two plastic projections into one population, which ordinary synapses of several
    delays and both signs reach too (several in most steps), and a recurrent loop through a
    hidden population: a Poisson source learning with t_epoch 1 (excitatory), hidden neurons
    learning with mixed signs and t_epoch 3; weights of very different magnitudes, so that
    the order of each input sum shows in the last bits."""
    rng = np.random.default_rng(seed)
    pops = [Population(name="noise", size=8, model=Poisson(rate=np.full(8, 60.0))),
            Population(name="cue", size=4, model=spikes_at(4, rng, steps, 60)),
            Population(name="hidden", size=6, model=LIF(tau_syn=3.0, tau_mem=10.0, v_th=1.0,
                                                       bias=0.08)),
            Population(name="out", size=4, model=LIF(tau_syn=4.0, tau_mem=12.0, v_th=1.0,
                                                    refractory=2))]
    noise, cue, hidden, out = pops

    def scale(n: int) -> np.ndarray:
        return rng.uniform(0.5, 1.5, n) * 10.0 ** rng.uniform(-3, 0, n)

    learn_noise = STDP(learning_rate=2 ** -3, a_plus=1.0, a_minus=-1.0, tau_plus=8.0,
                       tau_minus=12.0, pre_impulse=0.5, post_impulse=0.5)
    learn_hidden = STDP(learning_rate=2 ** -2, a_plus=2.0, a_minus=-1.0, tau_plus=5.0,
                        tau_minus=20.0, pre_impulse=0.3, post_impulse=0.2, t_epoch=3,
                        sign="mixed")
    projections = (
        all_to_all("noise_hidden", noise, hidden, 0.5 * scale(48),
                   delay=rng.integers(1, 4, 48)),
        all_to_all("noise_out", noise, out, 0.25 * scale(32), learning=learn_noise),
        all_to_all("hidden_out", hidden, out, rng.normal(0.1, 0.3, 24), learning=learn_hidden),
        all_to_all("cue_out", cue, out, rng.normal(0.2, 0.4, 16) * scale(16),
                   delay=rng.integers(1, 5, 16)),
        all_to_all("noise_out_static", noise, out, rng.normal(0.0, 0.1, 32) * scale(32),
                   delay=rng.integers(1, 3, 32)),
        all_to_all("out_hidden", out, hidden, -0.1 * scale(24), delay=2))
    return Network(name="stdp", populations={p.name: p for p in pops}, projections=projections,
                   probes=(Probe(population="out", var="v"), Probe(population="out", var="u"),
                           Probe(population="hidden", var="v")),
                   weight_probes=(WeightProbe(projection="hidden_out", every=7),),
                   steps=steps, seed=seed)


def rstdp_network(seed: int = 0, steps: int = 300, t_epoch: int = 1) -> Network:
    """Reward-modulated STDP from a Poisson source, the reward the spikes of a neuron
    population (a critic that cue spikes drive), ordinary synapses into the learning
    population too."""
    rng = np.random.default_rng(seed)
    pops = [Population(name="stim", size=6, model=Poisson(rate=np.full(6, 50.0))),
            Population(name="cue", size=2, model=spikes_at(2, rng, steps, steps // 20)),
            Population(name="critic", size=2, model=LIF(tau_syn=2.0, tau_mem=5.0, v_th=1.0)),
            Population(name="out", size=3, model=LIF(tau_syn=4.0, tau_mem=10.0, v_th=1.0,
                                                    bias=0.01))]
    stim, cue, critic, out = pops
    rule = RewardSTDP(learning_rate=2 ** -5, a_plus=1.0, a_minus=-2.0, tau_plus=10.0,
                      tau_minus=8.0, eligibility_decay=0.5, reward="critic",
                      reward_weight=0.25, reward_tau=5.0, pre_impulse=1.0, post_impulse=1.0,
                      t_epoch=t_epoch)
    projections = (
        all_to_all("cue_critic", cue, critic, 3.0),
        all_to_all("stim_out", stim, out, rng.uniform(0.05, 0.5, 18), learning=rule),
        all_to_all("stim_out_fixed", stim, out, rng.normal(0.0, 0.1, 18),
                   delay=rng.integers(1, 3, 18)))
    return Network(name="rstdp", populations={p.name: p for p in pops},
                   projections=projections, probes=(Probe(population="out", var="v"),),
                   weight_probes=(WeightProbe(projection="stim_out", every=1),),
                   steps=steps, seed=seed)


def run(backend_name: str, net: Network, **options):
    backend = get_backend(backend_name)
    return backend.run(driver.prepare(net, backend), net.steps, options=options)


def test_a_pre_spike_reaches_the_post_a_step_later_with_the_weight_before_that_steps_learning():
    """The post (tau_syn 0: u is exactly this step's input) spikes at step 4 only, kicked by
    an ordinary synapse; the plastic synapse's pre spikes at steps 6 and 12. Learning of step 6
    depresses by lr·A− · y1, y1 the post trace decayed twice (Lava's pair STDP); u of step 7
    is the weight before it, and u of step 13 the weight before step 12's depression."""
    kick = Population(name="kick", size=1,
                      model=SpikeArray(neurons=np.array([0]), steps=np.array([3])))
    pre = Population(name="pre", size=1,
                     model=SpikeArray(neurons=np.array([0, 0]), steps=np.array([6, 12])))
    post = Population(name="post", size=1, model=LIF(tau_syn=0.0, tau_mem=1.0, v_th=1.0))
    w0 = 0.75
    rule = STDP(learning_rate=0.5, a_plus=1.0, a_minus=-1.0, tau_plus=10.0, tau_minus=10.0,
                pre_impulse=1.0, post_impulse=1.0)
    net = Network(name="timing", populations={p.name: p for p in (kick, pre, post)},
                  projections=(all_to_all("kick_post", kick, post, 5.0),
                               all_to_all("pre_post", pre, post, w0, learning=rule)),
                  probes=(Probe(population="post", var="u"),),
                  weight_probes=(WeightProbe(projection="pre_post", every=1),), steps=20)
    got = run("brian2", net)
    assert got.spikes["post"][0].tolist() == [4]
    u, samples = got.traces[("post", "u")][:, 0], got.weight_traces["pre_post"][:, 0]
    d = np.exp(-1 / 10.0)
    after_6 = w0 + -0.5 * (d * (d * 1.0))    # y1 after the post spike of step 4, at step 6
    assert samples.shape == (20,)
    assert np.all(samples[:6] == w0) and samples[6] == after_6
    assert np.all(samples[6:12] == after_6) and samples[12] < after_6
    assert u[7] == w0 and u[13] == after_6               # before the learning of 6, of 12
    assert np.count_nonzero(u) == 3 and u[4] == 5.0      # the kick, and the two pre spikes
    np.testing.assert_array_equal(got.weights["pre_post"], samples[-1:])


def test_the_weights_learn_and_are_kept_apart_from_the_static_ones():
    net = stdp_network(steps=150)
    got = run("brian2", net)
    initial = {p.name: p.weight for p in net.projections}
    assert set(got.weights) == {"noise_out", "hidden_out"}
    for name in got.weights:
        assert got.weights[name].shape == initial[name].shape
        assert np.count_nonzero(got.weights[name] != initial[name]) > initial[name].size // 2
    assert got.weights["noise_out"].min() >= 0          # excitatory: the sign bound holds
    assert got.weight_traces["hidden_out"].shape == (150 // 7, 24)
    assert 0 < got.spikes["out"][0].size < 0.5 * 150 * 4


def test_cpp_standalone_refuses_a_plastic_network_before_building_anything():
    with pytest.raises(InputError, match="cpp_standalone cannot run plastic projection.*"
                                         "noise_out, hidden_out.*numpy or cython"):
        run("brian2", stdp_network(steps=10), code_target="cpp_standalone")
