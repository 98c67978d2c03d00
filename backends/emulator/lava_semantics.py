"""Lava's bit-accurate integer arithmetic, with the dtypes Lava really uses (lava-nc 0.10.0).

Mirrors lava/proc/lif/models.py (AbstractPyLifModelFixed.subthr_dynamics, PyLifModelBitAcc)
and lava/utils/weightutils.py (clip_weights, truncate_weights) operation for operation, so
every overflow wraps where Lava's wraps:
  * a projection's summed input is int64 in Dense/Sparse, cast to int32 when sent;
    several projections into one LIF add in int32;
  * the LIF shifts that int32 input left by 6 in int32, adds it to the decayed int32 u,
    then wraps u once into 24 bits (u > 2^23 loses 2^24, u <= -2^23 gains 2^24);
  * v = decayed v + u + bias in int32, clipped to ±(2^23 - 1); bias_mant is held as int16.
The compiled step works on int64 scalars and wraps to int32 exactly where numpy would.
"""
from __future__ import annotations

import numpy as np
from numba import njit

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


@njit(cache=True)
def wrap_int32(x):
    """An int64 as numpy's int32 arithmetic would leave it: modulo 2^32 into [-2^31, 2^31)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@njit(cache=True)
def decay(x, keep):
    """x · keep / 4096 truncated toward zero: Lava's sign(x) · (|x · keep| >> 12) in int64."""
    p = x * keep
    return p >> DECAY_SHIFT if p >= 0 else -((-p) >> DECAY_SHIFT)


@njit(cache=True)
def lif_step(u, v, summed_input, keep_u, keep_v, bias, vth):
    """One neuron, one step of PyLifModelBitAcc: (u, v, u wrapped, v saturated, spiked).

    summed_input is the int64 sum of every projection's shifted input for this step."""
    a_in = wrap_int32(summed_input)
    curr = wrap_int32(decay(u, keep_u) + wrap_int32(a_in << ACT_SHIFT))
    wrapped = curr > MAX_UV or curr <= -MAX_UV
    if curr > MAX_UV:
        curr -= 2 * MAX_UV
    elif curr <= -MAX_UV:
        curr += 2 * MAX_UV
    volt = wrap_int32(decay(v, keep_v) + curr + bias)
    saturated = volt > MAX_UV - 1 or volt < 1 - MAX_UV
    volt = min(max(volt, 1 - MAX_UV), MAX_UV - 1)
    fired = volt > vth
    return curr, 0 if fired else volt, wrapped, saturated, fired
