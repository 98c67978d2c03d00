"""Chip image (.nmc): round trip, bit-identical runs, and clear errors for bad files."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.mapping.image import FORMAT_VERSION, MAGIC, read_image, write_image
from nmcompile.mapping.pipeline import compile_network
from nmcompile.modelfile import load_model
from nmcompile.result import Result
from nmcompile.targets import load_target

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "ei.nmc"
    assert main(["compile", str(EXAMPLES / "recurrent_ei.yaml"), "--target", "loihi1",
                 "-o", str(path)]) == 0
    return path


def test_image_round_trips_the_quantized_network_and_mapping(image):
    net = load_model(EXAMPLES / "recurrent_ei.yaml")
    compiled = compile_network(net, load_target("loihi1"))
    loaded = read_image(str(image))
    assert loaded.qnet == compiled.qnet and loaded.qnet.network == net
    for key, array in compiled.mapping.to_arrays().items():
        assert np.array_equal(array, loaded.mapping.to_arrays()[key])
    h = loaded.header
    assert (h["magic"], h["format_version"], h["target"]) == (MAGIC, FORMAT_VERSION, "loihi1")
    assert len(h["model_hash"]) == 64 and h["nmcompile_version"]


def test_running_the_image_is_bit_identical_to_running_the_model(image, tmp_path):
    from_image, from_model = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["run", str(image), "--backend", "emulator", "-q", "-o", str(from_image)]) == 0
    assert main(["run", str(EXAMPLES / "recurrent_ei.yaml"), "--backend", "emulator",
                 "--target", "loihi1", "-q", "-o", str(from_model)]) == 0
    a, b = Result.load(str(from_image)), Result.load(str(from_model))
    assert a.spikes.keys() == b.spikes.keys() and a.traces.keys() == b.traces.keys()
    assert sum(len(t) for t, _ in a.spikes.values()) > 0
    for pop in a.spikes:
        assert all(np.array_equal(x, y) for x, y in zip(a.spikes[pop], b.spikes[pop]))
    for key in a.traces:
        assert np.array_equal(a.traces[key], b.traces[key])


def _rewrite(src: Path, dst: Path, change) -> None:
    """Copy the zip entry by entry, letting `change(name, data)` alter the data."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, change(name, zin.read(name)))


def _header(change):
    def edit(name, data):
        if name != "header.json":
            return data
        doc = json.loads(data)
        change(doc)
        return json.dumps(doc)
    return edit


def _weights(name, data):
    if name != "fixed/0/weight_mant.npy":
        return data
    arr = np.load(io.BytesIO(data))
    arr[0] += 1
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize("damage, message", [
    (lambda src, dst: dst.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2]),
     "damaged or truncated zip"),
    (lambda src, dst: dst.write_bytes(src.read_bytes()[:200] + b"\0" * 64
                                      + src.read_bytes()[264:]),
     "damaged"),
    (lambda src, dst: dst.write_bytes((EXAMPLES / "wta.yaml").read_bytes()),
     "damaged or truncated zip"),
    (lambda src, dst: _rewrite(src, dst, lambda n, d: d if n != "header.json" else b"{}"),
     "wrong magic None"),
    (lambda src, dst: zipfile.ZipFile(dst, "w").writestr("other.txt", "hi"),
     "no header.json (a foreign zip file?)"),
    (lambda src, dst: _rewrite(src, dst, _header(lambda h: h.update(format_version=99))),
     "format version 99"),
    (lambda src, dst: _rewrite(src, dst, _weights), "array hash mismatch"),
    (lambda src, dst: _rewrite(src, dst, lambda n, d: b"" if n.startswith("proj/0/") else d),
     "damaged content"),
])
def test_damaged_or_foreign_files_are_clear_input_errors(image, tmp_path, capsys, damage, message):
    bad = tmp_path / "bad.nmc"
    damage(image, bad)
    with pytest.raises(InputError) as exc:
        read_image(str(bad))
    assert str(bad) in str(exc.value) and message in str(exc.value)
    assert main(["run", str(bad), "--backend", "emulator", "-q"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_image_runs_only_on_a_fixed_point_backend_for_its_target(image, capsys):
    assert main(["run", str(image), "--backend", "brian2", "-q"]) == 2
    assert main(["run", str(image), "--backend", "emulator", "--target", "loihi2", "-q"]) == 2
    err = capsys.readouterr().err
    assert "fixed-point backend" in err and "compiled for loihi1, not loihi2" in err


def test_writing_is_atomic_and_leaves_no_temporary_files(tmp_path):
    net = load_model(EXAMPLES / "wta.yaml")
    compiled = compile_network(net, load_target("loihi2"))
    path = tmp_path / "wta.nmc"
    write_image(str(path), compiled.qnet, compiled.mapping)
    write_image(str(path), compiled.qnet, compiled.mapping)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == ["wta.nmc"]
