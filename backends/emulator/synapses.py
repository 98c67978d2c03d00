"""Event-driven synaptic delivery into per-population ring buffers of future input.

Lava shifts each projection's *summed* input of one step (and, with delays, of one delay
slot) by weight_exp, so sums are taken per (delay, post neuron) before the shift. Sparse
activity gathers only the synapses of neurons that spiked; when many spiked, one integer
sparse matrix-vector product over all synapses is cheaper.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nmcompile.ir import FixedProjection

from .lava_semantics import lava_weights


class InputRing:
    """Future input of one population: slot (t mod R) holds the int64 input summed for step t."""

    def __init__(self, size: int, max_delay: int):
        self.length = max_delay + 1
        self.slots = np.zeros((self.length, size), np.int64)

    def take(self, t: int) -> np.ndarray:
        """The input of step t, cast to int32 as Lava's ports do; the slot is cleared."""
        slot = self.slots[t % self.length]
        out = slot.astype(np.int32)
        slot[:] = 0
        return out


class Delivery:
    """One projection, its synapses sorted by pre neuron, effective (clipped, truncated) weights."""

    def __init__(self, proj: FixedProjection, n_pre: int, n_post: int):
        weights = lava_weights(proj.weight_mant, proj.sign_mode, proj.num_weight_bits)
        keep = weights != 0
        pre, post = proj.pre_idx[keep], proj.post_idx[keep]
        delay, weights = proj.delay[keep].astype(np.int64), weights[keep]
        order = np.argsort(pre, kind="stable")
        self.delays, slot_of = np.unique(delay, return_inverse=True)
        self.ptr = np.searchsorted(pre[order], np.arange(n_pre + 1)).astype(np.int64)
        self.key = (slot_of[order] * n_post + post[order]).astype(np.int64)
        self.weight = weights[order].astype(np.float64)  # bincount sums in float64: exact < 2^53
        self.n_post = n_post
        self.n_pre = n_pre
        self.weight_exp = int(proj.weight_exp)
        self.post = proj.post
        self._matrix: sp.csr_matrix | None = None  # (delay slot, post) x pre, built on demand
        # with weight_exp >= 0 the shift distributes over the sum (exact in int64), so each
        # synapse can add its own shifted weight straight into the ring
        self.direct = self.weight_exp >= 0
        self.shifted = weights[order].astype(np.int64) << max(self.weight_exp, 0)
        self.delay_of = delay[order]
        self.post_of = post[order].astype(np.int64)

    def _sums(self, spiking: np.ndarray, t: int, ring: InputRing) -> np.ndarray | None:
        """int64 sum of effective weights per (delay slot, post neuron) for this step, or None
        when the synapses were added to the ring directly (or none was touched)."""
        starts, ends = self.ptr[spiking], self.ptr[spiking + 1]
        counts = ends - starts
        total = int(counts.sum())
        if not total:
            return None
        size = self.delays.size * self.n_post
        if total * 8 > self.key.size:
            if self._matrix is None:
                pre = np.repeat(np.arange(self.n_pre), np.diff(self.ptr))
                self._matrix = sp.csr_matrix((self.weight.astype(np.int64), (self.key, pre)),
                                             shape=(size, self.n_pre))
            vector = np.zeros(self.n_pre, np.int64)
            vector[spiking] = 1
            return self._matrix @ vector
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        if self.direct:
            flat = (t + self.delay_of[idx]) % ring.length * self.n_post + self.post_of[idx]
            np.add.at(ring.slots.reshape(-1), flat, self.shifted[idx])
            return None
        return np.bincount(self.key[idx], weights=self.weight[idx],
                           minlength=size).astype(np.int64)

    def deliver(self, spiking: np.ndarray, t: int, ring: InputRing) -> None:
        """Add the input caused by the pre neurons `spiking` (indices) at step t."""
        if not spiking.size or not self.delays.size:
            return
        sums = self._sums(spiking, t, ring)
        if sums is None:
            return
        sums = sums << self.weight_exp if self.weight_exp > 0 else sums >> -self.weight_exp
        ring.slots[(t + self.delays) % ring.length] += sums.reshape(self.delays.size, self.n_post)
