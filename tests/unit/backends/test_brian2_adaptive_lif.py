"""Brian2 runs adaptive LIF populations (Lava's ATRLIF, DESIGN §2.7) with the very floats of the
reference (nmcompile.ir.adaptive_lif_step, run by the oracle): identical spikes and
bit-identical i, v, theta, r, alone, recurrent with delays, driven by currents, next to LIF.

Weights are dyadic, so the input of a step is the same float in any summation order and every
trace must be equal bit for bit. The compiled (cpp_standalone) check of this model is in
test_brian2_izhikevich.py, on one network with both models.
"""
import numpy as np
import pytest
from handbuilt import assert_identical_to_oracle, dyadic_projection, random_spikes, run_brian2

from nmcompile.ir import LIF, AdaptiveLIF, Current, Network, Population, Probe

pytest.importorskip("brian2")

INF = float("inf")


def adaptive(name: str, size: int = 1, **params) -> Population:
    params = {"tau_syn": 5.0, "tau_mem": 10.0, "tau_theta": 50.0, "tau_r": 5.0,
              "theta_0": 1.0, "theta_step": 0.5} | params
    return Population(name=name, size=size, model=AdaptiveLIF(**params))


def network(pops, projections=(), currents=(), steps=200, dt=1.0) -> Network:
    """`pops` with every state variable of every neuron population probed."""
    probes = tuple(Probe(population=p.name, var=var) for p in pops if not p.is_source
                   for var in p.model.STATE)
    return Network(name="adaptive", populations={p.name: p for p in pops},
                   projections=tuple(projections), currents=tuple(currents), probes=probes,
                   steps=steps, dt=dt)


def test_a_spike_at_equality_raises_r_by_twice_theta_then_theta_by_its_step():
    # nothing decays and i = 0, so v = 0.25·(t + 1), exactly: (v - r) >= theta holds with
    # equality at step 3 (1 - 0 = 1), then at step 14 (3.75 - 2 = 1.75)
    n = adaptive("n", tau_syn=0.0, tau_mem=INF, tau_theta=INF, tau_r=INF, bias=0.25,
                 theta_step=0.75)
    net = network([n], steps=16)
    result = run_brian2(net)
    np.testing.assert_array_equal(result.spikes["n"][0], [3, 14])
    v, theta, r = (result.traces[("n", var)][:, 0] for var in ("v", "theta", "r"))
    np.testing.assert_array_equal(v, 0.25 * np.arange(1, 17))               # no reset of v
    np.testing.assert_array_equal(r[[2, 3, 13, 14]], [0.0, 2.0, 2.0, 5.5])    # r + 2·theta ...
    np.testing.assert_array_equal(theta[[2, 3, 13, 14]], [1.0, 1.75, 1.75, 2.5])  # ... then step
    assert_identical_to_oracle(net, result)


def test_a_driven_population_adapts():
    # a constant drive: every spike raises the threshold, so the intervals between spikes grow
    n = adaptive("n", 3, tau_theta=200.0, theta_step=0.25, bias=np.array([0.2, 0.3, 0.45]))
    net = network([n], steps=400)
    result = run_brian2(net)
    t, k = result.spikes["n"]
    theta = result.traces[("n", "theta")]
    for neuron in range(3):
        isi = np.diff(t[k == neuron])
        assert isi.size > 8, neuron
        assert np.all(np.diff(isi[:6]) >= 0) and isi[-1] > isi[0], (neuron, isi)
        assert theta[t[k == neuron][5], neuron] > 1.5 * theta[0, neuron]
    assert_identical_to_oracle(net, result)


def test_recurrent_population_with_delays_currents_and_lif():
    steps = 300
    src = random_spikes("src", 5, steps, rate=0.08, seed=1)
    exc = adaptive("exc", 10, tau_syn=3.0, tau_r=8.0, theta_step=0.375,
                   bias=np.linspace(-0.05, 0.15, 10))
    driven = adaptive("driven", 4, tau_syn=0.0, tau_mem=20.0, tau_theta=30.0, tau_r=2.0,
                      theta_0=2.0, theta_step=1.0)
    inh = Population(name="inh", size=4, model=LIF(tau_syn=2.0, tau_mem=10.0, v_th=1.0,
                                                   refractory=2))
    projections = [dyadic_projection(src, exc, [0.75, 1.5], 3, seed=2),
                   dyadic_projection(exc, exc, [0.25, 0.5, -0.125], 6, seed=3),
                   dyadic_projection(exc, inh, [0.5, 0.75], 4, seed=4),
                   dyadic_projection(inh, exc, [-0.5, -1.0], 2, seed=5),
                   dyadic_projection(exc, driven, [1.0, 0.5], 5, seed=6),
                   dyadic_projection(driven, driven, [-1.25], 1, seed=7)]
    currents = [Current(population="driven", kind="steps",
                        points=np.array([[20.0, 0.25], [150.0, 0.5], [250.0, -0.25]])),
                Current(population="driven", kind="ramp", neurons=np.array([0, 2]),
                        points=np.array([[0.0, 0.0], [300.0, 0.3]]))]
    net = network([src, exc, driven, inh], projections, currents, steps=steps)
    result = run_brian2(net)
    expected = assert_identical_to_oracle(net, result)
    for pop in ("exc", "driven", "inh"):
        assert expected.spikes[pop][0].size > 20, pop
    assert np.unique(expected.spikes["exc"][1]).size == 10
