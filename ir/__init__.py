"""nmcompile.ir: the hardware-agnostic network data model (plain, immutable-by-convention data)."""
from .currents import Current
from .models import (LIF, MODELS, AdaptiveLIF, AdaptiveLIFState, Izhikevich, IzhikevichState,
                     LIFState, Param, Poisson, SpikeArray, adaptive_lif_step, decay_fraction,
                     izhikevich_step, lif_step)
from .location import Location
from .modules import ModuleInstance, instance_totals, projection_owner
from .learning import RULES, LavaRule, LearningRule, RewardSTDP, STDP, lava_rule
from .network import (MAX_STEPS, Network, Population, Probe, Projection, WeightProbe,
                      stable_rng)
from .sources import source_raster, source_spikes

__all__ = [
    "AdaptiveLIF", "AdaptiveLIFState", "Current", "Izhikevich", "IzhikevichState", "LIF",
    "LIFState", "Location", "MAX_STEPS", "MODELS", "ModuleInstance", "Network", "Param", "Poisson", "Population",
    "Probe", "Projection", "SpikeArray", "adaptive_lif_step", "decay_fraction",
    "instance_totals", "izhikevich_step", "lif_step", "projection_owner", "source_raster", "source_spikes", "stable_rng",
    "RULES", "LavaRule", "LearningRule", "lava_rule", "RewardSTDP", "STDP", "WeightProbe",
]
from .quantized import (SIGN_MODES, FixedAdaptiveLIF, FixedIzhikevich, FixedLIF,  # noqa: E402
                        FixedNeurons, FixedProjection, QuantizedNetwork, fixed_current)

__all__ += ["SIGN_MODES", "FixedAdaptiveLIF", "FixedIzhikevich", "FixedLIF", "FixedNeurons",
            "FixedProjection", "QuantizedNetwork", "fixed_current"]
