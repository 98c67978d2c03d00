"""Every value of a document that uses every form, replaced in turn by each kind of junk, loads
or fails with an InputError: never another exception (the CLI would show it as a traceback)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_document

KITCHEN = {
    "format": "nmcompile/v1", "name": "k", "dt": 0.5, "steps": 10, "seed": 1,
    "populations": {
        "s": {"model": "poisson", "size": 3, "rate": [1, 2, 3]},
        "c": {"model": "spike_array", "size": 3, "shape": [3], "spikes": [[0, 1], [2, 3]]},
        "e": {"model": "lif", "size": 4, "shape": [2, 2], "tau_syn": 1.0, "tau_mem": "inf",
              "v_th": 1.0, "bias": 0.1, "refractory": 1},
        "f": {"model": "lif", "size": 3, "tau_syn": 1.0, "tau_mem": 2.0, "v_th": 1.0},
        "g": {"model": "lif", "size": 2, "tau_syn": 0, "tau_mem": 2.0, "v_th": ".inf",
              "reset": "subtract", "bias": {"normal": [0, 1]}, "v_init": [0.5, -0.5],
              "u_init": {"uniform": [0, 1]}}},
    "projections": [
        {"name": "a", "pre": "s", "post": "f", "connect": "one_to_one", "weight": [1, 2, 3],
         "delay": [1, 2, 3]},
        {"name": "b", "pre": "e", "post": "e", "allow_self": False,
         "connect": {"grid": {"radius": 1, "diagonal": False, "wrap": True}},
         "weight": {"normal": [0, 1]}, "delay": {"uniform_int": [1, 3]}},
        {"pre": "c", "post": "f", "connect": {"list": [[0, 1], [2, 2]]},
         "weight": {"uniform": [0, 1]}},
        {"pre": "s", "post": "e", "connect": {"fixed_probability": 0.5}, "weight": 1},
        {"pre": "f", "post": "f", "connect": {"fixed_indegree": 2}, "weight": 1, "allow_self": True},
        {"pre": "s", "post": "f", "connect": {"file": "syn.npz"}, "delay": 2},
        {"pre": "e", "post": "f", "connect": "all_to_all", "weight": 1}],
    "probes": [{"population": "e", "var": "v"}, {"population": "f", "var": "u"}],
    "currents": [
        {"population": "e", "neurons": [3, 0], "steps": [[0, 0.5], [4, -1]]},
        {"population": "g", "ramp": [[1, 0], [5, 2.5]]},
        {"population": "f", "neurons": [2, 1], "file": "drive.npz"}]}

# Each of these once crashed the loader somewhere (unhashable names, int64 overflow, -0.0 as
# numpy's std or hi - lo, a grid radius of 10¹²) or probes a type check.
JUNK = [None, True, False, 0, -1, 2, 2**63, 2**70, 0.5, -0.0, math.nan, math.inf, -math.inf, "",
        "x", "inf", [], {}, [[0, 1]], [0, 1], [[5, 5]], {"uniform": [1]}, {"a": 1}, [None], [[]],
        "one_to_one", "lif", "e", [1.5, 2], {"list": None}, {"grid": {"radius": 2**40}}, 10**12,
        {"file": 3}, {"fixed_indegree": True},
        # issue 10: numbers beyond float64, draws past it, degenerate time steps, repeats
        10**400, -10**400, 5e-324, 1.7e308, {"uniform": [-1e308, 1e308]},
        {"normal": [0, 1e308]}, [[0, 1], [0, 1]], {"file": "missing.npz"}, {"file": "."},
        {"file": "/dev/null"}]


def paths(node, path=()):
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield from paths(value, path + (key,))


def replaced(doc, path, value):
    if not path:
        return value
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = copy.deepcopy(value)
    return doc


def write_files(folder) -> None:
    np.savez(folder / "syn.npz", pre=np.array([0, 1, 2]), post=np.array([1, 2, 0]),
             weight=np.array([0.1, 0.2, 0.3]))
    np.savez(folder / "drive.npz", current=np.ones((4, 2)))


def test_kitchen_sink_document_is_valid(tmp_path):
    write_files(tmp_path)
    net = load_document(KITCHEN, base_dir=str(tmp_path))
    assert net.n_synapses > 20 and len(net.currents) == 3


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_junk_anywhere_is_an_input_error_or_fine(junk, tmp_path):
    write_files(tmp_path)
    for path in paths(KITCHEN):
        try:
            load_document(replaced(KITCHEN, path, junk), base_dir=str(tmp_path))
        except InputError:
            pass
