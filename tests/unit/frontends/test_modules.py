"""Modules (DESIGN §8): a modular file is the network of its hand-flattened twin (and of its
builder twin), each instance draws its own synapses keyed by its flattened name, parameters
reach every place a value can stand, the module tree says who owns what (`nmc info`,
`nmc compile --report`), and the limits on nesting and expansion hold. The located error
messages are golden files: tests/golden/bad_models/module_*.yaml."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.modelfile import modules as flattening
from nmcompile.ir import ModuleInstance, instance_totals, projection_owner

# Two columns, a row of two and an area holding a column: parameters with defaults,
# overrides, a structured value ({normal: …} as v0), a parameter inside a structured value
# (the weight's mean), one passed down ("$n", "$w_in"), a null that the instance must give;
# random connectors, weights, delays and initial v; probes and a current inside modules.
MODULAR = """\
format: nmcompile/v1
name: twin
steps: 60
seed: 11
modules:
  column:
    params: {w_ee: 0.3, n_e: 12, v0: {normal: [0.2, 0.1]}, drive: 0.05}
    populations:
      exc: {model: lif, size: "$n_e", tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
            v_init: "$v0"}
      inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
            v_init: {normal: [0.1, 0.05]}}
    projections:
      - {pre: exc, post: exc, connect: {fixed_probability: 0.3}, allow_self: false,
         weight: {normal: ["$w_ee", 0.05]}}
      - {pre: exc, post: inh, connect: all_to_all, weight: 0.2, delay: {uniform_int: [1, 4]}}
      - {pre: inh, post: exc, connect: {fixed_probability: 0.5}, weight: -0.5}
    probes: [{population: exc, var: v}]
    currents: [{population: exc, steps: [[0, 0.0], [10, "$drive"]]}]
  area:
    params: {n: 6, w_in: null}
    populations:
      hub: {model: lif, size: 5, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0}
    instances:
      - {module: column, name: a, params: {n_e: "$n", w_ee: "$w_in"}}
    projections:
      - {pre: a.exc, post: hub, connect: {fixed_indegree: 3}, weight: 0.4,
         delay: {uniform_int: [1, 3]}}
      - {pre: hub, post: a.inh, connect: all_to_all, weight: 0.3}
    probes: [{population: hub, var: u}]
populations:
  stim: {model: poisson, size: 10, rate: 80}
instances:
  - {module: column, name: c0}
  - {module: column, name: c1, params: {w_ee: 0.35}}
  - {module: column, name: row, count: 2, params: {v0: {uniform: [0.0, 0.5]}}}
  - {module: area, name: big, params: {w_in: 0.25}}
projections:
  - {pre: stim, post: c0.exc, connect: {fixed_probability: 0.5}, weight: 0.6}
  - {pre: c0.exc, post: c1.exc, connect: {fixed_probability: 0.2},
     weight: {normal: [0.1, 0.02]}, delay: {uniform_int: [1, 5]}}
  - {pre: c1.exc, post: big.a.exc, connect: all_to_all, weight: 0.05, delay: 2}
probes: [{population: big.hub, var: v}]
"""

# MODULAR written out by hand, in the documented order (DESIGN §8.2): the top level's own
# entries, then each instance's as listed; within an instance its own, then its instances'.
FLAT = """\
format: nmcompile/v1
name: twin
steps: 60
seed: 11
populations:
  stim: {model: poisson, size: 10, rate: 80}
  c0.exc: {model: lif, size: 12, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
           v_init: {normal: [0.2, 0.1]}}
  c0.inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
           v_init: {normal: [0.1, 0.05]}}
  c1.exc: {model: lif, size: 12, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
           v_init: {normal: [0.2, 0.1]}}
  c1.inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
           v_init: {normal: [0.1, 0.05]}}
  row.0.exc: {model: lif, size: 12, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
              v_init: {uniform: [0.0, 0.5]}}
  row.0.inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
              v_init: {normal: [0.1, 0.05]}}
  row.1.exc: {model: lif, size: 12, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
              v_init: {uniform: [0.0, 0.5]}}
  row.1.inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
              v_init: {normal: [0.1, 0.05]}}
  big.hub: {model: lif, size: 5, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0}
  big.a.exc: {model: lif, size: 6, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0, bias: 0.04,
              v_init: {normal: [0.2, 0.1]}}
  big.a.inh: {model: lif, size: 4, tau_syn: 5.0, tau_mem: 10.0, v_th: 1.0,
              v_init: {normal: [0.1, 0.05]}}
projections:
  - {pre: stim, post: c0.exc, connect: {fixed_probability: 0.5}, weight: 0.6}
  - {pre: c0.exc, post: c1.exc, connect: {fixed_probability: 0.2},
     weight: {normal: [0.1, 0.02]}, delay: {uniform_int: [1, 5]}}
  - {pre: c1.exc, post: big.a.exc, connect: all_to_all, weight: 0.05, delay: 2}
  - {name: c0.exc_to_exc, pre: c0.exc, post: c0.exc, connect: {fixed_probability: 0.3},
     allow_self: false, weight: {normal: [0.3, 0.05]}}
  - {name: c0.exc_to_inh, pre: c0.exc, post: c0.inh, connect: all_to_all, weight: 0.2,
     delay: {uniform_int: [1, 4]}}
  - {name: c0.inh_to_exc, pre: c0.inh, post: c0.exc, connect: {fixed_probability: 0.5},
     weight: -0.5}
  - {name: c1.exc_to_exc, pre: c1.exc, post: c1.exc, connect: {fixed_probability: 0.3},
     allow_self: false, weight: {normal: [0.35, 0.05]}}
  - {name: c1.exc_to_inh, pre: c1.exc, post: c1.inh, connect: all_to_all, weight: 0.2,
     delay: {uniform_int: [1, 4]}}
  - {name: c1.inh_to_exc, pre: c1.inh, post: c1.exc, connect: {fixed_probability: 0.5},
     weight: -0.5}
  - {name: row.0.exc_to_exc, pre: row.0.exc, post: row.0.exc,
     connect: {fixed_probability: 0.3}, allow_self: false, weight: {normal: [0.3, 0.05]}}
  - {name: row.0.exc_to_inh, pre: row.0.exc, post: row.0.inh, connect: all_to_all,
     weight: 0.2, delay: {uniform_int: [1, 4]}}
  - {name: row.0.inh_to_exc, pre: row.0.inh, post: row.0.exc,
     connect: {fixed_probability: 0.5}, weight: -0.5}
  - {name: row.1.exc_to_exc, pre: row.1.exc, post: row.1.exc,
     connect: {fixed_probability: 0.3}, allow_self: false, weight: {normal: [0.3, 0.05]}}
  - {name: row.1.exc_to_inh, pre: row.1.exc, post: row.1.inh, connect: all_to_all,
     weight: 0.2, delay: {uniform_int: [1, 4]}}
  - {name: row.1.inh_to_exc, pre: row.1.inh, post: row.1.exc,
     connect: {fixed_probability: 0.5}, weight: -0.5}
  - {name: big.a.exc_to_hub, pre: big.a.exc, post: big.hub, connect: {fixed_indegree: 3},
     weight: 0.4, delay: {uniform_int: [1, 3]}}
  - {name: big.hub_to_a.inh, pre: big.hub, post: big.a.inh, connect: all_to_all, weight: 0.3}
  - {name: big.a.exc_to_exc, pre: big.a.exc, post: big.a.exc,
     connect: {fixed_probability: 0.3}, allow_self: false, weight: {normal: [0.25, 0.05]}}
  - {name: big.a.exc_to_inh, pre: big.a.exc, post: big.a.inh, connect: all_to_all,
     weight: 0.2, delay: {uniform_int: [1, 4]}}
  - {name: big.a.inh_to_exc, pre: big.a.inh, post: big.a.exc,
     connect: {fixed_probability: 0.5}, weight: -0.5}
probes:
  - {population: big.hub, var: v}
  - {population: c0.exc, var: v}
  - {population: c1.exc, var: v}
  - {population: row.0.exc, var: v}
  - {population: row.1.exc, var: v}
  - {population: big.hub, var: u}
  - {population: big.a.exc, var: v}
currents:
  - {population: c0.exc, steps: [[0, 0.0], [10, 0.05]]}
  - {population: c1.exc, steps: [[0, 0.0], [10, 0.05]]}
  - {population: row.0.exc, steps: [[0, 0.0], [10, 0.05]]}
  - {population: row.1.exc, steps: [[0, 0.0], [10, 0.05]]}
  - {population: big.a.exc, steps: [[0, 0.0], [10, 0.05]]}
"""

TOP_PROJECTIONS = ("stim_to_c0.exc", "c0.exc_to_c1.exc", "c1.exc_to_big.a.exc")
DEPTH = {"": 0, "c0": 1, "c1": 1, "row.0": 1, "row.1": 1, "big": 1, "big.a": 2}
COLUMN_DEFAULTS = {"w_ee": 0.3, "n_e": 12, "v0": {"normal": [0.2, 0.1]}, "drive": 0.05}
LIF_E = dict(tau_syn=5.0, tau_mem=20.0, v_th=1.0)
LIF_I = dict(tau_syn=5.0, tau_mem=10.0, v_th=1.0)


def write(folder, name: str, text: str):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def modular(tmp_path):
    return write(tmp_path, "modular.yaml", MODULAR)


def doc(modules: dict, instances: list, **top) -> dict:
    return {"format": "nmcompile/v1", "name": "m", "seed": 5, "modules": modules,
            "instances": instances, **top}


def by_name(net) -> dict:
    return {p.name: p for p in net.projections}


# -- 1. the twins ----------------------------------------------------------------------------
def test_modular_file_equals_its_flat_twin(modular, tmp_path):
    net, flat = load_model(modular), load_model(write(tmp_path, "flat.yaml", FLAT))
    assert net == flat
    assert list(net.populations) == list(flat.populations)  # the documented order
    assert [p.name for p in net.projections] == [p.name for p in flat.projections]
    assert flat.modules is None and net.modules is not None


def test_builder_twin_equals_the_file(modular):
    b = NetworkBuilder("twin", steps=60, seed=11)
    col = b.module("column", params=COLUMN_DEFAULTS)
    col.lif("exc", size="$n_e", **LIF_E, bias=0.04, v_init="$v0")
    col.lif("inh", size=4, **LIF_I, v_init={"normal": [0.1, 0.05]})
    col.connect("exc", "exc", {"fixed_probability": 0.3}, allow_self=False,
                weight={"normal": ["$w_ee", 0.05]})
    col.connect("exc", "inh", "all_to_all", weight=0.2, delay={"uniform_int": [1, 4]})
    col.connect("inh", "exc", {"fixed_probability": 0.5}, weight=-0.5)
    col.probe("exc", "v")
    col.current("exc", steps=[[0, 0.0], [10, "$drive"]])
    area = b.module("area", params={"n": 6, "w_in": None})
    area.lif("hub", size=5, **LIF_E)
    assert area.instance("column", "a", params={"n_e": "$n", "w_ee": "$w_in"}) == "a"
    area.connect("a.exc", "hub", {"fixed_indegree": 3}, weight=0.4,
                 delay={"uniform_int": [1, 3]})
    area.connect("hub", "a.inh", "all_to_all", weight=0.3)
    area.probe("hub", "u")
    b.poisson("stim", size=10, rate=80)
    b.instance("column", "c0")
    b.instance("column", "c1", params={"w_ee": 0.35})
    assert b.instance("column", "row", count=2, params={"v0": {"uniform": [0.0, 0.5]}}) == "row"
    b.instance("area", "big", params={"w_in": 0.25})
    b.connect("stim", "c0.exc", {"fixed_probability": 0.5}, weight=0.6)
    b.connect("c0.exc", "c1.exc", {"fixed_probability": 0.2}, weight={"normal": [0.1, 0.02]},
              delay={"uniform_int": [1, 5]})
    b.connect("c1.exc", "big.a.exc", "all_to_all", weight=0.05, delay=2)
    b.probe("big.hub", "v")
    built, net = b.build(), load_model(modular)
    assert built == net
    assert built.modules == net.modules


@pytest.mark.parametrize("backend", ["emulator", "brian2"])
def test_twins_spike_alike(backend, modular, tmp_path):
    net, flat = load_model(modular), load_model(write(tmp_path, "flat.yaml", FLAT))
    ours, theirs = driver.run(net, backend), driver.run(flat, backend)
    assert ours.spikes.keys() == theirs.spikes.keys() == net.populations.keys()
    for pop, (steps, neurons) in ours.spikes.items():
        assert steps.size > 0, f"{pop} never spikes: the comparison would say nothing"
        assert np.array_equal(steps, theirs.spikes[pop][0])
        assert np.array_equal(neurons, theirs.spikes[pop][1])
    assert ours.traces.keys() == theirs.traces.keys()
    for key, trace in ours.traces.items():
        assert np.array_equal(trace, theirs.traces[key])


# -- 2. draws keyed by flattened names -------------------------------------------------------
COLUMN = {"populations": {
    "exc": {"model": "lif", "size": 20, **LIF_E, "v_init": {"normal": [0.5, 0.2]}}},
    "projections": [{"pre": "exc", "post": "exc", "connect": {"fixed_probability": 0.3},
                     "weight": {"normal": [0.2, 0.05]}, "delay": {"uniform_int": [1, 9]}}]}


def columns(*names: str):
    return load_document(doc({"column": COLUMN}, [{"module": "column", "name": n}
                                                  for n in names]))


def synapses(proj) -> tuple:
    return proj.pre_idx, proj.post_idx, proj.weight, proj.delay


def same_synapses(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(synapses(a), synapses(b)))


def test_each_instance_draws_its_own_synapses(modular):
    net = load_model(modular)
    row0, row1 = by_name(net)["row.0.exc_to_exc"], by_name(net)["row.1.exc_to_exc"]
    assert not np.array_equal(row0.pre_idx, row1.pre_idx) \
        or not np.array_equal(row0.post_idx, row1.post_idx)
    assert not np.array_equal(by_name(net)["c0.exc_to_inh"].delay,
                              by_name(net)["c1.exc_to_inh"].delay)
    v_init = [net.populations[p].model.v_init for p in ("row.0.exc", "row.1.exc")]
    assert not np.array_equal(*v_init)


def test_renaming_an_instance_draws_anew():
    before, after = columns("c0", "c1"), columns("c0", "c9")
    assert same_synapses(by_name(before)["c0.exc_to_exc"], by_name(after)["c0.exc_to_exc"])
    assert not same_synapses(by_name(before)["c1.exc_to_exc"], by_name(after)["c9.exc_to_exc"])
    assert not np.array_equal(before.populations["c1.exc"].model.v_init,
                              after.populations["c9.exc"].model.v_init)


def test_reordering_instances_changes_no_draw():
    forward, backward = columns("c0", "c1", "c2"), columns("c2", "c0", "c1")
    assert list(backward.populations) == ["c2.exc", "c0.exc", "c1.exc"]
    assert forward.populations == backward.populations  # a dict: order aside, the same
    assert by_name(forward).keys() == by_name(backward).keys()
    for name, proj in by_name(forward).items():
        assert proj == by_name(backward)[name]


# -- 3. parameters, names, the tree ----------------------------------------------------------
POP = {"model": "lif", "size": "$n", **LIF_E, "v_init": "$v0"}
LEAF = {"params": {"n": 3, "w": 0.3, "v0": 0.0},
        "populations": {"p": POP},
        "projections": [{"pre": "p", "post": "p", "connect": "all_to_all", "weight": "$w"}]}


def test_defaults_overrides_and_structured_values():
    net = load_document(doc({"leaf": LEAF}, [
        {"module": "leaf", "name": "plain"},
        {"module": "leaf", "name": "heavy", "params": {"w": 0.7, "n": 5}},
        {"module": "leaf", "name": "drawn", "params": {"v0": {"uniform": [0.0, 1.0]}}}]))
    assert {name: p.size for name, p in net.populations.items()} == \
        {"plain.p": 3, "heavy.p": 5, "drawn.p": 3}
    assert np.all(by_name(net)["plain.p_to_p"].weight == 0.3)
    assert np.all(by_name(net)["heavy.p_to_p"].weight == 0.7)
    assert by_name(net)["heavy.p_to_p"].n_synapses == 25
    flat = load_document({"format": "nmcompile/v1", "name": "m", "seed": 5, "populations": {
        "drawn.p": {"model": "lif", "size": 3, **LIF_E, "v_init": {"uniform": [0.0, 1.0]}}}})
    assert net.populations["drawn.p"] == flat.populations["drawn.p"]  # drawn, by its name
    assert np.unique(net.populations["drawn.p"].model.v_init).size == 3


def test_a_parameter_passes_down_and_sets_a_count():
    outer = {"params": {"size": None, "weight": 0.5, "k": 2},
             "populations": {"hub": {"model": "lif", "size": 1, **LIF_E}},
             "instances": [{"module": "leaf", "name": "inner",
                            "params": {"n": "$size", "w": "$weight"}},
                           {"module": "leaf", "name": "r", "count": "$k"}],
             "projections": [{"pre": "r.1.p", "post": "hub", "connect": "all_to_all",
                              "weight": "$weight"}]}
    net = load_document(doc({"leaf": LEAF, "outer": outer}, [
        {"module": "outer", "name": "o", "params": {"size": 4, "k": 3}}]))
    assert {name: p.size for name, p in net.populations.items()} == {
        "o.hub": 1, "o.inner.p": 4, "o.r.0.p": 3, "o.r.1.p": 3, "o.r.2.p": 3}
    assert np.all(by_name(net)["o.inner.p_to_p"].weight == 0.5)
    assert by_name(net)["o.r.1.p_to_hub"].pre == "o.r.1.p"
    (o,) = net.modules.children
    assert o.params == {"size": 4, "weight": 0.5, "k": 3}
    assert [c.name for c in o.children] == ["o.inner", "o.r.0", "o.r.1", "o.r.2"]
    assert o.children[0].params == {"n": 4, "w": 0.5, "v0": 0.0}


def test_module_tree(modular):
    def col(name: str, **params) -> ModuleInstance:
        return ModuleInstance(name=name, module="column", params={**COLUMN_DEFAULTS, **params},
                              populations=(f"{name}.exc", f"{name}.inh"),
                              projections=tuple(f"{name}.{p}" for p in
                                                ("exc_to_exc", "exc_to_inh", "inh_to_exc")))

    row = {"v0": {"uniform": [0.0, 0.5]}}
    expected = ModuleInstance(
        name="", module="", populations=("stim",), projections=TOP_PROJECTIONS, children=(
            col("c0"), col("c1", w_ee=0.35), col("row.0", **row), col("row.1", **row),
            ModuleInstance(name="big", module="area", params={"n": 6, "w_in": 0.25},
                           populations=("big.hub",),
                           projections=("big.a.exc_to_hub", "big.hub_to_a.inh"),
                           children=(col("big.a", n_e=6, w_ee=0.25),))))
    tree = load_model(modular).modules
    assert tree == expected
    assert [(depth, inst.name) for depth, inst in tree.walk()] == [
        (0, ""), (1, "c0"), (1, "c1"), (1, "row.0"), (1, "row.1"), (1, "big"), (2, "big.a")]
    assert tree.children[4].all_populations() == ["big.hub", "big.a.exc", "big.a.inh"]


def own_projections(instance: str) -> tuple[str, ...]:
    """The projections MODULAR declares in the body of each instance, read off the file."""
    if instance == "":
        return TOP_PROJECTIONS
    if instance == "big":
        return "big.a.exc_to_hub", "big.hub_to_a.inh"  # their names start like big.a's
    return tuple(f"{instance}.{p}" for p in ("exc_to_exc", "exc_to_inh", "inh_to_exc"))


def expected_totals(net) -> dict[str, tuple[int, int]]:
    """Neurons and synapses of each instance with everything inside it: its populations carry
    its name as a prefix; its projections are its own and those of the instances inside it."""
    count = {p.name: p.n_synapses for p in net.projections}
    out = {}
    for inst in DEPTH:
        inside = [i for i in DEPTH if inst == "" or i == inst or i.startswith(inst + ".")]
        out[inst] = (sum(p.size for name, p in net.populations.items()
                         if inst == "" or name.startswith(inst + ".")),
                     sum(count[p] for i in inside for p in own_projections(i)))
    return out


TREE_ROW = re.compile(r"^  (?P<indent> *)(?P<name>\(whole network\)|\S+) +(?P<module>\w*) +"
                      r"(?P<neurons>[\d,]+) neurons +(?P<synapses>[\d,]+) synapses"
                      r"(?:  \((?P<params>.*)\))?$")


def test_info_shows_the_tree(modular, capsys):
    assert main(["info", str(modular)]) == 0
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("module tree"))
    rows = [TREE_ROW.match(line) for line in out[start + 1:start + 8]]
    assert all(rows), out[start + 1:start + 8]
    net = load_model(modular)
    totals = expected_totals(net)
    seen = {}
    for row in rows:
        name = "" if row["name"] == "(whole network)" else row["name"]
        seen[name] = (int(row["neurons"].replace(",", "")), int(row["synapses"].replace(",", "")))
        assert len(row["indent"]) == 2 * DEPTH[name]
    assert seen == totals
    assert sum(seen[c][0] for c in ("c0", "c1", "row.0", "row.1", "big")) \
        + net.populations["stim"].size == seen[""][0]
    params = {r["name"]: r["params"] for r in rows}
    assert params["c1"] == "w_ee 0.35, n_e 12, v0 {'normal': [0.2, 0.1]}, drive 0.05"
    assert params["big"] == "n 6, w_in 0.25"
    assert params["(whole network)"] is None


def test_compile_report_by_instance(modular, tmp_path, capsys):
    report = tmp_path / "report.json"
    assert main(["compile", str(modular), "--report", "--json", str(report)]) == 0
    assert "  by instance (each with everything inside it):" in capsys.readouterr().out
    rows = json.loads(report.read_text())["mapping"]["instances"]
    net = load_model(modular)
    run = driver.run(net, "emulator")  # the run the report counts spikes of (loihi2)
    fired = {name: int(steps.size) for name, (steps, _) in run.spikes.items()}
    spikes = instance_totals(net.modules, fired, {})
    totals = expected_totals(net)
    assert [r["name"] for r in rows] == ["", "c0", "c1", "row.0", "row.1", "big", "big.a"]
    assert [r["params"] for r in rows[1:3]] == [inst.params for inst in net.modules.children[:2]]
    assert [r["depth"] for r in rows] == list(DEPTH.values())
    assert [r["module"] for r in rows] == ["", "column", "column", "column", "column", "area",
                                           "column"]
    for row in rows:
        name = "" if row["name"] == "(whole network)" else row["name"]
        assert (row["neurons"], row["synapses"]) == totals[name]
        assert row["spikes"] == spikes[name][0]
        assert row["cores"] >= 1
    assert rows[0]["spikes"] == sum(fired.values())


MULTAPSES = {"params": {"n": 80},
             "populations": {"a": {"model": "lif", "size": 2, **LIF_E},
                             "b": {"model": "lif", "size": 2, **LIF_E}},
             "projections": [{"pre": "a", "post": "b", "connect": {"fixed_total_number": "$n"},
                              "weight": 0.1, "delay": {"uniform_int": [1, 3]}}]}


def test_multapse_projections_belong_to_the_owner_of_their_name():
    net = load_document(doc({"m": MULTAPSES}, [{"module": "m", "name": "x"},
                                               {"module": "m", "name": "y"}],
                            projections=[{"pre": "x.a", "post": "y.b", "weight": 0.2,
                                          "connect": {"fixed_total_number": 80},
                                          "delay": {"uniform_int": [1, 3]}}]))
    names = [p.name for p in net.projections]
    assert names == ["x.a_to_y.b", "x.a_to_y.b-2", "x.a_to_y.b-3", "x.a_to_b", "x.a_to_b-2",
                     "x.a_to_b-3", "y.a_to_b", "y.a_to_b-2", "y.a_to_b-3"]
    assert projection_owner(net.modules, names) == {
        "x.a_to_y.b": "", "x.a_to_y.b-2": "", "x.a_to_y.b-3": "",
        "x.a_to_b": "x", "x.a_to_b-2": "x", "x.a_to_b-3": "x",
        "y.a_to_b": "y", "y.a_to_b-2": "y", "y.a_to_b-3": "y"}
    count = {p.name: p.n_synapses for p in net.projections}
    totals = instance_totals(net.modules, {p: 2 for p in net.populations}, count)
    assert totals["x"] == (4, sum(count[n] for n in names if n.startswith("x.a_to_b")))
    assert totals[""] == (8, sum(count.values()))


# -- 4. errors beyond the golden files -------------------------------------------------------
def chain(levels: int) -> dict:
    """Modules m0 … m<levels-1>, each holding the next: `levels` levels of nesting."""
    mods = {f"m{i}": {"populations": {"p": {"model": "lif", "size": 1, **LIF_E}}}
            for i in range(levels)}
    for i in range(levels - 1):
        mods[f"m{i}"]["instances"] = [{"module": f"m{i + 1}", "name": "x"}]
    return doc(mods, [{"module": "m0", "name": "top"}])


def test_nesting_up_to_the_limit():
    net = load_document(chain(flattening.MAX_NESTING))
    deepest = "top" + ".x" * (flattening.MAX_NESTING - 1) + ".p"
    assert list(net.populations)[-1] == deepest


def test_nesting_beyond_the_limit_is_refused():
    with pytest.raises(InputError) as info:
        load_document(chain(flattening.MAX_NESTING + 1))
    assert str(info.value) == ("<document>: modules.m0: modules are nested 33 deep "
                               "(m0 → m1 → m2 → m3 → …); at most 32 levels")


def test_expansion_beyond_the_limit_is_refused():
    pair = {"populations": {"a": {"model": "poisson", "size": 1, "rate": 1},
                            "b": {"model": "poisson", "size": 1, "rate": 1}}}
    with pytest.raises(InputError) as info:
        load_document(doc({"pair": pair}, [{"module": "pair", "name": "r", "count": 1_000_000}]))
    assert str(info.value) == (
        "<document>: instances[0]: the file flattens to more than 1,000,000 populations, "
        "projections, probes, currents and instances: write such a network with fewer, larger "
        "populations")


def test_errors_inside_nested_instances_name_them():
    area = {"params": {"n": 0}, "instances": [{"module": "leaf", "name": "a",
                                               "params": {"n": "$n"}}]}
    with pytest.raises(InputError) as info:
        load_document(doc({"leaf": LEAF, "area": area}, [{"module": "area", "name": "big"}]))
    assert str(info.value) == ("<document>: modules.leaf.populations.p.size (instance big.a, "
                               "parameter n): must be an integer ≥ 1, got 0")
    outer = {"instances": [{"module": "leaf", "name": "a", "params": {"n": "$size"}}]}
    with pytest.raises(InputError) as info:
        load_document(doc({"leaf": LEAF, "outer": outer}, [{"module": "outer", "name": "o"}]))
    assert str(info.value) == ("<document>: modules.outer.instances[0].params.n: no parameter "
                               "named 'size': the module declares none")  # found unexpanded


def test_instance_module_and_name_are_not_parameters():
    outer = {"params": {"which": "leaf"}, "instances": [{"module": "$which", "name": "a"}]}
    with pytest.raises(InputError, match=r"modules\.outer\.instances\[0\] \(instance o\): an "
                                         r"instance's module and name are written out"):
        load_document(doc({"leaf": LEAF, "outer": outer}, [{"module": "outer", "name": "o"}]))


def test_builder_errors_name_the_instance():
    b = NetworkBuilder("demo")
    col = b.module("column", params={"v_th": -1.0})
    col.lif("exc", size=2, tau_syn=5.0, tau_mem=20.0, v_th="$v_th")
    b.instance("column", "c0")
    with pytest.raises(InputError) as info:
        b.build()
    assert str(info.value) == ("<builder demo>: modules.column.populations.exc.v_th "
                               "(instance c0, parameter v_th): must be a number > 0, got -1.0")


def test_a_doubling_chain_is_refused_before_it_is_expanded():
    """25 modules each holding two of the next flatten to 2^25 entries: refused from the module
    graph, before anything is expanded (expanding first took minutes)."""
    mods = chain(25)["modules"]
    for i in range(24):
        mods[f"m{i}"]["instances"][0]["count"] = 2
    with pytest.raises(InputError) as info:
        load_document(doc(mods, [{"module": "m0", "name": "top"}]))
    assert "<document>: instances[0]: the file flattens to more than 1,000,000" in str(info.value)


def test_default_projection_names_never_clash_across_scopes():
    """A default name already given (in flat order) takes `_<index>`, as in a flat file."""
    column = {"populations": {"exc": {"model": "lif", "size": 4, **LIF_E},
                              "inh": {"model": "lif", "size": 2, **LIF_I}},
              "projections": [{"pre": "exc", "post": "inh", "connect": "all_to_all",
                               "weight": 0.2}]}
    net = load_document(doc({"column": column}, [{"module": "column", "name": "c0"}],
                            populations={"inh": {"model": "lif", "size": 3, **LIF_I}},
                            projections=[{"pre": "c0.exc", "post": "inh",
                                          "connect": "all_to_all", "weight": 0.1}]))
    assert [p.name for p in net.projections] == ["c0.exc_to_inh", "c0.exc_to_inh_0"]
    assert [(p.pre, p.post) for p in net.projections] == [("c0.exc", "inh"), ("c0.exc", "c0.inh")]
    assert net.modules.children[0].projections == ("c0.exc_to_inh_0",)
    hub = {"model": "lif", "size": 1, **LIF_E}
    area = {"populations": {"hub": hub},
            "instances": [{"module": "column_hub", "name": "a"}],
            "projections": [{"pre": "a.exc", "post": "hub", "connect": "all_to_all",
                             "weight": 0.1}]}
    column_hub = {"populations": {"exc": {"model": "lif", "size": 2, **LIF_E}, "hub": hub},
                  "projections": [{"pre": "exc", "post": "hub", "connect": "all_to_all",
                                   "weight": 0.1}]}
    net = load_document(doc({"area": area, "column_hub": column_hub},
                            [{"module": "area", "name": "big"}]))
    assert [p.name for p in net.projections] == ["big.a.exc_to_hub", "big.a.exc_to_hub_0"]
    assert [p.post for p in net.projections] == ["big.hub", "big.a.hub"]


# -- from a second reading -------------------------------------------------------------------
def test_a_mapping_given_as_a_parameter_is_not_shared_between_instances():
    rec = {"pre": "exc", "post": "exc", "connect": "all_to_all", "weight": 0.1}
    col = {"params": {"rec": rec},
           "populations": {"exc": {"model": "lif", "size": 4, **LIF_E}},
           "projections": ["$rec"], "probes": [{"population": "exc", "var": "v"}]}
    document = doc({"col": col}, [{"module": "col", "name": "c0"},
                                  {"module": "col", "name": "c1"}])
    net = load_document(document)
    assert [(p.name, p.pre, p.post) for p in net.projections] == [
        ("c0.exc_to_exc", "c0.exc", "c0.exc"), ("c1.exc_to_exc", "c1.exc", "c1.exc")]
    assert rec == {"pre": "exc", "post": "exc", "connect": "all_to_all", "weight": 0.1}
    assert net.modules.children[1].params["rec"] == rec
    assert load_document(document) == net  # the document itself is left as it was


def test_a_parameter_that_doubles_at_every_level_is_refused_at_once():
    """["$x", "$x"] passed down 30 levels would be 2^30 values: refused where it passes
    flattening's limit, before anything is expanded or copied."""
    mods = {"m0": {"params": {"x": 1}, "populations": {"p": {"model": "lif", "size": 1, **LIF_E}}}}
    for i in range(1, 31):
        mods[f"m{i}"] = {"params": {"x": 1}, "instances": [
            {"module": f"m{i - 1}", "name": "a", "params": {"x": ["$x", "$x"]}}]}
    with pytest.raises(InputError, match=r"the value of parameter 'x' is more than "
                                         r"20,000,000 values"):
        load_document(doc(mods, [{"module": "m30", "name": "top"}]))


def test_names_end_where_they_seem_to():
    """A name with a final newline passed NAME_RE's "$" (and broke the saved file's comment)."""
    col = {"populations": {"exc": {"model": "lif", "size": 1, **LIF_E}}}
    with pytest.raises(InputError, match="module name must use letters"):
        load_document(doc({"col\n": col}, [{"module": "col\n", "name": "c0"}]))
    with pytest.raises(InputError, match="instance name must use letters"):
        load_document(doc({"col": col}, [{"module": "col", "name": "c0\n"}]))


def test_a_default_name_gives_way_to_a_name_written_later_in_the_file():
    col = {"populations": {"exc": {"model": "lif", "size": 4, **LIF_E}},
           "projections": [{"name": "exc_to_hub", "pre": "exc", "post": "exc",
                            "connect": "all_to_all", "weight": 0.1}]}
    area = {"populations": {"hub": {"model": "lif", "size": 4, **LIF_E}},
            "instances": [{"module": "col", "name": "a"}],
            "projections": [{"pre": "a.exc", "post": "hub", "connect": "one_to_one",
                             "weight": 0.3}]}
    net = load_document(doc({"col": col, "area": area}, [{"module": "area", "name": "big"}]))
    assert [(p.name, p.post) for p in net.projections] == [
        ("big.a.exc_to_hub_0", "big.hub"), ("big.a.exc_to_hub", "big.a.exc")]


def test_an_unused_module_is_checked_for_the_parameters_it_names():
    good = {"populations": {"exc": {"model": "lif", "size": 1, **LIF_E}}}
    unused = {"params": {"n": 2}, "populations": {"x": {"model": "lif", "size": "$m", **LIF_E}}}
    with pytest.raises(InputError) as info:
        load_document(doc({"good": good, "unused": unused}, [{"module": "good", "name": "g"}]))
    assert str(info.value) == ("<document>: modules.unused.populations.x.size: no parameter "
                               "named 'm'; known: n")


def test_the_builder_refuses_a_second_definition_under_one_name():
    b = NetworkBuilder("demo")
    b.module("m")
    with pytest.raises(InputError, match=r"^<builder demo>: module 'm' is defined twice$"):
        b.module("m")
    col = b.module("col")
    col.lif("exc", size=1, **LIF_E)
    with pytest.raises(InputError, match=r"^<builder demo>: module col: population 'exc' is "
                                         r"defined twice$"):
        col.lif("exc", size=2, **LIF_E)
