"""Lava backends: `lava` (Loihi2SimCfg floating_pt) and `lava-fixed` (fixed_pt, bit-accurate).

    nmc run model.yaml --backend lava          # float, DESIGN §2 float equations
    nmc run model.yaml --backend lava-fixed    # integer registers of the quantized network

Options (`options=` of driver.run; others are ignored): connection = "auto" | "dense" |
"sparse" picks the Lava connection process (auto: by density); progress = True shows a
progress bar on stderr, labelled with the backend's name ("auto": only if stderr is a
terminal; see nmcompile.progress). Lava is imported only when a run starts. A run's worker
processes die with the process that started it, however it ends (workers.py).

Models: models/ holds one lowering module per neuron model. LIF (models/lif.py): both
backends run every LIF feature — refractory periods, subtract reset, v_th inf, injected
currents — on Lava's own LIF / LIFRefractory where Lava computes them, else on nmcompile's own
NmcLIF process (processes/lif.py, whose bit-accurate model is the reference of
docs/design.md §2.5). Izhikevich (models/izhikevich.py): nmcompile's NmcIzhikevich
(processes/izhikevich.py, whose fixed_pt model is the integer Izhikevich of §2.6). Adaptive
LIF (models/adaptive_lif.py): Lava's own ATRLIF, or nmcompile's NmcATRLIF with a current
(processes/adaptive_lif.py, §2.7).

Plastic projections (docs/design.md §10) run on Lava's own learning engine, LearningDense with
STDPLoihi or RewardModulatedSTDP (lowering.py); the post population of a reward-modulated one
must be LIF (nmcompile's RewardLIF, reward_lif/, sends the connection its traces). Learned
weights are the result's `weights` and `weight_traces`: float model units on `lava`, 8-bit
mantissas on `lava-fixed` (meta["weight_scale"]: mantissas per model unit).

Fixed-point traces are the raw integer registers (any state variable, as the bit-accurate
models hold it), int32 as in the emulator, with meta["scale"] (register units per model unit
of v) and meta["units"] = "register"; unlike the emulator, lava-fixed does not count
overflows.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.diagnostics import Diagnostic, InternalError
from nmcompile.ir import Network, QuantizedNetwork
from nmcompile.result import Result

from .models import REGISTRY


class _LavaBackend(Backend):
    select_tag: ClassVar[str]
    # float64 spike sinks and source rasters (neurons × steps) plus their boolean copies
    bytes_per_neuron_step = 16

    @classmethod
    def missing_dependency(cls) -> str | None:
        try:
            import lava.magma.core.run_configs  # noqa: F401
        except ImportError as exc:
            return f"lava-nc is not importable ({exc}); install it with pip install 'nmcompile[lava]'"
        return None

    def check(self, net: Network) -> list[Diagnostic]:
        """The common checks, and a reward-modulated projection's post population must be
        LIF: the only model with a RewardLIF to send the connection its traces."""
        from .lowering import unsupported_reward_posts

        return super().check(net) + [
            Diagnostic("error", "NM402", f"population {pop.name}: reward-modulated STDP "
                       f"(projection {proj.name}) into a {pop.model.kind} population is not "
                       f"supported by backend {self.name}; make the post population LIF",
                       pop.location)
            for proj, pop in unsupported_reward_posts(net)]


class LavaFloatBackend(_LavaBackend):
    """Lava processes with their floating_pt models: float-exact with the DESIGN equations."""

    name = "lava"
    select_tag = "floating_pt"
    capabilities = Capabilities(models=REGISTRY, learning=True)

    def run(self, model: Network | QuantizedNetwork, steps: int, *, options: dict) -> Result:
        if not isinstance(model, Network):  # driver.prepare lowers for capabilities.fixed_point
            raise InternalError(f"backend {self.name} runs a float Network, "
                                f"got {type(model).__name__}")
        from .lowering import build_float
        from .session import run_graph
        graph = build_float(model, steps, options.get("connection", "auto"))
        return run_graph(graph, steps, self.select_tag, np.float64, options.get("progress"),
                         label=self.name)


class LavaFixedBackend(_LavaBackend):
    """Lava processes with their bit-accurate fixed_pt models, fed a QuantizedNetwork."""

    name = "lava-fixed"
    select_tag = "fixed_pt"
    # Loihi 2 delays are 6 bits (Lava delay 0..63), i.e. IR delay 1..64.
    capabilities = Capabilities(models=REGISTRY, fixed_point=True, max_delay=64, learning=True)

    def run(self, model: Network | QuantizedNetwork, steps: int, *, options: dict) -> Result:
        if not isinstance(model, QuantizedNetwork):  # driver.prepare quantizes first
            raise InternalError(f"backend {self.name} runs a QuantizedNetwork, "
                                f"got {type(model).__name__}")
        from .lowering import build_fixed
        from .session import run_graph
        graph = build_fixed(model, steps, options.get("connection", "auto"))
        result = run_graph(graph, steps, self.select_tag, np.int32, options.get("progress"),
                           label=self.name)
        result.meta.update({
            "scale": {name: fixed.scale for name, fixed in model.populations.items()},
            "units": "register",
        })
        learned = {fp.name: fp.learning.weight_units for fp in model.projections
                   if fp.learning is not None}
        if learned:
            result.meta["weight_scale"] = learned
        return result


__all__ = ["LavaFloatBackend", "LavaFixedBackend"]
