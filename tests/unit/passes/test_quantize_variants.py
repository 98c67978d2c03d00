"""Quantization of the LIF variants (DESIGN §2.4, §2.5): refractory and reset carried over,
tau_syn 0 exact, non-spiking populations scaled without a threshold, per-neuron bias and
initial values, injected currents inside the scale, and what the report says about each."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Current, Network, Population, Probe, Projection, SpikeArray
from nmcompile.passes.quantize import quantize

STATE = 2 ** 23


def network(model: LIF, *, size: int = 3, weights=(0.4,), currents=()) -> Network:
    """src (one neuron) -> lif (`size` neurons): every synapse weight w into every neuron."""
    w = np.asarray(weights, np.float64)
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0]),
                                                          steps=np.array([0])))
    lif = Population(name="lif", size=size, model=model)
    k = np.arange(size * w.size)
    proj = Projection(name="p", pre="src", post="lif", pre_idx=np.zeros(k.size, np.int32),
                      post_idx=(k % size).astype(np.int32), weight=np.repeat(w, size),
                      delay=np.ones(k.size, np.int32))
    projections = (proj,) if w.size else ()
    return Network(name="t", populations={"src": src, "lif": lif}, projections=projections,
                   probes=(Probe(population="lif", var="v"),), currents=tuple(currents),
                   steps=50)


def lif(**changes) -> LIF:
    return LIF(**{**dict(tau_syn=4.0, tau_mem=20.0, v_th=1.0), **changes})


def population_report(q):
    (rep,) = q.report.populations
    return rep


def strict_json(q) -> dict:
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(json.dumps(q.report.to_dict()), parse_constant=refuse)


# -- refractory, reset, tau_syn 0 -----------------------------------------------------------
def test_refractory_and_subtract_reset_are_carried_into_the_registers_and_the_report():
    q = quantize(network(lif(refractory=3, reset="subtract")), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    assert (fixed.refractory, fixed.reset, fixed.spiking, fixed.plain) == (3, "subtract", True,
                                                                          False)
    assert (rep.refractory, rep.reset, rep.spiking) == (3, "subtract", True)
    row = next(line for line in q.report.text().splitlines()[6:] if line.startswith("lif "))
    assert row.split()[1:4] == ["3", "subtract", "yes"]


def test_plain_parameters_give_plain_registers():
    fixed = quantize(network(lif()), "loihi2").populations["lif"]
    assert (fixed.refractory, fixed.reset, fixed.spiking, fixed.plain) == (0, "zero", True, True)
    assert (fixed.u_init, fixed.v_init) == (0, 0)


def test_subtract_reset_counts_the_excess_that_climbs_over_resets():
    """A drive above v_th per step (worst-case u ≈ 2.25 v_th): v − v_th grows after each
    subtraction until the leak holds it, so the worst case of v (and the scale) must leave
    room for it; a zero reset does not need that room."""
    zero = population_report(quantize(network(lif(), weights=[0.5]), "loihi2"))
    sub = population_report(quantize(network(lif(reset="subtract"), weights=[0.5]), "loihi2"))
    assert sub.v_worst / sub.scale > 5 * zero.v_worst / zero.scale
    assert sub.v_worst < STATE and sub.scale < zero.scale


def test_tau_syn_zero_is_exact():
    q = quantize(network(lif(tau_syn=0.0)), "loihi2")
    assert q.populations["lif"].du == 4095   # u keeps 4096 - (4095 + 1) = 0 of itself
    assert population_report(q).tau_syn == (0.0, 0.0)
    assert not [d for d in q.report.warnings if d.code == "NM605"]


# -- non-spiking ----------------------------------------------------------------------------
def test_non_spiking_scale_comes_from_the_worst_case_not_a_threshold():
    """A leaky readout (tau_mem 20 ms): v settles at most at u+/dv; the scale maps that to
    the 24-bit limit; the vth register holds its largest valid value."""
    q = quantize(network(lif(v_th=math.inf), weights=[0.5, 0.25]), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    assert (fixed.spiking, fixed.vth) == (False, 2 ** 17 - 1)
    assert rep.v_th == (math.inf, math.inf)
    assert 2 ** 22 < rep.v_worst < STATE and rep.v_headroom_bits < 1
    assert strict_json(q)["populations"][0]["v_th"] == ["inf", "inf"]
    # twice the weights: half the scale (no threshold rounds it)
    doubled = quantize(network(lif(v_th=math.inf), weights=[1.0, 0.5]), "loihi2")
    assert doubled.populations["lif"].scale == pytest.approx(fixed.scale / 2, rel=1e-12)


def test_non_spiking_population_without_any_input_gets_scale_one():
    q = quantize(network(lif(v_th=math.inf), weights=[]), "loihi2")
    assert q.populations["lif"].scale == 1.0 and population_report(q).v_worst == 0


def test_non_spiking_population_with_only_initial_values_fits_them():
    q = quantize(network(lif(v_th=math.inf, v_init=np.array([0.5, -2.0, 1.0])), weights=[]),
                 "loihi2")
    fixed = q.populations["lif"]
    assert fixed.scale == (STATE - 1) / 2.0   # |v_init| ≤ 2 fills 24 bits
    assert fixed.v_init.tolist() == [np.rint(0.5 * fixed.scale), -(STATE - 1),
                                     np.rint(fixed.scale)]


@settings(derandomize=True, max_examples=80, deadline=None)
@given(value=st.sampled_from([5e-324, 1e-300, 1e-10, 1.0, 1e10, 1e300, 1.7e308]),
       what=st.sampled_from(["bias", "weight", "v_init", "current"]))
def test_non_spiking_extremes_quantize_or_refuse_clearly(value, what):
    model = lif(v_th=math.inf, **({what: value} if what in ("bias", "v_init") else {}))
    currents = (Current(population="lif", kind="steps", points=np.array([[0.0, value]])),) \
        if what == "current" else ()
    net = network(model, weights=[value] if what == "weight" else [], currents=currents)
    try:
        q = quantize(net, "loihi2")
    except InputError as exc:
        assert "population lif: v_th = inf (non-spiking) with these weights" in str(exc)
        return
    fixed = q.populations["lif"]
    assert 0 < fixed.scale < math.inf and math.isfinite(STATE / fixed.scale)
    strict_json(q)
    q.report.text()


# -- per-neuron bias ------------------------------------------------------------------------
def test_per_neuron_bias_takes_the_smallest_exponent_that_fits_each_neuron():
    bias = np.array([0.001, 0.3, -0.05])
    q = quantize(network(lif(bias=bias), weights=[0.1]), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    scale = fixed.scale
    assert isinstance(fixed.bias_mant, np.ndarray) and isinstance(fixed.bias_exp, np.ndarray)
    for b, m, e in zip(bias, fixed.bias_mant, fixed.bias_exp):
        assert -4096 <= m <= 4095 and 0 <= e <= 7
        assert e == 0 or abs(np.rint(b * scale / 2 ** (e - 1))) > 4095  # one less would not fit
        assert abs(m * 2.0 ** e / scale - b) <= 2.0 ** (e - 1) / scale
    assert fixed.bias_exp.tolist() != [fixed.bias_exp[0]] * 3  # the exponents differ here
    realised = fixed.bias_mant * 2.0 ** fixed.bias_exp / scale
    assert rep.bias is None and rep.bias_mant is None and rep.bias_exp is None
    assert rep.bias_error == np.abs(realised - bias).max() > 0
    assert "per neuron" in q.report.text()


def test_the_same_bias_for_every_neuron_stays_one_register():
    q = quantize(network(lif(bias=np.array([0.2, 0.2, 0.2]))), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    assert isinstance(fixed.bias_mant, int) and isinstance(fixed.bias_exp, int)
    assert rep.bias[0] == 0.2 and rep.bias_mant == fixed.bias_mant
    assert quantize(network(lif(bias=0.2)), "loihi2").populations["lif"] == fixed


def test_a_bias_that_cannot_fit_saturates_per_neuron_and_warns():
    """v_th 1e-300 forces an enormous scale: only the huge bias of neuron 1 saturates."""
    q = quantize(network(lif(v_th=1e-300, bias=np.array([0.0, 1e300, 1e-302]))), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    assert fixed.bias_mant[1] == 4095 and fixed.bias_exp[1] == 7 and rep.bias_saturated == 1
    (warning,) = [d for d in q.report.warnings if d.code == "NM606"]
    assert "bias 1e+300 saturates" in warning.message and "in 1 of 3 neurons" in warning.message


# -- initial values -------------------------------------------------------------------------
def test_initial_values_are_rounded_at_the_scale():
    u0, v0 = np.array([0.1, -0.2, 0.3]), np.array([0.5, 0.25, -0.75])
    q = quantize(network(lif(u_init=u0, v_init=v0)), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    np.testing.assert_array_equal(fixed.u_init, np.rint(u0 * fixed.scale))
    np.testing.assert_array_equal(fixed.v_init, np.rint(v0 * fixed.scale))
    assert rep.u_init_error == np.abs(fixed.u_init / fixed.scale - u0).max() <= 0.5 / fixed.scale
    assert rep.v_init_error == np.abs(fixed.v_init / fixed.scale - v0).max() <= 0.5 / fixed.scale
    assert rep.init_saturated == 0 and rep.u_init_error > 0


def test_a_uniform_initial_value_stays_one_register():
    fixed = quantize(network(lif(v_init=0.5)), "loihi2").populations["lif"]
    assert fixed.v_init == round(0.5 * fixed.scale) and isinstance(fixed.v_init, int)


def test_initial_values_widen_the_worst_case():
    small = population_report(quantize(network(lif()), "loihi2"))
    big = population_report(quantize(network(lif(u_init=40.0)), "loihi2"))
    assert big.u_worst / big.scale == 40.0 > small.u_worst / small.scale
    assert big.u_worst < STATE


def test_initial_values_beyond_24_bits_saturate_and_warn():
    """The threshold floor (2^8 mantissa) keeps the scale ≥ 2^14 / v_th: 1e6·v_th cannot fit."""
    q = quantize(network(lif(v_init=np.array([0.0, 1e6, -1e6]))), "loihi2")
    fixed, rep = q.populations["lif"], population_report(q)
    assert fixed.v_init.tolist() == [0, STATE - 1, -(STATE - 1)]
    assert rep.init_saturated == 2 and rep.v_init_error > 9e5
    assert any(d.code == "NM608" and "2 initial values" in d.message for d in q.report.warnings)


# -- injected currents ----------------------------------------------------------------------
def ramp(population="lif", top=1.0, neurons=None) -> Current:
    return Current(population=population, kind="ramp", neurons=neurons,
                   points=np.array([[0.0, 0.0], [30.0, top]]))


def test_current_rounding_is_reported():
    q = quantize(network(lif(), currents=[ramp(top=0.7)]), "loihi2")
    rep = population_report(q)
    c = q.network.current("lif", q.network.steps)
    reg = np.rint(c * q.populations["lif"].scale)
    assert rep.current_error == np.abs(reg / q.populations["lif"].scale - c).max() > 0
    assert rep.current_saturated == 0
    assert strict_json(q)["populations"][0]["current_error"] == rep.current_error
    assert population_report(quantize(network(lif()), "loihi2")).current_error is None


def test_a_current_widens_the_worst_case_of_v_and_lowers_the_scale():
    without = population_report(quantize(network(lif()), "loihi2"))
    strong = population_report(quantize(network(lif(), currents=[ramp(top=30.0)]), "loihi2"))
    assert strong.scale < without.scale and strong.v_worst < STATE
    assert strong.v_worst / strong.scale > 30.0


def test_a_negative_current_into_some_neurons_widens_the_negative_worst_case():
    neg = Current(population="lif", kind="steps", neurons=np.array([2]),
                  points=np.array([[5.0, -3.0]]))
    rep = population_report(quantize(network(lif(), currents=[neg]), "loihi2"))
    dv = round(4096 * (1 - math.exp(-1 / 20)))
    assert rep.v_worst / rep.scale == pytest.approx(3.0 * 4096 / dv)


def test_a_current_too_large_for_its_register_saturates_and_warns():
    """vth ≥ 1 keeps the scale ≥ 64 / v_th: a current of 1e6 · v_th exceeds 2^23 − 1."""
    q = quantize(network(lif(), currents=[ramp(top=1e6)]), "loihi2")
    rep = population_report(q)
    assert q.populations["lif"].vth == 1 and rep.current_saturated > 0
    (warning,) = [d for d in q.report.warnings if d.code == "NM607"]
    assert f"in {rep.current_saturated} values" in warning.message


def test_report_json_of_every_variant_is_strict():
    model = lif(v_th=math.inf, tau_syn=0.0, tau_mem=math.inf, bias=np.array([0.1, -0.2, 0.0]),
                u_init=0.3, v_init=np.array([1.0, 2.0, 3.0]), refractory=2, reset="subtract")
    d = strict_json(quantize(network(model, currents=[ramp()]), "loihi2"))["populations"][0]
    assert d["bias"] is None and d["refractory"] == 2 and d["reset"] == "subtract"
    assert d["spiking"] is False and d["v_headroom_bits"] == "-inf" and d["tau_mem"][1] == "inf"
    assert {"bias_error", "u_init_error", "v_init_error", "init_saturated", "current_error",
            "current_saturated", "bias_saturated"} <= d.keys()
