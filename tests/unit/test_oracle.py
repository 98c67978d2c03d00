"""The test oracle against hand-computed cases and a scalar one-neuron loop (DESIGN §2)."""
import math

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile.ir import LIF, Network, Population, Probe, Projection, SpikeArray

INF = float("inf")


def one_neuron(model: LIF, steps: int, inputs: dict[int, float] | None = None) -> Network:
    """One LIF neuron; inputs {step: weight} arrive through a delay-1 synapse each."""
    pops = {"n": Population(name="n", size=1, model=model)}
    projections = []
    for k, (step, weight) in enumerate(sorted((inputs or {}).items())):
        pops[f"s{k}"] = Population(name=f"s{k}", size=1, model=SpikeArray(
            neurons=np.array([0]), steps=np.array([step - 1])))
        projections.append(Projection(name=f"in{k}", pre=f"s{k}", post="n",
                                      pre_idx=np.array([0], np.int32),
                                      post_idx=np.array([0], np.int32),
                                      weight=np.array([weight]), delay=np.array([1], np.int32)))
    return Network(name="one", populations=pops, projections=tuple(projections),
                   probes=(Probe(population="n", var="u"), Probe(population="n", var="v")),
                   steps=steps)


def scalar_lif(model: LIF, steps: int, inputs: dict[int, float], dt: float = 1.0):
    """The DESIGN equations for one neuron, one Python float at a time."""
    du, dv = model.du(dt), model.dv(dt)
    u = v = 0.0
    last, out = -10**9, []
    for t in range(steps):
        u = u * (1 - du)
        u = u + inputs.get(t, 0.0)
        if model.refractory == 0:
            v = v * (1 - dv) + u + model.bias
        elif last + model.refractory < t:
            v = v * (1 - dv) + (u + model.bias)
        spike = v > model.v_th
        if spike:
            v, last = 0.0, t
        out.append((spike, u, v))
    return out


def test_bias_ramp_spikes_only_strictly_above_threshold():
    # v = 0.25, 0.5, 0.75, 1.0 (equal, no spike), 1.25 (spike, reset) -> every 5th step
    r = oracle_run(one_neuron(LIF(tau_syn=INF, tau_mem=INF, v_th=1.0, bias=0.25), 20))
    assert r.spikes["n"][0].tolist() == [4, 9, 14, 19]
    assert r.traces[("n", "v")][:6, 0].tolist() == [0.25, 0.5, 0.75, 1.0, 0.0, 0.25]


def test_refractory_holds_v_at_zero_for_r_steps():
    r = oracle_run(one_neuron(LIF(tau_syn=INF, tau_mem=INF, v_th=1.0, bias=0.25, refractory=2),
                              20))
    assert r.spikes["n"][0].tolist() == [4, 11, 18]
    assert r.traces[("n", "v")][3:9, 0].tolist() == [1.0, 0.0, 0.0, 0.0, 0.25, 0.5]


def test_synaptic_current_decays_by_exp_minus_dt_over_tau():
    r = oracle_run(one_neuron(LIF(tau_syn=2.0, tau_mem=INF, v_th=1e9), 10, {3: 1.0}))
    u = r.traces[("n", "u")][:, 0]
    assert u[:3].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(u[3:], [math.exp(-k / 2) for k in range(7)], rtol=1e-14)


@pytest.mark.parametrize("refractory", [0, 1])
def test_matches_scalar_loop_including_the_grouping_of_v(refractory):
    # 1 + 2^-53 rounds to 1, so (v + u) + bias and v + (u + bias) differ when u = bias = 2^-53
    tiny = 2.0 ** -53
    model = LIF(tau_syn=INF, tau_mem=INF, v_th=1e9, bias=tiny, refractory=refractory)
    inputs = {1: 1.0, 2: -(1.0 - tiny)}
    r = oracle_run(one_neuron(model, 8, inputs))
    expected = scalar_lif(model, 8, inputs)
    assert r.traces[("n", "u")][:, 0].tolist() == [u for _, u, _ in expected]
    assert r.traces[("n", "v")][:, 0].tolist() == [v for _, _, v in expected]
    other = scalar_lif(LIF(tau_syn=INF, tau_mem=INF, v_th=1e9, bias=tiny,
                           refractory=1 - refractory), 8, inputs)
    assert [v for _, _, v in other] != [v for _, _, v in expected]  # the grouping is visible


def test_leaky_neuron_with_inputs_and_refractory_matches_scalar_loop():
    model = LIF(tau_syn=3.0, tau_mem=7.0, v_th=0.9, bias=0.05, refractory=3)
    inputs = {2: 0.7, 3: 0.4, 9: 1.3, 10: -0.2, 25: 2.0}
    r = oracle_run(one_neuron(model, 40, inputs))
    expected = scalar_lif(model, 40, inputs)
    assert r.spikes["n"][0].tolist() == [t for t, (s, _, _) in enumerate(expected) if s]
    assert r.traces[("n", "v")][:, 0].tolist() == [v for _, _, v in expected]
    assert len(r.spikes["n"][0]) >= 3


@pytest.mark.parametrize("delay", [1, 2, 7, 20])
def test_spike_at_step_t_reaches_input_at_t_plus_delay(delay):
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0]),
                                                          steps=np.array([2])))
    n = Population(name="n", size=1, model=LIF(tau_syn=INF, tau_mem=INF, v_th=1e9))
    proj = Projection(name="p", pre="src", post="n", pre_idx=np.array([0], np.int32),
                      post_idx=np.array([0], np.int32), weight=np.array([0.5]),
                      delay=np.array([delay], np.int32))
    net = Network(name="d", populations={"src": src, "n": n}, projections=(proj,),
                  probes=(Probe(population="n", var="u"),), steps=30)
    u = oracle_run(net).traces[("n", "u")][:, 0]
    assert np.flatnonzero(u).min() == 2 + delay


def test_recurrent_spikes_and_several_projections_summed():
    # neuron 0 gets 2.0 from step 1 on (tau_syn inf) and spikes every step; its synapse to
    # neuron 1 (delay 3) adds 0.5 per spike from step 4, on top of 0.25 from the source
    model = LIF(tau_syn=INF, tau_mem=INF, v_th=1.0)
    pops = {"a": Population(name="a", size=1, model=SpikeArray(neurons=np.array([0]),
                                                               steps=np.array([0]))),
            "n": Population(name="n", size=2, model=model)}

    def proj(name, pre, pi, po, w, d):
        return Projection(name=name, pre=pre, post="n", pre_idx=np.array(pi, np.int32),
                          post_idx=np.array(po, np.int32), weight=np.array(w, float),
                          delay=np.array(d, np.int32))

    net = Network(name="r", populations=pops, steps=8, probes=(Probe(population="n", var="u"),),
                  projections=(proj("in", "a", [0, 0], [0, 1], [2.0, 0.25], [1, 1]),
                               proj("rec", "n", [0], [1], [0.5], [3])))
    r = oracle_run(net)
    t, n = r.spikes["n"]
    assert t[n == 0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert t[n == 1].tolist() == [4, 5, 6, 7]  # v1: .25 .5 .75 then 1.5, 1.25, 1.75, 2.25
    assert r.traces[("n", "u")][:, 1].tolist() == [0, 0.25, 0.25, 0.25, 0.75, 1.25, 1.75, 2.25]
