"""load(save(net)) == net for generated documents, generated IR networks and every example;
the JSON form of a document loads to the same network, and loading is deterministic."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from strategies import networks
from strategies_doc import documents

from nmcompile.frontends import savemodel
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.savemodel import save_model

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
CI = settings(derandomize=True, max_examples=50, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def write_files(folder: Path, files: dict) -> None:
    for name, arrays in files.items():
        np.savez(folder / name, **arrays)


def save_and_load(net, folder: Path, stem: str = "saved"):
    path = folder / f"{stem}.yaml"
    save_model(net, str(path))
    return load_model(str(path))


@CI
@given(case=documents())
def test_generated_document_round_trips(case):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_files(folder, case.files)
        net = load_document(case.doc, base_dir=tmp)
        assert load_document(case.doc, base_dir=tmp) == net  # deterministic
        assert save_and_load(net, folder) == net
        with mock.patch.object(savemodel, "INLINE_LIMIT", 3):  # every big projection to .npz
            again = save_and_load(net, folder, "sidecars")
        assert again == net
        twin = folder / "twin.json"
        twin.write_text(json.dumps(case.doc))
        assert load_model(str(twin)) == net


@settings(derandomize=True, max_examples=25, deadline=None)
@given(net=networks())
def test_generated_ir_network_round_trips(net):
    with tempfile.TemporaryDirectory() as tmp:
        assert save_and_load(net, Path(tmp)) == net


def test_every_example_round_trips(tmp_path):
    for path in EXAMPLES:
        net = load_model(str(path))
        assert save_and_load(net, tmp_path, path.stem) == net, path.name


def test_big_projection_goes_to_a_sidecar(tmp_path):
    doc = {"format": "nmcompile/v1", "name": "big", "seed": 5,
           "populations": {"a": {"model": "poisson", "size": 60, "rate": 5},
                           "b": {"model": "lif", "size": 60, "tau_syn": 2, "tau_mem": 5, "v_th": 1}},
           "projections": [{"name": "dense", "pre": "a", "post": "b", "connect": "all_to_all",
                            "weight": {"normal": [0, 1]}, "delay": {"uniform_int": [1, 7]}},
                           {"name": "sparse", "pre": "b", "post": "b", "allow_self": False,
                            "connect": {"fixed_probability": 0.1}, "weight": 0.2}]}
    net = load_document(doc)
    assert net.projections[0].n_synapses > savemodel.INLINE_LIMIT
    assert net.projections[1].n_synapses < savemodel.INLINE_LIMIT
    path = tmp_path / "big.yaml"
    save_model(net, str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.dense.npz", "big.yaml"]
    text = path.read_text()
    assert "file: big.dense.npz" in text and len(text) < 20_000
    assert load_model(str(path)) == net
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for p in list(tmp_path.glob("big.*")):
        p.rename(moved / p.name)
    assert load_model(str(moved / "big.yaml")) == net  # the sidecar path is relative
