"""Neuron models and spike sources: one module each, a small frozen dataclass with its equations
in the docstring; MODELS maps the model file's `model:` name to the class."""
from .lif import LIF, LIFState, decay_fraction, lif_step
from .params import REQUIRED, Param, per_neuron
from .spike_sources import Poisson, SpikeArray

NeuronModel = LIF | Poisson | SpikeArray
MODELS: dict[str, type] = {m.kind: m for m in (LIF, Poisson, SpikeArray)}

__all__ = ["LIF", "LIFState", "MODELS", "NeuronModel", "Param", "Poisson", "REQUIRED",
           "SpikeArray", "decay_fraction", "lif_step", "per_neuron"]
