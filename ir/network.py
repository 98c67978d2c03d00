"""The network data model: populations, projections (COO synapses), probes."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

import networkx as nx
import numpy as np

from .currents import population_current
from .learning import LearningRule
from .location import Location
from .models import NeuronModel
from .modules import ModuleInstance
from .seeds import stable_rng  # noqa: F401  (re-exported: nmcompile.ir.stable_rng)

MAX_STEPS = 2**31 - 1  # the longest run and the last spike step: far beyond any real run


@dataclass(frozen=True, kw_only=True, eq=False)
class Population:
    """`size` neurons of one model; `shape` (product == size) lays them out for grid connectivity."""

    name: str
    size: int
    model: NeuronModel
    shape: tuple[int, ...] | None = None
    location: Location = field(default_factory=Location, compare=False)

    @property
    def is_source(self) -> bool:
        return self.model.is_source

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Population) and self.name == other.name
                and self.size == other.size and self.shape == other.shape
                and self.model == other.model)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, eq=False)
class Projection:
    """Synapses pre -> post in COO form, sorted by (pre, post), no duplicate pairs.

    Synapse k adds weight[k] to the input of post neuron post_idx[k], delay[k] ≥ 1 steps
    after pre neuron pre_idx[k] spiked.
    """

    name: str
    pre: str
    post: str
    pre_idx: np.ndarray   # int32
    post_idx: np.ndarray  # int32
    weight: np.ndarray    # float64
    delay: np.ndarray     # int32, ≥ 1
    learning: LearningRule | None = None  # ir/learning.py: the weights change while it runs
    location: Location = field(default_factory=Location, compare=False)

    @property
    def plastic(self) -> bool:
        return self.learning is not None

    @property
    def n_synapses(self) -> int:
        return int(self.pre_idx.size)

    def delay_range(self) -> tuple[int, int] | None:
        return (int(self.delay.min()), int(self.delay.max())) if self.delay.size else None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Projection)
                and (self.name, self.pre, self.post, self.learning)
                == (other.name, other.pre, other.post, other.learning)
                and all(np.array_equal(getattr(self, a), getattr(other, a))
                        for a in ("pre_idx", "post_idx", "weight", "delay")))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class Probe:
    """Record state variable `var` (one of its model's STATE) of every neuron of a population,
    each step."""

    population: str
    var: str
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True, kw_only=True)
class WeightProbe:
    """Record the weights of a plastic projection every `every` steps: after the learning of
    steps every − 1, 2·every − 1, … (sample k holds the weights after step (k + 1)·every − 1)."""

    projection: str
    every: int
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True, kw_only=True)
class Network:
    """A whole model. Populations keep their order; spikes of every neuron population are recorded."""

    name: str
    populations: dict[str, Population]
    projections: tuple[Projection, ...] = ()
    probes: tuple[Probe, ...] = ()
    weight_probes: tuple[WeightProbe, ...] = ()
    currents: tuple = ()      # ir.currents.Current, in file order
    dt: float = 1.0
    steps: int = 100
    seed: int = 0
    location: Location = field(default_factory=Location, compare=False)
    # How the network was made, when a front end made choices (NIR: dt, discretisation, input
    # timing): shown by `nmc info`, copied into results; not part of equality.
    metadata: dict = field(default_factory=dict, compare=False)
    # The module tree (ir/modules.py) of a network flattened from modules, else None: a
    # description for reports, not part of equality (a modular file equals its flat twin).
    modules: ModuleInstance | None = field(default=None, compare=False)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Network)
                and (self.name, self.dt, self.steps, self.seed)
                == (other.name, other.dt, other.steps, other.seed)
                and list(self.populations.items()) == list(other.populations.items())
                and self.projections == other.projections and self.probes == other.probes
                and self.weight_probes == other.weight_probes
                and tuple(self.currents) == tuple(other.currents))

    __hash__ = None  # type: ignore[assignment]

    # -- views -------------------------------------------------------------------------
    def graph(self) -> nx.DiGraph:
        """Populations as nodes, projections as edges (several projections share an edge)."""
        g = nx.DiGraph()
        for pop in self.populations.values():
            g.add_node(pop.name, size=pop.size, model=pop.model.kind)
        for proj in self.projections:
            if g.has_edge(proj.pre, proj.post):
                g.edges[proj.pre, proj.post]["projections"].append(proj.name)
                g.edges[proj.pre, proj.post]["synapses"] += proj.n_synapses
            else:
                g.add_edge(proj.pre, proj.post, projections=[proj.name], synapses=proj.n_synapses)
        return g

    def has_cycles(self) -> bool:
        return not nx.is_directed_acyclic_graph(self.graph())

    def neuron_populations(self) -> Iterator[Population]:
        """Every population that is not a spike source, in order."""
        return (p for p in self.populations.values() if not p.is_source)

    def current(self, population: str, steps: int):
        """The injected current of one population, (steps × size) float64, or None."""
        return population_current(self.currents, population, self.populations[population].size,
                                  steps)

    def has_current(self, population: str) -> bool:
        return any(c.population == population for c in self.currents)

    def incoming(self, post: str) -> list[Projection]:
        return list(self._into.get(post, ()))

    @cached_property
    def _into(self) -> dict[str, list[Projection]]:
        """Projections by post population, gathered once (the passes ask for each population
        of a network that modules may make of thousands)."""
        out: dict[str, list[Projection]] = {}
        for proj in self.projections:
            out.setdefault(proj.post, []).append(proj)
        return out

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def n_synapses(self) -> int:
        return sum(p.n_synapses for p in self.projections)

    def plastic_projections(self) -> list[Projection]:
        return [p for p in self.projections if p.plastic]

    def delay_range(self) -> tuple[int, int] | None:
        ranges = [r for r in (p.delay_range() for p in self.projections) if r]
        return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None

    def max_delay(self) -> int:
        r = self.delay_range()
        return r[1] if r else 1

    def with_steps(self, steps: int) -> "Network":
        from dataclasses import replace
        return replace(self, steps=steps)

