"""What quantization kept and lost, per population and projection, as text or JSON.

One report class per neuron model (each with `model`, its kind, and `to_dict`); the text
prints one section per model that the network uses, then the projections, whose weights
are quantized the same way whatever the model of their post population, then the learning
rules of plastic projections (learning.py): each product's scaling in float and fixed point."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar

from nmcompile.diagnostics import Diagnostic

STATE_LIMIT = 2 ** 23  # |u| and |v| registers are 24-bit signed


@dataclass(frozen=True, kw_only=True)
class LIFReport:
    """Requested vs realised parameters of one LIF population, what rounding cost the values
    that may differ per neuron, and worst-case state magnitudes in register units (|u| beyond
    2^23 wraps, |v| beyond 2^23 - 1 saturates). Errors are in model units, the largest over
    the population's neurons (and, for the injected current, over the network's steps)."""

    model: ClassVar[str] = "lif"
    name: str
    scale: float
    tau_syn: tuple[float, float]   # (requested, realised) ms
    tau_mem: tuple[float, float]
    v_th: tuple[float, float]      # (inf, inf) for a non-spiking population
    bias: tuple[float, float] | None   # None when the bias differs per neuron
    bias_error: float
    bias_saturated: int            # neurons whose bias mantissa saturated
    du: int
    dv: int
    vth: int
    bias_mant: int | None          # None when it differs per neuron
    bias_exp: int | None
    refractory: int
    reset: str
    spiking: bool
    u_init_error: float
    v_init_error: float
    init_saturated: int            # u_init or v_init values clipped to 24 bits
    current_error: float | None    # None: no injected current
    current_saturated: int         # current values (step × neuron) clipped to 24 bits
    u_worst: float
    v_worst: float

    @property
    def u_headroom_bits(self) -> float:
        return headroom_bits(self.u_worst)

    @property
    def v_headroom_bits(self) -> float:
        return headroom_bits(self.v_worst)

    def to_dict(self) -> dict:
        return _json_floats(dict(asdict(self), model=self.model,
                                 u_headroom_bits=self.u_headroom_bits,
                                 v_headroom_bits=self.v_headroom_bits))


@dataclass(frozen=True, kw_only=True)
class Coefficient:
    """A coefficient as (mantissa, shift): realised = mantissa / 2^shift."""

    requested: float
    realised: float
    mantissa: int
    shift: int

    @property
    def relative_error(self) -> float:
        if self.requested == 0:
            return abs(self.realised)
        return abs(self.realised - self.requested) / abs(self.requested)


@dataclass(frozen=True, kw_only=True)
class IzhikevichReport:
    """One Izhikevich population in nmcompile's fixed point (DESIGN §2.6): F (register =
    value · 2^F, resolution 2^−F), each coefficient requested vs realised, the largest
    rounding error of each value held in state units (model units), and the worst-case
    magnitudes (register units) of v, u, i and I against the state limit and of dv/dt
    against the derivative limit, as quantization estimated them (izhikevich.py)."""

    model: ClassVar[str] = "izhikevich"
    name: str
    frac_bits: int
    di: int
    tau_syn: tuple[float, float]          # (requested, realised) ms
    coefficients: dict[str, Coefficient]  # k0, k1, b, g, dt, dt_a
    rounding: dict[str, float]            # k2, v_b, v_peak, c, d, bias, v_init, u_init
    bias: tuple[float, float] | None      # None when the bias differs per neuron
    current_error: float | None           # None: no injected current
    current_saturated: int
    state_limit: int
    derivative_limit: int
    worst: dict[str, float]               # v, u, i, I, T: register units

    @property
    def resolution(self) -> float:
        return 2.0 ** -self.frac_bits

    def headroom_bits(self, var: str) -> float:
        limit = self.derivative_limit if var == "T" else self.state_limit
        return headroom_bits(self.worst[var], limit + 1)

    def to_dict(self) -> dict:
        return _json_floats(dict(asdict(self), model=self.model, resolution=self.resolution,
                                 headroom_bits={k: self.headroom_bits(k) for k in self.worst}))


@dataclass(frozen=True, kw_only=True)
class AdaptiveLIFReport:
    """One adaptive LIF population (Lava's ATRLIF, DESIGN §2.7): requested vs realised time
    constants, theta_0 (exact), theta_step and bias (rounded), the registers, and the
    worst-case magnitudes of i, v, theta and r in register units against 2^23 (i wraps
    there, v saturates; theta and r are int32 in Lava, and 24 bits is the width it declares
    for them, which a chip register would have)."""

    model: ClassVar[str] = "adaptive_lif"
    name: str
    scale: float
    tau_syn: tuple[float, float]
    tau_mem: tuple[float, float]
    tau_theta: tuple[float, float]
    tau_r: tuple[float, float]
    theta_0: tuple[float, float]
    theta_step: tuple[float, float]
    bias: tuple[float, float] | None
    bias_error: float
    bias_saturated: int
    di: int
    dv: int
    dtheta: int
    dr: int
    theta_0_mant: int
    theta_step_mant: int
    bias_mant: int | None
    bias_exp: int | None
    current_error: float | None
    current_saturated: int
    worst: dict[str, float]               # i, v, theta, r: register units

    def headroom_bits(self, var: str) -> float:
        return headroom_bits(self.worst[var])

    def to_dict(self) -> dict:
        return _json_floats(dict(asdict(self), model=self.model,
                                 headroom_bits={k: self.headroom_bits(k) for k in self.worst}))


PopulationReport = LIFReport | IzhikevichReport | AdaptiveLIFReport


@dataclass(frozen=True, kw_only=True)
class ProjectionReport:
    """Weight mapping of one projection: mantissa format and what rounding did to the weights."""

    name: str
    post: str
    synapses: int
    sign_mode: str
    weight_exp: int
    num_weight_bits: int
    lsb: float          # model units of one mantissa step
    rms_error: float    # model units
    max_error: float
    max_abs_weight: float
    zeroed: int
    saturated: int


@dataclass(frozen=True, kw_only=True)
class ProductReport:
    """One product of a learning rule (`variable` += scaling · dependency · factors): its
    scaling m·2^e in the float rule (after Lava's rounding of the parameters), what fixed
    point needs for the same change in its units (`target`), and what Lava's m·2^e realises."""

    variable: str        # weights or tag_1
    term: str            # dependency and factors, e.g. x0·y1
    float_scaling: float
    target: float
    mantissa: int
    exponent: int

    @property
    def realised(self) -> float:
        return self.mantissa * 2.0 ** self.exponent

    @property
    def relative_error(self) -> float:
        if self.target == 0:
            return abs(self.realised)
        return abs(self.realised - self.target) / abs(self.target)

    def to_dict(self) -> dict:
        return dict(asdict(self), realised=self.realised, relative_error=self.relative_error)


@dataclass(frozen=True, kw_only=True)
class LearningReport:
    """The learning rule of one plastic projection in fixed point (DESIGN §2.4 "Learning").

    weight_units: mantissas per model unit (q); learned_range: the model-unit span Lava clips
    learned weights to (the sign mode's 8 bits at the projection's exponent; the float model
    has no magnitude bound); rounded: (parameter, requested, used, by whom) for every parameter
    that Lava's m·2^e literals or fixed point round. Reward rules: reward_scale r (reward
    mantissas per model unit), the reward mantissa and its relative error, and the magnitudes
    the 8-bit reward trace and the 9-bit tag hold, in the float rule's units."""

    name: str
    rule: str
    weight_units: float
    sign_mode: str
    learned_range: tuple[float, float]
    rounded: list[tuple[str, float, float, str]]
    products: list[ProductReport]
    reward_scale: float | None = None
    reward_mantissa: int | None = None
    reward_error: float | None = None
    reward_range: float | None = None
    tag_range: float | None = None

    def to_dict(self) -> dict:
        return _json_floats(dict(asdict(self), products=[p.to_dict() for p in self.products]))


@dataclass(kw_only=True)
class QuantReport:
    target: str
    populations: list[PopulationReport] = field(default_factory=list)
    projections: list[ProjectionReport] = field(default_factory=list)
    learning: list[LearningReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def to_dict(self) -> dict:
        out = {"target": self.target, "populations": [p.to_dict() for p in self.populations],
               "projections": [asdict(p) for p in self.projections],
               "warnings": [str(d) for d in self.warnings]}
        if self.learning:
            out["learning"] = [rule.to_dict() for rule in self.learning]
        return out

    def text(self) -> str:
        lines = [f"quantization for target {self.target}"]
        models = {p.model for p in self.populations}
        if "lif" in models or not models:
            lines += self._lif_text()
        if "izhikevich" in models:
            lines += self._izhikevich_text()
        if "adaptive_lif" in models:
            lines += self._adaptive_text()
        lines += ["", f"{'projection':<20}{'synapses':>9} {'sign':>11} {'exp':>4} {'bits':>5}"
                      f" {'LSB':>10} {'RMS err':>10} {'max err':>10} {'zeroed':>7} {'satur.':>7}"]
        for q in self.projections:
            lines.append(f"{q.name:<20}{q.synapses:>9} {q.sign_mode:>11} {q.weight_exp:>4} "
                         f"{q.num_weight_bits:>5} {q.lsb:>10.3g} {q.rms_error:>10.3g} "
                         f"{q.max_error:>10.3g} {q.zeroed:>7} {q.saturated:>7}")
        lines.append("")
        lines.append("errors: the largest |realised − requested| over the neurons (current: "
                     "and over the network's steps), in model units; satur.: bias mantissas, "
                     "initial values and current values clipped to their registers")
        lines.append("headroom: bits between the worst-case |u|, |v| (all inputs at once, every "
                     "step) and the 24-bit limit; negative means it can wrap (u) or saturate (v), "
                     "-∞ that the worst case is unbounded")
        if models - {"lif"}:
            lines.append("izhikevich: register = value · 2^F; coefficients as mantissa/2^shift "
                         "with their relative error; rooms against the state limit (v, u, i, "
                         "I) and the derivative limit (T = dv/dt); adaptive_lif: rooms of i, v, "
                         "theta, r against 2^23")
        if self.learning:
            lines += self._learning_text()
        lines += [f"warning: {d.message}" for d in self.warnings]
        return "\n".join(lines)

    def _learning_text(self) -> list[str]:
        lines = ["", f"{'learning':<20}{'rule':>12} {'q':>10}  {'product':<16}{'float':>11} "
                     f"{'target':>11} {'realised (m·2^e)':>22} {'error':>7}"]
        for r in self.learning:
            for k, p in enumerate(r.products):
                head = (f"{r.name:<20}{r.rule:>12} {r.weight_units:>10.4g}" if k == 0
                        else " " * 43)
                realised = f"{p.realised:.4g} ({p.mantissa}·2^{p.exponent})"
                lines.append(f"{head}  {p.variable + ' ' + p.term:<16}{p.float_scaling:>11.4g} "
                             f"{p.target:>11.4g} {realised:>22} {p.relative_error:>7.1%}")
            low, high = r.learned_range
            lines.append(f"  {r.name}: {r.sign_mode} weights learn within [{low:.4g}, "
                         f"{high:.4g}] (8 bits; the float model has no bound)")
            for name, requested, used, by in r.rounded:
                lines.append(f"  {r.name}: {by} rounds {name} {requested:g} → {used:g}")
            if r.reward_scale is not None:
                lines.append(f"  {r.name}: reward {r.reward_mantissa} mantissas a spike at "
                             f"{r.reward_scale:g} per model unit (error {r.reward_error:.1%}); "
                             f"the reward trace holds ±{r.reward_range:.4g} and the tag "
                             f"±{r.tag_range:.4g} (float units) before they saturate")
        lines.append("learning: each product's scaling m·2^e per unit of its factors; target = "
                     "float × q (reward rules, tag products: × q·32/r, for Lava's fixed "
                     "u0·t·y2 >> 5 and the reward in mantissas); q = weight mantissas per "
                     "model unit")
        return lines

    def _of(self, model: str) -> list:
        return [p for p in self.populations if p.model == model]

    def _lif_text(self) -> list[str]:
        lines = ["", f"{'population':<14}{'scale':>10}  {'tau_syn req→real':>20}  "
                 f"{'tau_mem req→real':>20}  {'v_th req→real':>18}  {'bias req→real':>18}  "
                 f"{'u room':>7} {'v room':>7}"]
        for p in self._of("lif"):
            lines.append(f"{p.name:<14}{p.scale:>10.4g}  {_pair(p.tau_syn):>20}  "
                         f"{_pair(p.tau_mem):>20}  {_pair(p.v_th):>18}  {_pair(p.bias):>18}  "
                         f"{_bits(p.u_headroom_bits):>7} {_bits(p.v_headroom_bits):>7}")
        lines += ["", f"{'population':<14}{'refractory':>11} {'reset':>9} {'spiking':>8}  "
                      f"{'bias err':>10} {'u_init err':>10} {'v_init err':>10} "
                      f"{'current err':>11} {'satur.':>7}"]
        for p in self._of("lif"):
            current = "—" if p.current_error is None else f"{p.current_error:.3g}"
            lines.append(f"{p.name:<14}{p.refractory:>11} {p.reset:>9} "
                         f"{'yes' if p.spiking else 'no':>8}  {p.bias_error:>10.3g} "
                         f"{p.u_init_error:>10.3g} {p.v_init_error:>10.3g} {current:>11} "
                         f"{p.bias_saturated + p.init_saturated + p.current_saturated:>7}")
        return lines

    def _izhikevich_text(self) -> list[str]:
        pops = self._of("izhikevich")
        rooms = ("v", "u", "i", "I", "T")
        lines = ["", f"{'izhikevich':<14}{'F':>3} {'resolution':>11} {'di':>5}  "
                     f"{'tau_syn req→real':>18}  {'bias req→real':>18}  "
                 + " ".join(f"{var + ' room':>7}" for var in rooms)]
        for p in pops:
            lines.append(f"{p.name:<14}{p.frac_bits:>3} {p.resolution:>11.3g} {p.di:>5}  "
                         f"{_pair(p.tau_syn):>18}  {_pair(p.bias):>18}  "
                         + " ".join(f"{_bits(p.headroom_bits(var)):>7}" for var in rooms))
        names = ("k0", "k1", "b", "g", "dt", "dt_a")
        lines += ["", f"{'izhikevich':<14}coefficient relative error (mantissa/2^shift)"]
        for p in pops:
            lines.append(f"{p.name:<14}" + "  ".join(
                f"{name} {p.coefficients[name].relative_error:.2g} "
                f"({p.coefficients[name].mantissa}/2^{p.coefficients[name].shift})"
                for name in names))
        held = ("c", "d", "v_peak", "k2", "v_b", "bias", "v_init", "u_init")
        lines += ["", f"{'izhikevich':<14}" + " ".join(f"{name + ' err':>10}" for name in held)
                  + f" {'current err':>11} {'satur.':>7}"]
        for p in pops:
            current = "—" if p.current_error is None else f"{p.current_error:.3g}"
            lines.append(f"{p.name:<14}" + " ".join(f"{p.rounding[name]:>10.3g}" for name in held)
                         + f" {current:>11} {p.current_saturated:>7}")
        return lines

    def _adaptive_text(self) -> list[str]:
        pops = self._of("adaptive_lif")
        lines = ["", f"{'adaptive_lif':<14}{'scale':>10}  {'tau_syn req→real':>18}  "
                     f"{'tau_mem req→real':>18}  {'tau_theta req→real':>18}  "
                     f"{'tau_r req→real':>18}"]
        for p in pops:
            lines.append(f"{p.name:<14}{p.scale:>10.4g}  {_pair(p.tau_syn):>18}  "
                         f"{_pair(p.tau_mem):>18}  {_pair(p.tau_theta):>18}  "
                         f"{_pair(p.tau_r):>18}")
        rooms = ("i", "v", "theta", "r")
        lines += ["", f"{'adaptive_lif':<14}{'theta_0 req→real':>18}  "
                      f"{'theta_step req→real':>20}  {'bias req→real':>18}  {'bias err':>10} "
                      f"{'current err':>11} {'satur.':>7} "
                  + " ".join(f"{var + ' room':>10}" for var in rooms)]
        for p in pops:
            current = "—" if p.current_error is None else f"{p.current_error:.3g}"
            lines.append(f"{p.name:<14}{_pair(p.theta_0):>18}  {_pair(p.theta_step):>20}  "
                         f"{_pair(p.bias):>18}  {p.bias_error:>10.3g} {current:>11} "
                         f"{p.bias_saturated + p.current_saturated:>7} "
                         + " ".join(f"{_bits(p.headroom_bits(var)):>10}" for var in rooms))
        return lines


def headroom_bits(worst: float, limit: int = STATE_LIMIT) -> float:
    """log2(limit / worst): +inf when the state never moves, -inf when its worst case is
    unbounded (e.g. tau_mem = inf with inhibitory input: v drifts down until it saturates)."""
    if worst <= 0:
        return math.inf
    if math.isinf(worst):
        return -math.inf
    return math.log2(limit / worst)


def register_magnitude(worst: float) -> str:
    """A worst-case |u| or |v| in words: unbounded or a number of register units."""
    return "unbounded" if math.isinf(worst) else f"{worst:.3g} register units"


def _pair(pair: tuple[float, float] | None) -> str:
    return "per neuron" if pair is None else f"{pair[0]:.4g}→{pair[1]:.4g}"


def _bits(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:+.1f}"


def _json_floats(value):
    """Strict JSON: infinities (and NaN) as strings, in any nesting of dicts, lists, tuples."""
    if isinstance(value, dict):
        return {k: _json_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_floats(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
