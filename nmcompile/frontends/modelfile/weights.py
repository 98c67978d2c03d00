"""Per-synapse weights and delays of a projection: scalar, a distribution, or one value each.
The distributions ({uniform: …}, {normal: …}) serve per-neuron parameters too."""
from __future__ import annotations

import numpy as np

from nmcompile.frontends.modelfile.fields import integer, number
from nmcompile.frontends.modelfile.yamlmarks import FLOAT64_MAX, Source

MAX_DELAY = 2**16 - 1  # steps; targets impose their own, much smaller, limits
NORMAL_REACH = 40  # numpy's standard normal never draws |z| ≥ 40 (its ziggurat tail stops ~14)


def draw_weights(item: dict, from_file, n: int, path, src: Source,
                 rng: np.random.Generator) -> np.ndarray:
    """weight: scalar | {uniform: [lo, hi]} | {normal: [mean, std]} | list, in synapse order."""
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
        kind, a, b = distribution(raw, where, src, "weights")
        return draw(kind, a, b, n, rng, where, src, "weights")
    return np.full(n, number(raw, where, src))


def draw_delays(item: dict, from_file, n: int, path, src: Source,
                rng: np.random.Generator) -> np.ndarray:
    """delay (steps ≥ 1): scalar | {uniform_int: [lo, hi]} (inclusive) | list, in synapse order."""
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
        src.check_keys(raw, where, ["uniform_int"], required=["uniform_int"])
        lo, hi = pair(raw["uniform_int"], where + ("uniform_int",), src)
        lo = integer(lo, where + ("uniform_int", 0), src, minimum=1, maximum=MAX_DELAY)
        hi = integer(hi, where + ("uniform_int", 1), src, minimum=1, maximum=MAX_DELAY)
        if hi < lo:
            raise src.fail(where + ("uniform_int",), f"needs lo ≤ hi, got [{lo}, {hi}]")
        return rng.integers(lo, hi + 1, n).astype(np.int32)
    return np.full(n, integer(raw, where, src, minimum=1, maximum=MAX_DELAY), dtype=np.int32)


def distribution(raw: dict, where, src: Source, noun: str) -> tuple[str, float, float]:
    """{uniform: [lo, hi]} or {normal: [mean, std]} as (kind, a, b), checked so that whatever
    the seed no draw is beyond float64 (`noun` names the values drawn in messages)."""
    src.check_keys(raw, where, ["uniform", "normal"])
    if len(raw) != 1:
        raise src.fail(where, "give exactly one of uniform, normal")
    kind, arg = next(iter(raw.items()))
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
