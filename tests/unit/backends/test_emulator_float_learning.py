"""Plastic projections on emulator-float: the same spikes, probed values and learned weights
(at the end and every sample) as the brian2 backend, bit for bit, on STDP and reward-
modulated STDP networks where plastic and ordinary input meet in one sum (its order shows in
the last bits), on one thread and two; and a refusal of several MPI processes."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_brian2_learning import rstdp_network, run, stdp_network

from nmcompile.backends import get_backend
from nmcompile.backends.emulator_float import EmulatorFloatBackend
from nmcompile.ir import Network
from nmcompile.parity.compare import compare_bit_exact

EMULATOR_FLOAT = EmulatorFloatBackend()


@pytest.fixture(scope="module")
def brian2():
    backend = get_backend("brian2")
    if backend.missing_dependency():
        pytest.skip(backend.missing_dependency())
    return backend


def assert_identical(net: Network, reference, got) -> None:
    pair = compare_bit_exact(net, "brian2", reference, "emulator-float", got, net.steps)
    assert pair.verdict == "pass", (pair.first, pair.details, pair.note)
    assert pair.details["weight_mismatches"] == 0
    assert set(got.weights) == {p.name for p in net.plastic_projections()}
    initial = {p.name: p.weight for p in net.projections}
    for name, weights in reference.weights.items():
        assert np.array_equal(got.weights[name], weights)
        assert np.count_nonzero(weights != initial[name]) > weights.size // 2   # they learned
    every = {p.projection: p.every for p in net.weight_probes}
    for name, samples in reference.weight_traces.items():
        assert samples.shape[0] == net.steps // every[name]
        assert np.array_equal(got.weight_traces[name], samples)


@pytest.mark.parametrize("threads", [1, 2])
def test_stdp_learns_the_weights_and_spikes_brian2_does(brian2, threads):
    net = stdp_network(seed=1)
    reference = run("brian2", net)
    got = EMULATOR_FLOAT.run(net, net.steps, options={"threads": threads})
    assert got.meta["threads"] == threads
    assert_identical(net, reference, got)


@pytest.mark.parametrize("t_epoch", [1, 2])
def test_reward_modulated_stdp_learns_the_weights_and_spikes_brian2_does(brian2, t_epoch):
    net = rstdp_network(seed=2, t_epoch=t_epoch)
    reference = run("brian2", net)
    assert reference.spikes["critic"][0].size > 0      # rewards do come
    assert_identical(net, reference, EMULATOR_FLOAT.run(net, net.steps, options={}))


def test_several_processes_are_refused(tmp_path):
    """Under mpiexec -n 2: a one-line input error naming the projections, on every rank, for
    both emulators."""
    pytest.importorskip("mpi4py")
    from test_emulator_ranks import MPIEXEC

    script = tmp_path / "plastic.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r})
        from test_brian2_learning import stdp_network
        from nmcompile import driver
        from nmcompile.diagnostics import InputError
        for backend in ("emulator-float", "emulator"):
            try:
                driver.run(stdp_network(steps=10), backend)
            except InputError as error:
                print(error)
    """))
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for backend in ("emulator-float", "emulator"):
        assert done.stdout.count(f"{backend} runs plastic projections (noise_out, hidden_out) "
                                 "on one process: drop --ranks") == 2, done.stdout
