"""NIR graphs on every backend (docs/design.md §7):

  * the NIR paper's task 1 (one LIF neuron driven through an Affine node; Pedersen et al.,
    "Neuromorphic intermediate representation", Nature Communications 2024), built here with
    the nir API. An independent numpy reference steps NIR's own equation
    tau·dv/dt = (v_leak - v) + r·I from the node's parameters (not from the imported model),
    so the import's arithmetic is checked, not only agreement between backends: it gives the
    paper's spikes at steps 460, 510, 710 and 760; brian2 and lava spike exactly there and
    brian2's v follows the reference; the fixed-point backends are within one step. The
    exact discretisation is held to its own reference the same way;
  * the example graphs of examples/nir/ satisfy the parity contract on all four backends,
    every spiking layer of them spikes, the CNN compiles for loihi2, and the committed files
    are what examples/nir/make_graphs.py writes.
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import nir
import numpy as np
import pytest

from nmcompile import driver
from nmcompile.cli import main
from nmcompile.frontends.nir import load_nir
from nmcompile.ir import Probe
from nmcompile.parity import DEFAULT_BACKENDS, check_parity
from nmcompile.parity.report import format_table

EXAMPLES = Path(__file__).parents[2] / "examples" / "nir"

# --- the NIR paper's task 1 ---------------------------------------------------------------
DT_MS = 0.1
STEPS = 1000
INPUT_STEPS = [60, 220, 270, 310, 320, 350, 370, 400, 410, 430, 440, 450, 460, 470, 480, 490,
               500, 510, 520, 530, 670, 680, 690, 700, 710, 720, 730, 740, 750, 760, 770, 780,
               840, 850]
PAPER_SPIKES = [460, 510, 710, 760]
LIF_NODE = nir.LIF(tau=np.array([2.5e-3]), r=np.array([1.0]), v_leak=np.array([0.0]),
                   v_threshold=np.array([0.1]))
AFFINE_NODE = nir.Affine(weight=np.array([[1.0]]), bias=np.array([0.0]))


def task1_graph() -> nir.NIRGraph:
    nodes = {"input": nir.Input(input_type=np.array([1])), "affine": AFFINE_NODE,
             "lif": LIF_NODE, "output": nir.Output(output_type=np.array([1]))}
    return nir.NIRGraph(nodes=nodes, edges=[("input", "affine"), ("affine", "lif"),
                                            ("lif", "output")])


def nir_lif_reference(lif: nir.LIF, drive: np.ndarray, dt_s: float,
                      discretization: str) -> tuple[list[int], np.ndarray]:
    """NIR's LIF stepped in numpy from the node's own fields: each step
    v += d·(v_leak - v + r·I[t]), d = dt/tau (Euler, the paper's reference) or
    1 - exp(-dt/tau) (exact); a spike when v > v_threshold, then v = v_reset (0).
    The spike steps, and v after each step (after the reset)."""
    tau, r, v_leak, v_th = (float(np.asarray(x).ravel()[0])
                            for x in (lif.tau, lif.r, lif.v_leak, lif.v_threshold))
    d = dt_s / tau if discretization == "euler" else -np.expm1(-dt_s / tau)
    v, spikes, trace = 0.0, [], np.zeros(drive.size)
    for t, current in enumerate(drive):
        v += d * (v_leak - v + r * current)
        if v > v_th:
            spikes.append(t)
            v = 0.0
        trace[t] = v
    return spikes, trace


def affine_drive() -> np.ndarray:
    """The Affine node's output each step: weight·spike + bias, a raster spike at step t
    reaching the neuron at step t (the import's stated input timing)."""
    spikes = np.zeros(STEPS)
    spikes[INPUT_STEPS] = 1.0
    return float(AFFINE_NODE.weight[0, 0]) * spikes + float(AFFINE_NODE.bias[0])


@pytest.fixture(scope="module")
def task1_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("task1")
    nir.write(folder / "task1.nir", task1_graph())
    np.savez(folder / "task1_input.npz", **{"input.spike_steps": np.array(INPUT_STEPS),
                                            "input.spike_neurons": np.zeros(len(INPUT_STEPS),
                                                                            dtype=np.int64),
                                            "steps": np.array(STEPS)})
    return folder / "task1.nir", folder / "task1_input.npz"


def task1_network(files, discretization: str):
    graph, raster = files
    net = load_nir(str(graph), dt=DT_MS, discretization=discretization, input=str(raster))
    return replace(net, probes=(Probe(population="lif", var="v"),))


def spike_steps(result) -> list[int]:
    return result.spikes["lif"][0].tolist()


def test_task1_reference_gives_the_papers_spikes():
    spikes, _ = nir_lif_reference(LIF_NODE, affine_drive(), DT_MS / 1000, "euler")
    assert spikes == PAPER_SPIKES


@pytest.mark.parametrize("discretization", ["euler", "exact"])
def test_task1_brian2_follows_the_reference(task1_files, discretization):
    net = task1_network(task1_files, discretization)
    assert net.steps == STEPS
    want_spikes, want_v = nir_lif_reference(LIF_NODE, affine_drive(), DT_MS / 1000,
                                            discretization)
    result = driver.run(net, "brian2")
    assert spike_steps(result) == want_spikes
    # The same arithmetic in another order (the IR's v·(1-d) + (r·d)·I against NIR's
    # v + d·(v_leak - v + r·I)): equal up to a few roundings of values below 0.1.
    assert np.max(np.abs(result.traces[("lif", "v")][:, 0] - want_v)) < 1e-15


def test_task1_exact_discretisation_is_another_trajectory():
    """The two references differ (dt/tau 0.04 against 1 - exp(-0.04)), so the test above
    tells them apart: on this input both give the paper's four spikes."""
    euler = nir_lif_reference(LIF_NODE, affine_drive(), DT_MS / 1000, "euler")
    exact = nir_lif_reference(LIF_NODE, affine_drive(), DT_MS / 1000, "exact")
    assert euler[0] == exact[0] == PAPER_SPIKES
    assert np.max(np.abs(euler[1] - exact[1])) > 1e-3


@pytest.mark.lava
def test_task1_lava_spikes_at_the_papers_steps(task1_files):
    assert spike_steps(driver.run(task1_network(task1_files, "euler"), "lava")) == PAPER_SPIKES


@pytest.mark.parametrize("backend", [pytest.param("lava-fixed", marks=pytest.mark.lava),
                                     "emulator"])
def test_task1_fixed_point_within_one_step(task1_files, backend):
    got = spike_steps(driver.run(task1_network(task1_files, "euler"), backend))
    assert len(got) == len(PAPER_SPIKES), got
    assert max(abs(a - b) for a, b in zip(got, PAPER_SPIKES)) <= 1, got


# --- the example graphs (examples/nir/) -------------------------------------------------
EXAMPLE_GRAPHS = ["scnn", "recurrent_cuba"]


def load_example(stem: str):
    return load_nir(str(EXAMPLES / f"{stem}.nir"), dt=1.0,
                    input=str(EXAMPLES / f"{stem}_input.npz"))


@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.parametrize("stem", EXAMPLE_GRAPHS)
def test_example_parity_across_all_backends(stem):
    net = load_example(stem)
    report = check_parity(net, DEFAULT_BACKENDS)
    table = format_table(report)
    assert [r.status for r in report.runs] == ["ran"] * 4, table
    assert [(p.contract, p.verdict in ("pass", "tie")) for p in report.pairs] == [
        ("float-exact", True), ("bit-exact", True), ("quantization", True)], table
    assert report.pairs[1].mismatches == 0 and report.pairs[1].spikes_compared > 0, table
    brian2 = report.runs[0].result
    for pop in net.neuron_populations():
        if np.isfinite(pop.model.v_th):  # every spiking layer spikes
            assert brian2.spikes[pop.name][0].size > 0, pop.name
        else:  # the non-spiking readout integrates
            assert np.any(brian2.traces[(pop.name, "v")] != 0), pop.name


def test_cnn_compiles_for_loihi2(tmp_path, capsys):
    report_file = tmp_path / "report.json"
    assert main(["compile", str(EXAMPLES / "scnn.nir"), "--dt", "1", "--input",
                 str(EXAMPLES / "scnn_input.npz"), "--report", "--json",
                 str(report_file)]) == 0
    out = capsys.readouterr().out
    assert "mapping on loihi2: 1 chip(s), 1 core(s)" in out and "synaptic_words" in out
    report = json.loads(report_file.read_text())
    # conv1 (padding 1): 4 x 2 channels x 46^2 taps inside the 16 x 16 input (per axis 14
    # positions see 3 taps, the 2 edges 2); pool + conv2 fused: 8 x 3^2 outputs x 4 x 3^2
    # taps x 2^2 pooled neurons; the Affine: 10 x 72
    synapses = [p["synapses"] for p in report["projections"]]
    assert synapses == [4 * 2 * 46**2, 8 * 9 * 4 * 9 * 4, 10 * 72]
    assert report["mapping"]["cores_used"] == 1
    assert report["mapping"]["per_core"]["synaptic_words"] == [sum(synapses)]


def test_recurrent_cuba_compiles_for_loihi2(capsys):
    """The recurrent current-based graph (biases, a Delay on the loop, a CubaLI readout) maps
    too, its delays in the synaptic delay slots."""
    assert main(["compile", str(EXAMPLES / "recurrent_cuba.nir"), "--dt", "1", "--input",
                 str(EXAMPLES / "recurrent_cuba_input.npz"), "--report"]) == 0
    out = capsys.readouterr().out
    assert "mapping on loihi2: 1 chip(s), 1 core(s)" in out
    net = load_example("recurrent_cuba")
    assert net.delay_range() == (1, 4) and net.has_cycles()


def test_committed_examples_are_what_the_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_graphs", EXAMPLES / "make_graphs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(tmp_path)
    for name in script.FILES:
        if name.endswith(".npz"):
            with np.load(EXAMPLES / name) as want, np.load(tmp_path / name) as got:
                assert sorted(want.files) == sorted(got.files), name
                for key in want.files:
                    assert np.array_equal(want[key], got[key]), (name, key)
            continue
        want, got = nir.read(EXAMPLES / name), nir.read(tmp_path / name)
        assert want.edges == got.edges and list(want.nodes) == list(got.nodes), name
        for node in want.nodes:
            assert same_fields(want.nodes[node].to_dict(), got.nodes[node].to_dict()), \
                (name, node)


def same_fields(a, b) -> bool:
    """Equal node dictionaries (nested: metadata), arrays compared element by element."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() \
            and all(same_fields(a[k], b[k]) for k in a)
    return np.array_equal(np.asarray(a), np.asarray(b))
