"""Backend × model: each backend keeps one module per neuron model in its `models` package,
found here by scanning that package, so adding a model adds files and edits no list.

A model module declares `KIND` (the model's `kind`, e.g. "lif") and `FEATURES` (the optional
features of that model it runs, the names the model's `features()` gives, plus "current" for
injected currents); what else it holds is the backend's own lowering interface. Spike sources
are handled by every backend itself and need no module.
"""
from __future__ import annotations

import pkgutil
from collections.abc import Iterator, Mapping
from functools import cached_property
from importlib import import_module
from types import ModuleType

SOURCE_KINDS = ("poisson", "spike_array")


class ModelRegistry(Mapping):
    """Model kind -> the features the backend runs for it (frozenset); `module(kind)` gives
    the backend's lowering module for a neuron model. Modules are imported on first use: they
    import their simulator (brian2, lava) inside their functions only."""

    def __init__(self, package: str):
        self.package = package

    @cached_property
    def _modules(self) -> dict[str, ModuleType]:
        found = {}
        for info in pkgutil.iter_modules(import_module(self.package).__path__):
            module = import_module(f"{self.package}.{info.name}")
            found[module.KIND] = module
        return found

    def module(self, kind: str) -> ModuleType:
        return self._modules[kind]

    def __getitem__(self, kind: str) -> frozenset[str]:
        if kind in SOURCE_KINDS:
            return frozenset()
        return frozenset(self._modules[kind].FEATURES)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from SOURCE_KINDS

    def __len__(self) -> int:
        return len(self._modules) + len(SOURCE_KINDS)
