"""The `currents:` list of a model file -> IR Currents (DESIGN §2.5), realised per step later
by ir/currents.py, the one place that turns them into numbers.

    - population: NAME         a neuron population (not a spike source)
      neurons: [0, 3]          optional, distinct indices; default every neuron
      steps: [[t, value], …]   exactly one of steps (piecewise constant), ramp (piecewise
      ramp: [[t, value], …]    linear) or file (.npz with array `current`, one row per step and
      file: drive.npz          optionally one column per neuron)
"""
from __future__ import annotations

import numpy as np

from nmcompile.frontends.modelfile.fields import integer, number, shown, unknown_name
from nmcompile.frontends.modelfile.npzfiles import array_names, npz_archive
from nmcompile.frontends.modelfile.yamlmarks import Source, brief
from nmcompile.ir import MAX_STEPS, Current, Population
from nmcompile.memory import available_memory

CURRENT_KEYS = ["population", "neurons", "steps", "ramp", "file"]
KINDS = ("steps", "ramp", "file")
# reading a file's values: its bytes, and beside them float64 copies of values that may be
# stored in one byte each
FILE_MEMORY_FACTOR = 1 + 8


def load_currents(raw: object, pops: dict[str, Population], src: Source,
                  base_dir: str) -> tuple[Current, ...]:
    if not isinstance(raw, list):
        raise src.fail(("currents",), f"must be a list of currents, got {shown(raw)}")
    return tuple(load_current(i, item, pops, src, base_dir) for i, item in enumerate(raw))


def load_current(i: int, item: object, pops: dict[str, Population], src: Source,
                 base_dir: str) -> Current:
    path = ("currents", i)
    if not isinstance(item, dict):
        raise src.fail(path, f"must be a mapping with population and one of steps, ramp, file, "
                             f"got {shown(item)}")
    src.check_keys(item, path, CURRENT_KEYS, required=["population"])
    name = item["population"]
    if not isinstance(name, str) or name not in pops:
        raise src.fail(path + ("population",), unknown_name("population", name, pops))
    pop = pops[name]
    if pop.is_source:
        raise src.fail(path + ("population",), f"{name} is a spike source; it cannot receive "
                                               f"a current")
    given = [k for k in KINDS if k in item]
    if len(given) != 1:
        raise src.fail(path, "give exactly one of steps, ramp, file" +
                       (f", not {' and '.join(given)}" if given else ""))
    kind = given[0]
    neurons = None
    if "neurons" in item:
        neurons = neuron_indices(item["neurons"], pop, path + ("neurons",), src)
    where, location = path + (kind,), src.location(path)
    if kind == "file":
        width = pop.size if neurons is None else len(neurons)
        values, full = read_current_file(item[kind], width, where, src, base_dir)
        return Current(population=name, kind=kind, neurons=neurons, values=values, source=full,
                       location=location)
    return Current(population=name, kind=kind, neurons=neurons,
                   points=points(item[kind], where, src), location=location)


def neuron_indices(raw: object, pop: Population, path, src: Source) -> np.ndarray:
    """Distinct indices into the population, in the order given."""
    if not isinstance(raw, list) or not raw:
        raise src.fail(path, f"must be a non-empty list of neuron indices 0 … {pop.size - 1}, "
                             f"got {shown(raw)}")
    first: dict[int, int] = {}
    for k, n in enumerate(raw):
        n = integer(n, path + (k,), src, minimum=0, maximum=pop.size - 1)
        if first.setdefault(n, k) != k:
            raise src.fail(path + (k,), f"neuron {n} is listed twice (first at index {first[n]})")
    return np.array(list(first), dtype=np.int64)


def points(raw: object, path, src: Source) -> np.ndarray:
    """[[step, value], …]: steps integers ≥ 0, strictly increasing; values finite."""
    if not isinstance(raw, list) or not raw:
        raise src.fail(path, f"must be a non-empty list of [step, value] pairs, got {shown(raw)}")
    out = []
    for k, pair in enumerate(raw):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise src.fail(path + (k,), f"must be a [step, value] pair, got {shown(pair)}")
        step = integer(pair[0], path + (k, 0), src, minimum=0, maximum=MAX_STEPS)
        if out and step <= out[-1][0]:
            raise src.fail(path + (k, 0), f"steps must strictly increase: step {step} comes after step "
                                          f"{out[-1][0]}")
        out.append((step, number(pair[1], path + (k, 1), src)))
    return np.array(out, dtype=np.float64)


def read_current_file(arg: object, width: int, path, src: Source,
                      base_dir: str) -> tuple[np.ndarray, str]:
    """(values, full path) of an .npz holding one array `current` of integers or floats, shape
    (steps,) or (steps, width), finite as float64."""
    with npz_archive(arg, path, src, base_dir) as (archive, name, full):
        if array_names(archive) != ["current"]:
            has = brief(", ".join(sorted(array_names(archive)))) or "none"
            raise src.fail(path, f"{name} must hold one array, current; has {has}")
        member = archive.names[0]
        need, have = archive.size(member) * FILE_MEMORY_FACTOR, available_memory()
        if need > have:
            raise src.fail(path, f"{name}: reading array current needs ~{need / 2**30:,.1f} GiB, "
                                 f"but only {have / 2**30:,.1f} GiB of memory is available")
        raw = archive.array(member)
    if raw.dtype.kind not in "iuf":
        raise src.fail(path, f"{name}: array current must hold integers or floats, got {raw.dtype}")
    if raw.ndim not in (1, 2):
        raise src.fail(path, f"{name}: array current must have shape (steps,) or (steps, "
                             f"{width:,}), got {raw.shape}")
    if raw.ndim == 2 and raw.shape[1] != width:
        raise src.fail(path, f"{name}: array current needs one column per neuron of the current "
                             f"({width:,}), got shape {raw.shape}")
    if raw.shape[0] == 0:
        raise src.fail(path, f"{name}: array current holds no steps, got shape {raw.shape}")
    with np.errstate(over="ignore"):  # long doubles beyond float64 become inf: refused next
        values = raw.astype(np.float64, copy=False)
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        at = ", ".join(str(int(k)) for k in bad[0])
        raise src.fail(path, f"{name}: array current must hold finite float64 numbers (within "
                             f"±1.8e308), got {raw[tuple(bad[0])]} at [{at}]")
    return values, full
