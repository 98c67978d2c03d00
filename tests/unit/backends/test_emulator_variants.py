"""The emulator's LIF variants (DESIGN §2.5: refractory periods, subtract reset, non-spiking
neurons, per-neuron bias and initial values, injected currents) against `replay`, an
independent numpy transcription of the §2.3/§2.5 fixed-point step written from the spec,
not from the kernel: whole-population vector operations, refractory from each neuron's last
spike step rather than a countdown, effective weights from Lava's clip/truncate rule.
Bit-exactness with Lava's fixed_pt processes: tests/parity/test_emulator_vs_lava_fixed_variants.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.ir import (LIF, Current, FixedLIF, FixedProjection, Network, Population, Probe,
                          QuantizedNetwork, SpikeArray, fixed_current, source_raster)
from nmcompile.passes.quantize import quantize
from strategies_fixed import raw_variant_networks, variant_networks

SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LIMIT = 2 ** 23


# -- the replay -------------------------------------------------------------------------------
def wrap32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.int64).astype(np.int32).astype(np.int64)


def decayed(x: np.ndarray, keep: int) -> np.ndarray:
    """D(x, k) = sign(x)·⌊|x·k| / 2^12⌋."""
    product = x * keep
    return np.sign(product) * (np.abs(product) >> 12)


def effective_weights(fp: FixedProjection) -> np.ndarray:
    """Lava's clip_weights(8 bits) then truncate_weights(num_weight_bits), DESIGN §2.3 table."""
    m = fp.weight_mant.astype(np.int64)
    if fp.sign_mode == "excitatory":
        b = 8 - fp.num_weight_bits
        return (np.clip(m, 0, 255) >> b) << b
    if fp.sign_mode == "inhibitory":
        b = 8 - fp.num_weight_bits
        return -((np.clip(-m, 0, 255) >> b) << b)
    b = 9 - fp.num_weight_bits
    return (np.clip(m, -256, 255) >> b) << b


def replay(qnet: QuantizedNetwork, steps: int):
    """(spikes {pop: (steps, neurons)}, traces {(pop, var): steps × size}) of DESIGN §2.5."""
    net = qnet.network
    fired = {name: source_raster(pop, net, steps) if pop.is_source
             else np.zeros((steps, pop.size), bool) for name, pop in net.populations.items()}
    sizes = {name: net.populations[name].size for name in qnet.populations}
    u = {name: f.per_neuron("u_init", sizes[name]).copy() for name, f in qnet.populations.items()}
    v = {name: f.per_neuron("v_init", sizes[name]).copy() for name, f in qnet.populations.items()}
    last = {name: np.full(n, -10 ** 9) for name, n in sizes.items()}
    current = {name: fixed_current(qnet, name, steps) for name in sizes}
    traces = {(p.population, p.var): np.zeros((steps, sizes[p.population]), np.int64)
              for p in net.probes}
    for t in range(steps):
        a = {name: np.zeros(n, np.int64) for name, n in sizes.items()}
        for fp in qnet.projections:
            w = effective_weights(fp)
            for d in np.unique(fp.delay):
                if t - d < 0:
                    continue
                hit = (fp.delay == d) & fired[fp.pre][t - d, fp.pre_idx]
                total = np.zeros(sizes[fp.post], np.int64)
                np.add.at(total, fp.post_idx[hit], w[hit])
                a[fp.post] += (total << fp.weight_exp if fp.weight_exp >= 0
                               else total >> -fp.weight_exp)
        for name, f in qnet.populations.items():
            n = sizes[name]
            u1 = wrap32(decayed(u[name], 4096 - (f.du + 1)) + wrap32(wrap32(a[name]) << 6))
            u[name] = np.where(u1 > LIMIT, u1 - 2 * LIMIT, np.where(u1 <= -LIMIT, u1 + 2 * LIMIT,
                                                                    u1))
            b = f.per_neuron("bias_mant", n) << f.per_neuron("bias_exp", n)
            if current[name] is not None:
                b = wrap32(b + current[name][t])
            v1 = wrap32(decayed(v[name], 4096 - f.dv) + u[name] + b)
            free = last[name] + f.refractory < t
            v[name] = np.where(free, np.clip(v1, 1 - LIMIT, LIMIT - 1), v[name])
            spikes = (v[name] > f.vth << 6) & free & f.spiking
            if f.reset == "subtract":
                v[name][spikes] -= f.vth << 6
            else:
                v[name][spikes] = 0
            last[name][spikes] = t
            fired[name][t] = spikes
        for (name, var), trace in traces.items():
            trace[t] = (u if var == "u" else v)[name]
    spikes = {name: np.nonzero(fired[name]) for name in sizes}
    return spikes, traces


def assert_same_as_replay(qnet: QuantizedNetwork, steps: int | None = None):
    steps = qnet.network.steps if steps is None else steps
    result = get_backend("emulator").run(qnet, steps, options={})
    spikes, traces = replay(qnet, steps)
    for name, (t, n) in spikes.items():
        np.testing.assert_array_equal(result.spikes[name][0], t, err_msg=f"{name} steps")
        np.testing.assert_array_equal(result.spikes[name][1], n, err_msg=f"{name} neurons")
    assert result.traces.keys() == traces.keys()
    for key, trace in traces.items():
        np.testing.assert_array_equal(result.traces[key].astype(np.int64), trace, err_msg=str(key))
    return result


# -- hand-built cases, one feature each -----------------------------------------------------
def one_population(fixed: FixedLIF, *, size: int = 3, steps: int = 40, weight: int = 0,
                   spike_steps=(), currents=()) -> QuantizedNetwork:
    """src (1 neuron, spiking at spike_steps) -> lif (size neurons), every register explicit."""
    steps_arr = np.asarray(spike_steps, np.int64)
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.zeros(steps_arr.size,
                                                                              np.int64),
                                                            steps=steps_arr))
    lif = Population(name="lif", size=size, model=LIF(
        tau_syn=1, tau_mem=1, v_th=1 if fixed.spiking else float("inf"),
        refractory=fixed.refractory, reset=fixed.reset))
    net = Network(name="one", populations={"src": src, "lif": lif}, steps=steps,
                  probes=(Probe(population="lif", var="u"), Probe(population="lif", var="v")),
                  currents=tuple(currents))
    proj = FixedProjection(name="p", pre="src", post="lif", pre_idx=np.zeros(size, np.int32),
                           post_idx=np.arange(size, dtype=np.int32),
                           weight_mant=np.full(size, weight, np.int32),
                           delay=np.ones(size, np.int32), weight_exp=0, num_weight_bits=8,
                           sign_mode="excitatory" if weight >= 0 else "inhibitory")
    return QuantizedNetwork(network=net, target="hand", populations={"lif": fixed},
                            projections=(proj,))


def registers(**changes) -> FixedLIF:
    base = dict(du=4095, dv=0, vth=100, bias_mant=0, bias_exp=0, scale=1.0)
    return FixedLIF(**{**base, **changes})


def test_refractory_holds_v_and_blocks_spikes_for_r_steps():
    """bias 1000 per step, threshold 6400: a spike every 7 steps without refractory; with 5
    steps of refractory v stays at 0 for those 5 steps, then climbs again."""
    qnet = one_population(registers(bias_mant=1000, refractory=5), size=1, steps=60)
    result = assert_same_as_replay(qnet)
    t = result.spikes["lif"][0]
    assert t.size >= 4 and set(np.diff(t)) == {7 + 5}
    v = result.traces[("lif", "v")][:, 0]
    assert np.all(v[t[0] + 1:t[0] + 6] == 0) and v[t[0] + 6] == 1000


def test_refractory_neurons_keep_integrating_u():
    """u is updated while v is held: input arriving during the refractory period shows in u."""
    qnet = one_population(registers(du=2000, bias_mant=7000, refractory=3), size=1, steps=12,
                          weight=50, spike_steps=[1, 2])
    result = assert_same_as_replay(qnet)
    assert result.spikes["lif"][0][0] == 0
    u = result.traces[("lif", "u")][:, 0]
    assert u[2] == 50 << 6 and u[3] > u[2]    # the neuron is refractory at steps 1..3


def test_subtract_reset_keeps_the_excess_above_threshold():
    qnet = one_population(registers(bias_mant=4000, reset="subtract"), size=1, steps=20)
    result = assert_same_as_replay(qnet)
    v = result.traces[("lif", "v")][:, 0]
    t = result.spikes["lif"][0]
    assert v[t[0]] == 2 * 4000 - 6400        # 8000 > 6400 spikes and keeps 1600
    assert t.size > 0 and not np.all(v[t] == 0)


def test_subtract_reset_with_refractory_may_hold_v_above_threshold_without_spiking():
    """v = 3·vth·64 after one step: subtract leaves 2·vth·64 > threshold, held while
    refractory (no spike), and it spikes again on the first free step."""
    qnet = one_population(registers(bias_mant=0, v_init=0, reset="subtract", refractory=2,
                                    vth=10), size=1, steps=8, weight=30, spike_steps=[0])
    result = assert_same_as_replay(qnet)
    v = result.traces[("lif", "v")][:, 0]
    t = result.spikes["lif"][0]
    assert t[0] == 1 and v[1] == (30 << 6) - 640 and v[2] == v[1] == v[3] and t[1] == 4


def test_non_spiking_neurons_integrate_to_saturation_and_never_spike():
    qnet = one_population(registers(vth=2 ** 17 - 1, bias_mant=4095, bias_exp=7,
                                    spiking=False), size=2, steps=30)
    result = assert_same_as_replay(qnet)
    assert result.spikes["lif"][0].size == 0
    assert result.traces[("lif", "v")][-1].tolist() == [LIMIT - 1, LIMIT - 1]
    assert result.meta["overflow"]["lif"]["v_saturations"] > 0


def test_per_neuron_bias_mantissa_and_exponent():
    mant, exp = np.array([5, -7, 4095], np.int32), np.array([0, 3, 7], np.int32)
    qnet = one_population(registers(bias_mant=mant, bias_exp=exp, vth=2 ** 17 - 1), steps=3)
    v = assert_same_as_replay(qnet).traces[("lif", "v")]
    assert v[0].tolist() == [5, -56, 4095 * 128] and v[1].tolist() == [10, -112, 2 * 4095 * 128]


def test_initial_u_and_v_per_neuron():
    """du 0 keeps 4095/4096 of u, dv 2048 half of v: step 0 shows both initial values decayed."""
    qnet = one_population(registers(du=0, dv=2048, vth=2 ** 17 - 1,
                                    u_init=np.array([4096, -4096, 0], np.int32),
                                    v_init=np.array([1000, 0, -LIMIT + 1], np.int32)), steps=2)
    result = assert_same_as_replay(qnet)
    assert result.traces[("lif", "u")][0].tolist() == [4095, -4095, 0]
    # decay truncates toward zero: -(2^23 - 1)/2 keeps -4194303
    assert result.traces[("lif", "v")][0].tolist() == [500 + 4095, -4095, -((LIMIT - 1) // 2)]


def test_tau_syn_zero_keeps_only_this_steps_input():
    qnet = one_population(registers(du=4095, vth=2 ** 17 - 1), size=1, steps=6, weight=40,
                          spike_steps=[0, 1, 3])
    u = assert_same_as_replay(qnet).traces[("lif", "u")][:, 0]
    assert u.tolist() == [0, 40 << 6, 40 << 6, 0, 40 << 6, 0]


def test_injected_current_adds_to_the_bias_each_step():
    """A steps current of 0.5 from step 2 and -0.25 from step 4 into neuron 1, scale 1000:
    registers 500 and -250 added to bias 3 of that neuron only."""
    current = Current(population="lif", kind="steps", neurons=np.array([1]),
                      points=np.array([[2.0, 0.5], [4.0, -0.25]]))
    qnet = one_population(registers(vth=2 ** 17 - 1, bias_mant=3, scale=1000.0), size=2,
                          steps=6, currents=[current])
    v = assert_same_as_replay(qnet).traces[("lif", "v")]
    assert v[:, 0].tolist() == [3, 6, 9, 12, 15, 18]
    assert v[:, 1].tolist() == [3, 6, 509, 1012, 765, 518]


def test_a_saturated_current_register_drives_v_to_its_limit():
    current = Current(population="lif", kind="ramp", points=np.array([[0.0, 0.0], [4.0, 2.0]]))
    qnet = one_population(registers(dv=4095, scale=2.0 ** 23, spiking=False), size=1,
                          steps=8, currents=[current])
    assert fixed_current(qnet, "lif", 8)[-1, 0] == LIMIT - 1
    v = assert_same_as_replay(qnet).traces[("lif", "v")][:, 0]
    assert v[-1] == LIMIT - 1 and v[1] == 2 ** 22


def test_plain_and_variant_populations_run_side_by_side():
    """The kernel's two paths (plain loop, variant_population) in one network, both exact."""
    plain = registers(du=100, dv=200, vth=300, bias_mant=17)
    qnet = one_population(plain, size=2, steps=50, weight=90, spike_steps=range(0, 50, 3))
    net = qnet.network
    other = Population(name="var", size=2, model=LIF(tau_syn=1, tau_mem=1, v_th=1,
                                                     refractory=2, reset="subtract"))
    proj = FixedProjection(name="q", pre="lif", post="var", pre_idx=np.array([0, 1], np.int32),
                           post_idx=np.array([0, 1], np.int32),
                           weight_mant=np.array([120, 250], np.int32),
                           delay=np.array([1, 2], np.int32), weight_exp=2, num_weight_bits=8,
                           sign_mode="excitatory")
    net = Network(name="two", populations={**net.populations, "var": other}, steps=50,
                  probes=net.probes + (Probe(population="var", var="v"),))
    qnet = QuantizedNetwork(network=net, target="hand", projections=qnet.projections + (proj,),
                            populations={**qnet.populations, "var": registers(
                                du=300, dv=50, vth=200, bias_mant=np.array([10, -10]),
                                refractory=2, reset="subtract")})
    result = assert_same_as_replay(qnet)
    assert result.spikes["lif"][0].size > 0 and result.spikes["var"][0].size > 0


def test_strict_mode_stops_at_a_saturation_in_a_variant_population():
    from nmcompile.diagnostics import RunError
    qnet = one_population(registers(vth=2 ** 17 - 1, bias_mant=4095, bias_exp=7, refractory=1,
                                    spiking=False), size=1, steps=30)
    with pytest.raises(RunError, match=r"population lif: v saturated at step 16, neuron 0"):
        get_backend("emulator").run(qnet, 30, options={"strict": True})


# -- generated networks ---------------------------------------------------------------------
@settings(max_examples=60, **SETTINGS)
@given(qnet=raw_variant_networks())
def test_raw_variant_networks_match_the_replay(qnet):
    assert_same_as_replay(qnet)


@settings(max_examples=60, **SETTINGS)
@given(net=variant_networks())
def test_quantized_variant_networks_match_the_replay(net):
    assert_same_as_replay(quantize(net, "loihi2"))


def test_every_lif_feature_runs_through_the_driver():
    """The emulator declares every LIF feature (models/lif.py), so nothing is refused; a
    model with all of them runs end to end and its neurons spike."""
    assert get_backend("emulator").capabilities.models["lif"] == {
        "refractory", "reset_subtract", "non_spiking", "current"}
    src = Population(name="s", size=2, model=SpikeArray(neurons=np.array([0, 1, 0]),
                                                        steps=np.array([0, 1, 5])))
    lif = Population(name="a", size=2, model=LIF(tau_syn=0, tau_mem=5, v_th=1, refractory=2,
                                                 reset="subtract", bias=np.array([0.3, 0.5]),
                                                 v_init=0.4))
    out = Population(name="r", size=1, model=LIF(tau_syn=2, tau_mem=10, v_th=float("inf")))
    net = Network(name="all", populations={"s": src, "a": lif, "r": out}, steps=30,
                  currents=(Current(population="a", kind="ramp",
                                    points=np.array([[0.0, 0.0], [20.0, 0.6]])),),
                  probes=(Probe(population="r", var="v"),))
    result = driver.run(net, "emulator")
    assert result.spikes["a"][0].size > 0 and result.spikes["r"][0].size == 0
    assert result.traces[("r", "v")].max() == 0  # no projection into the readout: it stays
