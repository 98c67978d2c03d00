"""The compiled loops of the mapping pass (numba): synapses regrouped by neuron, distinct
presynaptic neurons or destination cores counted, each in one pass over the synapses; and
the next-fit packing of blocks onto cores.

Why compiled: the mapping counts distinct (presynaptic neuron, post neuron) and (neuron,
destination core) pairs. numpy finds them only by sorting an int64 key per synapse of the
whole network (the pass once did: 50-100 bytes a synapse at its peak with the temporaries,
which the full-scale microcircuit's 298 million synapses do not fit in 24 GB); here a
synapse list regrouped by neuron (a counting sort, int32: 4 bytes a synapse of one
population at a time) and a flag per item, set then cleared row by row, count them in one
pass without sorting.

All compiled code of the pass lives in this one file on purpose: numba's disk cache is
invalidated by this file's timestamp only. Every function takes plain arrays (no typed
lists: building one compiles numba's list code anew in every process, about a second).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def longest_delay(rows, delay, longest):
    """Over one projection: longest[r] = the longest delay into row r (its post neuron)."""
    for s in range(rows.size):
        if delay[s] > longest[rows[s]]:
            longest[rows[s]] = delay[s]


@njit(cache=True)
def count(keys, counts):
    """counts[k] += 1 per key (np.bincount would first copy int32 keys to int64)."""
    for s in range(keys.size):
        counts[keys[s]] += 1


@njit(cache=True)
def scatter(keys, values, lookup, ptr, fill, out):
    """Counting sort's second pass over one projection: synapse s lands in its key's row,
    out[ptr[key] + fill[key]] = lookup[value] (a global neuron id, or a core)."""
    for s in range(keys.size):
        k = keys[s]
        out[ptr[k] + fill[k]] = lookup[values[s]]
        fill[k] += 1


@njit(cache=True)
def distinct_per_row(ptr, items, seen, out):
    """out[r] = distinct items of row r (`seen`: all False on entry and on return)."""
    for r in range(ptr.size - 1):
        n = 0
        for k in range(ptr[r], ptr[r + 1]):
            if not seen[items[k]]:
                seen[items[k]] = True
                n += 1
        out[r] = n
        for k in range(ptr[r], ptr[r + 1]):
            seen[items[k]] = False


@njit(cache=True)
def rows_within(ptr, items, a, b, cap, seen):
    """(k, d): the most rows a … a+k−1 (below b) whose items together, d distinct ones, stay
    within `cap`, or k = 1 when row a alone exceeds it (`seen` as above). Reads the rows it
    takes and one more, so splitting a population into such runs reads it about twice."""
    n, r = 0, a
    while r < b:
        m = n
        for k in range(ptr[r], ptr[r + 1]):
            if not seen[items[k]]:
                seen[items[k]] = True
                m += 1
        r += 1
        if m > cap and r > a + 1:
            break
        n = m
        if m > cap:
            break
    for k in range(ptr[a], ptr[r]):
        seen[items[k]] = False
    taken = r - a if n == m else r - a - 1
    return taken, n


@njit(cache=True)
def count_destinations(ptr, cores, first, gcore, cores_per_chip, width, spikes, seen,
                       pairs, same_core, same_chip, hops, other_chip, input_axons, events,
                       packets):
    """Row i of (ptr, cores) lists the destination core of every synapse of neuron first + i.
    Per neuron g: its distinct destination cores (pairs[g]: its output axons) and, for a
    placed neuron (gcore[g] ≥ 0), how many of them are its own core, another core of its
    chip (with the tile hops to reach them, cores row by row on a grid `width` wide) or a
    core of another chip. Per core: input axons (its distinct presynaptic neurons) and, with
    `spikes` (per neuron, else empty), events += the spikes of each synapse's neuron. With a
    (cores × cores) `packets` (else 0 × 0), packets[own core, destination] += 1 per pair."""
    with_spikes = spikes.size > 0
    with_packets = packets.shape[0] > 0
    for i in range(ptr.size - 1):
        g = first + i
        src = gcore[g]
        w = spikes[g] if with_spikes else 0
        for k in range(ptr[i], ptr[i + 1]):
            c = cores[k]
            if with_spikes:
                events[c] += w
            if seen[c]:
                continue
            seen[c] = True
            pairs[g] += 1
            input_axons[c] += 1
            if src < 0:
                continue
            if c == src:
                same_core[g] += 1
            elif src // cores_per_chip == c // cores_per_chip:
                same_chip[g] += 1
                a, b = src % cores_per_chip, c % cores_per_chip
                hops[g] += abs(a % width - b % width) + abs(a // width - b // width)
            else:
                other_chip[g] += 1
            if with_packets:
                packets[src, c] += 1
        for k in range(ptr[i], ptr[i + 1]):
            seen[cores[k]] = False


@njit(cache=True)
def next_fit(need, cap, core):
    """Blocks in order onto cores: block k joins the current core while every column of the
    summed need[k] stays within cap, else opens the next one (block 0 opens core 0)."""
    used = np.zeros(cap.size, np.int64)
    current = 0
    for k in range(need.shape[0]):
        fits = True
        for j in range(cap.size):
            if used[j] + need[k, j] > cap[j]:
                fits = False
        if k > 0 and not fits:
            current += 1
            used[:] = 0
        for j in range(cap.size):
            used[j] += need[k, j]
        core[k] = current
