"""Bit-exact contract (DESIGN §3): the emulator and Lava fixed_pt agree on every spike and every
probed u/v register, on hypothesis-generated networks.

Two families, 50 networks in all:
  * float networks from tests/strategies.py, quantized for loihi2 by the driver (the user's path);
  * quantized networks with raw, adversarial integers: any du/dv/vth/bias, weight exponents
    -8..7, num_weight_bits 8/6/4, all sign modes with mantissas of either sign (Lava's
    clip/truncate decides), delays up to 62 and inputs big enough to wrap u past 2^23 and
    saturate v.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.ir import SIGN_MODES, FixedLIF, FixedProjection, QuantizedNetwork
from strategies import networks

pytestmark = [pytest.mark.slow, pytest.mark.lava]

SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def assert_bit_exact(emulated, lava) -> None:
    assert emulated.spikes.keys() == lava.spikes.keys()
    for pop, (steps, neurons) in lava.spikes.items():
        np.testing.assert_array_equal(emulated.spikes[pop][0], steps, err_msg=f"{pop} steps")
        np.testing.assert_array_equal(emulated.spikes[pop][1], neurons, err_msg=f"{pop} neurons")
    assert emulated.traces.keys() == lava.traces.keys()
    for key, trace in lava.traces.items():
        np.testing.assert_array_equal(emulated.traces[key].astype(np.int64),
                                      np.asarray(trace).astype(np.int64), err_msg=str(key))


@st.composite
def raw_quantized(draw) -> QuantizedNetwork:
    """A generated topology with adversarial integer registers drawn from its seed."""
    max_delay = draw(st.sampled_from([2, 12, 62]))  # long delays alone would starve short runs
    net = draw(networks(max_delay=max_delay, refractory=False, max_size=6, steps=(30, 70)))
    rng = np.random.default_rng(net.seed)
    pops = {}
    for pop in net.neuron_populations():
        pops[pop.name] = FixedLIF(
            du=int(rng.choice([0, 0, 4095, rng.integers(0, 4096)])),
            dv=int(rng.choice([0, 4095, rng.integers(0, 4096)])),
            vth=int(rng.choice([1, rng.integers(1, 2 ** 17), 2 ** 17 - 1])),
            bias_mant=int(rng.integers(-4096, 4096)) if rng.random() < 0.5 else 0,
            bias_exp=int(rng.integers(0, 8)), scale=1.0)
    projs = []
    for p in net.projections:
        mant = rng.integers(-256, 256, p.n_synapses)
        mode = SIGN_MODES[int(rng.integers(3))]
        exp = int(rng.integers(-8, 8))
        if rng.random() < 0.5:  # strong and one-signed: a few spikes wrap u past 2^23
            mode, exp = SIGN_MODES[int(rng.integers(1, 3))], int(rng.integers(6, 8))
            mant = np.abs(mant) // 2 + 128
            mant = -mant if mode == "inhibitory" else mant
        projs.append(FixedProjection(
            name=p.name, pre=p.pre, post=p.post, pre_idx=p.pre_idx, post_idx=p.post_idx,
            weight_mant=mant.astype(np.int32), delay=p.delay, weight_exp=exp,
            num_weight_bits=int(rng.choice([8, 6, 4])), sign_mode=mode))
    return QuantizedNetwork(network=net, target="generated", populations=pops,
                            projections=tuple(projs))


@settings(max_examples=35, **SETTINGS)
@given(qnet=raw_quantized())
def test_raw_quantized_networks_are_bit_exact(qnet):
    steps = qnet.network.steps
    # Dense, Sparse and their Delay* forms must all be the same integers to the emulator
    connection = ("dense", "sparse", "auto")[qnet.network.seed % 3]
    emulated = get_backend("emulator").run(qnet, steps, options={})
    lava = get_backend("lava-fixed").run(qnet, steps, options={"connection": connection})
    assert_bit_exact(emulated, lava)
    overflow = emulated.meta["overflow"].values()
    event("u wrapped" if any(c["u_wraps"] for c in overflow) else "no u wrap")
    event("v saturated" if any(c["v_saturations"] for c in overflow) else "no v saturation")


@settings(max_examples=15, **SETTINGS)
@given(net=networks(max_delay=62, refractory=False, max_size=8, steps=(20, 60)))
def test_quantized_float_networks_are_bit_exact(net):
    emulated = driver.run(net, "emulator", target="loihi2")
    lava = driver.run(net, "lava-fixed", target="loihi2")
    assert_bit_exact(emulated, lava)
