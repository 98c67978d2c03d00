"""Counting without listing (pairs.py, costs.py, kernels.py): every count equals the one found
by listing every (neuron, destination core) and (presynaptic, post neuron) pair with numpy,
as the pass once did; and the pass holds a few bytes a synapse, not a listing's 50 or more."""
from __future__ import annotations

import math
import tracemalloc
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import networks

from nmcompile.ir import LIF, Network, Population, Projection
from nmcompile.passes.mapping import partition, population_costs
from nmcompile.passes.mapping.costs import population_offsets, presynaptic_lists
from nmcompile.passes.mapping.drc import check_design_rules
from nmcompile.passes.mapping.pairs import count_pairs
from nmcompile.passes.mapping.report import mapping_report
from nmcompile.result import Result
from nmcompile.targets import load_target


def listed_pairs(net: Network, gcore: np.ndarray, n_cores: int):
    """Every distinct (neuron, destination core) pair and its synapses, by sorting keys."""
    offsets = population_offsets(net)
    keys = [(p.pre_idx.astype(np.int64) + offsets[p.pre]) * n_cores
            + gcore[offsets[p.post] + p.post_idx] for p in net.projections]
    keys, synapses = np.unique(np.concatenate([np.zeros(0, np.int64), *keys]), return_counts=True)
    return keys // n_cores, keys % n_cores, synapses


@settings(derandomize=True, max_examples=40, deadline=None)
@given(net=networks(max_lif=4, max_size=20, max_delay=6), npc=st.integers(1, 8),
       cpc=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_counted_pairs_equal_the_listed_ones(net, npc, cpc, seed):
    base = load_target("tiny")
    target = replace(base, resources=replace(base.resources, neurons_per_core=npc,
                                             cores_per_chip=cpc, chips=100))
    mapping = partition(net, target)
    n_cores = int(mapping.block_core.max()) + 1
    spikes = np.random.default_rng(seed).integers(0, 9, net.n_neurons)
    pairs = count_pairs(net, mapping, spikes, packets=True)
    neuron, core, synapses = listed_pairs(net, pairs.gcore, n_cores)
    n = net.n_neurons
    assert np.array_equal(pairs.output_axons, np.bincount(neuron, minlength=n))
    assert np.array_equal(pairs.input_axons, np.bincount(core, minlength=n_cores))
    assert np.array_equal(pairs.events, np.bincount(core, weights=spikes[neuron] * synapses,
                                                    minlength=n_cores))
    src = pairs.gcore[neuron]
    placed = src >= 0
    same_core = placed & (src == core)
    same_chip = placed & ~same_core & (src // cpc == core // cpc)
    width = math.ceil(math.sqrt(cpc))
    a, b = src % cpc, core % cpc
    hops = np.abs(a % width - b % width) + np.abs(a // width - b // width)
    for counted, listed in ((pairs.same_core, same_core), (pairs.same_chip, same_chip),
                            (pairs.other_chip, placed & ~same_core & ~same_chip)):
        assert np.array_equal(counted, np.bincount(neuron[listed], minlength=n))
    assert np.array_equal(pairs.hops, np.bincount(neuron[same_chip], weights=hops[same_chip],
                                                  minlength=n))
    packets = np.zeros((n_cores, n_cores), np.int64)
    np.add.at(packets, (src[placed], core[placed]), 1)
    assert np.array_equal(pairs.packets, packets)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(net=networks(max_lif=4, max_size=20, max_delay=6), data=st.data())
def test_fan_in_and_the_runs_a_split_takes_equal_the_listed_presynaptic_neurons(net, data):
    offsets = population_offsets(net)
    costs = population_costs(net)
    for pop in net.neuron_populations():
        projs = [p for p in net.projections if p.post == pop.name and p.n_synapses]
        gpre = np.concatenate([np.zeros(0, np.int64)] + [p.pre_idx + offsets[p.pre]
                                                         for p in projs])
        post = np.concatenate([np.zeros(0, np.int64)] + [p.post_idx for p in projs])
        fan_in = [np.unique(gpre[post == r]).size for r in range(pop.size)]
        assert costs.incoming[pop.name].fan_in.tolist() == fan_in
        inputs = presynaptic_lists(net, pop.name, offsets, projs)
        for _ in range(3):
            a = data.draw(st.integers(0, pop.size - 1))
            b = data.draw(st.integers(a + 1, pop.size))
            cap = data.draw(st.integers(0, 12))
            prefix = [np.unique(gpre[(post >= a) & (post < end)]).size
                      for end in range(a + 1, b + 1)]
            rows = max(1, sum(d <= cap for d in prefix))
            assert inputs.rows_within(a, b, cap) == (rows, prefix[rows - 1])
        assert not inputs.seen.any()  # left clear for the next call


def random_network(neurons: int, per_neuron: int) -> Network:
    """One recurrent population, `per_neuron` random inputs each (sorted by pre, post)."""
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, neurons * neurons, neurons * per_neuron))
    n = keys.size
    proj = Projection(name="rec", pre="x", post="x", pre_idx=(keys // neurons).astype(np.int32),
                      post_idx=(keys % neurons).astype(np.int32), weight=rng.normal(0, 1, n),
                      delay=rng.integers(1, 20, n).astype(np.int32))
    lif = LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    return Network(name="random", populations={"x": Population(name="x", size=neurons,
                                                                model=lif)},
                   projections=(proj,))


def test_mapping_holds_a_few_bytes_a_synapse():
    """Costs, partition, design rules and report of 1 million synapses on a core per neuron
    (300 input axons a core: as many pairs as synapses): the pass once listed every pair in
    int64 keys (50-100 bytes a synapse at its peak); it now regroups one population's
    synapses at a time (4 bytes)."""
    net = random_network(4000, 250)
    base = load_target("loihi2")
    target = replace(base, resources=replace(base.resources, cores_per_chip=4096,
                                             input_axons_per_core=300))
    spikes = {"x": (np.zeros(4000, np.int64), np.arange(4000))}

    def compile_and_report(net):
        costs = population_costs(net)
        mapping = partition(net, target, costs)
        check_design_rules(net, target, mapping, costs)
        return mapping, mapping_report(net, target, mapping, costs, Result(spikes=spikes), 1)
    compile_and_report(random_network(4000, 1))  # numba loads its kernels: not the pass's
    tracemalloc.start()
    try:
        mapping, report = compile_and_report(net)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert mapping.cores.size == 4000
    assert report.traffic["synaptic_events"] == net.n_synapses
    assert peak < 6 * net.n_synapses, f"{peak / net.n_synapses:.1f} bytes a synapse"
