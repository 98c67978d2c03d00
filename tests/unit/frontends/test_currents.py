"""The `currents:` section (DESIGN §2.5): steps, ramps and files into neuron populations, and a
located error for everything else."""
from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.files.inputfiles import NpyArchive, recording
from nmcompile.frontends.modelfile import currents as currents_module
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.modelfile.yamlmarks import parse
from nmcompile.ir import Current


def doc_with(*currents) -> dict:
    """Spike source `stim`, neuron populations `exc` (size 4) and `out` (size 2)."""
    lif = {"model": "lif", "tau_syn": 4.0, "tau_mem": 20.0, "v_th": 1.0}
    return {"format": "nmcompile/v1", "name": "driven",
            "populations": {"stim": {"model": "poisson", "size": 4, "rate": 10},
                            "exc": {**lif, "size": 4}, "out": {**lif, "size": 2}},
            "currents": list(currents)}


def test_steps_and_ramp_in_yaml():
    text = """format: nmcompile/v1
name: driven
populations:
  rs: {model: lif, size: 3, tau_syn: 1, tau_mem: 10, v_th: 1}
currents:
  - population: rs
    neurons: [2, 0]
    steps: [[0, 0.0], [41, 14.0]]
  - population: rs
    ramp: [[10, 0.0], [20.0, 1], [30, 0.5]]
"""
    net = load_document(*parse(text, "d.yaml"))
    first, second = net.currents
    assert first == Current(population="rs", kind="steps", neurons=np.array([2, 0]),
                            points=np.array([[0.0, 0.0], [41.0, 14.0]]))
    assert first.neurons.dtype == np.int64 and first.points.dtype == np.float64
    assert second.neurons is None and second.points.tolist() == [[10, 0], [20, 1], [30, 0.5]]
    assert str(second.location) == "d.yaml:9: currents[1]"
    c = net.current("rs", 45)  # realised by the IR: 0 before the first point, held after
    assert c[9].tolist() == [0.0, 0.0, 0.0] and c[40].tolist() == [0.5, 0.5, 0.5]
    assert c[41].tolist() == [14.5, 0.5, 14.5]
    assert c[:, 1].tolist() == (
        [0.0] * 10 + [k / 10 for k in range(10)] + [1 + (0.5 - 1) * k / 10 for k in range(10)]
        + [0.5] * 15)


def test_no_currents_and_an_empty_list_are_the_same_network():
    doc = doc_with()
    without = dict(doc)
    del without["currents"]
    assert load_document(doc) == load_document(without)
    assert load_document(doc).currents == ()


def test_currents_keep_their_order():
    a = {"population": "exc", "steps": [[0, 1.0]]}
    b = {"population": "out", "ramp": [[0, 1.0]]}
    assert [c.population for c in load_document(doc_with(a, b, a)).currents] == \
        ["exc", "out", "exc"]
    assert load_document(doc_with(a, b)) != load_document(doc_with(b, a))


@pytest.mark.parametrize("values", [
    np.linspace(-1, 1, 7), np.arange(12, dtype=np.int32).reshape(6, 2),
    np.ones((3, 2), dtype=np.float32) / 3, np.array([5], dtype=np.uint8),
    np.asfortranarray(np.arange(8.0).reshape(4, 2))])
def test_file_current(values, tmp_path):
    np.savez(tmp_path / "drive.npz", current=values)
    spec = {"population": "exc", "file": "drive.npz"}
    if values.ndim == 2:
        spec["neurons"] = [3, 1]
    model = tmp_path / "m.json"
    model.write_text(json.dumps(doc_with(spec)))
    with recording() as read:
        current = load_model(str(model)).currents[0]
    assert str(tmp_path / "drive.npz") in read  # outputs are checked against it
    assert current.kind == "file" and current.values.dtype == np.float64
    assert np.array_equal(current.values, values.astype(np.float64))
    assert current.source == str(tmp_path / "drive.npz")
    assert current.neurons is None or current.neurons.tolist() == [3, 1]


def test_file_path_is_relative_to_the_model(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    np.savez(tmp_path / "models" / "drive.npz", current=np.ones(3))
    (tmp_path / "models" / "m.json").write_text(
        json.dumps(doc_with({"population": "out", "file": "drive.npz"})))
    monkeypatch.chdir(tmp_path)
    assert load_model("models/m.json").currents[0].values.tolist() == [1.0, 1.0, 1.0]
    absolute = doc_with({"population": "out", "file": str(tmp_path / "models" / "drive.npz")})
    assert load_document(absolute).currents[0].values.tolist() == [1.0, 1.0, 1.0]


def one(**spec) -> list:
    """A currents list of one current into exc (4 neurons) with the given keys."""
    return [{"population": "exc", **spec}]


ERRORS = [
    ({"population": "exc"}, "currents", "must be a list of currents, got {'population': 'exc'}"),
    (["exc"], "currents[0]",
     "must be a mapping with population and one of steps, ramp, file, got 'exc'"),
    ([{"steps": [[0, 1]]}], "currents[0]", "missing required key 'population'"),
    (one(step=[[0, 1]]), "currents[0].step", "unknown key 'step'; did you mean 'steps'?"),
    (one(population="exd", steps=[[0, 1]]), "currents[0].population",
     "no population named 'exd'; did you mean 'exc'?"),
    (one(population=["exc"], steps=[[0, 1]]), "currents[0].population",
     "no population named ['exc']"),
    (one(population="stim", steps=[[0, 1]]), "currents[0].population",
     "stim is a spike source; it cannot receive a current"),
    (one(), "currents[0]", "give exactly one of steps, ramp, file"),
    (one(steps=[[0, 1]], file="x.npz"), "currents[0]",
     "give exactly one of steps, ramp, file, not steps and file"),
    # neurons
    (one(neurons=1, steps=[[0, 1]]), "currents[0].neurons",
     "must be a non-empty list of neuron indices 0 … 3, got 1"),
    (one(neurons=[], steps=[[0, 1]]), "currents[0].neurons",
     "must be a non-empty list of neuron indices 0 … 3, got []"),
    (one(neurons=[0, 4], steps=[[0, 1]]), "currents[0].neurons[1]",
     "must be an integer ≤ 3, got 4"),
    (one(neurons=[-1], steps=[[0, 1]]), "currents[0].neurons[0]",
     "must be an integer ≥ 0, got -1"),
    (one(neurons=[0.5], steps=[[0, 1]]), "currents[0].neurons[0]",
     "must be an integer ≥ 0, got 0.5"),
    (one(neurons=[2, 1, 2], steps=[[0, 1]]), "currents[0].neurons[2]",
     "neuron 2 is listed twice (first at index 0)"),
    # steps and ramps
    (one(steps=[]), "currents[0].steps", "must be a non-empty list of [step, value] pairs, got []"),
    (one(ramp=1.0), "currents[0].ramp", "must be a non-empty list of [step, value] pairs, got 1.0"),
    (one(steps=[[0, 1, 2]]), "currents[0].steps[0]", "must be a [step, value] pair, got [0, 1, 2]"),
    (one(steps=[0, 1]), "currents[0].steps[0]", "must be a [step, value] pair, got 0"),
    (one(ramp=[[-1, 0]]), "currents[0].ramp[0][0]", "must be an integer ≥ 0, got -1"),
    (one(ramp=[[1.5, 0]]), "currents[0].ramp[0][0]", "must be an integer ≥ 0, got 1.5"),
    (one(ramp=[[2**31, 0]]), "currents[0].ramp[0][0]",
     "must be an integer ≤ 2147483647, got 2147483648"),
    (one(steps=[[0, 0], [10, 1], [5, 2]]), "currents[0].steps[2][0]",
     "steps must strictly increase: step 5 comes after step 10"),
    (one(ramp=[[3, 0], [3, 1]]), "currents[0].ramp[1][0]",
     "steps must strictly increase: step 3 comes after step 3"),
    (one(steps=[[0, math.inf]]), "currents[0].steps[0][1]", "must be a finite number, got inf"),
    (one(steps=[[0, math.nan]]), "currents[0].steps[0][1]", "must be a finite number, got nan"),
    (one(steps=[[0, "1"]]), "currents[0].steps[0][1]", "must be a finite number, got '1'"),
    (one(steps=[[0, 10**400]]), "currents[0].steps[0][1]", "1000"),  # beyond float64
    # file, by name
    (one(file=3), "currents[0].file", "must be a path to an .npz file, got 3"),
    (one(file="nope.npz"), "currents[0].file",
     "no such file: nope.npz (relative paths start at the model file's folder)"),
]


@pytest.mark.parametrize("currents, path, message", ERRORS,
                         ids=[e[1] + ":" + e[2][:28] for e in ERRORS])
def test_current_errors_are_located(currents, path, message, tmp_path):
    doc = doc_with()
    doc["currents"] = currents
    with pytest.raises(InputError) as info:
        load_document(doc, base_dir=str(tmp_path))
    assert str(info.value).startswith(f"<document>: {path}: {message}")


BAD_FILES = [
    (dict(current=np.array([True, False])), "drive.npz: array current must hold integers or "
                                            "floats, got bool"),
    (dict(current=np.ones(3, dtype=complex)), "must hold integers or floats, got complex128"),
    (dict(current=np.array(["1", "2"])), "must hold integers or floats, got <U1"),
    (dict(current=np.zeros(2, dtype="datetime64[s]")), "must hold integers or floats, got "
                                                       "datetime64[s]"),
    (dict(current=np.array(1.0)), "drive.npz: array current must have shape (steps,) or "
                                  "(steps, 4), got ()"),
    (dict(current=np.zeros((2, 4, 1))), "must have shape (steps,) or (steps, 4), got (2, 4, 1)"),
    (dict(current=np.zeros((5, 3))), "drive.npz: array current needs one column per neuron of "
                                     "the current (4), got shape (5, 3)"),
    (dict(current=np.zeros(0)), "drive.npz: array current holds no steps, got shape (0,)"),
    (dict(current=np.zeros((0, 4))), "holds no steps, got shape (0, 4)"),
    (dict(current=np.array([0.0, np.nan])), "drive.npz: array current must hold finite float64 "
                                            "numbers (within ±1.8e308), got nan at [1]"),
    (dict(current=np.array([[0.0] * 4, [0, 0, -np.inf, 0]])), "got -inf at [1, 2]"),
    (dict(current=np.array([1.0, 2.0]), weight=np.ones(2)),
     "drive.npz must hold one array, current; has current, weight"),
    (dict(drive=np.ones(2)), "drive.npz must hold one array, current; has drive"),
    (dict(), "drive.npz must hold one array, current; has none"),
    (dict(current=np.array([{}], dtype=object)),
     "cannot read drive.npz: it holds Python objects; save plain integer and float arrays"),
]


@pytest.mark.parametrize("arrays, message", BAD_FILES, ids=[m[:40] for _, m in BAD_FILES])
def test_bad_current_file(arrays, message, tmp_path):
    np.savez(tmp_path / "drive.npz", **arrays)
    with pytest.raises(InputError) as info:
        load_document(doc_with(*one(file="drive.npz")), base_dir=str(tmp_path))
    assert str(info.value).startswith("<document>: currents[0].file: ")
    assert message in str(info.value)


def test_a_long_double_beyond_float64_is_refused(tmp_path):
    if np.finfo(np.longdouble).max < np.longdouble("1e4000"):
        pytest.skip("long double is float64 here")
    huge = np.array([np.longdouble(1), np.longdouble("1e4000")])
    np.savez(tmp_path / "drive.npz", current=huge)
    with pytest.raises(InputError, match=r"must hold finite float64 numbers .*at \[1\]$"):
        load_document(doc_with(*one(file="drive.npz")), base_dir=str(tmp_path))


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "drive.npz is a folder, not an .npz file"),
    (lambda p: p.write_text("current = [1, 2]"),
     "cannot read drive.npz: not an .npz archive (write it with numpy.savez)"),
    (lambda p: (np.savez(p, current=np.ones(100)), p.write_bytes(p.read_bytes()[:150])),
     "cannot read drive.npz: damaged or truncated zip"),
])
def test_unreadable_current_file(make, message, tmp_path):
    make(tmp_path / "drive.npz")
    with pytest.raises(InputError) as info:
        load_document(doc_with(*one(file="drive.npz")), base_dir=str(tmp_path))
    assert str(info.value).startswith(f"<document>: currents[0].file: {message}")


def test_a_current_file_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    with zipfile.ZipFile(tmp_path / "drive.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        buf = io.BytesIO()
        np.save(buf, np.zeros(1_000_000))   # 8 MB of zeros, a few kB deflated
        zf.writestr("current.npy", buf.getvalue())
    assert os.path.getsize(tmp_path / "drive.npz") < 100_000
    monkeypatch.setattr(currents_module, "available_memory", lambda: 50_000_000)
    monkeypatch.setattr(NpyArchive, "array", lambda *a: pytest.fail("read before the estimate"))
    with pytest.raises(InputError) as info:
        load_document(doc_with(*one(file="drive.npz")), base_dir=str(tmp_path))
    assert str(info.value).startswith("<document>: currents[0].file: drive.npz: reading array "
                                      "current needs ~0.1 GiB, but only 0.0 GiB of memory is "
                                      "available")


def test_json_twin_loads_equal(tmp_path):
    np.savez(tmp_path / "drive.npz", current=np.linspace(0, 1, 5))
    doc = doc_with({"population": "exc", "neurons": [1], "steps": [[0, 0.5], [3, -1]]},
                   {"population": "out", "file": "drive.npz"},
                   {"population": "exc", "ramp": [[2, 1], [4, 0]]})
    (tmp_path / "m.json").write_text(json.dumps(doc))
    assert load_model(str(tmp_path / "m.json")) == load_document(doc, base_dir=str(tmp_path))
