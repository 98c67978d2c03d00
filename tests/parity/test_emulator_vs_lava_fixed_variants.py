"""Bit-exact contract (DESIGN §3) for the LIF variants (DESIGN §2.5): the emulator and
nmcompile's bit-accurate Lava LIF (backends/lava/processes/, the normative reference) agree on
every spike and every probed u and v register, on hypothesis-generated networks.

Each network holds 3-5 small LIF populations, each with its own mix of refractory periods,
subtract reset, v_th inf, tau_syn 0, per-neuron bias and initial values and injected
currents (tests/strategies_fixed.py), so one Lava run covers many cases; 55 networks in all:
  * float networks quantized for loihi2 by the quantization pass (the user's path);
  * the same topologies with adversarial integer registers: any du/dv/vth, per-neuron bias
    mantissas and exponents, initial u and v across 24 bits, weights that wrap u and
    saturate v, current registers at the 24-bit limit.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings

from nmcompile.backends import get_backend
from nmcompile.passes.quantize import quantize
from strategies_fixed import raw_variant_networks, variant_networks

pytestmark = [pytest.mark.slow, pytest.mark.lava]

SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_both_and_compare(qnet) -> None:
    steps = qnet.network.steps
    # Dense, Sparse and their Delay* forms must all give the emulator's integers
    connection = ("dense", "sparse", "auto")[qnet.network.seed % 3]
    emulated = get_backend("emulator").run(qnet, steps, options={})
    lava = get_backend("lava-fixed").run(qnet, steps, options={"connection": connection})
    assert emulated.spikes.keys() == lava.spikes.keys()
    for pop, (t, n) in lava.spikes.items():
        np.testing.assert_array_equal(emulated.spikes[pop][0], t, err_msg=f"{pop} steps")
        np.testing.assert_array_equal(emulated.spikes[pop][1], n, err_msg=f"{pop} neurons")
    assert emulated.traces.keys() == lava.traces.keys()
    assert len(lava.traces) == 2 * len(qnet.populations)  # u and v of every population
    for key, trace in lava.traces.items():
        np.testing.assert_array_equal(emulated.traces[key].astype(np.int64),
                                      np.asarray(trace).astype(np.int64), err_msg=str(key))
    _record_coverage(qnet, emulated)


def _record_coverage(qnet, result) -> None:
    """Which features acted in this network (pytest --hypothesis-show-statistics)."""
    for name, fixed in qnet.populations.items():
        spikes = result.spikes[name][0].size
        if fixed.refractory and spikes > 1:
            event("refractory population spiked more than once")
        if fixed.reset == "subtract" and spikes:
            event("subtract reset acted")
        if not fixed.spiking:
            event("non-spiking population")
        if fixed.du == 4095:
            event("u keeps nothing (tau_syn 0)")
        if isinstance(fixed.bias_mant, np.ndarray):
            event("per-neuron bias")
        if qnet.network.has_current(name):
            event("injected current")
    if any(c["u_wraps"] for c in result.meta["overflow"].values()):
        event("u wrapped")
    if any(c["v_saturations"] for c in result.meta["overflow"].values()):
        event("v saturated")


@settings(max_examples=40, **SETTINGS)
@given(net=variant_networks())
def test_quantized_variant_networks_are_bit_exact(net):
    run_both_and_compare(quantize(net, "loihi2"))


@settings(max_examples=15, **SETTINGS)
@given(qnet=raw_variant_networks())
def test_raw_variant_networks_are_bit_exact(qnet):
    run_both_and_compare(qnet)
