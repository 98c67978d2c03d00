"""Brian2 lowering of each neuron model, one module per model kind (backends/registry.py).

Besides KIND and FEATURES, a module gives lowering.py what it needs to place a population
without knowing the model:

    INPUT                                  the variable a synapse adds its weight to
    RENAMED                                {state variable: group variable} for the state
                                           variables (model STATE, the probe names) whose
                                           name Brian2 reserves: `i` is the neuron index
    group_key(pop, net) -> str             the Brian2 group holding `pop`; populations with
                                           equal keys share one NeuronGroup (per-neuron
                                           parameters), so a network of many small
                                           populations runs as few groups
    neuron_group(key, members, net, steps, clock) -> NeuronGroup
                                           that group, `members` (populations, in network
                                           order) laid out one after the other, with its
                                           step, threshold, reset and parameters

A key starts with the model's kind, so it is a Brian2 name of its own ("sources" is the
spike sources' group).
"""
from nmcompile.backends.registry import ModelRegistry

REGISTRY = ModelRegistry(__name__)
