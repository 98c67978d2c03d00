"""numpy, cython and cpp_standalone compute the same floats (compiled without fast-math).

Slow on a cold cache (cython compiles ~25 modules per network, cpp_standalone one project),
so these are the only tests that compile; they still run in CI.
"""
from pathlib import Path

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile.backends import get_backend
from nmcompile.ir import LIF, Current, Network, Population, Probe, Projection, SpikeArray

pytest.importorskip("brian2")
pytest.importorskip("Cython")

RECURRENT_EI = Path(__file__).parents[3] / "examples" / "recurrent_ei.yaml"


@pytest.mark.slow
@pytest.mark.skipif(not RECURRENT_EI.exists(), reason="examples/recurrent_ei.yaml missing")
def test_numpy_cython_and_cpp_standalone_agree_on_recurrent_ei():
    from nmcompile.backends.brian2.code_targets import cache_root, model_hash
    from nmcompile.frontends.modelfile import load_model

    net = load_model(RECURRENT_EI)
    backend = get_backend("brian2")
    # cpp_standalone twice: the second run reuses the project built for this model
    results = [(target, backend.run(net, net.steps, options={"code_target": target}))
               for target in ("numpy", "cython", "cpp_standalone", "cpp_standalone")]
    reference = results[0][1]
    assert sum(len(t) for t, _ in reference.spikes.values()) > 100
    for target, result in results[1:]:
        assert result.meta["code_target"] == target
        for pop, (t, n) in reference.spikes.items():
            assert np.array_equal(result.spikes[pop][0], t), f"{target}: {pop} spike steps"
            assert np.array_equal(result.spikes[pop][1], n), f"{target}: {pop} spike neurons"
        for key, trace in reference.traces.items():
            np.testing.assert_array_equal(result.traces[key], trace, err_msg=f"{target}: {key}")
    assert (cache_root() / "standalone" / model_hash(net, net.steps) / "main").exists()


def _every_variant() -> Network:
    """Every Brian2 LIF variant with a current, as few groups as cover them all (each group
    compiles its own modules): a one-neuron `clock` integrating c[t] = t, alone in its group
    (Brian2 writes a one-element array as a literal: inf must become INFINITY in C++);
    subtract reset with tau_syn 0, per-neuron bias and initial values and v_th inf in a larger
    group; refractory with either reset, a steps and a ramp current. One projection each."""
    inf, steps = float("inf"), 120
    models = {
        "clock": (1, LIF(tau_syn=0.0, tau_mem=inf, v_th=inf)),
        "sub": (3, LIF(tau_syn=0.0, tau_mem=15.0, v_th=1.0, reset="subtract",
                       bias=np.array([0.2, 0.35, -0.1]), u_init=np.array([0.5, 0.0, 2.0]),
                       v_init=np.array([0.0, 0.8, 1.9]))),
        "silent": (2, LIF(tau_syn=4.0, tau_mem=10.0, v_th=inf, bias=0.1, reset="subtract")),
        "sub_ref": (2, LIF(tau_syn=5.0, tau_mem=20.0, v_th=1.0, reset="subtract",
                           refractory=3, v_init=np.array([3.5, 0.0]))),
        "zero_ref": (2, LIF(tau_syn=5.0, tau_mem=20.0, v_th=1.0, refractory=2, bias=0.05)),
    }
    pops = {"src": Population(name="src", size=3, model=SpikeArray(
        neurons=np.array([0, 1, 2, 0, 2, 1]), steps=np.array([4, 9, 9, 30, 61, 90])))}
    pops |= {name: Population(name=name, size=size, model=model)
             for name, (size, model) in models.items()}
    projections = tuple(
        Projection(name=f"src_{name}", pre="src", post=name, pre_idx=np.arange(size) % 3,
                   post_idx=np.arange(size, dtype=np.int32), weight=np.full(size, 0.625),
                   delay=np.arange(1, size + 1, dtype=np.int32))
        for name, (size, _) in models.items() if name != "clock")
    currents = (
        Current(population="clock", kind="file", values=np.arange(steps, dtype=float)),
        Current(population="sub_ref", kind="steps", points=np.array([[41.0, 0.3], [80, 0.1]])),
        Current(population="zero_ref", kind="ramp", points=np.array([[10.0, 0.0], [100, 0.4]])),
    )
    probes = tuple(Probe(population=name, var=var) for name in models for var in ("u", "v"))
    return Network(name="every-variant", populations=pops, projections=projections,
                   probes=probes, currents=currents, steps=steps)


@pytest.mark.slow
def test_every_variant_and_current_is_bit_identical_to_the_oracle_on_every_target():
    from nmcompile.backends.brian2.lowering import layout

    net = _every_variant()
    assert {s.group for s in layout(net).values()} == {
        "sources", "lif_current", "lif_subtract", "lif_refractory_subtract_current",
        "lif_refractory_current"}
    expected = oracle_run(net)
    assert all(expected.spikes[p][0].size > 3 for p in ("sub", "sub_ref", "zero_ref"))
    backend = get_backend("brian2")
    for target in ("numpy", "cython", "cpp_standalone"):
        result = backend.run(net, net.steps, options={"code_target": target})
        clock = result.traces[("clock", "v")][:, 0]      # step t read c[t] = t, on each target
        np.testing.assert_array_equal(np.diff(clock), np.arange(1.0, net.steps), err_msg=target)
        for pop, (t, n) in expected.spikes.items():
            assert np.array_equal(result.spikes[pop][0], t), f"{target}: {pop} spike steps"
            assert np.array_equal(result.spikes[pop][1], n), f"{target}: {pop} spike neurons"
        for key, trace in expected.traces.items():
            np.testing.assert_array_equal(result.traces[key], trace, err_msg=f"{target}: {key}")
            assert result.traces[key].tobytes() == trace.tobytes(), f"{target}: {key}"
