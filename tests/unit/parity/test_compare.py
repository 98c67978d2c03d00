"""The comparison core of the parity harness, on Results built by hand (DESIGN §3)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmcompile.diagnostics import InputError
from nmcompile.ir import LIF, Network, Population, Probe, Projection, SpikeArray
from nmcompile.parity import compare_results, plan_pairs, with_v_probes
from nmcompile.parity.compare import (
    Mismatch, Tolerance, compare_bit_exact, compare_float_exact, compare_quantized,
    van_rossum_sq,
)
from nmcompile.result import Result

STEPS = 20


def _net(**lif) -> Network:
    model = LIF(tau_syn=5.0, tau_mem=10.0, v_th=lif.get("v_th", 1.0))
    pops = {"src": Population(name="src", size=2, model=SpikeArray()),
            "a": Population(name="a", size=3, model=model),
            "b": Population(name="b", size=2, model=model)}
    return Network(name="toy", populations=pops, steps=STEPS)


def _result(spikes: dict[str, list[tuple[int, int]]], traces=None) -> Result:
    out = {}
    for pop, pairs in spikes.items():
        pairs = sorted(pairs)
        out[pop] = (np.array([t for t, _ in pairs], np.int64), np.array([n for _, n in pairs], np.int64))
    return Result(spikes=out, traces=dict(traces or {}))


BASE = {"a": [(3, 0), (5, 2), (9, 1)], "b": [(4, 1), (12, 0)]}


def test_plan_pairs_follows_the_contract_for_the_default_backends():
    fixed = {"brian2": False, "lava": False, "lava-fixed": True, "emulator": True}
    assert plan_pairs(list(fixed), fixed) == [
        ("brian2", "lava", "float-exact"), ("lava-fixed", "emulator", "bit-exact"),
        ("brian2", "lava-fixed", "quantization")]
    assert plan_pairs(["emulator", "lava"], fixed) == [("lava", "emulator", "quantization")]
    assert plan_pairs(["lava-fixed", "emulator"], fixed) == [("lava-fixed", "emulator", "bit-exact")]


def test_v_probes_are_added_only_where_missing():
    net = _net()
    net = Network(name=net.name, populations=net.populations, probes=(Probe(population="a", var="v"),))
    probes = {(p.population, p.var) for p in with_v_probes(net).probes}
    assert probes == {("a", "v"), ("b", "v")}
    assert with_v_probes(with_v_probes(net)) == with_v_probes(net)


def test_bit_exact_passes_on_identical_runs_and_counts_spikes():
    trace = {("a", "v"): np.arange(STEPS * 3).reshape(STEPS, 3)}
    pr = compare_bit_exact(_net(), "x", _result(BASE, trace), "y", _result(BASE, trace), STEPS)
    assert (pr.verdict, pr.mismatches, pr.spikes_compared, pr.first) == ("pass", 0, 5, None)


def test_bit_exact_points_at_the_earliest_spike_mismatch():
    other = {"a": BASE["a"] + [(7, 1)], "b": [(4, 1), (6, 0), (12, 0)]}
    pr = compare_bit_exact(_net(), "x", _result(BASE), "y", _result(other), STEPS)
    assert pr.verdict == "fail"
    assert pr.mismatches == 2
    assert pr.first == Mismatch(6, "b", 0)


def test_bit_exact_sees_a_one_unit_difference_in_a_probed_value_before_any_spike():
    va = np.zeros((STEPS, 3), np.int64)
    vb = va.copy()
    vb[2, 1] = 1
    vb[8, 0] = -1
    pr = compare_bit_exact(_net(), "x", _result(BASE, {("a", "v"): va}), "y",
                           _result(BASE, {("a", "v"): vb}), STEPS)
    assert pr.verdict == "fail"
    assert pr.first == Mismatch(2, "a", 1, "v")
    assert pr.details == {"spike_mismatches": 0, "value_mismatches": 2}


def test_bit_exact_fails_when_a_run_lacks_a_trace_or_a_population():
    pr = compare_bit_exact(_net(), "x", _result(BASE, {("a", "u"): np.zeros((STEPS, 3))}), "y",
                           _result({"a": BASE["a"]}), STEPS)
    assert pr.verdict == "fail"
    assert "y recorded no spikes of b" in pr.note and "a.u recorded by x only" in pr.note


def _v_at(pop_size: int, value_at: dict[tuple[int, int], float]) -> np.ndarray:
    v = np.zeros((STEPS, pop_size))
    for (t, n), x in value_at.items():
        v[t, n] = x
    return v


def _tie_at_8_then(extra_b: dict[str, list[tuple[int, int]]], net: Network | None = None):
    """x spikes at (8, a[1]) where y's v sat 4e-10 above v_th (a tie); y has `extra_b` too."""
    ra = _result({"a": BASE["a"] + [(8, 1)], "b": BASE["b"]},
                 {("a", "v"): _v_at(3, {}), ("b", "v"): _v_at(2, {})})
    later = {pop: BASE[pop] + extra_b.get(pop, []) for pop in BASE}
    rb = _result(later, {("a", "v"): _v_at(3, {(8, 1): 1.0 + 4e-10}), ("b", "v"): _v_at(2, {})})
    return compare_float_exact(net or _net(), "x", ra, "y", rb, STEPS)


def test_float_exact_reports_a_tie_when_the_silent_run_sat_on_the_threshold():
    pr = _tie_at_8_then({"a": [(15, 1)]})  # the tied neuron itself diverges later: allowed
    assert pr.verdict == "tie"
    assert (pr.ties, pr.mismatches, pr.details["downstream_of_tie"]) == (1, 2, 1)
    assert pr.first == Mismatch(8, "a", 1)
    assert "1 tie(s), first at step 8, a, 1" in pr.note


def test_float_exact_a_tie_does_not_excuse_a_later_mismatch_it_cannot_reach():
    """a[2] has no input from a[1]: its mismatch at step 15 is no consequence of the tie."""
    pr = _tie_at_8_then({"a": [(15, 2)]})
    assert (pr.verdict, pr.ties, pr.details["violations"]) == ("fail", 1, 1)
    assert pr.details["first_violation"] == "step 15, a, 2"
    assert "neither a tie nor downstream of one, first at step 15, a, 2" in pr.note


def test_float_exact_a_tie_reaches_a_target_only_after_the_synapse_delay():
    net = _net()
    proj = Projection(name="a_b", pre="a", post="b", pre_idx=np.array([0, 1], np.int32),
                      post_idx=np.array([1, 0], np.int32), weight=np.array([1.0, 1.0]),
                      delay=np.array([1, 3], np.int32))
    net = Network(name="toy", populations=net.populations, projections=(proj,), steps=STEPS)
    assert _tie_at_8_then({"b": [(11, 0)]}, net).verdict == "tie"      # 8 + delay 3
    too_early = _tie_at_8_then({"b": [(10, 0)]}, net)
    assert (too_early.verdict, too_early.details["first_violation"]) == ("fail", "step 10, b, 0")
    assert _tie_at_8_then({"b": [(9, 1)]}, net).verdict == "fail"      # a[0] did not tie


def test_float_exact_fails_when_v_was_not_near_the_threshold_or_not_recorded():
    ra = _result({"a": BASE["a"] + [(8, 1)], "b": BASE["b"]},
                 {("a", "v"): _v_at(3, {}), ("b", "v"): _v_at(2, {})})
    rb = _result(BASE, {("a", "v"): _v_at(3, {(8, 1): 1.0 - 1e-6}), ("b", "v"): _v_at(2, {})})
    pr = compare_float_exact(_net(), "x", ra, "y", rb, STEPS)
    assert (pr.verdict, pr.ties, pr.first) == ("fail", 0, Mismatch(8, "a", 1))
    no_v = compare_float_exact(_net(), "x", ra, "y", _result(BASE), STEPS)
    assert no_v.verdict == "fail"


def test_float_exact_a_tie_does_not_excuse_a_real_mismatch_at_the_same_step():
    ra = _result({"a": BASE["a"] + [(8, 1), (8, 2)], "b": BASE["b"]},
                 {("a", "v"): _v_at(3, {}), ("b", "v"): _v_at(2, {})})
    rb = _result(BASE, {("a", "v"): _v_at(3, {(8, 1): 1.0, (8, 2): 0.3}), ("b", "v"): _v_at(2, {})})
    assert compare_float_exact(_net(), "x", ra, "y", rb, STEPS).verdict == "fail"


def test_quantization_within_tolerance_passes_and_still_reports_the_first_divergence():
    shifted = {"a": [(3, 0), (6, 2), (9, 1)], "b": BASE["b"]}
    pr = compare_quantized(_net(), "f", _result(BASE), "q", _result(shifted), STEPS, Tolerance())
    assert (pr.verdict, pr.mismatches, pr.first) == ("pass", 2, Mismatch(5, "a", 2))
    a = pr.details["populations"]["a"]
    assert (a["spikes"], a["count_diff"]) == ([3, 3], 0)
    assert 0 < a["van_rossum"] < 0.5


def test_quantization_fails_on_spike_counts_beyond_tolerance():
    many = {"a": BASE["a"] + [(t, 0) for t in range(10, 16)], "b": BASE["b"]}
    pr = compare_quantized(_net(), "f", _result(BASE), "q", _result(many), STEPS, Tolerance())
    assert (pr.verdict, pr.mismatches, pr.first) == ("fail", 6, Mismatch(10, "a", 0))
    assert "a: spike counts differ by 6 of 9" in pr.note
    loose = compare_quantized(_net(), "f", _result(BASE), "q", _result(many), STEPS,
                              Tolerance(abs=6))
    assert loose.verdict == "pass"


def test_quantization_judges_van_rossum_distance_only_when_a_limit_is_set():
    moved = {"a": [(t + 4, n) for t, n in BASE["a"]], "b": BASE["b"]}
    args = (_net(), "f", _result(BASE), "q", _result(moved), STEPS)
    assert compare_quantized(*args, Tolerance()).verdict == "pass"
    pr = compare_quantized(*args, Tolerance(van_rossum=0.2))
    assert pr.verdict == "fail" and "van Rossum" in pr.note


def _van_rossum_brute(a: np.ndarray, b: np.ndarray, decay: float) -> float:
    """½ Σ_ij c_i c_j decay^|t_i − t_j| over the spikes of both trains, c = +1 (a) or −1 (b)."""
    times = np.concatenate([np.nonzero(a)[0], np.nonzero(b)[0]])
    signs = np.concatenate([np.ones(a.sum()), -np.ones(b.sum())])
    return 0.5 * float(signs @ (decay ** np.abs(times[:, None] - times[None, :])) @ signs)


def test_van_rossum_matches_the_pairwise_formula():
    rng = np.random.default_rng(3)
    a, b = rng.random((60, 5)) < 0.1, rng.random((60, 5)) < 0.1
    got = van_rossum_sq(a, b, 0.9)
    want = [_van_rossum_brute(a[:, i], b[:, i], 0.9) for i in range(5)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    one = np.zeros((10, 1), bool)
    one[4] = True
    assert van_rossum_sq(one, np.zeros_like(one), 0.9)[0] == pytest.approx(0.5)
    assert van_rossum_sq(one, one, 0.9)[0] == 0


def test_pairs_with_a_backend_that_did_not_run_are_skipped_with_the_reason():
    fixed = {"brian2": False, "lava": False, "emulator": True}
    pairs = compare_results(_net(), {"brian2": _result(BASE), "lava": _result(BASE), "emulator": None},
                            fixed, STEPS, reasons={"emulator": "not installed: numba"})
    assert [(p.name, p.verdict) for p in pairs] == [("brian2 vs lava", "pass"),
                                                     ("brian2 vs emulator", "skip")]
    assert "not installed: numba" in pairs[1].note


def test_tolerance_parse():
    assert Tolerance.parse("0.2") == Tolerance(rel=0.2)
    assert Tolerance.parse("abs=3, van_rossum=1") == Tolerance(abs=3, van_rossum=1.0)
    for bad in ("speed=1", "abs=x", "rel=-1", "tau_ms=0", "rel=nan"):
        with pytest.raises(InputError):
            Tolerance.parse(bad)


def test_van_rossum_in_chunks_of_neurons_equals_one_pass(monkeypatch):
    import nmcompile.parity.compare as pc
    rng = np.random.default_rng(0)
    a, b = rng.random((200, 50)) < 0.05, rng.random((200, 50)) < 0.05
    ka, kb = np.flatnonzero(a), np.flatnonzero(b)  # row-major: step·size + neuron
    cols = np.unique(np.setxor1d(ka, kb) % 50)
    want = van_rossum_sq(a, b, 0.9).sum()
    monkeypatch.setattr(pc, "_GRID_CELLS", 7 * 200)  # chunks of 7 neurons
    assert pc._van_rossum_total([ka, kb], cols, 50, 200, 0.9) == pytest.approx(want, rel=1e-12)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), flips=st.lists(
    st.tuples(st.integers(0, STEPS - 1), st.sampled_from(["a", "b"]), st.integers(0, 2)),
    min_size=1, max_size=6, unique=True))
def test_any_set_of_flipped_spikes_is_counted_and_the_earliest_found(seed, flips):
    net = _net()
    flips = [(t, pop, n % net.populations[pop].size) for t, pop, n in flips]
    flips = list(dict.fromkeys(flips))
    rng = np.random.default_rng(seed)
    rasters = {pop: rng.random((STEPS, net.populations[pop].size)) < 0.2 for pop in ("a", "b")}
    clean = Result.from_raster(rasters)
    for t, pop, n in flips:
        rasters[pop][t, n] = ~rasters[pop][t, n]
    faulty = Result.from_raster(rasters)
    for compare in (compare_bit_exact, compare_float_exact):
        pr = compare(net, "x", clean, "y", faulty, STEPS)
        assert (pr.verdict, pr.mismatches) == ("fail", len(flips))
        t, pop, n = min(flips, key=lambda f: (f[0], f[1], f[2]))  # "a" precedes "b" in the net
        assert pr.first == Mismatch(t, pop, n)


# --- learned weights ---------------------------------------------------------------------------

def _plastic_net(every: int = 5) -> Network:
    from nmcompile.ir import STDP, WeightProbe
    net = _net()
    pre, post = (a.ravel().astype(np.int32) for a in np.meshgrid(np.arange(2), np.arange(3),
                                                                  indexing="ij"))
    proj = Projection(name="p", pre="src", post="a", pre_idx=pre, post_idx=post,
                      weight=np.full(6, 0.5), delay=np.ones(6, np.int32),
                      learning=STDP(learning_rate=2 ** -4, a_plus=1.0, a_minus=-1.0,
                                    tau_plus=5.0, tau_minus=5.0))
    return Network(name="toy", populations=net.populations, projections=(proj,), steps=STEPS,
                   weight_probes=(WeightProbe(projection="p", every=every),))


def _learned(weights, samples) -> Result:
    result = _result(BASE)
    result.weights["p"] = np.asarray(weights)
    result.weight_traces["p"] = np.asarray(samples)
    return result


def test_bit_exact_dates_a_learned_weight_or_sample_that_differs():
    net, w = _plastic_net(), np.arange(6)
    samples = np.tile(w, (STEPS // 5, 1))
    assert compare_bit_exact(net, "x", _learned(w, samples), "y", _learned(w, samples),
                             STEPS).verdict == "pass"
    other = samples.copy()
    other[2, 4] += 1            # sample 2 is taken after step 3·5 − 1 = 14
    pr = compare_bit_exact(net, "x", _learned(w, samples), "y", _learned(w, other), STEPS)
    assert (pr.verdict, pr.first, pr.details["weight_mismatches"]) == (
        "fail", Mismatch(14, "p", 4, "weight"), 1)
    last = w.copy()
    last[5] += 1                # a final weight is dated at the last step
    pr = compare_bit_exact(net, "x", _learned(w, samples), "y", _learned(last, samples), STEPS)
    assert pr.first == Mismatch(STEPS - 1, "p", 5, "weight")
    pr = compare_bit_exact(net, "x", _learned(w, samples), "y", _result(BASE), STEPS)
    assert pr.verdict == "fail" and "p: no learned weights from y" in pr.note


def test_float_exact_wants_identical_weights_when_the_spikes_agree():
    net, w = _plastic_net(), np.linspace(0.0, 1.0, 6)
    samples = np.tile(w, (STEPS // 5, 1))
    off = w.copy()
    off[0] = np.nextafter(off[0], 1.0)      # one ulp
    pr = compare_float_exact(net, "x", _learned(w, samples), "y", _learned(off, samples), STEPS)
    assert (pr.verdict, pr.first) == ("fail", Mismatch(STEPS - 1, "p", 0, "weight"))


def test_quantization_reports_the_learned_weights_and_judges_them_when_asked():
    net = _plastic_net()
    fixed = _learned(np.full(6, 128, np.int32), np.zeros((4, 6), np.int32))
    fixed.meta["weight_scale"] = {"p": 256.0}           # 128 mantissas = 0.5
    floating = _learned(np.full(6, 0.75), np.zeros((4, 6)))
    pr = compare_quantized(net, "f", floating, "q", fixed, STEPS, Tolerance())
    assert pr.details["learned_weights"]["p"] == {"distance": pytest.approx(1 / 3),
                                                   "mean": [0.75, 0.5]}
    assert pr.verdict == "pass"
    pr = compare_quantized(net, "f", floating, "q", fixed, STEPS, Tolerance(weights=0.3))
    assert pr.verdict == "fail" and "p: learned weights differ by 0.333 > 0.3" in pr.note
