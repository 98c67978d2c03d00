"""Connectors: (pre, post) index pairs sorted by (pre, post), drawn once from a projection's own RNG.

Each connector is a small function of the pre/post populations; the memory estimate runs first
so a network that cannot fit is refused before anything big is allocated.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from nmcompile.ir import Population

# Memory while drawing: every synapse kept in the IR's arrays (pre, post int32, weight float64,
# delay int32), and the transient copies of drawing one projection (indices, sort, weights and
# delays drawn and redrawn, multapses merged), which one projection at a time needs.
IR_BYTES_PER_SYNAPSE = 20
DRAW_BYTES_PER_SYNAPSE = 64


def expected_synapses(kind: str, arg, n_pre: int, n_post: int, self_ok: bool, same: bool,
                      shape: tuple[int, ...] = ()) -> float:
    """Synapse count a connector will produce (its mean for random ones, a bound for grid),
    before drawing it; `shape` is the grid shape of the post population."""
    pairs = n_pre * n_post - (0 if self_ok or not same else min(n_pre, n_post))
    if kind == "all_to_all":
        return pairs
    if kind == "one_to_one":
        return min(n_pre, n_post)
    if kind == "fixed_probability":
        return pairs * arg
    if kind == "fixed_indegree":
        return n_post * arg
    if kind == "fixed_outdegree":
        return n_pre * arg
    if kind == "fixed_total_number":  # as drawn: merging multapses can only lower it
        return arg
    if kind == "grid":
        return min(pairs, n_post * neighbourhood_size(arg["radius"], arg["diagonal"], shape))
    return 0.0  # list and file: bounded by their own input size


def neighbourhood_size(radius: int, diagonal: bool, shape: tuple[int, ...]) -> int:
    """Cells within `radius` of a cell (itself included), ignoring edges: an upper bound."""
    reach = [min(radius, s - 1) for s in shape]  # farther offsets reach nothing new
    if diagonal:
        return math.prod(2 * r + 1 for r in reach)
    radius = min(radius, sum(reach))
    counts = np.zeros(radius + 1)  # Manhattan ball, one dimension at a time: offsets by distance
    counts[0] = 1.0
    for r in reach:
        ways = np.full(r + 1, 2.0)  # offsets -k and +k in this dimension
        ways[0] = 1.0
        counts = np.convolve(counts, ways)[:radius + 1]
    return int(counts.sum())


def all_to_all(n_pre: int, n_post: int, self_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    pre = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
    post = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
    return _drop_self(pre, post, self_ok)


def one_to_one(n_pre: int, n_post: int, self_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(n_pre, dtype=np.int32)
    return _drop_self(idx, idx.copy(), self_ok)


def fixed_probability(n_pre: int, n_post: int, p: float, self_ok: bool,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every pair independently with probability p, by geometric gaps over the flat pair index:
    O(synapses) work and memory instead of O(n_pre·n_post)."""
    total = n_pre * n_post
    if p <= 0 or total == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    if p >= 1:
        return all_to_all(n_pre, n_post, self_ok)
    chunks, position = [], -1
    chunk = int(min(max(total * p * 1.05 + 1000, 1000), 20_000_000))
    while position < total:
        # a tiny p draws gaps near 2**63: capped, the running sum passes `total` before it can wrap
        gaps = np.minimum(rng.geometric(p, size=chunk), total + 1)
        flat = position + np.cumsum(gaps, dtype=np.int64)
        beyond = np.flatnonzero(flat >= total)
        chunks.append(flat[:beyond[0]] if beyond.size else flat)
        position = int(flat[beyond[0]]) if beyond.size else int(flat[-1])
    flat = np.concatenate(chunks)
    pre, post = np.divmod(flat, n_post)
    return _drop_self(pre.astype(np.int32), post.astype(np.int32), self_ok)


def fixed_indegree(n_pre: int, n_post: int, k: int, self_ok: bool,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each post neuron gets k distinct pre neurons (never itself unless self_ok)."""
    pres, posts = [], []
    for j in range(n_post):
        if self_ok or j >= n_pre:
            chosen = rng.choice(n_pre, size=k, replace=False)
        else:
            chosen = rng.choice(n_pre - 1, size=k, replace=False)
            chosen = chosen + (chosen >= j)
        pres.append(np.sort(chosen))
        posts.append(np.full(k, j))
    if not pres:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return sort_pairs(np.concatenate(pres).astype(np.int32), np.concatenate(posts).astype(np.int32))


def fixed_outdegree(n_pre: int, n_post: int, k: int, self_ok: bool,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each pre neuron reaches k distinct post neurons (never itself unless self_ok): the mirror
    of fixed_indegree, pre neurons in order each drawing from the stream in turn."""
    pres, posts = [], []
    for i in range(n_pre):
        if self_ok:  # else pre and post are one population: i is a post neuron too
            chosen = rng.choice(n_post, size=k, replace=False)
        else:
            chosen = rng.choice(n_post - 1, size=k, replace=False)
            chosen = chosen + (chosen >= i)
        pres.append(np.full(k, i))
        posts.append(np.sort(chosen))
    if not pres:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(pres).astype(np.int32), np.concatenate(posts).astype(np.int32)


def allowed_pairs(n_pre: int, n_post: int, self_ok: bool) -> int:
    """(pre, post) pairs a connector may use: all of them, less i -> i without self connections
    (allow_self is false only when pre and post are one population, so n_pre == n_post)."""
    return n_pre * (n_post if self_ok else n_post - 1)


def fixed_total_number(n_pre: int, n_post: int, n: int, self_ok: bool,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n synapses, each an allowed pair drawn uniformly with replacement (NEST's
    fixed_total_number with multapses), so a pair may come more than once. One flat index per
    synapse over the allowed pairs: without self connections row i skips column i, so there is
    nothing to redraw, and the flat order is still the (pre, post) order, so sorting the
    indices sorts the pairs (a pair drawn k times: k neighbours)."""
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    columns = n_post if self_ok else n_post - 1
    flat = np.sort(rng.integers(0, allowed_pairs(n_pre, n_post, self_ok), size=n,
                                dtype=np.int64))
    pre, post = np.divmod(flat, columns)
    if not self_ok:
        post += post >= pre
    return pre.astype(np.int32), post.astype(np.int32)


def merge_multapses(pre: np.ndarray, post: np.ndarray, weight: np.ndarray,
                    delay: np.ndarray) -> tuple[np.ndarray, ...]:
    """Synapses sorted by (pre, post), pairs possibly repeated -> (pre, post, weight, delay,
    rank), sorted by (pre, post, delay), no (pair, delay) twice.

    Repeats of a pair with the same delay act as one synapse of their summed weight (summed in
    synapse order), so they become one. A pair left with several delays cannot sit in one IR
    projection: its synapses are ranked by delay, shortest first (rank 0), as the NIR import
    splits a pair that two delays connect; each rank then holds every pair at most once."""
    if pre.size == 0:
        return pre, post, weight, delay, np.zeros(0, np.int64)
    new_pair = np.r_[True, (pre[1:] != pre[:-1]) | (post[1:] != post[:-1])]
    # by delay within each pair, stably (equal delays keep synapse order); nearly sorted
    # already, as most pairs come once, which suits the stable sort (timsort)
    pair = np.cumsum(new_pair) - 1
    order = np.argsort(pair * (int(delay.max()) + 1) + delay, kind="stable")
    weight, delay = weight[order], delay[order]  # pre and post are the same within a pair
    starts = np.flatnonzero(new_pair | np.r_[True, delay[1:] != delay[:-1]])
    weight = run_sums(weight, starts)
    pre, post, delay, new_pair = pre[starts], post[starts], delay[starts], new_pair[starts]
    index = np.arange(starts.size)
    rank = index - np.maximum.accumulate(np.where(new_pair, index, 0))
    return pre, post, weight, delay, rank


def run_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sum of each run values[starts[g]:starts[g + 1]], added left to right, all runs a
    step at a time (np.add.reduceat would leave the order of the additions to numpy)."""
    ends = np.r_[starts[1:], values.size]
    total = values[starts]  # a copy: fancy indexing
    active, offset = np.flatnonzero(ends - starts > 1), 1
    while active.size:
        total[active] += values[starts[active] + offset]
        offset += 1
        active = active[ends[active] - starts[active] > offset]
    return total


def grid(shape: tuple[int, ...], radius: int, diagonal: bool, wrap: bool,
         self_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cells within `radius` steps: Chebyshev distance with diagonals, Manhattan distance without."""
    coords = np.indices(shape).reshape(len(shape), -1).T  # flat index -> coordinates (C order)
    pres, posts = [], []
    reach = [range(-min(radius, s - 1), min(radius, s - 1) + 1) for s in shape]  # more adds nothing
    for offset in itertools.product(*reach):
        dist = max(map(abs, offset)) if diagonal else sum(map(abs, offset))
        if dist > radius or (dist == 0 and not self_ok):
            continue
        target = coords + np.array(offset)
        if wrap:
            target %= np.array(shape)
            keep = np.ones(len(coords), bool)
        else:
            keep = np.all((target >= 0) & (target < np.array(shape)), axis=1)
        pres.append(np.nonzero(keep)[0])
        posts.append(np.ravel_multi_index(target[keep].T, shape))
    if not pres:  # radius 0 without self connections
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    pre = np.concatenate(pres).astype(np.int32)
    post = np.concatenate(posts).astype(np.int32)
    pre, post = sort_pairs(pre, post)
    if wrap and len(pre):  # small wrapped grids reach the same cell by two offsets
        keep = np.ones(len(pre), bool)
        keep[1:] = (pre[1:] != pre[:-1]) | (post[1:] != post[:-1])
        pre, post = pre[keep], post[keep]
    return pre, post


def sort_pairs(pre: np.ndarray, post: np.ndarray, *others: np.ndarray):
    """Sort synapses by (pre, post), carrying any per-synapse arrays along."""
    order = np.lexsort((post, pre))
    return (pre[order], post[order]) + tuple(o[order] for o in others)


def duplicate_pair(pre: np.ndarray, post: np.ndarray) -> int | None:
    """Index (in sorted order) of the first repeated (pre, post) pair, or None."""
    same = (pre[1:] == pre[:-1]) & (post[1:] == post[:-1])
    hits = np.nonzero(same)[0]
    return int(hits[0]) + 1 if hits.size else None


def _drop_self(pre, post, self_ok):
    if self_ok:
        return pre, post
    keep = pre != post
    return pre[keep], post[keep]


def grid_shape(pop: Population) -> tuple[int, ...]:
    return tuple(pop.shape) if pop.shape else (pop.size,)
