"""save_nir against load_nir (docs/design.md §7.6): every network NIR can express comes back
equal (Network.__eq__: names, order, parameters, synapses, delays, probes, run) from the
exported graph and raster, and runs to the same spikes; what NIR cannot express is refused in
one line that names it, before anything is written."""
from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import nir
import numpy as np
import pytest

from nmcompile import driver
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_model
from nmcompile.frontends.nir import load_nir, save_nir
from nmcompile.ir import Network, Poisson, SpikeArray, source_spikes

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
# examples NIR cannot express -> what their refusal says (every other example must export)
REFUSED = {"lif_variants": "population 'ramp' has an injected current",
           "mixed_models": "population 'exc' is izhikevich"}
EXPRESSIBLE = sorted(p.stem for p in EXAMPLES.glob("*.yaml") if p.stem not in REFUSED)
IZHIKEVICH = sorted(str(p) for p in (EXAMPLES / "izhikevich").rglob("*.yaml"))


# -- helpers -----------------------------------------------------------------------------------
def realised(net: Network) -> Network:
    """`net` with each Poisson source replaced by the SpikeArray of the spikes it makes in the
    run (as every backend realises them): what the exported raster holds."""
    pops = {}
    for name, pop in net.populations.items():
        if isinstance(pop.model, Poisson):
            steps, neurons = source_spikes(pop, net, net.steps)
            pop = replace(pop, model=SpikeArray(neurons=neurons, steps=steps))
        pops[name] = pop
    return replace(net, populations=pops)


def round_trip(net: Network, path: Path) -> Network:
    written = save_nir(net, str(path))
    raster = written[1] if len(written) > 1 else None
    assert written == [str(path)] + ([raster] if raster else [])
    return load_nir(str(path), dt=net.dt, discretization="exact", input=raster)


def same_spikes(a: Network, b: Network) -> None:
    ra, rb = driver.run(a, "emulator"), driver.run(b, "emulator")
    assert ra.spikes.keys() == rb.spikes.keys() and rb.neuron_spike_count() > 0
    for pop, (steps, neurons) in rb.spikes.items():
        assert np.array_equal(ra.spikes[pop][0], steps)
        assert np.array_equal(ra.spikes[pop][1], neurons)


def one_line_refusal(net: Network, path: Path, *names: str) -> str:
    """save_nir's refusal of `net`: one line naming the model and each of `names`, and no
    file written."""
    with pytest.raises(InputError) as info:
        save_nir(net, str(path))
    line = str(info.value)
    assert "\n" not in line
    for name in (net.location.file or net.name,) + names:
        assert name in line, line
    assert os.listdir(path.parent) == []
    return line


def mixed() -> Network:
    """Every LIF form NIR has a node for (CubaLIF, LIF, CubaLI, LI, IF, I), per-neuron bias,
    v_init and u_init, refractory and reset: subtract, a projection with several delays, two
    projections between one pair, a shaped Poisson source and spikes past the run, at a dt and
    taus whose ms -> s -> ms trip is not exact in floats."""
    b = NetworkBuilder("mixed-lif", dt=0.5, steps=120, seed=5)
    b.spike_array("cue", size=3, spikes=[[0, 2], [1, 2], [2, 5], [0, 40], [2, 150]])
    b.poisson("noise", size=6, rate=150.0, shape=[2, 3])
    b.lif("cuba", size=5, tau_syn=3.7, tau_mem=12.3, v_th=1.0,
          bias=[0.01, -0.02, 0.0, 0.03, 0.005], v_init=[0.1, 0.2, 0.3, 0.4, 0.5],
          u_init=[0.0, 0.05, 0.0, -0.05, 0.1], refractory=2, reset="subtract")
    b.lif("plain", size=4, tau_syn=0, tau_mem=7.9, v_th=0.8, bias=0.011)
    b.lif("leaky", size=2, tau_syn=2.3, tau_mem=21.1, v_th=math.inf, bias=0.002)
    b.lif("leaky0", size=2, tau_syn=0, tau_mem=9.1, v_th=math.inf)
    b.lif("integrate", size=3, tau_syn=0, tau_mem=math.inf, v_th=1.5)
    b.lif("count", size=1, tau_syn=0, tau_mem=math.inf, v_th=math.inf)
    b.connect("cue", "cuba", "all_to_all", weight={"uniform": [0.2, 0.9]},
              delay={"uniform_int": [1, 4]}, name="cue_cuba")
    b.connect("noise", "plain", {"fixed_probability": 0.6}, weight={"uniform": [0.1, 0.5]},
              delay=2, name="noise_plain")
    b.connect("noise", "plain", {"fixed_probability": 0.5}, weight=-0.3, name="noise_plain_inh")
    b.connect("cuba", "leaky", "all_to_all", weight=0.25, delay=3)
    b.connect("plain", "leaky0", "all_to_all", weight=0.125)
    b.connect("cuba", "integrate", {"fixed_probability": 0.7}, weight={"uniform": [0.1, 0.6]},
              delay={"uniform_int": [1, 3]})
    b.connect("integrate", "count", "all_to_all", weight=1.0)
    b.connect("cuba", "cuba", {"fixed_probability": 0.3}, weight=-0.2, delay=2, allow_self=False)
    b.probe("cuba", "v")
    b.probe("leaky", "v")
    b.probe("count", "u")
    return b.build()


# -- round trips -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXPRESSIBLE)
def test_examples_come_back_equal_and_spike_alike(name, tmp_path):
    net = load_model(str(EXAMPLES / f"{name}.yaml"))
    imported = round_trip(net, tmp_path / f"{name}.nir")
    assert imported == realised(net)
    assert imported.metadata["discretization"] == "exact"
    same_spikes(imported, net)


NIR_EXAMPLES = sorted(p.stem for p in (EXAMPLES / "nir").glob("*.nir"))


@pytest.mark.parametrize("discretization", ["euler", "exact"])
@pytest.mark.parametrize("stem", NIR_EXAMPLES)
def test_nir_examples_export_back_to_themselves(stem, discretization, tmp_path):
    """A user's NIR graph (conv biases on IF neurons, a Delay in a recurrent loop, current-based
    neurons with biases), imported either way, exports and imports back equal."""
    net = load_nir(str(EXAMPLES / "nir" / f"{stem}.nir"), dt=1.0, discretization=discretization,
                   input=str(EXAMPLES / "nir" / f"{stem}_input.npz"))
    assert round_trip(net, tmp_path / f"{stem}.nir") == net
    assert NIR_EXAMPLES == ["recurrent_cuba", "scnn"]


def test_every_lif_form_comes_back_equal_and_spikes_alike(tmp_path):
    net = mixed()
    assert {len(np.unique(p.delay)) for p in net.projections} >= {1, 3}  # what it is meant to show
    imported = round_trip(net, tmp_path / "mixed.nir")
    assert imported == realised(net)
    assert isinstance(imported.populations["cuba"].model.bias, np.ndarray)
    same_spikes(imported, net)
    graph = nir.read(str(tmp_path / "mixed.nir"), type_check=False)
    kinds = {name: type(graph.nodes[name]).__name__ for name in net.populations}
    assert kinds == {"cue": "Input", "noise": "Input", "cuba": "CubaLIF", "plain": "LIF",
                     "leaky": "CubaLI", "leaky0": "LI", "integrate": "IF", "count": "I"}
    assert graph.nodes["noise"].input_type["input"].tolist() == [6]  # flat: NIR cannot reshape
    assert graph.nodes["noise"].metadata["nmcompile.shape"].tolist() == [2, 3]


def test_a_network_imported_from_nir_exports_back_to_itself(tmp_path):
    """A user's graph (Euler, per-neuron r, w_in, v_leak, v_reset, Affine biases, an
    elementwise Delay on a recurrent loop) imported, exported, imported again: the same
    network, biases, initial currents and tau_for's taus included."""
    rng = np.random.default_rng(3)
    n = 4
    nodes = {
        "in": nir.Input(input_type={"input": np.array([3])}),
        "fc": nir.Affine(weight=rng.uniform(0.5, 2, (n, 3)), bias=rng.uniform(-0.1, 0.1, n)),
        "cell": nir.CubaLIF(tau_syn=np.full(n, 5e-3), tau_mem=np.full(n, 2e-2),
                            r=rng.uniform(1, 3, n), v_leak=rng.uniform(-0.1, 0.1, n),
                            v_threshold=np.full(n, 1.0), v_reset=np.full(n, -0.2),
                            w_in=rng.uniform(0.5, 2, n)),
        "wait": nir.Delay(delay=np.array([1e-3, 2e-3, 1e-3, 3e-3])),
        "rec": nir.Linear(weight=rng.uniform(-0.5, 0.5, (n, n))),
        "ro": nir.Affine(weight=rng.uniform(0, 1, (2, n)), bias=np.array([0.01, 0.0])),
        "readout": nir.LI(tau=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2)),
        "out": nir.Output(output_type={"output": np.array([2])}),
    }
    edges = [("in", "fc"), ("fc", "cell"), ("cell", "wait"), ("wait", "rec"), ("rec", "cell"),
             ("cell", "ro"), ("ro", "readout"), ("readout", "out")]
    nir.write(tmp_path / "user.nir", nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    np.savez(tmp_path / "in.npz", **{"in.spike_steps": np.array([1, 3, 5]),
                                     "in.spike_neurons": np.array([0, 1, 2]), "steps": 40})
    net = load_nir(str(tmp_path / "user.nir"), dt=0.5, input=str(tmp_path / "in.npz"))
    assert {len(np.unique(p.delay)) for p in net.projections} == {1, 3}
    assert np.any(net.populations["cell"].model.u_init != 0)
    assert round_trip(net, tmp_path / "back.nir") == net


def test_the_raster_holds_the_sources_spikes_one_step_later(tmp_path):
    net = mixed()
    written = save_nir(net, str(tmp_path / "m.nir"))
    assert written == [str(tmp_path / "m.nir"), str(tmp_path / "m.input.npz")]
    with np.load(written[1]) as raster:
        assert int(raster["steps"]) == 120
        assert raster["cue.spike_steps"].tolist() == [3, 3, 6, 41, 151]
        assert raster["cue.spike_neurons"].tolist() == [0, 1, 2, 0, 2]
        steps, neurons = source_spikes(net.populations["noise"], net, net.steps)
        assert steps.size and np.array_equal(raster["noise.spike_steps"], steps + 1)
        assert np.array_equal(raster["noise.spike_neurons"], neurons)
    assert sorted(os.listdir(tmp_path)) == ["m.input.npz", "m.nir"]  # no partial file left


def test_a_raster_that_cannot_be_written_stops_the_graph_too(tmp_path):
    (tmp_path / "x.input.npz").mkdir()
    with pytest.raises(InputError, match="x.input.npz: cannot write: it is a folder"):
        save_nir(load_model(str(EXAMPLES / "wta.yaml")), str(tmp_path / "x.nir"))
    assert os.listdir(tmp_path) == ["x.input.npz"]  # no graph, no partial file


def test_without_sources_no_raster_is_written(tmp_path):
    b = NetworkBuilder("alone", steps=50)
    b.lif("a", size=2, tau_syn=0, tau_mem=10.0, v_th=1.0, bias=0.2)
    b.lif("b", size=1, tau_syn=2.0, tau_mem=10.0, v_th=1.0)
    b.connect("a", "b", "all_to_all", weight=0.7)
    net = b.build()
    assert save_nir(net, str(tmp_path / "alone.nir")) == [str(tmp_path / "alone.nir")]
    assert os.listdir(tmp_path) == ["alone.nir"]
    assert load_nir(str(tmp_path / "alone.nir"), dt=net.dt, discretization="exact") == net


def test_generated_node_names_avoid_population_names(tmp_path):
    b = NetworkBuilder("names")
    b.spike_array("src", size=2, spikes=[[0, 1]])
    b.lif("x", size=2, tau_syn=0, tau_mem=10.0, v_th=1.0)
    b.lif("x_output", size=1, tau_syn=0, tau_mem=10.0, v_th=1.0)
    b.lif("p_d1", size=1, tau_syn=0, tau_mem=10.0, v_th=1.0)
    b.connect("src", "x", "one_to_one", weight=2.0, delay={"uniform_int": [1, 2]}, name="p")
    b.connect("x", "x_output", "all_to_all", weight=1.0, name="p_d1")
    b.connect("x", "p_d1", "all_to_all", weight=1.0, name="x")
    net = b.build()
    imported = round_trip(net, tmp_path / "names.nir")
    assert imported == realised(net)
    graph = nir.read(str(tmp_path / "names.nir"), type_check=False)
    assert isinstance(graph.nodes["x"], nir.LIF) and isinstance(graph.nodes["p_d1"], nir.LIF)
    outputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Output)]
    assert len(outputs) == 3 and "x_output" not in outputs


# -- the file as NIR -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXPRESSIBLE)
def test_nir_reads_the_file_with_its_type_check(name, tmp_path):
    net = load_model(str(EXAMPLES / f"{name}.yaml"))
    save_nir(net, str(tmp_path / "g.nir"))
    graph = nir.read(str(tmp_path / "g.nir"))  # type_check=True: other tools can read it
    assert graph.metadata["nmcompile.name"] == net.name
    assert set(net.populations) <= set(graph.nodes)


def test_an_edited_nir_field_wins_over_the_stored_value(tmp_path):
    net = mixed()
    path = tmp_path / "m.nir"
    written = save_nir(net, str(path))
    graph = nir.read(str(path), type_check=False)
    node = graph.nodes["plain"]
    node.tau = node.tau * 2
    nir.write(str(path), graph)
    imported = load_nir(str(path), dt=net.dt, discretization="exact", input=written[1])
    model = imported.populations["plain"].model
    dm = 1.0 - math.exp(-(net.dt / 1000.0) / node.tau[0])  # the import's own exact decay
    assert model.tau_mem == node.tau[0] * 1000.0 != net.populations["plain"].model.tau_mem
    assert model.dv(net.dt) == pytest.approx(dm, rel=1e-12)
    assert model.bias == pytest.approx(0.011 * dm / net.populations["plain"].model.dv(net.dt),
                                       rel=1e-12)
    before = {p.name: p for p in net.projections}
    for proj in imported.projections:
        if proj.post == "plain":  # weights follow the NIR ones: w · r · dm, r = 1/dm_before
            assert proj.weight == pytest.approx(before[proj.name].weight * dm / (
                net.populations["plain"].model.dv(net.dt)), rel=1e-12)
            assert not np.array_equal(proj.weight, before[proj.name].weight)
    for name in ("cuba", "leaky", "integrate"):  # the untouched nodes still come back exact
        assert imported.populations[name] == net.populations[name]


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_examples_nir_cannot_express_are_refused_by_name(name, tmp_path):
    line = one_line_refusal(load_model(str(EXAMPLES / f"{name}.yaml")), tmp_path / "x.nir")
    assert REFUSED[name] in line
    assert line.endswith(("NIR has no node for it", "NIR cannot carry injected currents"))


@pytest.mark.parametrize("name", ["competitive", "reward"])
def test_plastic_projections_are_refused_by_name(name, tmp_path):
    net = load_model(str(EXAMPLES / "learning" / f"{name}.yaml"))
    line = one_line_refusal(net, tmp_path / "x.nir")
    plastic = net.plastic_projections()[0]
    assert f"projection {plastic.name!r} learns ({plastic.learning.kind}): NIR has no " \
           f"learning rules" in line, line


@pytest.mark.parametrize("path", IZHIKEVICH)
def test_izhikevich_models_are_refused_by_name(path, tmp_path):
    net = load_model(path)
    pop = next(p.name for p in net.populations.values() if p.model.kind == "izhikevich")
    line = one_line_refusal(net, tmp_path / "x.nir", f"population {pop!r}")
    assert "is izhikevich: NIR has no node for it" in line


def small(**lif) -> Network:
    b = NetworkBuilder("small")
    b.spike_array("src", size=2, spikes=[[0, 1]])
    b.lif("n", size=2, **{"tau_syn": 0, "tau_mem": 10.0, "v_th": 1.0, **lif})
    b.connect("src", "n", "one_to_one", weight=0.5, name="src_n")
    return b.build()


@pytest.mark.parametrize("lif, message", [
    ({"tau_syn": 2.0, "tau_mem": math.inf}, "tau_syn > 0 with tau_mem .inf"),
    ({"tau_syn": math.inf}, "u does not decay"),
    ({"tau_mem": 0.01}, "decays v by 1.0"),
])
def test_lif_parameters_without_a_nir_node_are_refused(lif, message, tmp_path):
    line = one_line_refusal(small(**lif), tmp_path / "x.nir", "population 'n'")
    assert message in line


@pytest.mark.parametrize("v_th", [1.0, math.inf])
def test_a_leak_free_bias_rides_on_an_affine(v_th, tmp_path):
    """IF and I nodes have no v_leak: the bias of a leak-free LIF is the bias of the Affine
    that feeds it, and comes back exactly."""
    net = small(tau_mem=math.inf, v_th=v_th, bias=[0.0, 0.1])
    assert round_trip(net, tmp_path / "if.nir") == realised(net)
    graph = nir.read(str(tmp_path / "if.nir"))
    assert isinstance(graph.nodes["src_n"], nir.Affine)
    np.testing.assert_array_equal(graph.nodes["src_n"].bias, [0.0, 0.1])


def test_a_leak_free_bias_without_input_is_refused(tmp_path):
    b = NetworkBuilder("lonely")
    b.lif("n", size=2, tau_syn=0, tau_mem=math.inf, v_th=1.0, bias=0.1)
    line = one_line_refusal(b.build(), tmp_path / "x.nir", "population 'n'")
    assert "IF and I nodes have no v_leak, and no Affine feeds it" in line


def test_other_neuron_models_are_refused_by_name(tmp_path):
    b = NetworkBuilder("adaptive")
    b.adaptive_lif("a", size=2, tau_syn=2.0, tau_mem=10.0, tau_theta=50.0, tau_r=4.0,
                   theta_0=1.0, theta_step=0.2)
    line = one_line_refusal(b.build(), tmp_path / "x.nir", "population 'a'")
    assert "is adaptive_lif: NIR has no node for it" in line


def with_projection(net: Network, **changes) -> Network:
    proj = replace(net.projections[0], **changes)
    return replace(net, projections=(proj,))


def test_synapses_of_weight_zero_are_refused(tmp_path):
    net = small()
    net = with_projection(net, weight=np.array([0.5, 0.0]))
    line = one_line_refusal(net, tmp_path / "x.nir", "projection 'src_n'")
    assert "weight 0" in line


def test_a_dense_matrix_too_large_is_refused_before_it_is_built(tmp_path):
    big = 12_000  # 12,000 x 12,000 = 1.44e8 entries > 2**27
    net = small()
    pops = {"src": replace(net.populations["src"], size=big),
            "n": replace(net.populations["n"], size=big)}
    net = replace(net, populations=pops)
    line = one_line_refusal(net, tmp_path / "x.nir", "projection 'src_n'")
    assert "144,000,000 entries" in line


def test_names_the_import_would_change_are_refused(tmp_path):
    net = small()
    pops = {"n a": replace(net.populations["n"], name="n a"), "src": net.populations["src"]}
    line = one_line_refusal(replace(net, populations=pops), tmp_path / "x.nir",
                            "population 'n a'")
    assert "would rename it" in line
    net = with_projection(net, name="a,b")
    assert "metadata" in one_line_refusal(net, tmp_path / "x.nir", "projection 'a,b'")


def test_refusals_name_the_model_file(tmp_path):
    line = one_line_refusal(load_model(IZHIKEVICH[0]), tmp_path / "x.nir")
    assert line.startswith(IZHIKEVICH[0] + ": ")
    line = one_line_refusal(small(tau_syn=math.inf), tmp_path / "x.nir")
    assert line.startswith("<builder small>: ")


# -- the command line --------------------------------------------------------------------------
def test_nmc_export_writes_the_graph_and_the_raster(tmp_path, capsys):
    out = tmp_path / "x.nir"
    assert main(["export", str(EXAMPLES / "wta.yaml"), "-o", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    raster = tmp_path / "x.input.npz"
    assert stderr == "" and str(out) in stdout and str(raster) in stdout
    net = load_model(str(EXAMPLES / "wta.yaml"))
    assert load_nir(str(out), dt=1.0, discretization="exact", input=str(raster)) == realised(net)
    assert sorted(os.listdir(tmp_path)) == ["x.input.npz", "x.nir"]


def test_nmc_export_refuses_izhikevich_in_one_line(tmp_path, capsys):
    code = main(["export", IZHIKEVICH[0], "-o", str(tmp_path / "x.nir")])
    stdout, stderr = capsys.readouterr()
    assert (code, stdout) == (2, "")
    assert stderr.count("\n") == 1 and "is izhikevich" in stderr and IZHIKEVICH[0] in stderr
    assert os.listdir(tmp_path) == []
