"""The outcome of the mapping pass (DESIGN §5.3): contiguous blocks of neuron populations, each on
one core. Made by partition.py, relabelled by placement.py, read by the design rules, the
report and the chip image."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, kw_only=True, eq=False)
class Mapping:
    """Blocks [start, stop) of neuron populations (any model), each on one core.

    Global core id = chip · cores_per_chip + k."""

    target: str
    cores_per_chip: int
    populations: tuple[str, ...]
    block_pop: np.ndarray
    block_start: np.ndarray
    block_stop: np.ndarray
    block_core: np.ndarray
    placement: str = "sequential"

    def neuron_cores(self, pop: str, size: int) -> np.ndarray:
        """Global core of each neuron of `pop` (−1 for unplaced spike sources)."""
        out = np.full(size, -1, np.int64)
        for k in self._blocks_of.get(pop, ()):
            out[self.block_start[k]:self.block_stop[k]] = self.block_core[k]
        return out

    @cached_property
    def _blocks_of(self) -> dict[str, np.ndarray]:
        """The blocks of each population, found once (a network of many populations, from
        modules, asks for every one of them)."""
        order = np.argsort(self.block_pop, kind="stable")
        bounds = np.searchsorted(self.block_pop[order], np.arange(len(self.populations) + 1))
        return {name: order[bounds[i]:bounds[i + 1]] for i, name in enumerate(self.populations)}

    @property
    def cores(self) -> np.ndarray:
        return np.unique(self.block_core)

    @property
    def n_chips(self) -> int:
        return int(np.unique(self.block_core // self.cores_per_chip).size)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"block_pop": self.block_pop, "block_start": self.block_start,
                "block_stop": self.block_stop, "block_core": self.block_core}
