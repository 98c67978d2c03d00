"""Event-driven synaptic delivery into one ring buffer of future input for all LIF neurons.

Neurons have global indices: LIF populations first, in order (their index is their column
in the ring), then sources. Every synapse of the network sits in one CSR table by pre index,
so a spike costs one walk over its own synapses.

Lava shifts each projection's *summed* input of one step (and delay slot) by weight_exp.
With weight_exp >= 0 the shift distributes over the sum (exact in int64), so such a synapse
adds its own shifted weight straight into the ring. With weight_exp < 0 the right shift
floors the sum, so those synapses add into a per-(projection, delay, post) sum that is
shifted into the ring once all spikes of the step are delivered (kernel.deliver, flush).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nmcompile.ir import QuantizedNetwork

from .lava_semantics import lava_weights


class Synapses(NamedTuple):
    """The CSR table; weights are int64 (shifted when added directly, raw when summed first)."""

    ptr: np.ndarray          # synapses of pre neuron i are [ptr[i], ptr[i + 1])
    post: np.ndarray         # ring column of the target
    delay: np.ndarray
    weight: np.ndarray
    sum_of: np.ndarray       # -1: straight into the ring; else the index of its step sum
    sum_post: np.ndarray     # per step sum: ring column, delay, right shift (= -weight_exp)
    sum_delay: np.ndarray
    sum_shift: np.ndarray
    sums: np.ndarray         # scratch: the sums of this step (zero between steps)
    touched: np.ndarray      # scratch: which sums this step made nonzero (repeats are harmless)


def build_synapses(qnet: QuantizedNetwork, offset: dict[str, int], n_pre: int) -> Synapses:
    """One CSR table for every projection; synapses whose effective weight is 0 are dropped."""
    sizes = {name: pop.size for name, pop in qnet.network.populations.items()}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("pre", "post", "delay", "weight",
                                                         "sum_of", "sum_post", "sum_delay",
                                                         "sum_shift")}
    n_sums = 0
    for proj in qnet.projections:
        weights = lava_weights(proj.weight_mant, proj.sign_mode, proj.num_weight_bits)
        keep = weights != 0
        post = proj.post_idx[keep].astype(np.int64)
        delay = proj.delay[keep].astype(np.int64)
        weight = weights[keep].astype(np.int64)
        if proj.weight_exp >= 0:
            weight = weight << proj.weight_exp
            sum_of = np.full(weight.size, -1, np.int64)
        else:
            keys, sum_of = np.unique(delay * sizes[proj.post] + post, return_inverse=True)
            sum_of = sum_of.astype(np.int64) + n_sums
            n_sums += keys.size
            cols["sum_post"].append(offset[proj.post] + keys % sizes[proj.post])
            cols["sum_delay"].append(keys // sizes[proj.post])
            cols["sum_shift"].append(np.full(keys.size, -proj.weight_exp, np.int64))
        cols["pre"].append(offset[proj.pre] + proj.pre_idx[keep].astype(np.int64))
        cols["post"].append(offset[proj.post] + post)
        cols["delay"].append(delay)
        cols["weight"].append(weight)
        cols["sum_of"].append(sum_of)
    flat = {k: np.concatenate(v).astype(np.int64) if v else np.zeros(0, np.int64)
            for k, v in cols.items()}
    order = np.argsort(flat["pre"], kind="stable")
    return Synapses(ptr=np.searchsorted(flat["pre"][order], np.arange(n_pre + 1)).astype(np.int64),
                    post=flat["post"][order], delay=flat["delay"][order],
                    weight=flat["weight"][order], sum_of=flat["sum_of"][order],
                    sum_post=flat["sum_post"], sum_delay=flat["sum_delay"],
                    sum_shift=flat["sum_shift"], sums=np.zeros(n_sums, np.int64),
                    touched=np.zeros(int((flat["sum_of"] >= 0).sum()), np.int64))
