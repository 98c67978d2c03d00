"""Brian2 backend (numpy target) against the oracle: spike for spike, u and v within 1e-12."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from oracle import oracle_run
from strategies import networks

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Network, Population, Probe, Projection, SpikeArray
from nmcompile.result import Result

pytest.importorskip("brian2")

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.yaml"))
INF = float("inf")


def run_brian2(net: Network, **options) -> Result:
    return get_backend("brian2").run(net, net.steps, options=options)


def assert_same_as_oracle(net: Network, result: Result) -> None:
    expected = oracle_run(net)
    sources = set(result.meta.get("sources", ()))  # a saved result holds source spikes too
    assert set(result.spikes) - sources == set(expected.spikes)
    for pop, (t, n) in expected.spikes.items():
        np.testing.assert_array_equal(result.spikes[pop][0], t, err_msg=f"{pop} spike steps")
        np.testing.assert_array_equal(result.spikes[pop][1], n, err_msg=f"{pop} spike neurons")
    assert set(result.traces) == set(expected.traces)
    for key, trace in expected.traces.items():
        assert result.traces[key].shape == trace.shape
        np.testing.assert_allclose(result.traces[key], trace, rtol=1e-12, atol=1e-12,
                                   err_msg=f"trace {key}")


def test_declares_what_it_runs():
    backend = get_backend("brian2")
    assert backend.missing_dependency() is None
    assert set(backend.capabilities.models) == {"lif", "izhikevich", "adaptive_lif", "poisson",
                                                "spike_array"}
    assert backend.capabilities.models["lif"] == {"refractory", "reset_subtract",
                                                  "non_spiking", "current"}
    assert backend.capabilities.models["izhikevich"] == {"current"}
    assert backend.capabilities.models["adaptive_lif"] == {"current"}
    assert backend.capabilities.models["poisson"] == frozenset()
    assert backend.capabilities.max_delay is None


def test_delays_1_to_20_reach_the_input_exactly_d_steps_later():
    # source neuron 0 spikes at step 3; synapse d (delay d) feeds LIF neuron d-1
    delays = np.arange(1, 21, dtype=np.int32)
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0]),
                                                          steps=np.array([3])))
    lif = Population(name="lif", size=20, model=LIF(tau_syn=INF, tau_mem=INF, v_th=1.5))
    proj = Projection(name="p", pre="src", post="lif", pre_idx=np.zeros(20, np.int32),
                      post_idx=delays - 1, weight=np.full(20, 1.0), delay=delays)
    net = Network(name="delays", populations={"src": src, "lif": lif}, projections=(proj,),
                  probes=(Probe(population="lif", var="u"),), steps=30)
    result = run_brian2(net)
    u = result.traces[("lif", "u")]
    assert [int(np.flatnonzero(u[:, k]).min()) for k in range(20)] == list(3 + delays)
    # v = 1, then 2 > 1.5: each neuron first spikes one step after its input arrived
    t, n = result.spikes["lif"]
    assert [int(t[n == k].min()) for k in range(20)] == list(4 + delays)
    assert_same_as_oracle(net, result)


def test_refractory_bias_and_recurrence_match_the_oracle():
    model = LIF(tau_syn=4.0, tau_mem=10.0, v_th=1.0, bias=0.3, refractory=3)
    pops = {"n": Population(name="n", size=3, model=model)}
    rec = Projection(name="rec", pre="n", post="n", pre_idx=np.array([0, 1, 2], np.int32),
                     post_idx=np.array([1, 2, 0], np.int32),
                     weight=np.array([0.4, -0.7, 0.9]), delay=np.array([2, 5, 11], np.int32))
    net = Network(name="ring", populations=pops, projections=(rec,), steps=120,
                  probes=(Probe(population="n", var="u"), Probe(population="n", var="v")))
    result = run_brian2(net)
    assert len(result.spikes["n"][0]) > 10
    assert_same_as_oracle(net, result)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_match_the_oracle(path):
    from nmcompile.frontends.modelfile import load_model
    net = load_model(path)
    result = run_brian2(net)
    assert sum(len(t) for t, _ in result.spikes.values()) > 0
    assert_same_as_oracle(net, result)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(net=networks())
def test_generated_networks_match_the_oracle(net):
    assert_same_as_oracle(net, run_brian2(net))


@pytest.mark.skipif(not EXAMPLES, reason="no examples")
def test_repeated_runs_in_one_process_are_identical():
    from nmcompile.frontends.modelfile import load_model
    net = load_model(EXAMPLES[0])
    first, second = run_brian2(net), run_brian2(net, progress=True)
    for pop, (t, n) in first.spikes.items():
        assert np.array_equal(second.spikes[pop][0], t) and np.array_equal(second.spikes[pop][1], n)
    for key, trace in first.traces.items():
        assert np.array_equal(second.traces[key], trace)


def test_unknown_code_target_is_an_input_error():
    net = Network(name="x", populations={"n": Population(name="n", size=1, model=LIF(
        tau_syn=1.0, tau_mem=1.0, v_th=1.0))}, steps=3)
    with pytest.raises(InputError, match="code target 'fortran'"):
        driver.run(net, "brian2", options={"code_target": "fortran"})


def test_cpp_standalone_without_a_compiler_is_refused_before_running(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler++")
    net = Network(name="x", populations={"n": Population(name="n", size=1, model=LIF(
        tau_syn=1.0, tau_mem=1.0, v_th=1.0))}, steps=3)
    with pytest.raises(InputError, match="needs no-such-compiler"):
        driver.run(net, "brian2", options={"code_target": "cpp_standalone"})


def test_driver_refuses_an_unsupported_probe_before_running():
    net = Network(name="x", populations={"n": Population(name="n", size=1, model=LIF(
        tau_syn=1.0, tau_mem=1.0, v_th=1.0))}, probes=(Probe(population="n", var="w"),))
    with pytest.raises(InputError, match="cannot record 'w'"):
        driver.run(net, "brian2")


@pytest.mark.skipif(not EXAMPLES, reason="no examples")
def test_nmc_run_writes_a_loadable_result_and_a_raster_plot(tmp_path, monkeypatch, capsys):
    from nmcompile.frontends.modelfile import load_model
    model = next((p for p in EXAMPLES if p.stem == "wta"), EXAMPLES[0])
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(model), "--backend", "brian2", "-o", "out.npz",
                 "--plot", "raster.png", "--steps", "150"]) == 0
    assert "150 steps on brian2" in capsys.readouterr().out
    result = Result.load("out.npz")
    assert result.meta["backend"] == "brian2" and result.meta["steps"] == 150
    assert result.meta["code_target"] == "numpy"
    assert_same_as_oracle(load_model(model).with_steps(150), result)
    png = (tmp_path / "raster.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz", "raster.png"]


@pytest.mark.skipif(not EXAMPLES, reason="no examples")
def test_nmc_run_refuses_an_unknown_plot_format(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(EXAMPLES[0]), "--backend", "brian2", "--steps", "5",
                 "--plot", "raster.bmpx", "-q"]) == 2
    assert "--plot writes a plot: name the file *.png or *.svg or *.pdf" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
