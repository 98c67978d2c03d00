"""The compiled part of the emulator: the integer LIF step (Lava's PyLifModelBitAcc, and
nmcompile's own bit-accurate LIF for the variants of DESIGN §2.5) and event-driven delivery.

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache (compiled once per machine) is invalidated by this file's timestamp only, so code
or constants taken from another module would be served stale after an edit there.

Values are int64 scalars; wrap_int32 wraps them where numpy's int32 arithmetic in Lava's
PyLifModelBitAcc would (see lava_semantics.py for the list). A network whose populations are
all plain runs `run_steps`, one with a variant population `run_steps_with_variants`: the same
source, compiled without and with the variant path (variant_population).
"""
from __future__ import annotations

from numba import njit

DECAY_SHIFT = 12
MAX_UV = 1 << 23  # u and v are 24-bit registers
ACT_SHIFT = 6
# columns of the per-population parameter table (models/lif.py fills it through engine.py);
# BIAS is the effective bias of a population whose neurons all share it (the plain loop)
KEEP_U, KEEP_V, VTH, BIAS, REFRACTORY, SUBTRACT, CURRENT = range(7)
N_PARAMS = CURRENT + 1


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
def lif_step(u, v, summed_input, keep_u, keep_v, bias, vth, free, subtract):
    """One neuron, one step: (u, v, u wrapped, v saturated, spiked).

    summed_input is the int64 sum of every projection's shifted input for this step; bias
    is the effective bias plus this step's current (int32 wrap: v's own wrap covers it, the
    sum being taken modulo 2^32 either way). A neuron that is not free (refractory) updates
    u only: v is held and it cannot spike. vth is the threshold as compared (vth << 6)."""
    a_in = wrap_int32(summed_input)  # Lava's ports carry int32
    curr = wrap_int32(decay(u, keep_u) + wrap_int32(a_in << ACT_SHIFT))
    wrapped = curr > MAX_UV or curr <= -MAX_UV
    if curr > MAX_UV:
        curr -= 2 * MAX_UV
    elif curr <= -MAX_UV:
        curr += 2 * MAX_UV
    if not free:
        return curr, v, wrapped, False, False
    volt = wrap_int32(decay(v, keep_v) + curr + bias)
    saturated = volt > MAX_UV - 1 or volt < 1 - MAX_UV
    volt = min(max(volt, 1 - MAX_UV), MAX_UV - 1)
    fired = volt > vth
    if fired:
        volt = volt - vth if subtract else 0
    return curr, volt, wrapped, saturated, fired


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
def variant_population(p, t, slot, start, params, u, v, ring, overflow, record, syn, n_spikes,
                       n_touched, bias, left, current):
    """Step t of population p with nmcompile's own bit-accurate LIF (DESIGN §2.5): a bias
    per neuron (`bias`) plus this step's `current`, refractory counters (`left`: steps each
    neuron stays refractory), subtract reset. Otherwise as the plain loop in run_steps;
    returns (spike count, touched sums, first neuron that wrapped u, that saturated v)."""
    keep_u, keep_v, vth = params[p, KEEP_U], params[p, KEEP_V], params[p, VTH]
    refractory, subtract = params[p, REFRACTORY], params[p, SUBTRACT]
    has_current = params[p, CURRENT] >= 0
    shift = start[p] - params[p, CURRENT]  # neuron i's current is column i - shift
    first_wrap = first_saturation = -1
    for i in range(start[p], start[p + 1]):
        b = bias[i] + current[t, i - shift] if has_current else bias[i]
        free = left[i] == 0
        if not free:
            left[i] -= 1
        u[i], v[i], wrapped, saturated, fired = lif_step(u[i], v[i], ring[slot, i], keep_u,
                                                         keep_v, b, vth, free, subtract)
        ring[slot, i] = 0
        if wrapped:
            overflow[p, 0] += 1
            if first_wrap < 0:
                first_wrap = i - start[p]
        if saturated:
            overflow[p, 1] += 1
            if first_saturation < 0:
                first_saturation = i - start[p]
        if fired:
            left[i] = refractory
            record.spike_t[n_spikes] = t
            record.spike_n[n_spikes] = i
            n_spikes += 1
            n_touched = deliver(syn, i, t, ring, n_touched)
    return n_spikes, n_touched, first_wrap, first_saturation


def _compile_run_steps(with_variants: bool):
    """run_steps, compiled twice from this one source: `with_variants` is a constant of the
    closure, so numba drops the variant branch from the kernel for networks without variant
    populations (measured: its mere presence slows the plain loop by 10-15 %). numba caches
    each closure on disk by the closure's constant."""

    @njit(cache=True)
    def run_steps(t_from, steps, strict, neurons, syn, src_ptr, src_pre, record, n_spikes):
        """Steps t_from.. until done, a strict-mode overflow, or a spike buffer that a full
        step might overflow; returns (next step, spike count). (Growing the buffers in here
        would cost the whole loop several times its speed.)

        A population without variants (Lava's PyLifModelBitAcc: one bias for every neuron,
        no refractory period, zero reset, no current) runs the loop written out below: the
        hot path, free of the variants' per-neuron loads and tests. (Measured: moving it into
        a function, even one inlined, or its bookkeeping into helpers, costs it 5-10 %.)"""
        start, params, variant, overflow = (neurons.start, neurons.params, neurons.variant,
                                            neurons.overflow)
        u, v, ring, bias = neurons.u, neurons.v, neurons.ring, neurons.bias
        left, current = neurons.refractory_left, neurons.current
        for t in range(t_from, steps):
            if n_spikes + u.size > record.spike_t.size:
                return t, n_spikes
            slot = t % ring.shape[0]
            n_touched = 0
            for p in range(start.size - 1):
                if with_variants and variant[p]:
                    n_spikes, n_touched, first_wrap, first_saturation = variant_population(
                        p, t, slot, start, params, u, v, ring, overflow, record, syn,
                        n_spikes, n_touched, bias, left, current)
                else:
                    keep_u, keep_v, vth = params[p, KEEP_U], params[p, KEEP_V], params[p, VTH]
                    same_bias = params[p, BIAS]
                    first_wrap = first_saturation = -1
                    for i in range(start[p], start[p + 1]):
                        u[i], v[i], wrapped, saturated, fired = lif_step(
                            u[i], v[i], ring[slot, i], keep_u, keep_v, same_bias, vth, True, 0)
                        ring[slot, i] = 0
                        if wrapped:
                            overflow[p, 0] += 1
                            if first_wrap < 0:
                                first_wrap = i - start[p]
                        if saturated:
                            overflow[p, 1] += 1
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

    return run_steps


run_steps = _compile_run_steps(False)                 # every population plain
run_steps_with_variants = _compile_run_steps(True)    # some population has a variant
