"""Brian2 (numpy target) runs every LIF variant and injected current of DESIGN §2.5 with the
very floats of the oracle (nmcompile.ir.lif_step): identical spikes and bit-identical u/v.

Hand-built networks have one projection per population, so Brian2 adds the synapses of a
neuron in the oracle's order; generated networks (several projections) are compared as in
test_brian2.py. The cython and cpp_standalone targets are checked on these variants in
test_brian2_code_targets.py.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from handbuilt import assert_identical_to_oracle, run_brian2
from oracle import oracle_run
from strategies import networks

from nmcompile.ir import LIF, Current, Network, Population, Probe, Projection, SpikeArray

pytest.importorskip("brian2")

INF = float("inf")


def lif(name: str, size: int = 1, **params) -> Population:
    params = {"tau_syn": 5.0, "tau_mem": 20.0, "v_th": 1.0} | params
    return Population(name=name, size=size, model=LIF(**params))


def spikes_at(name: str, size: int, steps: list[int]) -> Population:
    """Every neuron of the source spikes at each of `steps`."""
    t = np.repeat(np.asarray(steps, np.int64), size)
    n = np.tile(np.arange(size, dtype=np.int64), len(steps))
    return Population(name=name, size=size, model=SpikeArray(neurons=n, steps=t))


def one_to_one(pre: Population, post: Population, weight: float, delay: int = 1) -> Projection:
    idx = np.arange(post.size, dtype=np.int32)
    return Projection(name=f"{pre.name}_{post.name}", pre=pre.name, post=post.name,
                      pre_idx=idx % pre.size, post_idx=idx, weight=np.full(post.size, weight),
                      delay=np.full(post.size, delay, np.int32))


def network(pops: list[Population], projections=(), currents=(), steps: int = 60,
            dt: float = 1.0) -> Network:
    """`pops` with u and v probed on every LIF population."""
    probes = tuple(Probe(population=p.name, var=var) for p in pops if not p.is_source
                   for var in ("u", "v"))
    return Network(name="variants", populations={p.name: p for p in pops},
                   projections=tuple(projections), probes=probes, currents=tuple(currents),
                   steps=steps, dt=dt)


def steps_current(population: str, points, neurons=None) -> Current:
    return Current(population=population, kind="steps", points=np.asarray(points, float),
                   neurons=None if neurons is None else np.asarray(neurons, np.int64))


def test_tau_syn_0_holds_only_this_steps_input():
    src = spikes_at("src", 2, [3, 5, 6])
    n = lif("n", 2, tau_syn=0.0, v_th=50.0)
    net = network([src, n], [one_to_one(src, n, 0.75)], steps=12)
    result = run_brian2(net)
    expected_u = np.zeros(12)
    expected_u[[4, 6, 7]] = 0.75           # each spike arrives one step later, and is gone after
    for k in range(2):
        np.testing.assert_array_equal(result.traces[("n", "u")][:, k], expected_u)
    assert_identical_to_oracle(net, result)


def test_v_th_inf_never_spikes_and_shares_a_group_with_spiking_neurons():
    readout = lif("readout", 3, tau_mem=INF, v_th=INF, bias=0.5)
    spiking = lif("spiking", 2, tau_mem=INF, v_th=1.0, bias=0.5)
    net = network([readout, spiking], steps=40)
    result = run_brian2(net)
    assert result.spikes["readout"][0].size == 0
    np.testing.assert_array_equal(result.traces[("readout", "v")][:, 0],
                                  0.5 * np.arange(1, 41))   # integrates without bound
    assert result.spikes["spiking"][0].size == 2 * 13        # v: 0.5, 1.0, 1.5 -> spike, ...
    assert_identical_to_oracle(net, result)


def test_reset_subtract_keeps_the_charge_above_threshold():
    n = lif("n", tau_syn=INF, tau_mem=INF, bias=1.5, reset="subtract")
    net = network([n], steps=10)
    result = run_brian2(net)
    # v = 1.5 -> spike -> 0.5; 2.0 -> 1.0; 2.5 -> 1.5; ...: a spike every step
    np.testing.assert_array_equal(result.spikes["n"][0], np.arange(10))
    np.testing.assert_array_equal(result.traces[("n", "v")][:, 0], 0.5 * np.arange(1, 11))
    assert_identical_to_oracle(net, result)


def test_refractory_with_subtract_holds_v_and_spikes_only_when_free():
    # neuron 0: v 3.5 -> spike at 0 leaves 2.5 > v_th, held (no spike) during 1, 2; free at 3
    held = lif("held", 2, tau_syn=INF, tau_mem=INF, v_init=np.array([3.5, 0.0]),
               reset="subtract", refractory=2)
    leaky = lif("leaky", 2, tau_mem=7.0, bias=0.45, v_init=np.array([4.2, 0.3]),
                reset="subtract", refractory=3)
    net = network([held, leaky], steps=50)
    result = run_brian2(net)
    t, n = result.spikes["held"]
    np.testing.assert_array_equal(t[n == 0], [0, 3, 6])
    np.testing.assert_array_equal(result.traces[("held", "v")][:9, 0],
                                  [2.5, 2.5, 2.5, 1.5, 1.5, 1.5, 0.5, 0.5, 0.5])
    v = result.traces[("leaky", "v")]
    t, n = result.spikes["leaky"]
    first = int(t[n == 0][0])
    assert first == 0 and v[0, 0] > 1.0           # held above threshold, yet silent
    assert (v[first + 1:first + 4, 0] == v[first, 0]).all()
    assert not np.isin([1, 2, 3], t[n == 0]).any()
    assert_identical_to_oracle(net, result)


def test_per_neuron_bias_and_initial_values():
    n = lif("n", 4, bias=np.array([0.1, -0.2, 0.05, 0.3]), u_init=np.array([0.4, 0.0, -0.3, 1.1]),
            v_init=np.array([0.9, -0.5, 0.2, 0.0]), refractory=1)
    src = spikes_at("src", 4, [2, 9, 17])
    net = network([src, n], [one_to_one(src, n, 0.6, delay=2)], steps=60)
    result = run_brian2(net)
    model, dt = n.model, net.dt
    u0 = model.u_init * (1 - model.du(dt))
    v0 = model.v_init * (1 - model.dv(dt)) + (u0 + model.bias)
    np.testing.assert_array_equal(result.traces[("n", "u")][0], u0)
    np.testing.assert_array_equal(result.traces[("n", "v")][0], np.where(v0 > 1.0, 0.0, v0))
    assert result.spikes["n"][0].size > 0
    assert_identical_to_oracle(net, result)


def test_populations_of_one_variant_share_a_group():
    from nmcompile.backends.brian2.lowering import layout

    pops = [lif("a", 3), lif("b", 2, v_th=INF), lif("sub", 2, reset="subtract"),
            lif("ref", 2, refractory=2, bias=0.3), lif("sub_ref", 1, reset="subtract",
                                                       refractory=1, bias=0.6),
            lif("driven", 2, bias=0.1), lif("driven_ref", 2, refractory=1)]
    net = network(pops, currents=[steps_current("driven", [[5, 0.2]]),
                                  steps_current("driven_ref", [[0, 0.3]]),
                                  steps_current("sub_ref", [[8, -0.1]])])
    slots = layout(net)
    assert {name: (s.group, s.start) for name, s in slots.items()} == {
        "a": ("lif", 0), "b": ("lif", 3), "sub": ("lif_subtract", 0),
        "ref": ("lif_refractory", 0), "sub_ref": ("lif_refractory_subtract_current", 0),
        "driven": ("lif_current", 0), "driven_ref": ("lif_refractory_current", 0)}
    assert_identical_to_oracle(net, run_brian2(net))


@pytest.mark.parametrize("dt", [1.0, 0.1, 0.3, 0.025])
def test_step_t_reads_the_current_of_step_t(dt):
    # v[t] = v[t-1] + (0 + c[t]) exactly for c[t] = t: every difference names the row read
    steps = 2000
    n = lif("n", 2, tau_syn=0.0, tau_mem=INF, v_th=INF)
    net = network([n], currents=[Current(population="n", kind="file",
                                         values=np.arange(steps, dtype=float))],
                  steps=steps, dt=dt)
    v = run_brian2(net).traces[("n", "v")]
    assert v[0].tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(np.diff(v, axis=0),
                                  np.broadcast_to(np.arange(1.0, steps)[:, None], (steps - 1, 2)))


def test_a_current_switching_on_at_step_41_changes_v_first_at_step_41():
    pops = [lif("plain", v_th=INF), lif("refractory", refractory=2, v_th=INF),
            lif("subtract", refractory=2, reset="subtract", v_th=INF)]
    currents = [steps_current(p.name, [[41, 0.25]]) for p in pops]
    net = network(pops, currents=currents, steps=60)
    result = run_brian2(net)
    for pop in pops:
        v = result.traces[(pop.name, "v")][:, 0]
        assert int(np.flatnonzero(v)[0]) == 41, pop.name
        assert v[41] == 0.25, pop.name
    assert_identical_to_oracle(net, result)


def test_a_ramp_current_drives_spikes_as_the_oracle_does():
    ramp = Current(population="n", kind="ramp",
                   points=np.array([[10.0, 0.0], [70.0, 0.3], [100.0, -0.1]]))
    n = lif("n", 3, bias=np.array([0.0, 0.02, -0.02]), refractory=2, reset="subtract")
    net = network([n], currents=[ramp], steps=140)
    result = run_brian2(net)
    t, _ = result.spikes["n"]
    assert t.size > 10 and t.min() > 10
    assert_identical_to_oracle(net, result)


def test_several_currents_into_one_population_add_in_the_order_listed():
    src = spikes_at("src", 4, [5, 30])
    currents = [steps_current("n", [[3, 0.1], [40, -0.05]]),
                Current(population="n", kind="ramp", neurons=np.array([1, 3]),
                        points=np.array([[0.0, 0.0], [50.0, 0.35]])),
                Current(population="n", kind="file", neurons=np.array([0, 2]),
                        values=np.array([[0.3, -0.1]] * 20 + [[0.0, 0.2]] * 10)),
                steps_current("n", [[60, 0.07]], neurons=[2])]
    n = lif("n", 4, bias=0.01)
    readout = lif("readout", 4, tau_syn=0.0, tau_mem=INF, v_th=INF)
    net = network([src, n, readout], [one_to_one(src, n, 0.4)],
                  currents=currents + [Current(population="readout", kind=c.kind,
                                               neurons=c.neurons, points=c.points,
                                               values=c.values) for c in currents],
                  steps=90)
    result = run_brian2(net)
    assert result.spikes["n"][0].size > 0
    # the readout integrates b = 0 + c: its v steps by exactly the summed current
    c = net.current("readout", net.steps)
    v = result.traces[("readout", "v")]
    np.testing.assert_array_equal(v[0], c[0])
    np.testing.assert_array_equal(v[1:], [v[t - 1] + c[t] for t in range(1, net.steps)])
    assert_identical_to_oracle(net, result)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(net=networks(variants=True, currents=True))
def test_generated_networks_with_variants_and_currents_match_the_oracle(net):
    # several projections into one population: Brian2 may add them in another order
    expected, result = oracle_run(net), run_brian2(net)
    for pop, (t, n) in expected.spikes.items():
        np.testing.assert_array_equal(result.spikes[pop][0], t, err_msg=f"{pop} spike steps")
        np.testing.assert_array_equal(result.spikes[pop][1], n, err_msg=f"{pop} spike neurons")
    for key, trace in expected.traces.items():
        np.testing.assert_allclose(result.traces[key], trace, rtol=1e-12, atol=1e-12,
                                   err_msg=f"trace {key}")
