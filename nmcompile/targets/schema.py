"""A chip target as data (DESIGN §5): numerics, resources, optional energy and time per operation.

A target file is YAML; `parse_target` validates it and reports the first problem as
`file:line: path: message`, the same way model files are checked.

Every target runs LIF (Lava's bit-accurate CUBA LIF). A neuron model beyond it runs only on a
target whose `numerics` holds a block for it (`izhikevich`, `adaptive_lif`): the block gives
the integer formats of that model, and its absence is the statement that the chip cannot run
it (Loihi 1's neuron is a fixed CUBA LIF; Loihi 2's are microcode programs). What a neuron
costs in neuron-state memory is a resource: `resources.state_words` per model, against
`resources.neuron_state_words_per_core`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

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
# Lava's PyATRLIFModelFixed fixes these for adaptive_lif (lava/proc/atrlif/models.py) ...
ADAPTIVE_LIF_FIXED = {"decay_bits": 12, "state_bits": 24, "threshold_shift": 6}
# ... and declares theta_0, theta_step 12-bit; above 17 bits theta_0 << 6 would pass v's 24 bits
ADAPTIVE_LIF_LIMITS = {"threshold_bits": (1, 17)}
# nmcompile's own Izhikevich: with state ≤ 24 and coefficients ≤ 16 bits every intermediate
# (v·v, then its product with a 16-bit mantissa; dv/dt times dt) stays within int64
IZHIKEVICH_LIMITS = {"state_bits": (2, 24), "coefficient_bits": (2, 16),
                     "derivative_bits": (2, 32)}
# Lava's learning engine fixes these widths (lava/magma/core/learning/constants.py: W_TAG_1_S,
# W_TRACE, W_EPOCH_TIME), which a target's learning memory is counted in
LEARNING_FIXED = {"tag_bits": 9, "trace_bits": 7, "epoch_time_bits": 6}
LEARNING_KEYS = ["memory_bits_per_core", "product_bits", *LEARNING_FIXED]
TIME_KEYS = ("synaptic_op_ns", "neuron_update_active_ns", "neuron_update_inactive_ns",
             "spike_within_tile_ns", "tile_hop_ns", "barrier_sync_ns")


@dataclass(frozen=True, kw_only=True)
class IzhikevichNumerics:
    """Integer formats of nmcompile's own fixed-point Izhikevich neuron (DESIGN §2.6: no chip
    publishes one; on Loihi 2 it would be a microcode program).

    state_bits: width of v, u, i and of every register in state units (k2, v_b, v_peak, c, d,
      bias, v_init, u_init, injected currents); they saturate at ±(2^(state_bits−1) − 1).
      2 … 24: with |v| < 2^23, v·v < 2^46 and its product with a coefficient mantissa stays
      within int64.
    coefficient_bits: signed mantissa of k0, k1, b, g, dt and dt·a, each value ≈ m / 2^shift
      with the shift in 0 … 30; 2 … 16.
    derivative_bits: the accumulator of dv/dt, saturated before it is multiplied by dt;
      state_bits … 32 (it must at least hold what v holds).
    """

    state_bits: int
    coefficient_bits: int
    derivative_bits: int


@dataclass(frozen=True, kw_only=True)
class AdaptiveLIFNumerics:
    """Integer formats of Lava's adaptive-threshold LIF (ATRLIF, PyATRLIFModelFixed; DESIGN
    §2.7), which fixes all but one: decay_bits 12 (di, dv, dtheta, dr), state_bits 24 (i wraps,
    v saturates; theta and r are int32 that Lava never saturates), threshold_shift 6 (theta_0
    and theta_step are used shifted left by 6).

    threshold_bits: unsigned mantissa of theta_0 and theta_step, 1 … 17 (Lava declares 12;
      from 18 bits on theta_0 << 6 would lie beyond what a 24-bit v can reach).
    Bias mantissa and exponent, weights and delays are those of the target's LIF numerics.
    """

    decay_bits: int
    state_bits: int
    threshold_shift: int
    threshold_bits: int


MODEL_NUMERICS = {"izhikevich": IzhikevichNumerics, "adaptive_lif": AdaptiveLIFNumerics}


@dataclass(frozen=True, kw_only=True)
class Numerics:
    """Integer formats of one chip, read by the quantization pass.

    semantics `loihi`: Lava's PyLifModelBitAcc and Dense/Sparse bit-accurate models.
    weight_bits: num_weight_bits of a projection (Lava's 8-bit mantissa, truncated to this).
    weight_exp, bias_exp: inclusive exponent ranges. max_delay: longest IR delay in steps.
    izhikevich, adaptive_lif: the formats of that neuron model, or None when the chip cannot
      run it (every target runs LIF).
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
    izhikevich: IzhikevichNumerics | None = None
    adaptive_lif: AdaptiveLIFNumerics | None = None

    def models(self) -> tuple[str, ...]:
        """The neuron model kinds this target runs."""
        return ("lif",) + tuple(kind for kind in MODEL_NUMERICS if getattr(self, kind))


@dataclass(frozen=True, kw_only=True)
class LearningMemory:
    """What on-chip learning keeps on a core, against memory_bits_per_core (DESIGN §5.3).

    Per post neuron of a plastic projection: its y1, y2, y3 traces and the step of its last
    spike in the epoch (post_bits); per presynaptic neuron of each plastic projection into the
    core: its x1, x2 traces and epoch step (pre_bits); per plastic synapse of a reward rule:
    its tag (tag_bits; the weight itself is a synaptic word); per plastic projection into the
    core: its rule, product_bits per product. The widths are Lava's (LEARNING_FIXED).
    """

    memory_bits_per_core: int
    product_bits: int
    tag_bits: int
    trace_bits: int
    epoch_time_bits: int

    @property
    def post_bits(self) -> int:
        return 3 * self.trace_bits + self.epoch_time_bits

    @property
    def pre_bits(self) -> int:
        return 2 * self.trace_bits + self.epoch_time_bits


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Capacity of the chip; exactly one of synapses_per_core or synaptic_memory_bits_per_core.

    neuron_state_words_per_core and state_words (model kind -> words one neuron of it takes),
    given together or not at all, bound the neurons of a core by their state as well as by
    neurons_per_core: a model with more state variables fits fewer neurons in a core. Without
    them only neurons_per_core counts. learning: the memory on-chip learning takes (None: the
    target counts none).
    """

    chips: int
    cores_per_chip: int
    neurons_per_core: int
    input_axons_per_core: int
    output_axons_per_core: int
    synapses_per_core: int | None = None
    synaptic_memory_bits_per_core: int | None = None
    bits_per_synapse: int | None = None
    neuron_state_words_per_core: int | None = None
    state_words: dict[str, int] = field(default_factory=dict)
    learning: LearningMemory | None = None

    def max_synapses_per_core(self) -> int:
        if self.synapses_per_core is not None:
            return self.synapses_per_core
        return self.synaptic_memory_bits_per_core // self.bits_per_synapse

    def neuron_state_words(self, kind: str) -> int:
        """Neuron-state words one neuron of model `kind` takes (0: the target counts none, or
        does not run the model, which quantization refuses)."""
        return self.state_words.get(kind, 0) if self.neuron_state_words_per_core else 0

    def max_neurons_per_core(self, kind: str) -> int:
        """Neurons of model `kind` one core holds: by count, and by neuron-state words."""
        words = self.neuron_state_words(kind)
        if not words:
            return self.neurons_per_core
        return min(self.neurons_per_core, self.neuron_state_words_per_core // words)


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
                f"delays ≤ {self.numerics.max_delay}; models "
                f"{', '.join(self.numerics.models())}")


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
    numerics = _numerics(_mapping(doc, "numerics", source), source)
    return Target(name=name, description=description, numerics=numerics,
                  resources=_resources(_mapping(doc, "resources", source), numerics, source),
                  energy=_costs(doc, "energy", ENERGY_KEYS, source),
                  time=_costs(doc, "time", TIME_KEYS, source), file=source.file)


def _numerics(m: dict, source: Source) -> Numerics:
    path = ("numerics",)
    keys = [f.name for f in fields(Numerics) if f.name not in MODEL_NUMERICS]
    source.check_keys(m, path, keys + list(MODEL_NUMERICS), keys)
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
    if "izhikevich" in m:
        values["izhikevich"] = _izhikevich(m, path, source)
    if "adaptive_lif" in m:
        values["adaptive_lif"] = _adaptive_lif(m, path, source)
    return Numerics(**values)


def _izhikevich(numerics: dict, path: tuple, source: Source) -> IzhikevichNumerics:
    path = path + ("izhikevich",)
    m = _mapping(numerics, "izhikevich", source, path)
    source.check_keys(m, path, list(IZHIKEVICH_LIMITS), list(IZHIKEVICH_LIMITS))
    values = {key: _int(m, key, path, source, lo, hi)
              for key, (lo, hi) in IZHIKEVICH_LIMITS.items()}
    if values["derivative_bits"] < values["state_bits"]:
        raise source.fail(path + ("derivative_bits",),
                          f"must be at least state_bits ({values['state_bits']}): dv/dt must "
                          f"hold what v holds, got {values['derivative_bits']}")
    return IzhikevichNumerics(**values)


def _adaptive_lif(numerics: dict, path: tuple, source: Source) -> AdaptiveLIFNumerics:
    path = path + ("adaptive_lif",)
    m = _mapping(numerics, "adaptive_lif", source, path)
    keys = list(ADAPTIVE_LIF_FIXED) + list(ADAPTIVE_LIF_LIMITS)
    source.check_keys(m, path, keys, keys)
    for key, value in ADAPTIVE_LIF_FIXED.items():
        if m[key] != value:
            raise source.fail(path + (key,), f"Lava's adaptive LIF (ATRLIF) fixes {key} to "
                                             f"{value!r}, got {m[key]!r}")
    values = dict(m)
    for key, (lo, hi) in ADAPTIVE_LIF_LIMITS.items():
        values[key] = _int(m, key, path, source, lo, hi)
    return AdaptiveLIFNumerics(**values)


def _resources(m: dict, numerics: Numerics, source: Source) -> Resources:
    path = ("resources",)
    required = ["chips", "cores_per_chip", "neurons_per_core", "input_axons_per_core",
                "output_axons_per_core"]
    optional = ["synapses_per_core", "synaptic_memory_bits_per_core", "bits_per_synapse",
                "neuron_state_words_per_core"]
    source.check_keys(m, path, required + optional + ["state_words", "learning"], required)
    values = {k: _int(m, k, path, source, 1, None) for k in required + optional if k in m}
    if ("synapses_per_core" in m) == ("synaptic_memory_bits_per_core" in m):
        raise source.fail(path, "give exactly one of synapses_per_core and "
                                "synaptic_memory_bits_per_core")
    if ("synaptic_memory_bits_per_core" in m) != ("bits_per_synapse" in m):
        raise source.fail(path, "synaptic_memory_bits_per_core needs bits_per_synapse "
                                "(and only it)")
    if ("neuron_state_words_per_core" in m) != ("state_words" in m):
        raise source.fail(path, "neuron_state_words_per_core and state_words go together")
    if "state_words" in m:
        values["state_words"] = _state_words(m, values["neuron_state_words_per_core"],
                                             numerics, path, source)
    if "learning" in m:
        values["learning"] = _learning(m, path, source)
    return Resources(**values)


def _learning(resources: dict, path: tuple, source: Source) -> LearningMemory:
    path = path + ("learning",)
    m = _mapping(resources, "learning", source, path)
    source.check_keys(m, path, LEARNING_KEYS, LEARNING_KEYS)
    for key, value in LEARNING_FIXED.items():
        if m[key] != value:
            raise source.fail(path + (key,), f"Lava's learning engine fixes {key} to {value!r}, "
                                             f"got {m[key]!r}")
    return LearningMemory(**{key: _int(m, key, path, source, 1, None) for key in LEARNING_KEYS})


def _state_words(resources: dict, capacity: int, numerics: Numerics, path: tuple,
                 source: Source) -> dict[str, int]:
    """Words per neuron for exactly the models the target runs, each within one core."""
    path = path + ("state_words",)
    m = _mapping(resources, "state_words", source, path)
    models = list(numerics.models())
    source.check_keys(m, path, models, models)
    return {kind: _int(m, kind, path, source, 1, capacity) for kind in models}


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


def _mapping(doc: dict, key: str, source: Source, path: tuple | None = None) -> dict:
    if not isinstance(doc[key], dict):
        raise source.fail(path or (key,), f"must be a mapping, got {type(doc[key]).__name__}")
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
