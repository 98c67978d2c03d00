"""Chip image (`.nmc`): one versioned zip holding a QuantizedNetwork, its mapping and provenance.

Layout: `header.json` (magic, format version, nmcompile version, model hash, target,
every scalar register, the mapping summary, a hash of the arrays, and a hash of the header
itself) plus one `.npy` per array (synapses, weights, delays, sources, per-neuron parameters
and registers, injected currents, mapping blocks); a parameter or register that may differ
per neuron is a number in the header when every neuron shares it, else null there and an
array. The float model (its currents included) travels with it, so the image alone
rebuilds the exact QuantizedNetwork the emulator consumes. On reading, the header hash (its
canonical JSON, which holds the arrays' hash) covers every register and array, the header's
structure is checked key by key, and the model hash is recomputed. Written atomically; a
damaged, truncated, edited or foreign file is an InputError, never a traceback.
"""
from __future__ import annotations

import hashlib
import io
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
from nmcompile.ir import (LIF, MAX_STEPS, MODELS, Current, FixedLIF, FixedProjection, Location,
                          Network, Poisson, Population, Probe, Projection, QuantizedNetwork,
                          SpikeArray, decay_fraction)
from nmcompile.ir.currents import KINDS as CURRENT_KINDS
from nmcompile.ir.models.lif import RESETS

from .blocks import Mapping

MAGIC = "nmcompile-chip-image"
# 2: the header hash covers the registers; 3: LIF variants (reset, initial values, per-neuron
# bias), their registers, and injected currents
FORMAT_VERSION = 3
HEADER = "header.json"
SIGN_MODES = ("excitatory", "inhibitory", "mixed")  # as Lava's SignMode
PER_NEURON_PARAMS = ("bias", "v_init", "u_init")        # LIF: a number, or pop/<i>/<name>
PER_NEURON_REGISTERS = ("bias_mant", "bias_exp", "u_init", "v_init")  # or fixedpop/<i>/<name>
STATE_LIMIT = 2 ** 23 - 1  # u_init, v_init are 24-bit registers


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
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def write_image(path: str, qnet: QuantizedNetwork, mapping: Mapping) -> None:
    """Write the image atomically (temporary file in the same folder, renamed when complete)."""
    net = qnet.network
    fixed = [{"name": p.name, "pre": p.pre, "post": p.post, "weight_exp": int(p.weight_exp),
              "num_weight_bits": int(p.num_weight_bits), "sign_mode": p.sign_mode}
             for p in qnet.projections]
    arrays = dict(_network_arrays(net))
    fixed_pops = {}
    for name, f in qnet.populations.items():
        i = _index(net, name)
        doc = {"du": int(f.du), "dv": int(f.dv), "vth": int(f.vth), "scale": float(f.scale),
               "refractory": int(f.refractory), "reset": f.reset, "spiking": bool(f.spiking)}
        for key in PER_NEURON_REGISTERS:
            doc[key] = _in_header(getattr(f, key), int)
            if doc[key] is None:
                arrays[f"fixedpop/{i}/{key}"] = np.ascontiguousarray(getattr(f, key), np.int32)
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
    with atomic_output(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(HEADER, json.dumps(header, indent=1))
        for key, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(f"{key}.npy", buf.getvalue())


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
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


# -- the header's structure: every key, its type; checked before anything is built from it ---
INT, NUM, STR, BOOL = "an integer", "a number", "a string", "a boolean"
_LIF_SPEC = {"tau_syn": NUM, "tau_mem": NUM, "v_th": NUM, "bias": (None, NUM),
             "refractory": INT, "reset": STR, "v_init": (None, NUM), "u_init": (None, NUM)}
HEADER_SPEC = {
    "magic": STR, "format_version": INT, "nmcompile_version": STR, "model_hash": STR,
    "target": STR, "arrays_sha256": STR, "header_sha256": STR,
    "network": {"name": STR, "dt": NUM, "steps": INT, "seed": INT,
                "populations": [{"name": STR, "size": INT, "kind": STR, "shape": (None, [INT]),
                                 "lif?": _LIF_SPEC}],
                "projections": [{"name": STR, "pre": STR, "post": STR}],
                "probes": [{"population": STR, "var": STR}],
                "currents": [{"population": STR, "kind": STR, "source": (None, STR)}]},
    "fixed_populations": {"*": {"du": INT, "dv": INT, "vth": INT, "bias_mant": (None, INT),
                                "bias_exp": (None, INT), "u_init": (None, INT),
                                "v_init": (None, INT), "refractory": INT, "reset": STR,
                                "spiking": BOOL, "scale": NUM}},
    "fixed_projections": [{"name": STR, "pre": STR, "post": STR, "weight_exp": INT,
                           "num_weight_bits": INT, "sign_mode": STR}],
    "mapping": {"target": STR, "cores_per_chip": INT, "populations": [STR], "placement": STR,
                "cores_used": INT, "chips_used": INT},
}
_SCALARS = {INT: (int,), NUM: (int, float), STR: (str,), BOOL: (bool,)}


def _structure_problem(value, spec, where: str) -> str | None:
    """Why `value` does not fit `spec` (a type name, [item spec], (None, spec) for optional,
    {key: spec} with `key?` optional and "*" for any name), or None."""
    if isinstance(spec, tuple):
        return None if value is None else _structure_problem(value, spec[1], where)
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


def _network_doc(net: Network) -> dict:
    pops = []
    for p in net.populations.values():
        doc = {"name": p.name, "size": p.size, "kind": p.model.kind,
               "shape": list(p.shape) if p.shape else None}
        if isinstance(p.model, LIF):
            m = p.model
            doc["lif"] = {"tau_syn": m.tau_syn, "tau_mem": m.tau_mem, "v_th": m.v_th,
                          "refractory": m.refractory, "reset": m.reset}
            doc["lif"].update({key: _in_header(getattr(m, key), float)
                               for key in PER_NEURON_PARAMS})
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
        elif isinstance(p.model, LIF):
            out.update({f"pop/{i}/{key}": np.ascontiguousarray(getattr(p.model, key), np.float64)
                        for key in PER_NEURON_PARAMS
                        if _in_header(getattr(p.model, key), float) is None})
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
    if key.startswith("pop/") and key.endswith(tuple(f"/{k}" for k in ("rate",)
                                                     + PER_NEURON_PARAMS)) \
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
        if d["kind"] not in MODELS or ("lif" in d) != (d["kind"] == "lif"):
            raise ValueError(f"population {d['name']}: kind {d['kind']!r} with"
                             f"{'' if 'lif' in d else 'out'} LIF parameters")
        if d["kind"] == "lif":
            params = {k: (np.asarray(arrays[f"pop/{i}/{k}"], np.float64) if v is None else v)
                      for k, v in d["lif"].items()}
            model = LIF(**params)
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


def _fixed_population(doc: dict, i: int, arrays: dict[str, np.ndarray]) -> FixedLIF:
    """A FixedLIF from its header entry; registers given as null come from fixedpop/<i>/."""
    values = {k: (float(v) if k == "scale" else v if k in ("reset", "spiking") else
                  int(v) if v is not None else np.asarray(arrays[f"fixedpop/{i}/{k}"], np.int32))
              for k, v in doc.items()}
    return FixedLIF(**values)


def _check_consistent(net: Network, fixed_pops: dict[str, FixedLIF],
                      fixed: tuple[FixedProjection, ...], mapping: Mapping) -> None:
    """Names, shapes and index ranges, so a doctored image fails here rather than in a backend."""
    if set(fixed_pops) != {p.name for p in net.neuron_populations()}:
        raise ValueError("fixed_populations do not name the LIF populations")
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
        raise ValueError("the mapping does not place the LIF populations")
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
        values = [getattr(pop.model, k) for k in PER_NEURON_PARAMS]
        values += [getattr(fixed_pops[pop.name], k) for k in PER_NEURON_REGISTERS]
        if any(isinstance(x, np.ndarray) and x.shape != (pop.size,) for x in values):
            raise ValueError(f"population {pop.name}: a per-neuron array is not one per neuron")
    for c in net.currents:
        pop = net.populations.get(c.population)
        if pop is None or pop.is_source or c.kind not in CURRENT_KINDS:
            raise ValueError(f"a current names no LIF population or an unknown kind {c.kind!r}")
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


def _check_values(net: Network, fixed_pops: dict[str, FixedLIF],
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
        if isinstance(m, LIF):
            need(all(tau > 0 and (math.isinf(tau) or decay_fraction(net.dt, tau) > 0)
                     for tau in (m.tau_mem,) + ((m.tau_syn,) if m.tau_syn else ()))
                 and m.tau_syn >= 0 and m.v_th > 0 and m.reset in RESETS
                 and all(bool(np.all(np.isfinite(getattr(m, k)))) for k in PER_NEURON_PARAMS)
                 and 0 <= m.refractory <= MAX_STEPS,
                 f"population {pop.name}: LIF parameters out of range")
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
    def within(value, low: int, high: int) -> bool:  # an int or one per neuron
        return bool(np.all((low <= value) & (value <= high)))
    for name, f in fixed_pops.items():
        m = net.populations[name].model
        need(0 <= f.du <= 4095 and 0 <= f.dv <= 4095 and 1 <= f.vth < 2**17
             and within(f.bias_mant, -2**12, 2**12 - 1) and within(f.bias_exp, 0, 7)
             and within(f.u_init, -STATE_LIMIT, STATE_LIMIT)
             and within(f.v_init, -STATE_LIMIT, STATE_LIMIT)
             and 0 < f.scale < math.inf, f"fixed population {name}: register out of range")
        need((f.refractory, f.reset, f.spiking) == (m.refractory, m.reset, m.spiking),
             f"fixed population {name}: refractory, reset or spiking differ from its model")
    for f in fixed:
        mant = f.weight_mant
        need(-8 <= f.weight_exp <= 7 and 1 <= f.num_weight_bits <= 8
             and (not mant.size or (mant.min() >= -256 and mant.max() <= 255)),
             f"fixed projection {f.name}: register out of range")
