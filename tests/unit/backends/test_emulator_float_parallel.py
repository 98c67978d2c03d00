"""`emulator-float` on several threads and MPI processes gives what it gives on one thread
(DESIGN §9), which is Brian2's result (tests/unit/backends/test_emulator_float.py): every
spike and every probed value, bit for bit, on the examples and on generated networks of
every model, LIF variant and current, some with delays of several steps (blocks).

Threads run in this process (worker counts above the machine's cores share its threads: the
split, which is what could break, is the same). Processes are real ones, started through the
mpich wheel's mpiexec: each start costs seconds, so one start per (processes, threads) runs
every network (a script under mpiexec, as `nmc run` calls the backend), and `nmc run
--ranks` and `mpiexec … nmc run` run one example each."""
from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.backends.emulator_float.engine import min_delay
from nmcompile.frontends.modelfile import load_model
from nmcompile.frontends.savemodel import save_model
from nmcompile.parity.compare import compare_bit_exact
from nmcompile.result import Result
from same_result import assert_same_result
from strategies import networks
from test_emulator_threads import _examples, later

MODELS = ("lif", "izhikevich", "adaptive_lif")
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
# (processes, threads): two processes, and three with two threads each
CONFIGS = ((2, 1), (3, 2))
# every rank runs each model file given on the threads given; rank 0 writes <out>/<k>.npz
UNDER_MPIEXEC = """
import sys
from nmcompile import driver
from nmcompile.frontends.modelfile import load_model
from nmcompile.mpi import launched_rank
threads, out, models = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
for k, model in enumerate(models):
    result = driver.run(load_model(model), "emulator-float", options={"threads": threads})
    if launched_rank() == 0:
        result.save(f"{out}/{k}.npz")
"""


def run(net, threads: int) -> Result:
    return driver.run(net, "emulator-float", options={"threads": threads})


@lru_cache
def generated(count: int) -> tuple:
    """`count` networks drawn (derandomized) of every model with LIF variants and currents,
    every third with delays 1-4 steps longer: blocks of several steps (drawn once, for the
    thread and the process tests)."""
    drawn = []

    @settings(max_examples=count, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(net=networks(models=MODELS, variants=True, currents=True, max_lif=4, max_size=12,
                        steps=(40, 80)))
    def draw(net):
        drawn.append(later(net, 1 + net.seed % 4) if net.seed % 3 == 0 else net)

    draw()
    return tuple(drawn)


def spike_count(result: Result) -> int:
    return sum(len(t) for t, _ in result.spikes.values())


def test_threads_are_bit_identical_on_generated_networks():
    nets = generated(25)
    seen = {"spikes": 0, "blocks": 0, "split": 0}
    for net in nets:
        one = run(net, 1)
        seen["spikes"] += spike_count(one) > 0
        seen["blocks"] += min_delay(net) > 1
        for threads in (2, 3):
            other = run(net, threads)
            seen["split"] += other.meta["threads"] == threads
            assert_same_result(one, other)
    # the draws must exercise what could differ: spikes, multi-step blocks, real splits
    assert seen["spikes"] >= 15 and seen["blocks"] >= 5 and seen["split"] >= 40, seen


@pytest.mark.parametrize("name, net", list(_examples()), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_threads_are_bit_identical_on_the_examples(name, net):
    one = run(net, 1)
    assert spike_count(one) > 0
    for threads in (2, 3):
        assert_same_result(one, run(net, threads))
    several = run(later(net, 2), 3)  # blocks of three steps, on three threads
    assert_same_result(run(later(net, 2), 1), several)


def test_processes_are_bit_identical_on_examples_and_generated_networks(tmp_path):
    pytest.importorskip("mpi4py")
    from test_emulator_ranks import MPIEXEC
    models = [EXAMPLES / name for name in ("mixed_models.yaml", "lif_variants.yaml")]
    nets = [net for net in generated(25)  # three processes need three neurons
            if sum(p.size for p in net.neuron_populations()) >= 3][:6]
    for k, net in enumerate(nets):
        models.append(tmp_path / f"generated{k}.yaml")
        save_model(net, str(models[-1]))
    assert sum(min_delay(net) > 1 for net in nets) >= 2  # blocks of several steps, exchanged
    ones = [run(load_model(str(model)), 1) for model in models]
    for processes, threads in CONFIGS:
        out = tmp_path / f"r{processes}t{threads}"
        out.mkdir()
        done = subprocess.run([MPIEXEC, "-n", str(processes), sys.executable, "-c",
                               UNDER_MPIEXEC, str(threads), str(out), *map(str, models)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        for k, one in enumerate(ones):
            other = Result.load(str(out / f"{k}.npz"))
            assert (other.meta["processes"], other.meta["threads"]) == (processes, threads)
            assert_same_result(one, other)


def test_nmc_run_on_ranks_and_under_mpiexec_as_brian2(tmp_path):
    """`nmc run --ranks 3 --threads 2` gives Brian2's spikes and probed values to the last
    bit; `mpiexec -n 2 nmc run` the same, rank 0 alone writing and reporting."""
    pytest.importorskip("mpi4py")
    from test_emulator_ranks import nmc
    model = EXAMPLES / "recurrent_ei.yaml"
    net = load_model(str(model))
    brian2 = get_backend("brian2")
    if brian2.missing_dependency():
        pytest.skip(brian2.missing_dependency())
    reference = driver.run(net, "brian2")
    ranks = tmp_path / "ranks"
    ranks.mkdir()
    done = nmc("run", str(model), "-b", "emulator-float", "--ranks", "3", "--threads", "2",
               "-q", "-o", str(ranks / "out.npz"))
    assert done.returncode == 0, done.stderr
    three = Result.load(str(ranks / "out.npz"))
    assert (three.meta["processes"], three.meta["threads"]) == (3, 2)
    pair = compare_bit_exact(net, "brian2", reference, "emulator-float", three, net.steps)
    assert pair.verdict == "pass" and pair.spikes_compared > 1000, (pair.first, pair.details)
    under = tmp_path / "mpiexec"
    under.mkdir()
    done = nmc("run", str(model), "-b", "emulator-float", "-o", str(under / "out.npz"),
               mpiexec=2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("recurrent-ei:") == 1  # one summary line, rank 0's
    assert os.listdir(under) == ["out.npz"]
    two = Result.load(str(under / "out.npz"))
    assert two.meta["processes"] == 2
    assert_same_result(three, two)
