"""Integer network for fixed-point backends (Lava `fixed_pt`, the emulator): DESIGN §2 fixed point."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np

from .learning import LavaRule
from .network import Network

SIGN_MODES = ("mixed", "excitatory", "inhibitory")  # lava.utils.weightutils.SignMode 1, 2, 3
CURRENT_LIMIT = 2 ** 23 - 1  # an injected current is a 24-bit register value per step


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

    kind: ClassVar[str] = "lif"
    current_limit: ClassVar[int] = CURRENT_LIMIT  # an injected current saturates at ±this
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


class _Registers:
    """Equality of register sets whose fields may be ints or per-neuron int arrays."""

    def per_neuron(self, name: str, size: int) -> np.ndarray:
        """Register `name` as one int64 per neuron."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.int64), (size,))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedIzhikevich(_Registers):
    """Integer Izhikevich registers of one population: nmcompile's own fixed-point form
    (docs/design.md §2.6), run by its Lava fixed_pt model and by the emulator.

    frac_bits F: v, u, i and every register below in state units are value · 2^F (scale)
    di: 12-bit decay of i, as LIF's du (i keeps 4096 − (di + 1) out of 4096)
    k0, k1, b, g, dt, dt_a: coefficients (mantissa, shift), value ≈ mantissa / 2^shift
    k2, v_b, v_peak, c, d: state units; bias, v_init, u_init: state units, int or int array
    state_limit: v, u and i saturate to ±state_limit; derivative_limit: the same for the
    derivative of v before it is multiplied by dt
    """

    kind: ClassVar[str] = "izhikevich"
    spiking: ClassVar[bool] = True
    frac_bits: int
    di: int
    k0: tuple[int, int]
    k1: tuple[int, int]
    b: tuple[int, int]
    g: tuple[int, int]
    dt: tuple[int, int]
    dt_a: tuple[int, int]
    k2: int
    v_b: int
    v_peak: int
    c: int
    d: int
    bias: int | np.ndarray
    v_init: int | np.ndarray
    u_init: int | np.ndarray
    state_limit: int
    derivative_limit: int

    @property
    def scale(self) -> float:
        """Register units per model unit (of v, u and i)."""
        return float(2 ** self.frac_bits)

    @property
    def current_limit(self) -> int:
        """An injected current is a state register: it saturates at ±state_limit."""
        return self.state_limit


@dataclass(frozen=True, kw_only=True, eq=False)
class FixedAdaptiveLIF(_Registers):
    """Integer registers of one adaptive LIF population, as Lava's PyATRLIFModelFixed reads
    them (docs/design.md §2.7): Lava takes each decay as delta = register / 4096.

    di, dv, dtheta, dr: 12-bit decays (i decays by (di + 1)/4096, the others by d/4096)
    theta_0, theta_step: threshold mantissas, used shifted left by 6
    bias_mant (13-bit signed), bias_exp: bias = bias_mant · 2^bias_exp, int or int array
    scale: register units of v per model unit of v
    """

    kind: ClassVar[str] = "adaptive_lif"
    spiking: ClassVar[bool] = True
    current_limit: ClassVar[int] = CURRENT_LIMIT
    di: int
    dv: int
    dtheta: int
    dr: int
    theta_0: int
    theta_step: int
    bias_mant: int | np.ndarray
    bias_exp: int | np.ndarray
    scale: float


FixedNeurons = FixedLIF | FixedIzhikevich | FixedAdaptiveLIF


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
    learning: LavaRule | None = None  # a plastic projection's rule in mantissa units

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FixedProjection)
                and (self.name, self.pre, self.post, self.weight_exp, self.num_weight_bits,
                     self.sign_mode, self.learning)
                == (other.name, other.pre, other.post, other.weight_exp, other.num_weight_bits,
                    other.sign_mode, other.learning)
                and all(np.array_equal(getattr(self, a), getattr(other, a))
                        for a in ("pre_idx", "post_idx", "weight_mant", "delay")))

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class QuantizedNetwork:
    """A float Network (for sources, sizes, probes) plus its integer parameters for one target."""

    network: Network
    target: str
    populations: dict[str, FixedNeurons]
    projections: tuple[FixedProjection, ...]
    report: object | None = field(default=None, compare=False)


def fixed_current(qnet: QuantizedNetwork, population: str, steps: int) -> np.ndarray | None:
    """The injected current of one population in register units, (steps × size) int32, or
    None: round(c · scale) saturated to ±(2^23 − 1) (Izhikevich: ±state_limit), added to the
    effective bias each step (docs/design.md §2, fixed point). The same numbers for Lava
    fixed_pt and the emulator."""
    c = qnet.network.current(population, steps)
    if c is None:
        return None
    fixed = qnet.populations[population]
    scaled = np.rint(c * fixed.scale)
    return np.clip(scaled, -fixed.current_limit, fixed.current_limit).astype(np.int32)
