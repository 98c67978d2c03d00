"""Loading model files: examples, defaults, determinism, seeds, JSON twins, relative files."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.modelfile.yamlmarks import parse
from nmcompile.ir import LIF, Network, Poisson, SpikeArray, source_spikes

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml"))
RANDOM = ("fixed_probability", "fixed_indegree")


def doc_of(path: Path) -> dict:
    return parse(path.read_text(), str(path))[0]


def small_doc(**top) -> dict:
    doc = {"format": "nmcompile/v1", "name": "small",
           "populations": {"stim": {"model": "poisson", "size": 3, "rate": 10},
                           "exc": {"model": "lif", "size": 3, "tau_syn": 4.0, "tau_mem": 20.0,
                                   "v_th": 1.0}},
           "projections": [{"pre": "stim", "post": "exc", "connect": "one_to_one",
                            "weight": 0.5}]}
    doc.update(top)
    return doc


def test_four_examples_exist():
    assert {p.stem for p in EXAMPLES} >= {"wta", "grid", "feedforward", "recurrent_ei"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads_deterministically(path):
    a, b = load_model(str(path)), load_model(str(path))
    assert isinstance(a, Network) and a == b
    assert a.n_synapses > 0 and a.probes
    for proj in a.projections:
        order = np.lexsort((proj.post_idx, proj.pre_idx))
        assert np.array_equal(order, np.arange(proj.n_synapses))  # sorted by (pre, post)
        assert proj.delay.min() >= 1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_twin_of_example_loads_equal(path, tmp_path):
    twin = tmp_path / f"{path.stem}.json"
    twin.write_text(json.dumps(doc_of(path), indent=1))
    assert load_model(str(twin)) == load_model(str(path))


def test_example_counts():
    nets = {p.stem: load_model(str(p)) for p in EXAMPLES}
    grid = nets["grid"]
    assert grid.populations["sheet"].shape == (12, 12)
    assert grid.n_synapses == 4 + (4 * 3 + 40 * 5 + 100 * 8) + 144
    wta = nets["wta"]
    assert (wta.n_neurons, wta.n_synapses, wta.delay_range()) == (9, 4 + 4 + 4, (1, 1))
    assert wta.has_cycles() and not nets["feedforward"].has_cycles()
    ff = nets["feedforward"].projections[1]
    assert np.array_equal(np.bincount(ff.post_idx), np.full(5, 20))  # fixed_indegree: 20


def test_defaults_and_locations():
    text = ("format: nmcompile/v1\nname: small\npopulations:\n"
            "  stim: {model: poisson, size: 3, rate: 10}\n"
            "  exc: {model: lif, size: 3, tau_syn: .inf, tau_mem: 2e1, v_th: 1}\n"
            "projections:\n  - {pre: stim, post: exc, connect: one_to_one, weight: 5e-1}\n")
    net = load_document(*parse(text, "small.yaml"))
    assert (net.dt, net.steps, net.seed, net.probes) == (1.0, 100, 0, ())
    exc = net.populations["exc"].model
    assert exc == LIF(tau_syn=math.inf, tau_mem=20.0, v_th=1.0, bias=0.0, refractory=0)
    assert np.array_equal(net.populations["stim"].model.rate, [10.0, 10.0, 10.0])
    proj = net.projections[0]
    assert proj.name == "stim_to_exc" and proj.weight.tolist() == [0.5] * 3
    assert proj.delay.tolist() == [1, 1, 1]
    assert str(proj.location) == "small.yaml:7: projections[0]"
    assert str(net.populations["exc"].location) == "small.yaml:5: populations.exc"


def test_inf_tau_as_json_string():
    doc = small_doc()
    doc["populations"]["exc"].update(tau_syn="inf", tau_mem=".inf")
    model = load_document(doc).populations["exc"].model
    assert math.isinf(model.tau_syn) and math.isinf(model.tau_mem)


def test_unnamed_projections_get_distinct_names():
    doc = small_doc()
    doc["projections"].append(dict(doc["projections"][0], weight=0.1))
    names = [p.name for p in load_document(doc).projections]
    assert names == ["stim_to_exc", "stim_to_exc_1"]


def test_spike_array_sorted_and_a_repeated_spike_refused():
    doc = small_doc()
    doc["populations"]["stim"] = {"model": "spike_array", "size": 3,
                                  "spikes": [[2, 5], [0, 5], [1, 1]]}
    model = load_document(doc).populations["stim"].model
    assert isinstance(model, SpikeArray)
    assert model.steps.tolist() == [1, 5, 5] and model.neurons.tolist() == [1, 0, 2]
    doc["populations"]["stim"]["spikes"].append([2, 5])  # like a synapse listed twice
    with pytest.raises(InputError, match=r"populations\.stim\.spikes\[3\]: spike \[2, 5\] is "
                                         r"listed twice \(first at index 0\)$"):
        load_document(doc)


def random_doc(seed: int) -> dict:
    doc = small_doc(seed=seed)
    doc["populations"]["exc"]["size"] = 40
    doc["populations"]["stim"]["size"] = 40
    doc["projections"] = [
        {"name": "p", "pre": "stim", "post": "exc", "connect": {"fixed_probability": 0.3},
         "weight": {"normal": [0.5, 0.1]}, "delay": {"uniform_int": [1, 9]}},
        {"name": "k", "pre": "exc", "post": "exc", "connect": {"fixed_indegree": 4},
         "allow_self": False, "weight": {"uniform": [-1, 0]}},
        {"name": "fixed", "pre": "stim", "post": "exc", "connect": "one_to_one", "weight": 1.0}]
    return doc


def test_seed_changes_random_draws_only():
    a, b = load_document(random_doc(1)), load_document(random_doc(2))
    assert load_document(random_doc(1)) == a
    for name in ("p", "k"):
        pa, pb = (next(p for p in net.projections if p.name == name) for net in (a, b))
        assert not np.array_equal(pa.post_idx, pb.post_idx) or pa.n_synapses != pb.n_synapses
    assert a.projections[2] == b.projections[2]
    ta = source_spikes(a.populations["stim"], a, 200)
    tb = source_spikes(b.populations["stim"], b, 200)
    assert not np.array_equal(ta[1], tb[1])  # Poisson spikes follow the seed too


def test_draws_are_keyed_by_projection_name_not_position():
    base = load_document(random_doc(3))
    doc = random_doc(3)
    doc["projections"].insert(0, {"name": "extra", "pre": "stim", "post": "exc",
                                  "connect": {"fixed_probability": 0.5}, "weight": 0.1})
    grown = load_document(doc)
    assert grown.projections[1:] == base.projections


def test_file_connector_is_relative_to_the_model(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    np.savez(folder / "syn.npz", pre=np.array([2, 0, 1]), post=np.array([0, 1, 2]),
             weight=np.array([0.3, 0.1, 0.2]), delay=np.array([3, 1, 2]))
    doc = small_doc()
    doc["projections"][0] = {"pre": "stim", "post": "exc", "connect": {"file": "syn.npz"}}
    model = folder / "m.json"
    model.write_text(json.dumps(doc))
    monkeypatch.chdir(tmp_path)
    proj = load_model("models/m.json").projections[0]
    assert proj.pre_idx.tolist() == [0, 1, 2] and proj.post_idx.tolist() == [1, 2, 0]
    assert proj.weight.tolist() == [0.1, 0.2, 0.3] and proj.delay.tolist() == [1, 2, 3]
    doc["projections"][0]["weight"] = 0.5
    model.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="projections\\[0\\].weight: given both here and in"):
        load_model("models/m.json")


def test_document_is_not_mutated():
    doc = random_doc(4)
    before = copy.deepcopy(doc)
    load_document(doc)
    assert doc == before


def test_populations_keep_their_order():
    doc = small_doc()
    doc["populations"] = dict(reversed(list(doc["populations"].items())))
    net = load_document(doc)
    assert list(net.populations) == ["exc", "stim"]
    assert isinstance(net.populations["stim"].model, Poisson)
    assert load_document(small_doc()) != net  # order is part of the network


def test_rate_of_one_spike_per_step_is_the_limit():
    doc = small_doc(dt=0.5)
    doc["populations"]["stim"]["rate"] = 2000.0  # rate·dt/1000 == 1: every step
    net = load_document(doc)
    assert source_spikes(net.populations["stim"], net, 5)[0].size == 15
    doc["populations"]["stim"]["rate"] = 2000.5
    with pytest.raises(InputError, match=r"populations\.stim\.rate: rate 2000\.5 Hz is more than "
                                         r"one spike per step of dt 0\.5 ms"):
        load_document(doc)


@pytest.mark.parametrize("name", ["wta.nmc", "WTA.NMC", "image.yaml"])
def test_a_chip_image_is_named_as_such(tmp_path, name):
    import zipfile
    with zipfile.ZipFile(tmp_path / name, "w") as zf:  # images are zip archives
        zf.writestr("header.json", "{}")
    path = str(tmp_path / name)
    with pytest.raises(InputError) as info:
        load_model(path)
    assert str(info.value) == (
        f"{path}: this is a chip image (from nmc compile -o), not a model file: run it with "
        f"`nmc run {path} --backend emulator` (or lava-fixed); validate, info, compile and "
        f"parity read the model's YAML/JSON")


def test_a_folder_or_binary_file_is_not_a_model(tmp_path):
    with pytest.raises(InputError, match="this is a folder, not a model file"):
        load_model(str(tmp_path))
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"bin\.yaml: not a text \(UTF-8\) model file: invalid "
                                         r"start byte at byte 0"):
        load_model(str(tmp_path / "bin.yaml"))


@pytest.mark.parametrize("opened, closed", [("[", "]"), ("{a: ", "}")])
def test_nesting_past_the_limit_is_refused_not_recursed(opened, closed):
    from nmcompile.frontends.modelfile.yamlmarks import MAX_DEPTH
    ok = "x: " + opened * (MAX_DEPTH - 1) + closed * (MAX_DEPTH - 1)
    assert parse(ok, "ok.yaml")[0]["x"]
    deep = "x: " + opened * 5000 + closed * 5000
    with pytest.raises(InputError, match=r"^deep\.yaml:1: nested deeper than 100 levels$"):
        parse(deep, "deep.yaml")
    block = "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "leaf: 1\n"
    with pytest.raises(InputError, match=r"^deep\.yaml:101: nested deeper than 100 levels$"):
        parse(block, "deep.yaml")


def test_brackets_inside_strings_do_not_count_as_nesting():
    doc, _ = parse('x: "' + "[" * 500 + '"  # ' + "{" * 500 + "\ny: [[1]]\n", "s.yaml")
    assert doc == {"x": "[" * 500, "y": [[1]]}
