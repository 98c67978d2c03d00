"""The one small interface every backend implements, and the capability check run before it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from nmcompile.diagnostics import Diagnostic
from nmcompile.ir import Network, QuantizedNetwork
from nmcompile.result import Result


@dataclass(frozen=True)
class Capabilities:
    """What a backend can run; anything else is refused before the run starts.

    `models` maps each model kind the backend runs to the optional features of that model it
    supports (the names a model's `features()` gives, e.g. LIF's "refractory", and "current"
    for an injected current): a population using a feature its backend lacks is refused by
    name, per model and per feature. Backends pass their ModelRegistry (backends/registry.py).
    """

    models: Mapping[str, frozenset[str]]
    fixed_point: bool = False          # runs a QuantizedNetwork instead of a float Network
    max_delay: int | None = None       # steps (IR delay), None = unbounded
    learning: bool = False             # runs plastic projections (docs/design.md §10)
    # every backend records every state variable (the model's STATE) of the models it runs;
    # a probe of anything else is refused (NM404)


class Backend(ABC):
    """A simulator behind nmcompile. Heavy imports (brian2, lava) happen inside `run` only."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # bytes a run holds per neuron and step beyond probed traces (dense spike rasters), for
    # the driver's memory estimate; 0 for backends that record spikes as events
    bytes_per_neuron_step: ClassVar[int] = 0

    @classmethod
    def missing_dependency(cls) -> str | None:
        """Why the backend cannot run on this machine (a package not installed), or None."""
        return None

    def check(self, net: Network) -> list[Diagnostic]:
        """Everything this backend lacks for `net`, each diagnostic naming the object."""
        caps, out = self.capabilities, []
        for pop in net.populations.values():
            if pop.model.kind not in caps.models:
                out.append(Diagnostic("error", "NM401",
                                      f"population {pop.name}: model {pop.model.kind!r} is not "
                                      f"supported by backend {self.name}", pop.location))
                continue
            used_features = dict(pop.model.features())
            if net.has_current(pop.name):
                used_features["current"] = "an injected current"
            for feature, used in used_features.items():
                if feature not in caps.models[pop.model.kind]:
                    out.append(Diagnostic("error", "NM402",
                                          f"population {pop.name}: {used} is not supported by "
                                          f"backend {self.name}", pop.location))
        for probe in net.probes:  # a Network built in Python skips the loader's check
            pop = net.populations.get(probe.population)
            if pop is not None and not pop.is_source and probe.var not in pop.model.STATE:
                out.append(Diagnostic("error", "NM404", f"probe {probe.population}.{probe.var}: "
                                      f"backend {self.name} cannot record {probe.var!r}, not a "
                                      f"state variable of {pop.model.kind} "
                                      f"({', '.join(pop.model.STATE)})", probe.location))
        if not caps.learning:
            for proj in net.plastic_projections():
                out.append(Diagnostic("error", "NM405", f"projection {proj.name}: backend "
                                      f"{self.name} does not run learning rules",
                                      proj.location))
        if caps.max_delay is not None:
            for proj in net.projections:
                r = proj.delay_range()
                if r and r[1] > caps.max_delay:
                    out.append(Diagnostic("error", "NM403",
                                          f"projection {proj.name}: delay {r[1]} > {caps.max_delay}"
                                          f", the longest backend {self.name} supports",
                                          proj.location))
        return out

    @abstractmethod
    def run(self, model: Network | QuantizedNetwork, steps: int, *, options: dict) -> Result:
        """Simulate `steps` steps; `model` is a QuantizedNetwork iff capabilities.fixed_point.

        Returns spikes of every non-source population and every probed trace; the driver
        adds the common metadata.
        """
