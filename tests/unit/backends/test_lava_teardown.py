"""Every Lava run ends with no worker process left: after success, a worker's error, Ctrl-C."""
from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from conftest import forked_descendants

from nmcompile.backends.lava import LavaFloatBackend
from nmcompile.backends.lava.lowering import build_fixed
from nmcompile.backends.lava.session import run_graph
from nmcompile.diagnostics import RunError
from nmcompile.ir import (LIF, FixedLIF, FixedProjection, Network, Population, Projection,
                          QuantizedNetwork, SpikeArray)

pytestmark = pytest.mark.lava


def small_net(delay: int) -> Network:
    pops = {"cue": Population(name="cue", size=2, model=SpikeArray(neurons=np.array([0, 1]),
                                                                   steps=np.array([0, 3]))),
            "n": Population(name="n", size=2, model=LIF(tau_syn=5.0, tau_mem=10.0, v_th=1.0))}
    proj = Projection(name="p", pre="cue", post="n", pre_idx=np.array([0, 1], np.int32),
                      post_idx=np.array([0, 1], np.int32), weight=np.array([1.5, 1.5]),
                      delay=np.array([delay, 2], np.int32))
    return Network(name="small", populations=pops, projections=(proj,), steps=20)


def test_a_clean_run_leaves_no_worker():
    LavaFloatBackend().run(small_net(1), 20, options={})
    assert forked_descendants() == []


def test_a_worker_error_fails_the_run_and_leaves_no_worker():
    """Lava's bit-accurate DelayDense raises inside its worker for delays > 63 (the backend's
    capability check refuses such networks; lowering directly bypasses it)."""
    net = small_net(70)
    proj = net.projections[0]
    qnet = QuantizedNetwork(
        network=net, target="hand",
        populations={"n": FixedLIF(du=100, dv=200, vth=100, bias_mant=0, bias_exp=0, scale=64.0)},
        projections=(FixedProjection(name="p", pre="cue", post="n", pre_idx=proj.pre_idx,
                                     post_idx=proj.post_idx, weight_mant=np.array([100, 100]),
                                     delay=proj.delay, weight_exp=0, num_weight_bits=8,
                                     sign_mode="mixed"),))
    with pytest.raises(RunError, match="between 0 and 63"):
        run_graph(build_fixed(qnet, 20), 20, "fixed_pt", np.int64)
    assert forked_descendants() == []


class SignalOnFirstPoll:
    """The time module as the Lava session sees it, except that the session's first wait for
    the running workers sends this process a real SIGINT: Ctrl-C lands mid-run, wherever
    compiling and starting the workers have got to by then. (A timer fired after a fixed
    second; on a loaded machine Lava was still forking its workers, the KeyboardInterrupt was
    raised inside logging's at-fork handler, where Python ignores exceptions ("Exception
    ignored in: _releaseLock"), and the run went on for hours. `nmc` defers signals while
    Lava starts its workers, nmcompile.signals.deferred, so it does not lose them.)"""

    def __init__(self):
        self.sent = False

    def __getattr__(self, name):
        return getattr(time, name)

    def sleep(self, seconds):
        if not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(seconds)


def test_ctrl_c_mid_run_leaves_no_worker(monkeypatch):
    from nmcompile.backends.lava import session
    clock = SignalOnFirstPoll()
    monkeypatch.setattr(session, "time", clock)
    with pytest.raises(KeyboardInterrupt):
        LavaFloatBackend().run(small_net(1), 10_000_000, options={})  # hours if not stopped
    assert clock.sent
    assert forked_descendants() == []
