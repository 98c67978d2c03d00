"""Damaged input files (issue 10): a connectivity `.npz`, a chip image `.nmc`, a target YAML
and a model YAML, truncated and bit-flipped, load through the Python API or raise InputError:
never another exception, never a hang (each load runs under a 20 s alarm)."""
from __future__ import annotations

import itertools
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_model
from nmcompile.passes.mapping.image import read_image, write_image
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.targets import load_target

ROOT = Path(__file__).resolve().parents[2]
CI = settings(derandomize=True, max_examples=80, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SECONDS = 20
_unique = itertools.count()


@contextmanager
def no_hang(seconds: int = SECONDS):
    """Fail, rather than wait forever, when a load blocks or loops."""
    def expired(signum, frame):
        raise TimeoutError(f"loading took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """`data` with a few bits flipped or bytes replaced — anywhere, or in the first 128 or last
    256 bytes, where zip archives keep their headers and directory — and maybe cut short."""
    out = bytearray(data)
    region = draw(st.sampled_from(["anywhere", "head", "tail"]))
    lo, hi = {"anywhere": (0, len(out)), "head": (0, min(128, len(out))),
              "tail": (max(0, len(out) - 256), len(out))}[region]
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(lo, hi - 1))
        if draw(st.booleans()):
            out[pos] ^= 1 << draw(st.integers(0, 7))
        else:
            out[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        del out[draw(st.integers(0, len(out))):]
    if bytes(out) == data:  # at least one change
        out = out[:-1]
    return bytes(out)


def loads_or_refuses(load, path: Path) -> None:
    """The one property: a result, or an InputError that names the file — nothing else."""
    with no_hang():
        try:
            load(str(path))
        except InputError as exc:
            assert str(path) in str(exc)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corrupt")
    np.savez(folder / "plain.npz", pre=np.arange(30) % 4, post=np.arange(30) // 8,
             weight=np.linspace(-1, 1, 30), delay=np.arange(30) % 3 + 1)
    np.savez_compressed(folder / "packed.npz", pre=np.arange(30) % 4, post=np.arange(30) // 8,
                        weight=np.linspace(-1, 1, 30), delay=np.arange(30) % 3 + 1)
    (folder / "uses_npz.yaml").write_text(
        "format: nmcompile/v1\nname: f\npopulations:\n"
        "  a: {model: poisson, size: 4, rate: 10}\n"
        "  b: {model: lif, size: 4, tau_syn: 4, tau_mem: 20, v_th: 1}\n"
        "projections:\n  - {pre: a, post: b, connect: {file: syn.npz}}\n")
    compiled = compile_network(load_model(ROOT / "examples" / "wta.yaml"), load_target("loihi2"))
    write_image(str(folder / "wta.nmc"), compiled.qnet, compiled.mapping)
    return folder


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


@CI
@given(st.sampled_from(["plain.npz", "packed.npz"]), st.data())
def test_a_damaged_connectivity_file(files, name, data):
    (files / "syn.npz").write_bytes(data.draw(damaged(_bytes(files / name))))
    loads_or_refuses(load_model, files / "uses_npz.yaml")


@CI
@given(st.data())
def test_a_damaged_chip_image(files, data):
    bad = files / f"bad{next(_unique)}.nmc"
    bad.write_bytes(data.draw(damaged(_bytes(files / "wta.nmc"))))
    loads_or_refuses(read_image, bad)
    bad.unlink()


@CI
@given(st.data())
def test_a_damaged_target_file(files, data):
    bad = files / f"target{next(_unique)}.yaml"  # a new name: targets are cached by path
    bad.write_bytes(data.draw(damaged((ROOT / "nmcompile" / "targets" / "loihi1.yaml")
                                      .read_bytes())))
    loads_or_refuses(load_target, bad)
    bad.unlink()


@CI
@given(st.sampled_from(["wta.yaml", "feedforward.yaml", "grid.yaml"]), st.data())
def test_a_damaged_model_file(files, example, data):
    bad = files / f"model{next(_unique)}.yaml"
    bad.write_bytes(data.draw(damaged((ROOT / "examples" / example).read_bytes())))
    loads_or_refuses(load_model, bad)
    bad.unlink()
