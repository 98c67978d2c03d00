"""load(save(net)) == net for generated documents, generated IR networks and every example;
the JSON form of a document loads to the same network, and loading is deterministic. The LIF
variants and injected currents (DESIGN §2.5) take part in all of it, and a generated network
replayed through the Python builder builds to itself."""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import networks
from strategies_doc import documents, finite

from nmcompile.frontends import savemodel
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.savemodel import save_model
from nmcompile.ir import LIF, Network, Poisson

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


# -- LIF variants and injected currents ------------------------------------------------------
def per_neuron(size: int):
    """bias, v_init or u_init in each form the format allows."""
    return st.one_of(finite, st.lists(finite, min_size=size, max_size=size),
                     st.tuples(finite, finite).map(lambda p: {"uniform": sorted(p)}),
                     st.tuples(finite, st.floats(0, 2)).map(lambda p: {"normal": list(p)}))


@st.composite
def current_spec(draw, pops: dict, lifs: list, files: dict, index: int) -> dict:
    name = draw(st.sampled_from(lifs))
    size = pops[name]["size"]
    spec: dict = {"population": name}
    if draw(st.booleans()):
        spec["neurons"] = draw(st.lists(st.integers(0, size - 1), min_size=1, unique=True))
    kind = draw(st.sampled_from(["steps", "ramp", "file"]))
    if kind == "file":
        width = len(spec.get("neurons", range(size)))
        rows = draw(st.integers(1, 6))
        columns = draw(st.sampled_from([(), (width,)]))
        values = draw(st.lists(finite, min_size=rows * math.prod(columns),
                               max_size=rows * math.prod(columns)))
        files[f"drive{index}.npz"] = {"current": np.array(values).reshape((rows,) + columns)}
        spec["file"] = f"drive{index}.npz"
    else:
        at = draw(st.lists(st.integers(0, 500), min_size=1, max_size=4, unique=True))
        spec[kind] = [[t, draw(finite)] for t in sorted(at)]
    return spec


@st.composite
def variant_documents(draw):
    """documents() with the new LIF keys on its lif populations and a currents list."""
    case = draw(documents())
    pops = case.doc["populations"]
    lifs = [name for name, spec in pops.items() if spec["model"] == "lif"]
    for name in lifs:
        spec = pops[name]
        if draw(st.booleans()):
            spec["tau_syn"] = draw(st.sampled_from([0, 0.0]))
        if draw(st.integers(0, 3)) == 0:
            spec["v_th"] = math.inf
        if draw(st.booleans()):
            spec["reset"] = draw(st.sampled_from(["zero", "subtract"]))
        for key in ("bias", "v_init", "u_init"):
            if draw(st.booleans()):
                spec[key] = draw(per_neuron(spec["size"]))
    count = draw(st.integers(0, 3))
    case.doc["currents"] = [draw(current_spec(pops, lifs, case.files, i)) for i in range(count)]
    return case


@CI
@given(case=variant_documents())
def test_generated_document_with_variants_and_currents_round_trips(case):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_files(folder, case.files)
        net = load_document(case.doc, base_dir=tmp)
        assert load_document(case.doc, base_dir=tmp) == net
        assert len(net.currents) == len(case.doc["currents"])
        assert save_and_load(net, folder) == net
        twin = folder / "twin.json"
        twin.write_text(json.dumps(case.doc))
        assert load_model(str(twin)) == net


@settings(derandomize=True, max_examples=25, deadline=None)
@given(net=networks(variants=True, currents=True))
def test_generated_ir_network_with_variants_and_currents_round_trips(net):
    with tempfile.TemporaryDirectory() as tmp:
        assert save_and_load(net, Path(tmp)) == net


def builder_twin(net: Network, folder: Path) -> NetworkBuilder:
    """The builder calls that make `net`; file currents are written to `folder`."""
    b = NetworkBuilder(net.name, dt=net.dt, steps=net.steps, seed=net.seed)
    for pop in net.populations.values():
        m = pop.model
        if isinstance(m, LIF):
            b.lif(pop.name, size=pop.size, shape=pop.shape, tau_syn=m.tau_syn,
                  tau_mem=m.tau_mem, v_th=m.v_th, bias=m.bias, refractory=m.refractory,
                  reset=m.reset, v_init=m.v_init, u_init=m.u_init)
        elif isinstance(m, Poisson):
            b.poisson(pop.name, size=pop.size, shape=pop.shape, rate=m.rate)
        else:
            b.spike_array(pop.name, size=pop.size, shape=pop.shape,
                          spikes=np.column_stack([m.neurons, m.steps]).reshape(-1, 2))
    for p in net.projections:
        b.connect(p.pre, p.post, {"list": np.column_stack([p.pre_idx, p.post_idx])},
                  weight=p.weight, delay=p.delay, name=p.name)
    for probe in net.probes:
        b.probe(probe.population, probe.var)
    for i, c in enumerate(net.currents):
        if c.kind == "file":
            np.savez(folder / f"c{i}.npz", current=c.values)
            b.current(c.population, file=f"c{i}.npz", neurons=c.neurons)
        else:
            b.current(c.population, neurons=c.neurons,
                      **{c.kind: [[int(t), v] for t, v in c.points.tolist()]})
    return b


@settings(derandomize=True, max_examples=25, deadline=None)
@given(net=networks(variants=True, currents=True))
def test_generated_network_rebuilt_by_the_builder_is_itself(net):
    with tempfile.TemporaryDirectory() as tmp:
        assert builder_twin(net, Path(tmp)).build(tmp) == net


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
