"""Integer network for fixed-point backends (Lava `fixed_pt`, the emulator): DESIGN §2 fixed point."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import Network

SIGN_MODES = ("mixed", "excitatory", "inhibitory")  # lava.utils.weightutils.SignMode 1, 2, 3


@dataclass(frozen=True, kw_only=True)
class FixedLIF:
    """Integer LIF registers of one population, as Lava's PyLifModelBitAcc reads them.

    du, dv: 12-bit decays (u decays by du + 1, v by dv, out of 4096)
    vth: 17-bit threshold mantissa, compared as v > vth << 6
    bias_mant (13-bit signed) and bias_exp: bias = bias_mant · 2^bias_exp
    scale: register units of v per model unit of v (v_int ≈ v_float · scale)
    """

    du: int
    dv: int
    vth: int
    bias_mant: int
    bias_exp: int
    scale: float


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
