"""One plastic projection as Lava 0.10's LearningDense runs it (docs/design.md §10.1).

The connection is dense, (n_post, n_pre), as Lava's: plastic projections are all-to-all.
Float follows Lava's float model's order of operations (each product `((m·2^e)·dep)·f1·f2`,
the update `v + ((P1 + P2) + P3)`) in numpy; fixed point its bit-approximate model, compiled
(fixed_kernel.py): 7-bit traces with stochastic decay and impulses, int32 products shifted by
their widths, a 16-bit accumulator with Lava's asymmetric bounds, and a stochastic rounding
back to 8 bits.

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

from . import fixed_kernel

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
        if self.three_factor:   # the y traces are the post process's: received, not made
            y_imp, y_tau = [0.0, 0.0, 0.0], [THREE_FACTOR_TAU] * 3
        else:
            y_imp, y_tau = [rule.y1_impulse, 0.0, 0.0], [rule.y1_tau, 0.0, 0.0]
        self.x_imp, self.y_imp = np.array([rule.x1_impulse, 0.0]), np.array(y_imp)
        self.x_tau, self.y_tau = np.array([rule.x1_tau, 0.0]), np.array(y_tau)
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
            self.x_decay, self.y_decay = _decays(self.x_tau), _decays(self.y_tau)
            self.encoded = fixed_kernel.encode(self.products)
            self.sign_code = fixed_kernel.SIGN_MODES.index(rule.sign_mode)
            self.no_received = np.zeros((0, 0), np.int64)
            self.accumulators = np.zeros((2,) + self.shape, np.int64)  # the kernel's scratch
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
        self.steps, self.first_step = steps, True

    # -- spiking phase ---------------------------------------------------------------------
    def spike_phase(self, t: int, pre: np.ndarray, post: np.ndarray,
                    y_received: np.ndarray | None = None) -> np.ndarray:
        """Step t (1-based): the input for step t + 1, then the spikes' bookkeeping (a second
        spike in one epoch adds its impulse to the stored trace, undecayed)."""
        if self.fixed:
            return self._fixed_spike_phase(t, pre, post, y_received)
        a_out = self.weights[:, pre].sum(axis=1)
        ts = t % self.epoch or self.epoch
        multi = (self.tx > 0) & pre
        self.x[0, multi] += self.x_imp[0]
        self.x[1, multi] += self.x_imp[1]
        self.tx[pre] = ts
        multi = (self.ty > 0) & post
        self.y[:, multi] += self.y_imp[:, None]
        self.ty[post] = ts
        if self.three_factor:
            self.y[:] = y_received
        return a_out

    def _fixed_spike_phase(self, t, pre, post, y_received):
        if not 1 <= t <= self.steps:  # the draws end there (the kernel does not check)
            raise IndexError(f"step {t} beyond the {self.steps} steps drawn for")
        if self.first_step:
            self.weights = _truncate(self.weights, self.rule.sign_mode, self.num_weight_bits)
            self.first_step = False
        return fixed_kernel.spike_phase(
            t, self.epoch, pre, post, self.weights, self.weight_exp, self.x, self.y, self.tx,
            self.ty, self.x_int, self.x_frac, self.y_int, self.y_frac, self.y_imp_r,
            self.no_received if y_received is None else y_received, self.three_factor)

    # -- learning phase --------------------------------------------------------------------
    def learn(self, t: int) -> None:
        """The learning epoch ending with 1-based step t: every variable from the values
        before it (dw reads the old tag), then tx, ty reset."""
        if self.fixed:
            fixed_kernel.learn(
                t, self.epoch, self.weights, self.tag_1, *self.accumulators, self.x, self.y,
                self.tx, self.ty, self.x_decay, self.y_decay, self.x_int, self.x_frac,
                self.y_int, self.y_frac, self.x_decay_r, self.x_imp_r, self.y_decay_r,
                self.y_imp_r, self.weight_r, self.encoded, self.sign_code, self.three_factor)
            return
        x0, y0 = self.tx > 0, self.ty > 0
        xh = self._history(self.x, self.x_tau, self.tx, "x")
        yh = self._history(self.y, self.y_tau, self.ty, "y")
        self.x = xh[-1].copy()
        if not self.three_factor:
            self.y = yh[-1].copy()
        factors = _Factors(self, xh, yh, x0, y0)
        new = {var: self._apply(var, products, factors) for var, products in
               self.products.items()}
        for var, value in new.items():
            setattr(self, var, value)
        self.tx[:] = 0
        self.ty[:] = 0

    def _history(self, trace, taus, t_spike, which):
        """Traces over the epoch, h[0] stored … h[E]: decay each step, impulse at a neuron's
        last spike in the epoch."""
        e = self.epoch
        h = np.full((e + 1,) + trace.shape, np.nan)
        imps = (self.x_imp if which == "x" else self.y_imp)[:, None]
        h[0] = trace
        kept = np.flatnonzero(taus != 0)
        decays = np.exp(-1 / taus[kept])
        for tau in range(1, e + 1):
            for k, d in zip(kept, decays):
                h[tau, k] = d * h[tau - 1, k]
            h[tau][:, t_spike == tau] += imps
        return h

    def _apply(self, var, products, factors):
        total = None
        for dependency, mantissa, exponent, names in products:
            term = mantissa * 2.0 ** exponent * factors.dependency(dependency)
            for name in names:
                term = term * factors.value(name, dependency)
            total = term if total is None else total + term
        value = getattr(self, var) + total
        return _sign_saturate(value, self.rule.sign_mode) if var == "weights" else value


class _Factors:
    """The values a product reads, at the step its dependency gives (docs/design.md §10.1):
    x0 → the pre neuron's last spike step, y0 → the post's, u → the end of the epoch."""

    def __init__(self, conn: LearningConnection, xh, yh, x0, y0):
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


def _decays(taus: np.ndarray) -> np.ndarray:
    """e^(−1/τ) per trace (numpy's exp, as Lava's), 0 for τ = 0: a trace without memory."""
    decays = np.zeros(taus.size)
    kept = np.flatnonzero(taus != 0)
    decays[kept] = np.exp(-1 / taus[kept])
    return decays


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
