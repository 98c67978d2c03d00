"""What both learning examples share: the command line, one timed run per backend, and the
learned weights in model units whatever the backend's numbers.

Float backends give a plastic projection's weights in model units; fixed-point backends give
8-bit mantissas and meta["weight_scale"][projection], the mantissas per model unit
(nmcompile/result.py). Everything below is in model units, so float and fixed plot together.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nmcompile import driver
from nmcompile.ir import Network
from nmcompile.result import Result

BACKENDS = ("brian2", "lava", "lava-fixed", "emulator")


def arguments(doc: str, figure: Path, argv: list[str] | None = None) -> argparse.Namespace:
    """--backends (default all four) and -o (the figure)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated (default {','.join(BACKENDS)})")
    parser.add_argument("-o", "--output", type=Path, default=figure,
                        help=f"figure file (default {figure.relative_to(figure.parents[2])})")
    args = parser.parse_args(argv)
    args.backends = [name for name in args.backends.split(",") if name]
    return args


@dataclass(frozen=True)
class Run:
    """One backend's run of a network: its result and how long driver.run took."""

    name: str
    seconds: float
    result: Result

    @property
    def fixed(self) -> bool:
        return self.result.meta.get("units") == "register"

    @property
    def numbers(self) -> str:
        return "fixed" if self.fixed else "float"

    def scale(self, projection: str) -> float:
        """Weight units per model unit: mantissas per model unit on fixed point, else 1."""
        return float(self.result.meta.get("weight_scale", {}).get(projection, 1.0))

    def weights(self, projection: str) -> np.ndarray:
        """The learned weights, one per synapse in the projection's order, model units."""
        return np.asarray(self.result.weights[projection], float) / self.scale(projection)

    def weight_trace(self, projection: str) -> np.ndarray:
        """The weight probe's samples (samples × synapses), model units."""
        return np.asarray(self.result.weight_traces[projection], float) / self.scale(projection)

    def spike_count(self, population: str) -> int:
        return int(self.result.spikes[population][0].size)


def run(net: Network, backend: str) -> Run:
    start = time.perf_counter()
    result = driver.run(net, backend)
    return Run(backend, time.perf_counter() - start, result)


def sample_steps(net: Network, projection: str, samples: int) -> np.ndarray:
    """The step after whose learning each weight-probe sample was taken (ir.WeightProbe)."""
    every = next(p.every for p in net.weight_probes if p.projection == projection)
    return (np.arange(samples) + 1) * every - 1
