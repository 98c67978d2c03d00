"""One plastic projection as Lava 0.10's LearningDense runs it (docs/design.md §10.1).

The connection is dense, (n_post, n_pre), as Lava's: plastic projections are all-to-all.
Float follows Lava's float model's order of operations (each product `((m·2^e)·dep)·f1·f2`,
the update `v + ((P1 + P2) + P3)`), fixed point its bit-approximate model: 7-bit traces with
stochastic decay and impulses, int32 products shifted by their widths, a 16-bit accumulator
with Lava's asymmetric bounds, and a stochastic rounding back to 8 bits.

Lava's five generators (fixed point only) are drawn ahead: `default_rng(s)` and `(s + 2)`
(x and y decay, `random()`), `(s + 1)` and `(s + 3)` (x and y impulses, `integers(0, 128)`)
each draw once when created and twice a step, so the learning at 1-based step t uses draw 2t
and a post spike's second impulse in an epoch draw 2t − 1; `default_rng(2)`, whatever the
seed, draws once when created and once per epoch k, shared by every synapse, for weights and
tags alike. Bulk draws give the same numbers as Lava's one-at-a-time calls.
"""
from __future__ import annotations

import numpy as np

from nmcompile.ir import LavaRule

WIDTH = {"x0": 1, "y0": 1, "x1": 7, "x2": 7, "y1": 7, "y2": 7, "y3": 7, "w": 9, "d": 9, "t": 9}
TRACE_BITS, MANTISSA_BITS, ACCUMULATOR_BITS = 7, 4, 15
ACC_MIN, ACC_MAX = -(2 ** ACCUMULATOR_BITS) - 1, 2 ** ACCUMULATOR_BITS - 1  # Lava's bounds
THREE_FACTOR_TAU = float(np.iinfo(np.uint16).max)  # Lava's y taus of a three-factor rule
WEIGHT_RNG_SEED = 2    # Lava seeds its weight-rounding generator with 2, whatever rng_seed is


class LearningConnection:
    """Weights (n_post, n_pre) of one plastic projection, its traces and tags.

    `spike_phase(t, pre, post, y)` is Lava's spiking phase of 1-based step t: it returns the
    input the post neurons get at step t + 1 (with the weights before this step's learning),
    then records the step's pre and post spikes; `learn(t)` is the learning phase at the end
    of the epoch's last step.
    """

    def __init__(self, rule: LavaRule, weights: np.ndarray, *, fixed: bool, steps: int,
                 num_weight_bits: int = 8, weight_exp: int = 0):
        self.rule, self.fixed = rule, fixed
        self.num_weight_bits, self.weight_exp = num_weight_bits, weight_exp
        self.products = rule.products()
        n_post, n_pre = weights.shape
        self.shape, self.epoch = weights.shape, rule.t_epoch
        self.three_factor = rule.three_factor
        if self.three_factor:
            x_imp, x_tau = [rule.x1_impulse, 0.0], [rule.x1_tau, 0.0]
            y_imp, y_tau = [0.0, 0.0, 0.0], [THREE_FACTOR_TAU] * 3
        else:
            x_imp, x_tau = [rule.x1_impulse, 0.0], [rule.x1_tau, 0.0]
            y_imp, y_tau = [rule.y1_impulse, 0.0, 0.0], [rule.y1_tau, 0.0, 0.0]
        self.x_imp, self.y_imp = np.array(x_imp), np.array(y_imp)
        self.x_tau, self.y_tau = np.array(x_tau), np.array(y_tau)
        kind = np.int64 if fixed else float
        self.x = np.zeros((2, n_pre), kind)
        self.y = np.zeros((3, n_post), kind)
        self.tx = np.zeros(n_pre, np.int64)
        self.ty = np.zeros(n_post, np.int64)
        if fixed:
            self.weights = np.asarray(weights).astype(np.int32)
            self.tag_1 = np.zeros(self.shape, np.int64)
            self.x_int, self.x_frac = _split(self.x_imp)
            self.y_int, self.y_frac = _split(self.y_imp)
            seed, draws = rule.rng_seed, 1 + 2 * steps
            self.x_decay_r = np.random.default_rng(seed).random(draws)
            self.x_imp_r = np.random.default_rng(seed + 1).integers(0, 128, draws, np.int64)
            self.y_decay_r = np.random.default_rng(seed + 2).random(draws)
            self.y_imp_r = np.random.default_rng(seed + 3).integers(0, 128, draws, np.int64)
            self.weight_r = np.random.default_rng(WEIGHT_RNG_SEED).random(
                1 + steps // self.epoch)
        else:
            self.weights = np.asarray(weights, float).copy()
            self.tag_1 = np.zeros(self.shape)
        self.first_step = True

    # -- spiking phase ---------------------------------------------------------------------
    def spike_phase(self, t: int, pre: np.ndarray, post: np.ndarray,
                    y_received: np.ndarray | None = None) -> np.ndarray:
        """Step t (1-based): the input for step t + 1, then the spikes' bookkeeping (a second
        spike in one epoch adds its impulse to the stored trace, undecayed)."""
        if self.fixed and self.first_step:
            self.weights = _truncate(self.weights, self.rule.sign_mode, self.num_weight_bits)
        self.first_step = False
        a_out = self.weights[:, pre].sum(axis=1)
        if self.fixed:
            e = self.weight_exp
            a_out = a_out.astype(np.int64)
            a_out = a_out << e if e > 0 else a_out >> -e
        ts = t % self.epoch or self.epoch
        multi = (self.tx > 0) & pre
        if self.fixed:
            for k in range(2):
                self.x[k, multi] = _impulse(self.x[k, multi], 0, self.x_int[k], self.x_frac[k])
        else:
            self.x[0, multi] += self.x_imp[0]
            self.x[1, multi] += self.x_imp[1]
        self.tx[pre] = ts
        multi = (self.ty > 0) & post
        if self.fixed:
            self.y[:, multi] = _impulse(self.y[:, multi], self.y_imp_r[2 * t - 1],
                                        self.y_int[:, None], self.y_frac[:, None])
        else:
            self.y[:, multi] += self.y_imp[:, None]
        self.ty[post] = ts
        if self.three_factor:
            self.y[:] = y_received
        return a_out

    # -- learning phase --------------------------------------------------------------------
    def learn(self, t: int) -> None:
        """The learning epoch ending with 1-based step t: every variable from the values
        before it (dw reads the old tag), then tx, ty reset."""
        x0, y0 = self.tx > 0, self.ty > 0
        xh = self._history(self.x, self.x_tau, self.tx, "x", t)
        yh = self._history(self.y, self.y_tau, self.ty, "y", t)
        self.x = xh[-1].copy()
        if not self.three_factor:
            self.y = yh[-1].copy()
        factors = _Factors(self, xh, yh, x0, y0, t)
        apply = self._apply_fixed if self.fixed else self._apply_float
        new = {var: apply(var, products, factors, t) for var, products in self.products.items()}
        for var, value in new.items():
            setattr(self, var, value)
        self.tx[:] = 0
        self.ty[:] = 0

    def _history(self, trace, taus, t_spike, which, t):
        """Traces over the epoch, h[0] stored … h[E]: decay each step, impulse at a neuron's
        last spike in the epoch (fixed: one random decay and impulse value for the epoch)."""
        e = self.epoch
        if self.fixed:
            h = np.zeros((e + 1,) + trace.shape, np.int64)
            r_decay = (self.x_decay_r if which == "x" else self.y_decay_r)[2 * t]
            r_imp = (self.x_imp_r if which == "x" else self.y_imp_r)[2 * t]
            imp_int = (self.x_int if which == "x" else self.y_int)[:, None]
            imp_frac = (self.x_frac if which == "x" else self.y_frac)[:, None]
        else:
            h = np.full((e + 1,) + trace.shape, np.nan)
            imps = (self.x_imp if which == "x" else self.y_imp)[:, None]
        h[0] = trace
        kept = np.flatnonzero(taus != 0)
        decays = np.exp(-1 / taus[kept])
        for tau in range(1, e + 1):
            for k, d in zip(kept, decays):
                product = d * h[tau - 1, k]
                if self.fixed:
                    whole = np.floor(product)
                    h[tau, k] = (whole + (r_decay < product - whole)).astype(np.int64)
                else:
                    h[tau, k] = product
            ids = t_spike == tau
            if self.fixed:
                h[tau][:, ids] = _impulse(h[tau][:, ids], r_imp, imp_int, imp_frac)
            else:
                h[tau][:, ids] += imps
        return h

    def _apply_float(self, var, products, factors, t):
        total = None
        for dependency, mantissa, exponent, names in products:
            term = mantissa * 2.0 ** exponent * factors.dependency(dependency)
            for name in names:
                term = term * factors.value(name, dependency)
            total = term if total is None else total + term
        value = getattr(self, var) + total
        return _sign_saturate(value, self.rule.sign_mode) if var == "weights" else value

    def _apply_fixed(self, var, products, factors, t):
        acc = getattr(self, var) << 7        # 16 − 9 bits for w and t alike
        for dependency, mantissa, exponent, names in products:
            cur = (np.ones(self.shape, np.int32) * factors.dependency(dependency)).astype(
                np.int32)
            width = MANTISSA_BITS
            for name in names:
                bits = WIDTH[name]
                width += bits
                cur = cur * np.clip(factors.value(name, dependency),
                                    -(2 ** bits), 2 ** bits - 1).astype(np.int32)
            cur = (cur * mantissa) >> max(0, width - ACCUMULATOR_BITS)
            cur = np.clip(cur << (exponent + 7), ACC_MIN, ACC_MAX)
            acc = np.clip(acc + cur, ACC_MIN, ACC_MAX)
        if var == "weights":
            acc = _sign_saturate(acc, self.rule.sign_mode)
        acc = acc.astype(np.int64)
        rounded = (acc >> 7) + (self.weight_r[t // self.epoch] < (acc & 127) / 128.0)
        if var == "weights":
            return _clip_weights(rounded, self.rule.sign_mode).astype(np.int32)
        return np.clip(rounded, -257, 255)


class _Factors:
    """The values a product reads, at the step its dependency gives (docs/design.md §10.1):
    x0 → the pre neuron's last spike step, y0 → the post's, u → the end of the epoch."""

    def __init__(self, conn: LearningConnection, xh, yh, x0, y0, t: int):
        self.conn, self.xh, self.yh, self.x0, self.y0 = conn, xh, yh, x0, y0
        self.u = 1 if any(p[0] == "u" for ps in conn.products.values() for p in ps) else 0

    def dependency(self, name: str):
        return {"x0": self.x0[None, :], "y0": self.y0[:, None], "u": self.u}[name]

    def value(self, name: str, dependency: str):
        conn = self.conn
        if name == "w":
            return conn.weights
        if name == "t":
            return conn.tag_1
        k = int(name[1]) - 1
        n_post, n_pre = conn.shape
        if name[0] == "x":
            history = self.xh
            if dependency == "x0":
                return history[conn.tx, k, np.arange(n_pre)][None, :]
            if dependency == "y0":
                return history[conn.ty, k]
            return history[-1, k][None, :]
        history = self.yh
        if dependency == "x0":
            return history[conn.tx, k].T
        if dependency == "y0":
            return history[conn.ty, k, np.arange(n_post)][:, None]
        return history[-1, k][:, None]


def _split(impulses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An impulse as Lava's fixed model adds it: whole part, and the fraction in 1/256."""
    whole = np.floor(impulses)
    return whole.astype(np.int64), np.round((impulses - whole) * 256).astype(np.int64)


def _impulse(values, random, whole, fraction):
    """Add an impulse: its whole part, one more when the 7-bit random < the 8-bit fraction
    (so with probability min(1, 2·fraction): Lava's), clipped to the 7-bit trace."""
    return np.clip(values + whole + (random < fraction).astype(np.int64), 0,
                   2 ** TRACE_BITS - 1)


def _sign_saturate(values, sign_mode: str):
    if sign_mode == "excitatory":
        return np.maximum(0, values)
    if sign_mode == "inhibitory":
        return np.minimum(0, values)
    return values


def _truncate(weights, sign_mode: str, num_weight_bits: int):
    """lava.utils.weightutils.truncate_weights, which LearningDense applies once, at its first
    step: drops 8 − bits (+ 1 when mixed) low bits, towards −∞ (inhibitory: on |w|)."""
    w = weights.astype(np.int32)
    sign = -1 if sign_mode == "inhibitory" else 1
    drop = 8 - num_weight_bits + int(sign_mode == "mixed")
    return sign * (((sign * w) >> drop) << drop)


def _clip_weights(w, sign_mode: str):
    """lava.utils.weightutils.clip_weights with 8 bits."""
    if sign_mode == "excitatory":
        return np.clip(w, 0, 255)
    if sign_mode == "inhibitory":
        return -np.clip(-w, 0, 255)
    return np.clip(w, -256, 255)
