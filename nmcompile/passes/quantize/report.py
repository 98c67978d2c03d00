"""What quantization kept and lost, per population and projection, as text or JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from nmcompile.diagnostics import Diagnostic

STATE_LIMIT = 2 ** 23  # |u| and |v| registers are 24-bit signed


@dataclass(frozen=True, kw_only=True)
class PopulationReport:
    """Requested vs realised parameters of one LIF population, what rounding cost the values
    that may differ per neuron, and worst-case state magnitudes in register units (|u| beyond
    2^23 wraps, |v| beyond 2^23 - 1 saturates). Errors are in model units, the largest over
    the population's neurons (and, for the injected current, over the network's steps)."""

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
        return _headroom_bits(self.u_worst)

    @property
    def v_headroom_bits(self) -> float:
        return _headroom_bits(self.v_worst)


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


@dataclass(kw_only=True)
class QuantReport:
    target: str
    populations: list[PopulationReport] = field(default_factory=list)
    projections: list[ProjectionReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def to_dict(self) -> dict:
        pops = [_json_floats(dict(asdict(p), u_headroom_bits=p.u_headroom_bits,
                                  v_headroom_bits=p.v_headroom_bits))
                for p in self.populations]
        return {"target": self.target, "populations": pops,
                "projections": [asdict(p) for p in self.projections],
                "warnings": [str(d) for d in self.warnings]}

    def text(self) -> str:
        lines = [f"quantization for target {self.target}", "",
                 f"{'population':<14}{'scale':>10}  {'tau_syn req→real':>20}  "
                 f"{'tau_mem req→real':>20}  {'v_th req→real':>18}  {'bias req→real':>18}  "
                 f"{'u room':>7} {'v room':>7}"]
        for p in self.populations:
            lines.append(f"{p.name:<14}{p.scale:>10.4g}  {_pair(p.tau_syn):>20}  "
                         f"{_pair(p.tau_mem):>20}  {_pair(p.v_th):>18}  {_pair(p.bias):>18}  "
                         f"{_bits(p.u_headroom_bits):>7} {_bits(p.v_headroom_bits):>7}")
        lines += ["", f"{'population':<14}{'refractory':>11} {'reset':>9} {'spiking':>8}  "
                      f"{'bias err':>10} {'u_init err':>10} {'v_init err':>10} "
                      f"{'current err':>11} {'satur.':>7}"]
        for p in self.populations:
            current = "—" if p.current_error is None else f"{p.current_error:.3g}"
            lines.append(f"{p.name:<14}{p.refractory:>11} {p.reset:>9} "
                         f"{'yes' if p.spiking else 'no':>8}  {p.bias_error:>10.3g} "
                         f"{p.u_init_error:>10.3g} {p.v_init_error:>10.3g} {current:>11} "
                         f"{p.bias_saturated + p.init_saturated + p.current_saturated:>7}")
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
        lines += [f"warning: {d.message}" for d in self.warnings]
        return "\n".join(lines)


def _headroom_bits(worst: float) -> float:
    """+inf when the state never moves, -inf when its worst case is unbounded (e.g. tau_mem =
    inf with inhibitory input: v drifts down until it saturates)."""
    if worst <= 0:
        return math.inf
    if math.isinf(worst):
        return -math.inf
    return math.log2(STATE_LIMIT / worst)


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
