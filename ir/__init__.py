"""nmcompile.ir: the hardware-agnostic network data model (plain, immutable-by-convention data)."""
from .currents import Current
from .models import LIF, MODELS, LIFState, Param, Poisson, SpikeArray, decay_fraction, lif_step
from .location import Location
from .network import MAX_STEPS, Network, Population, Probe, Projection, stable_rng
from .sources import source_raster, source_spikes

__all__ = [
    "Current", "LIF", "LIFState", "Param", "MAX_STEPS", "MODELS", "Poisson", "SpikeArray", "decay_fraction",
    "lif_step", "Location", "Network",
    "Population", "Probe", "Projection", "stable_rng", "source_raster", "source_spikes",
]
from .quantized import (SIGN_MODES, FixedLIF, FixedProjection, QuantizedNetwork,  # noqa: E402
                        fixed_current)

__all__ += ["SIGN_MODES", "FixedLIF", "FixedProjection", "QuantizedNetwork", "fixed_current"]
