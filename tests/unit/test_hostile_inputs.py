"""Fault injection over the command line: hostile files, flags, paths, targets and images.

Each row is one thing a careless or hostile user can hand `nmc`. The contract for all of
them: exit 2 (never 1, the internal-error code, never a hang), a first line that names the
file at fault (or `nmc:` when no file is), no traceback, and no output written or changed.
Signals are exercised in tests/unit/backends/test_lava_signals.py, random damage to every
file kind in tests/property/test_corrupt_files.py.
"""
from __future__ import annotations

import io
import os
import signal
import socket
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from nmcompile.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WTA = (EXAMPLES / "wta.yaml").read_text()
TARGETS = Path(__file__).resolve().parents[2] / "nmcompile" / "targets"
TINY = (TARGETS / "tiny.yaml").read_text()
BIG = "1" + "0" * 400  # an integer literal beyond float64
LIST_CONNECT = "connect: {file: conn.npz}"


def wta(old: str, new: str, count: int = 1) -> str:
    assert WTA.count(old) >= count, old
    return WTA.replace(old, new, count)


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:]


GOOD_CONN = npz_bytes(pre=np.arange(4), post=np.arange(4))
WTA_FILE = wta("connect: one_to_one", LIST_CONNECT)


def wta_current(spec: str) -> str:
    """The example with one injected current (DESIGN §2.5), `spec` its YAML flow mapping."""
    return WTA + f"\ncurrents:\n  - {spec}\n"


WTA_DRIVE = wta_current("{population: exc, file: drive.npz}")


@dataclass
class Case:
    name: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    names: str = "m.yaml"          # the first line starts with this ("nmc" when no file)
    says: str = ""                 # and contains this
    make: object = None            # a function(folder) creating special files


def _fifo(name):
    return lambda folder: os.mkfifo(folder / name)


def _socket(name):
    def make(folder):
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(folder / name))
        make.keep = s   # bound while the test runs
    return make


def _image(folder):
    assert main(["compile", str(folder / "m.yaml"), "-o", str(folder / "good.nmc")]) == 0
    data = (folder / "good.nmc").read_bytes()
    central = data.index(b"PK\x01\x02")  # the central directory's first entry
    (folder / "flip.nmc").write_bytes(flip(data, central + 10))       # its compression method
    (folder / "flip2.nmc").write_bytes(flip(data, len(data) // 2))    # inside a member
    (folder / "cut.nmc").write_bytes(data[: len(data) // 3])
    (folder / "empty.nmc").write_bytes(b"")
    os.unlink(folder / "good.nmc")


RUN = ["run", "m.yaml", "-b", "emulator", "-q"]
VALIDATE = ["validate", "m.yaml"]

CASES = [
    # --- found by the user (issue 10) ---
    Case("nul byte in YAML", VALIDATE, {"m.yaml": wta("name: winner-take-all", "name: a\0b")}),
    Case("weight 10**400", VALIDATE, {"m.yaml": wta("weight: 0.5", f"weight: {BIG}")},
         says="weight"),
    Case("v_th 10**400", VALIDATE, {"m.yaml": wta("v_th: 1.0", f"v_th: {BIG}")}, says="v_th"),
    Case("tau_mem 10**400", VALIDATE, {"m.yaml": wta("tau_mem: 20.0", f"tau_mem: {BIG}")},
         says="tau_mem"),
    Case("rate 10**400", VALIDATE, {"m.yaml": wta("rate: [20, 20, 200, 20]", f"rate: {BIG}")},
         says="rate"),
    Case("dt 10**400", VALIDATE, {"m.yaml": wta("dt: 1.0", f"dt: {BIG}")}, says="dt"),
    Case("uniform over all floats", VALIDATE,
         {"m.yaml": wta("weight: 0.5", "weight: {uniform: [-1.0e308, 1.0e308]}")},
         says="weight"),
    Case("normal with std 1e308", VALIDATE,
         {"m.yaml": wta("weight: 0.5", "weight: {normal: [0, 1.0e308]}")}, says="weight"),
    Case("dt 5e-324", VALIDATE, {"m.yaml": wta("dt: 1.0", "dt: 5e-324")}, says="dt"),
    Case("connectivity file is a FIFO", VALIDATE, {"m.yaml": WTA_FILE}, names="m.yaml",
         says="conn.npz", make=_fifo("conn.npz")),
    Case("spike_array lists a spike twice", VALIDATE, {"m.yaml": wta(
        "    model: poisson\n    size: 4\n    rate: [20, 20, 200, 20]",
        "    model: spike_array\n    size: 4\n    spikes: [[0, 1], [2, 5], [0, 1]]")},
         says="spikes"),
    Case("truncated connectivity npz", VALIDATE,
         {"m.yaml": WTA_FILE, "conn.npz": GOOD_CONN[: len(GOOD_CONN) // 2]}, says="conn.npz"),
    Case("bit-flipped connectivity npz (CRC)", VALIDATE,
         {"m.yaml": WTA_FILE, "conn.npz": flip(GOOD_CONN, 100)}, says="conn.npz"),
    Case("bit-flipped chip image (method)", ["run", "flip.nmc", "-b", "emulator", "-q"],
         {"m.yaml": WTA}, names="flip.nmc", make=_image),
    Case("bit-flipped chip image (member)", ["run", "flip2.nmc", "-b", "emulator", "-q"],
         {"m.yaml": WTA}, names="flip2.nmc", make=_image),
    Case("-o under /proc", RUN + ["-o", "/proc/r.npz"], {"m.yaml": WTA}, names="/proc/r.npz"),
    Case("-o empty", RUN + ["-o", ""], {"m.yaml": WTA}, names="nmc"),
    # --- model files ---
    Case("empty model file", VALIDATE, {"m.yaml": ""}),
    Case("model file missing", ["validate", "nosuch.yaml"], names="nosuch.yaml"),
    Case("model is a folder", ["validate", "d.yaml"], names="d.yaml",
         make=lambda f: os.mkdir(f / "d.yaml")),
    Case("model is a FIFO", ["validate", "p.yaml"], names="p.yaml", make=_fifo("p.yaml")),
    Case("model is a socket", ["validate", "s.yaml"], names="s.yaml", make=_socket("s.yaml")),
    Case("model is a character device", ["validate", "/dev/zero"], names="/dev/zero"),
    Case("invalid UTF-8", VALIDATE, {"m.yaml": WTA.encode().replace(b"winner", b"w\xffinner")}),
    Case("binary junk", VALIDATE, {"m.yaml": bytes(range(256)) * 4}),
    Case("NaN threshold", VALIDATE, {"m.yaml": wta("v_th: 1.0", "v_th: .nan")}, says="v_th"),
    Case("negative infinite bias", VALIDATE, {"m.yaml": wta("bias: 0.0", "bias: -.inf")},
         says="bias"),
    Case("tau_mem zero", VALIDATE, {"m.yaml": wta("tau_mem: 20.0", "tau_mem: 0")},
         says="tau_mem"),
    Case("size beyond memory", VALIDATE, {"m.yaml": wta("size: 4\n    tau_syn",
                                                        f"size: {BIG}\n    tau_syn")},
         says="size"),
    Case("negative size", VALIDATE, {"m.yaml": wta("size: 1\n", "size: -1\n")}, says="size"),
    Case("fractional size", VALIDATE, {"m.yaml": wta("size: 1\n", "size: 1.5\n")}, says="size"),
    Case("zero steps", VALIDATE, {"m.yaml": wta("steps: 300", "steps: 0")}, says="steps"),
    Case("seed beyond 64 bits", VALIDATE, {"m.yaml": wta("seed: 7", f"seed: {BIG}")},
         says="seed"),
    Case("delay beyond 64 bits", VALIDATE, {"m.yaml": wta("delay: 1", f"delay: {BIG}")},
         says="delay"),
    Case("negative rate", VALIDATE, {"m.yaml": wta("rate: [20, 20, 200, 20]", "rate: -5")},
         says="rate"),
    Case("NaN rate", VALIDATE, {"m.yaml": wta("rate: [20, 20, 200, 20]", "rate: .nan")},
         says="rate"),
    Case("weight list of the wrong length", VALIDATE,
         {"m.yaml": wta("weight: 0.5", "weight: [0.1, 0.2]")}, says="weight"),
    Case("duplicate key", VALIDATE, {"m.yaml": wta("seed: 7", "seed: 7\nseed: 8")},
         says="seed"),
    Case("python tag", VALIDATE, {"m.yaml": wta("seed: 7", "seed: !!python/object:os.system 1")}),
    Case("alias bomb", VALIDATE, {"m.yaml": "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))}),
    Case("ten thousand levels of nesting", VALIDATE, {"m.yaml": "a: " + "[" * 10_000}),
    Case("JSON with NaN", ["validate", "m.json"], {"m.json": '{"format": "nmcompile/v1", '
         '"name": "j", "dt": NaN, "populations": {}}'}, names="m.json", says="dt"),
    # --- connectivity files ---
    Case("connectivity file missing", VALIDATE, {"m.yaml": WTA_FILE}, says="conn.npz"),
    Case("connectivity file is a folder", VALIDATE, {"m.yaml": WTA_FILE}, says="conn.npz",
         make=lambda f: os.mkdir(f / "conn.npz")),
    Case("connectivity index out of range", VALIDATE, {
        "m.yaml": WTA_FILE, "conn.npz": npz_bytes(pre=np.arange(4), post=np.arange(4) + 9)},
         says="post"),
    Case("connectivity indices as floats", VALIDATE, {
        "m.yaml": WTA_FILE, "conn.npz": npz_bytes(pre=np.arange(4) + 0.5, post=np.arange(4))},
         says="pre"),
    Case("connectivity with a pickled object", VALIDATE, {
        "m.yaml": WTA_FILE, "conn.npz": npz_bytes(pre=np.array([{}], dtype=object),
                                                  post=np.arange(1))}),
    Case("connectivity npz that is a zip of text", VALIDATE, {
        "m.yaml": WTA_FILE, "conn.npz": (lambda b: (zipfile.ZipFile(b, "w").writestr(
            "pre.npy", "not an array"), b.getvalue())[1])(io.BytesIO())}, says="conn.npz"),
    # --- LIF variants and injected currents ---
    Case("bias list of the wrong length", VALIDATE,
         {"m.yaml": wta("bias: 0.0", "bias: [0.1, 0.2]")}, says="bias"),
    Case("v_init normal with std 1e308", VALIDATE,
         {"m.yaml": wta("bias: 0.0", "v_init: {normal: [0, 1.0e308]}")}, says="v_init"),
    Case("u_init 10**400 in a list", VALIDATE,
         {"m.yaml": wta("bias: 0.0", f"u_init: [0, 0, {BIG}, 0]")}, says="u_init"),
    Case("reset misspelt", VALIDATE, {"m.yaml": wta("bias: 0.0", "reset: substract")},
         says="did you mean 'subtract'"),
    Case("negative tau_syn", VALIDATE, {"m.yaml": wta("tau_syn: 4.0", "tau_syn: -4.0")},
         says="tau_syn"),
    Case("currents not a list", VALIDATE, {"m.yaml": WTA + "currents: {population: exc}\n"},
         says="currents"),
    Case("current into a spike source", VALIDATE,
         {"m.yaml": wta_current("{population: stim, steps: [[0, 1.0]]}")}, says="stim"),
    Case("current into an unknown population", VALIDATE,
         {"m.yaml": wta_current("{population: exd, steps: [[0, 1.0]]}")}, says="exc"),
    Case("current steps going back", VALIDATE,
         {"m.yaml": wta_current("{population: exc, steps: [[5, 1.0], [2, 0.0]]}")},
         says="steps[1][0]"),
    Case("current step 10**400", VALIDATE,
         {"m.yaml": wta_current(f"{{population: exc, ramp: [[{BIG}, 1.0]]}}")}, says="ramp"),
    Case("current neuron out of range", VALIDATE,
         {"m.yaml": wta_current("{population: inh, neurons: [1], steps: [[0, 1.0]]}")},
         says="neurons"),
    Case("current file missing", VALIDATE, {"m.yaml": WTA_DRIVE}, says="drive.npz"),
    Case("current file is a FIFO", VALIDATE, {"m.yaml": WTA_DRIVE}, says="drive.npz",
         make=_fifo("drive.npz")),
    Case("current file is a character device", VALIDATE,
         {"m.yaml": wta_current("{population: exc, file: /dev/zero}")}, says="/dev/zero"),
    Case("truncated current npz", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": npz_bytes(current=np.ones(50))[:120]},
         says="drive.npz"),
    Case("current npz with a pickled object", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": npz_bytes(current=np.array([{}], dtype=object))},
         says="drive.npz"),
    Case("current npz with NaN", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": npz_bytes(current=np.array([0.0, np.nan]))},
         says="nan"),
    Case("current npz of complex numbers", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": npz_bytes(current=np.ones(3, dtype=complex))},
         says="complex"),
    Case("current npz with a column too many", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": npz_bytes(current=np.ones((3, 5)))},
         says="(3, 5)"),
    Case("current npz that is text", VALIDATE,
         {"m.yaml": WTA_DRIVE, "drive.npz": "current: [1, 2, 3]"}, says="drive.npz"),
    # --- targets ---
    Case("unknown target", ["compile", "m.yaml", "--target", "loihi9"], {"m.yaml": WTA},
         names="loihi9", says="unknown target"),
    Case("target file is a FIFO", ["compile", "m.yaml", "--target", "t.yaml"], {"m.yaml": WTA},
         names="t.yaml", make=_fifo("t.yaml")),
    Case("target with a NUL byte", ["compile", "m.yaml", "--target", "t.yaml"],
         {"m.yaml": WTA, "t.yaml": TINY.replace("name: tiny", "name: t\0")}, names="t.yaml"),
    Case("target with negative bits", ["compile", "m.yaml", "--target", "t.yaml"],
         {"m.yaml": WTA, "t.yaml": TINY.replace("weight_bits: 8", "weight_bits: -8")},
         names="t.yaml", says="weight_bits"),
    Case("target with 10**400 cores", ["compile", "m.yaml", "--target", "t.yaml"],
         {"m.yaml": WTA, "t.yaml": TINY.replace("cores_per_chip: 2", f"cores_per_chip: {BIG}")},
         names="t.yaml", says="cores_per_chip"),
    # --- chip images ---
    Case("truncated chip image", ["run", "cut.nmc", "-b", "emulator", "-q"], {"m.yaml": WTA},
         names="cut.nmc", make=_image),
    Case("empty chip image", ["run", "empty.nmc", "-b", "emulator", "-q"], {"m.yaml": WTA},
         names="empty.nmc", make=_image),
    Case("a model renamed .nmc", ["run", "m.nmc", "-b", "emulator", "-q"], {"m.nmc": WTA},
         names="m.nmc"),
    # --- flags and paths ---
    Case("unknown backend", ["run", "m.yaml", "-b", "loihi"], {"m.yaml": WTA}, names="nmc",
         says="loihi"),
    Case("negative tolerance", ["parity", "m.yaml", "--tolerance", "abs=-1"], {"m.yaml": WTA},
         names="nmc", says="abs"),
    Case("NaN tolerance", ["parity", "m.yaml", "--tolerance", "rel=nan"], {"m.yaml": WTA},
         names="nmc", says="rel"),
    Case("plot as .bmp", RUN + ["--plot", "r.bmp"], {"m.yaml": WTA}, names="r.bmp"),
    Case("-o names a folder", RUN + ["-o", "d.npz"], {"m.yaml": WTA}, names="d.npz",
         make=lambda f: os.mkdir(f / "d.npz")),
    Case("-o in a missing folder", RUN + ["-o", "no/r.npz"], {"m.yaml": WTA}, names="no/r.npz"),
    Case("-o is a character device", RUN + ["-o", "/dev/null"], {"m.yaml": WTA},
         names="/dev/null"),
    Case("--json is the model", ["compile", "m.json", "--json", "m.json"],
         {"m.json": '{"format": "nmcompile/v1", "name": "j", "populations": {}}'},
         names="m.json", says="input"),
]


@pytest.fixture
def alarm():
    """A hang fails the test instead of blocking the suite."""
    def expired(signum, frame):
        raise TimeoutError("nmc hung")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _snapshot(folder: Path) -> dict:
    return {p.name: (p.lstat().st_mtime_ns, p.lstat().st_size) for p in folder.iterdir()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_exit_2_in_one_located_line(case, tmp_path, monkeypatch, capsys, alarm):
    monkeypatch.chdir(tmp_path)
    for name, content in case.files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    if case.make:
        case.make(tmp_path)
    capsys.readouterr()
    before = _snapshot(tmp_path)
    code = main(case.argv)
    out, err = capsys.readouterr()
    first = err.splitlines()[0] if err else ""
    assert code == 2, f"exit {code}: {err}"
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert first.startswith(case.names + (":" if case.names != "nmc" else "")), first
    assert case.says in first, first
    assert _snapshot(tmp_path) == before  # nothing written, nothing half-written, nothing lost


def test_the_table_holds_at_least_the_issue_cases_and_thirty_more():
    assert len(CASES) >= 17 + 30
