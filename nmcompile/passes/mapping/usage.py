"""What each core of a mapping uses of every per-core limit of the target (DESIGN §5.3): the
totals the partition aims to keep within, the design rules check and the report prints."""
from __future__ import annotations

import numpy as np

from nmcompile.ir import Network
from nmcompile.targets.schema import Target

from .costs import PopulationCosts, population_offsets
from .pairs import CorePairs


def core_usage(net: Network, target: Target, costs: PopulationCosts,
               pairs: CorePairs) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """(resource -> total of every core, indexed by core id; resource -> limit per core).

    `pairs`: pairs.count_pairs of the mapping. Resources: neurons, synaptic_words,
    input_axons, output_axons, neuron_state_words on a target that counts neuron state, and
    learning_bits for a network with plastic projections on a target that counts learning
    memory (a population's shared learning state once on each core holding its neurons)."""
    res = target.resources
    n_cores, gcore = pairs.input_axons.size, pairs.gcore
    offsets = population_offsets(net)
    placed = gcore >= 0
    per_neuron = {"synaptic_words": np.zeros(net.n_neurons, np.int64),
                  "output_axons": pairs.output_axons}
    for name, inc in costs.incoming.items():
        per_neuron["synaptic_words"][offsets[name]:offsets[name] + inc.words.size] = inc.words
    capacity = {"neurons": res.neurons_per_core, "synaptic_words": res.max_synapses_per_core(),
                "input_axons": res.input_axons_per_core,
                "output_axons": res.output_axons_per_core}
    if res.neuron_state_words_per_core:
        state = np.zeros(net.n_neurons, np.int64)
        for pop in net.neuron_populations():
            state[offsets[pop.name]:offsets[pop.name] + pop.size] = \
                res.neuron_state_words(pop.model.kind)
        per_neuron["neuron_state_words"] = state
        capacity["neuron_state_words"] = res.neuron_state_words_per_core
    mem = res.learning
    if mem and costs.learning:
        bits = np.zeros(net.n_neurons, np.int64)
        for name, state in costs.learning.items():
            bits[offsets[name]:offsets[name] + state.tagged.size] = state.neuron_bits(mem)
        per_neuron["learning_bits"] = bits
        capacity["learning_bits"] = mem.memory_bits_per_core
    per_core = {"neurons": np.bincount(gcore[placed], minlength=n_cores),
                "input_axons": pairs.input_axons}
    for resource, values in per_neuron.items():
        per_core[resource] = np.bincount(gcore[placed], weights=values[placed],
                                         minlength=n_cores).astype(np.int64)
    if "learning_bits" in capacity:
        for name, state in costs.learning.items():
            cores = np.unique(gcore[offsets[name]:offsets[name] + state.tagged.size])
            per_core["learning_bits"][cores] += state.shared_bits(mem)
    return {k: per_core[k] for k in capacity}, capacity
