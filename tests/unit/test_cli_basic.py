"""`nmc --version`, `nmc validate`, `nmc info` and their exit codes (DESIGN §6)."""
from __future__ import annotations

from pathlib import Path

import pytest

from nmcompile import __version__
from nmcompile.cli import main
from nmcompile.frontends.modelfile import load_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"nmcompile {__version__}\n"


@pytest.mark.parametrize("argv", [[], ["validate"], ["frobnicate", "x.yaml"],
                                  ["validate", "a.yaml", "b.yaml"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: nmc" in capsys.readouterr().err


@pytest.mark.parametrize("name", NAMES)
def test_validate_ok(name, monkeypatch, capsys):
    monkeypatch.chdir(EXAMPLES)
    assert main(["validate", name]) == 0
    out, err = capsys.readouterr()
    net = load_model(name)
    assert out.startswith(f"{name}: ok: {net.name}: {len(net.populations)} populations, ")
    assert f" {net.n_neurons:,} neurons, {len(net.projections)} projections, " in out
    assert f" {net.n_synapses:,} synapses, " in out and out.count("\n") == 1
    assert err == ""


def test_validate_summaries_of_examples(monkeypatch, capsys):
    monkeypatch.chdir(EXAMPLES)
    for name in NAMES:
        assert main(["validate", name]) == 0
    out = capsys.readouterr().out
    assert "wta.yaml: ok: winner-take-all: 3 populations, 9 neurons, 3 projections, 12 synapses, " \
           "delays 1, cyclic" in out
    assert "grid.yaml: ok: neural-grid: 2 populations, 148 neurons, 3 projections, " \
           "1,160 synapses, delays 1-2, cyclic" in out
    assert "feedforward.yaml: ok: feedforward: 3 populations, 95 neurons, 2 projections, " in out
    assert "delays 1-4, acyclic" in out


def test_info_wta(monkeypatch, capsys):
    monkeypatch.chdir(EXAMPLES)
    assert main(["info", "wta.yaml"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "network winner-take-all: dt 1.0 ms, 300 steps, seed 7"
    assert lines[1] == "  neurons 9, synapses 12, delays 1 steps, graph has cycles"
    assert lines[2] == "populations:"
    assert lines[3].split() == ["stim", "poisson", "4", "rate", "20-200", "Hz"]
    assert lines[5].split()[:3] == ["inh", "lif", "1"]
    assert lines[6] == "projections:"
    assert lines[9].split()[:5] == ["inh_exc", "inh", "->", "exc", "4"]
    assert lines[-1] == "probes: exc.v"


@pytest.mark.parametrize("name, neurons, synapses, delays, cycles", [
    ("feedforward.yaml", "95", "690", "1-4", "has no cycles"),
    ("grid.yaml", "148", "1,160", "1-2", "has cycles"),
    ("recurrent_ei.yaml", "150", None, "1-5", "has cycles"),
])
def test_info_totals(name, neurons, synapses, delays, cycles, monkeypatch, capsys):
    monkeypatch.chdir(EXAMPLES)
    assert main(["info", name]) == 0
    totals = capsys.readouterr().out.splitlines()[1]
    net = load_model(name)
    assert totals == (f"  neurons {neurons}, synapses {synapses or format(net.n_synapses, ',')}, "
                      f"delays {delays} steps, graph {cycles}")


def test_missing_model_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["info", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}: no such model file: {missing}\n"


@pytest.mark.parametrize("backend", [
    "brian2", "emulator", pytest.param("lava-fixed", marks=pytest.mark.lava)])
def test_a_run_into_a_log_writes_nothing_but_its_result_line(backend, tmp_path):
    """No progress bar (`\\r` lines) and no library warning when stderr is not a terminal."""
    import subprocess
    import sys
    nmc_script = Path(sys.executable).parent / "nmc"
    done = subprocess.run([str(nmc_script), "run", str(EXAMPLES / "wta.yaml"), "-b", backend,
                           "--steps", "250"], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(f"winner-take-all: 250 steps on {backend}: ")


def test_a_reader_that_goes_away_is_no_error():
    """`nmc info MODEL | head -1`: the pipe closes before nmc writes; nmc exits as a shell's
    SIGPIPE (141), quietly, with no internal error."""
    import subprocess
    import sys
    nmc_script = Path(sys.executable).parent / "nmc"
    proc = subprocess.Popen([str(nmc_script), "info", str(EXAMPLES / "recurrent_ei.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before nmc has started: its first write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""
