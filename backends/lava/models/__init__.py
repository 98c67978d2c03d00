"""The Lava backends' lowering of each neuron model, one module per model kind (found by
backends/registry.py): each module builds one Lava process per population, float or fixed,
and names the ProcessModel of every process class it builds."""
from nmcompile.backends.registry import ModelRegistry

REGISTRY = ModelRegistry(__name__)
