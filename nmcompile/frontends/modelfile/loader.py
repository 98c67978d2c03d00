"""Model file format v1 (DESIGN §4, §2.5): YAML or JSON -> IR Network, with located errors.

Everything random is drawn here, once, from streams keyed by the seed and the object's name,
so the same file and seed give the same network on any machine. A neuron model's parameters
are read from its PARAMS table (neuronparams.py); spike sources have readers of their own.
"""
from __future__ import annotations

import math
import os

import numpy as np

from nmcompile.diagnostics import InputError, error
from nmcompile.files.inputfiles import UnreadableFile, check_regular_file, open_regular_file
from nmcompile.files.inputfiles import read_text_file
from nmcompile.memory import available_memory
from nmcompile.frontends.modelfile import modules
from nmcompile.frontends.modelfile.currents import load_currents
from nmcompile.frontends.modelfile.fields import (DOTTED_NAME_RE, NAME_RE, integer, number,
                                                  positive_number, shown, unknown_name)
from nmcompile.frontends.modelfile.learning import weight_probe
from nmcompile.frontends.modelfile.neuronparams import neuron_model
from nmcompile.frontends.modelfile.projections import build_projections
from nmcompile.frontends.modelfile.yamlmarks import Source, brief, parse
from nmcompile.ir import (MAX_STEPS, MODELS, Location, Network, Poisson, Population, Probe,
                          Projection, SpikeArray, WeightProbe, stable_rng)

FORMAT = "nmcompile/v1"
TOP_KEYS = ["format", "name", "dt", "steps", "seed", "populations", "projections", "probes",
            "currents"]
COMMON_KEYS = ["model", "size", "shape"]
SOURCE_KEYS = {"poisson": ["rate"], "spike_array": ["spikes"]}  # sources: read below
POP_KEYS = {kind: COMMON_KEYS + (SOURCE_KEYS[kind] if cls.is_source else
                                 [p.name for p in cls.PARAMS]) for kind, cls in MODELS.items()}
BYTES_PER_NEURON = 64  # rates or state and traces of a neuron in the backends, generously
MAX_NEURONS = 2**31 - 1  # per population: neuron indices are 32-bit integers
# dt in ms: 1/dt and the length of the longest run (MAX_STEPS · dt) must stay finite float64
# numbers in seconds, as simulators keep time (Brian2 divides by dt in seconds)
DT_RANGE = (1e-300, 1e300)


def load_model(path: str | os.PathLike) -> Network:
    """Read a model file; every problem is an InputError naming file, line and field."""
    path = os.fspath(path)
    try:
        check_regular_file(path)  # a FIFO or device is refused before anything opens it
        if is_chip_image(path):
            raise error(f"this is a chip image (from nmc compile -o), not a model file: run it "
                        f"with `nmc run {path} --backend emulator` (or lava-fixed); validate, "
                        f"info, compile and parity read the model's YAML/JSON", Location(path))
        text = read_text_file(path).decode("utf-8")
    except UnreadableFile as exc:
        if exc.missing:
            raise error(f"no such model file: {path}", Location(path)) from None
        raise error(exc.text("a model file") if exc.kind else
                    f"cannot read model file: {exc.reason}", Location(path)) from None
    except UnicodeDecodeError as exc:
        raise error(f"not a text (UTF-8) model file: {exc.reason} at byte {exc.start}",
                    Location(path)) from None
    doc, source = parse(text, path)
    return load_document(doc, source, base_dir=os.path.dirname(os.path.abspath(path)))


def is_chip_image(path: str) -> bool:
    """A chip image by name (.nmc, any case) or by content (a zip archive, as images are)."""
    if os.fspath(path).lower().endswith(".nmc"):
        return True
    try:
        with open_regular_file(path) as fh:  # never a FIFO or device: they may block or not end
            return fh.read(4) == b"PK\x03\x04"
    except (UnreadableFile, OSError):
        return False


def load_document(doc: object, source: Source | None = None, base_dir: str = ".") -> Network:
    """Build a Network from an already parsed document (the builder API comes through here too)."""
    src = source or Source("<document>")
    if not isinstance(doc, dict):
        raise src.fail((), f"a model must be a mapping with keys {', '.join(TOP_KEYS)}")
    src.check_keys(doc, (), TOP_KEYS + modules.TOP_KEYS, required=["format", "name"])
    if "populations" not in doc and "instances" not in doc:
        raise src.fail((), "missing required key 'populations'")
    if doc["format"] != FORMAT:
        raise src.fail(("format",), f"must be {FORMAT!r}, got {doc['format']!r}")
    name = doc["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise src.fail(("name",), f"must use letters, digits, - and _ only, got {name!r}")
    dt = positive_number(doc.get("dt", 1.0), ("dt",), src)
    if not DT_RANGE[0] <= dt <= DT_RANGE[1]:
        raise src.fail(("dt",), f"must be a step in ms from {DT_RANGE[0]:g} to {DT_RANGE[1]:g}, "
                                f"so that 1/dt and the length of any run are finite numbers "
                                f"of seconds, got {dt!r}")
    steps = integer(doc.get("steps", 100), ("steps",), src, minimum=1, maximum=MAX_STEPS)
    seed = integer(doc.get("seed", 0), ("seed",), src, minimum=0)
    doc, src, tree = modules.flatten(doc, src)  # the flattening pass: before any draw
    pops = populations(doc["populations"], dt, seed, src)
    projs = build_projections(doc.get("projections", []), pops, seed, dt, src, base_dir)
    probes, weight_probes = load_probes(doc.get("probes", []), pops, projs, src)
    currents = load_currents(doc.get("currents", []), pops, src, base_dir)
    return Network(name=name, populations=pops, projections=projs, probes=probes,
                   weight_probes=weight_probes, currents=currents, dt=dt, steps=steps, seed=seed,
                   location=src.location(()), modules=tree)


# -- populations ---------------------------------------------------------------------------
def populations(spec: object, dt: float, seed: int, src: Source) -> dict[str, Population]:
    """Each population with its model; per-neuron draws come from the seed (DESIGN §1.3)."""
    if not isinstance(spec, dict) or not spec:
        raise src.fail(("populations",), "must be a non-empty mapping of name -> population")
    out, before, have = {}, 0, available_memory()  # read once: modules make thousands
    for name, pop in spec.items():
        path = ("populations", name)
        if not isinstance(name, str) or not DOTTED_NAME_RE.match(name):
            raise src.fail(path, f"population name must use letters, digits, - and _ (parts "
                                 f"joined by dots), got {name!r}")
        out[name] = population(name, pop, path, dt, seed, src, before, have)
        before += out[name].size
    return out


def population(name: str, spec: object, path, dt: float, seed: int, src: Source,
               before: int, have: int) -> Population:
    """One population; `before`: the neurons of the populations before it, which must fit in
    `have` bytes of memory together with this one (many instances of a module add up)."""
    if not isinstance(spec, dict):
        raise src.fail(path, "must be a mapping with 'model' and 'size'")
    if "model" not in spec:
        raise src.fail(path, "missing required key 'model'")
    model = spec["model"]
    if not isinstance(model, str) or model not in POP_KEYS:
        raise src.fail(path + ("model",), f"must be one of {', '.join(POP_KEYS)}, got {model!r}")
    src.check_keys(spec, path, POP_KEYS[model], required=["size"])
    size = integer(spec["size"], path + ("size",), src, minimum=1)
    need = (before + size) * BYTES_PER_NEURON
    if need > have:
        gib = need / 2**30
        also = f" (with the {before:,} of the populations before it)" if before else ""
        raise src.fail(path + ("size",), f"{brief(f'{size:,}')} neurons{also} need ~"
                                         f"{f'{gib:,.1f}' if gib < 1e15 else f'{gib:.3g}'} GiB, "
                                         f"but only {have / 2**30:,.1f} GiB of memory is available")
    size = integer(size, path + ("size",), src, maximum=MAX_NEURONS)  # 32-bit neuron indices
    shape = None
    if "shape" in spec:
        raw = spec["shape"]
        if not isinstance(raw, list) or not raw:
            raise src.fail(path + ("shape",), f"must be a list of integers ≥ 1, got {raw!r}")
        shape = tuple(integer(d, path + ("shape", i), src, minimum=1) for i, d in enumerate(raw))
        if math.prod(shape) != size:
            raise src.fail(path + ("shape",), f"product {brief(str(math.prod(shape)))} of shape "
                                              f"{brief(str(list(shape)))} must equal size {size}")
    cls = MODELS[model]
    if not cls.is_source:
        src.check_keys(spec, path, POP_KEYS[model],
                       required=[p.name for p in cls.PARAMS if p.required])
        neuron = neuron_model(cls, spec, size, dt,
                              lambda param: stable_rng(seed, "param", name, param), path, src)
    elif model == "poisson":
        src.check_keys(spec, path, POP_KEYS[model], required=["rate"])
        neuron = Poisson(rate=rates(spec["rate"], size, dt, path + ("rate",), src))
    else:
        src.check_keys(spec, path, POP_KEYS[model], required=["spikes"])
        neuron = spike_array(spec["spikes"], size, path + ("spikes",), src)
    return Population(name=name, size=size, model=neuron, shape=shape, location=src.location(path))


def rates(raw: object, size: int, dt: float, path, src: Source) -> np.ndarray:
    """Hz per neuron; at most one spike per step (rate·dt/1000 ≤ 1), as a spike probability."""
    values = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and len(raw) != size:
        raise src.fail(path, f"needs one rate per neuron ({size}), got {len(raw)}")
    out = []
    for i, r in enumerate(values):
        where = path + (i,) if isinstance(raw, list) else path
        value = number(r, where, src)
        if value < 0:
            raise src.fail(where, f"must be a rate in Hz ≥ 0, got {r!r}")
        if value * dt / 1000.0 > 1.0:
            raise src.fail(where, f"rate {r!r} Hz is more than one spike per step of dt {dt:g} ms "
                                  f"(rate·dt/1000 = {value * dt / 1000.0:g} > 1); "
                                  f"at most {1000.0 / dt:g} Hz")
        out.append(value)
    return np.full(size, out[0]) if not isinstance(raw, list) else np.array(out, dtype=float)


def spike_array(raw: object, size: int, path, src: Source) -> SpikeArray:
    if not isinstance(raw, list):
        raise src.fail(path, f"must be a list of [neuron, step] pairs, got {raw!r}")
    pairs: dict[tuple[int, int], int] = {}
    for i, pair in enumerate(raw):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise src.fail(path + (i,), f"must be a [neuron, step] pair, got {brief(repr(pair))}")
        neuron = integer(pair[0], path + (i, 0), src, minimum=0, maximum=size - 1)
        step = integer(pair[1], path + (i, 1), src, minimum=0, maximum=MAX_STEPS)
        first = pairs.setdefault((step, neuron), i)
        if first != i:  # a neuron spikes at most once per step: a repeat is a slip, not a merge
            raise src.fail(path + (i,), f"spike [{neuron}, {step}] is listed twice (first at "
                                        f"index {first})")
    ordered = sorted(pairs)
    steps = np.array([s for s, _ in ordered], dtype=np.int64)
    neurons = np.array([n for _, n in ordered], dtype=np.int64)
    return SpikeArray(neurons=neurons, steps=steps)


# -- probes --------------------------------------------------------------------------------
def load_probes(raw: object, pops: dict[str, Population], projs: tuple[Projection, ...],
                src: Source) -> tuple[tuple[Probe, ...], tuple[WeightProbe, ...]]:
    """State probes {population, var} and weight probes {projection, every}, in file order."""
    if not isinstance(raw, list):
        raise src.fail(("probes",), f"must be a list of {{population, var}}, got {raw!r}")
    out, seen, weights, by_name = [], set(), [], {p.name: p for p in projs}
    for i, spec in enumerate(raw):
        path = ("probes", i)
        if not isinstance(spec, dict):
            raise src.fail(path, f"must be a mapping {{population: NAME, var: NAME}}, got {spec!r}")
        if "projection" in spec:
            probe = weight_probe(spec, path, by_name, src)
            if any(p.projection == probe.projection for p in weights):
                raise src.fail(path, f"duplicate weight probe of {probe.projection}")
            weights.append(probe)
            continue
        src.check_keys(spec, path, ["population", "var"], required=["population", "var"])
        pop, var = spec["population"], spec["var"]
        if not isinstance(pop, str) or pop not in pops:
            raise src.fail(path + ("population",), unknown_name("population", pop, pops))
        if pops[pop].is_source:
            raise src.fail(path + ("population",),
                           f"{pop} is a spike source: it has no state to record")
        state = pops[pop].model.STATE
        if var not in state:
            raise src.fail(path + ("var",), f"must be one of {', '.join(state)} (the state of "
                                            f"{pops[pop].model.kind} population {pop}), got "
                                            f"{shown(var)}")
        if (pop, var) in seen:
            raise src.fail(path, f"duplicate probe of {pop}.{var}")
        seen.add((pop, var))
        out.append(Probe(population=pop, var=var, location=src.location(path)))
    return tuple(out), tuple(weights)


__all__ = ["FORMAT", "load_model", "load_document", "InputError"]
