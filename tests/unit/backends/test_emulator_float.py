"""`emulator-float` (backends/emulator_float) against the real brian2 backend, bit for bit:
every spike and every probed value identical, on networks where the order of each step's
sum of inputs shows in the last bits (several channels into one population, several
projections of one pair, delays 1..5, weights of mixed sign and magnitude), and on every
LIF variant, Izhikevich, adaptive LIF, both spike sources and the three kinds of current.
Also: the same results when neurons are split into ranges updated and delivered in any order
(what threads and MPI ranks will do), and the queue and spike buffers growing mid-run.
Generated networks: tests/parity/test_emulator_float_vs_brian2.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.backends.emulator_float import EmulatorFloatBackend, engine, kernel
from nmcompile.ir import (LIF, AdaptiveLIF, Current, Izhikevich, Network, Poisson, Population,
                          Probe, Projection, SpikeArray)
from nmcompile.parity.compare import compare_bit_exact, compare_float_exact

EMULATOR_FLOAT = EmulatorFloatBackend()  # by class: its entry point may not be registered yet


@pytest.fixture(scope="module")
def brian2():
    backend = get_backend("brian2")
    if backend.missing_dependency():
        pytest.skip(backend.missing_dependency())
    return backend


def run(backend, net: Network):
    return backend.run(driver.prepare(net, backend), net.steps, options={})


def assert_identical(net: Network, reference, got) -> None:
    """Bit-exact (spikes and every probed value; NaN nowhere) and so float-exact without a tie."""
    pair = compare_bit_exact(net, "brian2", reference, "emulator-float", got, net.steps)
    assert pair.verdict == "pass", (pair.first, pair.details, pair.note)
    assert compare_float_exact(net, "brian2", reference, "emulator-float", got,
                               net.steps).verdict == "pass"
    assert set(got.traces) == {(p.population, p.var) for p in net.probes}
    assert not any(np.isnan(trace).any() for trace in got.traces.values())


def random_projection(rng, name: str, pre: Population, post: Population, p: float,
                      scale: float, max_delay: int = 5) -> Projection:
    """Synapses with probability p, weights of both signs over two decades, delays 1..max."""
    pre_idx, post_idx = np.nonzero(rng.random((pre.size, post.size)) < p)
    weight = rng.normal(0.2, 1.0, pre_idx.size) * scale * 10 ** rng.uniform(-2, 0, pre_idx.size)
    return Projection(name=name, pre=pre.name, post=post.name, pre_idx=pre_idx.astype(np.int32),
                      post_idx=post_idx.astype(np.int32), weight=weight,
                      delay=rng.integers(1, max_delay + 1, pre_idx.size).astype(np.int32))


def spike_array(rng, size: int, steps: int, count: int) -> SpikeArray:
    keys = np.unique(rng.integers(0, steps, count) * size + rng.integers(0, size, count))
    return SpikeArray(neurons=keys % size, steps=keys // size)


def many_channels(seed: int = 1, steps: int = 200) -> Network:
    """Every model and Brian2 group (lif, lif_refractory, lif_subtract, izhikevich,
    adaptive_lif, sources) projecting into every neuron population, some pairs twice, all
    probed: the inputs of one step reach a neuron through several channels and delays."""
    rng = np.random.default_rng(seed)
    models = {"noise": Poisson(rate=np.full(30, 150.0)),
              "cue": spike_array(rng, 10, steps, 200),
              "plain": LIF(tau_syn=5.0, tau_mem=20.0, v_th=1.0),
              "refractory": LIF(tau_syn=2.0, tau_mem=10.0, v_th=1.0, refractory=2, bias=0.05),
              "subtract": LIF(tau_syn=3.0, tau_mem=10.0, v_th=1.0, reset="subtract", bias=0.02),
              "izh": Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0, tau_syn=4.0, bias=3.0),
              "ada": AdaptiveLIF(tau_syn=4.0, tau_mem=10.0, tau_theta=50.0, tau_r=5.0,
                                 theta_0=1.0, theta_step=0.2, bias=0.05)}
    sizes = {"noise": 30, "cue": 10, "plain": 12, "refractory": 10, "subtract": 10, "izh": 8,
             "ada": 8}
    pops = {name: Population(name=name, size=sizes[name], model=m) for name, m in models.items()}
    projections = []
    for post, scale in (("plain", 0.5), ("refractory", 0.5), ("subtract", 0.5), ("izh", 2.0),
                        ("ada", 0.5)):
        for pre in ("noise", "cue", "plain", "refractory", "subtract", "izh", "ada", "noise",
                    "plain"):
            projections.append(random_projection(rng, f"p{len(projections)}", pops[pre],
                                                 pops[post], 0.4, scale))
    probes = tuple(Probe(population=name, var=var) for name, pop in pops.items()
                   if not pop.is_source for var in pop.model.STATE)
    return Network(name="channels", populations=pops, projections=tuple(projections),
                   probes=probes, steps=steps, seed=seed)


def test_sums_inputs_in_brian2s_order(brian2, monkeypatch):
    net = many_channels()
    reference, got = run(brian2, net), run(EMULATOR_FLOAT, net)
    assert_identical(net, reference, got)
    for pop in net.neuron_populations():  # every population takes part
        assert 20 < got.spikes[pop.name][0].size, pop.name
    # The network tells summation orders apart: the oracle adds projection by projection,
    # and channels taken in another order give other last bits, at once.
    assert compare_bit_exact(net, "brian2", reference, "oracle", oracle_run(net),
                             net.steps).verdict == "fail"
    in_order = engine.channels
    monkeypatch.setattr(engine, "channels", lambda n: [max(in_order(n)) - c if c >= 0 else -1
                                                         for c in in_order(n)])
    assert compare_bit_exact(net, "brian2", reference, "reversed", run(EMULATOR_FLOAT, net),
                             net.steps).verdict == "fail"


def test_every_lif_variant_model_and_current_as_brian2(brian2):
    """tau_syn 0 and inf, tau_mem inf, v_th inf, refractory with zero and subtract reset,
    per-neuron bias and initial values, currents by steps, ramp and file, into each model."""
    rng = np.random.default_rng(5)
    steps = 150
    models = {
        "src": Poisson(rate=np.full(20, 120.0)),
        "tau_syn_0": LIF(tau_syn=0.0, tau_mem=10.0, v_th=0.8, bias=0.02),
        "no_decay": LIF(tau_syn=float("inf"), tau_mem=float("inf"), v_th=1.5, bias=-0.01),
        "readout": LIF(tau_syn=5.0, tau_mem=20.0, v_th=float("inf"), reset="subtract"),
        "refractory": LIF(tau_syn=3.0, tau_mem=15.0, v_th=1.0, refractory=3,
                          bias=rng.normal(0.05, 0.03, 6), v_init=rng.uniform(0, 1.2, 6),
                          u_init=rng.normal(0, 0.2, 6)),
        "ref_subtract": LIF(tau_syn=3.0, tau_mem=15.0, v_th=1.0, refractory=2, reset="subtract",
                            bias=0.03, v_init=rng.uniform(0, 1.2, 6)),
        "subtract": LIF(tau_syn=3.0, tau_mem=15.0, v_th=1.0, reset="subtract"),
        "izh": Izhikevich(a=0.02, b=0.2, c=-55.0, d=4.0, v_init=rng.uniform(-75, -55, 6),
                          u_init=rng.uniform(-20, 0, 6), bias=rng.normal(2.0, 1.0, 6)),
        "ada": AdaptiveLIF(tau_syn=0.0, tau_mem=8.0, tau_theta=40.0, tau_r=3.0, theta_0=0.8,
                           theta_step=0.3, bias=rng.normal(0.05, 0.02, 6))}
    pops = {name: Population(name=name, size=20 if name == "src" else 6, model=m)
            for name, m in models.items()}
    pairs = [(pre, post) for post in list(models)[1:] for pre in ("src", post, "refractory")]
    projections = [random_projection(rng, f"p{k}", pops[pre], pops[post], 0.5,
                                     8.0 if post == "izh" else 0.6)
                   for k, (pre, post) in enumerate(pairs)]
    currents = (
        # v beyond 2·v_th for a while: still above v_th after the subtraction, held anyway
        Current(population="ref_subtract", kind="steps",
                points=np.array([[0, 0.0], [40, 2.5], [60, 0.2]])),
        Current(population="subtract", kind="ramp", neurons=np.array([1, 4]),
                points=np.array([[0, 0.0], [80, 0.3], [120, -0.1]])),
        Current(population="izh", kind="file", values=rng.normal(3.0, 2.0, (100, 6))),
        Current(population="ada", kind="steps", points=np.array([[10, 0.1]])),
        Current(population="ada", kind="ramp", points=np.array([[0, 0.0], [150, 0.2]])))
    probes = tuple(Probe(population=name, var=var) for name, pop in pops.items()
                   if not pop.is_source for var in pop.model.STATE)
    net = Network(name="variants", populations=pops, projections=tuple(projections),
                  probes=probes, currents=currents, steps=steps, seed=3)
    got = run(EMULATOR_FLOAT, net)
    assert_identical(net, run(brian2, net), got)
    for name in models:
        if name not in ("src", "readout"):
            assert got.spikes[name][0].size > 5, name
    assert got.spikes["readout"][0].size == 0 and np.ptp(got.traces[("readout", "v")]) > 0


def test_growing_queue_and_spike_buffer_as_brian2(brian2):
    """~100 source spikes a step into one channel (the queue starts QUEUE_WIDTH entries wide)
    and neurons spiking every other step (more spikes than the first spike buffer holds)."""
    steps, size = 400, 10
    pops = {"src": Population(name="src", size=200, model=Poisson(rate=np.full(200, 500.0))),
            "out": Population(name="out", size=size,
                              model=LIF(tau_syn=2.0, tau_mem=5.0, v_th=0.5, bias=0.6))}
    rng = np.random.default_rng(2)
    net = Network(name="busy", populations=pops, steps=steps, seed=4,
                  projections=(random_projection(rng, "in", pops["src"], pops["out"], 1.0, 0.1,
                                                 max_delay=3),),
                  probes=(Probe(population="out", var="v"),))
    assert engine.QUEUE_WIDTH < 200 * 500.0 * net.dt / 1000   # source spikes a step, expected
    got = run(EMULATOR_FLOAT, net)
    assert got.spikes["out"][0].size > engine.build(net, steps).record.spike_t.size
    assert_identical(net, run(brian2, net), got)


def test_push_widens_a_full_queue_and_keeps_what_it_held():
    syn = engine.Synapses(n_channels=1, pre_seg=np.array([0, 1]), seg_start=np.array([0, 1]),
                          seg_channel=np.zeros(1, np.int32), seg_delay=np.ones(1, np.int32),
                          post=np.zeros(1, np.int32), weight=np.ones(1))
    length, queue = np.array([0, 2]), np.array([[0, 0], [7, 8]])
    wider = kernel.push(0, 0, syn, length, queue)
    assert wider.shape == (2, 4) and length.tolist() == [0, 3]
    assert wider[1, :3].tolist() == [7, 8, 0]


def run_in_ranges(net: Network, cuts: list[int]):
    """The kernel's three phases step by step, neurons cut into ranges at `cuts`, each phase's
    ranges taken last to first (as threads might finish): (spike steps, neurons, traces)."""
    a = engine.build(net, net.steps)
    length, queue = engine.empty_queue(a)
    n = a.neurons.acc.size
    ranges = list(zip([0, *cuts], [*cuts, n]))[::-1]
    flat, spikes, traces = a.neurons.state.reshape(-1), [], []
    for t in range(net.steps):
        for lo, hi in ranges:
            kernel.deliver(t, lo, hi, a.syn, length, queue, a.neurons.acc)
        kernel.clear_arrival(t, a.syn, length)
        fired = {lo: a.neurons.fired[lo:lo + kernel.update(t, lo, hi, a.neurons)].copy()
                 for lo, hi in ranges}
        for pre in [*np.concatenate([fired[lo] for lo in sorted(fired)]),
                    *a.src_pre[a.src_ptr[t]:a.src_ptr[t + 1]]]:
            queue = kernel.push(t, pre, a.syn, length, queue)
        spikes += [(t, i) for lo in sorted(fired) for i in fired[lo]]
        traces.append(flat[a.record.probe_at].copy())
    return spikes, np.array(traces)


def test_neurons_split_into_ranges_give_bit_identical_results():
    net = many_channels(seed=2, steps=80)
    whole = engine.emulate(net, net.steps)
    offset = np.cumsum([0] + [p.size for p in net.neuron_populations()])
    expected = sorted((int(t), int(i + offset[k])) for k, pop in enumerate(net.neuron_populations())
                      for t, i in zip(*whole.spikes[pop.name]))
    values = np.concatenate([whole.traces[(p.population, p.var)] for p in net.probes], axis=1)
    assert len(expected) > 300
    for cuts in ([], [1], [13, 20, 21, 40, 57], list(range(1, 58))):
        spikes, traces = run_in_ranges(net, cuts)
        assert spikes == expected, cuts
        assert np.array_equal(traces, values), cuts


def test_runs_every_feature_brian2_runs(brian2):
    ours, theirs = EMULATOR_FLOAT.capabilities, brian2.capabilities
    assert not ours.fixed_point and ours.max_delay is None
    assert dict(ours.models) == dict(theirs.models)
    assert EMULATOR_FLOAT.name == "emulator-float"


def test_network_without_synapses():
    pops = {"src": Population(name="src", size=2, model=SpikeArray()),
            "lif": Population(name="lif", size=3, model=LIF(tau_syn=5.0, tau_mem=10.0, v_th=1.0,
                                                            bias=np.array([0.0, 0.2, 0.5])))}
    net = Network(name="quiet", populations=pops, probes=(Probe(population="lif", var="u"),),
                  steps=30)
    got = run(EMULATOR_FLOAT, net)
    assert set(got.spikes) == {"lif"} and got.traces[("lif", "u")].shape == (30, 3)
    assert not got.traces[("lif", "u")].any()
    steps, neurons = got.spikes["lif"]
    assert set(neurons.tolist()) == {1, 2} and np.all(np.diff(steps) >= 0)
