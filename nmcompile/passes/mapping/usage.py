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
    input_axons, output_axons, and neuron_state_words on a target that counts neuron state."""
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
    per_core = {"neurons": np.bincount(gcore[placed], minlength=n_cores),
                "input_axons": pairs.input_axons}
    for resource, values in per_neuron.items():
        per_core[resource] = np.bincount(gcore[placed], weights=values[placed],
                                         minlength=n_cores).astype(np.int64)
    return {k: per_core[k] for k in capacity}, capacity
