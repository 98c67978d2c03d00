"""The `lava` backend (floating_pt) with every LIF variant and injected currents
(docs/design.md §2.5): which process each population gets, and bit-for-bit agreement with
the oracle (nmcompile.ir.lif_step) where each population has one incoming projection."""
from __future__ import annotations

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.backends.lava.session import MIN_CHUNK
from nmcompile.driver import run
from nmcompile.ir import LIF, Current, Network, Poisson, Population, Probe, Projection

pytestmark = pytest.mark.lava
INF = float("inf")
STEPS = 60


def lif(**params) -> LIF:
    return LIF(**{"tau_syn": 3.0, "tau_mem": 12.0, "v_th": 1.0, **params})


def points(*pairs) -> np.ndarray:
    return np.array(pairs, dtype=np.float64)


def variants_net() -> Network:
    """One population per variant, each fed by one projection with one delay from one Poisson
    source, so that a[t] is summed in the same order as the oracle's (Lava's Delay* processes
    add one partial sum per delay)."""
    rng = np.random.default_rng(11)
    pops = {
        "syn0": lif(tau_syn=0.0, v_th=0.6, bias=np.array([0.0, 0.08, -0.05, 0.12]),  # du = 1
                    u_init=np.array([0.5, 0.0, -0.25, 0.1]),
                    v_init=np.array([0.55, 0.0, 0.3, -0.2])),
        "readout": lif(tau_syn=5.0, tau_mem=20.0, v_th=INF),                     # never spikes
        "ref": lif(tau_mem=INF, v_th=0.8, refractory=3, bias=np.array([0.1, 0.0, 0.2, 0.05]),
                   v_init=np.array([0.0, 0.5, 0.9, 0.2])),
        "sub": lif(tau_mem=15.0, v_th=0.7, reset="subtract", bias=0.05),
        "subref": lif(tau_syn=0.0, tau_mem=8.0, v_th=0.5, reset="subtract", refractory=2,
                      bias=0.3),
        "cur": lif(tau_syn=2.0, tau_mem=10.0),
        "curref": lif(tau_syn=2.0, tau_mem=INF, refractory=2, reset="subtract",
                      bias=np.array([0.0, 0.05, -0.02, 0.1])),
        "leaky": lif(tau_mem=6.0, v_th=INF, bias=0.01, v_init=np.array([1.0, -1.0, 0.0, 0.5])),
    }
    populations = {"drive": Population(name="drive", size=6,
                                       model=Poisson(rate=np.full(6, 180.0)))}
    populations |= {name: Population(name=name, size=4, model=m) for name, m in pops.items()}
    projections = []
    for delay, name in enumerate(pops):
        pre, post = np.nonzero(rng.random((6, 4)) < 0.6)
        projections.append(Projection(
            name=f"drive_{name}", pre="drive", post=name, pre_idx=pre.astype(np.int32),
            post_idx=post.astype(np.int32), weight=rng.normal(0.3, 0.4, pre.size),
            delay=np.full(pre.size, 1 + delay % 3, dtype=np.int32)))
    currents = (
        Current(population="cur", kind="steps", points=points((5, 0.2), (20, -0.1), (35, 0.35))),
        Current(population="cur", kind="ramp", neurons=np.array([0, 2]),
                points=points((10, 0.0), (30, 0.4), (50, -0.3))),
        Current(population="cur", kind="file", neurons=np.array([1]),
                values=rng.normal(0.05, 0.2, (STEPS - 20, 1))),
        Current(population="curref", kind="ramp", points=points((0, 0.3), (STEPS, -0.2))),
        Current(population="leaky", kind="steps", neurons=np.array([1, 3]),
                points=points((3, 0.7), (40, -0.4))),
        Current(population="leaky", kind="ramp", points=points((20, 0.1), (55, 0.9))),
    )
    probes = tuple(Probe(population=name, var=var) for name in pops for var in "uv")
    return Network(name="variants", populations=populations, projections=tuple(projections),
                   probes=probes, currents=currents, steps=STEPS)


PROCESS = {"syn0": "LIF", "readout": "LIF", "ref": "LIFRefractory",
           "sub": "NmcLIF", "subref": "NmcLIF", "cur": "NmcLIF", "curref": "NmcLIF",
           "leaky": "NmcLIF"}


def test_lava_s_own_lif_unless_a_feature_needs_nmcompile_s():
    from lava.proc.lif import models as lava
    from nmcompile.backends.lava.lowering import build_float
    from nmcompile.backends.lava.processes import lif as nmc

    graph = build_float(variants_net(), 10)
    assert {name: type(proc).__name__ for name, proc in graph.neurons.items()} == PROCESS
    model_of = {name: graph.models[proc] for name, proc in graph.neurons.items()}
    assert model_of["syn0"] is lava.PyLifModelFloat
    assert model_of["ref"] is lava.PyLifRefractoryModelFloat
    assert model_of["cur"] is nmc.PyNmcLifModelFloat
    assert graph.neurons["syn0"].du.init == 1.0 and graph.neurons["readout"].vth.init == INF


def test_every_lif_feature_and_currents_pass_the_capability_check_of_both():
    net = variants_net()
    for backend in (LavaFloatBackend(), LavaFixedBackend()):
        assert backend.check(net) == []


def test_every_variant_matches_the_oracle_bit_for_bit():
    net = variants_net()
    got = run(net, "lava")
    want = oracle_run(net)
    for name in PROCESS:
        for got_part, want_part in zip(got.spikes[name], want.spikes[name]):
            np.testing.assert_array_equal(got_part, want_part, err_msg=name)
        for var in "uv":
            np.testing.assert_array_equal(got.traces[(name, var)], want.traces[(name, var)],
                                          err_msg=f"{name}.{var}")
    fired = {name: len(got.spikes[name][0]) for name in PROCESS}
    assert fired["readout"] == fired["leaky"] == 0
    assert all(n > 3 for name, n in fired.items() if name not in ("readout", "leaky")), fired
    # the features are exercised, not merely present
    for name in ("sub", "subref", "curref"):  # subtract: some neuron is not at 0 after a spike
        steps, neurons = got.spikes[name]
        assert np.any(got.traces[(name, "v")][steps, neurons] != 0.0), name
    for name, r in (("ref", 3), ("subref", 2), ("curref", 2)):  # v held while refractory
        v = got.traces[(name, "v")]
        for t, n in zip(*got.spikes[name]):
            assert np.all(v[t + 1:t + 1 + r, n] == v[t, n]), (name, t, n)
    assert np.ptp(got.traces[("leaky", "v")][:, 1]) > 0.5  # the currents drive it


def test_a_current_without_any_input_projection_and_across_a_resumed_run():
    """One neuron, no projection, run in two chunks (progress): the current's rows follow
    Lava's time_step across the resume. By hand: v = v + (0 + (0 + c[t])) while free."""
    pops = {"n": Population(name="n", size=1, model=lif(tau_mem=INF, v_th=0.75, refractory=1,
                                                        reset="subtract"))}
    late = MIN_CHUNK + 2  # the current comes back after the seam
    current = Current(population="n", kind="steps",
                      points=points((1, 0.25), (6, 0.0), (late, 0.5)))
    net = Network(name="alone", populations=pops, probes=(Probe(population="n", var="v"),),
                  currents=(current,), steps=MIN_CHUNK + 30)
    result = run(net, "lava", options={"progress": True})
    v = result.traces[("n", "v")][:, 0]
    # 0, .25, .5, .75, then 1.0 > .75 spikes -> .25; held at 5 (else .5); c = 0 from 6 on
    assert v[:9].tolist() == [0, .25, .5, .75, .25, .25, .25, .25, .25]
    assert v[late - 1] == .25 and v[late] == .75 and v[late + 1] == 1.25 - .75
    assert result.spikes["n"][0][:2].tolist() == [4, late + 1]
    want = oracle_run(net)
    np.testing.assert_array_equal(v, want.traces[("n", "v")][:, 0])
    np.testing.assert_array_equal(result.spikes["n"][0], want.spikes["n"][0])
