"""Issue 10: every fault of an input file is an InputError (exit 2) with one located line.

One test per defect found by a user (each raised another exception, hung, or was silently
accepted), then their kin found by trying. The CLI cases run `python -m nmcompile.cli` in a
subprocess with a timeout, so a hang fails the test instead of blocking the suite.
"""
from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.modelfile.yamlmarks import parse
from nmcompile.passes.mapping.image import read_image, write_image
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.targets import load_target

EXAMPLES = Path(__file__).parents[3] / "examples"
TINY_TARGET = Path(__file__).parents[3] / "nmcompile" / "targets" / "tiny.yaml"
BIG = "1" + "0" * 400  # 10**400: beyond float64


def nmc(*args: str, cwd: Path) -> tuple[int, list[str]]:
    """Exit code and stderr lines of the real command line (a hang fails after 60 s)."""
    run = subprocess.run([sys.executable, "-m", "nmcompile.cli", *args], cwd=cwd,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return run.returncode, run.stderr.splitlines()


def model_text(**changes: str) -> str:
    """A small valid model; `changes` replace its fields' values (as YAML text)."""
    values = dict(dt="1.0", rate="10", tau_syn="4.0", tau_mem="20.0", v_th="1.0", bias="0.0",
                  connect="one_to_one", weight="0.5", delay="1", spikes="[[0, 3], [1, 4]]")
    values.update(changes)
    return ("format: nmcompile/v1\nname: t\ndt: {dt}\nsteps: 20\npopulations:\n"
            "  s: {{model: poisson, size: 2, rate: {rate}}}\n"
            "  c: {{model: spike_array, size: 2, spikes: {spikes}}}\n"
            "  e: {{model: lif, size: 2, tau_syn: {tau_syn}, tau_mem: {tau_mem}, v_th: {v_th}, "
            "bias: {bias}}}\n"
            "projections:\n"
            "  - {{pre: s, post: e, connect: {connect}, weight: {weight}, delay: {delay}}}\n"
            ).format(**values)


LINE = {"dt": 3, "rate": 6, "spikes": 7, "tau_syn": 8, "tau_mem": 8, "v_th": 8, "bias": 8,
        "connect": 10, "weight": 10, "delay": 10}
FIELD = {"dt": "dt", "rate": "populations.s.rate", "spikes": "populations.c.spikes",
         "tau_syn": "populations.e.tau_syn", "tau_mem": "populations.e.tau_mem",
         "v_th": "populations.e.v_th", "bias": "populations.e.bias",
         "connect": "projections[0].connect", "weight": "projections[0].weight",
         "delay": "projections[0].delay"}


def refused(tmp_path: Path, text: str | bytes, match: str, name: str = "m.yaml") -> str:
    """Load the model text; it must be refused with one line matching `match` (a regex)."""
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError) as exc:
        load_model(str(path))
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert re.search(match, message), message
    return message


NPZ_MODEL = model_text(connect="{file: syn.npz}").replace("weight: 0.5, ", "")


def test_the_small_model_is_valid(tmp_path):
    (tmp_path / "m.yaml").write_text(model_text())
    assert load_model(str(tmp_path / "m.yaml")).n_synapses == 2


# -- defects found by the user ------------------------------------------------------------
def test_a_nul_byte_is_a_located_input_error(tmp_path):
    refused(tmp_path, model_text(v_th="1.0\0"),
            r"m\.yaml:8: not valid YAML/JSON: a NUL byte at column \d+ ")


@pytest.mark.parametrize("field", ["weight", "v_th", "tau_mem", "rate", "dt"])
def test_integers_beyond_float64_are_refused_at_their_field(tmp_path, field):
    refused(tmp_path, model_text(**{field: BIG}),
            rf"m\.yaml:{LINE[field]}: {re.escape(FIELD[field])}: 1000000000\d*…0+ "
            rf"\(401 characters\) is beyond the range of float64 numbers \(±1\.8e308\)$")


def test_a_uniform_range_wider_than_float64_is_refused(tmp_path):
    refused(tmp_path, model_text(weight="{uniform: [-1.0e308, 1.0e308]}"),
            r"m\.yaml:10: projections\[0\]\.weight\.uniform: the width hi − lo of "
            r"\[-1e\+308, 1e\+308\] is beyond the range of float64 numbers")


def test_normal_weights_that_can_realise_infinities_are_refused_whatever_the_seed(tmp_path):
    for seed in range(5):  # with 2 synapses most seeds draw finite weights: refused all the same
        refused(tmp_path, model_text(weight="{normal: [0, 1.0e308]}").replace(
                    "steps: 20", f"steps: 20\nseed: {seed}"),
                r"m\.yaml:11: projections\[0\]\.weight\.normal: \[0, 1e\+308\] can draw weights "
                r"beyond the range of float64 numbers: \|mean\| \+ 40·std must stay within "
                r"±1\.8e308; lower them$")
    (tmp_path / "ok.yaml").write_text(model_text(weight="{normal: [1.0e306, 1.0e306]}"))
    assert np.all(np.isfinite(load_model(str(tmp_path / "ok.yaml")).projections[0].weight))


def _npz(path: Path, compressed: bool = False, **arrays) -> bytes:
    arrays = arrays or dict(pre=np.array([0, 1]), post=np.array([1, 0]),
                            weight=np.array([0.1, 0.2]))
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path.read_bytes()


def _central_entries(data: bytes) -> list[int]:
    """Offsets of the central directory entries of a zip archive."""
    end = data.rfind(b"PK\x05\x06")
    count, _, offset = struct.unpack("<HII", data[end + 10:end + 20])
    out = []
    for _ in range(count):
        out.append(offset)
        n, m, k = struct.unpack("<HHH", data[offset + 28:offset + 34])
        offset += 46 + n + m + k
    return out


def _patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    return data[:offset] + struct.pack(fmt, value) + data[offset + struct.calcsize(fmt):]


def _flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x10]) + data[offset + 1:]


def _first_member_data(data: bytes) -> int:
    """Offset of the first member's (compressed) data."""
    n, m = struct.unpack("<HH", data[26:30])
    return 30 + n + m


NPZ_DAMAGE = {
    "truncated": lambda d: d[: len(d) // 2],
    "truncated-tail": lambda d: d[:-30],
    "bit flip in data": lambda d: _flipped(d, _first_member_data(d)
                                          + zipfile.ZipFile(io.BytesIO(d)).infolist()[0]
                                          .compress_size // 2),
    "compression method": lambda d: _patched(d, _central_entries(d)[0] + 10, "<H", 99),
    "zip version": lambda d: _patched(d, _central_entries(d)[0] + 6, "<H", 99),
    "encrypted": lambda d: _patched(d, _central_entries(d)[0] + 8, "<H", 1),
    "empty": lambda d: b"",
}


@pytest.mark.parametrize("damage", NPZ_DAMAGE, ids=str)
@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_a_damaged_connectivity_file_is_a_located_input_error(tmp_path, damage, compressed):
    good = _npz(tmp_path / "good.npz", compressed)
    (tmp_path / "syn.npz").write_bytes(NPZ_DAMAGE[damage](good))
    refused(tmp_path, NPZ_MODEL,
            r"m\.yaml:10: projections\[0\]\.connect\.file: cannot read syn\.npz: ")


def test_a_zlib_error_in_a_connectivity_file_is_a_located_input_error(tmp_path):
    good = _npz(tmp_path / "good.npz", compressed=True)
    start = _first_member_data(good)
    bad = good[:start] + b"\xff" * 8 + good[start + 8:]  # an invalid deflate block header
    (tmp_path / "syn.npz").write_bytes(bad)
    refused(tmp_path, NPZ_MODEL,
            r"projections\[0\]\.connect\.file: cannot read syn\.npz: damaged content "
            r"\(pre\.npy: zlib\.error: Error -3 while decompressing data")


@pytest.mark.parametrize("arrays, match", [
    (dict(pre=np.array([0.0, 1.0]), post=np.array([1, 0])), "pre indices must be integers"),
    (dict(pre=np.array([[0, 1]]), post=np.array([[1, 0]])), "array pre must be 1-D"),
    (dict(pre=np.array([0, 1]), post=np.array([1, 0]), weight=np.array(["1.5", "2"])),
     r"weights in the connectivity file must be integers or floats, got <U3"),
    (dict(pre=np.array([0, 1]), post=np.array([1, 0]), weight=np.array([1 + 1j, 2])),
     "must be integers or floats, got complex128"),
    (dict(pre=np.array([0, 1]), post=np.array([1, 0]),
          weight=np.array([np.finfo(np.longdouble).max, 1], np.longdouble)),
     r"must be finite float64 numbers \(within ±1\.8e308\)"),
])
def test_wrong_dtypes_and_shapes_in_a_connectivity_file(tmp_path, arrays, match):
    _npz(tmp_path / "syn.npz", **arrays)
    refused(tmp_path, NPZ_MODEL,
            r"m\.yaml:10: projections\[0\]\.connect(\.file)?: .*" + match)


def test_an_array_header_claiming_more_data_than_there_is_allocates_nothing(tmp_path):
    header = np.lib.format.header_data_from_array_1_0(np.array([0, 1]))
    header["shape"] = (10**12,)  # 7 TiB
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    with zipfile.ZipFile(tmp_path / "syn.npz", "w") as zf:
        zf.writestr("pre.npy", buf.getvalue() + np.array([0, 1]).tobytes())
        zf.writestr("post.npy", buf.getvalue() + np.array([1, 0]).tobytes())
    refused(tmp_path, NPZ_MODEL,
            r"cannot read syn\.npz: damaged content \(pre\.npy: ValueError: its header declares "
            r"1,000,000,000,000 values of int64 but it holds 16 bytes of data\)")


@pytest.fixture(scope="module")
def image_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("img") / "wta.nmc"
    compiled = compile_network(load_model(EXAMPLES / "wta.yaml"), load_target("loihi2"))
    write_image(str(path), compiled.qnet, compiled.mapping)
    return path.read_bytes()


@pytest.mark.parametrize("damage", NPZ_DAMAGE, ids=str)
def test_a_damaged_chip_image_is_an_input_error(tmp_path, image_bytes, damage):
    bad = tmp_path / "bad.nmc"
    bad.write_bytes(NPZ_DAMAGE[damage](image_bytes))
    with pytest.raises(InputError) as exc:
        read_image(str(bad))
    assert str(exc.value).startswith(f"{bad}: not a readable nmcompile chip image: ")
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("method", [12, 14, 99], ids=["bzip2", "lzma", "unknown"])
@pytest.mark.parametrize("member", range(0, 20, 4))
def test_a_wrong_compression_method_in_any_image_member_is_an_input_error(tmp_path, image_bytes,
                                                                          member, method):
    entries = _central_entries(image_bytes)
    bad = tmp_path / "bad.nmc"
    bad.write_bytes(_patched(image_bytes, entries[member % len(entries)] + 10, "<H", method))
    with pytest.raises(InputError, match="not a readable nmcompile chip image: damaged"):
        read_image(str(bad))


@pytest.mark.parametrize("change, match", [
    (lambda t: t.replace("name: tiny", "name: tiny\0"),
     r"tiny\.yaml:6: not valid YAML/JSON: a NUL byte"),
    (lambda t: t.replace("chips: 1", f"chips: {BIG}"),
     r"tiny\.yaml:33: resources\.chips: 1000.* is beyond the range of float64 numbers"),
    (lambda t: t.replace("synaptic_op_pj: 10", "synaptic_op_pj: \x07"),
     r"tiny\.yaml:51: not valid YAML/JSON: the character U\+0007"),
])
def test_a_damaged_target_file_is_a_located_input_error(tmp_path, change, match):
    path = tmp_path / "tiny.yaml"
    path.write_text(change(TINY_TARGET.read_text()))
    with pytest.raises(InputError, match=match):
        load_target(str(path))


@pytest.mark.parametrize("dt", ["5e-324", "1e-310", "1e301", "1.7e308"])
def test_a_dt_so_small_or_large_that_time_degenerates_is_refused(tmp_path, dt):
    refused(tmp_path, model_text(dt=dt, tau_syn=".inf", tau_mem=".inf", rate="0"),
            r"m\.yaml:3: dt: must be a step in ms from 1e-300 to 1e\+300, so that 1/dt and the "
            r"length of any run are finite numbers of seconds, got ")


@pytest.mark.parametrize("field", ["tau_syn", "tau_mem"])
def test_a_finite_tau_whose_decay_rounds_to_zero_is_refused(tmp_path, field):
    refused(tmp_path, model_text(**{field: "1e20"}),
            rf"m\.yaml:8: populations\.e\.{field}: 1e\+20 ms decays by 1 − exp\(−dt/tau\) = 0 "
            rf"per step of dt 1 ms in float64 \(dt/tau = 1e-20\): write \.inf for no decay, or "
            rf"a tau ≤ 4\.5e\+15 ms$")
    (tmp_path / "ok.yaml").write_text(model_text(**{field: "4.5e15"}))
    assert load_model(str(tmp_path / "ok.yaml"))


@pytest.fixture()
def specials(tmp_path):
    """A named pipe for every kind of input file, a folder, and a character device."""
    for name in ("pipe.yaml", "pipe.npz", "target.yaml", "pipe.nmc", "pipe"):
        os.mkfifo(tmp_path / name)
    os.mkdir(tmp_path / "folder.npz")
    os.symlink("/dev/zero", tmp_path / "zero.npz")
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    return tmp_path


@pytest.mark.parametrize("name, kind", [("pipe.npz", "a named pipe (FIFO)"),
                                        ("folder.npz", "a folder"),
                                        ("zero.npz", "a character device")])
def test_a_connectivity_file_that_is_not_a_regular_file_is_refused_unopened(specials, name,
                                                                           kind):
    (specials / "m.yaml").write_text(model_text(connect=f"{{file: {name}}}").replace(
        "weight: 0.5, ", ""))
    assert nmc("validate", "m.yaml", cwd=specials) == (
        2, [f"m.yaml:10: projections[0].connect.file: {name} is {kind}, not an .npz file"])


@pytest.mark.parametrize("args, line", [
    (["validate", "pipe.yaml"], "pipe.yaml: this is a named pipe (FIFO), not a model file"),
    (["validate", "pipe"], "pipe: this is a named pipe (FIFO), not a model file"),
    (["info", "zero.yaml"], "zero.yaml: this is a character device, not a model file"),
    (["compile", str(EXAMPLES / "wta.yaml"), "--target", "target.yaml"],
     "target.yaml: cannot read target file: this is a named pipe (FIFO), not a target file"),
    (["run", "pipe.nmc", "-b", "emulator", "-q"],
     "pipe.nmc: this is a named pipe (FIFO), not a chip image"),
])
def test_model_target_and_image_pipes_and_devices_are_refused_unopened(specials, args, line):
    assert nmc(*args, cwd=specials) == (2, [line])


def test_a_spike_listed_twice_is_a_located_input_error(tmp_path):
    refused(tmp_path, model_text(spikes="[[0, 3], [1, 4], [0, 3]]"),
            r"m\.yaml:7: populations\.c\.spikes\[2\]: spike \[0, 3\] is listed twice "
            r"\(first at index 0\)$")


# -- PyYAML's own nesting limit ----------------------------------------------------------------
def test_nesting_is_refused_in_our_words_whatever_pyyaml_says(monkeypatch):
    """PyYAML 6.0.4 stops at 1,000 levels with "exceeded maximum nesting depth"; a later one
    may stop its pure-Python parser too: the message stays ours."""
    import yaml

    def limited(text, Loader):
        raise yaml.scanner.ScannerError("while increasing flow level", None,
                                        "exceeded maximum nesting depth",
                                        yaml.Mark("<unicode string>", 0, 0, 0, None, None))
    deep = "x: " + "[" * 5000 + "]" * 5000
    monkeypatch.setattr(yaml, "parse", limited)
    with pytest.raises(InputError, match=r"^deep\.yaml:1: nested deeper than 100 levels$"):
        parse(deep, "deep.yaml")


# -- kin, found by trying ----------------------------------------------------------------------
@pytest.mark.parametrize("field, value, match", [
    ("tau_mem", "1e400", r"1e400 is beyond the range of float64 numbers \(±1\.8e308\); write "
                         r"\.inf for infinity"),  # was silently read as no decay
    ("weight", "1e-400", r"1e-400 is too small for a float64 number \(it would read as 0"),
    ("rate", "1e-400", r"1e-400 is too small for a float64 number"),
    ("v_th", "0x" + "f" * 300, r"0xffff.* is beyond the range of float64 numbers"),
    ("v_th", "1" + ":59" * 300 + ".5", r"1:59:59.* is beyond the range of float64 numbers"),
    ("bias", "9" * 5000, r"9999.* \(5,000 characters\) is beyond the range of float64 numbers"),
    ("connect", "{grid: {radius: %s}}" % BIG, r"1000.* is beyond the range of float64 numbers"),
    ("connect", "{fixed_probability: %s}" % BIG, r"1000.* is beyond the range of float64"),
    ("delay", "{uniform_int: [1, %s]}" % BIG, r"1000.* is beyond the range of float64"),
    ("weight", "[1, %s]" % BIG, r"weight\[1\]: 1000.* is beyond the range of float64"),
])
def test_numbers_beyond_float64_anywhere(tmp_path, field, value, match):
    refused(tmp_path, model_text(**{field: value}), rf"m\.yaml:{LINE[field]}: .*{match}")


@pytest.mark.parametrize("text, match", [
    ("a: \x07", r"x\.yaml:1: not valid YAML/JSON: the character U\+0007 at column 4"),
    ("a: 1\n\x7f: 2", r"x\.yaml:2: not valid YAML/JSON: the character U\+007F at column 1"),
    (BIG + ": 1", r"x\.yaml:1: 1000.* is beyond the range of float64 numbers"),
])
def test_unprintable_text_and_huge_keys(text, match):
    with pytest.raises(InputError, match=match):
        parse(text, "x.yaml")


def test_builder_integers_beyond_float64_are_input_errors():
    from nmcompile.frontends.builder import NetworkBuilder
    for kwargs in (dict(size=10**400), dict(size=2, v_th=10**400), dict(size=2, bias=-10**400),
                   dict(size=2, refractory=10**400)):
        b = NetworkBuilder("b")
        b.lif("e", **{**dict(tau_syn=1.0, tau_mem=1.0, v_th=1.0), **kwargs})
        with pytest.raises(InputError, match="beyond the range of float64|must be an integer ≤"):
            b.build()


def test_a_refractory_period_longer_than_any_run_is_refused(tmp_path):
    refused(tmp_path, model_text().replace("bias: 0.0}", "bias: 0.0, refractory: 2147483648}"),
            r"m\.yaml:8: populations\.e\.refractory: must be an integer ≤ 2147483647")


def test_a_forged_image_with_a_nan_parameter_is_refused(tmp_path, image_bytes):
    """Every hash recomputed, as a forger (or a buggy writer) would: the values are still
    checked before any backend sees them."""
    import dataclasses
    import hashlib
    import json
    from nmcompile.passes.mapping.image import model_hash
    good = tmp_path / "good.nmc"
    good.write_bytes(image_bytes)
    net = read_image(str(good)).qnet.network
    exc_pop = net.populations["exc"]
    forged_pops = dict(net.populations, exc=dataclasses.replace(
        exc_pop, model=dataclasses.replace(exc_pop.model, v_th=float("nan"))))
    src = zipfile.ZipFile(io.BytesIO(image_bytes))
    header = json.loads(src.read("header.json"))
    header["network"]["populations"][1]["lif"]["v_th"] = float("nan")
    header["model_hash"] = model_hash(dataclasses.replace(net, populations=forged_pops))
    rest = {k: v for k, v in header.items() if k != "header_sha256"}
    rest["header_sha256"] = hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":"))
                                           .encode()).hexdigest()
    bad = tmp_path / "forged.nmc"
    with zipfile.ZipFile(bad, "w") as zout:
        for name in src.namelist():
            zout.writestr(name, json.dumps(rest) if name == "header.json" else src.read(name))
    with pytest.raises(InputError, match=r"not a readable nmcompile chip image: damaged content "
                                         r"\(ValueError: population exc: LIF parameters out of "
                                         r"range\)"):
        read_image(str(bad))


def test_document_values_beyond_float64_from_python(tmp_path):
    doc = {"format": "nmcompile/v1", "name": "d", "dt": 10**400,
           "populations": {"s": {"model": "poisson", "size": 1, "rate": 1}}}
    with pytest.raises(InputError, match=r"dt: 1000.* is beyond the range of float64"):
        load_document(doc)
