"""The compiled part of the float emulator: the float64 step of every neuron model, and
delivery of spikes in the order in which Brian2 adds them (DESIGN §2; engine.py says why).

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache (compiled once per machine) is invalidated by this file's timestamp only, so code
or constants taken from another module would be served stale after an edit there. No
function here asks for fastmath: every float operation is the IEEE one written, in the
order written (no reassociation, no fused multiply-add), as Brian2's compiled code with
`-fno-fast-math -ffp-contract=off` and numpy compute it.

A step t is three phases, each a function of its own so that threads and ranks each run the
first two on their own range of neurons:

    deliver(t, lo, hi)   add the weights arriving at step t into acc[lo:hi]
    update(t, lo, hi)    neurons lo..hi-1 take acc (a[t]) and step; their spikes are listed
    push(t)              every spike of step t (neurons, then sources, in index order) is
                         queued once per (channel, delay) segment of its synapses

Every delay is >= 1 step, so a step's deliveries need only spikes of earlier steps, and the
kernel runs blocks of B steps, B the shortest delay (run_steps): a spike of the block can
reach no neuron before the next one. Workers own contiguous ranges of neurons (engine.py:
partition.split); in each block every worker (one per thread, prange) delivers and updates
its range step after step, listing its spikes per step (step_range). Then, on one thread,
the block's queue rows are emptied and, at the start of the next block, every spike of the
block is pushed (push_block): step by step, worker after worker, then the sources, i.e. in
index order, as one worker would push them. With MPI ranks each process runs its own
workers, the ranks exchange the block's spike lists between blocks (engine.py), and every
process pushes every spike into its own queue: the synapse table of a process holds only
the synapses onto its neurons, so it queues only those.

Synapses (placed by scatter, cut by segments) are sorted by pre neuron, then channel, then
delay: one run of synapses per (pre, channel, delay) is a *segment*; within one, synapses
are sorted by post (synapses onto one post keep Brian2's order), so a range of posts is a
contiguous run of it. The queue holds, per channel and arrival step, the segments in the
order they were pushed (step, then pre neuron); delivery walks channels in order, then that
list: per post neuron, the order of its inputs does not depend on how neurons are split
into ranges, so any count of threads and ranks gives the same floats, bit for bit.

Every neuron's state is a column of `state` (STATE_ROWS × neurons), one row per variable
(models/*.py: ROWS): row 0 the variable input enters (LIF u, Izhikevich i, adaptive i),
row 1 v, row 2 Izhikevich u or adaptive theta, row 3 adaptive r.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

STATE_ROWS = 4
# a population's model (models/*.py: MODEL)
LIF, IZHIKEVICH, ADAPTIVE_LIF = range(3)
# columns of the per-population float table: LIF, then Izhikevich, then adaptive LIF
U_KEEP, V_KEEP, V_TH = range(3)          # 1 - du, 1 - dv, v_th
I_KEEP = U_KEEP                          # Izhikevich and adaptive: 1 - di
B, C, D, K0, K1, K2, V_B, G, V_PEAK, H, H_A = range(1, 12)   # H = dt, H_A = dt·a
THETA_KEEP, R_KEEP, THETA_0, THETA_STEP = range(2, 6)        # adaptive (V_KEEP as LIF)
N_FLOATS = 12
# columns of the per-population integer table
REFRACTORY, SUBTRACT, CURRENT = range(3)  # steps; 1 for reset: subtract; first current column or -1
N_INTS = 3


@njit(cache=True)
def drive(bias, current, t, i, column):
    """bias + c_ext[t] of neuron i (column: its column of `current`, or -1 for none): Brian2's
    `b = bias + c_ext(t, i)`, and bias itself without a current."""
    if column < 0:
        return bias[i]
    return bias[i] + current[t, column]


@njit(cache=True, inline="always")
def lif_range(p, lo, hi, t, fp, ip, start, bias, state, left, current, acc, fired, n_fired):
    """Step t of LIF neurons lo..hi-1 of population p, the brian2 backend's statements one by
    one (backends/brian2/models/lif.py):

        u = u·u_keep;  u = u + a
        refractory 0:   v = v·v_keep;  v = v + u;  v = v + b;          spike v > v_th
        refractory, zero reset:  u_bias = (u + b)·free;  v = v·v_keep + u_bias
        refractory, subtract:    u_bias = (u + b)·free;  v = v·(v_keep·free + held) + u_bias;
                                 spike v > v_th and free
        reset v = 0 (or v - v_th); refractory counter = refractory

    free is 1.0 when the counter is 0 at the start of the step, else 0.0 (held = 1 - free).
    Spiking neurons are appended to fired[n_fired:]; returns the new count."""
    u_keep, v_keep, v_th = fp[p, U_KEEP], fp[p, V_KEEP], fp[p, V_TH]
    refractory, subtract = ip[p, REFRACTORY], ip[p, SUBTRACT]
    first_column = ip[p, CURRENT]
    u_row, v_row = state[0], state[1]
    for i in range(lo, hi):
        u = u_row[i] * u_keep
        u = u + acc[i]
        acc[i] = 0.0
        b = drive(bias, current, t, i, first_column + i - start if first_column >= 0 else -1)
        v = v_row[i]
        if refractory == 0:
            v = v * v_keep
            v = v + u
            v = v + b
            spiked = v > v_th
        else:
            free = 1.0 if left[i] == 0 else 0.0
            u_bias = u + b
            u_bias = u_bias * free
            if subtract:
                v_scale = v_keep * free
                v_scale = v_scale + (1.0 - free)
                v = v * v_scale
            else:
                v = v * v_keep
            v = v + u_bias
            spiked = v > v_th and (free == 1.0 or not subtract)
            if left[i] > 0:
                left[i] -= 1
        if spiked:
            v = v - v_th if subtract else 0.0
            left[i] = refractory
            fired[n_fired] = i
            n_fired += 1
        u_row[i], v_row[i] = u, v
    return n_fired


@njit(cache=True, inline="always")
def izhikevich_range(p, lo, hi, t, fp, ip, start, bias, state, current, acc, fired, n_fired):
    """Step t of Izhikevich neurons lo..hi-1 of population p (DESIGN §2.6), the brian2
    backend's statements one by one (backends/brian2/models/izhikevich.py):

        i = i·i_keep;  i = i + a;  drive = (i + bias) [+ c_ext]
        q = ((((k0·(v·v)) + k1·v) + k2) - u) + drive;  v' = v + h·q
        x = ((b·(v' - v_b)) - g·u);  u' = u + h_a·x
        spike v' > v_peak: v = c, u = u' + d"""
    i_keep, b, c, d = fp[p, I_KEEP], fp[p, B], fp[p, C], fp[p, D]
    k0, k1, k2, v_b, g = fp[p, K0], fp[p, K1], fp[p, K2], fp[p, V_B], fp[p, G]
    v_peak, h, h_a = fp[p, V_PEAK], fp[p, H], fp[p, H_A]
    first_column = ip[p, CURRENT]
    i_row, v_row, u_row = state[0], state[1], state[2]
    for n in range(lo, hi):
        i = i_row[n] * i_keep
        i = i + acc[n]
        acc[n] = 0.0
        total = i + bias[n]
        if first_column >= 0:
            total = total + current[t, first_column + n - start]
        v, u = v_row[n], u_row[n]
        q = v * v
        q = k0 * q
        q = q + k1 * v
        q = q + k2
        q = q - u
        q = q + total
        q = h * q
        v_new = v + q
        x = v_new - v_b
        x = b * x
        x = x - g * u
        x = h_a * x
        u_new = u + x
        if v_new > v_peak:
            v_new = c
            u_new = u_new + d
            fired[n_fired] = n
            n_fired += 1
        i_row[n], v_row[n], u_row[n] = i, v_new, u_new
    return n_fired


@njit(cache=True, inline="always")
def adaptive_range(p, lo, hi, t, fp, ip, start, bias, state, current, acc, fired, n_fired):
    """Step t of adaptive LIF neurons lo..hi-1 of population p (DESIGN §2.7, Lava's
    PyATRLIFModelFloat), the brian2 backend's statements one by one
    (backends/brian2/models/adaptive_lif.py):

        i = i_keep·i + a;  v = ((v_keep·v) + i) + b
        theta = theta_keep·(theta - theta_0) + theta_0;  r = r_keep·r
        spike (v - r) >= theta: r = r + 2·theta, then theta = theta + theta_step"""
    i_keep, v_keep = fp[p, I_KEEP], fp[p, V_KEEP]
    theta_keep, r_keep = fp[p, THETA_KEEP], fp[p, R_KEEP]
    theta_0, theta_step = fp[p, THETA_0], fp[p, THETA_STEP]
    first_column = ip[p, CURRENT]
    i_row, v_row, theta_row, r_row = state[0], state[1], state[2], state[3]
    for n in range(lo, hi):
        i = i_keep * i_row[n]
        i = i + acc[n]
        acc[n] = 0.0
        v = v_keep * v_row[n]
        v = v + i
        v = v + drive(bias, current, t, n, first_column + n - start if first_column >= 0 else -1)
        theta = theta_row[n] - theta_0
        theta = theta_keep * theta
        theta = theta + theta_0
        r = r_keep * r_row[n]
        if v - r >= theta:
            r = r + 2.0 * theta
            theta = theta + theta_step
            fired[n_fired] = n
            n_fired += 1
        i_row[n], v_row[n], theta_row[n], r_row[n] = i, v, theta, r
    return n_fired


@njit(cache=True)
def update(t, lo, hi, neurons):
    """Step t of neurons lo..hi-1 (any populations): each takes its input from acc and
    clears it; the spiking ones are listed in neurons.fired[lo:lo + count], in index order.
    Returns count. Ranges that do not overlap touch disjoint memory."""
    start, model, fp, ip = neurons.start, neurons.model, neurons.floats, neurons.ints
    bias, state, current, acc = neurons.bias, neurons.state, neurons.current, neurons.acc
    n_fired = lo
    for p in range(model.size):
        a, b = max(lo, start[p]), min(hi, start[p + 1])
        if a >= b:
            continue
        if model[p] == LIF:
            n_fired = lif_range(p, a, b, t, fp, ip, start[p], bias, state, neurons.left,
                                current, acc, neurons.fired, n_fired)
        elif model[p] == IZHIKEVICH:
            n_fired = izhikevich_range(p, a, b, t, fp, ip, start[p], bias, state, current,
                                       acc, neurons.fired, n_fired)
        else:
            n_fired = adaptive_range(p, a, b, t, fp, ip, start[p], bias, state, current, acc,
                                     neurons.fired, n_fired)
    return n_fired - lo


@njit(cache=True)
def deliver(t, lo, hi, syn, length, queue, acc):
    """Add every weight arriving at step t whose post neuron is in lo..hi-1 into acc: channel
    by channel, each channel's segments in the order pushed, each segment's synapses in order.
    The queue is row channel · R + (arrival step mod R) of `queue`, its first length[row]
    entries; deliver only reads it (clear_arrival empties it once every range has its part)."""
    slots = length.size // syn.n_channels
    whole = lo == 0 and hi >= acc.size
    for channel in range(syn.n_channels):
        row = channel * slots + t % slots
        for j in range(length[row]):
            segment = queue[row, j]
            first, last = syn.seg_start[segment], syn.seg_start[segment + 1]
            if not whole:  # the segment's synapses are sorted by post
                posts = syn.post[first:last]
                first, last = first + np.searchsorted(posts, lo), first + np.searchsorted(posts, hi)
            for s in range(first, last):
                acc[syn.post[s]] += syn.weight[s]


@njit(cache=True)
def clear_arrival(t, syn, length):
    """Empty the queue rows of arrival step t (every channel), once they are delivered."""
    slots = length.size // syn.n_channels
    for channel in range(syn.n_channels):
        length[channel * slots + t % slots] = 0


@njit(cache=True)
def widened(queue):
    """The queue, twice as wide (element-wise copy: numba compiles a 2-D slice copy slowly)."""
    wider = np.empty((queue.shape[0], 2 * queue.shape[1]), np.int64)
    for row in range(queue.shape[0]):
        for k in range(queue.shape[1]):
            wider[row, k] = queue[row, k]
    return wider


@njit(cache=True)
def push(t, pre, syn, length, queue):
    """Queue the segments of pre neuron `pre`, spiking at step t, for their arrival steps.
    Returns the queue, twice as wide when a row was full (a row holds at most one entry per
    pre neuron and delay)."""
    slots = length.size // syn.n_channels
    for segment in range(syn.pre_seg[pre], syn.pre_seg[pre + 1]):
        row = syn.seg_channel[segment] * slots + (t + syn.seg_delay[segment]) % slots
        k = length[row]
        if k == queue.shape[1]:
            queue = widened(queue)
        queue[row, k] = segment
        length[row] = k + 1
    return queue


@njit(cache=True)
def step_range(k, b0, b1, neurons, syn, length, queue, work, record):
    """Worker k's share of steps b0..b1-1: its neurons (work.bounds[k] .. work.bounds[k + 1]
    - 1) take their input and step, step after step; their spikes of step s are listed in
    work.spike_n[0, k, step_ptr[s - b0]:step_ptr[s - b0 + 1]], and their probed values
    recorded, a run of neighbours at a time (engine.py: _probe_runs). Workers write disjoint
    parts of every array, so they run at once. Not inlined: numba 0.61, inlining a function
    that writes the record into a prange loop, loses those writes (every probed value read
    back 0.0); called, it costs one thread some 10 % on CUBA-4000 (the arrays passed each
    block)."""
    lo, hi = work.bounds[k], work.bounds[k + 1]
    out, step_ptr = work.spike_n[0, k], work.step_ptr[0, k]
    flat = neurons.state.reshape(neurons.state.size)  # the probes' view: row · n + neuron
    n_out = 0
    step_ptr[0] = 0
    for t in range(b0, b1):
        deliver(t, lo, hi, syn, length, queue, neurons.acc)
        n_fired = update(t, lo, hi, neurons)
        for j in range(n_fired):
            out[n_out + j] = neurons.fired[lo + j]
        n_out += n_fired
        step_ptr[t - b0 + 1] = n_out
        for r in range(work.probe_ptr[k], work.probe_ptr[k + 1]):
            c, count = work.probe_runs[r, 0], work.probe_runs[r, 1]
            at, source = record.trace_at[c] + t * record.trace_stride[c], record.probe_at[c]
            for j in range(count):
                record.trace[at + j] = flat[source + j]


@njit(cache=True, inline="always")
def push_block(b0, b1, syn, length, queue, work, src_ptr, src_pre):
    """Queue every spike of steps b0..b1-1: step by step, every worker's (of every rank, once
    exchanged) in worker order, then the sources', i.e. by neuron index. Returns the queue."""
    spikes, step_ptr = work.spike_n[0], work.step_ptr[0]
    for t in range(b0, b1):
        for k in range(spikes.shape[0]):
            for x in range(step_ptr[k, t - b0], step_ptr[k, t - b0 + 1]):
                queue = push(t, spikes[k, x], syn, length, queue)
        for x in range(src_ptr[t], src_ptr[t + 1]):
            queue = push(t, src_pre[x], syn, length, queue)
    return queue


def _compile(parallel: bool):
    """run_steps, compiled from this one source with `parallel` a constant of the closure
    (workers on threads, or one after the other). numba caches each closure on disk by its
    constants as long as the closure holds only constants: compiled functions are referred to
    as globals. The key is the values of the constants the body names, not the njit options:
    run_steps names `parallel`, or the cache would serve one kernel for the other."""

    @njit(cache=True, parallel=parallel)
    def run_steps(t_from, steps, block, neurons, syn, length, queue, src_ptr, src_pre, work,
                  record, n_spikes, w0, w1, one_block):
        """Blocks of `block` steps from t_from (a multiple of it) until done, a spike buffer
        that a full block might overflow, or (one_block) after one block; returns (next step,
        spike count, the queue, which push may have widened). This process runs workers
        w0 … w1-1 of work.bounds; with several processes (MPI) the others' spike lists of the
        last block are filled in between calls, and each block starts by pushing the last."""
        threaded = parallel  # a cell of the closure: see _compile
        n = neurons.acc.size
        t = t_from
        while t < steps:
            b1 = min(t + block, steps)
            if n_spikes + (b1 - t) * n > record.spike_t.size:
                return t, n_spikes, queue
            if t > 0:
                queue = push_block(t - block, t, syn, length, queue, work, src_ptr, src_pre)
            for i in prange(w1 - w0):
                step_range(w0 + i, t, b1, neurons, syn, length, queue, work, record)
            for s in range(t, b1):
                clear_arrival(s, syn, length)
                for k in range(w0, w1):
                    for x in range(work.step_ptr[0, k, s - t], work.step_ptr[0, k, s - t + 1]):
                        record.spike_t[n_spikes] = s
                        record.spike_n[n_spikes] = work.spike_n[0, k, x]
                        n_spikes += 1
            t = b1
            if one_block:
                break
        return t, n_spikes, queue

    return run_steps


run_steps = _compile(False)          # the workers one after the other (one thread)
run_steps_threads = _compile(True)   # the workers on threads


@njit(cache=True)
def count_owned(counts, pre_idx, post_idx, pre_offset, post_offset, lo, hi):
    """counts[pre] += one projection's synapses (COO) from pre onto neurons lo..hi-1."""
    for s in range(pre_idx.size):
        target = post_offset + post_idx[s]
        if lo <= target < hi:
            counts[pre_offset + pre_idx[s]] += 1


@njit(cache=True)
def scatter(cursor, pre_idx, post_idx, weights, delays, pre_offset, post_offset, channel,
            n_post, span, lo, hi, post, weight, key):
    """Place one projection's synapses (COO) onto neurons lo..hi-1 into their pre neuron's
    block of the table: cursor[p] is the next free place of block p (a counting sort by pre:
    called for each projection in Brian2's order, blocks keep that order). key is each
    synapse's (channel · span + delay) · n_post + post, span = max delay + 1."""
    for s in range(pre_idx.size):
        target = post_offset + post_idx[s]
        if not lo <= target < hi:
            continue
        p = pre_offset + pre_idx[s]
        k = cursor[p]
        cursor[p] = k + 1
        post[k], weight[k] = target, weights[s]
        key[k] = (channel * span + delays[s]) * n_post + target


@njit(cache=True)
def is_sorted(x, a, b):
    """Whether x[a:b] never decreases."""
    for s in range(a + 1, b):
        if x[s] < x[s - 1]:
            return False
    return True


@njit(cache=True)
def permute(x, a, order):
    """x[a:a + n] = x[a:a + n][order], n = order.size."""
    moved = x[a:a + order.size].copy()
    for k in range(order.size):
        x[a + k] = moved[order[k]]


@njit(cache=True)
def stable_order(keys):
    """The permutation that sorts `keys` stably: a bottom-up merge sort (numba compiles
    np.argsort(kind="mergesort") several times slower)."""
    n = keys.size
    order, spare = np.arange(n), np.empty(n, np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                if j >= hi or (i < mid and keys[order[i]] <= keys[order[j]]):
                    spare[k] = order[i]
                    i += 1
                else:
                    spare[k] = order[j]
                    j += 1
        order, spare = spare, order
        width *= 2
    return order


@njit(cache=True)
def segments(ptr, key, post, weight, n_post, span):
    """Sort each pre neuron's block (ptr[p]..ptr[p+1]-1) by key, stably (synapses onto the
    same post with the same channel and delay keep their order), and cut it into segments of
    one (channel, delay). Returns (pre_seg, seg_start, seg_channel, seg_delay): segments of
    pre p are pre_seg[p]..pre_seg[p+1]-1, synapses of segment s seg_start[s]..seg_start[s+1]-1."""
    n_pre = ptr.size - 1
    n_segments = 0
    for p in range(n_pre):
        a, b = ptr[p], ptr[p + 1]
        if not is_sorted(key, a, b):
            order = stable_order(key[a:b])
            permute(key, a, order)
            permute(post, a, order)
            permute(weight, a, order)
        for s in range(a, b):
            if s == a or key[s] // n_post != key[s - 1] // n_post:
                n_segments += 1
    pre_seg = np.zeros(n_pre + 1, np.int64)
    seg_start = np.empty(n_segments + 1, np.int64)
    seg_channel = np.empty(n_segments, np.int32)
    seg_delay = np.empty(n_segments, np.int32)
    m = 0
    for p in range(n_pre):
        for s in range(ptr[p], ptr[p + 1]):
            group = key[s] // n_post
            if s == ptr[p] or group != key[s - 1] // n_post:
                seg_start[m] = s
                seg_channel[m] = group // span
                seg_delay[m] = group % span
                m += 1
        pre_seg[p + 1] = m
    seg_start[n_segments] = ptr[n_pre]
    return pre_seg, seg_start, seg_channel, seg_delay
