"""Lava backends: `lava` (Loihi2SimCfg floating_pt) and `lava-fixed` (fixed_pt, bit-accurate).

    nmc run model.yaml --backend lava          # float, DESIGN §2 float equations
    nmc run model.yaml --backend lava-fixed    # integer registers of the quantized network

Options (`options=` of driver.run; others are ignored): connection = "auto" | "dense" |
"sparse" picks the Lava connection process (auto: by density); progress = True shows a
progress bar on long runs. Lava is imported only when a run starts.
Fixed-point traces are the raw integer registers (u, v as PyLifModelBitAcc holds them).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.diagnostics import InputError
from nmcompile.ir import Network, QuantizedNetwork
from nmcompile.result import Result

_MODELS = frozenset({"lif", "poisson", "spike_array"})


class _LavaBackend(Backend):
    select_tag: ClassVar[str]

    @classmethod
    def missing_dependency(cls) -> str | None:
        try:
            import lava.magma.core.run_configs  # noqa: F401
        except ImportError as exc:
            return f"lava-nc is not importable ({exc}); install it with pip install 'nmcompile[lava]'"
        return None

    def _refuse_unsupported(self, net: Network) -> None:
        problems = [d for d in self.check(net) if d.severity == "error"]
        if problems:
            raise InputError(problems)


class LavaFloatBackend(_LavaBackend):
    """Lava processes with their floating_pt models: float-exact with the DESIGN equations."""

    name = "lava"
    select_tag = "floating_pt"
    capabilities = Capabilities(models=_MODELS)

    def run(self, model: Network | QuantizedNetwork, steps: int, *, options: dict) -> Result:
        if not isinstance(model, Network):
            raise InputError(f"backend {self.name} runs a float Network, got {type(model).__name__}")
        self._refuse_unsupported(model)
        from .lowering import build_float
        from .session import run_graph
        if steps == 0:
            return _empty(model, steps)
        graph = build_float(model, steps, options.get("connection", "auto"))
        return run_graph(graph, steps, self.select_tag, np.float64, bool(options.get("progress")))


class LavaFixedBackend(_LavaBackend):
    """Lava processes with their bit-accurate fixed_pt models, fed a QuantizedNetwork."""

    name = "lava-fixed"
    select_tag = "fixed_pt"
    # Loihi 2 delays are 6 bits (Lava delay 0..63), i.e. IR delay 1..64.
    capabilities = Capabilities(models=_MODELS, fixed_point=True, refractory=False, max_delay=64)

    def run(self, model: Network | QuantizedNetwork, steps: int, *, options: dict) -> Result:
        if not isinstance(model, QuantizedNetwork):
            raise InputError(f"backend {self.name} runs a QuantizedNetwork (quantize first), "
                             f"got {type(model).__name__}")
        self._refuse_unsupported(model.network)
        from .lowering import build_fixed
        from .session import run_graph
        if steps == 0:
            return _empty(model.network, steps)
        graph = build_fixed(model, steps, options.get("connection", "auto"))
        return run_graph(graph, steps, self.select_tag, np.int64, bool(options.get("progress")))


def _empty(net: Network, steps: int) -> Result:
    """A zero-step run: no spikes, empty traces (Lava cannot run zero steps)."""
    raster = {p.name: np.zeros((0, p.size), dtype=bool) for p in net.lif_populations()}
    traces = {(pr.population, pr.var): np.zeros((0, net.populations[pr.population].size))
              for pr in net.probes}
    return Result.from_raster(raster, traces)


__all__ = ["LavaFloatBackend", "LavaFixedBackend"]
