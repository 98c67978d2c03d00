"""The `lava-fixed` backend with the LIF features Lava 0.10 has no bit-accurate model for
(refractory period, subtract reset, non-spiking, injected current; docs/design.md §2.5):
nmcompile's NmcLIF fixed_pt model against a plain replay of the §2.5 "Fixed-point step"
written here with Python integers, on small cases whose numbers can be checked by hand."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile.backends.lava import LavaFixedBackend
from nmcompile.ir import (LIF, Current, FixedLIF, FixedProjection, Network, Population, Probe,
                          Projection, QuantizedNetwork, SpikeArray, fixed_current)

pytestmark = pytest.mark.lava
INF = float("inf")
SCALE = 64.0
LIMIT = 2 ** 23 - 1
STEPS = 45

# cue neuron -> the steps it spikes at (5-9 together at 20, into "sat" only)
CUE = {0: [4, 9, 30], 1: [6, 25], 2: [3, 11], 3: [5, 32], 4: [7, 13],
       **{k: [20] for k in range(5, 10)}}

# population: (size, FixedLIF registers, float LIF of the same features)
POPULATIONS = {
    # refractory 2, zero reset: v held at 0 for two steps after each spike, u still moves
    "hold": (2, FixedLIF(du=4095, dv=0, vth=10, bias_mant=np.array([100, 70]), bias_exp=1,
                         refractory=2, scale=SCALE),
             LIF(tau_syn=1e-3, tau_mem=INF, v_th=10.0, refractory=2)),
    # subtract reset: v − 640 instead of 0
    "sub": (2, FixedLIF(du=4095, dv=0, vth=10, bias_mant=75, bias_exp=2, reset="subtract",
                        scale=SCALE),
            LIF(tau_syn=1e-3, tau_mem=INF, v_th=10.0, reset="subtract")),
    # subtract reset and refractory 1: a held v above threshold must not spike
    "subref": (1, FixedLIF(du=4095, dv=0, vth=10, bias_mant=1000, bias_exp=0, refractory=1,
                           reset="subtract", scale=SCALE),
               LIF(tau_syn=1e-3, tau_mem=INF, v_th=10.0, refractory=1, reset="subtract")),
    # non-spiking (vth << 6 = 64 is far exceeded), bias ±2^19 per step: v saturates at
    # ±(2^23 − 1); five spikes at once wrap u (5 · 254 << 7 << 6 > 2^23)
    "sat": (2, FixedLIF(du=0, dv=0, vth=1, bias_mant=np.array([4095, -4096]), bias_exp=7,
                        spiking=False, scale=SCALE),
            LIF(tau_syn=INF, tau_mem=INF, v_th=INF)),
    # injected currents added to the bias; neuron 2's saturates at 2^23 − 1
    "cur": (3, FixedLIF(du=2000, dv=300, vth=20, bias_mant=10, bias_exp=3,
                        v_init=np.array([500, -300, 0]), u_init=np.array([0, 64, 0]),
                        scale=SCALE),
            LIF(tau_syn=1.0, tau_mem=10.0, v_th=20.0)),
    # none of the features: Lava's own PyLifModelBitAcc, with per-neuron registers
    "plain": (2, FixedLIF(du=1000, dv=200, vth=15, bias_mant=np.array([30, -5]),
                          bias_exp=np.array([2, 0]), u_init=np.array([128, 0]),
                          v_init=np.array([0, 900]), scale=SCALE),
              LIF(tau_syn=2.0, tau_mem=5.0, v_th=15.0)),
}
# (post, [(cue neuron, post neuron)], weight mantissa (even: mixed mode keeps it), exp, delay)
SYNAPSES = [("hold", [(0, 0)], 4, 4, 1), ("sub", [(1, 1)], -6, 5, 2),
            ("subref", [(2, 0)], 2, 0, 3), ("sat", [(k, 0) for k in range(5, 10)], 254, 7, 1),
            ("cur", [(3, 1)], 8, 3, 1), ("plain", [(4, 0), (4, 1)], 10, 2, 4)]
CURRENTS = (Current(population="cur", kind="steps", neurons=np.array([0, 1]),
                    points=np.array([[2, 1.5], [8, -0.75], [24, 0.5]])),
            Current(population="cur", kind="steps", neurons=np.array([2]),
                    points=np.array([[15, 1e6], [17, 0.0]])))


def quantized_net() -> QuantizedNetwork:
    pairs = sorted((t, n) for n, steps in CUE.items() for t in steps)
    cue = SpikeArray(steps=np.array([t for t, _ in pairs]), neurons=np.array([n for _, n in pairs]))
    pops = {"cue": Population(name="cue", size=len(CUE), model=cue)}
    pops |= {name: Population(name=name, size=size, model=model)
             for name, (size, _, model) in POPULATIONS.items()}
    projections, fixed_projections = [], []
    for post, syn, mant, exp, delay in SYNAPSES:
        pre_idx, post_idx = (np.array(x, dtype=np.int32) for x in zip(*syn))
        common = dict(name=f"cue_{post}", pre="cue", post=post, pre_idx=pre_idx,
                      post_idx=post_idx, delay=np.full(len(syn), delay, dtype=np.int32))
        projections.append(Projection(weight=np.full(len(syn), mant * 2.0 ** (exp + 6) / SCALE),
                                      **common))
        fixed_projections.append(FixedProjection(
            weight_mant=np.full(len(syn), mant, dtype=np.int32), weight_exp=exp,
            num_weight_bits=8, sign_mode="mixed", **common))
    probes = tuple(Probe(population=name, var=var) for name in POPULATIONS for var in "uv")
    net = Network(name="fixed_variants", populations=pops, projections=tuple(projections),
                  probes=probes, currents=CURRENTS, steps=STEPS)
    return QuantizedNetwork(network=net, target="hand",
                            populations={name: fixed for name, (_, fixed, _) in
                                         POPULATIONS.items()},
                            projections=tuple(fixed_projections))


# --- the replay: docs/design.md §2.3 + §2.5, one neuron at a time, in Python integers -----

def wrap32(x: int) -> int:
    return (x + 2 ** 31) % 2 ** 32 - 2 ** 31


def decayed(x: int, keep: int) -> int:
    """D(x, k) = sign(x)·⌊|x·k| / 2^12⌋."""
    q = abs(x) * keep >> 12
    return q if x >= 0 else -q


def synaptic_input(qnet: QuantizedNetwork, post: str, steps: int) -> np.ndarray:
    """a[t] per neuron: Σ mantissa of the synapses whose cue neuron spiked at t − delay,
    << weight_exp (one delay per projection here, even mantissas: Lava keeps them)."""
    cue = qnet.network.populations["cue"].model
    a = np.zeros((steps, qnet.network.populations[post].size), dtype=np.int64)
    for fp in qnet.projections:
        if fp.post != post:
            continue
        for pre, target, mant, delay in zip(fp.pre_idx, fp.post_idx, fp.weight_mant, fp.delay):
            for t in cue.steps[cue.neurons == pre] + delay:
                if t < steps:
                    a[t, target] += mant << fp.weight_exp
    return a


def replay(fixed: FixedLIF, a: np.ndarray, c: np.ndarray | None):
    """u, v traces (steps × size) and spikes [(t, i)] of one population."""
    steps, size = a.shape
    reg = {name: fixed.per_neuron(name, size).tolist()
           for name in ("bias_mant", "bias_exp", "u_init", "v_init")}
    u, v, last = reg["u_init"], reg["v_init"], [None] * size
    th = fixed.vth << 6
    us, vs, spikes = np.zeros((steps, size), int), np.zeros((steps, size), int), []
    for t in range(steps):
        for i in range(size):
            u1 = wrap32(decayed(u[i], 4096 - (fixed.du + 1)) + wrap32(int(a[t, i]) << 6))
            u[i] = u1 - 2 ** 24 if u1 > 2 ** 23 else u1 + 2 ** 24 if u1 <= -2 ** 23 else u1
            free = last[i] is None or t > last[i] + fixed.refractory
            if free:
                bias = wrap32((reg["bias_mant"][i] << reg["bias_exp"][i])
                              + (0 if c is None else int(c[t, i])))
                v[i] = min(max(wrap32(decayed(v[i], 4096 - fixed.dv) + u[i] + bias), -LIMIT),
                           LIMIT)
            if fixed.spiking and free and v[i] > th:
                spikes.append((t, i))
                last[i] = t
                v[i] = v[i] - th if fixed.reset == "subtract" else 0
            us[t, i], vs[t, i] = u[i], v[i]
    return us, vs, spikes


# --- tests -----------------------------------------------------------------------------

def test_plain_registers_run_on_lava_s_own_model_the_rest_on_nmcompile_s():
    from lava.proc.lif.models import PyLifModelBitAcc
    from nmcompile.backends.lava.lowering import build_fixed
    from nmcompile.backends.lava.processes.lif import PyNmcLifModelBitAcc

    graph = build_fixed(quantized_net(), 10)
    model_of = {name: graph.models[proc] for name, proc in graph.neurons.items()}
    assert model_of.pop("plain") is PyLifModelBitAcc
    assert set(model_of.values()) == {PyNmcLifModelBitAcc}


def test_the_currents_are_register_values_added_to_the_bias():
    c = fixed_current(quantized_net(), "cur", STEPS)
    assert c.dtype == np.int32
    assert c[:4].tolist() == [[0, 0, 0], [0, 0, 0], [96, 96, 0], [96, 96, 0]]  # 1.5 · 64
    assert c[8].tolist() == [-48, -48, 0] and c[24].tolist() == [32, 32, 0]
    assert c[15:18, 2].tolist() == [LIMIT, LIMIT, 0]  # 1e6 · 64 saturates


def test_every_feature_matches_the_replay_register_for_register():
    qnet = quantized_net()
    result = LavaFixedBackend().run(qnet, STEPS, options={})
    assert result.meta["units"] == "register"
    want = {}
    for name in POPULATIONS:
        want[name] = replay(qnet.populations[name], synaptic_input(qnet, name, STEPS),
                            fixed_current(qnet, name, STEPS))
        want_u, want_v, want_spikes = want[name]
        assert result.traces[(name, "u")].dtype == np.int32
        np.testing.assert_array_equal(result.traces[(name, "u")], want_u, err_msg=name)
        np.testing.assert_array_equal(result.traces[(name, "v")], want_v, err_msg=name)
        steps, neurons = result.spikes[name]
        assert list(zip(steps.tolist(), neurons.tolist())) == want_spikes, name

    # what the replay says, checked by hand on the first steps
    u, v, spikes = want["hold"]  # +200/+140 per step, spike above 640, two steps held at 0
    assert v[:7, 0].tolist() == [200, 400, 600, 0, 0, 0, 200] and (3, 0) in spikes
    assert u[5, 0] == (4 << 4) << 6  # cue 0 at 4 arrives at 5, while refractory
    u, v, spikes = want["sub"]  # +300 per step, 900 -> 900 − 640
    assert v[:6, 0].tolist() == [300, 600, 260, 560, 220, 520]
    u, v, spikes = want["subref"]  # +1000 when free; 720 > 640 held at 3 without a spike
    assert v[:5, 0].tolist() == [360, 360, 720, 720, 1080]
    assert [t for t, _ in spikes[:3]] == [0, 2, 4]
    u, v, spikes = want["sat"]  # 4095 << 7 = 524160, -4096 << 7 = -524288 per step
    assert spikes == [] and v[15, 0] == 16 * 524160 and v[16, 0] == LIMIT
    assert v[14, 1] == -15 * 524288 and v[15, 1] == -LIMIT
    assert u[21, 0] == 1270 * 2 ** 13 - 2 ** 24  # the five cue spikes of step 20, wrapped
    assert v[21, 0] == LIMIT + u[21, 0] + 524160
