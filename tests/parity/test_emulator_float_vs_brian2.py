"""`emulator-float` vs `brian2` on generated networks: identical to the last bit (every spike,
every probed value), so float-exact (DESIGN §3) without a single tie, on LIF with every
variant of DESIGN §2.5, Izhikevich and adaptive LIF populations, Poisson and spike-array
sources, injected currents, recurrent projections and delays 1-20.

Brian2 runs on its numpy target here (no compile step); its cython and cpp_standalone
targets compute the same floats (tests/unit/backends/test_brian2_code_targets.py), and
benchmarks/emulator_float_vs_brian2.py checks cython on a 4,000-neuron network.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import networks

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.backends.emulator_float import EmulatorFloatBackend
from nmcompile.parity.compare import compare_bit_exact, compare_float_exact

pytestmark = pytest.mark.slow
N_NETWORKS = 30
MODELS = ("lif", "izhikevich", "adaptive_lif")


def test_emulator_float_identical_to_brian2_on_generated_networks():
    brian2, emulator_float = get_backend("brian2"), EmulatorFloatBackend()
    if brian2.missing_dependency():
        pytest.skip(brian2.missing_dependency())
    seen = []

    @settings(derandomize=True, max_examples=N_NETWORKS, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(net=networks(variants=True, currents=True, models=MODELS, max_size=12))
    def check(net):
        ref, got = (b.run(driver.prepare(net, b), net.steps, options={})
                    for b in (brian2, emulator_float))
        exact = compare_float_exact(net, "brian2", ref, "emulator-float", got, net.steps)
        assert exact.verdict == "pass", (exact.first, exact.note)
        identical = compare_bit_exact(net, "brian2", ref, "emulator-float", got, net.steps)
        assert identical.verdict == "pass", (identical.first, identical.details)
        pops = list(net.neuron_populations())
        seen.append((exact.spikes_compared, net.has_cycles(), net.max_delay(),
                     {p.model.kind for p in pops} | {f for p in pops for f in p.model.features()},
                     bool(net.currents)))

    check()
    assert len(seen) >= N_NETWORKS
    # what the contract is about must be exercised, for any sample hypothesis may draw
    assert sum(s[0] for s in seen) > 20 * N_NETWORKS                # spikes compared
    assert sum(1 for s in seen if s[0] > 0) > N_NETWORKS // 3       # active networks
    assert sum(1 for s in seen if s[1]) > N_NETWORKS // 3           # recurrent
    assert sum(1 for s in seen if s[2] > 5) > N_NETWORKS // 3       # long delays
    assert sum(1 for s in seen if s[4]) > N_NETWORKS // 5           # injected currents
    # every model and LIF variant (a sample drawn: 16 networks with LIF, 13 Izhikevich, 7
    # adaptive; 4 non-spiking, 14 refractory, 11 subtract; tests/unit/backends/
    # test_emulator_float.py runs each of them on purpose)
    for kind_or_feature in MODELS + ("refractory", "reset_subtract", "non_spiking"):
        assert sum(1 for s in seen if kind_or_feature in s[3]) >= 2, kind_or_feature
