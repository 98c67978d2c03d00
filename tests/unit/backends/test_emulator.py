"""The emulator: Lava's integer corner cases, hand-built, each checked against real Lava
fixed_pt (through the lava-fixed backend) and for the overflow accounting it reports. The LIF
variants of DESIGN §2.5 are test_emulator_variants.py."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile.backends import get_backend
from nmcompile.diagnostics import RunError
from nmcompile.ir import (FixedLIF, FixedProjection, LIF, Network, Population, Probe,
                          QuantizedNetwork, SpikeArray)


def chain(*, weight_mant, weight_exp=7, sign_mode="excitatory", nwb=8, delay=None, du=0,
          dv=0, vth=2 ** 17 - 1, bias_mant=0, bias_exp=0, n_src=4, steps=30,
          spike_steps=None) -> QuantizedNetwork:
    """src (n_src neurons) -> lif (2 neurons), all to all, with explicit integer registers."""
    times = np.arange(steps) if spike_steps is None else np.asarray(spike_steps)
    t, n = np.meshgrid(times, np.arange(n_src), indexing="ij")
    src = Population(name="src", size=n_src,
                     model=SpikeArray(neurons=n.ravel().astype(np.int64),
                                      steps=t.ravel().astype(np.int64)))
    lif = Population(name="lif", size=2, model=LIF(tau_syn=1, tau_mem=1, v_th=1))
    pre, post = np.meshgrid(np.arange(n_src), np.arange(2), indexing="ij")
    k = pre.size
    mant = np.resize(np.asarray(weight_mant, np.int32), k)
    delays = np.resize(np.asarray(delay if delay is not None else [1], np.int32), k)
    net = Network(name="chain", populations={"src": src, "lif": lif}, steps=steps,
                  probes=(Probe(population="lif", var="u"), Probe(population="lif", var="v")))
    proj = FixedProjection(name="p", pre="src", post="lif", pre_idx=pre.ravel().astype(np.int32),
                           post_idx=post.ravel().astype(np.int32), weight_mant=mant,
                           delay=delays, weight_exp=weight_exp, num_weight_bits=nwb,
                           sign_mode=sign_mode)
    fixed = FixedLIF(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, scale=1.0)
    return QuantizedNetwork(network=net, target="hand", populations={"lif": fixed},
                            projections=(proj,))


def run_both(qnet, **options):
    steps = qnet.network.steps
    emulated = get_backend("emulator").run(qnet, steps, options=options)
    lava = get_backend("lava-fixed").run(qnet, steps, options={})
    for pop, (t, n) in lava.spikes.items():
        np.testing.assert_array_equal(emulated.spikes[pop][0], t)
        np.testing.assert_array_equal(emulated.spikes[pop][1], n)
    for key, trace in lava.traces.items():
        np.testing.assert_array_equal(emulated.traces[key].astype(np.int64),
                                      np.asarray(trace).astype(np.int64), err_msg=str(key))
    return emulated


# -- without Lava -----------------------------------------------------------------------------
def test_u_wraps_and_is_counted():
    """4 spikes of 255 << 7 << 6 per step: u passes 2^23 within a few steps and wraps."""
    result = get_backend("emulator").run(chain(weight_mant=[255]), 30, options={})
    u = result.traces[("lif", "u")].astype(np.int64)
    assert u.max() <= 2 ** 23 and u.min() < 0          # the wrap flipped the sign
    assert result.meta["overflow"]["lif"]["u_wraps"] > 0
    assert any("u wrapped" in w for w in result.meta["warnings"])


def test_strict_mode_turns_overflow_into_run_error():
    with pytest.raises(RunError, match=r"population lif: u wrapped at step \d+, neuron 0 \(strict"):
        get_backend("emulator").run(chain(weight_mant=[255]), 30, options={"strict": True})


def test_v_saturates_at_24_bits():
    qnet = chain(weight_mant=[-200], sign_mode="inhibitory", weight_exp=3, du=4095, dv=0,
                 steps=40)
    result = get_backend("emulator").run(qnet, 40, options={})
    assert result.traces[("lif", "v")].min() == -(2 ** 23) + 1
    assert result.meta["overflow"]["lif"]["v_saturations"] > 0


def test_driver_and_cli_run_the_emulator(tmp_path, capsys):
    from nmcompile.cli import main
    from nmcompile.result import Result
    model = tmp_path / "m.yaml"
    model.write_text("format: nmcompile/v1\nname: m\nsteps: 50\npopulations:\n"
                     "  s: {model: poisson, size: 3, rate: 200}\n"
                     "  a: {model: lif, size: 3, tau_syn: 2, tau_mem: 5, v_th: 1}\n"
                     "projections:\n  - {pre: s, post: a, connect: one_to_one, weight: 1.5}\n"
                     "probes:\n  - {population: a, var: v}\n")
    out = tmp_path / "r.npz"
    assert main(["run", str(model), "--backend", "emulator", "--target", "tiny", "-o",
                 str(out), "-q"]) == 0
    loaded = Result.load(str(out))
    assert loaded.meta["backend"] == "emulator" and loaded.meta["target"] == "tiny"
    assert loaded.spikes["a"][0].size > 0 and loaded.traces[("a", "v")].shape == (50, 3)


# -- against real Lava ------------------------------------------------------------------------
lava = pytest.mark.lava


@lava
def test_u_wrap_matches_lava():
    assert run_both(chain(weight_mant=[255], steps=20)).meta["overflow"]["lif"]["u_wraps"] > 0


@lava
def test_v_saturation_and_bias_exponent_match_lava():
    qnet = chain(weight_mant=[-200], sign_mode="inhibitory", weight_exp=2, du=4095, dv=0,
                 bias_mant=-4096, bias_exp=7, steps=20)
    assert run_both(qnet).meta["overflow"]["lif"]["v_saturations"] > 0


@lava
@pytest.mark.parametrize("nwb", [8, 6, 4])
@pytest.mark.parametrize("mode", ["mixed", "excitatory", "inhibitory"])
def test_weight_bits_and_sign_modes_match_lava(nwb, mode):
    """Raw mantissas of both signs, so Lava's clip and truncate both act."""
    qnet = chain(weight_mant=[-256, -131, -7, 0, 5, 77, 200, 255], weight_exp=-1 if nwb == 6 else 3,
                 sign_mode=mode, nwb=nwb, du=700, dv=300, vth=5000, n_src=8, steps=12,
                 spike_steps=[0, 1, 3, 4, 7, 9])
    run_both(qnet)


@lava
def test_delays_up_to_64_match_lava():
    qnet = chain(weight_mant=[40, 90, 130, 60], weight_exp=4, delay=[1, 33, 62, 64], du=100,
                 dv=50, vth=3000, steps=80, spike_steps=[0, 2, 5])
    result = run_both(qnet)
    assert (result.spikes["lif"][0] >= 62).any()   # the longest delays did arrive


@lava
def test_negative_weight_exponent_floors_the_summed_input_like_lava():
    qnet = chain(weight_mant=[3, 5, -7, 1], sign_mode="mixed", weight_exp=-3, du=4095, dv=4095,
                 vth=1, steps=10)
    run_both(qnet)


@lava
def test_runs_longer_than_the_spike_buffer_resume_exactly():
    """Both neurons fire on almost every step: more spikes than the emulator's first buffer
    (16 per neuron + 1024), so its kernel stops and resumes; nothing may be lost or repeated."""
    qnet = chain(weight_mant=[200], weight_exp=0, du=4095, dv=2000, vth=100, steps=600)
    result = run_both(qnet)
    assert result.spikes["lif"][0].size > 16 * 2 + 1024
