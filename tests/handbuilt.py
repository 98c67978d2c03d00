"""Hand-built networks, and the checks that compare backends on them, shared by the backend
tests of every neuron model (tests/unit/backends/test_<backend>_<model>.py).

    from handbuilt import projection, fixed_network    # tests/ is on pytest's pythonpath

Each model's tests build their networks and compare their runs the same way on a backend,
whatever the model; kept here once, a fix or a stricter check reaches every model at once.

- float networks: `projection` (given pairs), `dyadic_projection` (random, dyadic weights:
  every sum exact in any order), `random_spikes`; `run_brian2` and
  `assert_identical_to_oracle` (Brian2 against tests/oracle.py, bit for bit);
- registers by hand: `source`, `fixed_projection`, `random_fixed_projection`, `fixed_network`
  and `assert_same_as_lava` (emulator against lava-fixed, register for register);
- integer replays of a model's fixed-point step (tests/unit/backends/test_lava_<model>.py):
  a "cue" source (`cue`, `cue_projections`), its `synaptic_input` per step, `wrap32`, and
  `assert_equals_replay`.
"""
from __future__ import annotations

import numpy as np
from oracle import oracle_run

from nmcompile.backends import get_backend
from nmcompile.ir import (FixedProjection, Network, Population, Probe, Projection,
                          QuantizedNetwork, SpikeArray)
from nmcompile.result import Result

# --- float networks ----------------------------------------------------------------------------


def projection(name, pre, post, pairs, weight, delay) -> Projection:
    """One weight for every (pre, post) pair; delay: one for all, or one per pair."""
    pre_idx, post_idx = (np.array(x, dtype=np.int32) for x in zip(*sorted(pairs)))
    return Projection(name=name, pre=pre, post=post, pre_idx=pre_idx, post_idx=post_idx,
                      weight=np.full(len(pairs), weight, dtype=np.float64),
                      delay=np.array(np.broadcast_to(delay, (len(pairs),)), dtype=np.int32))


def dyadic_projection(pre: Population, post: Population, weights, max_delay: int,
                      seed: int, density: float = 0.5) -> Projection:
    """Random synapses with weights drawn from `weights` (dyadic numbers), delays 1..max_delay."""
    rng = np.random.default_rng(seed)
    pre_idx, post_idx = np.nonzero(rng.random((pre.size, post.size)) < density)
    return Projection(name=f"{pre.name}_{post.name}", pre=pre.name, post=post.name,
                      pre_idx=pre_idx.astype(np.int32), post_idx=post_idx.astype(np.int32),
                      weight=rng.choice(np.asarray(weights, float), pre_idx.size),
                      delay=rng.integers(1, max_delay + 1, pre_idx.size).astype(np.int32))


def random_spikes(name: str, size: int, steps: int, rate: float, seed: int) -> Population:
    mask = np.random.default_rng(seed).random((steps, size)) < rate
    t, n = np.nonzero(mask)
    return Population(name=name, size=size, model=SpikeArray(neurons=n, steps=t))


def run_brian2(net: Network, **options) -> Result:
    return get_backend("brian2").run(net, net.steps, options=options)


def assert_identical_to_oracle(net: Network, result: Result) -> Result:
    """Same spikes, and every probed trace equal bit for bit; returns the oracle's result."""
    expected = oracle_run(net)
    assert set(result.spikes) == set(expected.spikes)
    for pop, (t, n) in expected.spikes.items():
        np.testing.assert_array_equal(result.spikes[pop][0], t, err_msg=f"{pop} spike steps")
        np.testing.assert_array_equal(result.spikes[pop][1], n, err_msg=f"{pop} spike neurons")
    assert set(result.traces) == set(expected.traces)
    for key, trace in expected.traces.items():
        np.testing.assert_array_equal(result.traces[key], trace, err_msg=f"trace {key}")
        assert result.traces[key].tobytes() == trace.tobytes(), f"trace {key}: sign of a zero"
    return expected


# --- registers by hand -------------------------------------------------------------------------


def source(name: str, size: int, steps, neurons) -> Population:
    return Population(name=name, size=size, model=SpikeArray(
        neurons=np.asarray(neurons, np.int64), steps=np.asarray(steps, np.int64)))


def fixed_projection(name: str, pre: str, post: str, pre_idx, post_idx, mant, *, delay=1,
                     weight_exp=0) -> FixedProjection:
    """8-bit weights, the sign mode the narrowest that holds every mantissa."""
    mant = np.asarray(mant, np.int32)
    pre_idx = np.asarray(pre_idx, np.int32)
    sign_mode = ("excitatory" if np.all(mant >= 0) else
                 "inhibitory" if np.all(mant <= 0) else "mixed")
    return FixedProjection(name=name, pre=pre, post=post, pre_idx=pre_idx,
                           post_idx=np.asarray(post_idx, np.int32),
                           weight_mant=np.broadcast_to(mant, pre_idx.shape).copy(),
                           delay=np.broadcast_to(np.asarray(delay, np.int32),
                                                 pre_idx.shape).copy(),
                           weight_exp=weight_exp, num_weight_bits=8, sign_mode=sign_mode)


def random_fixed_projection(rng, name: str, pre: Population, post: Population, *,
                            density: float, low: int, high: int, max_delay: int,
                            weight_exp: int) -> FixedProjection:
    pre_idx, post_idx = np.nonzero(rng.random((pre.size, post.size)) < density)
    return fixed_projection(name, pre.name, post.name, pre_idx, post_idx,
                            rng.integers(low, high + 1, pre_idx.size),
                            delay=rng.integers(1, max_delay + 1, pre_idx.size),
                            weight_exp=weight_exp)


def fixed_network(populations: list[tuple[Population, object]], projections=(), *, steps: int,
                  currents=()) -> QuantizedNetwork:
    """Populations with their registers (None for a source); every state var is probed."""
    pops = {pop.name: pop for pop, _ in populations}
    probes = tuple(Probe(population=pop.name, var=var) for pop, fixed in populations
                   if fixed is not None for var in pop.model.STATE)
    net = Network(name="hand", populations=pops, probes=probes, steps=steps,
                  currents=tuple(currents))
    return QuantizedNetwork(network=net, target="hand", projections=tuple(projections),
                            populations={pop.name: fixed for pop, fixed in populations
                                         if fixed is not None})


def assert_same_as_lava(qnet: QuantizedNetwork, **options) -> Result:
    """The emulator's spikes and registers equal lava-fixed's (run with `options`); returns
    the emulator's result."""
    steps = qnet.network.steps
    emulated = get_backend("emulator").run(qnet, steps, options={})
    lava = get_backend("lava-fixed").run(qnet, steps, options=options)
    assert emulated.spikes.keys() == lava.spikes.keys()
    for pop, (t, n) in lava.spikes.items():
        np.testing.assert_array_equal(emulated.spikes[pop][0], t, err_msg=f"{pop} steps")
        np.testing.assert_array_equal(emulated.spikes[pop][1], n, err_msg=f"{pop} neurons")
    assert emulated.traces.keys() == lava.traces.keys() == {
        (p.population, p.var) for p in qnet.network.probes}
    for key, trace in lava.traces.items():
        np.testing.assert_array_equal(emulated.traces[key].astype(np.int64),
                                      np.asarray(trace).astype(np.int64), err_msg=str(key))
    return emulated


# --- integer replays fed by a "cue" source -----------------------------------------------------


def cue(spike_steps: dict[int, list[int]]) -> Population:
    """The source "cue": neuron n spikes at each step of spike_steps[n]."""
    pairs = sorted((t, n) for n, steps in spike_steps.items() for t in steps)
    return Population(name="cue", size=len(spike_steps), model=SpikeArray(
        steps=np.array([t for t, _ in pairs]), neurons=np.array([n for _, n in pairs])))


def cue_projections(synapses, scale: float = 1.0) -> tuple[list[Projection],
                                                           list[FixedProjection]]:
    """Per (post, [(cue neuron, post neuron)], even mantissa (mixed mode keeps it), weight_exp,
    delay): a float projection from "cue" of weight mant·2^(weight_exp + 6) / scale, and its
    registers (8-bit mixed-mode weights)."""
    projections, fixed_projections = [], []
    for k, (post, syn, mant, exp, delay) in enumerate(synapses):
        proj = projection(f"cue_{post}_{k}", "cue", post, syn, mant * 2.0 ** (exp + 6) / scale,
                          delay)
        projections.append(proj)
        fixed_projections.append(FixedProjection(
            name=proj.name, pre="cue", post=post, pre_idx=proj.pre_idx, post_idx=proj.post_idx,
            delay=proj.delay, weight_mant=np.full(len(syn), mant, dtype=np.int32),
            weight_exp=exp, num_weight_bits=8, sign_mode="mixed"))
    return projections, fixed_projections


def wrap32(x: int) -> int:
    return (x + 2 ** 31) % 2 ** 32 - 2 ** 31


def synaptic_input(qnet: QuantizedNetwork, post: str, steps: int) -> np.ndarray:
    """a[t, neuron] as Python integers: per projection, Σ mantissas of the synapses whose cue
    neuron spiked at t − delay, << weight_exp; summed and wrapped to int32 (one delay per
    projection here)."""
    spikes = qnet.network.populations["cue"].model
    a = np.zeros((steps, qnet.network.populations[post].size), dtype=object)
    for fp in qnet.projections:
        if fp.post == post:
            for pre, target, mant, delay in zip(fp.pre_idx, fp.post_idx, fp.weight_mant,
                                                fp.delay):
                for t in spikes.steps[spikes.neurons == pre] + delay:
                    if t < steps:
                        a[t, target] += int(mant) << fp.weight_exp
    return np.vectorize(wrap32, otypes=[object])(a)


def assert_equals_replay(result: Result, want: dict) -> None:
    """`want`: population -> (int traces per var, spikes [(t, neuron)]) of a replay; the
    backend's int32 registers and spikes must equal them."""
    for name, (traces, spikes) in want.items():
        for var, trace in traces.items():
            got = result.traces[(name, var)]
            assert got.dtype == np.int32, (name, var)
            assert np.array_equal(got, trace), (name, var)
        steps, neurons = result.spikes[name]
        assert list(zip(steps.tolist(), neurons.tolist())) == spikes, name
