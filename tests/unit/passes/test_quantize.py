"""The quantization pass: decays with Lava's offsets, exact thresholds, weights within half a
mantissa step, sign modes, loud warnings, refusals. The LIF variants of DESIGN §2.5 are
test_quantize_variants.py."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmcompile.backends.emulator.lava_semantics import lava_weights
from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Network, Population, Projection, SpikeArray
from nmcompile.passes.quantize import quantize
from nmcompile.targets import load_target


def network(weights, *, model=None, delays=None, bias=0.0, pre_size=None) -> Network:
    w = np.asarray(weights, dtype=np.float64)
    n = pre_size or w.size
    src = Population(name="src", size=n, model=SpikeArray())
    lif = Population(name="lif", size=1, model=model or LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0,
                                                             bias=bias))
    proj = Projection(name="p", pre="src", post="lif", pre_idx=np.arange(w.size, dtype=np.int32),
                      post_idx=np.zeros(w.size, np.int32), weight=w,
                      delay=np.asarray(delays if delays is not None else [1] * w.size, np.int32))
    return Network(name="t", populations={"src": src, "lif": lif}, projections=(proj,))


def test_decays_follow_lava_offsets():
    q = quantize(network([0.5], model=LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0)), "loihi2")
    fixed = q.populations["lif"]
    assert fixed.du == round(4096 * (1 - math.exp(-1 / 4))) - 1   # Lava adds ds_offset = 1
    assert fixed.dv == round(4096 * (1 - math.exp(-1 / 20)))       # dm_offset = 0
    rep = q.report.populations[0]
    assert rep.tau_syn[1] == pytest.approx(4.0, rel=2e-3)
    assert rep.tau_mem[1] == pytest.approx(20.0, rel=2e-3)


def test_infinite_tau_mem_is_exact_but_tau_syn_is_not():
    q = quantize(network([0.5], model=LIF(tau_syn=math.inf, tau_mem=math.inf, v_th=1.0)),
                 "loihi2")
    assert (q.populations["lif"].du, q.populations["lif"].dv) == (0, 0)
    assert math.isinf(q.report.populations[0].tau_mem[1])
    assert q.report.populations[0].tau_syn[1] == pytest.approx(4095.5, rel=1e-3)
    assert any(d.code == "NM605" for d in q.report.warnings)


@pytest.mark.parametrize("v_th", [0.3, 1.0, 7.5, 1000.0])
def test_threshold_is_exact_and_fits_17_bits(v_th):
    q = quantize(network([0.1 * v_th, 0.2 * v_th], model=LIF(tau_syn=2, tau_mem=10, v_th=v_th)),
                 "loihi2")
    fixed = q.populations["lif"]
    assert 256 <= fixed.vth < 2 ** 17
    assert fixed.vth * 64 / fixed.scale == pytest.approx(v_th, rel=1e-12)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(weights=st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=12),
       bits=st.sampled_from([8, 6, 4]))
def test_weights_within_half_a_step_and_survive_lava_clip_truncate(tmp_path_factory, weights,
                                                                   bits):
    target = _target(tmp_path_factory.mktemp("t"), weight_bits=bits)
    q = quantize(network(weights), target)
    fp, rep = q.projections[0], q.report.projections[0]
    np.testing.assert_array_equal(lava_weights(fp.weight_mant, fp.sign_mode, bits), fp.weight_mant)
    realised = fp.weight_mant * 2.0 ** (fp.weight_exp + 6) / q.populations["lif"].scale
    assert np.all(np.abs(realised - weights) <= rep.lsb / 2 + 1e-12)
    assert rep.max_error <= rep.lsb / 2 + 1e-12
    assert fp.num_weight_bits == bits


@pytest.mark.parametrize("weights, mode", [([0.2, 0.5], "excitatory"), ([-0.2, -0.5], "inhibitory"),
                                           ([-0.2, 0.5], "mixed"), ([0.0, 0.0], "excitatory")])
def test_sign_mode_from_weight_signs(weights, mode):
    assert quantize(network(weights), "loihi2").projections[0].sign_mode == mode


def test_vanishing_weights_warn_loudly():
    q = quantize(network([1.0, 1e-7]), "loihi2")
    rep = q.report.projections[0]
    assert rep.zeroed == 1 and q.projections[0].weight_mant[1] == 0
    assert any(d.code == "NM601" and "VANISH" in d.message for d in q.report.warnings)


def test_weights_that_cannot_fit_saturate_and_warn():
    """A weight 2^20 times the threshold exceeds mantissa · 2^7 at the smallest scale."""
    q = quantize(network([2.0 ** 20, 1.0]), "loihi2")
    assert q.report.projections[0].saturated >= 1
    assert any(d.code == "NM602" for d in q.report.warnings)


def test_possible_u_wrap_warns():
    q = quantize(network([50.0] * 200), "loihi2")
    assert q.report.populations[0].u_headroom_bits < 0
    assert any(d.code == "NM603" and "WRAP" in d.message for d in q.report.warnings)


def test_bias_mantissa_and_exponent():
    q = quantize(network([0.1], bias=0.37), "loihi2")
    fixed, rep = q.populations["lif"], q.report.populations[0]
    assert -4096 <= fixed.bias_mant <= 4095 and 0 <= fixed.bias_exp <= 7
    assert rep.bias[1] == pytest.approx(0.37, abs=2 ** fixed.bias_exp / fixed.scale)


def test_delay_beyond_target_is_refused():
    with pytest.raises(InputError, match="delay 9 > 8, the longest delay of the target"):
        quantize(network([0.5, 0.5], delays=[1, 9]), "tiny")


def test_report_text_and_json():
    q = quantize(network([0.5, -0.25]), "tiny")
    text = q.report.text()
    assert "quantization for target tiny" in text and "lif" in text and "mixed" in text
    d = q.report.to_dict()
    assert d["projections"][0]["sign_mode"] == "mixed"
    assert d["populations"][0]["v_th"][0] == 1.0


def test_cli_compile_report(tmp_path, capsys):
    from nmcompile.cli import main
    model = tmp_path / "m.yaml"
    model.write_text("format: nmcompile/v1\nname: m\npopulations:\n"
                     "  s: {model: spike_array, size: 2, spikes: [[0, 1]]}\n"
                     "  a: {model: lif, size: 2, tau_syn: 2, tau_mem: 5, v_th: 1}\n"
                     "projections:\n  - {pre: s, post: a, connect: one_to_one, weight: 0.5}\n")
    out = tmp_path / "r.json"
    assert main(["compile", str(model), "--target", "tiny", "--report", "--json", str(out)]) == 0
    assert "quantization for target tiny" in capsys.readouterr().out
    import json
    assert json.loads(out.read_text())["model"] == "m"


def _target(folder, *, weight_bits: int):
    import nmcompile.targets as pkg
    from pathlib import Path
    text = (Path(pkg.__file__).parent / "loihi2.yaml").read_text()
    text = text.replace("  weight_bits: 8 ", f"  weight_bits: {weight_bits} ")
    path = folder / f"w{weight_bits}.yaml"
    path.write_text(text)
    return load_target(str(path))


# -- models at the edge of float64: a valid quantization or a clear InputError, never a crash --
EXTREME_MODELS = {  # id: (LIF parameters, weight, expected exit code of `nmc compile`)
    "tau_inf_inhibitory": ("tau_syn: .inf, tau_mem: .inf, v_th: 1, bias: -0.5", "-1.0", 0),
    "tau_inf_negative_bias": ("tau_syn: 2, tau_mem: .inf, v_th: 1, bias: -0.5", "0.5", 0),
    "tiny_v_th_huge_bias": ("tau_syn: 1, tau_mem: 1, v_th: 1e-300, bias: 1e300", "0.5", 0),
    "huge_weight": ("tau_syn: 2, tau_mem: 5, v_th: 1", "1e308", 0),
    "v_th_beyond_float_scale": ("tau_syn: 2, tau_mem: 5, v_th: 1e-320", "0.5", 2),
    "v_th_at_float_max": ("tau_syn: 2, tau_mem: 5, v_th: 1.7e308", "1.7e308", 2),
}


def _extreme_model(folder, case: str):
    lif, weight, _ = EXTREME_MODELS[case]
    path = folder / f"{case}.yaml"
    path.write_text("format: nmcompile/v1\nname: edge\nsteps: 20\npopulations:\n"
                    "  s: {model: spike_array, size: 2, spikes: [[0, 1], [1, 2], [0, 3]]}\n"
                    f"  a: {{model: lif, size: 2, {lif}}}\n"
                    f"projections:\n  - {{pre: s, post: a, connect: all_to_all, weight: {weight}}}\n")
    return path


def _strict_json(text: str) -> dict:
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def _assert_valid(q) -> None:
    """Registers within their formats, finite scale, report as text and strict JSON."""
    for fixed in q.populations.values():
        assert 0 < fixed.scale < math.inf
        assert 1 <= fixed.vth < 2 ** 17 and -4096 <= fixed.bias_mant < 4096
    for fp in q.projections:
        assert np.all(np.abs(fp.weight_mant) <= 256)
    q.report.text()
    _strict_json(json.dumps(q.report.to_dict()))


@pytest.mark.parametrize("case", EXTREME_MODELS)
def test_cli_compile_of_extreme_model_reports_or_refuses(tmp_path, capsys, case):
    from nmcompile.cli import main
    out = tmp_path / "r.json"
    code = main(["compile", str(_extreme_model(tmp_path, case)), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == EXTREME_MODELS[case][2], captured.err
    assert "Traceback" not in captured.err
    if code == 0:
        report = _strict_json(out.read_text())
        assert report["populations"][0]["name"] == "a"
    else:
        assert "population a: v_th = " in captured.err and "cannot be represented" in captured.err


@pytest.mark.parametrize("case", EXTREME_MODELS)
def test_quantize_of_extreme_model(tmp_path, case):
    from nmcompile.frontends.modelfile import load_model
    net = load_model(_extreme_model(tmp_path, case))
    if EXTREME_MODELS[case][2] == 2:
        with pytest.raises(InputError, match=r"population a: v_th = \S+ cannot be represented on "
                                             r"this target: .*express v_th, bias and weights"):
            quantize(net, "loihi2")
        return
    q = quantize(net, "loihi2")
    _assert_valid(q)


def test_unbounded_worst_case_is_reported_as_such():
    """tau_mem = inf with inhibition: v drifts down without bound and saturates at -2^23."""
    q = quantize(network([-1.0], model=LIF(tau_syn=math.inf, tau_mem=math.inf, v_th=1.0,
                                          bias=-0.5)), "loihi2")
    rep = q.report.populations[0]
    assert rep.v_headroom_bits == -math.inf and math.isfinite(rep.u_headroom_bits)
    assert q.report.to_dict()["populations"][0]["v_headroom_bits"] == "-inf"
    assert any(d.code == "NM604" and "|v| is unbounded" in d.message for d in q.report.warnings)
    row = next(line for line in q.report.text().splitlines() if line.startswith("lif "))
    assert row.split()[-1] == "-∞"


def test_bias_beyond_float_range_saturates():
    """v_th 1e-300 forces a scale of 6.4e301: the bias 1e300 becomes inf in register units."""
    q = quantize(network([0.5], model=LIF(tau_syn=1, tau_mem=1, v_th=1e-300, bias=1e300)),
                 "loihi2")
    fixed = q.populations["lif"]
    assert (fixed.vth, fixed.bias_mant, fixed.bias_exp) == (1, 4095, 7)
    assert any(d.code == "NM606" for d in q.report.warnings)


EXTREMES = [5e-324, 1e-310, 1e-300, 1e-10, 1.0, 1e10, 1e300, 1e308, 1.7976931348623157e308]


@settings(derandomize=True, max_examples=150, deadline=None)
@given(v_th=st.sampled_from(EXTREMES),
       bias=st.sampled_from([0.0] + EXTREMES + [-x for x in EXTREMES]),
       weights=st.lists(st.sampled_from(EXTREMES + [-x for x in EXTREMES] + [0.0]),
                        min_size=1, max_size=3),
       tau=st.sampled_from([1e-300, 1.0, 1e300, math.inf]))
def test_any_finite_parameters_quantize_or_refuse_clearly(v_th, bias, weights, tau):
    net = network(weights, model=LIF(tau_syn=tau, tau_mem=tau, v_th=v_th, bias=bias))
    try:
        q = quantize(net, "loihi2")
    except InputError as exc:
        assert "population lif: v_th = " in str(exc) and "cannot be represented" in str(exc)
        return
    _assert_valid(q)
