"""The harness catches real one-step and one-bit faults and points at the first mismatch.

Each test runs real backends, one of them on a deliberately broken model (or, for the
threshold, with a broken comparison), and checks that parity fails exactly where the fault
first shows: (step, population, neuron) derived from the model by hand, not by the harness.
"""
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.backends import get_backend
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import LIF, Network, Population, Projection, SpikeArray, source_spikes
from nmcompile.parity import compare_results, with_v_probes
from nmcompile.parity.compare import Mismatch

pytestmark = [pytest.mark.slow, pytest.mark.lava]

WTA = Path(__file__).parents[2] / "examples" / "wta.yaml"
STEPS = 80
FIXED = {"brian2": False, "lava": False, "lava-fixed": True, "emulator": True}


def _judge(net, a, ra, b, rb, steps):
    (pair,) = compare_results(net, {a: ra, b: rb}, FIXED, steps)
    return pair


def _run_model(name, model, steps):
    """Run an already lowered model (float Network or QuantizedNetwork) on a backend."""
    return get_backend(name).run(model, steps, options={})


# -- bit-exact pair: lava-fixed (clean) vs emulator (faulty) ------------------------------

@pytest.fixture(scope="module")
def wta():
    net = with_v_probes(load_model(str(WTA)))
    qnet = driver.prepare(net, get_backend("emulator"))
    clean = driver.run(net, "lava-fixed", steps=STEPS)
    return net, qnet, clean


def _perturb_synapse(qnet, proj_name, k, **arrays):
    projs = tuple(replace(p, **{key: f(getattr(p, key).copy(), k) for key, f in arrays.items()})
                  if p.name == proj_name else p for p in qnet.projections)
    return replace(qnet, projections=projs)


def _first_arrival(net, proj, k, steps):
    """Step at which synapse k of a projection from a source first delivers a spike."""
    t, n = source_spikes(net.populations[proj.pre], net, steps)
    return int(t[n == proj.pre_idx[k]].min()) + int(proj.delay[k])


def _bump(array, k, by):
    array[k] += by
    return array


def test_a_weight_off_by_one_lsb_is_caught_at_its_first_input(wta):
    net, qnet, clean = wta
    proj = next(p for p in qnet.projections if p.name == "stim_exc")
    k = 2  # the strongly driven cell: its input spikes come first
    lsb = 1 << (8 - proj.num_weight_bits + (proj.sign_mode == "mixed"))  # Lava truncate_weights
    by = lsb if proj.weight_mant[k] + lsb < 256 else -lsb
    faulty = _perturb_synapse(qnet, "stim_exc", k, weight_mant=lambda w, i: _bump(w, i, by))
    pair = _judge(net, "lava-fixed", clean, "emulator", _run_model("emulator", faulty, STEPS), STEPS)
    assert pair.verdict == "fail"
    assert pair.first == Mismatch(_first_arrival(net, proj, k, STEPS), "exc", int(proj.post_idx[k]),
                                  pair.first.what)


def test_a_delay_off_by_one_is_caught_at_the_step_the_spike_should_have_arrived(wta):
    net, qnet, clean = wta
    proj = next(p for p in qnet.projections if p.name == "stim_exc")
    k = 2
    faulty = _perturb_synapse(qnet, "stim_exc", k, delay=lambda d, i: _bump(d, i, 1))
    pair = _judge(net, "lava-fixed", clean, "emulator", _run_model("emulator", faulty, STEPS), STEPS)
    assert pair.verdict == "fail"
    assert (pair.first.step, pair.first.population, pair.first.neuron) == (
        _first_arrival(net, proj, k, STEPS), "exc", int(proj.post_idx[k]))


def test_the_emulator_unchanged_is_bit_exact_with_lava(wta):
    """The control for the two tests above: without the fault the same pair passes."""
    net, qnet, clean = wta
    pair = _judge(net, "lava-fixed", clean, "emulator", _run_model("emulator", qnet, STEPS), STEPS)
    assert (pair.verdict, pair.mismatches) == ("pass", 0)
    assert pair.spikes_compared > 0


# -- a threshold at exactly two inputs: `>=` differs from `>` -----------------------------

INPUT_STEPS = [3, 6, 12, 20, 21]


def _staircase() -> Network:
    """Each input spike adds exactly 0.5 to v of out[0] (u forgets at once, v never leaks):
    v = 1.0 = v_th after the second input, which `>` must not count as a spike and `>=` would.
    out[1] gets 0.4999999 per input: it stays 2e-7 below v_th, outside the tie window."""
    src = SpikeArray(neurons=np.zeros(len(INPUT_STEPS), np.int64), steps=np.array(INPUT_STEPS))
    lif = LIF(tau_syn=1e-3, tau_mem=math.inf, v_th=1.0)
    proj = Projection(name="in_out", pre="src", post="out", pre_idx=np.array([0, 0], np.int32),
                      post_idx=np.array([0, 1], np.int32), weight=np.array([0.5, 0.4999999]),
                      delay=np.array([1, 1], np.int32))
    pops = {"src": Population(name="src", size=1, model=src),
            "out": Population(name="out", size=2, model=lif)}
    return with_v_probes(Network(name="staircase", populations=pops, projections=(proj,),
                                 steps=30))


EXACT_HIT = INPUT_STEPS[1] + 1  # v reaches v_th exactly here (delay 1)


def test_threshold_greater_or_equal_in_the_emulator_is_caught(monkeypatch):
    from nmcompile.backends.emulator.models.lif import LifRegisters
    net = _staircase()
    qnet = driver.prepare(net, get_backend("emulator"))
    (proj,) = qnet.projections
    fixed = qnet.populations["out"]
    step_in = int(proj.weight_mant[0]) << max(proj.weight_exp, 0) >> max(-proj.weight_exp, 0)
    # Make two inputs hit the threshold exactly in integers too (whatever scale was chosen).
    qnet = replace(qnet, populations={"out": replace(fixed, vth=2 * step_in)})
    clean = _run_model("lava-fixed", qnet, net.steps)
    v = clean.traces[("out", "v")][:, 0]
    assert v[EXACT_HIT] == (2 * step_in) << 6  # sits exactly on the threshold: no spike with `>`

    original = LifRegisters.__init__

    def greater_or_equal(self, *args, **kwargs):  # v > vth − 1  is  v >= vth  on integers
        original(self, *args, **kwargs)
        self.vth -= 1
    monkeypatch.setattr(LifRegisters, "__init__", greater_or_equal)
    faulty = _run_model("emulator", qnet, net.steps)
    pair = _judge(net, "lava-fixed", clean, "emulator", faulty, net.steps)
    assert pair.verdict == "fail"
    assert pair.first == Mismatch(EXACT_HIT, "out", 0)


@pytest.fixture(scope="module")
def staircase_lava():
    return driver.run(_staircase(), "lava")


def test_threshold_greater_or_equal_in_brian2_is_reported_as_a_tie(staircase_lava):
    """In floats `>=` is `>` against the next float below v_th; the contract calls a mismatch
    at |v − v_th| < 1e-9 a tie: reported with its place, not a violation."""
    net = _staircase()
    lif = net.populations["out"]
    ge = replace(lif, model=replace(lif.model, v_th=float(np.nextafter(1.0, 0.0))))
    faulty = driver.run(replace(net, populations={**net.populations, "out": ge}), "brian2")
    pair = _judge(net, "brian2", faulty, "lava", staircase_lava, net.steps)
    assert (pair.verdict, pair.ties, pair.first) == ("tie", 1, Mismatch(EXACT_HIT, "out", 0))
    # out[0] then resets in brian2 only: its later spikes differ (steps 13, 21), as they may.
    assert (pair.mismatches, pair.details["downstream_of_tie"]) == (3, 2)


def test_a_threshold_nudged_beyond_the_tie_window_fails(staircase_lava):
    """out[1] spikes at 0.9999998 > 1 − 1e-6: no tie, and the tie of out[0] cannot reach it."""
    net = _staircase()
    lif = net.populations["out"]
    nudged = replace(lif, model=replace(lif.model, v_th=1.0 - 1e-6))
    faulty = driver.run(replace(net, populations={**net.populations, "out": nudged}), "brian2")
    pair = _judge(net, "brian2", faulty, "lava", staircase_lava, net.steps)
    assert (pair.verdict, pair.ties, pair.first) == ("fail", 1, Mismatch(EXACT_HIT, "out", 0))
    # out[0]'s later spikes (13, 21) follow from its tie; out[1]'s three never do.
    assert (pair.details["downstream_of_tie"], pair.details["violations"]) == (2, 3)
    assert pair.details["first_violation"] == f"step {EXACT_HIT}, out, 1"


def test_a_delay_off_by_one_in_brian2_is_caught(staircase_lava):
    net = _staircase()
    (proj,) = net.projections
    late = replace(proj, delay=proj.delay + 1)
    faulty = driver.run(replace(net, projections=(late,)), "brian2")
    pair = _judge(net, "brian2", faulty, "lava", staircase_lava, net.steps)
    # Clean: v = 0.5, 1.0, 1.5 > v_th at the third input; late by one step in the faulty run.
    third = INPUT_STEPS[2] + 1
    assert pair.verdict == "fail"
    assert pair.first == Mismatch(third, "out", 0)
    assert pair.mismatches == 2 * len(staircase_lava.spikes["out"][0])


# -- float vs fixed: a whole projection lost is beyond quantization --------------------------

def test_a_dropped_projection_breaks_float_vs_fixed_parity(wta):
    net, qnet, _ = wta
    silent = tuple(replace(p, weight_mant=np.zeros_like(p.weight_mant)) if p.name == "inh_exc"
                   else p for p in qnet.projections)
    faulty = _run_model("emulator", replace(qnet, projections=silent), STEPS)
    clean = driver.run(net, "brian2", steps=STEPS)
    pair = _judge(net, "brian2", clean, "emulator", faulty, STEPS)
    assert pair.verdict == "fail" and "exc: spike counts differ" in pair.note
