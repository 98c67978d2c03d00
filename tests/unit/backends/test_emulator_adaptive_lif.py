"""The emulator's adaptive LIF (DESIGN §2.7): Lava's PyATRLIFModelFixed bit for bit, quirks
included, plus nmcompile's injected current (NmcATRLIF).

Without Lava: hand-computed register traces of each quirk (the `>=` threshold, theta starting
at theta_0 << 6, the once-only wrap of i that leaves 2^23 as it is, the int32 wraps of theta,
of theta − theta_0, of r + 2·theta and of v − r, decays truncated toward zero), the overflow
accounting and strict mode. With Lava (marked `lava`): networks built to exercise all of it at
once — recurrence, delays, per-neuron bias, currents, every wrap and saturation, LIF and
adaptive populations side by side — give the same spikes and the same i, v, theta and r
registers on `emulator` and `lava-fixed`.
"""
from __future__ import annotations

import numpy as np
import pytest

from handbuilt import (assert_same_as_lava, fixed_network, fixed_projection,
                       random_fixed_projection, source)

from nmcompile.backends import get_backend
from nmcompile.diagnostics import RunError
from nmcompile.ir import (LIF, AdaptiveLIF, Current, FixedAdaptiveLIF, FixedLIF, Population,
                          QuantizedNetwork)

LIMIT = 2 ** 23
INT32 = 2 ** 31


# -- building networks by hand ----------------------------------------------------------------
def adaptive(name: str, size: int) -> Population:
    """An adaptive LIF population: the float parameters are never read by fixed backends."""
    return Population(name=name, size=size, model=AdaptiveLIF(
        tau_syn=1, tau_mem=1, tau_theta=1, tau_r=1, theta_0=1, theta_step=0))


def lif(name: str, size: int) -> Population:
    return Population(name=name, size=size, model=LIF(tau_syn=1, tau_mem=1, v_th=1))


def registers(**changes) -> FixedAdaptiveLIF:
    """i and v keep everything but nothing wraps by itself, theta and r hold: change what a
    test is about."""
    base = dict(di=4095, dv=0, dtheta=0, dr=0, theta_0=2 ** 17, theta_step=0, bias_mant=0,
                bias_exp=0, scale=1.0)
    return FixedAdaptiveLIF(**{**base, **changes})


def one_neuron(fixed: FixedAdaptiveLIF, steps: int, **kwargs):
    qnet = fixed_network([(adaptive("ad", 1), fixed)], steps=steps)
    result = get_backend("emulator").run(qnet, steps, options=kwargs)
    return result, {var: result.traces[("ad", var)][:, 0].astype(np.int64).tolist()
                    for var in AdaptiveLIF.STATE}


# -- without Lava: each quirk by hand ----------------------------------------------------------
def test_threshold_is_reached_with_equality_and_adapts():
    """bias 160 per step with v kept whole: v = 160·(t + 1) meets theta = 10 << 6 = 640 at
    step 3 (>=, not >). The spike adds 2·theta to r and theta_step << 6 to theta, then theta
    relaxes to 640 by 3/4 of its excess and r halves each step, both truncated; v is never
    reset, so the next spike comes once v − r catches up with theta."""
    result, trace = one_neuron(registers(theta_0=10, theta_step=5, dtheta=1024, dr=2048,
                                         bias_mant=160), 8)
    assert result.spikes["ad"][0].tolist() == [3, 6]
    assert trace["v"] == [160 * (t + 1) for t in range(8)]
    assert trace["theta"] == [640, 640, 640, 960, 880, 820, 775 + 320, 640 + 341]
    assert trace["r"] == [0, 0, 0, 1280, 640, 320, 160 + 2 * 775, 855]


def test_theta_starts_at_theta_0_shifted_and_i_v_r_at_zero():
    _, trace = one_neuron(registers(theta_0=77), 2)
    assert trace == {"i": [0, 0], "v": [0, 0], "theta": [77 << 6] * 2, "r": [0, 0]}


def test_negative_v_decays_toward_zero():
    """bias −1001 every step, v keeps 1/2: −1001, −1001 − 500 (not −501), …"""
    _, trace = one_neuron(registers(dv=2048, bias_mant=-1001), 3)
    assert trace["v"] == [-1001, -1001 - 500, -1001 - 750]


def test_i_wraps_once_and_leaves_2_to_the_23_as_it_is():
    """Eight synapses of 128 << 7 from one step's spikes: i = 2^23 exactly stays (Lava tests
    i > 2^23); −2^23 wraps to +2^23; 2^23 + 8192 wraps to −2^23 + 8192; each wrap counted.
    v saturates from the same input."""
    src = source("src", 9, steps=[0] * 9, neurons=range(9))
    ad = adaptive("ad", 3)
    projections = [
        fixed_projection("plus", "src", "ad", range(8), [0] * 8, 128, weight_exp=7),
        fixed_projection("minus", "src", "ad", range(8), [1] * 8, -128, weight_exp=7),
        fixed_projection("over", "src", "ad", range(9), [2] * 9, [128] * 8 + [1], weight_exp=7)]
    qnet = fixed_network([(src, None), (ad, registers(dv=4095))], projections, steps=3)
    result = get_backend("emulator").run(qnet, 3, options={})
    assert result.traces[("ad", "i")][1].tolist() == [LIMIT, LIMIT, -LIMIT + 8192]
    assert result.traces[("ad", "v")][1].tolist() == [LIMIT - 1, LIMIT - 1, -LIMIT + 8192]
    assert result.meta["overflow"] == {"ad": {"i_wraps": 2, "v_saturations": 2}}
    assert result.meta["warnings"] == ["population ad: i wrapped 2 times, v saturated 2 times"]


# theta_0 35835, theta_step 33545782 (theta_step << 6 just under 2^31), v at its limit after
# 16 steps: theta wraps negative at the first spike (step 4), theta − theta_0 wraps at step 5,
# 2·theta wraps at the spike of step 16 (r + 2·theta then wraps back), after which v − r =
# 2^31 + 570977 wraps to a negative number below theta: without that wrap the neuron would
# spike at every step from 17 on.
WRAPPING = dict(theta_0=35835, theta_step=33545782, dtheta=2040, dr=0, bias_mant=4095,
                bias_exp=7)


def test_theta_r_and_v_minus_r_wrap_in_int32():
    theta_0, theta_step = 35835 << 6, 33545782 << 6
    result, trace = one_neuron(registers(**WRAPPING), 22)
    assert result.spikes["ad"][0].tolist() == [4, 15, 16]
    assert trace["theta"][:5] == [theta_0] * 4 + [theta_0 + theta_step - 2 ** 32]
    # theta − theta_0 = theta_step − 2^32 wraps back to theta_step, which keeps 2056/4096
    assert trace["theta"][5] == theta_step * 2056 // 4096 + theta_0
    theta_16 = trace["theta"][16] - theta_step  # before the spike of step 16
    assert trace["r"][15:17] == [11362238, 11362238 + 2 * theta_16] and theta_16 < -2 ** 30
    v, r = trace["v"][17], trace["r"][17]
    assert v - r >= INT32 and v - r - 2 ** 32 < trace["theta"][17]   # unwrapped, it would spike


def test_per_neuron_bias_and_a_current_add_to_v():
    """Effective bias mantissa << exponent per neuron, plus the current register
    rint(c · scale) of each step (here 0 until step 1, then 2.5 · 10 = 25)."""
    ad = adaptive("ad", 3)
    current = Current(population="ad", kind="steps", neurons=np.array([0, 2]),
                      points=np.array([[1.0, 2.5]]))
    fixed = registers(bias_mant=np.array([3, -7, 5]), bias_exp=np.array([0, 2, 1]), scale=10.0)
    qnet = fixed_network([(ad, fixed)], steps=3, currents=[current])
    v = get_backend("emulator").run(qnet, 3, options={}).traces[("ad", "v")]
    assert v.tolist() == [[3, -28, 10], [3 + 3 + 25, -56, 10 + 10 + 25],
                          [31 + 3 + 25, -84, 45 + 10 + 25]]


def test_strict_mode_names_population_register_and_neuron():
    src = source("src", 8, steps=[2] * 8, neurons=range(8))
    qnet = fixed_network(
        [(src, None), (adaptive("ad", 2), registers(dv=4095))],
        [fixed_projection("p", "src", "ad", range(8), [1] * 8, -128, weight_exp=7)], steps=6)
    with pytest.raises(RunError, match=r"population ad: i wrapped at step 3, neuron 1 "
                                       r"\(strict mode\)"):
        get_backend("emulator").run(qnet, 6, options={"strict": True})
    saturating = fixed_network([(adaptive("ad", 2), registers(bias_mant=np.array([0, 4095]),
                                                              bias_exp=7))], steps=40)
    with pytest.raises(RunError, match=r"population ad: v saturated at step 16, neuron 1"):
        get_backend("emulator").run(saturating, 40, options={"strict": True})


def test_overflow_is_named_per_model_next_to_lif():
    qnet = fixed_network([(adaptive("ad", 1), registers()),
                          (lif("plain", 1), FixedLIF(du=0, dv=0, vth=1, bias_mant=0, bias_exp=0,
                                                     scale=1.0))], steps=2)
    result = get_backend("emulator").run(qnet, 2, options={})
    assert result.meta["overflow"] == {"ad": {"i_wraps": 0, "v_saturations": 0},
                                       "plain": {"u_wraps": 0, "v_saturations": 0}}
    assert get_backend("emulator").capabilities.models["adaptive_lif"] == {"current"}


# -- against Lava -----------------------------------------------------------------------------
def everything_network(steps: int = 80) -> QuantizedNetwork:
    """One network for one Lava run:
      rec  12 adaptive neurons, recurrent (mixed weights, delays 1-4), driven by a source,
           per-neuron bias mantissa and exponent, every decay different;
      cur  4 adaptive neurons fed by rec with an injected current (NmcATRLIF), tau_syn 0;
      wrap 4 neurons: the i wrap cases of the hand test above (0-2, kicked at steps 0 and
           30) and WRAPPING (3: theta, r, v − r);
      lif  a LIF population between rec and cur, both ways (the emulator's plain loop and
           the model dispatch in one kernel)."""
    rng = np.random.default_rng(7)
    spikes = rng.random((steps, 6)) < 0.3
    src = source("src", 6, *np.nonzero(spikes))
    kick = source("kick", 9, steps=[0] * 9 + [30] * 9, neurons=list(range(9)) * 2)
    rec, cur, wrap, plain = adaptive("rec", 12), adaptive("cur", 4), adaptive("wrap", 4), \
        lif("lif", 5)
    populations = [
        (src, None), (kick, None),
        (rec, registers(di=700, dv=300, dtheta=150, dr=900, theta_0=300, theta_step=40,
                        bias_mant=rng.integers(-50, 200, 12), bias_exp=rng.integers(0, 4, 12))),
        (cur, registers(di=4095, dv=1200, dtheta=64, dr=2000, theta_0=500, theta_step=300,
                        bias_mant=-20, bias_exp=1, scale=3000.0)),
        (wrap, registers(**{**WRAPPING, "bias_mant": np.array([0, 0, 0, 4095])})),
        (plain, FixedLIF(du=500, dv=400, vth=400, bias_mant=30, bias_exp=2, scale=1.0)),
    ]
    projections = [
        random_fixed_projection(rng, "src_rec", src, rec, density=0.6, low=0, high=255,
                                max_delay=3, weight_exp=3),
        random_fixed_projection(rng, "rec_rec", rec, rec, density=0.3, low=-200, high=255,
                                max_delay=4, weight_exp=2),
        random_fixed_projection(rng, "rec_cur", rec, cur, density=0.5, low=-100, high=255,
                                max_delay=2, weight_exp=4),
        random_fixed_projection(rng, "rec_lif", rec, plain, density=0.5, low=0, high=255,
                                max_delay=2, weight_exp=4),
        random_fixed_projection(rng, "lif_rec", plain, rec, density=0.5, low=-255, high=0,
                                max_delay=3, weight_exp=3),
        fixed_projection("plus", "kick", "wrap", range(8), [0] * 8, 128, weight_exp=7),
        fixed_projection("minus", "kick", "wrap", range(8), [1] * 8, -128, weight_exp=7),
        fixed_projection("over", "kick", "wrap", range(9), [2] * 9, [128] * 8 + [1],
                         weight_exp=7),
    ]
    current = Current(population="cur", kind="file", values=rng.normal(0.3, 0.4, (steps, 4)))
    return fixed_network(populations, projections, steps=steps, currents=[current])


@pytest.mark.lava
def test_every_feature_and_quirk_is_bit_exact_with_lava():
    result = assert_same_as_lava(everything_network())
    # what the network was built to exercise did happen
    assert all(result.spikes[name][0].size > 5 for name in ("rec", "cur", "lif"))
    assert result.spikes["wrap"][1].tolist().count(3) == 3
    assert result.meta["overflow"]["wrap"]["i_wraps"] == 4
    assert result.meta["overflow"]["wrap"]["v_saturations"] > 0
    theta, r = result.traces[("wrap", "theta")][:, 3], result.traces[("wrap", "r")][:, 3]
    assert theta.min() < 0 and r.min() < -INT32 + LIMIT
    assert np.any(result.traces[("rec", "i")] < 0) and np.any(result.traces[("cur", "v")] < 0)
