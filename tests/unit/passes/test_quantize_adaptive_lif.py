"""Quantization of adaptive LIF populations (Lava's ATRLIF, DESIGN §2.7): decays with Lava's
offsets, theta_0 exact, theta_step and bias rounded and reported, worst cases of i, v, theta
and r that a bit-accurate run never exceeds, and the refusals and warnings."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import networks

from nmcompile import driver
from nmcompile.diagnostics import InputError
from nmcompile.ir import AdaptiveLIF, Current, Network, Population, Probe, Projection, SpikeArray
from nmcompile.passes.quantize import quantize
from nmcompile.passes.quantize.shared import bias_registers
from nmcompile.targets import load_target

STATE = 2 ** 23


def network(model: AdaptiveLIF, *, size: int = 3, weights=(0.4,), currents=(),
            dt: float = 1.0) -> Network:
    """src (one neuron) -> adapt (`size` neurons): every weight into every neuron."""
    w = np.asarray(weights, np.float64)
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0]),
                                                          steps=np.array([0])))
    adapt = Population(name="adapt", size=size, model=model)
    k = np.arange(size * w.size)
    proj = Projection(name="p", pre="src", post="adapt", pre_idx=np.zeros(k.size, np.int32),
                      post_idx=(k % size).astype(np.int32), weight=np.repeat(w, size),
                      delay=np.ones(k.size, np.int32))
    return Network(name="t", populations={"src": src, "adapt": adapt},
                   projections=(proj,) if w.size else (),
                   probes=(Probe(population="adapt", var="v"),), currents=tuple(currents),
                   steps=50, dt=dt)


def adaptive(**changes) -> AdaptiveLIF:
    return AdaptiveLIF(**{**dict(tau_syn=4.0, tau_mem=20.0, tau_theta=50.0, tau_r=5.0,
                                 theta_0=1.0, theta_step=0.3), **changes})


def report_of(q):
    (rep,) = q.report.populations
    return rep


def test_decays_take_lavas_offset_for_i_only():
    m = adaptive(tau_syn=0.0, tau_mem=math.inf, tau_theta=10.0, tau_r=2.0)
    fixed = quantize(network(m), "loihi2").populations["adapt"]
    _, _, dtheta, dr = m.decays(1.0)
    assert fixed.di == 4095                     # i keeps 4096 − (4095 + 1) = 0: tau_syn 0 exact
    assert fixed.dv == 0                        # tau_mem inf: v keeps all of itself
    assert (fixed.dtheta, fixed.dr) == (round(4096 * dtheta), round(4096 * dr))


def test_theta_0_is_exact_and_theta_step_within_half_a_mantissa_step():
    q = quantize(network(adaptive(theta_0=0.7, theta_step=0.123)), "loihi2")
    fixed, rep = q.populations["adapt"], report_of(q)
    assert fixed.theta_0 * 64 / fixed.scale == pytest.approx(0.7, rel=1e-15)
    assert rep.theta_0 == (0.7, pytest.approx(0.7, rel=1e-15))
    assert abs(rep.theta_step[1] - 0.123) <= 32 / fixed.scale
    assert rep.theta_step[1] == fixed.theta_step * 64 / fixed.scale != 0.123
    assert 2 ** 8 <= fixed.theta_0 <= 2 ** 12 - 1   # loihi2: Lava declares 12-bit theta_0


def test_narrow_threshold_bits_bound_the_mantissas():
    fixed = quantize(network(adaptive(theta_step=2.5)), "tiny").populations["adapt"]
    assert load_target("tiny").numerics.adaptive_lif.threshold_bits == 6
    assert fixed.theta_0 <= 63 and fixed.theta_step <= 63


def test_bias_mantissa_and_exponent_as_lif():
    bias = np.array([0.01, -0.2, 0.05])
    q = quantize(network(adaptive(bias=bias)), "loihi2")
    fixed, rep = q.populations["adapt"], report_of(q)
    mant, exp, _ = bias_registers(bias * fixed.scale, load_target("loihi2").numerics)
    np.testing.assert_array_equal(fixed.bias_mant, mant)
    np.testing.assert_array_equal(fixed.bias_exp, exp)
    assert rep.bias is None and 0 < rep.bias_error <= 2.0 ** exp.max() / fixed.scale


def test_vanishing_theta_step_warns():
    q = quantize(network(adaptive(theta_step=1e-9)), "loihi2")
    assert q.populations["adapt"].theta_step == 0
    assert any(d.code == "NM616" and "VANISHES" in d.message for d in q.report.warnings)


def test_tau_syn_inf_warns():
    q = quantize(network(adaptive(tau_syn=math.inf)), "loihi2")
    assert q.populations["adapt"].di == 0
    assert any(d.code == "NM605" and "i always decays" in d.message for d in q.report.warnings)


def test_theta_and_r_stay_below_2_to_24_registers_even_when_v_is_unbounded():
    """tau_mem, tau_theta and tau_r inf with a positive bias: v climbs until it saturates,
    and theta, r can only follow v (a spike needs v − r ≥ theta)."""
    q = quantize(network(adaptive(tau_mem=math.inf, tau_theta=math.inf, tau_r=math.inf,
                                  bias=0.1)), "loihi2")
    rep = report_of(q)
    assert math.isinf(rep.worst["v"]) and rep.headroom_bits("v") == -math.inf
    step = q.populations["adapt"].theta_step * 64
    assert rep.worst["theta"] == STATE - 1 + step < 2 ** 24
    assert rep.worst["r"] == 2 * (STATE - 1)
    codes = {d.code for d in q.report.warnings}
    assert {"NM604", "NM609"} <= codes
    assert json.loads(json.dumps(q.report.to_dict()))["populations"][0]["worst"]["v"] == "inf"


def test_the_weight_floor_can_push_r_past_24_bits_and_says_so():
    """Many strong inputs and a long tau_mem: the worst case of v is far above theta_0, so
    the room for 24 bits would cost theta_0 its resolution; the floor keeps 2^8."""
    q = quantize(network(adaptive(tau_mem=200.0, tau_theta=200.0, tau_r=100.0),
                         weights=[0.9] * 20), "loihi2")
    fixed, rep = q.populations["adapt"], report_of(q)
    assert fixed.theta_0 >= 2 ** 8 and rep.worst["r"] >= STATE
    warning = next(d for d in q.report.warnings if d.code == "NM609")
    assert "Lava's model and the emulator hold them in 32 bits" in warning.message


def test_currents_bound_the_scale_and_report_their_rounding():
    current = Current(population="adapt", kind="ramp", points=np.array([[0.0, 0.0],
                                                                         [40.0, 0.37]]))
    q = quantize(network(adaptive(), currents=[current]), "loihi2")
    rep, scale = report_of(q), q.populations["adapt"].scale
    c = q.network.current("adapt", q.network.steps)
    assert rep.current_error == np.abs(np.rint(c * scale) / scale - c).max() > 0
    assert rep.current_saturated == 0


def test_loihi1_refuses_an_adaptive_population_in_one_line():
    with pytest.raises(InputError) as exc:
        quantize(network(adaptive()), "loihi1")
    (diagnostic,) = exc.value.diagnostics
    assert diagnostic.code == "NM612" and "\n" not in str(exc.value)
    assert diagnostic.message == ("population adapt: target loihi1 cannot run model "
                                  "adaptive_lif (it runs lif: its numerics have no adaptive_lif "
                                  "block); built-in targets that run it: loihi2, tiny")


def test_extreme_theta_0_is_refused_clearly():
    with pytest.raises(InputError, match=r"population adapt: theta_0 = 4.94066e-324 cannot be "
                                         r"represented on this target: .*express theta_0"):
        quantize(network(adaptive(theta_0=5e-324, theta_step=0.0), weights=()), "loihi2")


def test_report_text_and_strict_json():
    q = quantize(network(adaptive(bias=0.02)), "loihi2")
    text = q.report.text()
    assert "adaptive_lif" in text and "theta_step req→real" in text
    row = next(line for line in text.splitlines() if line.startswith("adapt ")
               and "→" in line and "theta" not in line)
    assert row.split()[1] == f"{q.populations['adapt'].scale:.4g}"
    d = json.loads(json.dumps(q.report.to_dict()),
                   parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    pop = d["populations"][0]
    assert pop["model"] == "adaptive_lif" and set(pop["headroom_bits"]) == {"i", "v", "theta",
                                                                             "r"}


@settings(derandomize=True, max_examples=12, deadline=None)
@given(net=networks(models=("adaptive_lif",), max_lif=2, currents=True, variants=True,
                    max_delay=8))
def test_a_bit_accurate_run_stays_within_the_worst_cases(net):
    """The worst cases are bounds of Lava's integer semantics: the emulator's registers
    (bit-exact with Lava's PyATRLIFModelFixed) never pass them."""
    probes = tuple(Probe(population=p.name, var=var) for p in net.neuron_populations()
                   for var in ("i", "v", "theta", "r"))
    from dataclasses import replace
    net = replace(net, probes=probes, steps=200)
    q = quantize(net, "loihi2")
    result = driver.run(net, "emulator", target="loihi2")
    for rep in q.report.populations:
        for var in ("i", "v", "theta", "r"):
            assert np.abs(result.traces[(rep.name, var)]).max() <= rep.worst[var]
