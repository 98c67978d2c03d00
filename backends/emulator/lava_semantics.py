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


def decay(state: np.ndarray, keep: int) -> np.ndarray:
    """int32 state · keep / 4096, truncated toward zero (Lava: sign(x) · (|x| >> 12))."""
    prod = state.astype(np.int64) * keep
    return np.where(prod < 0, -((-prod) >> DECAY_SHIFT), prod >> DECAY_SHIFT).astype(np.int32)


class LifRegisters:
    """u, v (int32) of one population and one bit-accurate step; counts wraps and saturations."""

    def __init__(self, fixed: FixedLIF, size: int):
        self.u = np.zeros(size, np.int32)
        self.v = np.zeros(size, np.int32)
        self.keep_u = DECAY_UNITY - (fixed.du + DS_OFFSET)
        self.keep_v = DECAY_UNITY - fixed.dv
        self.bias = effective_bias(fixed, size)
        self.vth = int(fixed.vth) << VTH_SHIFT
        self.u_wraps = 0
        self.v_saturations = 0

    def step(self, a_in: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One step with int32 input; returns (spikes, wrapped-u mask, saturated-v mask)."""
        curr = decay(self.u, self.keep_u) + np.left_shift(a_in, ACT_SHIFT)
        over = curr > MAX_UV
        under = curr <= -MAX_UV
        wrapped = over | under
        self.u[:] = np.where(over, curr - 2 * MAX_UV, np.where(under, curr + 2 * MAX_UV, curr))
        volt = decay(self.v, self.keep_v) + self.u + self.bias
        saturated = (volt > MAX_UV - 1) | (volt < -MAX_UV + 1)
        self.v[:] = np.clip(volt, -MAX_UV + 1, MAX_UV - 1)
        spikes = self.v > self.vth
        self.v[spikes] = 0
        return spikes, wrapped, saturated
