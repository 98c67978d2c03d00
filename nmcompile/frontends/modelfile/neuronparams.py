"""A neuron model's parameters, read from a population's spec by following the model's PARAMS
table (ir/models/params.py), so that a new neuron model needs no edit here (DESIGN §2.5, §4.3).

Each kind of parameter has one check (tau, threshold, number, steps, choice). A per-neuron
parameter may also be a list (one value per neuron, each checked) or a distribution drawn once
from stable_rng(seed, "param", population, parameter). A list stays a float64 array even when
its values are all equal — the network holds what was written, so a saved network loads back
equal (LIF equality tells the array [x, x] from the scalar x) — and a scalar stays a float.
"""
from __future__ import annotations

import difflib
import math
from typing import Callable

import numpy as np

from nmcompile.frontends.modelfile.fields import (INF_WORDS, integer, number, positive_number,
                                                  shown)
from nmcompile.frontends.modelfile.weights import distribution, draw
from nmcompile.frontends.modelfile.yamlmarks import Source
from nmcompile.ir import MAX_STEPS, Param, decay_fraction

PER_NEURON_KINDS = ("number", "tau", "threshold")  # float kinds: a list or a draw is an array


def neuron_model(cls: type, spec: dict, size: int, dt: float, rng_of: Callable, path,
                 src: Source):
    """An instance of `cls` from the population spec (its keys already checked); `rng_of(name)`
    is the generator of parameter `name`'s draws."""
    values = {}
    for param in cls.PARAMS:
        if param.name not in spec:
            values[param.name] = param.default  # a required one is missing: check_keys said so
            continue
        raw, where = spec[param.name], path + (param.name,)
        if param.per_neuron and isinstance(raw, (list, dict)):
            values[param.name] = per_neuron_values(param, raw, size, dt, rng_of, where, src)
        else:
            values[param.name] = value(param, raw, dt, where, src)
    model = cls(**values)
    problems = getattr(model, "problems", list)  # ranges between parameters (v_peak above c)
    for name, message in problems():
        raise src.fail(path + (name,) if name in spec else path, message)
    return model


def value(param: Param, raw: object, dt: float, path, src: Source):
    """One value of a parameter, checked by its kind."""
    return KINDS[param.kind](param, raw, dt, path, src)


def per_neuron_values(param: Param, raw: list | dict, size: int, dt: float, rng_of: Callable,
                      path, src: Source) -> np.ndarray:
    """A list of one value per neuron, or {uniform: [lo, hi]} / {normal: [mean, std]} drawn."""
    if param.kind not in PER_NEURON_KINDS:
        raise TypeError(f"parameter {param.name}: per-neuron values of kind {param.kind} are "
                        f"not supported")
    if isinstance(raw, list):
        if len(raw) != size:
            raise src.fail(path, f"needs one value per neuron ({size:,}), got {len(raw):,}")
        return np.array([value(param, v, dt, path + (i,), src) for i, v in enumerate(raw)],
                        dtype=np.float64)
    kind, a, b = distribution(raw, path, src, "values")
    if param.kind != "number":  # a bounded kind: every draw must lie within its bounds
        if kind == "normal":
            raise src.fail(path + (kind,), f"a normal distribution can draw any number, but "
                                           f"{param.name} is a {param.kind}: use "
                                           f"{{uniform: [lo, hi]}}")
        for end, x in enumerate((a, b)):  # the checks are monotone: both ends pass, all do
            value(param, x, dt, path + (kind, end), src)
    return draw(kind, a, b, size, rng_of(param.name), path, src, "values")


def time_constant(raw: object, dt: float, path, src: Source, *, allow_zero: bool = False) -> float:
    """A tau in ms (> 0, or .inf for no decay; with allow_zero also 0, all lost each step) whose
    decay per step, 1 − exp(−dt/tau), is a float64 number > 0: a finite tau so long that it
    rounds to 0 would silently mean .inf."""
    tau = positive_number(raw, path, src, allow_inf=True, allow_zero=allow_zero)
    if math.isfinite(tau) and not decay_fraction(dt, tau) > 0:
        raise src.fail(path, f"{tau:g} ms decays by 1 − exp(−dt/tau) = 0 per step of dt {dt:g} ms "
                             f"in float64 (dt/tau = {dt / tau:.3g}): write .inf for no decay, or "
                             f"a tau ≤ {dt * 2**52:.3g} ms")
    return tau


def threshold(raw: object, path, src: Source) -> float:
    """A number > 0, or .inf (never reached)."""
    if isinstance(raw, str) and raw.strip().lower() in INF_WORDS:
        return math.inf
    x = number(raw, path, src, finite=False)
    if not x > 0:
        raise src.fail(path, f"must be a number > 0, got {raw!r}")
    return x


def choice(raw: object, choices: tuple[str, ...], path, src: Source) -> str:
    """One of `choices`; a slip gets a did-you-mean."""
    if isinstance(raw, str) and raw in choices:
        return raw
    close = difflib.get_close_matches(str(raw), choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise src.fail(path, f"must be one of {', '.join(choices)}, got {shown(raw)}{hint}")


KINDS: dict[str, Callable] = {  # Param.kind -> its check (param, raw, dt, path, src) -> value
    "tau": lambda p, raw, dt, path, src: time_constant(raw, dt, path, src,
                                                       allow_zero=p.allow_zero),
    "threshold": lambda p, raw, dt, path, src: threshold(raw, path, src),
    "number": lambda p, raw, dt, path, src: number(raw, path, src),
    "steps": lambda p, raw, dt, path, src: integer(raw, path, src, minimum=0, maximum=MAX_STEPS),
    "choice": lambda p, raw, dt, path, src: choice(raw, p.choices, path, src),
}
