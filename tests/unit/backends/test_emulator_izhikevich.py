"""The emulator's Izhikevich (DESIGN §2.6): nmcompile's fixed point, bit-exact with the
fixed_pt model of NmcIzhikevich (backends/lava/processes/izhikevich.py, the reference).

Without Lava: hand-computed registers for each operation of the step (rounding to nearest
with ties up, v² in state units, the recovery update from the new v and the old u, the reset,
the decay of i truncated toward zero) and for each saturation and its counter, strict mode.
With Lava (marked `lava`): a network built to exercise all of it at once — recurrence,
delays, per-neuron bias, v_init and u_init, currents, negative and integer coefficients,
every saturation, next to LIF and adaptive LIF populations — gives the same spikes and the
same v, u and i registers on `emulator` and `lava-fixed`.
"""
from __future__ import annotations

import numpy as np
import pytest

from handbuilt import (assert_same_as_lava, fixed_network, fixed_projection,
                       random_fixed_projection, source)

from nmcompile.backends import get_backend
from nmcompile.diagnostics import RunError
from nmcompile.ir import (LIF, AdaptiveLIF, Current, FixedAdaptiveLIF, FixedIzhikevich,
                          FixedLIF, Izhikevich, Population, QuantizedNetwork)

L24 = 2 ** 23 - 1
L32 = 2 ** 31 - 1


# -- building networks by hand ----------------------------------------------------------------
def izhikevich(name: str, size: int) -> Population:
    """An Izhikevich population: the float parameters are never read by fixed backends."""
    return Population(name=name, size=size, model=Izhikevich(a=0.02, b=0.2, c=-65, d=8))


def registers(**changes) -> FixedIzhikevich:
    """A linear neuron: v' = v + T·1 with T = I − u, u held, i only this step's input, no
    spike below the state limit. Each test switches on what it is about."""
    base = dict(frac_bits=0, di=4095, k0=(0, 0), k1=(0, 0), b=(0, 0), g=(0, 0), dt=(1, 0),
                dt_a=(0, 0), k2=0, v_b=0, v_peak=L24, c=0, d=0, bias=0, v_init=0, u_init=0,
                state_limit=L24, derivative_limit=L32)
    return FixedIzhikevich(**{**base, **changes})


def coefficient(value: float, bits: int = 16) -> tuple[int, int]:
    """(m, r) of DESIGN §2.6: the largest r ≤ 30 with |rint(value·2^r)| ≤ 2^(bits−1) − 1
    (the quantizer's rule, transcribed for hand-built registers)."""
    top = 2 ** (bits - 1) - 1
    shift = next(r for r in range(30, -1, -1) if abs(np.rint(value * 2.0 ** r)) <= top)
    return int(np.rint(value * 2.0 ** shift)), shift


def paper(frac_bits: int, dt: float, *, a: float, b: float, c: float, d: float,
          **changes) -> FixedIzhikevich:
    """Registers of an Izhikevich (2004) neuron with the paper's k0, k1, k2 at 2^frac_bits."""
    s = 2 ** frac_bits
    return registers(**{**dict(
        frac_bits=frac_bits, k0=coefficient(0.04), k1=coefficient(5.0), k2=140 * s,
        b=coefficient(b), g=coefficient(1.0), dt=coefficient(dt), dt_a=coefficient(dt * a),
        v_peak=30 * s, c=int(c * s), d=int(d * s), v_init=-65 * s, u_init=int(-65 * b * s)),
        **changes})


def run(fixed: FixedIzhikevich, size: int, steps: int, **options):
    """One population `iz` of `size` neurons, no input; (result, traces as int lists)."""
    qnet = fixed_network([(izhikevich("iz", size), fixed)], steps=steps)
    result = get_backend("emulator").run(qnet, steps, options=options)
    return result, {var: result.traces[("iz", var)].astype(np.int64).tolist()
                    for var in Izhikevich.STATE}


# -- without Lava: each operation by hand ------------------------------------------------------
def test_coefficients_round_to_nearest_with_ties_up():
    """dt = (1, 1) = 0.5: v' = (T + 1) >> 1 with T = bias, a flooring shift."""
    _, trace = run(registers(dt=(1, 1), bias=np.array([3, -3, 5, -5, 1, -1])), 6, 2)
    assert trace["v"][0] == [2, -1, 3, -2, 1, 0]
    assert trace["v"][1] == [4, -2, 6, -4, 2, 0]


def test_v_squared_is_rounded_to_state_units():
    """F = 4, k0 = 1: v' = v + (v·v + 8) >> 4."""
    _, trace = run(registers(frac_bits=4, k0=(1, 0), v_init=np.array([5, -5, 6, 7, -8])), 5, 1)
    assert trace["v"][0] == [5 + 2, -5 + 2, 6 + 2, 7 + 3, -8 + 4]


def test_k1_and_k2_add_to_the_derivative():
    """k1 = (3, 1) = 1.5 and k2 = 10: T = (3v + 1) >> 1 + 10 with v = 7, −7."""
    _, trace = run(registers(k1=(3, 1), k2=10, v_init=np.array([7, -7])), 2, 1)
    assert trace["v"][0] == [7 + 11 + 10, -7 - 10 + 10]


def test_recovery_uses_the_new_v_and_the_old_u():
    """v = 40, u = 8, g = 0.5, dt_a = 0.25, v_b = 2: T = −8, v' = 32,
    u' = 8 + M(1·(32 − 2) − M(8, g), dt_a) = 8 + (26 + 2) >> 2 = 15 (the old v: 17)."""
    fixed = registers(b=(1, 0), g=(1, 1), dt_a=(1, 2), v_b=2, v_init=40, u_init=8)
    _, trace = run(fixed, 1, 1)
    assert (trace["v"][0], trace["u"][0]) == ([32], [15])


def test_a_spike_resets_v_to_c_and_adds_d_to_u():
    """v' = v + 150 − u exceeds v_peak = 100 at every step: v = c = −20, u grows by d = 7."""
    result, trace = run(registers(bias=150, v_peak=100, c=-20, d=7), 1, 4)
    assert result.spikes["iz"][0].tolist() == [0, 1, 2, 3]
    assert [row[0] for row in trace["v"]] == [-20] * 4
    assert [row[0] for row in trace["u"]] == [7, 14, 21, 28]


def test_i_decays_toward_zero_and_takes_input_shifted_by_6():
    """di = 1023 keeps 3/4 of i: ±3 << 6 = ±192 → ±144 → ±108 → ±81 → ±60 (not −61)."""
    src = source("src", 1, steps=[0], neurons=[0])
    qnet = fixed_network([(src, None), (izhikevich("iz", 2), registers(di=1023))],
                         [fixed_projection("p", "src", "iz", [0], [0], 3),
                          fixed_projection("q", "src", "iz", [0], [1], -3)], steps=6)
    i = get_backend("emulator").run(qnet, 6, options={}).traces[("iz", "i")]
    assert i.tolist() == [[0, 0], [192, -192], [144, -144], [108, -108], [81, -81], [60, -60]]


def test_i_saturates_at_the_state_limit_and_is_counted():
    """±128 << 2 << 6 at steps 1 and 2 is clipped to ±1000; v = ±1000 after step 1, and
    ±2000 at step 2 saturates too."""
    src = source("src", 1, steps=[0, 1], neurons=[0, 0])
    qnet = fixed_network(
        [(src, None), (izhikevich("iz", 2), registers(state_limit=1000, v_peak=1000))],
        [fixed_projection("p", "src", "iz", [0], [0], 128, weight_exp=2),
         fixed_projection("q", "src", "iz", [0], [1], -128, weight_exp=2)], steps=4)
    result = get_backend("emulator").run(qnet, 4, options={})
    assert result.traces[("iz", "i")].tolist() == [[0, 0], [1000, -1000], [1000, -1000],
                                                   [0, 0]]
    assert result.traces[("iz", "v")][2].tolist() == [1000, -1000]
    assert result.meta["overflow"]["iz"] == {"i_saturations": 4, "v_saturations": 2,
                                             "u_saturations": 0}


def test_the_derivative_saturates_before_dt_and_counts_once_with_v():
    """T = 600 is clipped to 500 at every step; at step 2 v' = 1500 is clipped to 1000 too,
    one count for the step."""
    result, trace = run(registers(state_limit=1000, derivative_limit=500, bias=600,
                                  v_peak=1000), 1, 3)
    assert [row[0] for row in trace["v"]] == [500, 1000, 1000]
    assert result.meta["overflow"]["iz"] == {"i_saturations": 0, "v_saturations": 3,
                                             "u_saturations": 0}


def test_u_saturates_after_its_update_and_after_the_reset():
    """`update`: u' = u + (v' − 0) passes 1000 at every step; it spikes at step 1 and u' + d
    is clipped again, one count for the step. `reset`: u is held at 900 and only u + d = 1100
    at its spike (step 0) is clipped."""
    common = dict(state_limit=1000, v_peak=60, d=5, dt_a=(1, 0))
    update = registers(**common, u_init=990, b=(1, 0), bias=1040)
    reset = registers(**{**common, "d": 200}, u_init=900, bias=980)
    qnet = fixed_network([(izhikevich("update", 1), update), (izhikevich("reset", 1), reset)],
                         steps=2)
    result = get_backend("emulator").run(qnet, 2, options={})
    assert result.traces[("update", "u")][:, 0].tolist() == [1000, 1000]
    assert result.spikes["update"][0].tolist() == [1]
    assert result.traces[("reset", "u")][:, 0].tolist() == [1000, 1000]
    assert result.spikes["reset"][0].tolist() == [0]
    assert result.meta["overflow"]["update"]["u_saturations"] == 2
    assert result.meta["overflow"]["reset"] == {"i_saturations": 0, "v_saturations": 0,
                                                "u_saturations": 1}
    assert result.meta["warnings"] == [
        "population update: i saturated 0 times, v saturated 0 times, u saturated 2 times",
        "population reset: i saturated 0 times, v saturated 0 times, u saturated 1 times"]


def test_strict_mode_names_the_first_neuron_and_its_first_register():
    """Neuron 1 saturates v and u at step 0, neuron 2 i: v of neuron 1 is reported."""
    src = source("src", 1, steps=[0], neurons=[0])
    fixed = registers(state_limit=1000, derivative_limit=500, bias=np.array([0, 600, 0]),
                      u_init=np.array([0, -2000, 0]), v_peak=1000)
    qnet = fixed_network([(src, None), (izhikevich("iz", 3), fixed)],
                         [fixed_projection("p", "src", "iz", [0], [2], 128, weight_exp=2)],
                         steps=3)
    with pytest.raises(RunError, match=r"population iz: v saturated at step 0, neuron 1 "
                                       r"\(strict mode\)"):
        get_backend("emulator").run(qnet, 3, options={"strict": True})
    only_i = fixed_network(
        [(src, None), (izhikevich("iz", 3), registers(state_limit=1000, v_peak=1000))],
        [fixed_projection("p", "src", "iz", [0], [2], 128, weight_exp=2)], steps=3)
    with pytest.raises(RunError, match=r"population iz: i saturated at step 1, neuron 2"):
        get_backend("emulator").run(only_i, 3, options={"strict": True})


def test_a_current_adds_to_the_drive_in_state_units():
    """F = 3: a current of 1.5 is the register 12, added to I from step 2 on."""
    current = Current(population="iz", kind="steps", points=np.array([[2.0, 1.5]]))
    qnet = fixed_network([(izhikevich("iz", 1), registers(frac_bits=3, bias=1))], steps=4,
                         currents=[current])
    v = get_backend("emulator").run(qnet, 4, options={}).traces[("iz", "v")][:, 0]
    assert v.tolist() == [1, 2, 2 + 13, 15 + 13]


def test_the_paper_regular_spiking_neuron_fires_regularly():
    """Registers of the paper's RS neuron at F = 15 under a constant drive of 10: a tonic
    spike train whose reset and d are exactly the registers c and u' + d."""
    fixed = paper(15, 0.5, a=0.02, b=0.2, c=-65, d=8, bias=10 * 2 ** 15)
    result, trace = run(fixed, 1, 400)
    t = result.spikes["iz"][0]
    assert t.size >= 4 and np.ptp(np.diff(t)[1:]) <= 2
    assert all(trace["v"][k][0] == -65 * 2 ** 15 for k in t)
    assert sum(result.meta["overflow"]["iz"].values()) == 0


# -- against Lava -----------------------------------------------------------------------------
def everything_network(steps: int = 300) -> QuantizedNetwork:
    """One network for one Lava run:
      rs   12 regular spiking neurons (F = 15, dt 0.5), recurrent (mixed weights, delays 1-5),
           driven by a source, per-neuron bias, v_init and u_init, i decaying (di 3000);
      cur  4 neurons of the paper's pattern S (a and b < 0) fed by rs, with an injected
           current, v_b and g ≠ 0, 1, k1 an integer coefficient (shift 0), and a derivative
           limit of 2^22 that clips each upstroke;
      sat  3 neurons at F = 9 with a 16-bit state limit, heavy input and d = 40000: i, T, v',
           u' + d all saturate;
      lif, ad  a LIF and an adaptive LIF population fed by rs, feeding back into it."""
    rng = np.random.default_rng(11)
    s = 2 ** 15
    src = source("src", 8, *np.nonzero(rng.random((steps, 8)) < 0.2))
    rs, cur, sat = izhikevich("rs", 12), izhikevich("cur", 4), izhikevich("sat", 3)
    plain = Population(name="lif", size=5, model=LIF(tau_syn=1, tau_mem=1, v_th=1))
    ad = Population(name="ad", size=4, model=AdaptiveLIF(tau_syn=1, tau_mem=1, tau_theta=1,
                                                         tau_r=1, theta_0=1, theta_step=0))
    populations = [
        (src, None),
        (rs, paper(15, 0.5, a=0.02, b=0.2, c=-65, d=8, di=3000,
                   bias=rng.integers(0, 8 * s, 12), v_init=rng.integers(-70 * s, -50 * s, 12),
                   u_init=rng.integers(-15 * s, -10 * s, 12))),
        (cur, paper(15, 0.5, a=-0.026, b=-1.0, c=-45, d=-2, di=2000, v_b=-3 * s,
                    g=coefficient(0.75), k1=(5, 0), derivative_limit=2 ** 22, bias=60 * s,
                    v_init=int(-63.8 * s), u_init=int(63.8 * s))),
        (sat, paper(9, 1.0, a=0.1, b=0.26, c=-65, d=40000, state_limit=2 ** 16 - 1,
                    derivative_limit=2 ** 16, v_init=np.array([-65, 0, 5]) * 2 ** 9,
                    u_init=np.array([0, -7, 7]) * 2 ** 9)),
        (plain, FixedLIF(du=1000, dv=300, vth=300, bias_mant=0, bias_exp=0, scale=1.0)),
        (ad, FixedAdaptiveLIF(di=800, dv=300, dtheta=100, dr=500, theta_0=250, theta_step=30,
                              bias_mant=0, bias_exp=0, scale=1.0)),
    ]
    projections = [
        random_fixed_projection(rng, "src_rs", src, rs, density=0.5, low=0, high=255,
                                max_delay=3, weight_exp=6),
        random_fixed_projection(rng, "rs_rs", rs, rs, density=0.3, low=-255, high=255,
                                max_delay=5, weight_exp=6),
        random_fixed_projection(rng, "rs_cur", rs, cur, density=0.6, low=-50, high=255,
                                max_delay=2, weight_exp=7),
        random_fixed_projection(rng, "src_sat", src, sat, density=1.0, low=200, high=255,
                                max_delay=1, weight_exp=7),
        random_fixed_projection(rng, "rs_lif", rs, plain, density=0.6, low=0, high=255,
                                max_delay=2, weight_exp=1),
        random_fixed_projection(rng, "rs_ad", rs, ad, density=0.6, low=0, high=255,
                                max_delay=3, weight_exp=1),
        random_fixed_projection(rng, "lif_rs", plain, rs, density=0.5, low=-255, high=0,
                                max_delay=2, weight_exp=6),
        random_fixed_projection(rng, "ad_rs", ad, rs, density=0.5, low=0, high=255,
                                max_delay=4, weight_exp=6),
    ]
    current = Current(population="cur", kind="file", values=rng.normal(15, 10, (steps, 4)))
    return fixed_network(populations, projections, steps=steps, currents=[current])


@pytest.mark.lava
def test_every_feature_and_saturation_is_bit_exact_with_lava():
    result = assert_same_as_lava(everything_network())
    # what the network was built to exercise did happen
    assert all(result.spikes[name][0].size > 5 for name in ("rs", "cur", "sat", "lif", "ad"))
    assert all(count > 0 for count in result.meta["overflow"]["sat"].values())
    assert result.meta["overflow"]["cur"]["v_saturations"] > 0
    assert sum(result.meta["overflow"]["rs"].values()) == 0
    assert np.any(result.traces[("rs", "i")] < 0)
