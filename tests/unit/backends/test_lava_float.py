"""The `lava` backend (floating_pt): registration, time alignment, agreement with the oracle."""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile.backends import get_backend
from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.backends.lava.lowering import use_dense
from nmcompile.backends.lava.session import MIN_CHUNK
from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Network, Poisson, Population, Probe, Projection, SpikeArray

pytestmark = pytest.mark.lava
INF = float("inf")


def projection(name, pre, post, pairs, weights, delays):
    pre_idx, post_idx = (np.array(x, dtype=np.int32) for x in zip(*pairs))
    return Projection(name=name, pre=pre, post=post, pre_idx=pre_idx, post_idx=post_idx,
                      weight=np.asarray(weights, dtype=np.float64),
                      delay=np.asarray(delays, dtype=np.int32))


def one_input_net(delay: int) -> Network:
    """One neuron fed by one spike at step 3: u jumps exactly at step 3 + delay."""
    pops = {"cue": Population(name="cue", size=1, model=SpikeArray(neurons=np.array([0]),
                                                                   steps=np.array([3]))),
            "n": Population(name="n", size=1, model=LIF(tau_syn=INF, tau_mem=INF, v_th=1.0))}
    return Network(name="one", populations=pops,
                   projections=(projection("cue_n", "cue", "n", [(0, 0)], [2.0], [delay]),),
                   probes=(Probe(population="n", var="u"), Probe(population="n", var="v")),
                   steps=3 + delay + 3)


def mixed_net() -> Network:
    """Recurrent + self projections, two projections into one population, delays 1-5, bias,
    refractory, a second component with no tie to the first, an unconnected source."""
    rng = np.random.default_rng(3)

    def rand_proj(name, pre, post, n_pre, n_post, p, dmax, mean):
        mask = rng.random((n_pre, n_post)) < p
        pairs = list(zip(*np.nonzero(mask)))
        return projection(name, pre, post, pairs, rng.normal(mean, 0.4, len(pairs)),
                          rng.integers(1, dmax + 1, len(pairs)))

    pops = {
        "bg": Population(name="bg", size=6, model=Poisson(rate=np.full(6, 150.0))),
        "exc": Population(name="exc", size=10, model=LIF(tau_syn=4.0, tau_mem=15.0, v_th=1.0,
                                                         bias=0.04)),
        "inh": Population(name="inh", size=4, model=LIF(tau_syn=2.0, tau_mem=INF, v_th=0.8,
                                                        refractory=3)),
        "solo": Population(name="solo", size=3, model=LIF(tau_syn=3.0, tau_mem=8.0, v_th=0.5,
                                                          bias=0.2, refractory=2)),
        "idle": Population(name="idle", size=2, model=Poisson(rate=np.full(2, 100.0))),
    }
    projs = (rand_proj("bg_exc", "bg", "exc", 6, 10, 0.5, 1, 0.5),
             rand_proj("exc_exc", "exc", "exc", 10, 10, 0.3, 5, 0.2),
             rand_proj("inh_exc", "inh", "exc", 4, 10, 0.5, 2, -0.6),
             rand_proj("exc_inh", "exc", "inh", 10, 4, 0.5, 3, 0.4),
             rand_proj("solo_solo", "solo", "solo", 3, 3, 0.7, 4, 0.1))
    probes = tuple(Probe(population=p, var=v) for p in ("exc", "inh", "solo") for v in "uv")
    return Network(name="mixed", populations=pops, projections=projs, probes=probes, steps=80)


def test_registered_under_both_names_and_available():
    assert isinstance(get_backend("lava"), LavaFloatBackend)
    assert isinstance(get_backend("lava-fixed"), LavaFixedBackend)
    assert LavaFloatBackend.select_tag == "floating_pt"
    assert LavaFixedBackend.select_tag == "fixed_pt"
    assert not LavaFloatBackend.capabilities.fixed_point
    assert LavaFixedBackend.capabilities.fixed_point
    assert LavaFloatBackend.missing_dependency() is None


def test_missing_lava_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "lava.magma.core.run_configs", None)  # import fails
    reason = LavaFloatBackend.missing_dependency()
    assert reason is not None and "lava-nc" in reason


@pytest.mark.parametrize("delay,connection", [(1, "dense"), (2, "sparse"), (7, "dense"),
                                              (7, "sparse")])
def test_spike_at_t_reaches_u_at_t_plus_delay(delay, connection):
    net = one_input_net(delay)
    result = LavaFloatBackend().run(net, net.steps, options={"connection": connection})
    u, v = result.traces[("n", "u")][:, 0], result.traces[("n", "v")][:, 0]
    arrive = 3 + delay
    assert u.shape == (net.steps,)
    assert np.all(u[:arrive] == 0.0) and np.all(u[arrive:] == 2.0)
    # v = 2 > v_th at the arrival step: spike there, v recorded after the reset.
    assert result.spikes["n"][0][0] == arrive and v[arrive] == 0.0


@pytest.mark.parametrize("connection", ["dense", "sparse"])
def test_matches_the_oracle_spike_for_spike(connection):
    net = mixed_net()
    got = LavaFloatBackend().run(net, net.steps, options={"connection": connection})
    want = oracle_run(net)
    assert set(got.spikes) == {"exc", "inh", "solo"}
    for pop in got.spikes:
        assert len(want.spikes[pop][0]) > 0, pop
        np.testing.assert_array_equal(got.spikes[pop][0], want.spikes[pop][0], err_msg=pop)
        np.testing.assert_array_equal(got.spikes[pop][1], want.spikes[pop][1], err_msg=pop)
    for key, trace in want.traces.items():
        np.testing.assert_allclose(got.traces[key], trace, rtol=0, atol=1e-12, err_msg=str(key))
    # Refractory 2: after a spike at t, solo's v stays 0 at t+1 and t+2.
    steps, neurons = got.spikes["solo"]
    v = got.traces[("solo", "v")]
    assert len(steps) > 2
    for t, n in zip(steps, neurons):
        assert np.all(v[t:t + 3, n] == 0.0)


@pytest.mark.parametrize("steps", [0, -1, 2.5, True, 2**31])
def test_bad_step_counts_are_refused_by_the_driver(steps):
    from nmcompile.driver import run
    with pytest.raises(InputError, match=r"steps must be an integer in 1\.\.2147483647"):
        run(one_input_net(1), "lava", steps=steps)


def test_a_run_beyond_memory_is_refused_before_lava_starts():
    from nmcompile.driver import run
    with pytest.raises(InputError, match=r"2,000,000,000 steps of .* on lava need ~.* GiB"):
        run(one_input_net(1), "lava", steps=2_000_000_000)


def test_bad_connection_option_is_an_input_error():
    with pytest.raises(InputError, match="connection='diagonal'"):
        LavaFloatBackend().run(one_input_net(1), 5, options={"connection": "diagonal"})


def test_progress_runs_in_resumed_chunks_with_the_same_result():
    """With progress the run is resumed every MIN_CHUNK steps: nothing may shift at the seam."""
    full = mixed_net()
    net = replace(full, populations={k: p for k, p in full.populations.items() if k != "solo"},
                  projections=tuple(p for p in full.projections if p.post != "solo"),
                  probes=tuple(p for p in full.probes if p.population != "solo"))
    steps = MIN_CHUNK + 30
    whole = LavaFloatBackend().run(net, steps, options={})
    chunked = LavaFloatBackend().run(net, steps, options={"progress": True, "other": 1})
    for pop, (t, n) in whole.spikes.items():
        assert len(t) > 0
        np.testing.assert_array_equal(chunked.spikes[pop][0], t)
        np.testing.assert_array_equal(chunked.spikes[pop][1], n)
    for key, trace in whole.traces.items():  # last bits vary between Lava runs (see lowering)
        np.testing.assert_allclose(chunked.traces[key], trace, rtol=0, atol=1e-12)


def test_dense_or_sparse_by_density_and_size():
    assert use_dense(60, 10, 10, 0)                   # 60 % present
    assert not use_dense(10, 10, 10, 0)               # 10 %
    assert not use_dense(600_000, 1000, 2000, 2)      # dense enough, but 6M delay-stacked cells
    assert use_dense(1, 10, 10, 0, "dense") and not use_dense(100, 10, 10, 0, "sparse")
