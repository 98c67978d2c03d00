"""Chip image (.nmc) v4 of networks with all three neuron models (DESIGN §5.6): each
population's parameters under its kind and its registers with their kind, an exact round
trip, a run of the image equal to a run of the model, refusal of version 3 and of forged
Izhikevich and adaptive LIF values."""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import (LIF, AdaptiveLIF, Current, Izhikevich, Network, Poisson, Population,
                          Probe, Projection)
from nmcompile.passes.mapping.image import (FIXED, FIXED_SPECS, FORMAT_VERSION, read_image,
                                           write_image)
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.result import Result
from nmcompile.targets import load_target

MIXED = Path(__file__).parents[3] / "examples" / "mixed_models.yaml"


def three_models() -> Network:
    """Poisson -> Izhikevich (per-neuron bias and u_init, tau_syn) -> adaptive LIF
    (per-neuron bias, a current) -> LIF."""
    rng = np.random.default_rng(7)
    src = Population(name="bg", size=3, model=Poisson(rate=np.full(3, 300.0)))
    cells = Population(name="cells", size=4, model=Izhikevich(
        a=0.02, b=0.2, c=-55.0, d=4.0, tau_syn=2.0, bias=rng.uniform(0.0, 5.0, 4),
        v_init=-68.0, u_init=rng.uniform(-15.0, -10.0, 4)))
    adapt = Population(name="adapt", size=2, model=AdaptiveLIF(
        tau_syn=2.0, tau_mem=10.0, tau_theta=40.0, tau_r=3.0, theta_0=1.0, theta_step=0.2,
        bias=np.array([0.05, 0.1])))
    out = Population(name="out", size=1, model=LIF(tau_syn=1.0, tau_mem=5.0, v_th=1.0))

    def full(name, pre, post, weight):
        p, q = np.meshgrid(np.arange(pre.size), np.arange(post.size), indexing="ij")
        return Projection(name=name, pre=pre.name, post=post.name,
                          pre_idx=p.ravel().astype(np.int32), post_idx=q.ravel().astype(np.int32),
                          weight=np.full(p.size, weight), delay=np.full(p.size, 2, np.int32))
    currents = (Current(population="adapt", kind="steps",
                        points=np.array([[5.0, 0.3], [40.0, 0.0]])),)
    probes = tuple(Probe(population=name, var=var) for name, vars_ in (
        ("cells", ("v", "u", "i")), ("adapt", ("v", "theta", "r")), ("out", ("v",)))
        for var in vars_)
    return Network(name="three", populations={p.name: p for p in (src, cells, adapt, out)},
                   projections=(full("bg_cells", src, cells, 8.0),
                                full("cells_adapt", cells, adapt, 0.4),
                                full("adapt_out", adapt, out, 0.6)),
                   probes=probes, currents=currents, steps=120, seed=3, dt=0.5)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    compiled = compile_network(three_models(), load_target("loihi2"))
    path = tmp_path_factory.mktemp("img") / "three.nmc"
    write_image(str(path), compiled.qnet, compiled.mapping)
    return path, compiled


def _header(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("header.json"))


def test_the_image_round_trips_every_model(image):
    path, compiled = image
    loaded = read_image(str(path))
    assert loaded.header["format_version"] == FORMAT_VERSION == 4
    assert loaded.qnet == compiled.qnet and loaded.qnet.network == three_models()
    assert {name: f.kind for name, f in loaded.qnet.populations.items()} == {
        "cells": "izhikevich", "adapt": "adaptive_lif", "out": "lif"}
    cells = loaded.qnet.populations["cells"]
    assert isinstance(cells.bias, np.ndarray) and isinstance(cells.v_init, int)
    assert isinstance(cells.k0, tuple) and cells.k0 == compiled.qnet.populations["cells"].k0


def test_each_population_carries_its_models_parameters_and_registers(image):
    path, compiled = image
    header = _header(path)
    pops = {p["name"]: p for p in header["network"]["populations"]}
    assert set(pops["cells"]) == {"name", "size", "kind", "shape", "izhikevich"}
    assert pops["cells"]["izhikevich"]["bias"] is None          # per neuron: an array
    assert pops["cells"]["izhikevich"]["v_init"] == -68.0
    assert pops["adapt"]["adaptive_lif"]["theta_step"] == 0.2
    fixed = header["fixed_populations"]
    assert fixed["cells"]["kind"] == "izhikevich" and fixed["adapt"]["kind"] == "adaptive_lif"
    assert fixed["cells"]["k0"] == list(compiled.qnet.populations["cells"].k0)
    assert fixed["adapt"]["bias_mant"] is None and fixed["out"]["kind"] == "lif"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    assert {"pop/1/bias.npy", "pop/1/u_init.npy", "pop/2/bias.npy", "fixedpop/1/bias.npy",
            "fixedpop/1/u_init.npy", "fixedpop/2/bias_mant.npy"} <= names


def test_the_header_holds_every_register_of_each_kind():
    for kind, cls in FIXED.items():
        assert set(FIXED_SPECS[kind]) == {"kind"} | {f.name for f in fields(cls)}, kind


def test_a_default_u_init_stays_a_default(tmp_path):
    """Izhikevich's u_init defaults to b·v_init: the image leaves the key out, so the model
    read back is the model written (its hash too)."""
    net = load_model(MIXED)
    compiled = compile_network(net, load_target("loihi2"))
    path = tmp_path / "mixed.nmc"
    write_image(str(path), compiled.qnet, compiled.mapping)
    exc = next(p for p in _header(path)["network"]["populations"] if p["name"] == "exc")
    assert "u_init" not in exc["izhikevich"] and exc["izhikevich"]["v_init"] is None
    loaded = read_image(str(path))
    assert loaded.qnet.network.populations["exc"].model.u_init is None
    assert loaded.qnet == compiled.qnet and loaded.qnet.network == net


def test_running_the_image_is_bit_identical_to_running_the_model(image, tmp_path):
    path, _ = image
    out = tmp_path / "image.npz"
    assert main(["run", str(path), "--backend", "emulator", "-q", "-o", str(out)]) == 0
    from_image = Result.load(str(out))
    from_model = driver.run(three_models(), "emulator", target="loihi2")
    assert from_model.spikes["cells"][0].size and from_model.spikes["adapt"][0].size
    for pop in from_model.spikes:
        for a, b in zip(from_image.spikes[pop], from_model.spikes[pop]):
            np.testing.assert_array_equal(a, b)
    assert from_image.traces.keys() == from_model.traces.keys()
    for key in from_model.traces:
        np.testing.assert_array_equal(from_image.traces[key], from_model.traces[key])


def _forge(src, dst, change) -> None:
    """The image with its header changed and re-hashed, as a forger would."""
    with zipfile.ZipFile(src) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    header = json.loads(members["header.json"])
    change(header)
    rest = {k: v for k, v in header.items() if k != "header_sha256"}
    digest = hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())
    with zipfile.ZipFile(dst, "w") as zout:
        zout.writestr("header.json", json.dumps({**rest, "header_sha256": digest.hexdigest()}))
        for name, data in members.items():
            if name != "header.json":
                zout.writestr(name, data)


def test_an_image_of_version_3_is_refused_with_a_clear_message(image, tmp_path):
    path, _ = image
    old = tmp_path / "old.nmc"
    _forge(path, old, lambda h: h.update(format_version=3))
    with pytest.raises(InputError, match=r"format version 3; this nmcompile \S+ reads version 4 "
                                         r"only: compile the model again \(nmc compile\)"):
        read_image(str(old))


def _fixed(name: str, **changes):
    return lambda h: h["fixed_populations"][name].update(changes)


def _params(index: int, kind: str, **changes):
    return lambda h: h["network"]["populations"][index][kind].update(changes)


@pytest.mark.parametrize("change, message", [
    (_fixed("cells", k2=2 ** 23), "fixed population cells: register out of range"),
    (_fixed("cells", state_limit=1000), "fixed population cells: register out of range"),
    (_fixed("cells", k1=[5, 40]), "fixed population cells: register out of range"),
    (_fixed("cells", k1=[5, 2, 1]), "register k1: a coefficient is [mantissa, shift]"),
    (_fixed("cells", k1=5), "header.fixed_populations.cells.k1 must be a list"),
    (_fixed("cells", kind="bogus"), "header.fixed_populations.cells.kind must be one of lif, "
                                    "izhikevich, adaptive_lif"),
    (_fixed("adapt", kind="izhikevich"), "header.fixed_populations.adapt: missing key"),
    (_fixed("adapt", theta_0=0), "fixed population adapt: register out of range"),
    (_fixed("adapt", dtheta=4096), "fixed population adapt: register out of range"),
    (_params(1, "izhikevich", v_peak=-60.0), "population cells: Izhikevich parameters out of "
                                             "range"),
    (_params(2, "adaptive_lif", theta_step=-0.1), "population adapt: AdaptiveLIF parameters "
                                                  "out of range"),
    (_params(2, "adaptive_lif", tau_r=0.0), "population adapt: AdaptiveLIF parameters out of "
                                            "range"),
    (lambda h: h["network"]["populations"][1].update(kind="adaptive_lif"),
     "population cells: kind 'adaptive_lif' with parameters of izhikevich"),
])
def test_forged_model_values_are_refused(image, tmp_path, change, message):
    path, _ = image
    bad = tmp_path / "bad.nmc"
    _forge(path, bad, change)
    with pytest.raises(InputError, match="not a readable nmcompile chip image") as exc:
        read_image(str(bad))
    assert message in str(exc.value)


def test_swapped_register_kinds_are_refused(image, tmp_path):
    """Registers of another model, complete and in range, still do not fit the population."""
    path, compiled = image
    bad = tmp_path / "bad.nmc"

    def swap(h):
        h["fixed_populations"]["cells"], h["fixed_populations"]["adapt"] = (
            h["fixed_populations"]["adapt"], h["fixed_populations"]["cells"])
    _forge(path, bad, swap)
    with pytest.raises(InputError, match="a fixed population's kind differs from its "
                                         "population's model"):
        read_image(str(bad))
