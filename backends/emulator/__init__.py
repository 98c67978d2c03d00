"""`emulator`: nmcompile's own fixed-point chip emulator, bit-exact with Lava `fixed_pt`."""
from __future__ import annotations

from nmcompile.backends.base import Backend, Capabilities
from nmcompile.ir import QuantizedNetwork
from nmcompile.result import Result


class EmulatorBackend(Backend):
    """Runs a QuantizedNetwork with the integer semantics of Lava's bit-accurate models.

    Wraps of u and saturations of v are counted per population into meta["overflow"];
    options["strict"] makes the first one a RunError. Traces are in register units.
    """

    name = "emulator"
    # per model, the optional features it runs: none yet (no fixed-point refractory model)
    capabilities = Capabilities(models={"lif": frozenset(), "poisson": frozenset(),
                                        "spike_array": frozenset()}, fixed_point=True)

    def run(self, model: QuantizedNetwork, steps: int, *, options: dict) -> Result:
        from .engine import emulate
        return emulate(model, steps, strict=bool(options.get("strict", False)))
