"""Lava's bit-approximate learning engine (fixed_pt) compiled with numba: the spiking phase
and the learning epoch of one plastic projection (connection.py holds the state, draws the
random numbers ahead and says which draw each phase uses; docs/design.md §10.1).

All compiled code, and every constant it reads, lives in this one file on purpose: numba's
disk cache is invalidated by this file's timestamp only (as backends/emulator/kernel.py's).

Lava computes the products in numpy int32 (and the stored tags in int64); here every value is
an int64. The two agree because no intermediate leaves the int32 range: a factor is clipped to
its width b (|f| ≤ 2^b), the product of a series' factors times a mantissa (|m| ≤ 8) is at most
2^(Σb + 3) — Σb ≤ 16 for pair and reward STDP, and `encode` refuses a series from 2^31 —,
shifted right by max(0, 4 + Σb − 15) it is at most 2^14, shifted left by exponent + 7 ≤ 15 at
most 2^29; the accumulator (|acc| ≤ 2^15 + 1, plus one such term before its clip) is clipped
to 16 bits after every product, and weights (8 bits, so |w << 7| ≤ 2^15) and tags (≤ 257)
enter it shifted by 7. Right shifts floor in both.
The stochastic roundings compare in float64 as numpy does: a decay `r < p − floor(p)` with
p = d·h (d = e^(−1/τ) computed by numpy, passed in); the weight's `r < (acc & 127) / 128.0`
is turned, once per epoch and by that very comparison, into an integer threshold.
Loading this file as a module under another name (importlib) writes cache entries that
the package's import then fails to load: delete __pycache__/fixed_kernel.* after such use.
"""
from __future__ import annotations

import numpy as np
from numba import njit

TRACE_MAX = 2 ** 7 - 1                    # 7-bit traces
MANTISSA_BITS, ACCUMULATOR_BITS = 4, 15
ACC_MIN, ACC_MAX = -(2 ** ACCUMULATOR_BITS) - 1, 2 ** ACCUMULATOR_BITS - 1  # Lava's bounds
ROUND_BITS = 7                            # 16 − 9: weights and tags enter the accumulator << 7
TAG_MIN, TAG_MAX = -257, 255
# a product's factors, and their widths (bits)
FACTORS = ("w", "t", "x1", "x2", "y1", "y2", "y3")
W, T, X1, X2, Y1, Y2, Y3 = range(len(FACTORS))
WIDTHS = np.array([9, 9, 7, 7, 7, 7, 7], np.int64)
# a product's dependency: the pre neuron spiked in the epoch (x0), the post (y0), always (u)
DEPENDENCIES = ("x0", "y0", "u")
ON_PRE, ON_POST, ALWAYS = range(len(DEPENDENCIES))
SIGN_MODES = ("excitatory", "inhibitory", "mixed")
# per sign mode: the accumulator's saturation (max(0, acc), min(0, acc), none: as clips, the
# accumulator being within ACC_MIN … ACC_MAX), then the weights' 8-bit clip (clip_weights;
# inhibitory −clip(−w, 0, 255) is clip(w, −255, 0))
SATURATION = ((0, ACC_MAX), (ACC_MIN, 0), (ACC_MIN, ACC_MAX))
WEIGHT_LIMITS = ((0, 255), (-255, 0), (-256, 255))
VARIABLES = ("weights", "tag_1")
WEIGHTS, TAG = range(len(VARIABLES))
# a product's row: variable, dependency, mantissa, exponent, then factors (NONE: unused)
VAR, DEP, MANTISSA, EXPONENT, FIRST_FACTOR = range(5)
MAX_FACTORS, NONE = 3, -1


def encode(products: dict[str, list[tuple[str, int, int, tuple[str, ...]]]]) -> np.ndarray:
    """LavaRule.products() as rows of int64 (above), in Lava's order of application."""
    rows = []
    for var, series in products.items():
        for dependency, mantissa, exponent, names in series:
            bits = sum(int(WIDTHS[FACTORS.index(name)]) for name in names)
            if len(names) > MAX_FACTORS or bits + 3 > 30:  # the int32 bound of the docstring
                raise ValueError(f"{var}: product of {names} beyond Lava's int32 arithmetic")
            factors = [FACTORS.index(name) for name in names]
            rows.append([VARIABLES.index(var), DEPENDENCIES.index(dependency), mantissa,
                         exponent] + factors + [NONE] * (MAX_FACTORS - len(names)))
    return np.array(rows, np.int64)


@njit(cache=True)
def _impulse(value, random, whole, fraction):
    """An impulse as Lava's fixed model adds it: its whole part, one more when the 7-bit
    random < the 8-bit fraction, clipped to the 7-bit trace."""
    return min(max(value + whole + (1 if random < fraction else 0), 0), TRACE_MAX)


@njit(cache=True)
def spike_phase(t, epoch, pre, post, weights, weight_exp, x, y, tx, ty, x_int, x_frac,
                y_int, y_frac, y_imp_r, y_received, three_factor):
    """Lava's spiking phase of 1-based step t: the input of the post neurons at step t + 1
    (sums of the weights of the spiking pres, shifted by weight_exp), then the spikes'
    bookkeeping: a second spike in one epoch adds its impulse to the stored trace, undecayed
    (pre: random 0; post: draw 2t − 1); a three-factor rule's y traces are received."""
    n_post = weights.shape[0]
    fired = np.flatnonzero(pre)
    a_out = np.zeros(n_post, np.int64)
    for i in range(n_post):
        total = 0
        for j in fired:
            total += weights[i, j]
        a_out[i] = total << weight_exp if weight_exp > 0 else total >> -weight_exp
    ts = t % epoch
    if ts == 0:
        ts = epoch
    for j in fired:
        if tx[j] > 0:
            for k in range(x.shape[0]):
                x[k, j] = _impulse(x[k, j], 0, x_int[k], x_frac[k])
        tx[j] = ts
    random = y_imp_r[2 * t - 1]
    for i in range(n_post):
        if post[i]:
            if ty[i] > 0:
                for k in range(y.shape[0]):
                    y[k, i] = _impulse(y[k, i], random, y_int[k], y_frac[k])
            ty[i] = ts
    if three_factor:
        y[:, :] = y_received
    return a_out


@njit(cache=True)
def _history(trace, decay, t_spike, epoch, r_decay, r_imp, imp_int, imp_frac):
    """The traces over the epoch, h[0] stored … h[epoch]: each step a stochastic decay
    (floor(d·h), one more when r < the fraction; d = 0 for τ = 0 keeps nothing), then the
    impulse at a neuron's last spike in the epoch; one decay and one impulse draw per epoch."""
    n_traces, n = trace.shape
    h = np.zeros((epoch + 1, n_traces, n), np.int64)
    h[0] = trace
    for tau in range(1, epoch + 1):
        for k in range(n_traces):
            for j in range(n):
                product = decay[k] * h[tau - 1, k, j]
                whole = np.floor(product)
                h[tau, k, j] = np.int64(whole) + (1 if r_decay < product - whole else 0)
        for j in range(n):
            if t_spike[j] == tau:
                for k in range(n_traces):
                    h[tau, k, j] = _impulse(h[tau, k, j], r_imp, imp_int[k], imp_frac[k])
    return h


@njit(cache=True)
def _clip(value, low, high):
    return min(max(value, low), high)


@njit(cache=True)
def _line(out, products, p, shift_right, shift_left, xh, yh, step, weights, tag_1, index,
          along_pre):
    """Product p, its dependency met, on one line of synapses: post `index`, every pre
    (along_pre) or pre `index`, every post; trace values at `step`. Lava's order: the
    factors clipped to their widths, times the mantissa, shifted right by the widths beyond
    15 bits, left by exponent + 7, clipped to the accumulator."""
    out[:] = 1
    for f in range(FIRST_FACTOR, FIRST_FACTOR + MAX_FACTORS):
        name = products[p, f]
        if name == NONE:
            break
        low, high = -(1 << WIDTHS[name]), (1 << WIDTHS[name]) - 1
        per_pre = name <= X2  # w, t vary along any line; x traces with the pre, y the post
        if name == W or name == T or per_pre == along_pre:
            for e in range(out.size):
                i, j = (index, e) if along_pre else (e, index)
                if name == W:
                    value = np.int64(weights[i, j])
                elif name == T:
                    value = tag_1[i, j]
                elif per_pre:
                    value = xh[step, name - X1, j]
                else:
                    value = yh[step, name - Y1, i]
                out[e] *= _clip(value, low, high)
        else:
            value = xh[step, name - X1, index] if per_pre else yh[step, name - Y1, index]
            out[:] *= _clip(value, low, high)
    mantissa = products[p, MANTISSA]
    for e in range(out.size):
        out[e] = _clip((out[e] * mantissa) >> shift_right << shift_left, ACC_MIN, ACC_MAX)


@njit(cache=True)
def _accumulate(acc, products, p, xh, yh, tx, ty, weights, tag_1, epoch):
    """acc (n_post, n_pre) plus product p, clipped to the accumulator. A synapse whose
    dependency is not met adds 0, and is only clipped: the synapses that meet it are summed
    first, then every synapse is clipped (again: a no-op for those)."""
    n_post, n_pre = acc.shape
    width = MANTISSA_BITS
    for f in range(FIRST_FACTOR, FIRST_FACTOR + MAX_FACTORS):
        if products[p, f] != NONE:
            width += WIDTHS[products[p, f]]
    shift_right = max(0, width - ACCUMULATOR_BITS)
    shift_left = products[p, EXPONENT] + ROUND_BITS
    dependency = products[p, DEP]
    if dependency == ON_PRE:
        column = np.empty(n_post, np.int64)
        for j in range(n_pre):
            if tx[j] > 0:
                _line(column, products, p, shift_right, shift_left, xh, yh, tx[j], weights,
                      tag_1, j, False)
                acc[:, j] += column
    else:
        row = np.empty(n_pre, np.int64)
        for i in range(n_post):
            step = ty[i] if dependency == ON_POST else epoch
            if step > 0:
                _line(row, products, p, shift_right, shift_left, xh, yh, step, weights,
                      tag_1, i, True)
                acc[i] += row
    for i in range(n_post):
        for j in range(n_pre):
            acc[i, j] = _clip(acc[i, j], ACC_MIN, ACC_MAX)


@njit(cache=True)
def _round(acc, rounds_up):
    """Back to 9 bits: acc >> 7, one more when the dropped fraction rounds up."""
    return (acc >> ROUND_BITS) + (1 if (acc & 127) >= rounds_up else 0)


@njit(cache=True)
def _rounds_up(r):
    """The least dropped fraction f (in 1/128) for which Lava rounds up, r < f / 128.0 in
    float64 (exact, and increasing in f): 128 when none does."""
    f = 0
    while f < 128 and not r < f / 128.0:
        f += 1
    return f


@njit(cache=True)
def _shifted_in(acc, values):
    """A variable as it enters the accumulator: << 7."""
    n_post, n_pre = values.shape
    for i in range(n_post):
        for j in range(n_pre):
            acc[i, j] = np.int64(values[i, j]) << ROUND_BITS


@njit(cache=True)
def _rounded_out(values, acc, rounds_up, low, high, value_low, value_high):
    """A variable from the accumulator: clipped to low … high, rounded back to 9 bits,
    clipped to value_low … value_high."""
    n_post, n_pre = values.shape
    for i in range(n_post):
        for j in range(n_pre):
            values[i, j] = _clip(_round(_clip(acc[i, j], low, high), rounds_up), value_low,
                                 value_high)


@njit(cache=True)
def learn(t, epoch, weights, tag_1, acc_w, acc_t, x, y, tx, ty, x_decay, y_decay, x_int,
          x_frac, y_int, y_frac, x_decay_r, x_imp_r, y_decay_r, y_imp_r, weight_r, products,
          sign_mode, three_factor):
    """The learning epoch ending with 1-based step t, in place: every variable from the
    values before it (traces at a product's dependency step: x0 → the pre's last spike in the
    epoch, y0 → the post's, u → the epoch's end; 0: the stored trace), then tx, ty reset.
    acc_w, acc_t: the accumulators (int64, shaped as the weights), scratch."""
    xh = _history(x, x_decay, tx, epoch, x_decay_r[2 * t], x_imp_r[2 * t], x_int, x_frac)
    yh = _history(y, y_decay, ty, epoch, y_decay_r[2 * t], y_imp_r[2 * t], y_int, y_frac)
    updates_tag = False
    for p in range(products.shape[0]):
        updates_tag |= products[p, VAR] == TAG
    _shifted_in(acc_w, weights)
    if updates_tag:
        _shifted_in(acc_t, tag_1)
    for p in range(products.shape[0]):
        if products[p, VAR] == WEIGHTS:
            _accumulate(acc_w, products, p, xh, yh, tx, ty, weights, tag_1, epoch)
        else:
            _accumulate(acc_t, products, p, xh, yh, tx, ty, weights, tag_1, epoch)
    rounds_up = _rounds_up(weight_r[t // epoch])
    # the sign mode's saturation of the accumulator, then Lava's clip_weights (8 bits)
    saturation, limits = SATURATION[sign_mode], WEIGHT_LIMITS[sign_mode]
    _rounded_out(weights, acc_w, rounds_up, saturation[0], saturation[1], limits[0], limits[1])
    if updates_tag:
        _rounded_out(tag_1, acc_t, rounds_up, ACC_MIN, ACC_MAX, TAG_MIN, TAG_MAX)
    x[:, :] = xh[epoch]
    if not three_factor:
        y[:, :] = yh[epoch]
    tx[:] = 0
    ty[:] = 0
