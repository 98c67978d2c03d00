"""The emulator on several processes (MPI, DESIGN §9) gives what one process gives: spikes,
probed registers, overflow counts and the strict-mode stop, bit for bit, for R = 1, 2, 3
processes (each on 1 or 2 threads), started by `nmc run --ranks R` and by mpiexec itself.

Each case starts real processes through the mpiexec of the mpich wheel: a few seconds each,
so few cases, chosen to cover every model, blocks of several steps and summed inputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.frontends.savemodel import save_model
from nmcompile.result import Result
from same_result import assert_same_result
from strategies import networks

pytest.importorskip("mpi4py")
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
MPIEXEC = str(Path(sys.executable).parent / "mpiexec")
MODELS = ("lif", "izhikevich", "adaptive_lif")
# (processes, threads): one process through mpiexec, two, three with two threads each
CONFIGS = ((1, 2), (2, 1), (3, 2))


def nmc(*argv: str, mpiexec: int | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nmcompile.cli", *argv]
    if mpiexec:
        command = [MPIEXEC, "-n", str(mpiexec), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def in_process(model: str) -> Result:
    from nmcompile.frontends.modelfile import load_model
    net = load_model(model)
    return driver.run(net, "emulator", target="loihi2", options={"threads": 1})


def assert_same(one: Result, path: Path, processes: int) -> None:
    other = Result.load(str(path))
    assert other.meta["processes"] == processes
    assert_same_result(one, other)


def check_model(model: Path, tmp_path: Path, cores: int) -> None:
    one = in_process(str(model))
    for processes, threads in CONFIGS:
        processes = min(processes, cores)
        out = tmp_path / f"r{processes}t{threads}.npz"
        done = nmc("run", str(model), "-b", "emulator", "--ranks", str(processes), "--threads",
                   str(threads), "-q", "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert_same(one, out, processes)


@pytest.mark.parametrize("name", ["mixed_models.yaml", "lif_variants.yaml", "recurrent_ei.yaml"])
def test_processes_are_bit_identical_on_examples(name, tmp_path):
    from nmcompile.frontends.modelfile import load_model
    net = load_model(str(EXAMPLES / name))
    check_model(EXAMPLES / name, tmp_path, cores=sum(not p.is_source
                                                     for p in net.populations.values()))


def test_processes_are_bit_identical_on_generated_networks(tmp_path_factory):
    drawn = []

    @settings(max_examples=3, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(net=networks(models=MODELS, variants=True, currents=True, max_lif=4, max_size=12,
                        steps=(40, 80)))
    def check(net):
        folder = tmp_path_factory.mktemp("generated")
        save_model(net, str(folder / "net.yaml"))
        lifs = sum(not p.is_source for p in net.populations.values())
        check_model(folder / "net.yaml", folder, cores=lifs)
        drawn.append(lifs)

    check()
    assert max(drawn) >= 3  # three processes ran at least once


def test_mpiexec_itself_and_rank_zero_alone_writes(tmp_path):
    model = EXAMPLES / "recurrent_ei.yaml"
    out = tmp_path / "out.npz"
    done = nmc("run", str(model), "-b", "emulator", "-o", str(out), mpiexec=2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("recurrent-ei:") == 1  # one summary line, rank 0's
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]
    assert_same(in_process(str(model)), out, 2)


def test_strict_mode_stops_every_process_at_the_same_overflow(tmp_path):
    model = EXAMPLES / "recurrent_ei.yaml"  # v saturates in E
    alone = nmc("run", str(model), "-b", "emulator", "--strict", "-q")
    assert alone.returncode == 1 and "saturated at step" in alone.stderr
    for processes in (2,):
        done = nmc("run", str(model), "-b", "emulator", "--strict", "-q", "--ranks",
                   str(processes))
        assert (done.returncode, done.stderr) == (1, alone.stderr)


@pytest.mark.parametrize("argv, mpiexec, message", [
    (["run", "WTA", "-b", "emulator", "--ranks", "3"], None,
     "nmc: 3 processes, but the network's neurons fill only 2 core(s) of the target: give at "
     "most 2\n"),
    (["run", "WTA", "-b", "brian2", "--ranks", "2"], None,
     "nmc: only emulator and emulator-float run on several processes; run backend brian2 "
     "without --ranks\n"),
    (["run", "WTA", "-b", "brian2"], 2,
     "nmc: only emulator and emulator-float run on several processes; run backend brian2 "
     "without mpiexec or --ranks\n"),
    (["run", "WTA", "-b", "emulator", "--ranks", "2"], 2,
     "nmc: --ranks starts the processes itself: give it without mpiexec, or mpiexec without "
     "--ranks\n"),
    (["compile", "WTA"], 2,
     "nmc: under mpiexec only `nmc run … --backend emulator` (or emulator-float) runs\n"),
])
def test_what_cannot_run_on_several_processes_is_refused(argv, mpiexec, message, tmp_path):
    argv = [str(EXAMPLES / "wta.yaml") if a == "WTA" else a for a in argv]
    done = nmc(*argv, mpiexec=mpiexec)
    assert (done.returncode, done.stderr) == (2, message)
    assert os.listdir(tmp_path) == []
