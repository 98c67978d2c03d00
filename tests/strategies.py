"""Hypothesis strategies for small random IR Networks, shared by every backend's tests.

    from strategies import networks        # tests/ is on pytest's pythonpath
    @given(net=networks())                 # or networks(max_delay=5, refractory=False, ...)

Stable API (other backends' tests import it; add keyword options, never change defaults):

networks(*, max_lif=3, max_sources=2, max_size=8, steps=(20, 60), max_delay=20,
         refractory=True, connect_p=0.5, variants=False, currents=False, models=("lif",))
         -> SearchStrategy[Network]
    1..max_lif LIF populations "lif0".. and 1..max_sources sources "src0".. (Poisson or
    spike_array, drawn per source), sizes 1..max_size. Every (pre, post) pair with post a LIF
    population (recurrent and self projections included) is connected with probability
    1/2, each projection synapse-wise with probability connect_p; mixed-sign normal weights,
    delays uniform in 1..max_delay, bias of either sign, refractory 0..3 when allowed,
    tau_syn / tau_mem occasionally inf. Each LIF population gets a v probe (ties of the
    float-exact contract are judged on v) and sometimes a u probe. net.steps is drawn from
    `steps`; net.seed from the draw, so Poisson spikes differ between examples.
    variants=True also draws the LIF variants of DESIGN §2.5 per population: tau_syn 0,
    reset subtract, non-spiking readouts (v_th inf), per-neuron bias, u_init and v_init;
    currents=True gives some LIF populations injected currents (steps, ramp or per-step
    values, to every neuron or to a subset, sometimes two into one population).
    models: the neuron model kinds drawn per population ("lif", "izhikevich",
    "adaptive_lif"); populations are still named "lif0".. whatever their model. With
    Izhikevich populations net.dt is drawn from 0.25, 0.5, 1 ms (the model's time scale).
    Weights, biases and currents are scaled per model: v_th (LIF), theta_0 (adaptive), 10
    (Izhikevich: the current that takes a resting neuron to spiking is ~4). Every population
    gets the probes its ties are judged on (the model's TIE_STATE), and sometimes the rest.

lif_models(*, refractory=True, variants=False) -> SearchStrategy[LIF]
    One LIF parameter set as `networks` draws it (per-neuron values are added by `networks`,
    which knows the size).

Arrays are drawn from a numpy generator seeded by hypothesis, so examples are reproducible
under @settings(derandomize=True) and shrink on structure (counts, sizes, steps, seed).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from nmcompile.ir import (LIF, AdaptiveLIF, Current, Izhikevich, Network, Poisson, Population,
                          Probe, Projection, SpikeArray)

_INF = float("inf")


@st.composite
def lif_models(draw, *, refractory: bool = True, variants: bool = False) -> LIF:
    v_th = draw(st.floats(0.5, 2.0))
    tau_syn = st.floats(1.0, 20.0) | st.just(_INF)
    model = LIF(tau_syn=draw(tau_syn | st.just(0.0)) if variants else draw(tau_syn),
                tau_mem=draw(st.one_of(st.floats(2.0, 50.0), st.just(_INF))),
                v_th=v_th,
                bias=draw(st.floats(-0.05, 0.15)) * v_th,
                refractory=draw(st.integers(0, 3)) if refractory else 0)
    if variants:
        model = replace(model, reset=draw(st.sampled_from(["zero", "subtract"])))
        if draw(st.integers(0, 7)) == 0:  # now and then a readout that never spikes
            model = replace(model, v_th=_INF)
    return model


# the Izhikevich (2004) cell classes (a, b, c, d): RS, IB, CH, FS, LTS, TC, RZ
IZHIKEVICH_CLASSES = ((0.02, 0.2, -65.0, 8.0), (0.02, 0.2, -55.0, 4.0), (0.02, 0.2, -50.0, 2.0),
                      (0.1, 0.2, -65.0, 2.0), (0.02, 0.25, -65.0, 2.0), (0.02, 0.25, -65.0, 0.05),
                      (0.1, 0.26, -65.0, 2.0))


@st.composite
def izhikevich_models(draw) -> Izhikevich:
    """A cell class of the paper, its parameters jittered by up to 10 %, sometimes a synaptic
    time constant, a bias, a non-default v_init or u_init."""
    a, b, c, d = draw(st.sampled_from(IZHIKEVICH_CLASSES))
    jitter = draw(st.tuples(*[st.floats(0.9, 1.1)] * 4))
    u_init = draw(st.none() | st.floats(-20.0, 0.0))
    return Izhikevich(a=a * jitter[0], b=b * jitter[1], c=c * jitter[2], d=d * jitter[3],
                      tau_syn=draw(st.just(0.0) | st.floats(1.0, 10.0)),
                      bias=draw(st.floats(-2.0, 20.0)), v_init=draw(st.floats(-75.0, -40.0)),
                      u_init=u_init)


@st.composite
def adaptive_lif_models(draw) -> AdaptiveLIF:
    theta_0 = draw(st.floats(0.5, 2.0))
    return AdaptiveLIF(tau_syn=draw(st.just(0.0) | st.floats(1.0, 20.0)),
                       tau_mem=draw(st.floats(2.0, 50.0)), tau_theta=draw(st.floats(5.0, 100.0)),
                       tau_r=draw(st.floats(1.0, 20.0)), theta_0=theta_0,
                       theta_step=draw(st.floats(0.0, 1.0)) * theta_0,
                       bias=draw(st.floats(-0.05, 0.3)) * theta_0)


def drive_scale(model) -> float:
    """The size of input that matters to a model: weights, biases, currents are drawn in it."""
    if isinstance(model, Izhikevich):
        return 10.0
    if isinstance(model, AdaptiveLIF):
        return model.theta_0
    return model.v_th if np.isfinite(model.v_th) else 1.0


def _per_neuron_values(rng: np.random.Generator, model, size: int):
    """Per-neuron bias and initial values around the model's scalars (each drawn half the
    time): LIF bias, u_init, v_init; Izhikevich bias, v_init, u_init; adaptive bias."""
    scale = drive_scale(model)
    changes = {}
    if rng.random() < 0.5:
        changes["bias"] = model.bias + rng.normal(0.0, 0.05, size) * scale
    if isinstance(model, Izhikevich):
        if rng.random() < 0.5:
            changes["v_init"] = rng.uniform(-75.0, -55.0, size)
        if rng.random() < 0.5:
            changes["u_init"] = rng.uniform(-20.0, 0.0, size)
        return replace(model, **changes)
    if isinstance(model, AdaptiveLIF):
        return replace(model, **changes)
    if rng.random() < 0.5:
        changes["bias"] = model.bias + rng.normal(0.0, 0.05, size) * scale
    if rng.random() < 0.5:
        changes["v_init"] = rng.uniform(-0.5, 1.2, size) * scale
    if rng.random() < 0.5:
        changes["u_init"] = rng.normal(0.0, 0.2, size) * scale
    return replace(model, **changes)


def _currents(rng: np.random.Generator, pop: Population, steps: int) -> list[Current]:
    """Zero, one or two injected currents into `pop`, of the three kinds."""
    scale = drive_scale(pop.model)
    out = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        neurons = None
        if pop.size > 1 and rng.random() < 0.5:
            neurons = np.sort(rng.choice(pop.size, rng.integers(1, pop.size + 1), replace=False))
        kind = rng.choice(["steps", "ramp", "file"])
        if kind == "file":
            width = pop.size if neurons is None else neurons.size
            shape = (rng.integers(1, steps + 1),) + ((width,) if rng.random() < 0.5 else ())
            out.append(Current(population=pop.name, kind="file", neurons=neurons,
                               values=rng.normal(0.05, 0.1, shape) * scale))
            continue
        at = np.sort(rng.choice(steps, rng.integers(1, 4), replace=False)).astype(float)
        points = np.column_stack([at, rng.normal(0.05, 0.15, at.size) * scale])
        out.append(Current(population=pop.name, kind=str(kind), neurons=neurons, points=points))
    return out


def _source(rng: np.random.Generator, size: int, steps: int) -> Poisson | SpikeArray:
    if rng.random() < 0.5:
        return Poisson(rate=rng.uniform(20.0, 300.0, size))
    mask = rng.random((steps, size)) < rng.uniform(0.02, 0.3)
    t, n = np.nonzero(mask)  # row-major: sorted by step, then neuron
    return SpikeArray(neurons=n.astype(np.int64), steps=t.astype(np.int64))


def _projection(rng, name: str, pre: Population, post: Population, connect_p: float,
                max_delay: int, scale: float) -> Projection | None:
    mask = rng.random((pre.size, post.size)) < connect_p
    pre_idx, post_idx = np.nonzero(mask)  # sorted by (pre, post)
    if pre_idx.size == 0:
        return None
    return Projection(name=name, pre=pre.name, post=post.name,
                      pre_idx=pre_idx.astype(np.int32), post_idx=post_idx.astype(np.int32),
                      weight=rng.normal(0.25, 0.6, pre_idx.size) * scale,
                      delay=rng.integers(1, max_delay + 1, pre_idx.size).astype(np.int32))


@st.composite
def networks(draw, *, max_lif: int = 3, max_sources: int = 2, max_size: int = 8,
             steps: tuple[int, int] = (20, 60), max_delay: int = 20, refractory: bool = True,
             connect_p: float = 0.5, variants: bool = False, currents: bool = False,
             models: tuple[str, ...] = ("lif",)) -> Network:
    n_steps = draw(st.integers(*steps))
    dt = draw(st.sampled_from([0.25, 0.5, 1.0])) if "izhikevich" in models else 1.0
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    pops: dict[str, Population] = {}
    for i in range(draw(st.integers(1, max_sources))):
        size = draw(st.integers(1, max_size))
        pops[f"src{i}"] = Population(name=f"src{i}", size=size,
                                     model=_source(rng, size, n_steps))
    lifs = []
    for i in range(draw(st.integers(1, max_lif))):
        size = draw(st.integers(1, max_size))
        kind = draw(st.sampled_from(models))
        if kind == "izhikevich":
            model = draw(izhikevich_models())
        elif kind == "adaptive_lif":
            model = draw(adaptive_lif_models())
        else:
            model = draw(lif_models(refractory=refractory, variants=variants))
        if variants:
            model = _per_neuron_values(rng, model, size)
        pop = Population(name=f"lif{i}", size=size, model=model)
        pops[pop.name] = pop
        lifs.append(pop)
    projections = []
    for post in lifs:
        for pre in pops.values():
            if rng.random() < 0.5:
                proj = _projection(rng, f"p{len(projections)}", pre, post, connect_p,
                                   max_delay, drive_scale(post.model))
                if proj is not None:
                    projections.append(proj)
    probes = [Probe(population=p.name, var=var) for p in lifs for var in p.model.TIE_STATE]
    probes += [Probe(population=p.name, var=var) for p in lifs for var in p.model.STATE
               if var not in p.model.TIE_STATE and rng.random() < 0.3]
    injected = [c for p in lifs for c in _currents(rng, p, n_steps)] if currents else []
    return Network(name="generated", populations=pops, projections=tuple(projections),
                   probes=tuple(probes), currents=tuple(injected), steps=n_steps, seed=seed,
                   dt=dt)
