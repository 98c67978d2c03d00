"""Lava's bit-accurate integer arithmetic, with the dtypes Lava really uses (lava-nc 0.10.0).

Mirrors lava/proc/lif/models.py (AbstractPyLifModelFixed.subthr_dynamics, PyLifModelBitAcc)
and lava/utils/weightutils.py (clip_weights, truncate_weights) operation for operation, so
every overflow wraps where Lava's wraps:
  * a projection's summed input is int64 in Dense/Sparse, cast to int32 when sent;
    several projections into one LIF add in int32;
  * the LIF shifts that int32 input left by 6 in int32, adds it to the decayed int32 u,
    then wraps u once into 24 bits (u > 2^23 loses 2^24, u <= -2^23 gains 2^24);
  * v = decayed v + u + bias in int32, clipped to ±(2^23 - 1); bias_mant is held as int16.
The features nmcompile adds (DESIGN §2.5: refractory, subtract reset, non-spiking neurons,
injected currents) follow nmcompile's own bit-accurate LIF; models/lif.py prepares the
registers, kernel.lif_step is the step itself.

Lava's adaptive LIF (lava/proc/atrlif/models.py, PyATRLIFModelFixed; DESIGN §2.7) the same
way: i as LIF's u and v as LIF's v (the same int32 operations and wrap); theta and r are int32
registers that wrap where numpy's int32 arithmetic does — theta − theta_0, the decayed
difference + theta_0, 2·theta and r + 2·theta, theta + theta_step — and the spike test
compares (v − r), itself wrapped, with theta; theta_0 and theta_step are np.int32(x · 2^6).
models/adaptive_lif.py prepares the registers, kernel.adaptive_population is the step.
Izhikevich has no Lava model: nmcompile's own (DESIGN §2.6) computes in int64 throughout.
"""
from __future__ import annotations

import numpy as np

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


def effective_bias(bias_mant: np.ndarray, bias_exp: np.ndarray) -> np.ndarray:
    """Per neuron, bias_mant (int16 register) shifted by bias_exp in int32, as Lava's
    scale_bias does; int64 for the kernel."""
    mant = np.asarray(bias_mant).astype(np.int16).astype(np.int32)
    exp = np.asarray(bias_exp).astype(np.int16)
    shifted = np.where(exp >= 0, np.left_shift(mant, np.maximum(exp, 0)),
                       np.right_shift(mant, np.maximum(-exp, 0)))
    return shifted.astype(np.int32).astype(np.int64)
