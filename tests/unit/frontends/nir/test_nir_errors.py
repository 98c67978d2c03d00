"""Bad NIR input through `nmc`: every case exits 2 with ONE line on stderr naming the file and,
where there is one, the node; no traceback, no "internal error", and nothing written (a new
output is not created, an existing one is left as it was). Graphs are built with the `nir` API
and written with nir.write; files nir itself would never write are made with h5py."""
from __future__ import annotations

import os
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from nmcompile.cli import main
from nmcompile.frontends.nir.graph import KNOWN

WTA = str(Path(__file__).resolve().parents[4] / "examples" / "wta.yaml")
KEPT = "an output written before the command\n"


# -- helpers -----------------------------------------------------------------------------------
def nmc(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out, err


def refused(capsys, *argv: str) -> str:
    """The one line of a refusal (exit 2, nothing on stdout)."""
    code, out, err = nmc(capsys, *argv)
    assert (code, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err[:-1]


def refused_by_convert(capsys, model: str, *flags: str) -> str:
    """The line `nmc convert` refuses `model` with, checking that it writes nothing: a new
    output is not created, an existing one keeps its content (and both refusals say the same)."""
    line = refused(capsys, "convert", model, *flags, "-o", "new.yaml")
    assert not os.path.exists("new.yaml")
    Path("old.yaml").write_text(KEPT)
    assert refused(capsys, "convert", model, *flags, "-o", "old.yaml") == line
    assert Path("old.yaml").read_text() == KEPT
    os.remove("old.yaml")
    return line


def lif(n: int = 2, **params) -> nir.LIF:
    fields = dict(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n),
                  v_threshold=np.ones(n), v_reset=np.zeros(n))
    fields.update({k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
    return nir.LIF(**fields)


def write(name: str, nodes: dict, edges: list) -> str:
    """The graph written as NAME.nir in the current folder (the test's tmp_path)."""
    nir.write(f"{name}.nir", nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    return f"{name}.nir"


def chain(*nodes, name: str = "g") -> str:
    """in (3 neurons) -> nodes... -> out, the nodes named by their position: n1, n2, ..."""
    names = [f"n{k + 1}" for k in range(len(nodes))]
    stages = ["in"] + names + ["out"]
    graph = {"in": nir.Input(np.array([3])), **dict(zip(names, nodes)),
             "out": nir.Output(np.array([2]))}
    return write(name, graph, list(zip(stages, stages[1:])))


def good() -> str:
    """in (3) -> fc (Affine 2x3) -> lif (2) -> out."""
    return write("good", {"in": nir.Input(np.array([3])),
                          "fc": nir.Affine(np.ones((2, 3)), np.zeros(2)),
                          "lif": lif(2), "out": nir.Output(np.array([2]))},
                 [("in", "fc"), ("fc", "lif"), ("lif", "out")])


def raster(name: str = "r.npz", **arrays) -> str:
    np.savez(name, **arrays)
    return name


def spikes(steps, neurons, node: str = "in") -> dict:
    return {f"{node}.spike_steps": np.asarray(steps), f"{node}.spike_neurons": np.asarray(neurons)}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# -- the happy path ------------------------------------------------------------------------------
def test_validate_info_convert_and_the_converted_model(capsys):
    model = good()
    code, out, err = nmc(capsys, "validate", model, "--dt", "1")
    assert (code, err) == (0, "")
    assert out == ("good.nir: ok: good: 2 populations, 5 neurons, 1 projections, 6 synapses, "
                   "delays 1, acyclic\n")
    code, out, err = nmc(capsys, "info", model, "--dt", "0.5", "--discretization", "exact")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "network good: dt 0.5 ms, 100 steps, seed 0"
    assert "  dt 0.5 ms (given), discretization exact" in lines
    assert "  timing: a raster spike at step t reaches the first neuron layer at step t (the " \
           "source emits it at step t-1); every neuron-to-neuron hop takes 1 step, Delay nodes " \
           "add theirs" in lines
    raster(**spikes([1, 2], [0, 2]), steps=np.array(7))
    code, out, err = nmc(capsys, "convert", model, "--dt", "1", "--input", "r.npz",
                         "-o", "x.yaml")
    assert (code, err) == (0, "")
    assert out == "good.nir: 2 populations, 6 synapses, dt 1.0 ms (euler) -> x.yaml\n"
    code, out, err = nmc(capsys, "validate", "x.yaml")
    assert (code, err) == (0, "")
    assert out == ("x.yaml: ok: good: 2 populations, 5 neurons, 1 projections, 6 synapses, "
                   "delays 1, acyclic\n")


# -- files that are not NIR graphs ---------------------------------------------------------------
def not_hdf5() -> str:
    Path("text.nir").write_text("this is not HDF5\n")
    return "text.nir"


def truncated() -> str:
    data = Path(good()).read_bytes()
    Path("cut.nir").write_bytes(data[: len(data) // 2])
    return "cut.nir"


def no_node_group() -> str:
    with h5py.File("empty.nir", "w") as fh:
        fh.create_dataset("version", data="1.0.8")
    return "empty.nir"


@pytest.mark.parametrize("make, reason", [
    (not_hdf5, "OSError: Unable to synchronously open file (file signature not found)"),
    (truncated, "OSError: Unable to synchronously open file (truncated file: "),
    (no_node_group, "KeyError: \"Unable to synchronously open object (object 'node' doesn't "
                    "exist)\""),
], ids=["text", "truncated", "no-node-group"])
def test_a_file_nir_cannot_read(make, reason, capsys):
    model = make()
    line = refused_by_convert(capsys, model, "--dt", "1")
    assert line.startswith(f"{model}: not a NIR graph nir can read: {reason}")
    assert refused(capsys, "validate", model, "--dt", "1") == line


def test_a_node_of_a_type_nir_does_not_know_is_named(capsys):
    model = good()
    with h5py.File(model, "r+") as fh:
        del fh["node/nodes/fc/type"]
        fh["node/nodes/fc/type"] = np.bytes_("Spiky")
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        f"good.nir: not a NIR graph nir can read: node 'fc' (Spiky): nir {nir.__version__} has "
        f"no node type 'Spiky'")


def test_a_node_nir_cannot_build_is_named(capsys):
    model = good()
    with h5py.File(model, "r+") as fh:
        del fh["node/nodes/lif/tau"]
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "good.nir: not a NIR graph nir can read: node 'lif' (LIF): TypeError: LIF.__init__() "
        "missing 1 required positional argument: 'tau'")


def test_a_lone_node_is_not_a_graph(capsys):
    nir.write("lone.nir", lif(2))
    assert refused_by_convert(capsys, "lone.nir", "--dt", "1") == (
        "lone.nir: not a NIR graph nir can read: it holds a single LIF node, not a NIRGraph")


def test_a_missing_file(capsys):
    assert refused_by_convert(capsys, "nosuch.nir", "--dt", "1") == "nosuch.nir: no such file"
    assert refused(capsys, "validate", "nosuch.nir", "--dt", "1") == "nosuch.nir: no such file"


# -- graphs that do not hold together ------------------------------------------------------------
def test_an_edge_to_a_node_that_does_not_exist(capsys):
    model = write("g", {"in": nir.Input(np.array([2])), "lif": lif(2)},
                  [("in", "lif"), ("lif", "nowhere")])
    line = refused_by_convert(capsys, model, "--dt", "1")
    assert line == ("g.nir: edge 'lif' -> 'nowhere' names 'nowhere', which is not a node of "
                    "the graph (a subgraph with several Input/Output nodes is entered as "
                    "'subgraph.input_name')")


def test_an_affine_whose_weight_does_not_fit_its_input(capsys):
    model = chain(nir.Affine(np.ones((2, 4)), np.zeros(2)), lif(2))
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: node 'n1' (Affine): weight (2, 4) takes 4 inputs; the input has shape (3,) "
        "(last dim 3, size 3)")


def test_a_lif_fed_a_signal_of_another_size(capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), lif(4))
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: node 'n2' (LIF): receives shape (2,) but has shape (4,)")


def test_a_conv2d_whose_channels_differ_from_its_input(capsys):
    conv = nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 3, 3, 3)), stride=1, padding=0,
                      dilation=1, groups=1, bias=np.zeros(1))
    model = write("g", {"in": nir.Input(np.array([2, 4, 4])), "conv": conv, "lif": lif(4)},
                  [("in", "conv"), ("conv", "lif")])
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: node 'conv' (Conv2d): weight expects 3 input channels (3 per group x 1 groups), "
        "the input (2, 4, 4) has 2")


def unimported_types() -> list[type]:
    """Every nir node type nmcompile does not import (graphs are flattened, not imported)."""
    types = {t for t in vars(nir).values() if isinstance(t, type) and issubclass(t, nir.NIRNode)}
    return sorted(types - set(KNOWN) - {nir.NIRNode, nir.NIRGraph}, key=lambda t: t.__name__)


def an_instance(node_type: type) -> nir.NIRNode:
    if node_type is nir.Threshold:
        return nir.Threshold(threshold=np.ones(2))
    raise AssertionError(f"a new nir node type {node_type.__name__}: add an instance here")


def test_threshold_is_among_the_types_refused():
    assert nir.Threshold in unimported_types()


@pytest.mark.parametrize("node_type", unimported_types(), ids=lambda t: t.__name__)
def test_an_unsupported_node_is_named_with_its_type(node_type, capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), an_instance(node_type), lif(2))
    line = refused_by_convert(capsys, model, "--dt", "1")
    assert line.startswith(f"g.nir: node 'n2' ({node_type.__name__}): nmcompile does not "
                           f"import {node_type.__name__} nodes (it imports ")


def test_an_output_fed_by_a_linear_node(capsys):
    model = write("g", {"in": nir.Input(np.array([3])),
                        "fc": nir.Affine(np.ones((2, 3)), np.zeros(2)), "lif": lif(2),
                        "out": nir.Output(np.array([2]))},
                  [("in", "fc"), ("fc", "lif"), ("fc", "out")])
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: node 'out' (Output): is fed by 'fc' (Affine), not by a neuron node: nmcompile "
        "records the spikes of neuron populations")


@pytest.mark.parametrize("back, delay, loop", [
    ("a", None, "'a' (Affine): a loop of linear nodes with no neuron on it (a -> b -> a)"),
    ("b", None, "'b' (Affine): a loop of linear nodes with no neuron on it (b -> b)"),
    ("a", [0.001], "'a' (Affine): a loop of linear nodes with no neuron on it "
                   "(a -> b -> wait -> a)"),
    ("a", [0.001, 0.002], "'b' (Affine): a loop of linear nodes with no neuron on it "
                          "(b -> wait -> a -> b)"),
], ids=["a-b-a", "b-b", "through-a-delay", "through-an-elementwise-delay"])
def test_a_loop_of_linear_nodes(back, delay, loop, capsys):
    """Affine a -> Affine b -> (Delay wait ->) back to `back`; b also feeds the neurons."""
    nodes = {"in": nir.Input(np.array([2])), "a": nir.Affine(np.eye(2), np.zeros(2)),
             "b": nir.Affine(np.eye(2), np.zeros(2)), "lif": lif(2)}
    edges = [("in", "a"), ("a", "b"), ("b", "lif")]
    if delay is None:
        edges.append(("b", back))
    else:
        nodes["wait"] = nir.Delay(np.array(delay))
        edges += [("b", "wait"), ("wait", back)]
    assert refused_by_convert(capsys, write("g", nodes, edges), "--dt", "1") == (
        f"g.nir: node {loop}: an algebraic loop has no step-by-step meaning")


def test_a_graph_without_neurons(capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)))
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: the graph has no neuron node (LIF, CubaLIF, IF, LI, CubaLI, I)")


# -- --dt ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["validate"], ["info"], ["run", "-b", "emulator"],
                                     ["convert", "-o", "x.yaml"]], ids=lambda c: c[0])
def test_dt_is_required(command, capsys):
    model = good()
    raster(**spikes([1], [0]))
    line = refused(capsys, command[0], model, *command[1:], "--input", "r.npz")
    assert line == ("good.nir: a NIR graph has no time step: give one with --dt MS "
                    "(dt=... in Python)")
    assert sorted(os.listdir(".")) == ["good.nir", "r.npz"]


@pytest.mark.parametrize("dt", ["0", "-1", "nan", "inf", "-inf", "1ms"])
def test_a_dt_that_is_no_time_step_is_a_usage_error(dt, capsys):
    with pytest.raises(SystemExit) as info:
        main(["convert", good(), f"--dt={dt}", "-o", "x.yaml"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert errors == [f"nmc convert: error: argument --dt: must be a time step in ms"
                      f"{' > 0' if dt != '1ms' else ''}, got {dt!r}"]
    assert "Traceback" not in err and not os.path.exists("x.yaml")


@pytest.mark.parametrize("flag", [["--dt", "1"], ["--input", "r.npz"],
                                  ["--discretization", "exact"]], ids=lambda f: f[0])
def test_nir_flags_with_a_model_file(flag, capsys):
    assert refused(capsys, "validate", WTA, *flag) == (
        f"nmc: {flag[0]} is for NIR graphs (.nir); {WTA} is a model file, which says its own "
        f"dt and inputs")


# -- --input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["run", "-b", "emulator", "-o", "x.npz"],
                                     ["parity", "--backends", "emulator",
                                      "--json", "x.json"],
                                     ["convert", "-o", "x.yaml"], ["compile", "-o", "x.nmc"]],
                         ids=lambda c: c[0])
def test_input_nodes_need_a_raster_to_run(command, capsys):
    model = good()
    assert refused(capsys, command[0], model, *command[1:], "--dt", "1") == (
        "good.nir: its Input nodes (in) need spikes: give them with --input RASTER.npz (arrays "
        "'<node>.spike_steps', '<node>.spike_neurons')")
    assert os.listdir(".") == ["good.nir"]


@pytest.mark.parametrize("command", ["validate", "info"])
def test_validate_and_info_need_no_raster(command, capsys):
    code, out, err = nmc(capsys, command, good(), "--dt", "1")
    assert (code, err) == (0, "") and out


@pytest.mark.parametrize("arrays, message", [
    (dict(spikes([1], [0]), **spikes([1], [0], node="nosuch")),
     "r.npz: array 'nosuch.spike_steps': the model has no Input node 'nosuch' (its Input "
     "nodes: in)"),
    (spikes([1, 2], [0]), "r.npz: 'in.spike_steps' has 2 spikes but 'in.spike_neurons' has 1"),
    (spikes([1], [3]), "r.npz: 'in.spike_neurons': neuron 3 is out of range: Input node 'in' "
                       "has 3 neurons (0..2)"),
    (spikes([1], [-1]), "r.npz: 'in.spike_neurons': neuron -1 is out of range: Input node 'in' "
                        "has 3 neurons (0..2)"),
    (spikes([0], [0]), "r.npz: 'in.spike_steps': a spike at step 0: the first step an input "
                       "spike can reach a neuron is 1 (it leaves the source one step earlier)"),
    (spikes([1.5], [0]), "r.npz: 'in.spike_steps' must be a 1-D array of integers, got float64 "
                         "with shape (1,)"),
    (spikes([2, 2], [1, 1]), "r.npz: 'in': neuron 1 spikes twice at step 2"),
    ({"in.spike_steps": np.array([1])},
     "r.npz: array 'in.spike_neurons' is missing (it comes with 'in.spike_steps')"),
    ({"in": np.array([1])}, "r.npz: array 'in': expected '<input node>.spike_steps' and "
                            "'<input node>.spike_neurons' (and optionally 'steps')"),
    (dict(spikes([1], [0]), steps=np.array(0)),
     "r.npz: 'steps' must be one integer in 1..2147483647, got array(0)"),
    (dict(spikes([1], [0]), steps=np.array(2.5)),
     "r.npz: 'steps' must be one integer in 1..2147483647, got array(2.5)"),
    (dict(spikes([1], [0]), steps=np.array([5, 6])),
     "r.npz: 'steps' must be one integer in 1..2147483647, got array([5, 6])"),
], ids=["unknown-node", "lengths", "out-of-range", "negative", "step-0", "non-integer",
        "twice", "half-a-pair", "no-suffix", "steps-0", "steps-float", "steps-array"])
def test_a_bad_raster(arrays, message, capsys):
    raster(**arrays)
    assert refused_by_convert(capsys, good(), "--dt", "1", "--input", "r.npz") == message


def test_a_raster_that_is_not_an_npz(capsys):
    Path("r.npz").write_text("steps,neurons\n1,0\n")
    line = refused_by_convert(capsys, good(), "--dt", "1", "--input", "r.npz")
    assert line.startswith("r.npz: not an input raster (.npz) numpy can read: ")


def test_a_raster_that_does_not_exist(capsys):
    assert refused_by_convert(capsys, good(), "--dt", "1", "--input", "no.npz") == \
        "no.npz: no such input raster"


# -- Delay nodes ---------------------------------------------------------------------------------
def delayed(seconds) -> str:
    return write("g", {"in": nir.Input(np.array([2])), "lif1": lif(2),
                       "wait": nir.Delay(np.asarray(seconds, dtype=np.float64)), "lif2": lif(2)},
                 [("in", "lif1"), ("lif1", "wait"), ("wait", "lif2")])


def test_a_dt_that_does_not_divide_a_delay(capsys):
    model = delayed([0.0015, 0.002])
    line = refused(capsys, "validate", model, "--dt", "1")
    assert line == ("g.nir: node 'wait' (Delay): delay 0.0015 s is not a whole number of steps "
                    "of dt = 0.001 s (1.5 steps): choose a --dt that divides it")
    assert refused_by_convert(capsys, model, "--dt", "1") == line
    code, out, _ = nmc(capsys, "info", model, "--dt", "0.5")
    assert code == 0 and "delays 1-5 steps" in out


def test_a_delay_of_one_value_delays_every_element(capsys):
    """nir's type check wants a delay per element; a scalar is read as the same for all."""
    nir.write("one.nir", nir.NIRGraph(  # a scalar dataset: h5py cannot compress it
        nodes={"in": nir.Input(np.array([2])), "lif1": lif(2), "wait": nir.Delay(np.array(0.002)),
               "lif2": lif(2)},
        edges=[("in", "lif1"), ("lif1", "wait"), ("wait", "lif2")], type_check=False),
        compression=None)
    code, out, err = nmc(capsys, "info", "one.nir", "--dt", "1")
    assert (code, err) == (0, "") and "delays 1-3 steps" in out
    assert refused(capsys, "validate", "one.nir", "--dt", "0.3") == (
        "one.nir: node 'wait' (Delay): delay 0.002 s is not a whole number of steps of dt = "
        "0.0003 s (6.66667 steps): choose a --dt that divides it")


@pytest.mark.parametrize("seconds", [[-0.001, 0.001], [np.nan, 0.001]], ids=["negative", "nan"])
def test_a_delay_of_negative_or_nan_seconds(seconds, capsys):
    assert refused_by_convert(capsys, delayed(seconds), "--dt", "1") == (
        "g.nir: node 'wait' (Delay): delay must be finite and >= 0 seconds")


# -- neuron parameters ---------------------------------------------------------------------------
def test_a_tau_shorter_than_dt_under_euler(capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), lif(2, tau=[0.0005] * 2))
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: node 'n2' (LIF): tau = 0.0005 s is shorter than dt = 0.001 s: Euler is unstable "
        "there (decay 2 > 1); use a smaller --dt or --discretization exact")
    code, _, err = nmc(capsys, "validate", model, "--dt", "1", "--discretization", "exact")
    assert (code, err) == (0, "")


@pytest.mark.parametrize("params, message", [
    (dict(v_threshold=[1, 1], v_reset=[1, 1]), "v_threshold - v_reset must be > 0 (nmcompile's "
     "neuron spikes above a positive threshold from a reset at 0), got 0.0"),
    (dict(v_threshold=[1, 1], v_reset=[2, 2]), "v_threshold - v_reset must be > 0 (nmcompile's "
     "neuron spikes above a positive threshold from a reset at 0), got -1.0"),
    (dict(tau=[0.01, 0.02]), "tau varies across neurons (0.01 to 0.02); an nmcompile "
     "population has one value (split the node)"),
    (dict(r=[np.inf, 1]), "r must be finite"),
    (dict(v_leak=[0, np.nan]), "v_leak is nan"),
    (dict(v_leak=[0, -np.inf]), "v_leak must be finite"),
    (dict(tau=[np.nan] * 2), "tau is nan"),
    (dict(v_threshold=[np.nan] * 2), "v_threshold is nan"),
], ids=["threshold-at-reset", "threshold-below-reset", "tau-varies", "r-inf",
        "v_leak-nan", "v_leak-inf", "tau-nan", "v_threshold-nan"])
def test_neuron_parameters_nmcompile_cannot_take(params, message, capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), lif(2, **params))
    assert refused_by_convert(capsys, model, "--dt", "1") == f"g.nir: node 'n2' (LIF): {message}"


def test_a_parameter_array_of_the_wrong_size(capsys):
    """nir's LIF refuses to be built so, and to be read so: the file is edited with h5py."""
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), lif(2))
    with h5py.File(model, "r+") as fh:
        del fh["node/nodes/n2/r"]
        fh["node/nodes/n2/r"] = np.ones(3)
    assert refused_by_convert(capsys, model, "--dt", "1") == (
        "g.nir: not a NIR graph nir can read: node 'n2' (LIF): AssertionError: All parameters "
        "must have the same shape")


# -- every command refuses the same way ----------------------------------------------------------
@pytest.mark.parametrize("command, outputs", [
    (["validate"], []), (["info"], []),
    (["run", "-b", "emulator", "-o", "x.npz", "--plot", "x.png"], ["x.npz", "x.png"]),
    (["parity", "--backends", "emulator", "--json", "x.json", "--junit", "x.xml"],
     ["x.json", "x.xml"]),
    (["convert", "-o", "x.yaml"], ["x.yaml"]),
    (["compile", "-o", "x.nmc", "--json", "x.json"], ["x.nmc", "x.json"]),
], ids=["validate", "info", "run", "parity", "convert", "compile"])
def test_every_command_refuses_a_bad_node_alike(command, outputs, capsys):
    model = chain(nir.Affine(np.ones((2, 3)), np.zeros(2)), lif(2, tau=[0.01, 0.02]))
    raster(**spikes([1], [0]))
    for name in outputs:
        Path(name).write_text(KEPT)
    line = refused(capsys, command[0], model, *command[1:], "--dt", "1", "--input", "r.npz")
    assert line.startswith("g.nir: node 'n2' (LIF): tau varies across neurons")
    assert sorted(os.listdir(".")) == sorted(["g.nir", "r.npz"] + outputs)
    assert all(Path(name).read_text() == KEPT for name in outputs)
