"""Quantization of Izhikevich populations (DESIGN §2.6): coefficients in their most precise
(mantissa, shift), state registers at 2^F with F the largest at which the worst cases fit,
refusals that name what does not fit, and worst cases that the paper's firing patterns,
run bit-accurately, stay within."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import (Current, FixedIzhikevich, Izhikevich, Network, Population, Probe,
                          Projection, QuantizedNetwork, SpikeArray, fixed_current)
from nmcompile.passes.quantize import quantize
from nmcompile.passes.quantize.izhikevich import ENVELOPE_MARGIN, coefficient
from nmcompile.passes.quantize.shared import weight_scale_limits
from nmcompile.targets import load_target

PATTERNS = Path(__file__).parents[3] / "examples" / "izhikevich" / "patterns"
REGULAR = dict(a=0.02, b=0.2, c=-65.0, d=8.0)


def network(model: Izhikevich, *, size: int = 2, weights=(5.0,), currents=(),
            dt: float = 0.5, steps: int = 200) -> Network:
    """src (one neuron spiking at step 0) -> cells (`size` neurons): every weight into every
    neuron."""
    w = np.asarray(weights, np.float64)
    src = Population(name="src", size=1, model=SpikeArray(neurons=np.array([0]),
                                                          steps=np.array([0])))
    cells = Population(name="cells", size=size, model=model)
    k = np.arange(size * w.size)
    proj = Projection(name="p", pre="src", post="cells", pre_idx=np.zeros(k.size, np.int32),
                      post_idx=(k % size).astype(np.int32), weight=np.repeat(w, size),
                      delay=np.ones(k.size, np.int32))
    return Network(name="t", populations={"src": src, "cells": cells},
                   projections=(proj,) if w.size else (),
                   probes=(Probe(population="cells", var="v"),), currents=tuple(currents),
                   steps=steps, dt=dt)


def report_of(q):
    (rep,) = q.report.populations
    return rep


@pytest.mark.parametrize("value, bits, expected", [
    (0.04, 16, (20972, 19)), (5.0, 16, (20480, 12)), (1.0, 16, (16384, 14)),
    (-0.026 * 0.25, 16, (-27263, 22)), (0.7, 8, (90, 7)), (0.0, 16, (0, 30)),
    (127.0, 8, (127, 0)), (128.0, 8, None), (-200.0, 8, None)])
def test_a_coefficient_takes_its_most_precise_form(value, bits, expected):
    assert coefficient(value, bits) == expected
    if expected is not None and expected[1] < 30:
        mantissa, shift = expected
        assert abs(np.rint(value * 2.0 ** (shift + 1))) > 2 ** (bits - 1) - 1  # one more: no


def test_registers_are_the_rounded_values_at_2_to_the_f():
    bias = np.array([1.5, 2.25])
    q = quantize(network(Izhikevich(**REGULAR, bias=bias, v_init=-70.0, tau_syn=4.0)),
                 "loihi2")
    f: FixedIzhikevich = q.populations["cells"]
    scale = 2.0 ** f.frac_bits
    assert f.scale == scale and (f.state_limit, f.derivative_limit) == (2 ** 23 - 1, 2 ** 31 - 1)
    assert (f.k2, f.v_peak, f.c, f.d, f.v_b) == (round(140 * scale), round(30 * scale),
                                                 round(-65 * scale), round(8 * scale), 0)
    np.testing.assert_array_equal(f.bias, np.rint(bias * scale))
    assert isinstance(f.v_init, int) and f.v_init == round(-70 * scale)
    assert f.u_init == round(0.2 * -70 * scale)          # u_init defaults to b·v_init
    assert f.di == round(4096 * (1 - math.exp(-0.5 / 4.0))) - 1   # LIF's du, offset 1
    assert f.dt == (16384, 15) and f.dt_a == coefficient(0.5 * 0.02, 16)


def test_tau_syn_0_is_exact_and_inf_warns():
    assert quantize(network(Izhikevich(**REGULAR)), "loihi2").populations["cells"].di == 4095
    q = quantize(network(Izhikevich(**REGULAR, tau_syn=math.inf)), "loihi2")
    assert q.populations["cells"].di == 0
    assert any(d.code == "NM605" and "i always decays" in d.message for d in q.report.warnings)


@pytest.mark.parametrize("name", ["a_tonic_spiking", "m_rebound_spike", "q_depolarizing_after_"
                                  "potential", "r_accommodation", "s_inhibition_induced_spiking"])
def test_f_is_the_largest_at_which_everything_fits(name):
    """At F every worst case fits (the estimates of v, u and dv/dt with one bit of margin);
    at F + 1 something would not: a register, an estimate, an input or a weight."""
    net = load_model(PATTERNS / f"{name}.yaml")
    q = quantize(net, "loihi2")
    rep, m = report_of(q), net.populations["neuron"].model
    limit, scale = rep.state_limit, 2.0 ** rep.frac_bits
    used = [rep.worst[var] * ENVELOPE_MARGIN / (rep.derivative_limit if var == "T" else limit)
            for var in ("v", "u", "T")]
    used += [rep.worst[var] / limit for var in ("i", "I")]
    used += [abs(x) * scale / limit for x in (m.k2, m.v_b, m.v_peak, m.c, m.d, m.v_init,
                                              m.b * m.v_init if m.u_init is None else m.u_init)]
    used += [np.abs(net.current("neuron", net.steps)).max() * scale / limit]
    used.append(scale / weight_scale_limits(net.populations["neuron"], net,
                                            load_target("loihi2").numerics)[0])
    assert max(used) <= 1 < 2 * max(used)
    assert not q.report.warnings


@pytest.mark.parametrize("name", sorted(p.stem for p in PATTERNS.glob("*.yaml")))
def test_every_firing_pattern_of_the_paper_stays_within_its_worst_cases(name):
    """Run bit-accurately, each of the 20 patterns of Fig. 1 saturates nothing and its v and
    u stay within the estimates (before their one bit of margin)."""
    net = load_model(PATTERNS / f"{name}.yaml")
    rep = report_of(quantize(net, "loihi2"))
    assert 13 <= rep.frac_bits <= 16
    result = driver.run(net, "emulator", target="loihi2")
    assert not any(result.meta["overflow"]["neuron"].values())
    for var in ("v", "u"):
        assert np.abs(result.traces[("neuron", var)]).max() <= rep.worst[var]


def test_weights_into_izhikevich_use_its_scale():
    q = quantize(network(Izhikevich(**REGULAR), weights=[5.0, 0.3, -2.0]), "loihi2")
    fp, rep = q.projections[0], q.report.projections[0]
    realised = fp.weight_mant * 2.0 ** (fp.weight_exp + 6) / q.populations["cells"].scale
    assert fp.sign_mode == "mixed"
    assert np.all(np.abs(realised - q.network.projections[0].weight) <= rep.lsb / 2)


def test_the_current_register_saturates_at_the_state_limit():
    net = network(Izhikevich(**REGULAR), currents=[Current(
        population="cells", kind="steps", points=np.array([[0.0, 5.0], [3.0, -9.0]]))])
    registers = dict(frac_bits=4, di=4095, k0=(1, 0), k1=(1, 0), b=(1, 0), g=(1, 0),
                     dt=(1, 0), dt_a=(1, 0), k2=0, v_b=0, v_peak=1, c=0, d=0, bias=0,
                     v_init=0, u_init=0, state_limit=63, derivative_limit=63)
    qnet = QuantizedNetwork(network=net, target="t", projections=(),
                            populations={"cells": FixedIzhikevich(**registers)})
    c = fixed_current(qnet, "cells", 5)
    assert c.dtype == np.int32 and c[:3].tolist() == [[63, 63]] * 3 and c[3:].min() == -63


def test_divergent_dynamics_are_unbounded_and_warned():
    """k0 < 0: from any v below the upper root v² runs away downwards within a few steps."""
    q = quantize(network(Izhikevich(**REGULAR, k0=-0.04)), "loihi2")
    rep = report_of(q)
    assert math.isinf(rep.worst["v"]) and rep.headroom_bits("v") == -math.inf
    assert 0 <= rep.frac_bits <= 30
    assert any(d.code == "NM604" and "diverge" in d.message for d in q.report.warnings)
    assert json.loads(json.dumps(q.report.to_dict()))["populations"][0]["worst"]["v"] == "inf"


def test_narrow_state_registers_refuse_what_does_not_fit_all_at_once():
    """tiny: 12-bit state (±2047), 8-bit coefficients (±127). k1 = 200 cannot be a
    coefficient; k2 = 3000 needs more than 12 bits even at F = 0."""
    net = network(Izhikevich(**REGULAR, k1=200.0, k2=3000.0))
    with pytest.raises(InputError) as exc:
        quantize(net, "tiny")
    lines = [d.message for d in exc.value.diagnostics]
    assert [d.code for d in exc.value.diagnostics] == ["NM613", "NM615"]
    assert lines == [
        "population cells: k1 = 200 does not fit the target's 8-bit coefficient mantissas "
        "(largest ±127): change the model's units or the time step",
        "population cells: izhikevich values do not fit the target's 12-bit state registers "
        "(±2047; dv/dt ±32767) even at 1 register unit per model unit: " + lines[1].split(
            "per model unit: ")[1]]
    assert "needs" in lines[1] and "scale the model's units down" in lines[1]


def test_narrow_state_registers_give_a_small_f():
    rep = report_of(quantize(network(Izhikevich(**REGULAR)), "tiny"))
    assert 0 <= rep.frac_bits <= 3 and rep.state_limit == 2047


def test_loihi1_refuses_izhikevich_naming_population_and_target():
    with pytest.raises(InputError) as exc:
        quantize(network(Izhikevich(**REGULAR)), "loihi1")
    (diagnostic,) = exc.value.diagnostics
    assert diagnostic.code == "NM612" and "\n" not in str(exc.value)
    assert diagnostic.message == ("population cells: target loihi1 cannot run model izhikevich "
                                  "(it runs lif: its numerics have no izhikevich block); "
                                  "built-in targets that run it: loihi2, tiny")


def test_report_text_and_strict_json():
    q = quantize(network(Izhikevich(**REGULAR, bias=np.array([1.0, 2.0]))), "loihi2")
    rep = report_of(q)
    text = q.report.text()
    row = next(line for line in text.splitlines() if line.startswith("cells ")
               and "/2^" not in line and "→" in line)
    assert row.split()[1:3] == [str(rep.frac_bits), f"{2.0 ** -rep.frac_bits:.3g}"]
    assert "k0 2.3e-05 (20972/2^19)" in text
    d = json.loads(json.dumps(q.report.to_dict()),
                   parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    pop = d["populations"][0]
    assert pop["model"] == "izhikevich" and pop["bias"] is None
    assert pop["coefficients"]["k0"] == {"requested": 0.04, "realised": 20972 / 2 ** 19,
                                         "mantissa": 20972, "shift": 19}
    assert set(pop["headroom_bits"]) == {"v", "u", "i", "I", "T"}
