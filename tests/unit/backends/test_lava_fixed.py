"""The `lava-fixed` backend (fixed_pt): integer registers by hand, float equivalence where the
quantization is exact, refusals, and every example the quantizer accepts."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.diagnostics import InputError, InternalError
from nmcompile.driver import run
from nmcompile.ir import (LIF, FixedLIF, FixedProjection, Network, Population, Probe,
                          Projection, QuantizedNetwork, SpikeArray)

pytestmark = pytest.mark.lava
INF = float("inf")
EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.yaml"))


def spikes(pairs) -> SpikeArray:
    steps, neurons = (np.array(x, dtype=np.int64) for x in zip(*sorted(pairs)))
    return SpikeArray(neurons=neurons, steps=steps)


def fixed_projection(proj: Projection, weight_mant, weight_exp=0) -> FixedProjection:
    return FixedProjection(name=proj.name, pre=proj.pre, post=proj.post, pre_idx=proj.pre_idx,
                           post_idx=proj.post_idx,
                           weight_mant=np.asarray(weight_mant, dtype=np.int32), delay=proj.delay,
                           weight_exp=weight_exp, num_weight_bits=8, sign_mode="mixed")


def single_neuron(dv: int) -> QuantizedNetwork:
    """One neuron, input spikes at steps 1 and 2 through delay 2, bias 3·2^2 per step."""
    pops = {"cue": Population(name="cue", size=1, model=spikes([(1, 0), (2, 0)])),
            "n": Population(name="n", size=1, model=LIF(tau_syn=1.0, tau_mem=10.0, v_th=7.0))}
    proj = Projection(name="w", pre="cue", post="n", pre_idx=np.array([0], np.int32),
                      post_idx=np.array([0], np.int32), weight=np.array([1.0]),
                      delay=np.array([2], np.int32))
    net = Network(name="one", populations=pops, projections=(proj,),
                  probes=(Probe(population="n", var="u"), Probe(population="n", var="v")),
                  steps=10)
    lif = FixedLIF(du=4095, dv=dv, vth=7, bias_mant=3, bias_exp=2, scale=64.0)
    return QuantizedNetwork(network=net, target="hand", populations={"n": lif},
                            projections=(fixed_projection(proj, [4], weight_exp=1),))


def expected_registers(dv: int, steps: int = 10):
    """PyLifModelBitAcc by hand: u = input << 6 (du + 1 = 4096 clears u), v decays by dv."""
    u_in = {3: (4 << 1) << 6, 4: (4 << 1) << 6}  # spikes at 1, 2 arrive 2 steps later
    u, v, out_u, out_v, fired = 0, 0, [], [], []
    for t in range(steps):
        u = u_in.get(t, 0)
        decayed = (abs(v) * (4096 - dv)) >> 12
        v = (decayed if v >= 0 else -decayed) + u + (3 << 2)
        if v > 7 << 6:
            v = 0
            fired.append(t)
        out_u.append(u)
        out_v.append(v)
    return out_u, out_v, fired


@pytest.mark.parametrize("dv", [0, 1000])
def test_registers_step_by_step(dv):
    result = LavaFixedBackend().run(single_neuron(dv), 10, options={})
    want_u, want_v, fired = expected_registers(dv)
    assert fired  # the hand computation itself must reach the threshold
    assert result.traces[("n", "u")][:, 0].tolist() == want_u
    assert result.traces[("n", "v")][:, 0].tolist() == want_v
    assert result.spikes["n"][0].tolist() == fired
    # register units like the emulator's: int32 traces, the population's scale, no overflow count
    assert result.traces[("n", "v")].dtype == np.int32
    assert result.meta["scale"] == {"n": 64.0} and result.meta["units"] == "register"


def exact_pair() -> tuple[Network, QuantizedNetwork]:
    """A recurrent network whose float and integer versions compute the same numbers times 64:
    du = 1 (u = input), dv = 0, even integer weights, bias a multiple of 1/64."""
    pops = {"cue": Population(name="cue", size=3,
                              model=spikes([(0, 0), (1, 1), (2, 2), (5, 0), (9, 1), (12, 2),
                                            (13, 0), (20, 1), (21, 2), (22, 0)])),
            "a": Population(name="a", size=4, model=LIF(tau_syn=1e-3, tau_mem=INF, v_th=9.0,
                                                        bias=0.25)),
            "b": Population(name="b", size=2, model=LIF(tau_syn=1e-3, tau_mem=INF, v_th=5.0))}

    def proj(name, pre, post, pairs, weights, delays):
        pre_idx, post_idx = (np.array(x, np.int32) for x in zip(*pairs))
        return Projection(name=name, pre=pre, post=post, pre_idx=pre_idx, post_idx=post_idx,
                          weight=np.array(weights, float), delay=np.array(delays, np.int32))

    projs = (proj("cue_a", "cue", "a", [(0, 0), (0, 1), (1, 2), (2, 3)], [6, 4, 8, 10], [1, 2, 1, 3]),
             proj("a_a", "a", "a", [(0, 1), (1, 2), (2, 3), (3, 0)], [4, 6, -2, 8], [2, 5, 1, 4]),
             proj("a_b", "a", "b", [(0, 0), (1, 0), (2, 1), (3, 1)], [2, 4, 6, 2], [1, 1, 3, 2]),
             proj("b_a", "b", "a", [(0, 0), (1, 3)], [-4, -6], [2, 1]))
    probes = tuple(Probe(population=p, var=v) for p in ("a", "b") for v in "uv")
    net = Network(name="exact", populations=pops, projections=projs, probes=probes, steps=40)
    fixed_pops = {"a": FixedLIF(du=4095, dv=0, vth=9, bias_mant=16, bias_exp=0, scale=64.0),
                  "b": FixedLIF(du=4095, dv=0, vth=5, bias_mant=0, bias_exp=0, scale=64.0)}
    fixed_projs = tuple(fixed_projection(p, p.weight.astype(np.int32)) for p in projs)
    return net, QuantizedNetwork(network=net, target="hand", populations=fixed_pops,
                                 projections=fixed_projs)


def test_fixed_equals_float_times_64_where_quantization_is_exact():
    net, qnet = exact_pair()
    fixed = LavaFixedBackend().run(qnet, net.steps, options={})
    floating = LavaFloatBackend().run(net, net.steps, options={})
    for pop in ("a", "b"):
        assert len(floating.spikes[pop][0]) > 0, pop
        for got, want in zip(fixed.spikes[pop], floating.spikes[pop]):
            np.testing.assert_array_equal(got, want, err_msg=pop)
    for key, trace in floating.traces.items():
        np.testing.assert_array_equal(fixed.traces[key], trace * 64, err_msg=str(key))


def test_a_delay_beyond_64_steps_is_refused_with_a_clear_error():
    """Every LIF feature runs on lava-fixed; what it refuses is a delay Loihi 2 cannot hold."""
    net, qnet = exact_pair()
    late = replace(net.projections[0], delay=np.array([1, 2, 65, 3], dtype=np.int32))
    far = replace(net, projections=(late, *net.projections[1:]))
    problems = LavaFixedBackend().check(far)
    assert [d.code for d in problems] == ["NM403"]
    assert "projection cue_a: delay 65 > 64" in problems[0].message
    image = QuantizedNetwork(network=far, target="hand", populations=qnet.populations,
                             projections=qnet.projections)
    with pytest.raises(InputError, match="delay 65"):  # the driver checks, once
        run(image, "lava-fixed", steps=10)


def test_float_network_is_a_bug_of_the_caller():
    net, _ = exact_pair()
    with pytest.raises(InternalError, match="QuantizedNetwork"):
        LavaFixedBackend().run(net, 5, options={})


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_runs_every_example_the_quantizer_accepts(path):
    from nmcompile.frontends.modelfile import load_model
    from nmcompile.passes.quantize import quantize

    net = load_model(str(path)).with_steps(100)
    try:
        qnet = quantize(net, "loihi2")
    except InputError as exc:
        pytest.skip(f"quantizer refuses {path.name}: {exc}")
    result = LavaFixedBackend().run(qnet, net.steps, options={})
    assert set(result.spikes) == {p.name for p in net.neuron_populations()}
    assert sum(len(t) for t, _ in result.spikes.values()) > 0
    for probe in net.probes:
        trace = result.traces[(probe.population, probe.var)]
        assert trace.shape == (100, net.populations[probe.population].size)
        assert trace.dtype == np.int32
