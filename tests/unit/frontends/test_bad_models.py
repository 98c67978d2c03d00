"""Every bad model file in tests/golden/bad_models gives exactly its NAME.err line, exit code 2,
and no traceback; the real `nmc` script does the same, and shows the traceback with --debug."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nmcompile.cli import main

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "bad_models"
MODELS = sorted(p.name for p in GOLDEN.iterdir() if p.suffix in (".yaml", ".json"))


def test_enough_distinct_bad_models():
    assert len(MODELS) >= 30
    assert all((GOLDEN / model).with_suffix(".err").is_file() for model in MODELS)
    orphans = {p.stem for p in GOLDEN.glob("*.err")} - {Path(m).stem for m in MODELS}
    assert not orphans


@pytest.mark.parametrize("model", MODELS)
def test_bad_model_message(model, monkeypatch, capsys):
    monkeypatch.chdir(GOLDEN)  # the file part of the message is the path as given
    code = main(["validate", model])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == (GOLDEN / model).with_suffix(".err").read_text(encoding="utf-8")
    assert "Traceback" not in err + out
    assert out == ""


def test_info_rejects_bad_model_too(monkeypatch, capsys):
    monkeypatch.chdir(GOLDEN)
    assert main(["info", "delay_zero.yaml"]) == 2
    assert capsys.readouterr().err == (GOLDEN / "delay_zero.err").read_text(encoding="utf-8")


def test_missing_model_file(monkeypatch, capsys):
    monkeypatch.chdir(GOLDEN)
    assert main(["validate", "no_such_model.yaml"]) == 2
    assert capsys.readouterr().err == "no_such_model.yaml: no such model file: no_such_model.yaml\n"


def test_synapses_beyond_memory_refused_before_allocating(tmp_path, capsys):
    model = tmp_path / "huge.yaml"
    model.write_text("""format: nmcompile/v1
name: huge
populations:
  a: {model: lif, size: 2000000, tau_syn: 1, tau_mem: 1, v_th: 1}
  b: {model: lif, size: 2000000, tau_syn: 1, tau_mem: 1, v_th: 1}
projections:
  - {pre: a, post: b, connect: all_to_all, weight: 0.1}
""")
    start = time.perf_counter()
    code = main(["validate", str(model)])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2
    assert elapsed < 5.0  # 4·10¹² synapses: anything but an estimate would take hours
    assert err.startswith(f"{model}:7: projections[0]: about 4,000,000,000,000 synapses in all "
                          f"(this projection, a_to_b: about 4,000,000,000,000) need ~")
    assert "GiB" in err and "Traceback" not in err


def test_neurons_beyond_memory_refused(tmp_path, capsys):
    model = tmp_path / "many.yaml"
    model.write_text("format: nmcompile/v1\nname: many\npopulations:\n"
                     "  stim: {model: poisson, size: 100000000000000, rate: 5}\n")
    assert main(["validate", str(model)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{model}:4: populations.stim.size: 100,000,000,000,000 neurons need ~")
    assert "GiB" in err


def _nmc(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("nmc")
    return subprocess.run([str(script), *args], cwd=GOLDEN, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_console_script_bad_model_has_no_traceback():
    run = _nmc("validate", "delay_zero.yaml")
    assert run.returncode == 2
    assert run.stderr == (GOLDEN / "delay_zero.err").read_text(encoding="utf-8")
    assert "Traceback" not in run.stdout + run.stderr


def test_console_script_debug_shows_traceback():
    run = _nmc("--debug", "validate", "delay_zero.yaml")
    assert run.returncode == 2
    assert "Traceback (most recent call last)" in run.stderr
    assert run.stderr.rstrip().endswith((GOLDEN / "delay_zero.err").read_text().rstrip())
