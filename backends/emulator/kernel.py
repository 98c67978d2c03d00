"""The compiled part of the emulator: the integer step of every neuron model (LIF as Lava's
PyLifModelBitAcc and nmcompile's own bit-accurate LIF for the variants of DESIGN §2.5,
Izhikevich as nmcompile's fixed point of §2.6, adaptive LIF as Lava's PyATRLIFModelFixed of
§2.7) and event-driven delivery.

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache (compiled once per machine) is invalidated by this file's timestamp only, so code
or constants taken from another module would be served stale after an edit there.

Values are int64 scalars; wrap_int32 wraps them where numpy's int32 arithmetic in Lava's
models would (see lava_semantics.py for the list). A network whose populations are all plain
LIF runs `run_steps`, any other `run_steps_with_variants`: the same source, compiled without
and with the dispatch to the other population steps (model_population).

Every neuron's registers are a column of `state` (STATE_ROWS × neurons), one row per
register; what a row holds depends on the population's model (models/*.py: ROWS):

    row 0: LIF u, Izhikevich i, adaptive i      (the register synaptic input enters)
    row 1: v, in every model
    row 2: Izhikevich u, adaptive theta
    row 3: adaptive r
"""
from __future__ import annotations

from numba import njit

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
    """An int64 as numpy's int32 arithmetic would leave it: modulo 2^32 into [-2^31, 2^31)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@njit(cache=True)
def decay(x, keep):
    """x · keep / 4096 truncated toward zero: Lava's sign(x) · (|x · keep| >> 12) in int64."""
    p = x * keep
    return p >> DECAY_SHIFT if p >= 0 else -((-p) >> DECAY_SHIFT)


@njit(cache=True)
def input_register(u, summed_input, keep):
    """LIF's u, adaptive LIF's i: (decayed register + this step's input << 6 in int32,
    wrapped once into 24 bits, whether it wrapped). summed_input is the int64 sum of every
    projection's shifted input for this step; Lava's ports carry it as int32. The wrap is
    Lava's: above 2^23 loses 2^24, at or below −2^23 gains 2^24 (2^23 itself stays)."""
    curr = wrap_int32(decay(u, keep) + wrap_int32(wrap_int32(summed_input) << ACT_SHIFT))
    if curr > MAX_UV:
        return curr - 2 * MAX_UV, True
    if curr <= -MAX_UV:
        return curr + 2 * MAX_UV, True
    return curr, False


@njit(cache=True)
def membrane(v, keep_v, curr, bias):
    """LIF's and adaptive LIF's v: (decayed v + curr + bias in int32, clipped to
    ±(2^23 − 1), whether it was clipped)."""
    volt = wrap_int32(decay(v, keep_v) + curr + bias)
    saturated = volt > MAX_UV - 1 or volt < 1 - MAX_UV
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
def fire(i, t, ring, record, syn, n_spikes, n_touched):
    """Record neuron i's spike at step t and deliver it: (spike count, touched sums)."""
    record.spike_t[n_spikes] = t
    record.spike_n[n_spikes] = i
    return n_spikes + 1, deliver(syn, i, t, ring, n_touched)


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


@njit(cache=True, inline="always")
def variant_population(p, t, slot, neurons, record, syn, n_spikes, n_touched):
    """Step t of LIF population p with nmcompile's own bit-accurate LIF (DESIGN §2.5): a bias
    per neuron plus this step's current, refractory counters (steps each neuron stays
    refractory), subtract reset. Otherwise as the plain loop in run_steps; returns (spike
    count, touched sums, first overflow: 0 a wrap of u, 1 a saturation of v, and the neuron
    (a wrap reported before a saturation, as the plain loop), or -1s)."""
    params, overflow, ring, left = neurons.params, neurons.overflow, neurons.ring, \
        neurons.refractory_left
    bias, current = neurons.bias, neurons.current
    u, v = neurons.state[0], neurons.state[1]
    keep_u, keep_v, vth = params[p, KEEP_U], params[p, KEEP_V], params[p, VTH]
    refractory, subtract = params[p, REFRACTORY], params[p, SUBTRACT]
    has_current, shift = current_shift(neurons, p)
    first_wrap = first_saturation = -1
    for i in range(neurons.start[p], neurons.start[p + 1]):
        free = left[i] == 0
        if not free:
            left[i] -= 1
        b = drive(bias, current, t, i, has_current, shift)
        u[i], v[i], wrapped, saturated, fired = lif_step(u[i], v[i], ring[slot, i], keep_u,
                                                         keep_v, b, vth, free, subtract)
        ring[slot, i] = 0
        if wrapped:
            overflow[p, 0] += 1
            if first_wrap < 0:
                first_wrap = i - neurons.start[p]
        if saturated:
            overflow[p, 1] += 1
            if first_saturation < 0:
                first_saturation = i - neurons.start[p]
        if fired:
            left[i] = refractory
            n_spikes, n_touched = fire(i, t, ring, record, syn, n_spikes, n_touched)
    if first_wrap >= 0:
        return n_spikes, n_touched, 0, first_wrap
    return n_spikes, n_touched, 1 if first_saturation >= 0 else -1, first_saturation


@njit(cache=True, inline="always")
def izhikevich_population(p, t, slot, neurons, record, syn, n_spikes, n_touched):
    """Step t of Izhikevich population p in nmcompile's fixed point (DESIGN §2.6), int64
    throughout (bounded there), each register saturating at ±STATE_LIMIT:

        i  ← sat( D(i, keep_i) + a << 6 )          a: this step's input wrapped to int32
        I  ← i + bias + c[t]
        T  ← sat_LD( M(M(v, (v, F)), k0) + M(v, k1) + k2 − u + I )
        v' ← sat( v + M(T, dt) );   u' ← sat( u + M(M(v' − v_b, b) − M(u, g), dt_a) )
        spike where v' > v_peak: v ← c, u ← sat(u' + d)

    Returns (spike count, touched sums, first overflow: register 0 i, 1 v (T or v'), 2 u
    (u' or u' + d), and the neuron; its first register in step order; or -1s). Each counter
    counts at most once per neuron and step."""
    params, overflow, ring, lo = neurons.params, neurons.overflow, neurons.ring, neurons.start[p]
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
    kind = first = -1
    for n in range(lo, neurons.start[p + 1]):
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
        if kind < 0 and (i_saturated or v_saturated or u_saturated):
            kind, first = (0 if i_saturated else 1 if v_saturated else 2), n - lo
        if fired:
            n_spikes, n_touched = fire(n, t, ring, record, syn, n_spikes, n_touched)
    return n_spikes, n_touched, kind, first


@njit(cache=True, inline="always")
def adaptive_population(p, t, slot, neurons, record, syn, n_spikes, n_touched):
    """Step t of adaptive LIF population p: Lava's PyATRLIFModelFixed (DESIGN §2.7) with
    its int32 registers, plus nmcompile's current added to the effective bias:

        i ← as LIF's u (decay, input << 6, one wrap);  v ← as LIF's v (clipped)
        θ ← W( D(W(θ − θ_0), keep_θ) + θ_0 );  r ← D(r, keep_r)
        spike where W(v − r) ≥ θ: r ← W(r + 2θ), θ ← W(θ + θ_step)

    θ_0 and θ_step are the registers << 6; W wraps to int32 (θ and r never saturate).
    Returns (spike count, touched sums, first overflow: 0 a wrap of i, 1 a saturation of v,
    and the neuron; its first register in step order; or -1s)."""
    params, overflow, ring, lo = neurons.params, neurons.overflow, neurons.ring, neurons.start[p]
    bias, current = neurons.bias, neurons.current
    i_reg, v_reg = neurons.state[0], neurons.state[1]
    theta_reg, r_reg = neurons.state[2], neurons.state[3]
    keep_i, keep_v = params[p, KEEP_U], params[p, KEEP_V]
    keep_theta, keep_r = params[p, KEEP_THETA], params[p, KEEP_R]
    theta_0, theta_step = params[p, THETA_0], params[p, THETA_STEP]
    has_current, shift = current_shift(neurons, p)
    kind = first = -1
    for n in range(lo, neurons.start[p + 1]):
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
        if kind < 0 and (wrapped or saturated):
            kind, first = (0 if wrapped else 1), n - lo
        if fired:
            n_spikes, n_touched = fire(n, t, ring, record, syn, n_spikes, n_touched)
    return n_spikes, n_touched, kind, first


@njit(cache=True, inline="always")
def model_population(model, p, t, slot, neurons, record, syn, n_spikes, n_touched):
    """Step t of population p, which is not plain LIF: its model's own step.

    This and the population steps are inlined into the kernel by numba itself: called, each
    would take the kernel's two dozen arrays as arguments at every population and step
    (measured: 20-30 % of a small network's run on the variant path)."""
    if model == LIF_VARIANT:
        return variant_population(p, t, slot, neurons, record, syn, n_spikes, n_touched)
    if model == IZHIKEVICH:
        return izhikevich_population(p, t, slot, neurons, record, syn, n_spikes, n_touched)
    return adaptive_population(p, t, slot, neurons, record, syn, n_spikes, n_touched)


def _compile_run_steps(with_variants: bool):
    """run_steps, compiled twice from this one source: `with_variants` is a constant of the
    closure, so numba drops the dispatch to the other population steps from the kernel for
    networks of plain LIF only (measured: its mere presence slows the plain loop by
    10-15 %). numba caches each closure on disk by the closure's constant."""

    @njit(cache=True)
    def run_steps(t_from, steps, strict, neurons, syn, src_ptr, src_pre, record, n_spikes):
        """Steps t_from.. until done, a strict-mode overflow, or a spike buffer that a full
        step might overflow; returns (next step, spike count). (Growing the buffers in here
        would cost the whole loop several times its speed.)

        A plain LIF population (Lava's PyLifModelBitAcc: one bias for every neuron, no
        refractory period, zero reset, no current) runs the loop written out below: the
        hot path, free of the variants' per-neuron loads and tests. (Measured: moving it into
        a function, even one inlined, or its bookkeeping into helpers, costs it 5-10 %.)
        A strict-mode overflow is recorded in record.event as (population, step, index of
        the register in the model's OVERFLOW, neuron)."""
        start, params, model, overflow = (neurons.start, neurons.params, neurons.model,
                                          neurons.overflow)
        state, ring = neurons.state, neurons.ring
        u, v = state[0], state[1]
        registers = state.reshape(state.size)  # the probes' view: row · neurons + neuron
        for t in range(t_from, steps):
            if n_spikes + u.size > record.spike_t.size:
                return t, n_spikes
            slot = t % ring.shape[0]
            n_touched = 0
            for p in range(start.size - 1):
                if with_variants and model[p] != LIF_PLAIN:
                    n_spikes, n_touched, kind, neuron = model_population(
                        model[p], p, t, slot, neurons, record, syn, n_spikes, n_touched)
                    if strict and kind >= 0:
                        record.event[0], record.event[1] = p, t
                        record.event[2], record.event[3] = kind, neuron
                        return t, n_spikes
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
            for c in range(record.probe_at.size):
                record.trace[t, c] = registers[record.probe_at[c]]
        return steps, n_spikes

    return run_steps


run_steps = _compile_run_steps(False)                 # every population plain LIF
run_steps_with_variants = _compile_run_steps(True)    # some population is not
