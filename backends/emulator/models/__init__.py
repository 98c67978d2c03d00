"""The emulator's model modules (backends/registry.py): each prepares the registers of one
neuron model for the kernel and names the features of that model the emulator runs."""
from nmcompile.backends.registry import ModelRegistry

REGISTRY = ModelRegistry(__name__)
