"""The module tree of a network built from modules (DESIGN §8): which instance owns what.

Backends never read it: they see the flattened network. It is a description kept beside the
network so that `nmc info` and `nmc compile --report` can speak in instances.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from .location import Location

# fixed_total_number puts a pair's further delays in projections NAME-2, NAME-3, … (§4.4):
# they belong to whoever owns NAME
_EXTRA_RANK = re.compile(r"-[0-9]+$")


@dataclass(frozen=True, kw_only=True)
class ModuleInstance:
    """One instance of a module: its flattened name (`area.c1`), the module, the parameter
    values it was flattened with, the populations and projections of its own body (flattened
    names) and the instances inside it. The root of a tree is the file's top level: name and
    module "", what the file declares outside modules, and the file's instances."""

    name: str
    module: str
    params: dict = field(default_factory=dict)
    populations: tuple[str, ...] = ()
    projections: tuple[str, ...] = ()
    children: tuple[ModuleInstance, ...] = ()
    location: Location = field(default_factory=Location, compare=False)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, ModuleInstance]]:
        """(depth, instance) for this instance and every one inside it, depth first."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def all_populations(self) -> list[str]:
        """Populations of the instance and of every instance inside it."""
        return [p for _, inst in self.walk() for p in inst.populations]

    def all_projections(self) -> list[str]:
        return [p for _, inst in self.walk() for p in inst.projections]


def projection_owner(root: ModuleInstance, projection_names) -> dict[str, str]:
    """The instance that owns each projection of the network ("" for the file's top level).

    `root` is the tree's root: the top level of the file, named "", which owns what the file
    itself declares."""
    owner = {p: inst.name for _, inst in root.walk() for p in inst.projections}
    return {name: owner.get(name, owner.get(_EXTRA_RANK.sub("", name), "")) for name in
            projection_names}


def instance_totals(root: ModuleInstance, per_population: dict, per_projection: dict
                    ) -> dict[str, tuple]:
    """(sum over populations, sum over projections) of each instance and everything inside
    it, e.g. neurons and synapses; the root ("") totals the whole network."""
    owner = projection_owner(root, per_projection)
    own_projection_sum: dict[str, float] = {}
    for name, value in per_projection.items():
        own_projection_sum[owner[name]] = own_projection_sum.get(owner[name], 0) + value
    out: dict[str, tuple] = {}

    def total(inst: ModuleInstance) -> tuple:
        sums = [sum(per_population[p] for p in inst.populations),
                own_projection_sum.get(inst.name, 0)]
        for child in inst.children:
            child_sums = total(child)
            sums = [a + b for a, b in zip(sums, child_sums)]
        out[inst.name] = tuple(sums)
        return out[inst.name]

    total(root)
    return out
