"""Hypothesis strategies for networks of LIF variants (DESIGN §2.5), for fixed-point tests.

    from strategies_fixed import variant_networks, raw_variant_networks

variant_networks(*, max_size=5, steps=(30, 70), max_delay=6) -> SearchStrategy[Network]
    1..2 spike sources "src0".. and 3..5 LIF populations "lif0".., each drawing its own mix of
    variants, so one run covers many cases: tau_syn 0, finite or inf; v_th finite or inf
    (non-spiking); reset zero or subtract; refractory 0..4; bias, u_init, v_init one value or
    one per neuron; an injected current (steps or ramp, into every neuron or some) or none.
    Every (pre, post) pair with a LIF post is connected with probability 1/2 (recurrent and
    self projections included), synapse-wise with probability 0.6, weights of either sign
    around the post's threshold; every LIF population has a u and a v probe. Drawn values
    are large enough that neurons do spike (and refractory periods and resets act).

raw_variant_networks(**same) -> SearchStrategy[QuantizedNetwork]
    The same topologies with adversarial integer registers drawn directly (any du, dv, vth,
    per-neuron bias mantissas and exponents, initial u and v across the 24-bit range, strong
    weights that wrap u and saturate v, current registers up to the 24-bit limit).

Arrays come from a numpy generator seeded by hypothesis, so examples are reproducible under
@settings(derandomize=True).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from nmcompile.ir import (LIF, SIGN_MODES, Current, FixedLIF, FixedProjection, Network, Poisson,
                          Population, Probe, Projection, QuantizedNetwork, SpikeArray)

_INF = float("inf")


def _maybe_per_neuron(rng: np.random.Generator, size: int, spread: float, centre: float = 0.0):
    """0, one value, or one value per neuron (a list drawn at load time becomes an array)."""
    choice = rng.integers(3)
    if choice == 0:
        return 0.0
    if choice == 1:
        return float(centre + rng.normal(0.0, spread))
    return centre + rng.normal(0.0, spread, size)


def _lif(rng: np.random.Generator, size: int) -> LIF:
    spiking = rng.random() < 0.8
    v_th = float(rng.uniform(0.5, 2.0)) if spiking else _INF
    unit = v_th if spiking else 1.0
    return LIF(tau_syn=float(rng.choice([0.0, rng.uniform(1.0, 20.0), _INF])),
               tau_mem=float(rng.choice([rng.uniform(2.0, 50.0), _INF])),
               v_th=v_th,
               bias=_maybe_per_neuron(rng, size, 0.1 * unit, 0.03 * unit),
               refractory=int(rng.choice([0, rng.integers(1, 5)])),
               reset=str(rng.choice(["zero", "subtract"])),
               v_init=_maybe_per_neuron(rng, size, 0.5 * unit),
               u_init=_maybe_per_neuron(rng, size, 0.3 * unit))


def _current(rng: np.random.Generator, pop: Population, steps: int) -> Current | None:
    if rng.random() < 0.4:
        return None
    unit = pop.model.v_th if pop.model.spiking else 1.0
    at = np.unique(rng.integers(0, steps, rng.integers(1, 4))).astype(np.float64)
    points = np.column_stack([at, rng.normal(0.05, 0.3, at.size) * unit])
    neurons = None
    if pop.size > 1 and rng.random() < 0.5:
        neurons = np.sort(rng.choice(pop.size, rng.integers(1, pop.size), replace=False))
    return Current(population=pop.name, kind=str(rng.choice(["steps", "ramp"])),
                   neurons=None if neurons is None else neurons.astype(np.int64), points=points)


def _source(rng: np.random.Generator, size: int, steps: int) -> Poisson | SpikeArray:
    if rng.random() < 0.5:
        return Poisson(rate=rng.uniform(50.0, 400.0, size))
    t, n = np.nonzero(rng.random((steps, size)) < rng.uniform(0.05, 0.4))
    return SpikeArray(neurons=n.astype(np.int64), steps=t.astype(np.int64))


def _projection(rng, name: str, pre: Population, post: Population,
                max_delay: int) -> Projection | None:
    pre_idx, post_idx = np.nonzero(rng.random((pre.size, post.size)) < 0.6)
    if pre_idx.size == 0:
        return None
    unit = post.model.v_th if post.model.spiking else 1.0
    return Projection(name=name, pre=pre.name, post=post.name,
                      pre_idx=pre_idx.astype(np.int32), post_idx=post_idx.astype(np.int32),
                      weight=rng.normal(0.3, 0.6, pre_idx.size) * unit,
                      delay=rng.integers(1, max_delay + 1, pre_idx.size).astype(np.int32))


@st.composite
def variant_networks(draw, *, max_size: int = 5, steps: tuple[int, int] = (30, 70),
                     max_delay: int = 6) -> Network:
    n_steps = draw(st.integers(*steps))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    pops: dict[str, Population] = {}
    for i in range(draw(st.integers(1, 2))):
        size = int(rng.integers(1, max_size + 1))
        pops[f"src{i}"] = Population(name=f"src{i}", size=size,
                                     model=_source(rng, size, n_steps))
    lifs = []
    for i in range(draw(st.integers(3, 5))):
        size = int(rng.integers(1, max_size + 1))
        pop = Population(name=f"lif{i}", size=size, model=_lif(rng, size))
        pops[pop.name] = pop
        lifs.append(pop)
    projections = []
    for post in lifs:
        for pre in pops.values():
            if rng.random() < 0.5:
                proj = _projection(rng, f"p{len(projections)}", pre, post, max_delay)
                if proj is not None:
                    projections.append(proj)
    currents = tuple(c for c in (_current(rng, p, n_steps) for p in lifs) if c is not None)
    probes = tuple(Probe(population=p.name, var=var) for p in lifs for var in ("u", "v"))
    return Network(name="variants", populations=pops, projections=tuple(projections),
                   probes=probes, currents=currents, steps=n_steps, seed=seed)


def _raw_registers(rng: np.random.Generator, pop: Population) -> FixedLIF:
    size, m = pop.size, pop.model

    def register(low: int, high: int):
        values = rng.integers(low, high, size)
        return int(values[0]) if rng.random() < 0.4 else values.astype(np.int32)
    uv = 2 ** 23 - 1
    return FixedLIF(du=int(rng.choice([0, 4095, rng.integers(0, 4096)])),
                    dv=int(rng.choice([0, 4095, rng.integers(0, 4096)])),
                    vth=int(rng.choice([1, rng.integers(1, 2 ** 17), 2 ** 17 - 1])),
                    bias_mant=register(-4096, 4096), bias_exp=register(0, 8),
                    scale=float(rng.choice([1.0, 64.0, 2.0 ** 25])),
                    u_init=register(-uv, uv + 1), v_init=register(-uv, uv + 1),
                    refractory=m.refractory, reset=m.reset, spiking=m.spiking)


@st.composite
def raw_variant_networks(draw, **options) -> QuantizedNetwork:
    """variant_networks with adversarial integer registers (see the module docstring); the
    current registers are fixed_current's rint(c · scale), so a large scale saturates them."""
    net = draw(variant_networks(**options))
    rng = np.random.default_rng(net.seed)
    pops = {p.name: _raw_registers(rng, p) for p in net.neuron_populations()}
    projs = []
    for p in net.projections:
        mant = rng.integers(-256, 256, p.n_synapses)
        mode, exp = SIGN_MODES[int(rng.integers(3))], int(rng.integers(-8, 8))
        if rng.random() < 0.4:  # strong and one-signed: a few spikes wrap u past 2^23
            mode, exp = SIGN_MODES[int(rng.integers(1, 3))], int(rng.integers(6, 8))
            mant = np.abs(mant) // 2 + 128
            mant = -mant if mode == "inhibitory" else mant
        projs.append(FixedProjection(
            name=p.name, pre=p.pre, post=p.post, pre_idx=p.pre_idx, post_idx=p.post_idx,
            weight_mant=mant.astype(np.int32), delay=p.delay, weight_exp=exp,
            num_weight_bits=int(rng.choice([8, 6, 4])), sign_mode=mode))
    return QuantizedNetwork(network=net, target="generated", populations=pops,
                            projections=tuple(projs))
