"""nmcompile.ir: the hardware-agnostic network data model (plain, immutable-by-convention data)."""
from .models import LIF, MODELS, LIFState, Poisson, SpikeArray, decay_fraction, lif_step
from .network import MAX_STEPS, Location, Network, Population, Probe, Projection, stable_rng
from .sources import source_raster, source_spikes

__all__ = [
    "LIF", "LIFState", "MAX_STEPS", "MODELS", "Poisson", "SpikeArray", "decay_fraction",
    "lif_step", "Location", "Network",
    "Population", "Probe", "Projection", "stable_rng", "source_raster", "source_spikes",
]
from .quantized import SIGN_MODES, FixedLIF, FixedProjection, QuantizedNetwork  # noqa: E402

__all__ += ["SIGN_MODES", "FixedLIF", "FixedProjection", "QuantizedNetwork"]
