"""Chip image (.nmc) of a network with LIF variants and injected currents (DESIGN §2.5, §5.6):
exact round trip (per-neuron values as .npy arrays, not JSON lists), a run of the image equal
to a run of the model, refusal of the previous format and of forged variant values."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Current, Network, Poisson, Population, Probe, Projection
from nmcompile.passes.mapping.image import FORMAT_VERSION, read_image, write_image
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.result import Result
from nmcompile.targets import load_target


def variants_network() -> Network:
    """Every variant at once: per-neuron bias and initial values, subtract reset, refractory,
    a non-spiking readout with tau_syn 0, and one current of each kind."""
    rng = np.random.default_rng(3)
    src = Population(name="bg", size=4, model=Poisson(rate=np.full(4, 200.0)))
    cells = Population(name="cells", size=5, model=LIF(
        tau_syn=4.0, tau_mem=15.0, v_th=1.0, reset="subtract", refractory=2,
        bias=rng.uniform(-0.02, 0.05, 5), v_init=rng.uniform(0.0, 0.9, 5), u_init=0.1))
    readout = Population(name="readout", size=2, model=LIF(
        tau_syn=0.0, tau_mem=30.0, v_th=float("inf"), bias=np.array([0.01, 0.01])))
    pre, post = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    into_cells = Projection(name="bg_cells", pre="bg", post="cells",
                            pre_idx=pre.ravel().astype(np.int32),
                            post_idx=post.ravel().astype(np.int32),
                            weight=rng.uniform(0.1, 0.3, 20), delay=np.ones(20, np.int32))
    pre, post = np.meshgrid(np.arange(5), np.arange(2), indexing="ij")
    into_readout = Projection(name="cells_readout", pre="cells", post="readout",
                              pre_idx=pre.ravel().astype(np.int32),
                              post_idx=post.ravel().astype(np.int32),
                              weight=np.full(10, 0.05), delay=np.full(10, 2, np.int32))
    currents = (
        Current(population="cells", kind="ramp", points=np.array([[0.0, 0.0], [60.0, 0.3]])),
        Current(population="cells", kind="steps", neurons=np.array([4, 1]),
                points=np.array([[10.0, 0.1], [50.0, -0.05]])),
        Current(population="readout", kind="file", neurons=np.array([1]),
                values=rng.normal(0.0, 0.02, (70, 1)), source="drive.npz"),
    )
    probes = tuple(Probe(population=p, var=var) for p in ("cells", "readout")
                   for var in ("u", "v"))
    return Network(name="variants", populations={"bg": src, "cells": cells, "readout": readout},
                   projections=(into_cells, into_readout), probes=probes, currents=currents,
                   steps=80, seed=5)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    compiled = compile_network(variants_network(), load_target("loihi2"))
    path = tmp_path_factory.mktemp("img") / "variants.nmc"
    write_image(str(path), compiled.qnet, compiled.mapping)
    return path, compiled


def test_the_image_round_trips_every_variant_and_current(image):
    path, compiled = image
    loaded = read_image(str(path))
    assert loaded.qnet == compiled.qnet and loaded.qnet.network == variants_network()
    assert loaded.qnet.network.currents == variants_network().currents
    assert loaded.header["format_version"] == FORMAT_VERSION == 4
    cells = loaded.qnet.populations["cells"]
    assert isinstance(cells.bias_mant, np.ndarray) and isinstance(cells.v_init, np.ndarray)
    assert (cells.refractory, cells.reset, cells.spiking) == (2, "subtract", True)
    assert loaded.qnet.populations["readout"].spiking is False


def test_per_neuron_values_are_arrays_in_the_zip_and_null_in_the_header(image):
    path, _ = image
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        header = json.loads(zf.read("header.json"))
    lif = header["network"]["populations"][1]["lif"]
    assert (lif["bias"], lif["v_init"], lif["u_init"], lif["reset"]) == (None, None, 0.1,
                                                                         "subtract")
    assert header["fixed_populations"]["cells"]["bias_mant"] is None
    assert isinstance(header["fixed_populations"]["cells"]["u_init"], int)
    assert header["network"]["currents"][2] == {"population": "readout", "kind": "file",
                                                "source": "drive.npz"}
    assert {"pop/1/bias.npy", "pop/1/v_init.npy", "pop/2/bias.npy", "fixedpop/1/bias_mant.npy",
            "fixedpop/1/v_init.npy", "current/0/points.npy", "current/1/neurons.npy",
            "current/2/values.npy"} <= names
    assert "pop/1/u_init.npy" not in names and "current/0/neurons.npy" not in names


def test_running_the_image_is_bit_identical_to_running_the_model(image, tmp_path):
    path, _ = image
    out = tmp_path / "image.npz"
    assert main(["run", str(path), "--backend", "emulator", "-q", "-o", str(out)]) == 0
    from_image = Result.load(str(out))
    from_model = driver.run(variants_network(), "emulator", target="loihi2")
    assert from_image.spikes.keys() == from_model.spikes.keys()
    assert from_model.spikes["cells"][0].size > 0
    for pop in from_model.spikes:
        for a, b in zip(from_image.spikes[pop], from_model.spikes[pop]):
            np.testing.assert_array_equal(a, b)
    for key in from_model.traces:
        np.testing.assert_array_equal(from_image.traces[key], from_model.traces[key])
    assert np.any(from_model.traces[("readout", "v")] != 0)


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_forged(dst, members: dict[str, bytes], header: dict) -> None:
    """The image with `header` and its hash recomputed, as a forger (or a buggy writer)
    would: only the structure and value checks stand in the way."""
    rest = {k: v for k, v in header.items() if k != "header_sha256"}
    digest = hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())
    with zipfile.ZipFile(dst, "w") as zout:
        zout.writestr("header.json", json.dumps({**rest, "header_sha256": digest.hexdigest()}))
        for name, data in members.items():
            if name != "header.json":
                zout.writestr(name, data)


def _rewrite_header(src, dst, change) -> None:
    members = _members(src)
    header = json.loads(members["header.json"])
    change(header)
    _write_forged(dst, members, header)


def _swap_array(src, dst, key: str, array: np.ndarray) -> None:
    """Replace one .npy member, the arrays' hash recomputed."""
    from nmcompile.passes.mapping.image import _arrays_hash
    members = _members(src)
    buf = io.BytesIO()
    np.save(buf, array)
    members[f"{key}.npy"] = buf.getvalue()
    header = json.loads(members["header.json"])
    header["arrays_sha256"] = _arrays_hash({n[:-4]: np.load(io.BytesIO(d))
                                            for n, d in members.items() if n.endswith(".npy")})
    _write_forged(dst, members, header)


def test_an_image_of_the_previous_format_is_refused_with_a_clear_message(image, tmp_path):
    path, _ = image
    old = tmp_path / "old.nmc"
    _rewrite_header(path, old, lambda h: h.update(format_version=3))
    with pytest.raises(InputError, match=r"format version 3; this nmcompile \S+ reads version 4 "
                                         r"only: compile the model again"):
        read_image(str(old))


@pytest.mark.parametrize("change, message", [
    (lambda h: h["fixed_populations"]["cells"].update(refractory=0),
     "fixed population cells: refractory, reset or spiking differ from its model"),
    (lambda h: h["fixed_populations"]["readout"].update(spiking=True),
     "fixed population readout: refractory, reset or spiking differ from its model"),
    (lambda h: h["fixed_populations"]["readout"].update(spiking=1),
     "spiking must be a boolean, got 1"),
    (lambda h: h["fixed_populations"]["cells"].update(u_init=2 ** 23),
     "fixed population cells: register out of range"),
    (lambda h: h["network"]["populations"][1]["lif"].update(reset="halve"),
     "population cells: LIF parameters out of range"),
    (lambda h: h["network"]["populations"][1]["lif"].update(u_init=None),
     "KeyError: 'pop/1/u_init'"),
    (lambda h: h["network"]["currents"][0].update(kind="file"),
     "current into cells: its arrays do not fit its kind 'file'"),
    (lambda h: h["network"]["currents"][1].update(population="bg"),
     "a current names no neuron population"),
])
def test_forged_variant_values_are_refused(image, tmp_path, change, message):
    path, _ = image
    bad = tmp_path / "bad.nmc"
    _rewrite_header(path, bad, change)
    with pytest.raises(InputError, match="not a readable nmcompile chip image") as exc:
        read_image(str(bad))
    assert message in str(exc.value)


@pytest.mark.parametrize("key, array, message", [
    ("fixedpop/1/bias_mant", np.full(5, 5000, np.int32), "register out of range"),
    ("fixedpop/1/bias_mant", np.zeros(4, np.int32), "a per-neuron array is not one per neuron"),
    ("pop/1/bias", np.array([0.0, np.nan, 0.0, 0.0, 0.0]), "LIF parameters out of range"),
    ("current/1/neurons", np.array([4, 7]), "its arrays do not fit"),
    ("current/0/points", np.array([[5.0, 0.0], [2.0, 1.0]]), "values or steps out of range"),
    ("current/2/values", np.zeros((70, 2)), "its arrays do not fit"),
])
def test_forged_variant_arrays_are_refused(image, tmp_path, key, array, message):
    path, _ = image
    bad = tmp_path / "bad.nmc"
    _swap_array(path, bad, key, array)
    with pytest.raises(InputError, match="not a readable nmcompile chip image") as exc:
        read_image(str(bad))
    assert message in str(exc.value)
