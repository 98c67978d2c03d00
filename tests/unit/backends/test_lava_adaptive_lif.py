"""Adaptive LIF populations on `lava` and `lava-fixed` (docs/design.md §2.7): Lava's own ATRLIF
with its float and bit-accurate models, nmcompile's NmcATRLIF for an injected current. Float:
bit for bit the oracle (nmcompile.ir.adaptive_lif_step) in a recurrent network mixed with LIF.
Fixed: register for register a replay of §2.7 (Lava's PyATRLIFModelFixed, quirks included)
written here with Python integers, fed the decays as register / 4096 as the lowering does."""
from __future__ import annotations

import numpy as np
import pytest
from handbuilt import (assert_equals_replay, cue, cue_projections, projection, synaptic_input,
                       wrap32)
from oracle import oracle_run

from nmcompile.backends.lava import LavaFixedBackend, LavaFloatBackend
from nmcompile.ir import (LIF, AdaptiveLIF, Current, FixedAdaptiveLIF, Network, Poisson,
                          Population, Probe, QuantizedNetwork, fixed_current)

pytestmark = pytest.mark.lava
INF = float("inf")
STEPS = 60
STATE = ("i", "v", "theta", "r")


# --- float: a recurrent network of adaptive and plain LIF populations ----------------------

def float_net() -> Network:
    """Weights with few binary digits, so that every sum of inputs is exact in any order (Lava
    sums per port, per delay, pairwise): the states must then equal the oracle's bit for bit.
    "ad" has no current (Lava's ATRLIF), "adc" has (NmcATRLIF)."""
    rng = np.random.default_rng(8)

    def some(n_pre, n_post, p=0.5):  # (pre, post) pairs, sorted
        return [tuple(x) for x in np.argwhere(rng.random((n_pre, n_post)) < p)]

    ad_ad = some(4, 4, 0.4)
    pops = {
        "bg": Population(name="bg", size=4, model=Poisson(rate=np.full(4, 150.0))),
        "ad": Population(name="ad", size=4, model=AdaptiveLIF(
            tau_syn=2.0, tau_mem=10.0, tau_theta=30.0, tau_r=5.0, theta_0=1.0, theta_step=0.25,
            bias=np.array([0.0, 0.05, 0.1, 0.15]))),
        "adc": Population(name="adc", size=3, model=AdaptiveLIF(
            tau_syn=0.0, tau_mem=INF, tau_theta=20.0, tau_r=4.0, theta_0=0.8, theta_step=0.5)),
        "lif": Population(name="lif", size=3, model=LIF(tau_syn=2.0, tau_mem=10.0, v_th=1.0)),
    }
    projs = (projection("bg_ad", "bg", "ad", some(4, 4), 0.5, 1),
             projection("bg_adc", "bg", "adc", some(4, 3), 0.25, 2),
             projection("ad_ad", "ad", "ad", ad_ad, 0.125, rng.integers(1, 4, len(ad_ad))),
             projection("ad_lif", "ad", "lif", some(4, 3, 0.7), 0.5, 1),
             projection("adc_lif", "adc", "lif", some(3, 3, 0.7), 0.25, 3),
             projection("lif_ad", "lif", "ad", some(3, 4), -0.75, 2),
             projection("lif_adc", "lif", "adc", some(3, 3), -0.5, 1))
    currents = (Current(population="adc", kind="steps", points=np.array([[5, 0.3], [35, 0.1]])),
                Current(population="adc", kind="ramp", neurons=np.array([1]),
                        points=np.array([[0, 0.0], [50, 0.4]])))
    probes = (*(Probe(population=p, var=v) for p in ("ad", "adc") for v in STATE),
              Probe(population="lif", var="v"))
    return Network(name="adaptive_float", populations=pops, projections=projs, probes=probes,
                   currents=currents, steps=STEPS)


def test_lava_s_atrlif_unless_a_current_needs_nmcompile_s():
    from lava.proc.atrlif import models as lava
    from nmcompile.backends.lava.lowering import build_float
    from nmcompile.backends.lava.processes import adaptive_lif as nmc

    net = float_net()
    graph = build_float(net, 10)
    assert type(graph.neurons["ad"]).__name__ == "ATRLIF"
    assert type(graph.neurons["adc"]) is nmc.NmcATRLIF
    assert graph.models[graph.neurons["ad"]] is lava.PyATRLIFModelFloat
    assert graph.models[graph.neurons["adc"]] is nmc.PyNmcATRLIFModelFloat
    ad = graph.neurons["ad"]
    assert (ad.delta_i.init, ad.delta_v.init, ad.delta_theta.init, ad.delta_r.init) == \
        net.populations["ad"].model.decays(net.dt)
    assert ad.theta.init == ad.theta_0.init == 1.0
    for backend in (LavaFloatBackend(), LavaFixedBackend()):
        assert backend.check(net) == []  # currents included


def test_float_equals_the_oracle_bit_for_bit():
    net = float_net()
    got = LavaFloatBackend().run(net, STEPS, options={"connection": "dense"})
    want = oracle_run(net)
    for name in ("ad", "adc", "lif"):
        assert len(want.spikes[name][0]) >= 3, name  # every population takes part
        for got_part, want_part in zip(got.spikes[name], want.spikes[name]):
            assert np.array_equal(got_part, want_part), name
    for key, trace in want.traces.items():
        assert np.array_equal(got.traces[key], trace), key
    assert np.any(want.traces[("adc", "i")] < 0)  # the inhibition arrives
    assert np.ptp(want.traces[("ad", "theta")]) > 0.2  # the threshold adapts


# --- fixed point: hand-built registers against a Python-integer replay of §2.7 ------------

LIMIT = 2 ** 23 - 1
SCALE = 1024.0

# population: (size, registers)
FIXED = {
    # dv = 0: neuron 0 integrates 300 << 1 = 600 per step and spikes when v ≥ 50 << 6;
    # neuron 1 takes cue input into a decaying i; neuron 2's bias −4096 << 7 saturates v
    "plain": (3, FixedAdaptiveLIF(di=1000, dv=0, dtheta=1024, dr=2048, theta_0=50,
                                  theta_step=20, bias_mant=np.array([300, 0, -4096]),
                                  bias_exp=np.array([1, 0, 7]), scale=SCALE)),
    # an injected current (NmcATRLIF), i holding only this step's input (di = 4095)
    "cur": (2, FixedAdaptiveLIF(di=4095, dv=300, dtheta=100, dr=700, theta_0=120,
                                theta_step=40, bias_mant=25, bias_exp=4, scale=SCALE)),
    # i wraps once around 2^24 (neuron 0); exactly 2^23 is left as it is (neuron 1)
    "wrap": (2, FixedAdaptiveLIF(di=4095, dv=2048, dtheta=300, dr=300, theta_0=1000,
                                 theta_step=100, bias_mant=0, bias_exp=0, scale=SCALE)),
}
CUE = {0: [3, 12], 1: [6, 20], **{k: [8] for k in range(2, 10)}}  # cue neuron -> spike steps
# (post, [(cue neuron, post neuron)], even mantissa (mixed mode keeps it), weight_exp, delay)
SYNAPSES = [("plain", [(0, 1)], 20, 3, 1), ("cur", [(1, 0)], -40, 2, 2),
            ("wrap", [(k, 0) for k in range(2, 7)], 254, 7, 1),
            ("wrap", [(k, 1) for k in range(2, 10)], 128, 7, 1)]
CURRENTS = (Current(population="cur", kind="steps", points=np.array([[3, 0.5], [30, -0.25]])),
            Current(population="cur", kind="ramp", neurons=np.array([1]),
                    points=np.array([[0, 0.0], [40, 2.0]])))
FIXED_STEPS = 45


def fixed_net() -> QuantizedNetwork:
    pops = {"cue": cue(CUE)}
    pops |= {name: Population(name=name, size=size, model=AdaptiveLIF(
        tau_syn=1.0, tau_mem=10.0, tau_theta=10.0, tau_r=10.0, theta_0=1.0, theta_step=0.1))
        for name, (size, _) in FIXED.items()}
    projections, fixed_projections = cue_projections(SYNAPSES, SCALE)
    probes = tuple(Probe(population=name, var=var) for name in FIXED for var in STATE)
    net = Network(name="adaptive_fixed", populations=pops, projections=tuple(projections),
                  probes=probes, currents=CURRENTS, steps=FIXED_STEPS)
    return QuantizedNetwork(network=net, target="hand",
                            populations={name: regs for name, (_, regs) in FIXED.items()},
                            projections=tuple(fixed_projections))


def decayed(x: int, keep: int) -> int:
    """D(x, k) = sign(x)·⌊|x·k| / 2^12⌋."""
    q = abs(x) * keep >> 12
    return q if x >= 0 else -q


def replay(reg: FixedAdaptiveLIF, a: np.ndarray, c: np.ndarray | None):
    """i, v, theta, r traces (steps × size) and spikes [(t, neuron)], per docs/design.md §2.7:
    W = wrap to int32; i wraps once around 2^24, v saturates, theta and r only wrap."""
    steps, size = a.shape
    bias_mant, bias_exp = (reg.per_neuron(name, size).tolist() for name in ("bias_mant",
                                                                             "bias_exp"))
    theta_0, theta_step = reg.theta_0 << 6, reg.theta_step << 6
    i, v, r, theta = [0] * size, [0] * size, [0] * size, [theta_0] * size
    out = {var: np.zeros((steps, size), dtype=np.int64) for var in STATE}
    spikes = []
    for t in range(steps):
        for n in range(size):
            bias = wrap32((bias_mant[n] << bias_exp[n]) + (0 if c is None else int(c[t, n])))
            i1 = wrap32(decayed(i[n], 4096 - (reg.di + 1)) + wrap32(a[t, n] << 6))
            i[n] = i1 - 2 ** 24 if i1 > 2 ** 23 else i1 + 2 ** 24 if i1 <= -2 ** 23 else i1
            v[n] = min(max(wrap32(decayed(v[n], 4096 - reg.dv) + i[n] + bias), -LIMIT), LIMIT)
            theta[n] = wrap32(decayed(wrap32(theta[n] - theta_0), 4096 - reg.dtheta) + theta_0)
            r[n] = wrap32(decayed(r[n], 4096 - reg.dr))
            if wrap32(v[n] - r[n]) >= theta[n]:
                spikes.append((t, n))
                r[n] = wrap32(r[n] + wrap32(2 * theta[n]))
                theta[n] = wrap32(theta[n] + theta_step)
            for var, value in zip(STATE, (i[n], v[n], theta[n], r[n])):
                out[var][t, n] = value
    return out, spikes


@pytest.fixture(scope="module")
def fixed_run():
    qnet = fixed_net()
    result = LavaFixedBackend().run(qnet, FIXED_STEPS, options={})
    want = {name: replay(qnet.populations[name], synaptic_input(qnet, name, FIXED_STEPS),
                         fixed_current(qnet, name, FIXED_STEPS))
            for name in FIXED}
    return result, want


def test_lava_s_bit_accurate_atrlif_gets_the_decays_as_fractions():
    from lava.proc.atrlif import models as lava
    from nmcompile.backends.lava.lowering import build_fixed
    from nmcompile.backends.lava.processes import adaptive_lif as nmc

    graph = build_fixed(fixed_net(), 10)
    plain, cur = graph.neurons["plain"], graph.neurons["cur"]
    assert graph.models[plain] is lava.PyATRLIFModelFixed
    assert type(cur) is nmc.NmcATRLIF and graph.models[cur] is nmc.PyNmcATRLIFModelFixed
    assert (plain.delta_i.init, plain.delta_v.init, plain.delta_theta.init,
            plain.delta_r.init) == (1000 / 4096, 0.0, 0.25, 0.5)
    assert (plain.theta_0.init, plain.theta_step.init) == (50, 20)


def test_fixed_equals_the_replay_register_for_register(fixed_run):
    result, want = fixed_run
    assert result.meta["units"] == "register" and result.meta["scale"]["cur"] == SCALE
    assert_equals_replay(result, want)


def test_the_replay_by_hand(fixed_run):
    _, want = fixed_run
    traces, spikes = want["plain"]
    # neuron 0: v = 600·(t + 1) ≥ 3200 first at t = 5: r = 2·3200, theta = 3200 + (20 << 6)
    assert traces["v"][:6, 0].tolist() == [600, 1200, 1800, 2400, 3000, 3600]
    assert [t for t, n in spikes if n == 0][0] == 5
    assert traces["r"][5, 0] == 6400 and traces["theta"][5, 0] == 4480
    # then theta − 3200 keeps 3072/4096 (1280 -> 960), r keeps 2048/4096; 4200 − 3200 < 4160
    assert traces["theta"][6, 0] == 4160 and traces["r"][6, 0] == 3200
    assert traces["v"][6, 0] == 4200 and (6, 0) not in spikes
    # neuron 1: cue 0 at 3 arrives at 4: i = (20 << 3) << 6 = 10240, then keeps 3095/4096
    assert traces["i"][3:6, 1].tolist() == [0, 10240, 10240 * 3095 >> 12]
    # neuron 2: −524288 per step, saturated from step 15 on, never spiking
    assert traces["v"][14, 2] == -15 * 524288 and traces["v"][15, 2] == -LIMIT
    assert all(n != 2 for _, n in spikes)
    traces, _ = want["wrap"]
    # eight cue spikes at 8 arrive at 9: 5·254 << 7 << 6 = 10403840 wraps to −6373376;
    # 8·128 << 7 << 6 = 2^23 exactly stays, and v saturates at 2^23 − 1
    assert traces["i"][9].tolist() == [10403840 - 2 ** 24, 2 ** 23]
    assert traces["v"][9, 1] == LIMIT
    traces, spikes = want["cur"]
    # no cue input before 8, i = 0: v = D(v, 3796) + (25 << 4) + c, c = 0.5 · 1024 from 3 on
    v = 0
    for t in range(6):
        v = decayed(v, 4096 - 300) + 400 + (512 if t >= 3 else 0)
        assert traces["v"][t, 0] == v
