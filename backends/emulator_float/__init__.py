"""`emulator-float`: nmcompile's emulator running the float semantics of DESIGN §2, identical
to the last bit with the brian2 backend (float-exact, DESIGN §3, without even ties on the
networks Brian2 runs): a float reference for networks too big for Brian2."""
from __future__ import annotations

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.ir import Network
from nmcompile.result import Result

from .models import REGISTRY


class EmulatorFloatBackend(Backend):
    """Runs a float Network (not quantized) with the brian2 backend's float operations, in its
    order, summation of each step's input included (engine.py). Every model and feature the
    brian2 backend runs (models/*.py: FEATURES); traces are in the model's units.

    options["threads"] sets the threads (default: the cores available, as many as the
    network's size is worth, as the emulator chooses them); under mpiexec (`nmc run --ranks R`) each process runs
    its own range of neurons. Every count of threads and processes gives the same spikes and
    probed values, bit for bit (engine.py). Plastic projections run Lava's float learning
    engine (backends/plasticity) between steps, on one process, with the brian2 backend's
    learned weights and spikes."""

    name = "emulator-float"
    capabilities = Capabilities(models=REGISTRY, fixed_point=False, learning=True)

    def run(self, model: Network, steps: int, *, options: dict) -> Result:
        from .engine import emulate
        return emulate(model, steps, threads=options.get("threads"))
