"""Lava's bit-accurate integer arithmetic, with the dtypes Lava really uses (lava-nc 0.10.0).

Mirrors lava/proc/lif/models.py (AbstractPyLifModelFixed.subthr_dynamics, PyLifModelBitAcc)
and lava/utils/weightutils.py (clip_weights, truncate_weights) operation for operation, so
every overflow wraps where Lava's wraps:
  * a projection's summed input is int64 in Dense/Sparse, cast to int32 when sent;
    several projections into one LIF add in int32;
  * the LIF shifts that int32 input left by 6 in int32, adds it to the decayed int32 u,
    then wraps u once into 24 bits (u > 2^23 loses 2^24, u <= -2^23 gains 2^24);
  * v = decayed v + u + bias in int32, clipped to ±(2^23 - 1); bias_mant is held as int16.
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import FixedLIF

DECAY_SHIFT = 12
DECAY_UNITY = 1 << DECAY_SHIFT
MAX_UV = 1 << 23
ACT_SHIFT = 6
VTH_SHIFT = 6
DS_OFFSET = 1  # added to du by Lava (dm_offset for dv is 0)


def lava_weights(mant: np.ndarray, sign_mode: str, num_weight_bits: int) -> np.ndarray:
    """clip_weights(num_bits=8) then truncate_weights(num_weight_bits), elementwise, as int32."""
    w = np.asarray(mant).astype(np.int32)
    mixed = int(sign_mode == "mixed")
    if sign_mode == "inhibitory":
        w = -w
    w = np.clip(w, -(2 ** 8) * mixed, 2 ** 8 - 1).astype(np.int32)
    drop = 8 - num_weight_bits + mixed
    w = (w >> drop) << drop
    return -w if sign_mode == "inhibitory" else w


def effective_bias(fixed: FixedLIF, size: int) -> np.ndarray:
    """bias_mant (int16 register) shifted by bias_exp in int32, as Lava's scale_bias does."""
    mant = np.full(size, fixed.bias_mant).astype(np.int16).astype(np.int32)
    exp = fixed.bias_exp
    return np.left_shift(mant, exp) if exp >= 0 else np.right_shift(mant, -exp)


def decay(state: np.ndarray, factor: float) -> np.ndarray:
    """int32 state · keep / 4096 truncated toward zero (Lava: sign(x) · (|x| >> 12)).

    factor = keep / 4096 is exact in float64 and so is the product (|state · keep| < 2^43);
    the cast to int32 truncates toward zero, exactly as Lava's shift of |x| does.
    """
    return (state * factor).astype(np.int32)


class LifRegisters:
    """u, v (int32) of one population and one bit-accurate step; counts wraps and saturations."""

    def __init__(self, fixed: FixedLIF, size: int):
        self.u = np.zeros(size, np.int32)
        self.v = np.zeros(size, np.int32)
        self.keep_u = (DECAY_UNITY - (fixed.du + DS_OFFSET)) / DECAY_UNITY
        self.keep_v = (DECAY_UNITY - fixed.dv) / DECAY_UNITY
        self.bias = effective_bias(fixed, size)
        self.has_bias = bool(self.bias.any())
        self.vth = int(fixed.vth) << VTH_SHIFT
        self.u_wraps = 0
        self.v_saturations = 0

    def step(self, a_in: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """One step with int32 input: (indices that spiked, wrapped-u mask, saturated-v mask),
        each mask None when nothing happened (the common case skips the masked passes)."""
        curr = decay(self.u, self.keep_u)
        curr += np.left_shift(a_in, ACT_SHIFT)
        wrapped = None
        if curr.size and (curr.max() > MAX_UV or curr.min() <= -MAX_UV):
            over, under = curr > MAX_UV, curr <= -MAX_UV
            wrapped = over | under
            curr = np.where(over, curr - 2 * MAX_UV, np.where(under, curr + 2 * MAX_UV, curr))
        self.u = curr
        volt = decay(self.v, self.keep_v)
        volt += curr
        if self.has_bias:
            volt += self.bias
        saturated = None
        if volt.size and (volt.max() > MAX_UV - 1 or volt.min() < -MAX_UV + 1):
            saturated = (volt > MAX_UV - 1) | (volt < -MAX_UV + 1)
            volt = np.clip(volt, -MAX_UV + 1, MAX_UV - 1).astype(np.int32)
        fired = np.flatnonzero(volt > self.vth)
        volt[fired] = 0
        self.v = volt
        return fired, wrapped, saturated
