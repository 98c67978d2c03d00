"""Lava's bit-accurate integer arithmetic, with the dtypes Lava really uses (lava-nc 0.10.0).

Mirrors lava/proc/lif/models.py (AbstractPyLifModelFixed.subthr_dynamics, PyLifModelBitAcc)
and lava/utils/weightutils.py (clip_weights, truncate_weights) operation for operation, so
every overflow wraps where Lava's wraps:
  * a projection's summed input is int64 in Dense/Sparse, cast to int32 when sent;
    several projections into one LIF add in int32;
  * the LIF shifts that int32 input left by 6 in int32, adds it to the decayed int32 u,
    then wraps u once into 24 bits (u > 2^23 loses 2^24, u <= -2^23 gains 2^24);
  * v = decayed v + u + bias in int32, clipped to ±(2^23 - 1); bias_mant is held as int16.
This module prepares the registers; kernel.lif_step is the step itself.
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import FixedLIF

from .kernel import DECAY_SHIFT

DECAY_UNITY = 1 << DECAY_SHIFT
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


def effective_bias(fixed: FixedLIF) -> int:
    """bias_mant (int16 register) shifted by bias_exp in int32, as Lava's scale_bias does."""
    mant = np.asarray(fixed.bias_mant).astype(np.int16).astype(np.int32)
    exp = fixed.bias_exp
    return int(np.left_shift(mant, exp) if exp >= 0 else np.right_shift(mant, -exp))


class LifRegisters:
    """The constant registers of one LIF population as the bit-accurate step reads them:
    decay multipliers (out of 4096), effective bias and threshold (vth << 6)."""

    def __init__(self, fixed: FixedLIF):
        self.keep_u = DECAY_UNITY - (fixed.du + DS_OFFSET)
        self.keep_v = DECAY_UNITY - fixed.dv
        self.bias = effective_bias(fixed)
        self.vth = int(fixed.vth) << VTH_SHIFT
