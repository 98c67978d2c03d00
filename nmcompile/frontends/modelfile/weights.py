"""Per-synapse weights and delays of a projection: scalar, a distribution, or one value each.
The distributions ({uniform: …}, {normal: …}) serve per-neuron parameters too."""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from nmcompile.frontends.modelfile.fields import integer, number
from nmcompile.frontends.modelfile.yamlmarks import FLOAT64_MAX, Source

MAX_DELAY = 2**16 - 1  # steps; targets impose their own, much smaller, limits
NORMAL_REACH = 40  # numpy's standard normal never draws |z| ≥ 40 (its ziggurat tail stops ~14)
# normal_ms delays are redrawn until within [min_ms, max_ms]: a window holding less of the
# distribution than this is refused up front, whatever the seed, rather than redrawn for ages
MIN_WINDOW_MASS = 1e-3


def draw_weights(item: dict, from_file, n: int, path, src: Source,
                 rng: np.random.Generator) -> np.ndarray:
    """weight: scalar | {uniform: [lo, hi]} | {normal: [mean, std], keep_sign: bool} | list,
    in synapse order."""
    where = path + ("weight",)
    _given_once(item, "weight", from_file, path, src)
    if from_file is not None:
        values = np.asarray(from_file)
        if values.dtype.kind not in "iuf":
            raise src.fail(path + ("connect",), f"weights in the connectivity file must be "
                                                f"integers or floats, got {values.dtype}")
        with np.errstate(over="ignore"):  # long doubles beyond float64 become inf: refused next
            values = values.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise src.fail(path + ("connect",), "weights in the connectivity file must be finite "
                                                "float64 numbers (within ±1.8e308)")
        return values
    if "weight" not in item:
        raise src.fail(path, "missing required key 'weight'")
    raw = item["weight"]
    if isinstance(raw, list):
        check_length(raw, n, where, src)
        return np.array([number(w, where + (k,), src) for k, w in enumerate(raw)], dtype=float)
    if isinstance(raw, dict):
        kind, a, b = distribution(raw, where, src, "weights", options=("keep_sign",))
        keep_sign = raw.get("keep_sign", False)
        if not isinstance(keep_sign, bool):
            raise src.fail(where + ("keep_sign",), f"must be true or false, got {keep_sign!r}")
        if keep_sign and kind != "normal":
            raise src.fail(where + ("keep_sign",), "only with normal: a uniform range has the "
                                                   "signs its ends give")
        if keep_sign and a == 0:
            raise src.fail(where + ("normal", 0), "keep_sign needs a nonzero mean: its sign is "
                                                  "the one kept")
        values = draw(kind, a, b, n, rng, where, src, "weights")
        if not keep_sign:
            return values
        # NEST's redraw(normal, min=0) for excitatory weights (max=0 for inhibitory); a weight
        # of exactly 0 has neither sign, so it is redrawn too. At least half of all draws have
        # the mean's sign: the rounds end quickly
        return redraw(values, lambda v: np.sign(v) != np.sign(a), lambda m: rng.normal(a, b, m))
    return np.full(n, number(raw, where, src))


def draw_delays(item: dict, from_file, n: int, dt: float, path, src: Source,
                rng: np.random.Generator) -> np.ndarray:
    """delay (steps ≥ 1): scalar | {uniform_int: [lo, hi]} (inclusive) | {normal_ms: [mean, std],
    min_ms, max_ms} | list, in synapse order."""
    where = path + ("delay",)
    _given_once(item, "delay", from_file, path, src)
    if from_file is not None:
        values = np.asarray(from_file)
        if not np.issubdtype(values.dtype, np.integer) or (values.size and (
                values.min() < 1 or values.max() > MAX_DELAY)):
            raise src.fail(path + ("connect",),
                           f"delays in the connectivity file must be integers in 1..{MAX_DELAY}")
        return values.astype(np.int32)
    raw = item.get("delay", 1)
    if isinstance(raw, list):
        check_length(raw, n, where, src)
        return np.array([integer(d, where + (k,), src, minimum=1, maximum=MAX_DELAY)
                         for k, d in enumerate(raw)], dtype=np.int32)
    if isinstance(raw, dict):
        src.check_keys(raw, where, ["uniform_int", "normal_ms", "min_ms", "max_ms"])
        if ("uniform_int" in raw) == ("normal_ms" in raw):
            raise src.fail(where, "give exactly one of uniform_int, normal_ms")
        if "normal_ms" in raw:
            return normal_ms_delays(raw, n, dt, where, src, rng)
        for key in ("min_ms", "max_ms"):
            if key in raw:
                raise src.fail(where + (key,), "only with normal_ms: uniform_int gives its "
                                               "bounds in steps")
        lo, hi = pair(raw["uniform_int"], where + ("uniform_int",), src)
        lo = integer(lo, where + ("uniform_int", 0), src, minimum=1, maximum=MAX_DELAY)
        hi = integer(hi, where + ("uniform_int", 1), src, minimum=1, maximum=MAX_DELAY)
        if hi < lo:
            raise src.fail(where + ("uniform_int",), f"needs lo ≤ hi, got [{lo}, {hi}]")
        return rng.integers(lo, hi + 1, n).astype(np.int32)
    return np.full(n, integer(raw, where, src, minimum=1, maximum=MAX_DELAY), dtype=np.int32)


def normal_ms_delays(raw: dict, n: int, dt: float, where, src: Source,
                     rng: np.random.Generator) -> np.ndarray:
    """{normal_ms: [mean, std], min_ms: dt, max_ms: MAX_DELAY·dt}: drawn in ms, values outside
    [min_ms, max_ms] redrawn (NEST's redraw), then rounded to the nearest step, at least 1."""
    mean, std = pair(raw["normal_ms"], where + ("normal_ms",), src)
    if std < 0:
        raise src.fail(where + ("normal_ms", 1), f"std must be ≥ 0, got {std}")
    lo = number(raw.get("min_ms", dt), where + ("min_ms",), src)
    hi = number(raw.get("max_ms", MAX_DELAY * dt), where + ("max_ms",), src)
    if lo < dt / 2:
        raise src.fail(where + ("min_ms",), f"must be ≥ dt/2 = {dt / 2:g} ms (less rounds to "
                                            f"0 steps), got {lo:g}")
    if np.rint(hi / dt) > MAX_DELAY:
        raise src.fail(where + ("max_ms",), f"{hi:g} ms rounds to more than {MAX_DELAY} steps "
                                            f"of dt {dt:g} ms, the longest delay; at most "
                                            f"{MAX_DELAY * dt:g} ms")
    if lo > hi:
        raise src.fail(where + ("min_ms" if "min_ms" in raw else "max_ms",),
                       f"needs min_ms ≤ max_ms, got min_ms {lo:g} and max_ms {hi:g}")
    mass = window_mass(mean, std, lo, hi)
    if mass < MIN_WINDOW_MASS:
        raise src.fail(where + ("normal_ms",), f"[{mean:g}, {std:g}] draws only a share {mass:.2g} "
                                               f"within [min_ms, max_ms] = [{lo:g}, {hi:g}] ms; "
                                               f"the others are redrawn, so at least "
                                               f"{MIN_WINDOW_MASS:g} must fall within")
    with np.errstate(over="ignore"):  # an infinite draw is outside the window: redrawn
        ms = redraw(rng.normal(mean, std, n), lambda v: (v < lo) | (v > hi),
                    lambda m: rng.normal(mean, std, m))
    return np.maximum(np.rint(ms / dt), 1).astype(np.int32)


def window_mass(mean: float, std: float, lo: float, hi: float) -> float:
    """The share of normal(mean, std) within [lo, hi]."""
    if std == 0:
        return float(lo <= mean <= hi)
    scale = std * math.sqrt(2)
    return 0.5 * (math.erf((hi - mean) / scale) - math.erf((lo - mean) / scale))


def redraw(values: np.ndarray, wrong: Callable[[np.ndarray], np.ndarray],
           more: Callable[[int], np.ndarray]) -> np.ndarray:
    """Replace the values `wrong` marks by new draws `more(m)` until none is wrong, in rounds:
    each round draws the still-wrong ones in synapse order, so the stream, and hence the result,
    is the same on every run and machine."""
    bad = np.flatnonzero(wrong(values))
    while bad.size:
        values[bad] = more(bad.size)
        bad = bad[wrong(values[bad])]
    return values


def distribution(raw: dict, where, src: Source, noun: str,
                 options: tuple[str, ...] = ()) -> tuple[str, float, float]:
    """{uniform: [lo, hi]} or {normal: [mean, std]} as (kind, a, b), checked so that whatever
    the seed no draw is beyond float64 (`noun` names the values drawn in messages; `options`
    are further keys the caller reads, such as keep_sign)."""
    src.check_keys(raw, where, ["uniform", "normal", *options])
    kinds = [key for key in raw if key not in options]
    if len(kinds) != 1:
        raise src.fail(where, "give exactly one of uniform, normal")
    kind, arg = kinds[0], raw[kinds[0]]
    a, b = pair(arg, where + (kind,), src)
    if kind == "uniform":
        if b < a:
            raise src.fail(where + (kind,), f"needs lo ≤ hi, got [{a}, {b}]")
        if not np.isfinite(b - a):
            raise src.fail(where + (kind,), f"the width hi − lo of [{a:g}, {b:g}] is beyond the "
                                            f"range of float64 numbers (±1.8e308): narrow the range")
        return kind, a, b
    if b < 0:
        raise src.fail(where + (kind, 1), f"std must be ≥ 0, got {b}")
    if not abs(a) + NORMAL_REACH * b <= FLOAT64_MAX:
        raise src.fail(where + (kind,), f"[{a:g}, {b:g}] can draw {noun} beyond the range of "
                                        f"float64 numbers: |mean| + {NORMAL_REACH}·std must "
                                        f"stay within ±1.8e308; lower them")
    return kind, a, b


def draw(kind: str, a: float, b: float, n: int, rng: np.random.Generator, where, src: Source,
         noun: str) -> np.ndarray:
    """n values of a checked distribution (see `distribution`)."""
    if kind == "uniform":
        return rng.uniform(a, b, n)
    with np.errstate(over="ignore"):
        values = rng.normal(a, b, n)
    if not np.all(np.isfinite(values)):  # cannot happen within NORMAL_REACH: a backstop
        raise src.fail(where + (kind,), f"draws {noun} beyond the range of float64 numbers "
                                        f"(±1.8e308) from mean {a:g} and std {b:g}: lower them")
    return values


def pair(arg: object, path, src: Source) -> tuple[float, float]:
    if not (isinstance(arg, list) and len(arg) == 2):
        raise src.fail(path, f"must be a pair [a, b], got {arg!r}")
    # + 0.0 turns -0.0 into 0.0, which numpy would take for a negative std or hi - lo
    return number(arg[0], path + (0,), src) + 0.0, number(arg[1], path + (1,), src) + 0.0


def check_length(values: list, n: int, path, src: Source) -> None:
    if len(values) != n:
        raise src.fail(path, f"needs one value per synapse ({n:,}), got {len(values):,}")


def _given_once(item: dict, key: str, from_file, path, src: Source) -> None:
    """A value may come from the model or from the connectivity file, not both."""
    if key in item and from_file is not None:
        raise src.fail(path + (key,), "given both here and in the connectivity file; keep one")
