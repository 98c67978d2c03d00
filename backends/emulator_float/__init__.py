"""`emulator-float`: nmcompile's emulator running the float semantics of DESIGN §2, identical
to the last bit with the brian2 backend (float-exact, DESIGN §3, without even ties on the
networks Brian2 runs): a float reference for networks too big for Brian2."""
from __future__ import annotations

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.diagnostics import InputError
from nmcompile.ir import Network
from nmcompile.result import Result

from .models import REGISTRY


class EmulatorFloatBackend(Backend):
    """Runs a float Network (not quantized) with the brian2 backend's float operations, in its
    order, summation of each step's input included (engine.py). Every model and feature the
    brian2 backend runs (models/*.py: FEATURES); traces are in the model's units.

    Options: none yet. `threads` other than 1 is refused rather than ignored: the kernel's
    phases are written to run on ranges of neurons (kernel.py), the threads are not there."""

    name = "emulator-float"
    capabilities = Capabilities(models=REGISTRY, fixed_point=False)

    def run(self, model: Network, steps: int, *, options: dict) -> Result:
        threads = options.get("threads") or 1
        if threads != 1:
            raise InputError(f"backend {self.name} runs on one thread so far, not {threads}")
        from .engine import emulate
        return emulate(model, steps)
