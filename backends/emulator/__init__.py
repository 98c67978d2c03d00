"""`emulator`: nmcompile's own fixed-point chip emulator, bit-exact with Lava `fixed_pt`."""
from __future__ import annotations

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.ir import QuantizedNetwork
from nmcompile.result import Result

from .models import REGISTRY


class EmulatorBackend(Backend):
    """Runs a QuantizedNetwork with the integer semantics of Lava's bit-accurate models
    (LIF, adaptive LIF), of nmcompile's own bit-accurate LIF for refractory periods,
    subtract reset, non-spiking neurons and injected currents (DESIGN §2.5) and of
    nmcompile's fixed-point Izhikevich (DESIGN §2.6).

    Overflows (LIF: wraps of u, saturations of v; each model's in models/*.py OVERFLOW) are
    counted per population into meta["overflow"]; options["strict"] makes the first one a
    RunError. options["threads"] sets the threads (default: the cores available, one per
    10,000 of neurons + synapses / 100 at most: partition.py); every count gives the same
    result. Traces are in register units. Plastic projections run Lava's bit-approximate
    learning engine (backends/plasticity) between steps, bit-exact with Lava's.
    """

    name = "emulator"
    capabilities = Capabilities(models=REGISTRY, fixed_point=True,  # models/*.py: FEATURES
                                learning=True)

    def run(self, model: QuantizedNetwork, steps: int, *, options: dict) -> Result:
        from .engine import emulate
        return emulate(model, steps, strict=bool(options.get("strict", False)),
                       threads=options.get("threads"))
