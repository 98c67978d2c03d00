"""The emulator on several threads gives what it gives on one (DESIGN §9): spikes, probed
registers, overflow counts and the strict-mode stop, bit for bit.

Worker counts above the machine's cores are run too: workers then share threads, and the
split of the neurons (and synapse tables), which is what could break, is the same."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from nmcompile import driver
from nmcompile.backends.emulator.engine import emulate
from nmcompile.backends import get_backend
from nmcompile.diagnostics import RunError
from same_result import assert_same_result as assert_same
from strategies import networks

THREADS = (2, 3, 5)
MODELS = ("lif", "izhikevich", "adaptive_lif")


def quantized(net):
    return driver.prepare(net, get_backend("emulator"), "loihi2")


def later(net, extra: int):
    """`net` with every delay `extra` steps longer: blocks of several steps."""
    return replace(net, projections=tuple(replace(p, delay=p.delay + extra)
                                          for p in net.projections))


def test_threads_are_bit_identical_on_generated_networks():
    seen = {"spikes": 0, "summed": 0, "blocks": 0}

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(net=networks(models=MODELS, variants=True, currents=True, max_lif=4, max_size=12))
    def check(net):
        if net.seed % 3 == 0:
            net = later(net, 1 + net.seed % 4)
            seen["blocks"] += 1
        qnet = quantized(net)
        if net.seed % 2:  # inputs summed per projection, delay and post, then floored
            qnet = replace(qnet, projections=tuple(
                replace(p, weight_exp=-1 - net.seed % 3) if k % 2 == 0 else p
                for k, p in enumerate(qnet.projections)))
        seen["summed"] += any(p.weight_exp < 0 for p in qnet.projections)
        one = emulate(qnet, net.steps, threads=1)
        seen["spikes"] += any(len(t) for t, _ in one.spikes.values())
        for threads in THREADS:
            assert_same(one, emulate(qnet, net.steps, threads=threads))

    check()
    # the draws must exercise what could differ: spikes, summed inputs, multi-step blocks
    assert seen["spikes"] >= 10 and seen["summed"] >= 3 and seen["blocks"] >= 3, seen


def test_strict_mode_stops_at_the_same_overflow_on_any_thread_count():
    found = []

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(net=networks(models=MODELS, variants=True, max_lif=4, max_size=12))
    def check(net):
        qnet = quantized(net)
        louder = replace(qnet, projections=tuple(replace(p, weight_exp=p.weight_exp + 6)
                                                 for p in qnet.projections))
        messages = []
        for threads in (1,) + THREADS:
            try:
                emulate(louder, net.steps, strict=True, threads=threads)
                messages.append(None)
            except RunError as err:
                messages.append(str(err))
        assert len(set(messages)) == 1, messages
        if messages[0]:
            found.append(messages[0])

    check()
    assert len(found) >= 10 and len({m.split(":")[1] for m in found}) >= 2, found


def _examples():
    from example_scripts import EXAMPLES, load_example
    from nmcompile.frontends.modelfile import load_model
    for path in sorted(EXAMPLES.glob("*.yaml")):
        yield path.name, load_model(str(path))
    mcm = load_example("microcircuit", "microcircuit", "microcircuit.py")
    run = load_example("microcircuit", "microcircuit_run", "run.py")
    yield "microcircuit", run.build(mcm.derive(0.02, 0.1, "poisson"), 1, 1000).build()
    lsm = load_example("reservoir", "reservoir_run", "run.py").lsm
    yield "reservoir", lsm.build(seed=0, per_class=2).net


@pytest.mark.parametrize("name, net", list(_examples()), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_threads_are_bit_identical_on_the_examples(name, net):
    qnet = quantized(net)
    one = emulate(qnet, net.steps, threads=1)
    assert sum(len(t) for t, _ in one.spikes.values()) > 0
    for threads in (2, 3):
        assert_same(one, emulate(qnet, net.steps, threads=threads))


def test_default_threads_follow_the_work_of_a_step(monkeypatch):
    """By default a small network runs on one thread (a parallel region per block would cost
    more than it saves), a big one on every core, and a request is honoured up to one thread
    per neuron."""
    from nmcompile.backends.emulator import partition
    monkeypatch.setattr(partition, "available_cores", lambda: 4)
    assert partition.worker_count(None, 4_000, 319_452) == 1  # CUBA: slower on 2 threads
    assert partition.worker_count(None, 7_717, 29_056_953) == 4  # microcircuit at N 0.1
    assert partition.worker_count(None, 25_000, 0) == 2
    assert partition.worker_count(3, 2) == 2
