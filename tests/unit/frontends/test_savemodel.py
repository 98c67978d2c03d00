"""save_model writes a readable v1 file that loads back to the same network."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from nmcompile.frontends.modelfile import load_model
from nmcompile.frontends.savemodel import save_model, scalar_or_list, to_document
from nmcompile.ir import LIF, Network, Population, Probe, Projection, SpikeArray

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
