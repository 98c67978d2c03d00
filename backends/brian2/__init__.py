"""Brian2 backend: the float reference (DESIGN §2), on the numpy, cython or cpp_standalone target.

Every LIF variant of DESIGN §2.5 runs (refractory periods, reset by subtraction, v_th inf,
per-neuron bias and initial values), and so do Izhikevich (§2.6) and adaptive LIF (§2.7)
populations and injected currents into any of them, and plastic projections (Lava's float
learning engine, backends/plasticity, stepped between Brian2 steps; not on cpp_standalone).
models/ holds one module per neuron model (its Brian2 equations and parameters), packing.py
what they share, lowering.py the rest.
Brian2 is imported only when a network runs, so the core imports fast without it.
"""
from __future__ import annotations

import importlib.util

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.ir import Network
from nmcompile.result import Result

from .models import REGISTRY


class Brian2Backend(Backend):
    """Options: code_target ("numpy" default, "cython", "cpp_standalone"), progress (True: a bar
    on stderr, "auto": only if stderr is a terminal; see nmcompile.progress)."""

    name = "brian2"
    capabilities = Capabilities(models=REGISTRY, max_delay=None, learning=True)

    @classmethod
    def missing_dependency(cls) -> str | None:
        if importlib.util.find_spec("brian2") is None:
            return "the brian2 package is not installed (pip install 'nmcompile[brian2]')"
        return None

    def run(self, model: Network, steps: int, *, options: dict) -> Result:
        from .code_targets import simulate

        code_target = options.get("code_target") or "numpy"
        result = simulate(model, steps, code_target, options.get("progress"), label=self.name)
        result.meta["code_target"] = code_target
        return result
