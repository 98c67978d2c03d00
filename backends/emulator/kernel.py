"""The compiled part of the emulator: the integer step of every neuron model (LIF as Lava's
PyLifModelBitAcc and nmcompile's own bit-accurate LIF for the variants of DESIGN §2.5,
Izhikevich as nmcompile's fixed point of §2.6, adaptive LIF as Lava's PyATRLIFModelFixed of
§2.7), event-driven delivery, and the block loop that runs them on one or more workers.

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache (compiled once per machine) is invalidated by this file's timestamp only, so code
or constants taken from another module would be served stale after an edit there.

Values are int64 scalars; wrap_int32 wraps them where numpy's int32 arithmetic in Lava's
models would (see lava_semantics.py for the list). A network whose populations are all plain
LIF runs `run_blocks`, any other `run_blocks_with_variants`: the same source, compiled without
and with the dispatch to the other population steps (model_population); `…_threads` are the
same on threads.

Workers (threads) each own a contiguous range of neurons (engine.py: partition) and the
synapses onto them (synapses.py): a block of steps is one parallel region, in which each
worker delivers the previous block's spikes into its own neurons, then updates them.

Every neuron's registers are a column of `state` (STATE_ROWS × neurons), one row per
register; what a row holds depends on the population's model (models/*.py: ROWS):

    row 0: LIF u, Izhikevich i, adaptive i      (the register synaptic input enters)
    row 1: v, in every model
    row 2: Izhikevich u, adaptive theta
    row 3: adaptive r
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

DECAY_SHIFT = 12
MAX_UV = 1 << 23  # LIF's u and v, adaptive i and v are 24-bit registers
ACT_SHIFT = 6
STATE_ROWS = 4
# a population's model, as the kernel dispatches on it (models/*.py set it)
LIF_PLAIN, LIF_VARIANT, IZHIKEVICH, ADAPTIVE_LIF = range(4)
# columns of the per-population parameter table (models/*.py fill it through engine.py).
# LIF: BIAS is the effective bias of a population whose neurons all share it (the plain loop).
# KEEP_U is the input register's decay in every model (LIF u, Izhikevich i, adaptive i),
# KEEP_V v's (LIF, adaptive); CURRENT the first column of the population's current, or -1.
KEEP_U, KEEP_V, VTH, BIAS, REFRACTORY, SUBTRACT, CURRENT = range(7)
# Izhikevich: coefficients as (mantissa, shift) pairs, registers in state units, F, limits
(K0, K0_SHIFT, K1, K1_SHIFT, B, B_SHIFT, G, G_SHIFT, DT, DT_SHIFT, DT_A, DT_A_SHIFT, K2, V_B,
 V_PEAK, C, D, FRAC_BITS, STATE_LIMIT, DERIVATIVE_LIMIT) = range(7, 27)
# adaptive LIF: decays of theta and r (out of 4096), theta_0 << 6 and theta_step << 6
KEEP_THETA, KEEP_R, THETA_0, THETA_STEP = range(7, 11)
N_PARAMS = DERIVATIVE_LIMIT + 1
N_OVERFLOW = 3  # overflow counters per population, in the order of models/*.py: OVERFLOW


@njit(cache=True)
def wrap_int32(x):
    """An int64 as numpy's int32 arithmetic would leave it: modulo 2^32 into [-2^31, 2^31)
    (its low 32 bits, sign-extended: two shifts, no branch; an unsigned x is made int64
    first, or numba would shift it back without its sign)."""
    return (np.int64(x) << 32) >> 32


@njit(cache=True)
def decay(x, keep):
    """x · keep / 4096 truncated toward zero: Lava's sign(x) · (|x · keep| >> 12) in int64.
    Without a branch: a negative product plus 4095 floor-shifts to its truncation."""
    p = x * keep
    return (p + ((p >> 63) & ((1 << DECAY_SHIFT) - 1))) >> DECAY_SHIFT


@njit(cache=True)
def input_register(u, summed_input, keep):
    """LIF's u, adaptive LIF's i: (decayed register + this step's input << 6 in int32,
    wrapped once into 24 bits, whether it wrapped). summed_input is the int64 sum of every
    projection's shifted input for this step; Lava's ports carry it as int32. The wrap is
    Lava's: above 2^23 loses 2^24, at or below −2^23 gains 2^24 (2^23 itself stays)."""
    curr = wrap_int32(decay(u, keep) + wrap_int32(wrap_int32(summed_input) << ACT_SHIFT))
    above, below = curr > MAX_UV, curr <= -MAX_UV  # selects, not branches: vectorisable
    curr = curr - 2 * MAX_UV if above else curr
    return (curr + 2 * MAX_UV if below else curr), above | below


@njit(cache=True)
def membrane(v, keep_v, curr, bias):
    """LIF's and adaptive LIF's v: (decayed v + curr + bias in int32, clipped to
    ±(2^23 − 1), whether it was clipped)."""
    volt = wrap_int32(decay(v, keep_v) + curr + bias)
    saturated = (volt > MAX_UV - 1) | (volt < 1 - MAX_UV)
    return min(max(volt, 1 - MAX_UV), MAX_UV - 1), saturated


@njit(cache=True)
def lif_step(u, v, summed_input, keep_u, keep_v, bias, vth, free, subtract):
    """One LIF neuron, one step: (u, v, u wrapped, v saturated, spiked).

    bias is the effective bias plus this step's current (int32 wrap: v's own wrap covers it,
    the sum being taken modulo 2^32 either way). A neuron that is not free (refractory)
    updates u only: v is held and it cannot spike. vth is the threshold as compared
    (vth << 6)."""
    curr, wrapped = input_register(u, summed_input, keep_u)
    if not free:
        return curr, v, wrapped, False, False
    volt, saturated = membrane(v, keep_v, curr, bias)
    fired = volt > vth
    if fired:
        volt = volt - vth if subtract else 0
    return curr, volt, wrapped, saturated, fired


@njit(cache=True)
def saturate(x, limit):
    """(x clipped to ±limit, whether it was clipped)."""
    if x > limit:
        return limit, True
    if x < -limit:
        return -limit, True
    return x, False


@njit(cache=True)
def times(x, mantissa, shift):
    """M(x, (m, r)) of DESIGN §2.6: x · m / 2^r rounded to nearest, ties up (floor shift)."""
    if shift == 0:
        return x * mantissa
    return (x * mantissa + (1 << (shift - 1))) >> shift


@njit(cache=True)
def current_shift(neurons, p):
    """(whether population p has a current, s): neuron i's current is column i − s."""
    column = neurons.params[p, CURRENT]
    return column >= 0, neurons.start[p] - column


@njit(cache=True)
def drive(bias, current, t, i, has_current, shift):
    """Neuron i's per-neuron bias plus, if its population has one, its current at step t."""
    if has_current:
        return bias[i] + current[t, i - shift]
    return bias[i]



# columns of the per-projection table (synapses.py fills it): a synapse onto neuron `post` of
# the projection's post population (ring column POST_START + post) adds
# ((code + OFFSET) · SIGN) << SHIFT, into the ring directly (SUMMED 0) or into its step sum
# at SUM_BASE + (delay − DMIN) · POST_SIZE + post, floor-shifted right by SUM_SHIFT into the
# ring once the step's spikes are all in (SUMMED 1)
SHIFT, SIGN, OFFSET, SUMMED, SUM_SHIFT, SUM_BASE, DMIN, POST_START, POST_SIZE = range(9)
N_PROJECTION_COLUMNS = POST_SIZE + 1


@njit(cache=True, inline="always")
def ring_at(start, delay, width, post, size):
    """Where in the flat ring (rows × width registers, row after row, `size` in all) a synapse
    of delay `delay` onto ring column `post` lands, for a spike of the step whose row begins
    at `start`. The ring has the longest delay + 1 rows, no more (at full scale a power of 2
    would double its 20 MB past the caches), so the row wraps by a compare, not a mask
    (start + delay · width < 2 · size)."""
    at = start + delay * width + post
    return at - size if at >= size else at


@njit(cache=True, inline="always")
def deliver(syn, k, pre, start, flat, width):
    """Add the synapses of pre neuron `pre`, spiking at the step whose ring row begins at
    `start` of the flat ring, whose post worker k owns. A weight is code · scale + base, the
    projection's decode multiplied out. Segments are walked through views from 0 and the ring
    indexed unsigned, so that numba drops its negative-index checks (2.7 ns a synapse instead
    of 5.0, measured in L1)."""
    for g in range(syn.seg_ptr[k, pre], syn.seg_ptr[k, pre + 1]):
        p = syn.seg_proj[g]
        scale = syn.proj[p, SIGN] << syn.proj[p, SHIFT]
        base = syn.proj[p, OFFSET] * scale
        a, b = syn.seg_start[g], syn.seg_start[g + 1]
        post, delay, code = syn.post[a:b], syn.delay[a:b], syn.code[a:b]
        if syn.proj[p, SUMMED] == 0:
            first = start + syn.proj[p, POST_START]
            for i in range(b - a):
                at = ring_at(first, delay[i], width, post[i], flat.size)
                flat[np.uint64(at)] += code[i] * scale + base
        else:
            size = syn.proj[p, POST_SIZE]
            first = syn.proj[p, SUM_BASE] - syn.proj[p, DMIN] * size
            for i in range(b - a):
                syn.sums[np.uint64(first + delay[i] * size + post[i])] += code[i] * scale + base


@njit(cache=True, inline="always")
def flush(syn, k, pre, start, flat, width):
    """Shift the step sums that pre's summed synapses (worker k's) fed at the step whose ring
    row begins at `start` into the ring (arithmetic right shift: floor) and zero them; a sum
    met twice is zero the second time, and a zero sum adds nothing, so walking the step's
    spikes again finds them all."""
    for g in range(syn.seg_ptr[k, pre], syn.seg_ptr[k, pre + 1]):
        p = syn.seg_proj[g]
        if syn.proj[p, SUMMED] == 0:
            continue
        size, right = syn.proj[p, POST_SIZE], syn.proj[p, SUM_SHIFT]
        first = syn.proj[p, SUM_BASE] - syn.proj[p, DMIN] * size
        column = start + syn.proj[p, POST_START]
        a, b = syn.seg_start[g], syn.seg_start[g + 1]
        post, delay = syn.post[a:b], syn.delay[a:b]
        for i in range(b - a):
            at = np.uint64(first + delay[i] * size + post[i])
            if syn.sums[at] != 0:
                flat[np.uint64(ring_at(column, delay[i], width, post[i], flat.size))] += (
                    syn.sums[at] >> right)
                syn.sums[at] = 0


@njit(cache=True)
def deliver_block(k, b0, b1, previous, work, syn, src_ptr, src_pre, ring):
    """Worker k delivers every spike of steps b0 … b1−1 (every worker's, from buffer
    `previous`, and the sources') into the neurons it owns, step by step."""
    spikes, step_ptr = work.spike_n[previous], work.step_ptr[previous]
    rows, width = ring.shape
    flat = ring.reshape(rows * width)
    for s in range(b0, b1):
        start = (s % rows) * width
        for other in range(spikes.shape[0]):
            for x in range(step_ptr[other, s - b0], step_ptr[other, s - b0 + 1]):
                deliver(syn, k, spikes[other, x], start, flat, width)
        for x in range(src_ptr[s], src_ptr[s + 1]):
            deliver(syn, k, src_pre[x], start, flat, width)
        if syn.any_summed:
            for other in range(spikes.shape[0]):
                for x in range(step_ptr[other, s - b0], step_ptr[other, s - b0 + 1]):
                    flush(syn, k, spikes[other, x], start, flat, width)
            for x in range(src_ptr[s], src_ptr[s + 1]):
                flush(syn, k, src_pre[x], start, flat, width)


@njit(cache=True, inline="always")
def note(first, p, kind, neuron):
    """Strict mode: the first neuron (of population p) whose register `kind` overflowed."""
    if first[p, kind] < 0:
        first[p, kind] = neuron


@njit(cache=True)
def plain_range(u, v, row, keep_u, keep_v, bias, vth, fired):
    """Steps neurons u, v (views of one range) on their input `row`, with one bias and zero
    reset, marking who spiked in `fired`: no branch and no store that depends on a neuron,
    so the compiler vectorises it. Returns (wraps, saturations, spikes)."""
    wraps = saturations = spikes = 0
    for i in range(u.size):
        curr, wrapped = input_register(u[i], row[i], keep_u)
        volt, saturated = membrane(v[i], keep_v, curr, bias)
        spiked = volt > vth
        u[i], v[i], row[i], fired[i] = curr, (0 if spiked else volt), 0, spiked
        wraps += wrapped
        saturations += saturated
        spikes += spiked
    return wraps, saturations, spikes


@njit(cache=True, inline="always")
def plain_population(p, lo, hi, slot, neurons, overflow, first, strict, out, n_out):
    """Neurons lo … hi−1 of plain LIF population p (Lava's PyLifModelBitAcc: one bias for
    every neuron, no refractory period, zero reset, no current), one step: the hot path,
    free of the variants' per-neuron loads and tests. Returns (spikes in `out`, overflowed).

    Outside strict mode the step is plain_range's vector loop, then the (few) spiking
    neurons are listed from its marks; strict mode, which must name the first neuron that
    overflowed, steps them one by one."""
    params, ring, u, v = neurons.params, neurons.ring, neurons.state[0], neurons.state[1]
    keep_u, keep_v, vth = params[p, KEEP_U], params[p, KEEP_V], params[p, VTH]
    same_bias, start = params[p, BIAS], neurons.start[p]
    if not strict:
        fired = neurons.fired[lo:hi]
        wraps, saturations, spikes = plain_range(u[lo:hi], v[lo:hi], ring[slot, lo:hi],
                                                 keep_u, keep_v, same_bias, vth, fired)
        for i in range(hi - lo if spikes else 0):
            if fired[i]:
                out[n_out] = lo + i
                n_out += 1
        overflow[p, 0] += wraps
        overflow[p, 1] += saturations
        return n_out, wraps + saturations > 0
    wraps = saturations = 0
    for i in range(lo, hi):
        u[i], v[i], wrapped, saturated, fired_ = lif_step(u[i], v[i], ring[slot, i], keep_u,
                                                          keep_v, same_bias, vth, True, 0)
        ring[slot, i] = 0
        wraps += wrapped
        saturations += saturated
        if wrapped:
            note(first, p, 0, i - start)
        if saturated:
            note(first, p, 1, i - start)
        if fired_:
            out[n_out] = i
            n_out += 1
    overflow[p, 0] += wraps
    overflow[p, 1] += saturations
    return n_out, wraps + saturations > 0


@njit(cache=True, inline="always")
def variant_population(p, lo, hi, t, slot, neurons, overflow, first, strict, out, n_out):
    """Neurons lo … hi−1 of LIF population p, step t, with nmcompile's own bit-accurate LIF
    (DESIGN §2.5): a bias per neuron plus this step's current, refractory counters (steps
    each neuron stays refractory), subtract reset. Otherwise as plain_population."""
    params, ring, left = neurons.params, neurons.ring, neurons.refractory_left
    bias, current = neurons.bias, neurons.current
    u, v = neurons.state[0], neurons.state[1]
    keep_u, keep_v, vth = params[p, KEEP_U], params[p, KEEP_V], params[p, VTH]
    refractory, subtract = params[p, REFRACTORY], params[p, SUBTRACT]
    has_current, shift = current_shift(neurons, p)
    start = neurons.start[p]
    wraps = saturations = 0
    for i in range(lo, hi):
        free = left[i] == 0
        if not free:
            left[i] -= 1
        b = drive(bias, current, t, i, has_current, shift)
        u[i], v[i], wrapped, saturated, fired = lif_step(u[i], v[i], ring[slot, i], keep_u,
                                                         keep_v, b, vth, free, subtract)
        ring[slot, i] = 0
        wraps += wrapped
        saturations += saturated
        if strict and wrapped:
            note(first, p, 0, i - start)
        if strict and saturated:
            note(first, p, 1, i - start)
        if fired:
            left[i] = refractory
            out[n_out] = i
            n_out += 1
    overflow[p, 0] += wraps
    overflow[p, 1] += saturations
    return n_out, wraps + saturations > 0


@njit(cache=True, inline="always")
def izhikevich_population(p, lo, hi, t, slot, neurons, overflow, first, strict, out, n_out):
    """Neurons lo … hi−1 of Izhikevich population p, step t, in nmcompile's fixed point
    (DESIGN §2.6), int64 throughout (bounded there), each register saturating at
    ±STATE_LIMIT:

        i  ← sat( D(i, keep_i) + a << 6 )          a: this step's input wrapped to int32
        I  ← i + bias + c[t]
        T  ← sat_LD( M(M(v, (v, F)), k0) + M(v, k1) + k2 − u + I )
        v' ← sat( v + M(T, dt) );   u' ← sat( u + M(M(v' − v_b, b) − M(u, g), dt_a) )
        spike where v' > v_peak: v ← c, u ← sat(u' + d)

    Overflow kinds: 0 i, 1 v (T or v'), 2 u (u' or u' + d); each counts at most once per
    neuron and step."""
    params, ring, start = neurons.params, neurons.ring, neurons.start[p]
    bias, current = neurons.bias, neurons.current
    i_reg, v_reg, u_reg = neurons.state[0], neurons.state[1], neurons.state[2]
    keep_i, frac = params[p, KEEP_U], params[p, FRAC_BITS]
    k0, k0_shift = params[p, K0], params[p, K0_SHIFT]
    k1, k1_shift = params[p, K1], params[p, K1_SHIFT]
    b, b_shift, g, g_shift = params[p, B], params[p, B_SHIFT], params[p, G], params[p, G_SHIFT]
    dt, dt_shift, dt_a, dt_a_shift = (params[p, DT], params[p, DT_SHIFT], params[p, DT_A],
                                      params[p, DT_A_SHIFT])
    k2, v_b, v_peak, c, d = params[p, K2], params[p, V_B], params[p, V_PEAK], params[p, C], \
        params[p, D]
    limit, derivative_limit = params[p, STATE_LIMIT], params[p, DERIVATIVE_LIMIT]
    has_current, shift = current_shift(neurons, p)
    any_overflow = False
    for n in range(lo, hi):
        a = wrap_int32(ring[slot, n])
        ring[slot, n] = 0
        i, i_saturated = saturate(decay(i_reg[n], keep_i) + (a << ACT_SHIFT), limit)
        v, u = v_reg[n], u_reg[n]
        derivative, t_saturated = saturate(
            times(times(v, v, frac), k0, k0_shift) + times(v, k1, k1_shift) + k2 - u
            + i + drive(bias, current, t, n, has_current, shift), derivative_limit)
        v_new, v_saturated = saturate(v + times(derivative, dt, dt_shift), limit)
        v_saturated = v_saturated or t_saturated
        u_new, u_saturated = saturate(
            u + times(times(v_new - v_b, b, b_shift) - times(u, g, g_shift), dt_a, dt_a_shift),
            limit)
        fired = v_new > v_peak
        if fired:
            v_new = c
            u_new, reset_saturated = saturate(u_new + d, limit)
            u_saturated = u_saturated or reset_saturated
        i_reg[n], v_reg[n], u_reg[n] = i, v_new, u_new
        overflow[p, 0] += i_saturated
        overflow[p, 1] += v_saturated
        overflow[p, 2] += u_saturated
        if i_saturated or v_saturated or u_saturated:
            any_overflow = True
            if strict:
                if i_saturated:
                    note(first, p, 0, n - start)
                if v_saturated:
                    note(first, p, 1, n - start)
                if u_saturated:
                    note(first, p, 2, n - start)
        if fired:
            out[n_out] = n
            n_out += 1
    return n_out, any_overflow


@njit(cache=True, inline="always")
def adaptive_population(p, lo, hi, t, slot, neurons, overflow, first, strict, out, n_out):
    """Neurons lo … hi−1 of adaptive LIF population p, step t: Lava's PyATRLIFModelFixed
    (DESIGN §2.7) with its int32 registers, plus nmcompile's current added to the effective
    bias:

        i ← as LIF's u (decay, input << 6, one wrap);  v ← as LIF's v (clipped)
        θ ← W( D(W(θ − θ_0), keep_θ) + θ_0 );  r ← D(r, keep_r)
        spike where W(v − r) ≥ θ: r ← W(r + 2θ), θ ← W(θ + θ_step)

    θ_0 and θ_step are the registers << 6; W wraps to int32 (θ and r never saturate).
    Overflow kinds: 0 a wrap of i, 1 a saturation of v."""
    params, ring, start = neurons.params, neurons.ring, neurons.start[p]
    bias, current = neurons.bias, neurons.current
    i_reg, v_reg = neurons.state[0], neurons.state[1]
    theta_reg, r_reg = neurons.state[2], neurons.state[3]
    keep_i, keep_v = params[p, KEEP_U], params[p, KEEP_V]
    keep_theta, keep_r = params[p, KEEP_THETA], params[p, KEEP_R]
    theta_0, theta_step = params[p, THETA_0], params[p, THETA_STEP]
    has_current, shift = current_shift(neurons, p)
    any_overflow = False
    for n in range(lo, hi):
        i, wrapped = input_register(i_reg[n], ring[slot, n], keep_i)
        ring[slot, n] = 0
        v, saturated = membrane(v_reg[n], keep_v, i, drive(bias, current, t, n, has_current, shift))
        theta = wrap_int32(decay(wrap_int32(theta_reg[n] - theta_0), keep_theta) + theta_0)
        r = decay(r_reg[n], keep_r)
        fired = wrap_int32(v - r) >= theta
        if fired:
            r = wrap_int32(r + 2 * theta)
            theta = wrap_int32(theta + theta_step)
        i_reg[n], v_reg[n], theta_reg[n], r_reg[n] = i, v, theta, r
        overflow[p, 0] += wrapped
        overflow[p, 1] += saturated
        if wrapped or saturated:
            any_overflow = True
            if strict and wrapped:
                note(first, p, 0, n - start)
            if strict and saturated:
                note(first, p, 1, n - start)
        if fired:
            out[n_out] = n
            n_out += 1
    return n_out, any_overflow


@njit(cache=True, inline="always")
def model_population(model, p, lo, hi, t, slot, neurons, overflow, first, strict, out, n_out):
    """Neurons lo … hi−1 of population p, which is not plain LIF: its model's own step.

    This and the population steps are inlined by numba itself: called, each would take the
    kernel's arrays as arguments at every population and step (measured: 20-30 % of a small
    network's run on the variant path)."""
    if model == LIF_VARIANT:
        return variant_population(p, lo, hi, t, slot, neurons, overflow, first, strict, out,
                                  n_out)
    if model == IZHIKEVICH:
        return izhikevich_population(p, lo, hi, t, slot, neurons, overflow, first, strict,
                                     out, n_out)
    return adaptive_population(p, lo, hi, t, slot, neurons, overflow, first, strict, out,
                               n_out)


def _compile_update(with_variants: bool):
    """update_block, compiled from this one source with and without the dispatch to the
    population steps of other models than plain LIF (`with_variants`, a constant of the
    closure: numba drops the dispatch for networks of plain LIF, whose mere presence slows
    the plain loop by 10-15 %). numba caches each closure on disk by its constant, as long as
    the closure holds only constants: compiled functions are referred to as globals."""

    @njit(cache=True)
    def update_block(k, b0, b1, strict, current_buffer, neurons, work, record):
        """Worker k steps its neurons through steps b0 … b1−1 (no spike of these steps can
        reach a neuron before b1: every delay is ≥ the block), listing their spikes in
        buffer `current_buffer`, step by step, and recording its probes. In strict mode it
        stops after the first step in which a register of its neurons overflowed."""
        start, model = neurons.start, neurons.model
        lo, hi = work.bounds[k], work.bounds[k + 1]
        out, step_ptr = work.spike_n[current_buffer, k], work.step_ptr[current_buffer, k]
        overflow, first = work.overflow[k], work.first[k]
        state, width = neurons.state, neurons.state.shape[1]
        n_out = 0
        step_ptr[0] = 0
        for t in range(b0, b1):
            slot = t % neurons.ring.shape[0]
            overflowed = False
            for p in range(work.first_population[k], start.size - 1):
                if start[p] >= hi:
                    break
                a, b = max(lo, start[p]), min(hi, start[p + 1])
                if with_variants and model[p] != LIF_PLAIN:
                    n_out, any_overflow = model_population(model[p], p, a, b, t, slot, neurons,
                                                           overflow, first, strict, out, n_out)
                else:
                    n_out, any_overflow = plain_population(p, a, b, slot, neurons, overflow,
                                                           first, strict, out, n_out)
                overflowed = overflowed or any_overflow
            for c in range(work.probe_ptr[k], work.probe_ptr[k + 1]):
                column = work.probe_column[c]
                at = record.probe_at[column]  # row · neurons + neuron
                record.trace[t, column] = state[at // width, at % width]
            step_ptr[t - b0 + 1] = n_out
            if strict and overflowed:
                work.event_step[k] = t
                for rest in range(t + 1, b1):
                    step_ptr[rest - b0 + 1] = n_out
                return


    return update_block


update_block_plain = _compile_update(False)
update_block_variants = _compile_update(True)


def _compile(with_variants: bool, parallel: bool):
    """The block loop, compiled from this one source for each pair of constants of the
    closure: `with_variants` (which update_block it calls) and `parallel` (workers on
    threads, or one after the other on one). numba's disk cache keys a closure by the values
    of the constants its body names, not by its njit options: run_blocks names `parallel`,
    or the cache would serve the one-thread kernel for the threaded one, or the reverse
    (results are the same, so only the speed would tell)."""

    @njit(cache=True, parallel=parallel)
    def run_blocks(t_from, steps, block, strict, neurons, syn, src_ptr, src_pre, work, record,
                   n_spikes, w0, w1, one_block):
        """Blocks of `block` steps from t_from until done, a strict-mode overflow, a spike
        buffer a full block might overflow, or (one_block) after one block; returns (next
        step, spike count). This process runs workers w0 … w1−1 of work.bounds; with several
        processes (MPI) the others' spike lists of the last block are filled in between calls.

        In each block, every worker (in parallel) first delivers the previous block's spikes
        (every worker's) into the neurons it owns, then steps them through the block: no
        worker writes another's neurons, and integer sums do not depend on their order, so
        any number of workers gives the same registers. This process's spikes are appended to
        the record step by step, worker after worker: in neuron order, as one worker would
        list them."""
        threaded = parallel  # a cell of the closure: see _compile
        ring = neurons.ring
        t = t_from
        while t < steps:
            b1 = min(t + block, steps)
            if n_spikes + (b1 - t) * ring.shape[1] > record.spike_t.size:
                return t, n_spikes
            current_buffer = (t // block) & 1
            for i in prange(w1 - w0):
                k = w0 + i
                if t > 0:
                    deliver_block(k, max(t - block, 0), t, 1 - current_buffer, work, syn,
                                  src_ptr, src_pre, ring)
                if with_variants:
                    update_block_variants(k, t, b1, strict, current_buffer, neurons, work,
                                          record)
                else:
                    update_block_plain(k, t, b1, strict, current_buffer, neurons, work, record)
            for s in range(t, b1):
                for k in range(w0, w1):
                    for x in range(work.step_ptr[current_buffer, k, s - t],
                                   work.step_ptr[current_buffer, k, s - t + 1]):
                        record.spike_t[n_spikes] = s
                        record.spike_n[n_spikes] = work.spike_n[current_buffer, k, x]
                        n_spikes += 1
            if one_block or (strict and work.event_step.max() >= 0):
                return b1, n_spikes
            t = b1
        return steps, n_spikes

    return run_blocks


run_blocks = _compile(False, False)                      # plain LIF only, one worker
run_blocks_with_variants = _compile(True, False)         # some population is not
run_blocks_threads = _compile(False, True)               # the same on threads
run_blocks_threads_with_variants = _compile(True, True)
