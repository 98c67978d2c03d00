"""The emulator's synapse table: 4 bytes a synapse, grouped for each worker by pre neuron.

Neurons have global indices: neuron populations first, in order (their index is their column
in the ring), then sources. A worker's synapses (those onto the neurons it owns) are grouped
by pre neuron and, within one pre neuron, by projection ("segments"); within a segment they
are sorted by delay, then post neuron, so a spike's walk writes each row of the ring forward
(a prefetcher's pattern: at scale the ring is far larger than the caches). Per synapse the
table holds the post neuron's index in its population (uint16; int32 when a population
receiving synapses has more than 65,536 neurons), the delay (uint8; uint16, int32 beyond 255,
65,535 steps) and an 8-bit weight code: 4 bytes a synapse (the microcircuit's largest
population has 21,915 neurons). The post's ring column and the code's meaning are the
segment's projection's (kernel: SHIFT … POST_SIZE):

    weight = ((code + OFFSET) · SIGN) << SHIFT

Lava's weights are 8-bit mantissas (clip_weights, truncate_weights): excitatory 0 … 255 and
inhibitory −255 … 0 are stored as |w| >> dropped bits − 128, mixed −256 … 254 (an even
number) as w >> dropped bits, so each fits in int8 and decodes exactly.

Lava shifts each projection's *summed* input of one step (and delay slot) by weight_exp.
With weight_exp >= 0 the shift distributes over the sum (exact in int64), so such a synapse
adds its own shifted weight straight into the ring. With weight_exp < 0 the right shift
floors the sum, so those synapses add into a per-(projection, delay, post) sum, a dense
array for each such projection, shifted into the ring once all spikes of the step are
delivered (kernel.flush).

The table is built one projection at a time with a counting sort (no sort of the whole
network, no Python object per synapse): its temporary arrays are those of the largest
projection.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nmcompile.ir import QuantizedNetwork

from . import kernel
from .lava_semantics import lava_weights

class Synapses(NamedTuple):
    """Segments of synapses; worker k's segments of pre i are seg_ptr[k, i] … seg_ptr[k, i+1]−1."""

    seg_ptr: np.ndarray    # (workers, pre neurons + 1) int64
    seg_start: np.ndarray  # (segments + 1) int64: segment g's synapses are [start[g], start[g+1])
    seg_proj: np.ndarray   # (segments) int32: its projection (row of proj)
    post: np.ndarray       # (synapses) uint16 or int32: the target's index in its population
    delay: np.ndarray      # (synapses) uint8, uint16 or int32: steps
    code: np.ndarray       # (synapses) int8: weight code
    proj: np.ndarray       # (projections, kernel.N_PROJECTION_COLUMNS) int64
    sums: np.ndarray       # int64: the step sums of projections with weight_exp < 0
    any_summed: bool       # whether there are any (the kernel skips the flush if not)


def _codes(proj, lo: int, hi: int, post_size: int
           ) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """(which synapses carry a nonzero weight onto a post neuron lo … hi − 1 of the
    projection's post population, their int8 codes, the projection's decode)."""
    weights = lava_weights(proj.weight_mant, proj.sign_mode, proj.num_weight_bits)
    keep = weights != 0
    if lo > 0 or hi < post_size:
        keep &= (proj.post_idx >= lo) & (proj.post_idx < hi)
    mixed = proj.sign_mode == "mixed"
    dropped = 8 - proj.num_weight_bits + int(mixed)
    sign = -1 if proj.sign_mode == "inhibitory" else 1
    offset = 0 if mixed else 128
    code = (((weights[keep] * sign) >> dropped) - offset).astype(np.int8)
    decode = {kernel.SHIFT: dropped + max(proj.weight_exp, 0), kernel.SIGN: sign,
              kernel.OFFSET: offset, kernel.SUMMED: int(proj.weight_exp < 0),
              kernel.SUM_SHIFT: max(-proj.weight_exp, 0)}
    return keep, code, decode


def build_synapses(qnet: QuantizedNetwork, offset: dict[str, int], n_pre: int,
                   bounds: np.ndarray, owned: tuple[int, int] | None = None) -> Synapses:
    """The table of every projection for the workers whose neuron ranges `bounds` gives,
    keeping only synapses onto ring columns owned[0] … owned[1] − 1 (this process's, with
    several); synapses whose effective weight is 0 are dropped."""
    workers = bounds.size - 1
    owned = (int(bounds[0]), int(bounds[-1])) if owned is None else owned
    sizes = {name: pop.size for name, pop in qnet.network.populations.items()}
    projections = list(qnet.projections)
    table = np.zeros((len(projections), kernel.N_PROJECTION_COLUMNS), np.int64)
    max_delay = max([int(p.delay.max()) for p in projections if p.delay.size], default=1)
    delay_type = next(t for t in (np.uint8, np.uint16, np.int32) if max_delay <= np.iinfo(t).max)
    largest_post = max([sizes[p.post] for p in projections], default=1)
    post_type = np.uint16 if largest_post <= 1 << 16 else np.int32

    def local(proj):
        """The owned columns in the post population's own indices, and its size."""
        first = offset[proj.post]
        return owned[0] - first, owned[1] - first, sizes[proj.post]

    def keyed(proj, keep):
        """Each kept synapse's (worker · pre size + pre index, post column): its segment
        within the projection, numbered in the order of the table's segments."""
        post = offset[proj.post] + proj.post_idx[keep].astype(np.int64)
        worker = np.searchsorted(bounds, post, side="right") - 1
        return worker * sizes[proj.pre] + proj.pre_idx[keep], post

    # pass 1: segments (worker, pre, projection) and their sizes
    seg_keys, seg_projs, seg_sizes, n_sums = [], [], [], 0
    for p, proj in enumerate(projections):
        keep, _, decode = _codes(proj, *local(proj))
        for column, value in decode.items():
            table[p, column] = value
        table[p, kernel.POST_START] = offset[proj.post]
        table[p, kernel.POST_SIZE] = sizes[proj.post]
        if decode[kernel.SUMMED] and keep.any():
            low, high = int(proj.delay[keep].min()), int(proj.delay[keep].max())
            table[p, kernel.DMIN], table[p, kernel.SUM_BASE] = low, n_sums
            n_sums += (high - low + 1) * sizes[proj.post]
        key, _ = keyed(proj, keep)
        counts = np.bincount(key, minlength=workers * sizes[proj.pre])
        present = np.flatnonzero(counts)
        worker, pre = np.divmod(present, sizes[proj.pre])
        seg_keys.append(worker * n_pre + offset[proj.pre] + pre)
        seg_projs.append(np.full(present.size, p, np.int32))
        seg_sizes.append(counts[present])
    keys = np.concatenate(seg_keys or [np.zeros(0, np.int64)])
    projs = np.concatenate(seg_projs or [np.zeros(0, np.int32)])
    order = np.lexsort((projs, keys))
    seg_start = np.concatenate(([0], np.cumsum(np.concatenate(seg_sizes or [[]])[order])))
    seg_start = seg_start.astype(np.int64)
    where = np.empty(order.size, np.int64)  # segment index of each (projection, key) entry
    where[order] = np.arange(order.size)
    flat_ptr = np.searchsorted(keys[order], np.arange(workers * n_pre + 1))
    seg_ptr = np.stack([flat_ptr[k * n_pre:(k + 1) * n_pre + 1] for k in range(workers)])

    # pass 2: each projection's synapses into their segments, sorted by delay, then post, within each
    n = int(seg_start[-1])
    post_out = np.empty(n, post_type)
    delay_out = np.empty(n, delay_type)
    code_out = np.empty(n, np.int8)
    first = 0
    for p, proj in enumerate(projections):
        keep, code, _ = _codes(proj, *local(proj))
        key, post = keyed(proj, keep)
        delay = proj.delay[keep].astype(np.int64)
        within = np.argsort((key * (max_delay + 1) + delay) * sizes[proj.post]
                            + (post - offset[proj.post]), kind="stable")
        counts = seg_sizes[p]
        segments = where[first:first + counts.size]
        first += counts.size
        rank = np.arange(within.size) - np.repeat(np.cumsum(counts) - counts, counts)
        at = np.repeat(seg_start[segments], counts) + rank
        post_out[at] = post[within] - offset[proj.post]
        delay_out[at] = delay[within]
        code_out[at] = code[within]
    return Synapses(seg_ptr=seg_ptr.astype(np.int64), seg_start=seg_start,
                    seg_proj=projs[order].astype(np.int32), post=post_out, delay=delay_out,
                    code=code_out, proj=table, sums=np.zeros(n_sums, np.int64),
                    any_summed=bool(table[:, kernel.SUMMED].any()))
