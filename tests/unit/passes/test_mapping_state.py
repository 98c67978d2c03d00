"""Neuron-state words in the mapping (DESIGN §5.3): a model with more state per neuron fits
fewer neurons in a core; blocks and shared cores keep within the capacity; the report shows
the words per core; LIF maps as before."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import networks

from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import LIF, AdaptiveLIF, Izhikevich, Network, Population
from nmcompile.passes.mapping import partition, population_costs
from nmcompile.passes.mapping.pairs import neuron_cores
from nmcompile.passes.mapping.pipeline import compile_network
from nmcompile.passes.mapping.report import mapping_report
from nmcompile.targets import load_target

EXAMPLES = Path(__file__).parents[3] / "examples"
MODELS = {"lif": LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0),
          "izhikevich": Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0),
          "adaptive_lif": AdaptiveLIF(tau_syn=2.0, tau_mem=10.0, tau_theta=50.0, tau_r=5.0,
                                      theta_0=1.0, theta_step=0.2)}


def one_population(kind: str, size: int) -> Network:
    return Network(name=kind, populations={"x": Population(name="x", size=size,
                                                           model=MODELS[kind])})


def test_a_core_of_tiny_holds_16_lif_10_izhikevich_or_8_adaptive_neurons():
    tiny = replace(load_target("tiny"), resources=replace(load_target("tiny").resources,
                                                          chips=10))
    for kind, per_core in (("lif", 16), ("izhikevich", 10), ("adaptive_lif", 8)):
        mapping = partition(one_population(kind, 40), tiny)
        assert np.bincount(mapping.neuron_cores("x", 40)).tolist() == [per_core] * (
            40 // per_core) + ([40 % per_core] if 40 % per_core else []), kind


def test_populations_of_different_models_share_a_core_within_its_state_words():
    """3 Izhikevich (9 words) + 5 adaptive (20 words) = 29 ≤ 32 on one core; one LIF more
    (2 words) would not fit and takes a second core."""
    pops = {"a": Population(name="a", size=3, model=MODELS["izhikevich"]),
            "b": Population(name="b", size=5, model=MODELS["adaptive_lif"]),
            "c": Population(name="c", size=2, model=MODELS["lif"])}
    mapping = partition(Network(name="m", populations=pops), load_target("tiny"))
    assert mapping.neuron_cores("a", 3).tolist() == [0, 0, 0]
    assert mapping.neuron_cores("b", 5).tolist() == [0] * 5
    assert mapping.neuron_cores("c", 2).tolist() == [1, 1]


@settings(derandomize=True, max_examples=30, deadline=None)
@given(net=networks(max_lif=4, max_size=20, max_delay=6,
                    models=("lif", "izhikevich", "adaptive_lif")),
       capacity=st.integers(4, 40))
def test_every_core_keeps_within_its_neuron_state_words(net, capacity):
    base = load_target("tiny")
    target = replace(base, resources=replace(base.resources, chips=100, synapses_per_core=10_000,
                                             input_axons_per_core=10_000,
                                             output_axons_per_core=10_000,
                                             neuron_state_words_per_core=capacity))
    mapping = partition(net, target, population_costs(net))
    gcore = neuron_cores(net, mapping)
    words = np.concatenate([np.full(p.size, target.resources.neuron_state_words(p.model.kind)
                                    if not p.is_source else 0) for p in net.populations.values()])
    placed = gcore >= 0
    per_core = np.bincount(gcore[placed], weights=words[placed])
    assert per_core.max() <= capacity
    assert placed.sum() == sum(p.size for p in net.neuron_populations())


def test_lif_maps_exactly_as_without_state_words():
    """loihi2's capacity is 8192 LIF neurons × 2 words: the count of neurons binds first, as
    before state words were counted."""
    net = load_model(EXAMPLES / "recurrent_ei.yaml")
    for name in ("loihi2", "tiny"):
        target = load_target(name)
        without = replace(target, resources=replace(target.resources,
                                                    neuron_state_words_per_core=None,
                                                    state_words={}))
        tiny_net = net if name == "loihi2" else one_population("lif", 40)
        a, b = partition(tiny_net, target), partition(tiny_net, without)
        for key, array in a.to_arrays().items():
            np.testing.assert_array_equal(array, b.to_arrays()[key])


def test_the_report_shows_neuron_state_words_per_core_where_the_target_counts_them():
    net = load_model(EXAMPLES / "mixed_models.yaml")
    target = load_target("loihi2")
    compiled = compile_network(net, target)
    rep = mapping_report(net, target, compiled.mapping, compiled.costs)
    words = sum(p.size * target.resources.state_words[p.model.kind]
                for p in net.neuron_populations())
    assert rep.capacity["neuron_state_words"] == 16384
    assert rep.per_core["neuron_state_words"] == [words]
    assert "neuron_state_words" in rep.text()
    lif_only = load_model(EXAMPLES / "recurrent_ei.yaml")
    loihi1 = load_target("loihi1")
    compiled = compile_network(lif_only, loihi1)
    rep = mapping_report(lif_only, loihi1, compiled.mapping, compiled.costs)
    assert "neuron_state_words" not in rep.capacity and "neuron_state_words" not in rep.text()
