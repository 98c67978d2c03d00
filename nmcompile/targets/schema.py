"""A chip target as data (DESIGN §5): numerics, resources, optional energy and time per operation.

A target file is YAML; `parse_target` validates it and reports the first problem as
`file:line: path: message`, the same way model files are checked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from nmcompile.frontends.modelfile.fields import NAME_RE
from nmcompile.frontends.modelfile.yamlmarks import Source

FORMAT = "nmcompile-target/v1"

# Lava's bit-accurate LIF (PyLifModelBitAcc) fixes these; a `loihi` target may not change them.
LOIHI_FIXED = {"decay_bits": 12, "u_bits": 24, "v_bits": 24, "input_shift": 6,
               "threshold_shift": 6, "u_overflow": "wrap", "v_overflow": "saturate"}
# ... and bounds these: a target may narrow them, never widen them.
LOIHI_LIMITS = {"weight_bits": (1, 8), "threshold_bits": (1, 17), "bias_mant_bits": (2, 13),
                "max_delay": (1, 64)}
ENERGY_KEYS = ("synaptic_op_pj", "neuron_update_active_pj", "neuron_update_inactive_pj",
               "spike_within_tile_pj", "tile_hop_pj", "static_power_per_core_mw")
TIME_KEYS = ("synaptic_op_ns", "neuron_update_active_ns", "neuron_update_inactive_ns",
             "spike_within_tile_ns", "tile_hop_ns", "barrier_sync_ns")


@dataclass(frozen=True, kw_only=True)
class Numerics:
    """Integer formats of one chip, read by the quantization pass.

    semantics `loihi`: Lava's PyLifModelBitAcc and Dense/Sparse bit-accurate models.
    weight_bits: num_weight_bits of a projection (Lava's 8-bit mantissa, truncated to this).
    weight_exp, bias_exp: inclusive exponent ranges. max_delay: longest IR delay in steps.
    """

    semantics: str
    weight_bits: int
    weight_exp: tuple[int, int]
    threshold_bits: int
    bias_mant_bits: int
    bias_exp: tuple[int, int]
    decay_bits: int
    u_bits: int
    v_bits: int
    u_overflow: str
    v_overflow: str
    input_shift: int
    threshold_shift: int
    max_delay: int


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Capacity of the chip; exactly one of synapses_per_core or synaptic_memory_bits_per_core."""

    chips: int
    cores_per_chip: int
    neurons_per_core: int
    input_axons_per_core: int
    output_axons_per_core: int
    synapses_per_core: int | None = None
    synaptic_memory_bits_per_core: int | None = None
    bits_per_synapse: int | None = None

    def max_synapses_per_core(self) -> int:
        if self.synapses_per_core is not None:
            return self.synapses_per_core
        return self.synaptic_memory_bits_per_core // self.bits_per_synapse


@dataclass(frozen=True, kw_only=True)
class Target:
    """A chip description; `energy` (pJ, mW) and `time` (ns) per operation may be empty."""

    name: str
    description: str
    numerics: Numerics
    resources: Resources
    energy: dict[str, float] = field(default_factory=dict)
    time: dict[str, float] = field(default_factory=dict)
    file: str | None = None

    def one_line(self) -> str:
        r = self.resources
        return (f"{self.name}: {self.description} — {r.chips} chip(s) × {r.cores_per_chip} cores "
                f"× {r.neurons_per_core} neurons, {self.numerics.weight_bits}-bit weights, "
                f"delays ≤ {self.numerics.max_delay}")


def parse_target(doc: object, source: Source) -> Target:
    """Validate a parsed target document; raise InputError naming file, line and path."""
    if not isinstance(doc, dict):
        raise source.fail((), "a target file must be a mapping")
    source.check_keys(doc, (), ["format", "name", "description", "numerics", "resources",
                                "energy", "time"], ["format", "name", "numerics", "resources"])
    if doc["format"] != FORMAT:
        raise source.fail(("format",), f"must be {FORMAT!r}, got {doc['format']!r}")
    name = doc["name"]
    if not isinstance(name, str) or not NAME_RE.match(name):  # images are matched by this name
        raise source.fail(("name",), f"must use letters, digits, - and _ only, got {name!r}")
    description = _text(doc, "description", (), source) if "description" in doc else name
    return Target(name=name, description=description,
                  numerics=_numerics(_mapping(doc, "numerics", source), source),
                  resources=_resources(_mapping(doc, "resources", source), source),
                  energy=_costs(doc, "energy", ENERGY_KEYS, source),
                  time=_costs(doc, "time", TIME_KEYS, source), file=source.file)


def _numerics(m: dict, source: Source) -> Numerics:
    path = ("numerics",)
    keys = [f.name for f in Numerics.__dataclass_fields__.values()]
    source.check_keys(m, path, keys, keys)
    if m["semantics"] != "loihi":
        raise source.fail(path + ("semantics",),
                          f"only 'loihi' (Lava's bit-accurate LIF) is implemented, "
                          f"got {m['semantics']!r}")
    for key, value in LOIHI_FIXED.items():
        if m[key] != value:
            raise source.fail(path + (key,), f"the loihi semantics fix {key} to {value!r}, "
                                             f"got {m[key]!r}")
    values = dict(m)
    for key, (lo, hi) in LOIHI_LIMITS.items():
        values[key] = _int(m, key, path, source, lo, hi)
    values["weight_exp"] = _range(m, "weight_exp", path, source, -8, 7)
    values["bias_exp"] = _range(m, "bias_exp", path, source, 0, 7)
    return Numerics(**values)


def _resources(m: dict, source: Source) -> Resources:
    path = ("resources",)
    required = ["chips", "cores_per_chip", "neurons_per_core", "input_axons_per_core",
                "output_axons_per_core"]
    optional = ["synapses_per_core", "synaptic_memory_bits_per_core", "bits_per_synapse"]
    source.check_keys(m, path, required + optional, required)
    values = {k: _int(m, k, path, source, 1, None) for k in required + optional if k in m}
    if ("synapses_per_core" in m) == ("synaptic_memory_bits_per_core" in m):
        raise source.fail(path, "give exactly one of synapses_per_core and "
                                "synaptic_memory_bits_per_core")
    if ("synaptic_memory_bits_per_core" in m) != ("bits_per_synapse" in m):
        raise source.fail(path, "synaptic_memory_bits_per_core needs bits_per_synapse "
                                "(and only it)")
    return Resources(**values)


def _costs(doc: dict, key: str, allowed: tuple[str, ...], source: Source) -> dict[str, float]:
    if key not in doc:
        return {}
    m = _mapping(doc, key, source)
    source.check_keys(m, (key,), list(allowed))
    out = {}
    for name, value in m.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise source.fail((key, name), f"must be a finite number ≥ 0, got {value!r}")
        out[name] = float(value)
    return out


def _mapping(doc: dict, key: str, source: Source) -> dict:
    if not isinstance(doc[key], dict):
        raise source.fail((key,), f"must be a mapping, got {type(doc[key]).__name__}")
    return doc[key]


def _text(doc: dict, key: str, path: tuple, source: Source) -> str:
    if not isinstance(doc[key], str) or not doc[key]:
        raise source.fail(path + (key,), f"must be a non-empty string, got {doc[key]!r}")
    return doc[key]


def _int(m: dict, key: str, path: tuple, source: Source, lo: int, hi: int | None) -> int:
    value = m[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < lo \
            or (hi is not None and value > hi):
        bound = f"in {lo}..{hi}" if hi is not None else f"≥ {lo}"
        raise source.fail(path + (key,), f"must be an integer {bound}, got {value!r}")
    return value


def _range(m: dict, key: str, path: tuple, source: Source, lo: int, hi: int) -> tuple[int, int]:
    value = m[key]
    if (not isinstance(value, list) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
            or not lo <= value[0] <= value[1] <= hi):
        raise source.fail(path + (key,), f"must be [low, high] integers with {lo} ≤ low ≤ high "
                                         f"≤ {hi}, got {value!r}")
    return (value[0], value[1])
