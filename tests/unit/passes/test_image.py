"""Chip image (.nmc): round trip, bit-identical runs, and clear errors for bad files."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_model
from nmcompile.passes.mapping.image import FORMAT_VERSION, MAGIC, read_image, write_image
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.result import Result
from nmcompile.targets import load_target

EXAMPLES = Path(__file__).parents[3] / "examples"


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


def _header(change, rehash: bool = False):
    """An edit of header.json only; `rehash` recomputes its hash so only structure checks can
    catch the change."""
    def edit(name, data):
        if name != "header.json":
            return data
        doc = json.loads(data)
        change(doc)
        return _rehashed(doc) if rehash else json.dumps(doc)
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
     "not a readable nmcompile chip image: not a zip archive"),
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


def _rehashed(doc: dict) -> bytes:
    """The header with its hash recomputed as the format defines it: what a careful forger (or
    a buggy writer) produces, so only the structure checks stand in the way."""
    rest = {k: v for k, v in doc.items() if k != "header_sha256"}
    digest = hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())
    return json.dumps({**rest, "header_sha256": digest.hexdigest()}).encode()


def _forged(change):
    return _header(change, rehash=True)


def _set_du(doc, value):
    doc["fixed_populations"][next(iter(doc["fixed_populations"]))]["du"] = value


@pytest.mark.parametrize("change, message", [
    # edited without re-hashing: the header hash covers every key and register
    (_header(lambda h: h.pop("model_hash")), "header hash mismatch"),
    (_header(lambda h: h.update(fixed_populations=[])), "header hash mismatch"),
    (_header(lambda h: _set_du(h, 4095)), "header hash mismatch"),
    (_header(lambda h: h["network"].update(steps=301)), "header hash mismatch"),
    (_header(lambda h: h.pop("header_sha256")), "header hash mismatch"),
    # edited and re-hashed: the structure is checked key by key before anything is built
    (_forged(lambda h: h.pop("model_hash")), "header: missing key model_hash"),
    (_forged(lambda h: h.update(fixed_populations=[])),
     "header.fixed_populations must be a mapping"),
    (_forged(lambda h: h.update(network=[])), "header.network must be a mapping"),
    (_forged(lambda h: _set_du(h, "4095")), "du must be an integer, got \"4095\""),
    (_forged(lambda h: _set_du(h, True)), "du must be an integer, got true"),
    (_forged(lambda h: h["network"]["populations"][0].update(size=None)),
     "header.network.populations[0].size must be an integer, got null"),
    (_forged(lambda h: h["mapping"].update(extra=1)), "header.mapping: unknown key extra"),
    (_forged(lambda h: h["network"]["populations"][0].update(kind="izhikevich")),
     "kind 'izhikevich'"),
    (_forged(lambda h: h["fixed_projections"].pop()), "fixed_projections do not match"),
    (_forged(lambda h: h.update(model_hash="0" * 64)), "model hash mismatch"),
])
def test_a_damaged_header_is_a_clear_input_error(image, tmp_path, change, message):
    bad = tmp_path / "bad.nmc"
    _rewrite(image, bad, change)
    with pytest.raises(InputError) as exc:
        read_image(str(bad))
    assert message in str(exc.value)


def _paths(doc, path=()):
    """Every key and list position in a JSON document."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in items:
        yield path + (key,)
        if isinstance(value, (dict, list)):
            yield from _paths(value, path + (key,))


def test_no_header_value_of_a_wrong_type_escapes_as_anything_but_an_input_error(tmp_path):
    """Every key of a header deleted, or its value replaced by one of another kind, re-hashed."""
    src = tmp_path / "wta.nmc"
    compiled = compile_network(load_model(EXAMPLES / "wta.yaml"), load_target("loihi2"))
    write_image(str(src), compiled.qnet, compiled.mapping)
    with zipfile.ZipFile(src) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    header = json.loads(entries.pop("header.json"))
    bad, cases, refused = tmp_path / "bad.nmc", 0, 0
    for path in _paths(header):
        for value in (DELETE, None, "x", 0.5):
            doc = json.loads(json.dumps(header))
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            if value is DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            with zipfile.ZipFile(bad, "w") as zout:  # stored, not deflated: fast
                zout.writestr("header.json", _rehashed(doc))
                for name, data in entries.items():
                    zout.writestr(name, data)
            cases += 1
            try:
                read_image(str(bad))
            except InputError:
                refused += 1
    assert refused > 0.9 * cases  # almost every edit is refused, and none raised otherwise


DELETE = object()


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
