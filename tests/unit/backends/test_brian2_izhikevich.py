"""Brian2 runs Izhikevich (2004) populations (DESIGN §2.6) with the very floats of the reference
(nmcompile.ir.izhikevich_step, run by the oracle): identical spikes and bit-identical v, u, i,
alone, recurrent with delays, driven by currents, and next to LIF and adaptive populations.

Weights are dyadic (a few bits of mantissa), so the input of a step is the same float in any
summation order: the one freedom §2.2 leaves a backend cannot hide a difference here, and
every trace must be equal bit for bit. Generated networks (random float weights, several
projections into a population) may differ in the last bits of a sum, so their traces are
compared within 1e-12, as LIF's in test_brian2.py.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from handbuilt import assert_identical_to_oracle, dyadic_projection, random_spikes, run_brian2
from oracle import oracle_run
from strategies import networks

from nmcompile.ir import (LIF, AdaptiveLIF, Current, Izhikevich, Network, Population, Probe,
                          Projection, SpikeArray)

pytest.importorskip("brian2")

REGULAR_SPIKING = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 6.0}


def every_state_probed(pops: list[Population]) -> tuple[Probe, ...]:
    return tuple(Probe(population=p.name, var=var) for p in pops if not p.is_source
                 for var in p.model.STATE)


def network(pops, projections=(), currents=(), steps=400, dt=0.25, probes=None) -> Network:
    """`pops` with every state variable of every neuron population probed (or `probes`)."""
    return Network(name="izhikevich", populations={p.name: p for p in pops},
                   projections=tuple(projections), currents=tuple(currents), steps=steps,
                   dt=dt, probes=every_state_probed(pops) if probes is None else probes)


def izhikevich(name: str, size: int = 1, **params) -> Population:
    return Population(name=name, size=size, model=Izhikevich(**(REGULAR_SPIKING | params)))


def test_regular_spiking_neuron_fires_from_the_step_its_current_starts():
    # the paper's RS cell (d = 6 here), at rest until a current of 14 switches on at step 41;
    # the same cell without a current (a group of its own) stays at rest
    rs, rest = izhikevich("rs", v_init=-70.0), izhikevich("rest", v_init=-70.0)
    net = network([rs, rest], currents=[Current(population="rs", kind="steps",
                                                points=np.array([[41.0, 14.0]]))], steps=800)
    result = run_brian2(net)
    t, _ = result.spikes["rs"]
    v, u, i = (result.traces[("rs", var)][:, 0] for var in ("v", "u", "i"))
    assert result.spikes["rest"][0].size == 0 and t.size > 8 and t[0] > 41
    v_rest = result.traces[("rest", "v")][:, 0]
    np.testing.assert_array_equal(v[:41], v_rest[:41])   # step t reads the current of step t
    assert v[41] > v_rest[41] and not i.any()             # (not a synaptic input)
    assert np.all(v[t] == -65.0)                          # v = c after each spike ...
    assert np.all(u[t] - u[t - 1] > 5.0)                  # ... and u jumps by about d
    isi = np.diff(t)
    assert isi[-1] > isi[0]                               # regular spiking adapts
    assert_identical_to_oracle(net, result)


def test_u_init_defaults_to_b_times_v_init_per_neuron():
    n = izhikevich("n", 3, v_init=np.array([-70.0, -60.0, -65.0]))
    explicit = izhikevich("explicit", 3, v_init=np.array([-70.0, -60.0, -65.0]),
                          u_init=np.array([-14.0, -12.0, -13.0]))
    net = network([n, explicit], steps=50)
    result = run_brian2(net)
    for var in ("v", "u"):
        np.testing.assert_array_equal(result.traces[("n", var)],
                                      result.traces[("explicit", var)])
    assert_identical_to_oracle(net, result)


def test_recurrent_population_with_delays_currents_and_per_neuron_values():
    steps = 600
    src = random_spikes("src", 6, steps, rate=0.03, seed=1)
    exc = izhikevich("exc", 12, tau_syn=3.0, d=8.0,
                     bias=np.linspace(0.0, 4.5, 12), v_init=np.linspace(-72.0, -58.0, 12),
                     u_init=np.linspace(-16.0, -10.0, 12))
    inh = izhikevich("inh", 5, a=0.1, d=2.0, v_init=np.array([-65.0, -64.5, -66.0, -70.0, -61.0]))
    projections = [dyadic_projection(src, exc, [9.5, 12.25, 16.0], 4, seed=2),
                   dyadic_projection(exc, exc, [2.5, 3.75, -1.5], 6, seed=3),
                   dyadic_projection(exc, inh, [6.0, 8.5], 3, seed=4, density=0.7),
                   dyadic_projection(inh, exc, [-4.0, -6.25], 5, seed=5)]
    currents = [Current(population="inh", kind="ramp",
                        points=np.array([[50.0, 0.0], [400.0, 9.0], [500.0, 3.0]])),
                Current(population="inh", kind="steps", neurons=np.array([1, 3]),
                        points=np.array([[0.0, 1.5], [300.0, -2.0]]))]
    net = network([src, exc, inh], projections, currents, steps=steps)
    result = run_brian2(net)
    expected = assert_identical_to_oracle(net, result)
    assert expected.spikes["exc"][0].size > 60 and expected.spikes["inh"][0].size > 20
    assert np.unique(expected.spikes["exc"][1]).size == 12          # every neuron takes part
    assert result.traces[("exc", "i")].min() < 0 < result.traces[("exc", "i")].max()


def test_tau_syn_0_gives_i_only_this_steps_input():
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0, 0]),
                                                          steps=np.array([3, 4])))
    n = izhikevich("n", 2, v_init=-80.0)
    proj = Projection(name="p", pre="src", post="n", pre_idx=np.zeros(2, np.int32),
                      post_idx=np.arange(2, dtype=np.int32), weight=np.array([2.5, -1.0]),
                      delay=np.array([1, 3], np.int32))
    net = network([src, n], [proj], steps=20)
    result = run_brian2(net)
    i = result.traces[("n", "i")]
    expected_i = np.zeros((20, 2))
    expected_i[[4, 5], 0] = 2.5
    expected_i[[6, 7], 1] = -1.0
    np.testing.assert_array_equal(i, expected_i)
    assert_identical_to_oracle(net, result)


def mixed_network(steps: int = 300) -> Network:
    """Izhikevich, LIF and adaptive populations in one loop with delays: two Izhikevich
    populations of different parameters (one group), one with a current (a group of its own),
    a LIF and two adaptive populations (with and without a current) between them; only some
    state variables probed."""
    src = random_spikes("src", 4, steps, rate=0.05, seed=7)
    rs = izhikevich("rs", 4, tau_syn=5.0, bias=np.array([0.0, 1.0, 2.0, 3.0]))
    fs = izhikevich("fs", 3, a=0.1, d=2.0, tau_syn=2.0)
    chattering = izhikevich("ch", 2, c=-50.0, d=2.0, v_init=-60.0)
    lif = Population(name="lif", size=3, model=LIF(tau_syn=5.0, tau_mem=10.0, v_th=2.0))
    adaptive = Population(name="adaptive", size=3, model=AdaptiveLIF(
        tau_syn=4.0, tau_mem=10.0, tau_theta=40.0, tau_r=8.0, theta_0=1.0, theta_step=0.5))
    driven = Population(name="driven", size=2, model=AdaptiveLIF(
        tau_syn=0.0, tau_mem=20.0, tau_theta=60.0, tau_r=5.0, theta_0=2.0, theta_step=0.5))
    projections = [dyadic_projection(src, rs, [10.0, 14.5], 3, seed=8, density=0.8),
                   dyadic_projection(rs, lif, [0.25, 0.375], 4, seed=9, density=0.8),
                   dyadic_projection(lif, adaptive, [1.0, 1.25], 2, seed=10, density=0.8),
                   dyadic_projection(adaptive, fs, [4.0, 6.0], 5, seed=11, density=0.8),
                   dyadic_projection(fs, rs, [-1.0, -1.5], 2, seed=12, density=0.8),
                   dyadic_projection(rs, chattering, [7.5], 3, seed=13, density=0.8),
                   dyadic_projection(driven, chattering, [5.0], 1, seed=14, density=1.0)]
    currents = [Current(population="ch", kind="steps", points=np.array([[20.0, 10.0]])),
                Current(population="driven", kind="ramp",
                        points=np.array([[0.0, 0.0], [200.0, 0.5]]))]
    probes = (Probe(population="rs", var="v"), Probe(population="fs", var="i"),
              Probe(population="ch", var="u"), Probe(population="ch", var="i"),
              Probe(population="lif", var="v"), Probe(population="adaptive", var="theta"),
              Probe(population="driven", var="i"), Probe(population="driven", var="r"))
    return network([src, rs, fs, chattering, lif, adaptive, driven], projections, currents,
                   steps=steps, probes=probes)


def test_next_to_lif_and_adaptive_populations():
    from nmcompile.backends.brian2.lowering import layout

    net = mixed_network()
    assert {name: (s.group, s.start) for name, s in layout(net).items()} == {
        "src": ("sources", 0), "rs": ("izhikevich", 0), "fs": ("izhikevich", 4),
        "ch": ("izhikevich_current", 0), "lif": ("lif", 0), "adaptive": ("adaptive_lif", 0),
        "driven": ("adaptive_lif_current", 0)}
    result = run_brian2(net)
    expected = assert_identical_to_oracle(net, result)
    assert all(expected.spikes[p.name][0].size > 5 for p in net.neuron_populations())


@settings(derandomize=True, max_examples=15, deadline=None)
@given(net=networks(variants=True, currents=True, models=("lif", "izhikevich", "adaptive_lif")))
def test_generated_networks_of_every_model_match_the_oracle(net):
    expected, result = oracle_run(net), run_brian2(net)
    for pop, (t, n) in expected.spikes.items():
        np.testing.assert_array_equal(result.spikes[pop][0], t, err_msg=f"{pop} spike steps")
        np.testing.assert_array_equal(result.spikes[pop][1], n, err_msg=f"{pop} spike neurons")
    assert set(result.traces) == set(expected.traces)
    for key, trace in expected.traces.items():
        np.testing.assert_allclose(result.traces[key], trace, rtol=1e-12, atol=1e-12,
                                   err_msg=f"trace {key}")


@pytest.mark.slow
def test_cpp_standalone_computes_the_same_floats():
    # the compiled steps (no fast-math, no FMA contraction) against the oracle, on as few
    # objects as cover both models (each compiles its own code): a one-neuron Izhikevich group
    # with a current (Brian2 writes its parameters as literals) in a loop with an adaptive one
    steps = 400
    src = random_spikes("src", 2, steps, rate=0.05, seed=15)
    rs = izhikevich("rs", tau_syn=2.0, v_init=-70.0)
    adaptive = Population(name="adaptive", size=3, model=AdaptiveLIF(
        tau_syn=2.0, tau_mem=8.0, tau_theta=30.0, tau_r=4.0, theta_0=1.0, theta_step=0.5,
        bias=np.array([0.0, 0.01, 0.02])))
    projections = [dyadic_projection(src, rs, [12.5], 2, seed=16, density=1.0),
                   dyadic_projection(rs, adaptive, [1.5, 2.25], 4, seed=17, density=1.0),
                   dyadic_projection(adaptive, rs, [-2.5, 3.0], 3, seed=18, density=1.0)]
    currents = [Current(population="rs", kind="ramp", points=np.array([[0.0, 2.0], [400, 9.0]]))]
    net = network([src, rs, adaptive], projections, currents, steps=steps)
    expected = assert_identical_to_oracle(net, run_brian2(net, code_target="cpp_standalone"))
    assert expected.spikes["rs"][0].size > 5 and expected.spikes["adaptive"][0].size > 10
