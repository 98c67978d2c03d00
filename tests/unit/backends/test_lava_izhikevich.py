"""Izhikevich populations on `lava` and `lava-fixed` (docs/design.md §2.6): nmcompile's
NmcIzhikevich, float-exact with the oracle (nmcompile.ir.izhikevich_step) in a recurrent
network mixed with LIF, and its fixed_pt model — the normative integer Izhikevich — against a
replay of §2.6 written here with Python integers, on cases whose numbers can be checked by
hand (v² rounding, saturations of i, T, v and u)."""
from __future__ import annotations

import numpy as np
import pytest
from handbuilt import assert_equals_replay, cue, cue_projections, projection, synaptic_input
from oracle import oracle_run

from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.ir import (LIF, Current, FixedIzhikevich, Izhikevich, Network, Poisson, Population,
                          Probe, QuantizedNetwork, fixed_current)

pytestmark = pytest.mark.lava
STEPS = 60


# --- float: a recurrent network of Izhikevich and LIF populations --------------------------

def float_net() -> Network:
    """Weights with few binary digits, so that every sum of inputs is exact in any order (Lava
    sums per port, per delay, pairwise): the states must then equal the oracle's bit for bit."""
    rng = np.random.default_rng(5)

    def some(n_pre, n_post, p=0.5):  # (pre, post) pairs, sorted
        return [tuple(x) for x in np.argwhere(rng.random((n_pre, n_post)) < p)]

    rs_fs = some(4, 3)

    pops = {
        "bg": Population(name="bg", size=4, model=Poisson(rate=np.full(4, 150.0))),
        "rs": Population(name="rs", size=4, model=Izhikevich(
            a=0.02, b=0.2, c=-65.0, d=8.0, bias=np.array([0.0, 2.0, 4.0, 6.0]))),
        "fs": Population(name="fs", size=3, model=Izhikevich(
            a=0.1, b=0.2, c=-65.0, d=2.0, tau_syn=4.0, v_init=np.array([-70.0, -60.0, -65.0]),
            u_init=np.array([-14.0, -12.5, -13.0]))),
        # non-default k1, k2, v_b, g: every constant of the float step is exercised
        "g": Population(name="g", size=2, model=Izhikevich(
            a=0.02, b=-0.1, c=-55.0, d=6.0, k1=4.1, k2=108.0, v_b=-60.0, g=0.5, v_peak=25.0,
            tau_syn=2.0, v_init=-60.0)),
        "lif": Population(name="lif", size=3, model=LIF(tau_syn=2.0, tau_mem=10.0, v_th=1.0)),
    }
    projs = (projection("bg_rs", "bg", "rs", some(4, 4), 6.0, 1),
             projection("bg_fs", "bg", "fs", some(4, 3), 4.0, 2),
             projection("bg_g", "bg", "g", some(4, 2, 0.7), 8.0, 1),
             projection("rs_rs", "rs", "rs", some(4, 4, 0.3), 1.5, 4),
             projection("rs_fs", "rs", "fs", rs_fs, 2.5, rng.integers(1, 4, len(rs_fs))),
             projection("fs_rs", "fs", "rs", some(3, 4), -3.0, 2),
             projection("rs_lif", "rs", "lif", some(4, 3, 0.8), 0.25, 1),
             projection("g_lif", "g", "lif", some(2, 3, 0.8), 0.5, 2),
             projection("lif_rs", "lif", "rs", some(3, 4), -4.0, 3))
    currents = (Current(population="rs", kind="steps", points=np.array([[10, 5.0], [40, -2.0]])),
                Current(population="fs", kind="ramp", neurons=np.array([0, 2]),
                        points=np.array([[0, 0.0], [50, 12.0]])))
    probes = (*(Probe(population=p, var=v) for p in ("rs", "fs", "g") for v in ("v", "u", "i")),
              Probe(population="lif", var="v"))
    return Network(name="izh_float", populations=pops, projections=projs, probes=probes,
                   currents=currents, steps=STEPS)


def test_nmcompile_s_process_with_its_float_and_fixed_models():
    from nmcompile.backends.lava.lowering import build_float, process_models
    from nmcompile.backends.lava.processes import izhikevich as nmc

    graph = build_float(float_net(), 10)
    assert {type(graph.neurons[p]).__name__ for p in ("rs", "fs", "g")} == {"NmcIzhikevich"}
    assert graph.models[graph.neurons["rs"]] is nmc.PyNmcIzhikevichModelFloat
    assert process_models("fixed_pt")[nmc.NmcIzhikevich] is nmc.PyNmcIzhikevichModelFixed
    assert graph.neurons["rs"].proc_params["has_current"]
    assert not graph.neurons["g"].proc_params["has_current"]
    for backend in (LavaFloatBackend(), LavaFixedBackend()):
        assert backend.check(float_net()) == []  # currents included


def test_float_equals_the_oracle_bit_for_bit():
    net = float_net()
    got = LavaFloatBackend().run(net, STEPS, options={"connection": "sparse"})
    want = oracle_run(net)
    for name in ("rs", "fs", "g", "lif"):
        assert len(want.spikes[name][0]) >= 3, name  # every population takes part
        for got_part, want_part in zip(got.spikes[name], want.spikes[name]):
            assert np.array_equal(got_part, want_part), name
    for key, trace in want.traces.items():
        assert np.array_equal(got.traces[key], trace), key
    assert np.any(want.traces[("rs", "i")] < 0)  # the inhibition arrives


# --- fixed point: hand-built registers against a Python-integer replay of §2.6 ------------

L = 2 ** 23 - 1          # state_limit of 24-bit registers
LD = 2 ** 31 - 1         # derivative_limit of a 32-bit accumulator
F = 14                   # regular spiking: 2^14 register units per mV
S = 2 ** F
ZERO = (0, 0)            # a coefficient of 0
ONE = (1, 0)             # a coefficient of 1


def registers(**changes) -> FixedIzhikevich:
    """A neuron whose v moves by T·dt only (every other coefficient 0), unless changed."""
    base = dict(frac_bits=0, di=4095, k0=ZERO, k1=ZERO, b=ZERO, g=ZERO, dt=ONE, dt_a=ZERO,
                k2=0, v_b=0, v_peak=L, c=0, d=0, bias=0, v_init=0, u_init=0, state_limit=L,
                derivative_limit=LD)
    return FixedIzhikevich(**{**base, **changes})


# the 2004 paper's regular-spiking neuron (a .02, b .2, c −65, d 6) with 14 fractional bits,
# coefficients as (mantissa, shift) with 16-bit mantissas, driven by a current of 14
RS = FixedIzhikevich(
    frac_bits=F, di=4095, k0=(20972, 19), k1=(20480, 12), b=(26214, 17), g=(16384, 14),
    dt=(16384, 14), dt_a=(20972, 20), k2=140 * S, v_b=0, v_peak=30 * S, c=-65 * S, d=6 * S,
    bias=0, v_init=-65 * S, u_init=-13 * S, state_limit=L, derivative_limit=LD)
RS_STEPS = 200

# population: (size, registers), each case checkable by hand
HAND = {
    # v² rounded (F = 3), M of negative numbers rounded ties up, u relaxing by g = 1/2
    "round": (2, registers(frac_bits=3, k0=ONE, dt=(1, 1), g=(1, 1), dt_a=ONE,
                           v_init=np.array([5, -6]), u_init=np.array([0, 10]))),
    # a bias of 3·10^6 per step: v saturates at L (v_peak = L: never spikes)
    "vsat": (1, registers(bias=3_000_000)),
    # T saturates at ±1000, so v moves by 1000 per step whatever the bias
    "tsat": (2, registers(bias=np.array([5000, -5000]), derivative_limit=1000)),
    # spikes at step 0 (T = −u + I = 20, v' = 40 > 10): u + d saturates at L; then T < 0
    "usat": (1, registers(v_peak=10, c=-7, d=5_000_000, u_init=5_000_000,
                          bias=5_000_020, v_init=20)),
    # i: five big synapses at once saturate it, a negative one decays toward zero
    "isat": (2, registers(di=1000, v_peak=L)),
}
CUE = {0: [2, 9], 1: [2], 2: [2], 3: [2], 4: [2], 5: [4, 5]}   # cue neuron -> spike steps
# (post, [(cue neuron, post neuron)], even mantissa (mixed mode keeps it), weight_exp, delay)
SYNAPSES = [("isat", [(k, 0) for k in range(5)], 254, 7, 1), ("isat", [(5, 1)], -6, 0, 2)]
# a synapse of weight 0 into every other population: one connected component, one Lava start
SYNAPSES += [(name, [(0, 0)], 0, 0, 1) for name in HAND if name != "isat"]
HAND_STEPS = 30


def quantized(fixed: dict, steps: int, synapses=(), currents=()) -> QuantizedNetwork:
    """Populations {name: (size, FixedIzhikevich)} fed by the cue, every state var probed."""
    pops = {"cue": cue(CUE)}
    pops |= {name: Population(name=name, size=size, model=Izhikevich(a=0.02, b=0.2, c=-65.0,
                                                                     d=6.0))
             for name, (size, _) in fixed.items()}
    projections, fixed_projections = cue_projections(synapses)
    probes = tuple(Probe(population=name, var=var) for name in fixed for var in ("v", "u", "i"))
    net = Network(name="izh_fixed", populations=pops, projections=tuple(projections),
                  probes=probes, currents=tuple(currents), steps=steps)
    return QuantizedNetwork(network=net, target="hand",
                            populations={name: regs for name, (_, regs) in fixed.items()},
                            projections=tuple(fixed_projections))


def rs_net() -> QuantizedNetwork:
    current = Current(population="rs", kind="steps", points=np.array([[0, 14.0]]))
    return quantized({"rs": (1, RS)}, RS_STEPS, currents=(current,))


def hand_net() -> QuantizedNetwork:
    return quantized(HAND, HAND_STEPS, SYNAPSES)


def replay(reg: FixedIzhikevich, a: np.ndarray, c: np.ndarray | None):
    """v, u, i traces (steps × size) and spikes [(t, neuron)]: docs/design.md §2.6 in Python
    integers, which never overflow (so this also shows that int64 was enough)."""

    def m(x: int, coefficient: tuple[int, int]) -> int:  # M: round to nearest, ties up
        mant, shift = coefficient
        return x * mant if shift == 0 else (x * mant + (1 << (shift - 1))) >> shift

    def d(x: int, keep: int) -> int:  # D: truncation toward zero
        q = abs(x) * keep >> 12
        return q if x >= 0 else -q

    def sat(x: int, limit: int) -> int:
        return max(-limit, min(limit, x))

    steps, size = a.shape
    per = {name: [int(x) for x in reg.per_neuron(name, size)]
           for name in ("bias", "v_init", "u_init")}
    v, u, i = per["v_init"], per["u_init"], [0] * size
    lim, keep = reg.state_limit, 4096 - (reg.di + 1)
    out = {var: np.zeros((steps, size), dtype=np.int64) for var in ("v", "u", "i")}
    spikes = []
    for t in range(steps):
        for n in range(size):
            i[n] = sat(d(i[n], keep) + (int(a[t, n]) << 6), lim)
            drive = i[n] + per["bias"][n] + (0 if c is None else int(c[t, n]))
            square = m(v[n], (v[n], reg.frac_bits))
            deriv = sat(m(square, reg.k0) + m(v[n], reg.k1) + reg.k2 - u[n] + drive,
                        reg.derivative_limit)
            v_new = sat(v[n] + m(deriv, reg.dt), lim)
            u_new = sat(u[n] + m(m(v_new - reg.v_b, reg.b) - m(u[n], reg.g), reg.dt_a), lim)
            if v_new > reg.v_peak:
                spikes.append((t, n))
                v[n], u[n] = reg.c, sat(u_new + reg.d, lim)
            else:
                v[n], u[n] = v_new, u_new
            out["v"][t, n], out["u"][t, n], out["i"][t, n] = v[n], u[n], i[n]
    return out, spikes


@pytest.fixture(scope="module")
def fixed_runs():
    """name -> (lava-fixed result, replay per population) for the RS and the hand cases."""
    runs = {}
    for name, qnet in (("rs", rs_net()), ("hand", hand_net())):
        steps = qnet.network.steps
        result = LavaFixedBackend().run(qnet, steps, options={})
        runs[name] = result, {
            pop: replay(qnet.populations[pop], synaptic_input(qnet, pop, steps),
                        fixed_current(qnet, pop, steps))
            for pop in qnet.populations}
    return runs


@pytest.mark.parametrize("run_name", ["rs", "hand"])
def test_fixed_equals_the_integer_replay_register_for_register(fixed_runs, run_name):
    result, want = fixed_runs[run_name]
    assert result.meta["units"] == "register"
    assert_equals_replay(result, want)


def test_the_replay_by_hand(fixed_runs):
    _, want = fixed_runs["hand"]
    # round, F = 3: neuron 0: v² = (25 + 4) >> 3 = 3, T = 3, v' = 5 + (3 + 1) >> 1 = 7;
    # neuron 1: v² = (36 + 4) >> 3 = 5 (4.5 ties up), T = 5 − 10 = −5,
    # v' = −6 + ((−5 + 1) >> 1) = −8 (−2.5 ties up to −2), u' = 10 − ((10 + 1) >> 1) = 5
    (traces, _) = want["round"]
    assert traces["v"][0].tolist() == [7, -8] and traces["u"][0].tolist() == [0, 5]
    # v² at step 1: neuron 0 (49 + 4) >> 3 = 6, T = 6, v' = 7 + 3 = 10
    assert traces["v"][1, 0] == 10
    (traces, spikes) = want["vsat"]
    assert traces["v"][:4, 0].tolist() == [3_000_000, 6_000_000, L, L] and spikes == []
    (traces, _) = want["tsat"]
    assert traces["v"][:3].tolist() == [[1000, -1000], [2000, -2000], [3000, -3000]]
    (traces, spikes) = want["usat"]
    # step 0: T = −u + I = −5·10^6 + 5000020 = 20, v' = 40 > 10: v = c, u = sat(10^7) = L
    assert spikes[0] == (0, 0) and traces["v"][0, 0] == -7 and traces["u"][0, 0] == L
    # step 1: T = −L + 5000020 < 0: no spike, v' = −7 + T
    assert traces["v"][1, 0] == -7 - L + 5_000_020 and (1, 0) not in spikes
    (traces, _) = want["isat"]
    # cue spikes at 2 arrive at 3: a = 5·254 << 7 = 162560, << 6 = 10403840 > L
    assert traces["i"][3, 0] == L and traces["i"][2, 0] == 0
    assert traces["i"][4, 0] == L * 3095 >> 12  # keeps 4096 − 1001 out of 4096
    # cue 5 at 4 and 5 arrive at 6 and 7: −6 << 6 = −384, then −(384·3095 >> 12) − 384
    assert traces["i"][6, 1] == -384 and traces["i"][7, 1] == -(384 * 3095 >> 12) - 384


def test_a_regular_spiking_neuron_spikes_as_the_float_one(fixed_runs):
    """RS at a current of 14: a quick first pair of spikes, then adapted, regular ones, at
    the float model's steps give or take a few (fixed point rounds)."""
    result, _ = fixed_runs["rs"]
    assert result.meta["scale"]["rs"] == S
    rs = Population(name="rs", size=1, model=Izhikevich(a=0.02, b=0.2, c=-65.0, d=6.0,
                                                        u_init=-13.0))
    float_rs = Network(name="rs", populations={"rs": rs}, currents=rs_net().network.currents,
                       steps=RS_STEPS)
    want = oracle_run(float_rs).spikes["rs"][0]
    got = result.spikes["rs"][0]
    assert len(got) == len(want) >= 6
    assert np.max(np.abs(got - want)) <= 3
    gaps = np.diff(got)
    assert gaps[0] < 10 and np.all(gaps[1:] >= 20)  # adaptation
    assert np.ptp(gaps[2:]) <= 3                       # then regular
    v = result.traces[("rs", "v")][:, 0]
    assert np.all(v[got] == -65 * S) and v.max() <= 30 * S
