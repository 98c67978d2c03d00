"""Neuron models and spike sources: one module each, a small frozen dataclass with its equations
in the docstring; MODELS maps the model file's `model:` name to the class.

A neuron model class declares `kind`, `PARAMS` (read by every front end), `STATE` (its state
variables, the names a probe may record), `features()` and `problems()` (cross-parameter
ranges, located by the loader), and its module holds the float step in numpy."""
from .adaptive_lif import AdaptiveLIF, AdaptiveLIFState, adaptive_lif_step
from .izhikevich import Izhikevich, IzhikevichState, izhikevich_step
from .lif import LIF, LIFState, decay_fraction, lif_step
from .params import REQUIRED, Param, per_neuron
from .spike_sources import Poisson, SpikeArray

NeuronModel = LIF | Izhikevich | AdaptiveLIF | Poisson | SpikeArray
MODELS: dict[str, type] = {m.kind: m for m in (LIF, Izhikevich, AdaptiveLIF, Poisson, SpikeArray)}

__all__ = ["AdaptiveLIF", "AdaptiveLIFState", "Izhikevich", "IzhikevichState", "LIF",
           "LIFState", "MODELS", "NeuronModel", "Param", "Poisson", "REQUIRED", "SpikeArray",
           "adaptive_lif_step", "decay_fraction", "izhikevich_step", "lif_step", "per_neuron"]
