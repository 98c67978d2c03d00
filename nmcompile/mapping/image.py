"""Chip image (`.nmc`): one versioned zip holding a QuantizedNetwork, its mapping and provenance.

Layout: `header.json` (magic, format version, nmcompile version, model hash, target,
every scalar register, the mapping summary, a hash of the arrays) plus one `.npy` per array
(synapses, weights, delays, sources, mapping blocks). The float model travels with it, so
the image alone rebuilds the exact QuantizedNetwork the emulator consumes; both hashes are
checked on reading. Written atomically; a damaged, truncated or foreign file is an
InputError, never a traceback.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from nmcompile import __version__
from nmcompile.atomic import atomic_output
from nmcompile.diagnostics import InputError, error
from nmcompile.ir import (LIF, FixedLIF, FixedProjection, Location, Network, Poisson, Population,
                          Probe, Projection, QuantizedNetwork, SpikeArray)

from .partition import Mapping

MAGIC = "nmcompile-chip-image"
FORMAT_VERSION = 1
HEADER = "header.json"


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
    header = {"magic": MAGIC, "format_version": FORMAT_VERSION, "nmcompile_version": __version__,
              "model_hash": model_hash(net), "target": qnet.target, "network": _network_doc(net),
              "fixed_populations": {name: {"du": f.du, "dv": f.dv, "vth": f.vth,
                                           "bias_mant": f.bias_mant, "bias_exp": f.bias_exp,
                                           "scale": f.scale}
                                    for name, f in qnet.populations.items()},
              "fixed_projections": fixed,
              "mapping": {"target": mapping.target, "cores_per_chip": mapping.cores_per_chip,
                          "populations": list(mapping.populations),
                          "placement": mapping.placement, "cores_used": int(mapping.cores.size),
                          "chips_used": mapping.n_chips}}
    arrays = dict(_network_arrays(net))
    for i, p in enumerate(qnet.projections):
        arrays[f"fixed/{i}/weight_mant"] = p.weight_mant
    arrays.update({f"mapping/{k}": v for k, v in mapping.to_arrays().items()})
    header["arrays_sha256"] = _arrays_hash(arrays)
    with atomic_output(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(HEADER, json.dumps(header, indent=1))
        for key, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            zf.writestr(f"{key}.npy", buf.getvalue())


def read_image(path: str) -> ChipImage:
    """The image at `path`; InputError naming the file for anything that is not a sound image."""
    def bad(why: str) -> InputError:
        return _image_error(path, f"not a readable nmcompile chip image: {why}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if HEADER not in names:
                raise bad(f"no {HEADER} (a foreign zip file?)")
            header = json.loads(zf.read(HEADER))
            if not isinstance(header, dict) or header.get("magic") != MAGIC:
                found = header.get("magic") if isinstance(header, dict) else None
                raise bad(f"wrong magic {found!r}")
            if header.get("format_version") != FORMAT_VERSION:
                raise bad(f"format version {header.get('format_version')!r}; this nmcompile "
                          f"{__version__} reads version {FORMAT_VERSION}")
            arrays = {n[:-4]: np.lib.format.read_array(io.BytesIO(zf.read(n)),
                                                       allow_pickle=False)
                      for n in names if n.endswith(".npy")}
            if _arrays_hash(arrays) != header.get("arrays_sha256"):
                raise bad("array hash mismatch (the content was altered)")
            image = _rebuild(header, arrays)
    except InputError:
        raise
    except FileNotFoundError:
        raise _image_error(path, "no such file") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise bad(f"damaged or truncated zip ({exc})") from None
    except (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, zlib.error) as exc:
        raise bad(f"damaged content ({type(exc).__name__}: {exc})") from None
    if model_hash(image.qnet.network) != header["model_hash"]:
        raise bad("model hash mismatch (the content was altered)")
    return image


def _arrays_hash(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key, array in sorted(arrays.items()):
        h.update(f"{key}:{array.dtype.str}:{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _image_error(path: str, message: str) -> InputError:
    return error(message, Location(path), code="NM620")


# -- (de)serialising the float network ------------------------------------------------------
def _network_doc(net: Network) -> dict:
    pops = []
    for p in net.populations.values():
        doc = {"name": p.name, "size": p.size, "kind": p.model.kind,
               "shape": list(p.shape) if p.shape else None}
        if isinstance(p.model, LIF):
            m = p.model
            doc["lif"] = {"tau_syn": m.tau_syn, "tau_mem": m.tau_mem, "v_th": m.v_th,
                          "bias": m.bias, "refractory": m.refractory}
        pops.append(doc)
    return {"name": net.name, "dt": net.dt, "steps": net.steps, "seed": net.seed,
            "populations": pops,
            "projections": [{"name": p.name, "pre": p.pre, "post": p.post}
                            for p in net.projections],
            "probes": [{"population": p.population, "var": p.var} for p in net.probes]}


def _network_arrays(net: Network) -> dict[str, np.ndarray]:
    out = {}
    for i, p in enumerate(net.populations.values()):
        if isinstance(p.model, Poisson):
            out[f"pop/{i}/rate"] = np.asarray(p.model.rate, np.float64)
        elif isinstance(p.model, SpikeArray):
            out[f"pop/{i}/neurons"] = np.asarray(p.model.neurons, np.int64)
            out[f"pop/{i}/steps"] = np.asarray(p.model.steps, np.int64)
    for i, p in enumerate(net.projections):
        for field in ("pre_idx", "post_idx", "weight", "delay"):
            out[f"proj/{i}/{field}"] = getattr(p, field)
    return out


def _rebuild(header: dict, arrays: dict[str, np.ndarray]) -> ChipImage:
    doc = header["network"]
    pops = {}
    for i, d in enumerate(doc["populations"]):
        if d["kind"] == "lif":
            model = LIF(**d["lif"])
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
    net = Network(name=doc["name"], populations=pops, projections=projs,
                  probes=tuple(Probe(**p) for p in doc["probes"]), dt=float(doc["dt"]),
                  steps=int(doc["steps"]), seed=int(doc["seed"]))
    fixed_pops = {name: FixedLIF(**{k: (float(v) if k == "scale" else int(v))
                                    for k, v in f.items()})
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
    _check_consistent(net, fixed_projs, mapping)
    qnet = QuantizedNetwork(network=net, target=header["target"], populations=fixed_pops,
                            projections=fixed_projs)
    return ChipImage(qnet=qnet, mapping=mapping, header=header)


def _check_consistent(net: Network, fixed: tuple[FixedProjection, ...], mapping: Mapping) -> None:
    """Shapes and index ranges, so a doctored image fails here rather than inside a backend."""
    for proj, fp in zip(net.projections, fixed):
        n = proj.n_synapses
        if not (proj.post_idx.size == proj.weight.size == proj.delay.size == fp.weight_mant.size
                == n):
            raise ValueError(f"projection {proj.name}: array lengths differ")
        if n and (proj.pre_idx.max() >= net.populations[proj.pre].size
                  or proj.post_idx.max() >= net.populations[proj.post].size):
            raise ValueError(f"projection {proj.name}: neuron index out of range")
    if len({a.size for a in mapping.to_arrays().values()}) > 1:
        raise ValueError("mapping arrays differ in length")
