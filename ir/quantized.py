"""Integer network for fixed-point backends (Lava `fixed_pt`, the emulator): DESIGN §2 fixed point."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .network import Network

SIGN_MODES = ("mixed", "excitatory", "inhibitory")  # lava.utils.weightutils.SignMode 1, 2, 3


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedLIF:
    """Integer LIF registers of one population, as Lava's PyLifModelBitAcc reads them, plus
    the features nmcompile's own bit-accurate model adds (DESIGN §2, docs/design.md §2).

    du, dv: 12-bit decays (u decays by du + 1, v by dv, out of 4096)
    vth: 17-bit threshold mantissa, compared as v > vth << 6 (ignored when not spiking)
    bias_mant (13-bit signed) and bias_exp: bias = bias_mant · 2^bias_exp; each an int
      (every neuron) or an int array (one per neuron), as Lava's LIF takes them
    u_init, v_init: register values before step 0 (int or int array)
    refractory: steps v is held after a spike; reset: "zero" | "subtract" (v - (vth << 6));
    spiking: False for v_th = inf (the neuron never spikes)
    scale: register units of v per model unit of v (v_int ≈ v_float · scale)
    """

    du: int
    dv: int
    vth: int
    bias_mant: int | np.ndarray
    bias_exp: int | np.ndarray
    scale: float
    u_init: int | np.ndarray = 0
    v_init: int | np.ndarray = 0
    refractory: int = 0
    reset: str = "zero"
    spiking: bool = True

    @property
    def plain(self) -> bool:
        """True when Lava's own PyLifModelBitAcc runs these registers (no added feature)."""
        return self.refractory == 0 and self.reset == "zero" and self.spiking

    def per_neuron(self, name: str, size: int) -> np.ndarray:
        """Register `name` (bias_mant, bias_exp, u_init, v_init) as one int64 per neuron."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.int64), (size,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FixedLIF) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedProjection:
    """Synapses in the order of the float Projection, weights as signed 8-bit mantissas.

    Input to post = (Σ weight_mant over spiking synapses) shifted by weight_exp
    (left when > 0, arithmetic right otherwise), after Lava's clip_weights/truncate_weights
    for sign_mode and num_weight_bits.
    """

    name: str
    pre: str
    post: str
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weight_mant: np.ndarray  # int32 Lava weights before clip/truncate (mixed: -256..255)
    delay: np.ndarray        # int32, ≥ 1 (IR delay)
    weight_exp: int
    num_weight_bits: int
    sign_mode: str

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FixedProjection)
                and (self.name, self.pre, self.post, self.weight_exp, self.num_weight_bits,
                     self.sign_mode)
                == (other.name, other.pre, other.post, other.weight_exp, other.num_weight_bits,
                    other.sign_mode)
                and all(np.array_equal(getattr(self, a), getattr(other, a))
                        for a in ("pre_idx", "post_idx", "weight_mant", "delay")))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class QuantizedNetwork:
    """A float Network (for sources, sizes, probes) plus its integer parameters for one target."""

    network: Network
    target: str
    populations: dict[str, FixedLIF]
    projections: tuple[FixedProjection, ...]
    report: object | None = field(default=None, compare=False)


CURRENT_LIMIT = 2 ** 23 - 1  # an injected current is a 24-bit register value per step


def fixed_current(qnet: QuantizedNetwork, population: str, steps: int) -> np.ndarray | None:
    """The injected current of one population in register units, (steps × size) int32, or
    None: round(c · scale) saturated to ±(2^23 − 1), added to the effective bias each step
    (docs/design.md §2, fixed point). The same numbers for Lava fixed_pt and the emulator."""
    c = qnet.network.current(population, steps)
    if c is None:
        return None
    scaled = np.rint(c * qnet.populations[population].scale)
    return np.clip(scaled, -CURRENT_LIMIT, CURRENT_LIMIT).astype(np.int32)
