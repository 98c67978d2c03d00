"""What quantization kept and lost, per population and projection, as text or JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from nmcompile.diagnostics import Diagnostic

STATE_LIMIT = 2 ** 23  # |u| and |v| registers are 24-bit signed


@dataclass(frozen=True, kw_only=True)
class PopulationReport:
    """Requested vs realised parameters of one LIF population, and worst-case state magnitudes
    in register units (|u| beyond 2^23 wraps, |v| beyond 2^23 - 1 saturates)."""

    name: str
    scale: float
    tau_syn: tuple[float, float]   # (requested, realised) ms
    tau_mem: tuple[float, float]
    v_th: tuple[float, float]
    bias: tuple[float, float]
    du: int
    dv: int
    vth: int
    bias_mant: int
    bias_exp: int
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
        pops = [dict(asdict(p), u_headroom_bits=_json_float(p.u_headroom_bits),
                     v_headroom_bits=_json_float(p.v_headroom_bits),
                     u_worst=_json_float(p.u_worst), v_worst=_json_float(p.v_worst),
                     tau_syn=[_json_float(x) for x in p.tau_syn],
                     tau_mem=[_json_float(x) for x in p.tau_mem])
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
        lines += ["", f"{'projection':<20}{'synapses':>9} {'sign':>11} {'exp':>4} {'bits':>5}"
                      f" {'LSB':>10} {'RMS err':>10} {'max err':>10} {'zeroed':>7} {'satur.':>7}"]
        for q in self.projections:
            lines.append(f"{q.name:<20}{q.synapses:>9} {q.sign_mode:>11} {q.weight_exp:>4} "
                         f"{q.num_weight_bits:>5} {q.lsb:>10.3g} {q.rms_error:>10.3g} "
                         f"{q.max_error:>10.3g} {q.zeroed:>7} {q.saturated:>7}")
        lines.append("")
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


def _pair(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.4g}→{pair[1]:.4g}"


def _bits(x: float) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:+.1f}"


def _json_float(x: float) -> float | str:
    return str(x) if math.isinf(x) or math.isnan(x) else x
