"""The compiled part of the emulator: Lava's integer LIF step and event-driven delivery.

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache (compiled once per machine) is invalidated by this file's timestamp only, so code
or constants taken from another module would be served stale after an edit there.

Values are int64 scalars; wrap_int32 wraps them where numpy's int32 arithmetic in Lava's
PyLifModelBitAcc would (see lava_semantics.py for the list).
"""
from __future__ import annotations

from numba import njit

DECAY_SHIFT = 12
MAX_UV = 1 << 23  # u and v are 24-bit registers
ACT_SHIFT = 6


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
    a_in = wrap_int32(summed_input)  # Lava's ports carry int32
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


@njit(cache=True)
def deliver(syn, pre, t, ring, n_touched):
    """Add the synapses of pre neuron `pre`, spiking at step t; returns the new touched count."""
    length = ring.shape[0]
    for s in range(syn.ptr[pre], syn.ptr[pre + 1]):
        k = syn.sum_of[s]
        if k < 0:
            ring[(t + syn.delay[s]) % length, syn.post[s]] += syn.weight[s]
        else:
            if syn.sums[k] == 0:
                syn.touched[n_touched] = k
                n_touched += 1
            syn.sums[k] += syn.weight[s]
    return n_touched


@njit(cache=True)
def flush(syn, t, ring, n_touched):
    """Shift the step sums touched at step t (arithmetic right shift: floor) into the ring."""
    length = ring.shape[0]
    for i in range(n_touched):
        k = syn.touched[i]
        ring[(t + syn.sum_delay[k]) % length, syn.sum_post[k]] += syn.sums[k] >> syn.sum_shift[k]
        syn.sums[k] = 0


@njit(cache=True)
def run_steps(t_from, steps, strict, neurons, syn, src_ptr, src_pre, record, n_spikes):
    """Steps t_from.. until done, a strict-mode overflow, or a spike buffer that a full step
    might overflow; returns (next step, spike count). (Growing the buffers in here would cost
    the whole loop several times its speed.)"""
    start, params, u, v, ring = neurons.start, neurons.params, neurons.u, neurons.v, neurons.ring
    for t in range(t_from, steps):
        if n_spikes + u.size > record.spike_t.size:
            return t, n_spikes
        slot = t % ring.shape[0]
        n_touched = 0
        for p in range(start.size - 1):
            keep_u, keep_v, bias, vth = params[p, 0], params[p, 1], params[p, 2], params[p, 3]
            first_wrap = first_saturation = -1
            for i in range(start[p], start[p + 1]):
                u[i], v[i], wrapped, saturated, fired = lif_step(u[i], v[i], ring[slot, i],
                                                                 keep_u, keep_v, bias, vth)
                ring[slot, i] = 0
                if wrapped:
                    neurons.overflow[p, 0] += 1
                    if first_wrap < 0:
                        first_wrap = i - start[p]
                if saturated:
                    neurons.overflow[p, 1] += 1
                    if first_saturation < 0:
                        first_saturation = i - start[p]
                if fired:
                    record.spike_t[n_spikes] = t
                    record.spike_n[n_spikes] = i
                    n_spikes += 1
                    n_touched = deliver(syn, i, t, ring, n_touched)
            if strict and (first_wrap >= 0 or first_saturation >= 0):
                record.event[0], record.event[1] = p, t
                record.event[2], record.event[3] = ((0, first_wrap) if first_wrap >= 0
                                                    else (1, first_saturation))
                return t, n_spikes
        for k in range(src_ptr[t], src_ptr[t + 1]):
            n_touched = deliver(syn, src_pre[k], t, ring, n_touched)
        flush(syn, t, ring, n_touched)
        for c in range(record.probe_idx.size):
            j = record.probe_idx[c]
            record.trace[t, c] = u[j] if record.probe_var[c] == 0 else v[j]
    return steps, n_spikes
