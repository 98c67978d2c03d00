"""save_model writes a readable v1 file that loads back to the same network."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.savemodel import save_model, scalar_or_list, to_document
from nmcompile.ir import (LIF, Current, Network, Poisson, Population, Probe, Projection,
                          SpikeArray)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def tricky_network() -> Network:
    """Names YAML would misread unquoted, an empty projection, inf taus, an empty spike list."""
    lif = LIF(tau_syn=math.inf, tau_mem=1e-3, v_th=2.5e-7, bias=-0.0, refractory=2)
    pops = {"1e3": Population(name="1e3", size=2, model=lif),
            "true": Population(name="true", size=3, model=SpikeArray(), shape=(3, 1)),
            "null": Population(name="null", size=2, model=lif)}
    idx = np.array([0, 1], dtype=np.int32)
    projs = (Projection(name="0x1F", pre="true", post="1e3", pre_idx=idx, post_idx=idx[::-1].copy(),
                        weight=np.array([1e-300, -7.25]), delay=np.array([1, 65535], np.int32)),
             Projection(name="on", pre="1e3", post="null", pre_idx=idx[:0], post_idx=idx[:0],
                        weight=np.zeros(0), delay=np.zeros(0, np.int32)))
    return Network(name="no", populations=pops, projections=projs,
                   probes=(Probe(population="null", var="u"),), dt=0.1, steps=7, seed=2**40)


def test_tricky_network_round_trips(tmp_path):
    net = tricky_network()
    path = tmp_path / "tricky.yaml"
    save_model(net, str(path))
    assert load_model(str(path)) == net
    doc = yaml.safe_load(path.read_text())
    assert list(doc["populations"]) == ["1e3", "true", "null"]  # quoted: still strings
    assert doc["projections"][1]["connect"] == {"list": []}


def test_saved_file_is_plain_and_complete(tmp_path):
    net = load_model(str(EXAMPLES / "wta.yaml"))
    doc, sidecars = to_document(net)
    assert sidecars == {}
    assert doc["format"] == "nmcompile/v1" and doc["seed"] == 7 and doc["steps"] == 300
    assert doc["populations"]["stim"]["rate"] == [20.0, 20.0, 200.0, 20.0]
    assert doc["projections"][0] == {"name": "stim_exc", "pre": "stim", "post": "exc",
                                     "connect": {"list": [[i, i] for i in range(4)]},
                                     "weight": 0.5, "delay": 1}
    assert doc["probes"] == [{"population": "exc", "var": "v"}]


def test_random_draws_are_written_out(tmp_path):
    """A saved file no longer depends on the seed for its synapses."""
    net = load_model(str(EXAMPLES / "feedforward.yaml"))
    path = tmp_path / "ff.yaml"
    save_model(net, str(path))
    text = path.read_text()
    assert "fixed_probability" not in text and "uniform" not in text
    changed = text.replace("seed: 11", "seed: 12")
    assert changed != text
    path.write_text(changed)
    reloaded = load_model(str(path))
    assert reloaded.projections == net.projections and reloaded.seed == 12


def test_save_leaves_no_temporary_files(tmp_path):
    save_model(load_model(str(EXAMPLES / "grid.yaml")), str(tmp_path / "g.yaml"))
    save_model(load_model(str(EXAMPLES / "grid.yaml")), str(tmp_path / "g.yaml"))  # overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["g.yaml"]


def test_scalar_or_list():
    assert scalar_or_list(np.array([2, 2, 2])) == 2
    assert scalar_or_list(np.array([1.0, 2.0])) == [1.0, 2.0]
    assert scalar_or_list(np.array([])) == []
    assert isinstance(scalar_or_list(np.array([3], np.int32)), int)


def variants_network() -> Network:
    """Every LIF variant and every kind of current, per-neuron values of every form."""
    hidden = LIF(tau_syn=0.0, tau_mem=10.0, v_th=1.5, reset="subtract", refractory=1,
                 bias=np.array([0.1, -0.2, 0.3]), v_init=np.array([0.5, 0.5, 0.5]),
                 u_init=-0.25)
    readout = LIF(tau_syn=5.0, tau_mem=math.inf, v_th=math.inf, v_init=np.array([1e-300, 0.0]))
    pops = {"rs": Population(name="rs", size=3, model=Poisson(rate=np.full(3, 20.0))),
            "hidden": Population(name="hidden", size=3, model=hidden),
            "readout": Population(name="readout", size=2, model=readout)}
    idx = np.array([0, 1, 2], dtype=np.int32)
    projs = (Projection(name="in", pre="rs", post="hidden", pre_idx=idx, post_idx=idx,
                        weight=np.full(3, 0.4), delay=np.ones(3, np.int32)),)
    currents = (
        Current(population="hidden", kind="steps", neurons=np.array([2, 0]),
                points=np.array([[0.0, 0.0], [41.0, 14.0]])),
        Current(population="readout", kind="ramp", points=np.array([[5.0, -1.0], [9.0, 2.5]])),
        Current(population="hidden", kind="file", values=np.linspace(-1, 1, 7)),
        Current(population="hidden", kind="file", neurons=np.array([1]),
                values=np.arange(4.0).reshape(4, 1) / 3),
    )
    return Network(name="variants", populations=pops, projections=projs, currents=currents,
                   probes=(Probe(population="readout", var="v"),), steps=50, seed=3)


def test_variants_and_currents_round_trip(tmp_path):
    net = variants_network()
    path = tmp_path / "v.yaml"
    save_model(net, str(path))
    assert load_model(str(path)) == net
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "v.currents.2.npz", "v.currents.3.npz", "v.yaml"]
    doc = yaml.safe_load(path.read_text())
    hidden = doc["populations"]["hidden"]
    assert (hidden["tau_syn"], hidden["reset"], hidden["refractory"]) == (0.0, "subtract", 1)
    assert hidden["bias"] == [0.1, -0.2, 0.3] and hidden["u_init"] == -0.25
    assert hidden["v_init"] == [0.5, 0.5, 0.5]  # per neuron as given: equal values stay a list
    assert math.isinf(doc["populations"]["readout"]["v_th"])
    assert doc["currents"][0] == {"population": "hidden", "neurons": [2, 0],
                                  "steps": [[0, 0.0], [41, 14.0]]}
    assert doc["currents"][1] == {"population": "readout", "ramp": [[5, -1.0], [9, 2.5]]}
    assert doc["currents"][3] == {"population": "hidden", "neurons": [1],
                                  "file": "v.currents.3.npz"}
    with np.load(tmp_path / "v.currents.3.npz") as saved:
        assert list(saved) == ["current"] and saved["current"].shape == (4, 1)


def test_drawn_parameters_are_written_out(tmp_path):
    """A saved file no longer depends on the seed for its per-neuron values."""
    doc = {"format": "nmcompile/v1", "name": "drawn", "seed": 1,
           "populations": {"x": {"model": "lif", "size": 5, "tau_syn": 1, "tau_mem": 2,
                                 "v_th": 1, "bias": {"normal": [0, 1]},
                                 "v_init": {"uniform": [0, 1]}}}}
    net = load_document(doc)
    path = tmp_path / "d.yaml"
    save_model(net, str(path))
    text = path.read_text()
    assert "normal" not in text and "uniform" not in text
    path.write_text(text.replace("seed: 1", "seed: 2"))
    assert load_model(str(path)).populations == net.populations


def test_file_currents_without_a_sidecar_prefix_take_the_network_name():
    doc, sidecars = to_document(variants_network())
    assert doc["currents"][2] == {"population": "hidden", "file": "variants.currents.2.npz"}
    assert sorted(sidecars) == ["variants.currents.2.npz", "variants.currents.3.npz"]
    assert np.array_equal(sidecars["variants.currents.2.npz"]["current"], np.linspace(-1, 1, 7))


def test_a_network_without_currents_saves_no_currents_key():
    doc, _ = to_document(load_model(str(EXAMPLES / "wta.yaml")))
    assert "currents" not in doc
    assert doc["populations"]["exc"] == {
        "model": "lif", "size": 4, "tau_syn": 4.0, "tau_mem": 20.0, "v_th": 1.0, "bias": 0.0,
        "refractory": 0, "reset": "zero", "v_init": 0.0, "u_init": 0.0}
