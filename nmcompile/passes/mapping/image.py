"""Chip image (`.nmc`): one versioned zip holding a QuantizedNetwork, its mapping and provenance.

Layout: `header.json` (magic, format version, nmcompile version, model hash, target,
every scalar register, the mapping summary, a hash of the arrays, and a hash of the header
itself) plus one `.npy` per array (synapses, weights, delays, sources, per-neuron parameters
and registers, injected currents, mapping blocks); a parameter or register that may differ
per neuron is a number in the header when every neuron shares it, else null there and an
array (and a parameter left at a default that is no number, Izhikevich's u_init = b·v_init,
is absent). Each neuron population carries its model's parameters under its kind (`lif`,
`izhikevich`, `adaptive_lif`, as the model's PARAMS list them) and its registers with their
kind (the fields of FixedLIF, FixedIzhikevich, FixedAdaptiveLIF; a coefficient (mantissa,
shift) is a list of two integers). The float model (its currents included) travels with it,
so the image alone rebuilds the exact QuantizedNetwork the emulator consumes. On reading,
the header hash (its canonical JSON, which holds the arrays' hash) covers every register and
array, the header's structure is checked key by key, and the model hash is recomputed.
Written atomically, each array streamed into its deflated member (no copy of it is held: a
network of 300 million synapses takes 7 GB of arrays); a damaged, truncated, edited or
foreign file is an InputError, never a traceback.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from nmcompile import __version__
from nmcompile.diagnostics import InputError, error
from nmcompile.files.atomic import atomic_output
from nmcompile.files.inputfiles import NpyArchive, UnreadableFile, printable
from nmcompile.ir import (MAX_STEPS, MODELS, Current, FixedAdaptiveLIF, FixedIzhikevich,
                          FixedLIF, FixedNeurons, FixedProjection, Location, Network, Poisson,
                          Population, Probe, Projection, QuantizedNetwork, SpikeArray,
                          decay_fraction)
from nmcompile.ir.currents import KINDS as CURRENT_KINDS

from .blocks import Mapping

MAGIC = "nmcompile-chip-image"
# 2: the header hash covers the registers; 3: LIF variants (reset, initial values, per-neuron
# bias), their registers, and injected currents; 4: Izhikevich and adaptive LIF populations,
# every neuron population's parameters under its kind and its registers with their kind
FORMAT_VERSION = 4
HEADER = "header.json"
SIGN_MODES = ("excitatory", "inhibitory", "mixed")  # as Lava's SignMode
NEURON_MODELS = {kind: cls for kind, cls in MODELS.items() if not cls.is_source}
FIXED = {"lif": FixedLIF, "izhikevich": FixedIzhikevich, "adaptive_lif": FixedAdaptiveLIF}
STATE_LIMIT = 2 ** 23 - 1  # 24-bit state registers
# a member written as a stream must say beforehand whether it may pass zip's 2 GiB limit
ZIP64_FROM = 2**30
# zlib's fastest level: 2-4x faster than its default (6) on synapse arrays, whose float64
# weights barely compress at any level (measured on the microcircuit: 27 against 13 MB/s for
# weights, 46 against 14 for post indices; a file 10 % larger)
DEFLATE_LEVEL = 1


@dataclass(frozen=True, eq=False)
class ChipImage:
    qnet: QuantizedNetwork
    mapping: Mapping
    header: dict


def model_hash(net: Network) -> str:
    """sha256 of everything that defines the model (names, parameters, every synapse)."""
    h = hashlib.sha256(json.dumps(_network_doc(net), sort_keys=True).encode())
    for key, array in sorted(_network_arrays(net).items()):
        h.update(key.encode())
        h.update(np.ascontiguousarray(array))  # its bytes, read in place: no copy
    return h.hexdigest()


def write_image(path: str, qnet: QuantizedNetwork, mapping: Mapping) -> None:
    """Write the image atomically (temporary file in the same folder, renamed when complete).
    A plastic projection is refused: this format holds no learning rule, and an image run
    without it would learn nothing."""
    net = qnet.network
    plastic = net.plastic_projections()
    if plastic:
        raise error(f"projection {plastic[0].name}: a chip image (format {FORMAT_VERSION}) "
                    f"holds no learning rule yet, so its run would not learn: compile without "
                    f"-o for the report, run the model file itself", plastic[0].location,
                    code="NM622")
    fixed = [{"name": p.name, "pre": p.pre, "post": p.post, "weight_exp": int(p.weight_exp),
              "num_weight_bits": int(p.num_weight_bits), "sign_mode": p.sign_mode}
             for p in qnet.projections]
    arrays = dict(_network_arrays(net))
    fixed_pops = {}
    for name, f in qnet.populations.items():
        i = _index(net, name)
        doc = {}
        for key, spec in FIXED_SPECS[f.kind].items():  # "kind" first: a class attribute
            value = getattr(f, key)
            doc[key] = _register_doc(value, spec)
            if isinstance(value, np.ndarray):
                arrays[f"fixedpop/{i}/{key}"] = np.ascontiguousarray(value, np.int32)
        fixed_pops[name] = doc
    header = {"magic": MAGIC, "format_version": FORMAT_VERSION, "nmcompile_version": __version__,
              "model_hash": model_hash(net), "target": qnet.target, "network": _network_doc(net),
              "fixed_populations": fixed_pops,
              "fixed_projections": fixed,
              "mapping": {"target": mapping.target, "cores_per_chip": mapping.cores_per_chip,
                          "populations": list(mapping.populations),
                          "placement": mapping.placement, "cores_used": int(mapping.cores.size),
                          "chips_used": mapping.n_chips}}
    for i, p in enumerate(qnet.projections):
        arrays[f"fixed/{i}/weight_mant"] = p.weight_mant
    arrays.update({f"mapping/{k}": v for k, v in mapping.to_arrays().items()})
    header["arrays_sha256"] = _arrays_hash(arrays)
    header["header_sha256"] = _header_hash(header)
    with atomic_output(path) as fh, \
            zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=DEFLATE_LEVEL) as zf:
        zf.writestr(HEADER, json.dumps(header, indent=1))
        for key, array in arrays.items():  # streamed: numpy writes 16 MiB at a time, deflated
            array = np.ascontiguousarray(array)
            with zf.open(f"{key}.npy", "w", force_zip64=array.nbytes > ZIP64_FROM) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def read_image(path: str | os.PathLike) -> ChipImage:
    """The image at `path`; InputError naming the file for anything that is not a sound image."""
    path = os.fspath(path)
    def bad(why: str) -> InputError:
        return _image_error(path, f"not a readable nmcompile chip image: {why}")
    try:
        with NpyArchive(path) as zf:  # a FIFO or device is refused before it is opened
            names = set(zf.names)
            if HEADER not in names:
                raise bad(f"no {HEADER} (a foreign zip file?)")
            header = json.loads(zf.read(HEADER))
            if not isinstance(header, dict) or header.get("magic") != MAGIC:
                found = header.get("magic") if isinstance(header, dict) else None
                raise bad(f"wrong magic {found!r}")
            if header.get("format_version") != FORMAT_VERSION:
                raise bad(f"format version {header.get('format_version')!r}; this nmcompile "
                          f"{__version__} reads version {FORMAT_VERSION} only: compile the "
                          f"model again (nmc compile) to get an image it reads")
            if _header_hash(header) != header.get("header_sha256"):
                raise bad("header hash mismatch (the header was altered)")
            arrays = {n[:-4]: zf.array(n) for n in names if n.endswith(".npy")}
            if _arrays_hash(arrays) != header.get("arrays_sha256"):
                raise bad("array hash mismatch (the content was altered)")
        problem = _structure_problem(header, HEADER_SPEC, "header")
        if problem:
            raise bad(problem)
        image = _rebuild(header, arrays)
        if model_hash(image.qnet.network) != header["model_hash"]:
            raise bad("model hash mismatch (the content was altered)")
    except InputError:
        raise
    except UnreadableFile as exc:  # not a regular file, or bytes no zip reader makes sense of
        if exc.missing:
            raise _image_error(path, "no such file") from None
        if exc.kind:
            raise _image_error(path, exc.text("a chip image")) from None
        raise bad(exc.reason) from None
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, OverflowError,
            MemoryError) as exc:  # the header's JSON, or parts that disagree
        raise bad(f"damaged content ({type(exc).__name__}: "
                  f"{printable(str(exc).splitlines()[0] if str(exc) else '')})") from None
    return image


def _header_hash(header: dict) -> str:
    """sha256 of the header's canonical JSON without this hash: every register and, through
    arrays_sha256, every array."""
    rest = {k: v for k, v in header.items() if k != "header_sha256"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def _arrays_hash(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key, array in sorted(arrays.items()):
        h.update(f"{key}:{array.dtype.str}:{array.shape}".encode())
        h.update(np.ascontiguousarray(array))
    return h.hexdigest()


# -- the header's structure: every key, its type; checked before anything is built from it ---
INT, NUM, STR, BOOL = "an integer", "a number", "a string", "a boolean"
PAIR = [INT]  # a coefficient (mantissa, shift); its length is checked with the values


def _param_spec(model: type) -> dict:
    """A neuron model's parameters in the header, from its PARAMS: a per-neuron value is a
    number or null (an array), absent when left at a default that is no number."""
    spec = {}
    for p in model.PARAMS:
        if p.per_neuron:
            spec[p.name + ("?" if p.default is None else "")] = (None, NUM)
        else:
            spec[p.name] = {"steps": INT, "choice": STR}.get(p.kind, NUM)
    return spec


class ByKind(dict):
    """A mapping spec chosen by the value's "kind" key (one spec per kind)."""


PARAM_SPECS = {kind: _param_spec(cls) for kind, cls in NEURON_MODELS.items()}
PER_NEURON_PARAMS = {kind: tuple(p.name for p in cls.PARAMS if p.per_neuron)
                     for kind, cls in NEURON_MODELS.items()}  # a number, or pop/<i>/<name>
FIXED_SPECS = {
    "lif": {"kind": STR, "du": INT, "dv": INT, "vth": INT, "bias_mant": (None, INT),
            "bias_exp": (None, INT), "u_init": (None, INT), "v_init": (None, INT),
            "refractory": INT, "reset": STR, "spiking": BOOL, "scale": NUM},
    "izhikevich": {"kind": STR, "frac_bits": INT, "di": INT, "k0": PAIR, "k1": PAIR, "b": PAIR,
                   "g": PAIR, "dt": PAIR, "dt_a": PAIR, "k2": INT, "v_b": INT, "v_peak": INT,
                   "c": INT, "d": INT, "bias": (None, INT), "v_init": (None, INT),
                   "u_init": (None, INT), "state_limit": INT, "derivative_limit": INT},
    "adaptive_lif": {"kind": STR, "di": INT, "dv": INT, "dtheta": INT, "dr": INT,
                     "theta_0": INT, "theta_step": INT, "bias_mant": (None, INT),
                     "bias_exp": (None, INT), "scale": NUM},
}
PER_NEURON_REGISTERS = {kind: tuple(k for k, v in spec.items() if v == (None, INT))
                        for kind, spec in FIXED_SPECS.items()}  # or fixedpop/<i>/<name>
HEADER_SPEC = {
    "magic": STR, "format_version": INT, "nmcompile_version": STR, "model_hash": STR,
    "target": STR, "arrays_sha256": STR, "header_sha256": STR,
    "network": {"name": STR, "dt": NUM, "steps": INT, "seed": INT,
                "populations": [{"name": STR, "size": INT, "kind": STR, "shape": (None, [INT]),
                                 **{f"{kind}?": spec for kind, spec in PARAM_SPECS.items()}}],
                "projections": [{"name": STR, "pre": STR, "post": STR}],
                "probes": [{"population": STR, "var": STR}],
                "currents": [{"population": STR, "kind": STR, "source": (None, STR)}]},
    "fixed_populations": {"*": ByKind(FIXED_SPECS)},
    "fixed_projections": [{"name": STR, "pre": STR, "post": STR, "weight_exp": INT,
                           "num_weight_bits": INT, "sign_mode": STR}],
    "mapping": {"target": STR, "cores_per_chip": INT, "populations": [STR], "placement": STR,
                "cores_used": INT, "chips_used": INT},
}
_SCALARS = {INT: (int,), NUM: (int, float), STR: (str,), BOOL: (bool,)}


def _structure_problem(value, spec, where: str) -> str | None:
    """Why `value` does not fit `spec` (a type name, [item spec], (None, spec) for optional,
    {key: spec} with `key?` optional and "*" for any name, ByKind for one of several mapping
    specs named by the value's "kind"), or None."""
    if isinstance(spec, tuple):
        return None if value is None else _structure_problem(value, spec[1], where)
    if isinstance(spec, ByKind):
        kind = value.get("kind") if isinstance(value, dict) else None
        if kind not in spec:
            return f"{where}.kind must be one of {', '.join(spec)}"
        return _structure_problem(value, spec[kind], where)
    if isinstance(spec, str):
        ok = isinstance(value, _SCALARS[spec]) and (spec == BOOL) == isinstance(value, bool)
        return None if ok else f"{where} must be {spec}, got {json.dumps(value)[:40]}"
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} must be a list"
        return next(filter(None, (_structure_problem(v, spec[0], f"{where}[{i}]")
                                  for i, v in enumerate(value))), None)
    if not isinstance(value, dict):
        return f"{where} must be a mapping"
    if "*" in spec:
        return next(filter(None, (_structure_problem(v, spec["*"], f"{where}.{k}")
                                  for k, v in value.items())), None)
    keys = {k.rstrip("?"): k for k in spec}
    missing = [k for k, full in keys.items() if k not in value and not full.endswith("?")]
    unknown = [k for k in value if k not in keys]
    if missing:
        return f"{where}: missing key {', '.join(missing)}"
    if unknown:
        return f"{where}: unknown key {', '.join(unknown)}"
    return next(filter(None, (_structure_problem(v, spec[keys[k]], f"{where}.{k}")
                              for k, v in value.items())), None)


def _image_error(path: str, message: str) -> InputError:
    return error(message, Location(path), code="NM620")


# -- (de)serialising the float network ------------------------------------------------------
def _index(net: Network, population: str) -> int:
    """A population's position in the network: the <i> of its array keys."""
    return list(net.populations).index(population)


def _in_header(value, kind: type) -> float | int | None:
    """A value that may differ per neuron as the header holds it: the number, or None for an
    array, which is stored as an .npy member (an array stays an array, even of equal values:
    the round trip is exact)."""
    return None if isinstance(value, np.ndarray) else kind(value)


def _register_doc(value, spec):
    """A register as the header holds it (a per-neuron array: null)."""
    if spec == PAIR:
        return [int(x) for x in value]
    if spec == (None, INT):
        return _in_header(value, int)
    return {INT: int, NUM: float, STR: str, BOOL: bool}[spec](value)


def _params_doc(model) -> dict:
    """A neuron model's parameters as PARAM_SPECS describes them."""
    doc = {}
    for p in model.PARAMS:
        value = getattr(model, p.name)
        if p.per_neuron:
            if value is not None:
                doc[p.name] = _in_header(value, float)
        else:
            doc[p.name] = {"steps": int, "choice": str}.get(p.kind, float)(value)
    return doc


def _network_doc(net: Network) -> dict:
    pops = []
    for p in net.populations.values():
        doc = {"name": p.name, "size": p.size, "kind": p.model.kind,
               "shape": list(p.shape) if p.shape else None}
        if p.model.kind in NEURON_MODELS:
            doc[p.model.kind] = _params_doc(p.model)
        pops.append(doc)
    return {"name": net.name, "dt": net.dt, "steps": net.steps, "seed": net.seed,
            "populations": pops,
            "projections": [{"name": p.name, "pre": p.pre, "post": p.post}
                            for p in net.projections],
            "probes": [{"population": p.population, "var": p.var} for p in net.probes],
            "currents": [{"population": c.population, "kind": c.kind, "source": c.source}
                         for c in net.currents]}


def _network_arrays(net: Network) -> dict[str, np.ndarray]:
    out = {}
    for i, p in enumerate(net.populations.values()):
        if isinstance(p.model, Poisson):
            out[f"pop/{i}/rate"] = np.asarray(p.model.rate, np.float64)
        elif isinstance(p.model, SpikeArray):
            out[f"pop/{i}/neurons"] = np.asarray(p.model.neurons, np.int64)
            out[f"pop/{i}/steps"] = np.asarray(p.model.steps, np.int64)
        elif p.model.kind in NEURON_MODELS:
            out.update({f"pop/{i}/{key}": np.ascontiguousarray(getattr(p.model, key), np.float64)
                        for key in PER_NEURON_PARAMS[p.model.kind]
                        if isinstance(getattr(p.model, key), np.ndarray)})
    for i, p in enumerate(net.projections):
        for field in ("pre_idx", "post_idx", "weight", "delay"):
            out[f"proj/{i}/{field}"] = getattr(p, field)
    for i, c in enumerate(net.currents):
        for field, dtype in (("neurons", np.int64), ("points", np.float64),
                             ("values", np.float64)):
            if getattr(c, field) is not None:
                out[f"current/{i}/{field}"] = np.asarray(getattr(c, field), dtype)
    return out


def _array_rule(key: str) -> tuple[str, int]:
    """(dtype kinds, largest ndim) an array of this key may have."""
    if key.startswith("current/") and key.endswith(("/points", "/values")):
        return "fiu", 2
    floats = {"rate"}.union(*PER_NEURON_PARAMS.values())
    if key.startswith("pop/") and key.endswith(tuple(f"/{k}" for k in floats)) \
            or key.startswith("proj/") and key.endswith("/weight"):
        return "fiu", 1
    return "iu", 1


def _rebuild(header: dict, arrays: dict[str, np.ndarray]) -> ChipImage:
    """The image from a header of sound structure; ValueError/KeyError where parts disagree."""
    for key, array in arrays.items():
        kinds, ndim = _array_rule(key)
        if array.ndim > ndim or array.dtype.kind not in kinds:
            raise ValueError(f"array {key}: unexpected {array.dtype} of shape {array.shape}")
    doc = header["network"]
    pops = {}
    for i, d in enumerate(doc["populations"]):
        given = [kind for kind in NEURON_MODELS if kind in d]
        if d["kind"] not in MODELS or given != ([d["kind"]] if d["kind"] in NEURON_MODELS
                                                else []):
            raise ValueError(f"population {d['name']}: kind {d['kind']!r} with parameters of "
                             f"{', '.join(given) or 'no neuron model'}")
        if d["kind"] in NEURON_MODELS:
            params = {k: (np.asarray(arrays[f"pop/{i}/{k}"], np.float64) if v is None else v)
                      for k, v in d[d["kind"]].items()}
            model = NEURON_MODELS[d["kind"]](**params)
        elif d["kind"] == "poisson":
            model = Poisson(rate=arrays[f"pop/{i}/rate"])
        else:
            model = SpikeArray(neurons=arrays[f"pop/{i}/neurons"], steps=arrays[f"pop/{i}/steps"])
        pops[d["name"]] = Population(name=d["name"], size=int(d["size"]), model=model,
                                     shape=tuple(d["shape"]) if d["shape"] else None)
    projs = tuple(Projection(name=d["name"], pre=d["pre"], post=d["post"],
                             **{f: arrays[f"proj/{i}/{f}"]
                                for f in ("pre_idx", "post_idx", "weight", "delay")})
                  for i, d in enumerate(doc["projections"]))
    currents = tuple(Current(population=d["population"], kind=d["kind"], source=d["source"],
                             **{f: arrays.get(f"current/{i}/{f}")
                                for f in ("neurons", "points", "values")})
                     for i, d in enumerate(doc["currents"]))
    net = Network(name=doc["name"], populations=pops, projections=projs,
                  probes=tuple(Probe(**p) for p in doc["probes"]), currents=currents,
                  dt=float(doc["dt"]), steps=int(doc["steps"]), seed=int(doc["seed"]))
    if any(name in pops and f["kind"] != pops[name].model.kind
           for name, f in header["fixed_populations"].items()):
        raise ValueError("a fixed population's kind differs from its population's model")
    fixed_pops = {name: _fixed_population(f, _index(net, name), arrays)
                  for name, f in header["fixed_populations"].items()}
    fixed_projs = tuple(FixedProjection(**d, pre_idx=projs[i].pre_idx,
                                        post_idx=projs[i].post_idx, delay=projs[i].delay,
                                        weight_mant=arrays[f"fixed/{i}/weight_mant"])
                        for i, d in enumerate(header["fixed_projections"]))
    m = header["mapping"]
    mapping = Mapping(target=m["target"], cores_per_chip=int(m["cores_per_chip"]),
                      populations=tuple(m["populations"]), placement=m["placement"],
                      **{k: arrays[f"mapping/{k}"]
                         for k in ("block_pop", "block_start", "block_stop", "block_core")})
    _check_consistent(net, fixed_pops, fixed_projs, mapping)
    _check_values(net, fixed_pops, fixed_projs)
    qnet = QuantizedNetwork(network=net, target=header["target"], populations=fixed_pops,
                            projections=fixed_projs)
    return ChipImage(qnet=qnet, mapping=mapping, header=header)


def _fixed_population(doc: dict, i: int, arrays: dict[str, np.ndarray]) -> FixedNeurons:
    """The registers of one population from its header entry (of sound structure); those
    given as null come from fixedpop/<i>/."""
    spec = FIXED_SPECS[doc["kind"]]
    values = {}
    for key, value in doc.items():
        if key == "kind":
            continue
        if value is None:
            values[key] = np.asarray(arrays[f"fixedpop/{i}/{key}"], np.int32)
        elif spec[key] == PAIR:
            if len(value) != 2:
                raise ValueError(f"register {key}: a coefficient is [mantissa, shift]")
            values[key] = (int(value[0]), int(value[1]))
        else:
            values[key] = {INT: int, NUM: float}.get(spec[key], lambda x: x)(value)
    return FIXED[doc["kind"]](**values)


def _check_consistent(net: Network, fixed_pops: dict[str, FixedNeurons],
                      fixed: tuple[FixedProjection, ...], mapping: Mapping) -> None:
    """Names, shapes and index ranges, so a doctored image fails here rather than in a backend."""
    if set(fixed_pops) != {p.name for p in net.neuron_populations()}:
        raise ValueError("fixed_populations do not name the neuron populations")
    if [(p.name, p.pre, p.post) for p in net.projections] != [(f.name, f.pre, f.post)
                                                               for f in fixed]:
        raise ValueError("fixed_projections do not match the projections")
    if not {p.population for p in net.probes} <= set(net.populations):
        raise ValueError("a probe names an unknown population")
    if any(f.sign_mode not in SIGN_MODES for f in fixed):
        raise ValueError(f"a sign_mode is not one of {', '.join(SIGN_MODES)}")
    if sorted(mapping.populations) != sorted(fixed_pops) or (
            mapping.block_pop.size and not 0 <= mapping.block_pop.min()
            <= mapping.block_pop.max() < len(mapping.populations)):
        raise ValueError("the mapping does not place the neuron populations")
    for proj, fp in zip(net.projections, fixed):
        n = proj.n_synapses
        if not (proj.post_idx.size == proj.weight.size == proj.delay.size == fp.weight_mant.size
                == n):
            raise ValueError(f"projection {proj.name}: array lengths differ")
        if n and (proj.pre_idx.max() >= net.populations[proj.pre].size
                  or proj.post_idx.max() >= net.populations[proj.post].size
                  or min(proj.pre_idx.min(), proj.post_idx.min()) < 0 or proj.delay.min() < 1):
            raise ValueError(f"projection {proj.name}: neuron index out of range")
    if len({a.size for a in mapping.to_arrays().values()}) > 1:
        raise ValueError("mapping arrays differ in length")
    for pop in net.neuron_populations():
        values = [getattr(pop.model, k) for k in PER_NEURON_PARAMS[pop.model.kind]]
        values += [getattr(fixed_pops[pop.name], k) for k in PER_NEURON_REGISTERS[pop.model.kind]]
        if any(isinstance(x, np.ndarray) and x.shape != (pop.size,) for x in values):
            raise ValueError(f"population {pop.name}: a per-neuron array is not one per neuron")
    for c in net.currents:
        pop = net.populations.get(c.population)
        if pop is None or pop.is_source or c.kind not in CURRENT_KINDS:
            raise ValueError(f"a current names no neuron population or an unknown kind "
                             f"{c.kind!r}")
        if not _current_fits(c, pop):
            raise ValueError(f"current into {c.population}: its arrays do not fit its kind "
                             f"{c.kind!r} and population")


def _current_fits(c: Current, pop: Population) -> bool:
    """The arrays a current of its kind needs, shaped for the neurons it drives."""
    if c.kind == "file":
        width = pop.size if c.neurons is None else c.neurons.size
        if c.points is not None or c.values is None or not c.values.shape[0] \
                or (c.values.ndim == 2 and c.values.shape[1] != width):
            return False
    elif c.values is not None or c.points is None or c.points.ndim != 2 \
            or c.points.shape[1] != 2 or not c.points.shape[0]:
        return False
    return c.neurons is None or (c.neurons.ndim == 1 and c.neurons.size > 0
                                 and np.unique(c.neurons).size == c.neurons.size
                                 and c.neurons.min() >= 0 and c.neurons.max() < pop.size)


def _check_values(net: Network, fixed_pops: dict[str, FixedNeurons],
                  fixed: tuple[FixedProjection, ...]) -> None:
    """Every value within what the model loader and the quantizer produce, so that a forged
    image (hashes recomputed) cannot feed a backend NaN, inf or registers beyond their bits."""
    from nmcompile.frontends.modelfile import DT_RANGE, MAX_DELAY, MAX_NEURONS

    def need(ok, what: str) -> None:
        if not ok:
            raise ValueError(what)
    need(DT_RANGE[0] <= net.dt <= DT_RANGE[1], f"dt {net.dt!r} out of range")
    need(1 <= net.steps <= MAX_STEPS and net.seed >= 0, "steps or seed out of range")
    for pop in net.populations.values():
        m, n = pop.model, pop.size
        need(1 <= n <= MAX_NEURONS and (pop.shape is None or math.prod(pop.shape) == n),
             f"population {pop.name}: size {n} or shape {pop.shape} out of range")
        if m.kind in NEURON_MODELS:
            need(_params_within(m, net.dt),
                 f"population {pop.name}: {type(m).__name__} parameters out of range")
        elif isinstance(m, Poisson):
            need(m.rate.shape == (n,) and bool(np.all((m.rate >= 0) & (m.rate * net.dt <= 1000.0))),
                 f"population {pop.name}: rates out of range")
        else:
            need(m.neurons.shape == m.steps.shape and (not m.steps.size or (
                 m.neurons.min() >= 0 and m.neurons.max() < n and m.steps.min() >= 0
                 and m.steps.max() <= MAX_STEPS)),
                 f"population {pop.name}: spikes out of range")
    for proj in net.projections:
        need(bool(np.all(np.isfinite(proj.weight))) and (not proj.delay.size or (
             proj.delay.min() >= 1 and proj.delay.max() <= MAX_DELAY)),
             f"projection {proj.name}: weights or delays out of range")
    for c in net.currents:
        steps = None if c.points is None else c.points[:, 0]
        need(all(bool(np.all(np.isfinite(x))) for x in (c.points, c.values) if x is not None)
             and (steps is None or (steps.min() >= 0 and steps.max() <= MAX_STEPS
                                    and bool(np.all(steps == np.floor(steps)))
                                    and bool(np.all(np.diff(steps) > 0)))),
             f"current into {c.population}: values or steps out of range")
    for name, f in fixed_pops.items():
        m = net.populations[name].model
        need(REGISTERS_WITHIN[f.kind](f), f"fixed population {name}: register out of range")
        if isinstance(f, FixedLIF):
            need((f.refractory, f.reset, f.spiking) == (m.refractory, m.reset, m.spiking),
                 f"fixed population {name}: refractory, reset or spiking differ from its model")
    for f in fixed:
        mant = f.weight_mant
        need(-8 <= f.weight_exp <= 7 and 1 <= f.num_weight_bits <= 8
             and (not mant.size or (mant.min() >= -256 and mant.max() <= 255)),
             f"fixed projection {f.name}: register out of range")


def _params_within(m, dt: float) -> bool:
    """Each parameter of a neuron model as the loader accepts it (by its Param kind), and the
    model's own cross-parameter checks."""
    for p in m.PARAMS:
        value = getattr(m, p.name)
        if value is None:  # left at a default computed from other parameters
            continue
        if p.kind == "tau":
            ok = (value == 0 and p.allow_zero) or (value > 0 and (
                math.isinf(value) or decay_fraction(dt, value) > 0))
        elif p.kind == "threshold":
            ok = value > 0
        elif p.kind == "number":
            ok = bool(np.all(np.isfinite(value)))
        elif p.kind == "steps":
            ok = 0 <= value <= MAX_STEPS
        else:
            ok = value in p.choices
        if not ok:
            return False
    return not m.problems()


def _within(value, low: int, high: int) -> bool:
    """An int register, or one per neuron, within [low, high]."""
    return bool(np.all((low <= value) & (value <= high)))


def _lif_registers_within(f: FixedLIF) -> bool:
    return (0 <= f.du <= 4095 and 0 <= f.dv <= 4095 and 1 <= f.vth < 2**17
            and _within(f.bias_mant, -2**12, 2**12 - 1) and _within(f.bias_exp, 0, 7)
            and _within(f.u_init, -STATE_LIMIT, STATE_LIMIT)
            and _within(f.v_init, -STATE_LIMIT, STATE_LIMIT) and 0 < f.scale < math.inf)


def _izhikevich_registers_within(f: FixedIzhikevich) -> bool:
    """Limits of 2^k − 1 within the target schema's widths (state ≤ 24, derivative ≤ 32
    bits, coefficient mantissas ≤ 16 bits, shifts and F ≤ 30), registers within the state."""
    limit, top = f.state_limit, f.derivative_limit
    return (0 <= f.frac_bits <= 30 and 0 <= f.di <= 4095
            and 1 <= limit <= STATE_LIMIT and not (limit + 1) & limit
            and limit <= top <= 2**31 - 1 and not (top + 1) & top
            and all(-2**15 < m <= 2**15 - 1 and 0 <= r <= 30
                    for m, r in (f.k0, f.k1, f.b, f.g, f.dt, f.dt_a))
            and all(_within(getattr(f, k), -limit, limit)
                    for k in ("k2", "v_b", "v_peak", "c", "d", "bias", "v_init", "u_init")))


def _adaptive_registers_within(f: FixedAdaptiveLIF) -> bool:
    return (all(0 <= d <= 4095 for d in (f.di, f.dv, f.dtheta, f.dr))
            and 1 <= f.theta_0 < 2**17 and 0 <= f.theta_step < 2**17
            and _within(f.bias_mant, -2**12, 2**12 - 1) and _within(f.bias_exp, 0, 7)
            and 0 < f.scale < math.inf)


REGISTERS_WITHIN = {"lif": _lif_registers_within, "izhikevich": _izhikevich_registers_within,
                    "adaptive_lif": _adaptive_registers_within}
