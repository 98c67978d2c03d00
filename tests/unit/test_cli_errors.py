"""`nmc` refuses bad usage before any work, in one line without a traceback: unwritable outputs,
flags the backend has no use for, runs too long for memory, chip images given as models, and
internal errors (exit 1, one line, the traceback only with --debug)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nmcompile.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WTA = str(EXAMPLES / "wta.yaml")


def nmc(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_an_unexpected_exception_is_one_line_and_exit_1(monkeypatch, capsys):
    def boom(net):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr("nmcompile.summary.one_line_summary", boom)
    assert nmc(capsys, "validate", WTA) == (
        1, "", "nmc: internal error: ZeroDivisionError: division by zero (run with --debug for "
               "the traceback; please report it)\n")
    assert main(["--debug", "validate", WTA]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_errors_without_a_file_are_prefixed_nmc(capsys):
    assert nmc(capsys, "run", WTA, "-b", "nosuch") == (
        2, "", "nmc: unknown backend 'nosuch'; choose from brian2, emulator, emulator-float, lava, lava-fixed\n")


@pytest.mark.parametrize("argv, message", [
    (["-b", "emulator", "--code-target", "cython"],
     "nmc: --code-target is a brian2 option; backend emulator has none"),
    (["-b", "lava", "--strict"], "nmc: --strict is an emulator option; backend lava has none"),
    (["-b", "lava-fixed", "--strict"],
     "nmc: --strict is an emulator option; backend lava-fixed has none"),
    (["-b", "brian2", "--threads", "2"],
     "nmc: --threads is an emulator option; backend brian2 has none"),
    (["-b", "brian2", "--target", "nosuch"], "nmc: --target is for fixed-point backends "
     "(emulator, lava-fixed); brian2 runs in floating point"),
    (["-b", "emulator", "-o", "out.json"],
     "out.json: -o writes a result: name the file *.npz"),
])
def test_flags_the_backend_cannot_use_are_refused(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert nmc(capsys, "run", WTA, *argv) == (2, "", message + "\n")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("argv", [
    ["compile", WTA, "-o", "ok.nmc", "--json", "nodir/r.json"],
    ["compile", WTA, "-o", "nodir/x.nmc", "--json", "ok.json"],
    ["parity", WTA, "--backends", "emulator,lava-fixed", "--json", "nodir/r.json"],
    ["parity", WTA, "--backends", "emulator,lava-fixed", "--junit", "nodir/r.xml"],
    ["run", WTA, "-b", "emulator", "--plot", "nodir/r.png"],
])
def test_every_output_is_checked_before_any_work(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = nmc(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("nodir/") and err.endswith(": cannot write: folder nodir does not exist\n")
    assert os.listdir(tmp_path) == []  # no image, no report, nothing half-written


def test_an_output_that_is_a_folder_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("adir.json")
    assert nmc(capsys, "compile", WTA, "--json", "adir.json") == (
        2, "", "adir.json: cannot write: it is a folder\n")


def test_compile_json_is_written_whole(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = nmc(capsys, "compile", WTA, "--json", "r.json", "-o", "wta.nmc")
    assert code == 0 and out.startswith("winner-take-all: ")
    assert json.loads(Path("r.json").read_text())["model"] == "winner-take-all"
    assert sorted(os.listdir(tmp_path)) == ["r.json", "wta.nmc"]  # no temporary file left


def test_steps_beyond_the_cap_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", WTA, "-b", "emulator", "--steps", "1000000000000"])
    assert info.value.code == 2
    assert "argument --steps: must be an integer in 1..2147483647, got 1000000000000" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["run", WTA, "-b", "emulator"], ["run", WTA, "-b", "brian2"],
    ["parity", WTA, "--backends", "brian2,emulator"],
])
def test_a_run_too_long_for_memory_is_refused_before_it_starts(command, capsys, monkeypatch):
    monkeypatch.setattr("nmcompile.memory.available_memory", lambda: 2**30)  # any machine
    code, out, err = nmc(capsys, *command, "--steps", "100000000")
    assert (code, out) == (2, "")
    assert err.startswith("nmc: 100,000,000 steps of winner-take-all on ")
    assert err.endswith(" GiB, but only 1.0 GiB of memory is available: run fewer steps\n")


def test_images_share_the_run_checks(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compile", WTA, "-o", "wta.nmc"]) == 0
    code, _, err = nmc(capsys, "run", "wta.nmc", "-b", "emulator", "--steps", "2147483647")
    assert code == 2 and " GiB of memory is available" in err
    os.rename("wta.nmc", "WTA.NMC")  # the extension in any case
    code, out, _ = nmc(capsys, "run", "WTA.NMC", "-b", "emulator", "-q", "--steps", "20")
    assert code == 0 and out.startswith("winner-take-all: 20 steps on emulator: ")


@pytest.mark.parametrize("command", ["validate", "info", "compile"])
def test_a_chip_image_given_as_model_says_what_it_is(command, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compile", WTA, "-o", "wta.nmc"]) == 0
    capsys.readouterr()
    code, _, err = nmc(capsys, command, "wta.nmc")
    assert code == 2 and err == (
        "wta.nmc: this is a chip image (from nmc compile -o), not a model file: run it with "
        "`nmc run wta.nmc --backend emulator` (or lava-fixed); validate, info, compile and "
        "parity read the model's YAML/JSON\n")


def test_a_folder_named_like_an_image(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("dir.nmc")
    assert nmc(capsys, "run", "dir.nmc", "-b", "emulator") == (
        2, "", "dir.nmc: this is a folder, not a chip image\n")


@pytest.mark.parametrize("key", ["abs", "rel", "van_rossum", "tau_ms"])
def test_a_tolerance_key_without_value(key, capsys):
    assert nmc(capsys, "parity", WTA, "--tolerance", key) == (
        2, "", f"nmc: --tolerance: {key} needs a value, e.g. {key}=2\n")


def test_fifty_thousand_levels_of_nesting_neither_recurse_nor_crash(tmp_path):
    """The real script (a segfault would kill a subprocess, not this test)."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    nmc_script = Path(sys.executable).parent / "nmc"
    done = subprocess.run([str(nmc_script), "validate", str(deep)], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"{deep}:1: nested deeper than 100 levels\n"
