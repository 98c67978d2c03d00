"""How two runs of one model are compared, one function per contract of DESIGN §3.

bit-exact     every spike at every step and every probed u/v value equal
float-exact   identical spikes; a spike present in one run only is a *tie* when the other
              run's v at that step is within TIE_EPS of v_th. A tie makes the runs diverge
              legitimately, but only where it can reach: the tied neuron from the next step
              on, its targets from step + delay on, and onwards from every mismatch so
              excused. Such mismatches are counted (details["downstream_of_tie"]); any
              other mismatch, even after a tie, is a violation.
quantization  per population, the per-neuron spike counts differ by at most the Tolerance;
              the van Rossum distance is reported (and judged when a limit is set); the
              first divergent step and the spikes at different steps are reported, not judged.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from nmcompile.diagnostics import InputError
from nmcompile.ir import Network
from nmcompile.result import Result

TIE_EPS = 1e-9


@dataclass(frozen=True)
class Mismatch:
    """Where two runs first differ: a spike (`what` = "spike") or a probed value (its state variable, e.g. "v")."""

    step: int
    population: str
    neuron: int
    what: str = "spike"

    def __str__(self) -> str:
        tail = "" if self.what == "spike" else f" ({self.what})"
        return f"step {self.step}, {self.population}, {self.neuron}{tail}"


@dataclass
class PairResult:
    """The verdict on one pair: pass | tie | fail | skip | error, with the evidence."""

    a: str
    b: str
    contract: str                  # "bit-exact" | "float-exact" | "quantization"
    verdict: str
    spikes_compared: int = 0       # distinct (step, population, neuron) spikes in either run
    mismatches: int = 0            # spikes in one run only (+ differing values, bit-exact)
    first: Mismatch | None = None
    ties: int = 0
    note: str = ""
    details: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.a} vs {self.b}"

    def to_json(self) -> dict:
        out = asdict(self)
        out["name"] = self.name
        return out


@dataclass(frozen=True)
class Tolerance:
    """How far a float run may drift from a fixed-point run of the same model, per population.

    count: Σ_i |c_a,i − c_b,i| ≤ abs + rel · Σ_i max(c_a,i, c_b,i) over its neurons i, i.e. at
    most `rel` of the spikes lack a counterpart in the same neuron's count (plus `abs` spikes
    of slack for sparse populations). Defaults 2 and 0.25: quantization moves spikes by a step
    or two and, in recurrent networks, decorrelates them after a while (examples/recurrent_ei:
    0.10), while a wrong scale, sign, delay or connection changes counts wholesale.
    van_rossum: the normalised distance 2·ΣD²/(n_a+n_b) (0 = same spikes, ~1 = independent
    trains), judged only when set, since chaotic networks drift towards 1 as runs get longer.
    weights: the learned weights' difference Σ|w_a − w_b| / Σ max(|w_a|, |w_b|) per plastic
    projection, in model units, judged only when set: Lava's own float and fixed learning
    differ by design (7-bit traces, stochastic rounding; docs/design.md §10).
    """

    abs: int = 2
    rel: float = 0.25
    van_rossum: float | None = None
    tau_ms: float = 10.0
    weights: float | None = None

    def __str__(self) -> str:
        vr = "" if self.van_rossum is None else f", van Rossum ≤ {self.van_rossum}"
        w = "" if self.weights is None else f", learned weights ≤ {self.weights:g}"
        return (f"Σ|Δcount| ≤ {self.abs} + {self.rel:g}·Σmax(count){vr}{w} "
                f"(tau {self.tau_ms:g} ms)")

    @staticmethod
    def parse(text: str) -> "Tolerance":
        """'abs=2,rel=0.25,van_rossum=0.5,tau_ms=10,weights=0.3' (any subset); a bare number
        sets rel."""
        fields = {"abs": int, "rel": float, "van_rossum": float, "tau_ms": float,
                  "weights": float}
        values = {}
        for item in filter(None, (s.strip() for s in text.split(","))):
            key, sep, raw = item.partition("=")
            if not sep:
                key, raw = "rel", key
            if key not in fields:
                raise InputError(f"--tolerance: unknown key {key!r}; use {', '.join(fields)}")
            try:
                values[key] = fields[key](raw)
            except ValueError:
                raise InputError(f"--tolerance: {key} must be a number, got {raw!r}") from None
            if not math.isfinite(values[key]) or values[key] < 0:
                raise InputError(f"--tolerance: {key} must be ≥ 0, got {raw}")
        if values.get("tau_ms", 1.0) <= 0:
            raise InputError("--tolerance: tau_ms must be > 0")
        return Tolerance(**values)


def _spike_keys(result: Result, pop: str, size: int, steps: int) -> np.ndarray:
    """Sorted unique step·size + neuron codes of one population's spikes before `steps`."""
    t, n = result.spikes.get(pop, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    t, n = np.asarray(t, np.int64), np.asarray(n, np.int64)
    keep = t < steps
    return np.unique(t[keep] * size + n[keep])


def _spike_diff(net: Network, ra: Result, rb: Result, steps: int):
    """Per neuron population: (keys only in a, keys only in b, size of the union)."""
    out = {}
    for pop in net.neuron_populations():
        ka, kb = (_spike_keys(r, pop.name, pop.size, steps) for r in (ra, rb))
        out[pop.name] = (np.setdiff1d(ka, kb, assume_unique=True),
                         np.setdiff1d(kb, ka, assume_unique=True),
                         len(np.union1d(ka, kb)))
    return out


def _missing_populations(net: Network, ra: Result, rb: Result, a: str, b: str) -> list[str]:
    return [f"{name} recorded no spikes of {pop.name}" for pop in net.neuron_populations()
            for name, r in ((a, ra), (b, rb)) if pop.name not in r.spikes]


def _earliest(cands: list[Mismatch], order: dict[str, int]) -> Mismatch | None:
    return min(cands, key=lambda m: (m.step, order.get(m.population, len(order)), m.neuron),
               default=None)


def compare_bit_exact(net: Network, a: str, ra: Result, b: str, rb: Result,
                      steps: int) -> PairResult:
    """Every spike and every probed value recorded by both runs must be equal."""
    order = {name: i for i, name in enumerate(net.populations)}
    problems = _missing_populations(net, ra, rb, a, b)
    firsts, n_spike, n_value, compared = [], 0, 0, 0
    for pop, (only_a, only_b, union) in _spike_diff(net, ra, rb, steps).items():
        size = net.populations[pop].size
        compared += union
        n_spike += len(only_a) + len(only_b)
        if len(only_a) or len(only_b):
            k = int(min(only_a.min(initial=np.iinfo(np.int64).max),
                        only_b.min(initial=np.iinfo(np.int64).max)))
            firsts.append(Mismatch(k // size, pop, k % size))
    for key in sorted(set(ra.traces) | set(rb.traces)):
        pop, var = key
        if key not in ra.traces or key not in rb.traces:
            problems.append(f"{pop}.{var} recorded by {a if key in ra.traces else b} only")
            continue
        ta, tb = np.asarray(ra.traces[key])[:steps], np.asarray(rb.traces[key])[:steps]
        if ta.shape != tb.shape:
            problems.append(f"{pop}.{var}: shape {ta.shape} in {a}, {tb.shape} in {b}")
            continue
        diff = np.argwhere(ta != tb)  # row-major: sorted by step, then neuron
        n_value += len(diff)
        if len(diff):
            firsts.append(Mismatch(int(diff[0, 0]), pop, int(diff[0, 1]), var))
    n_weight, weight_firsts = _weight_mismatches(net, a, ra, b, rb, steps, problems)
    firsts += weight_firsts
    mismatches = n_spike + n_value + n_weight
    verdict = "fail" if mismatches or problems else "pass"
    return PairResult(a=a, b=b, contract="bit-exact", verdict=verdict, spikes_compared=compared,
                      mismatches=mismatches, first=_earliest(firsts, order),
                      note="; ".join(problems),
                      details={"spike_mismatches": n_spike, "value_mismatches": n_value,
                               **_weight_details(net, n_weight)})


def _weight_details(net: Network, n_weight: int) -> dict:
    """The count of differing learned weights, for networks that learn."""
    return {"weight_mismatches": n_weight} if net.plastic_projections() else {}


def _weight_mismatches(net: Network, a: str, ra: Result, b: str, rb: Result, steps: int,
                       problems: list[str]) -> tuple[int, list[Mismatch]]:
    """Learned weights (at the end, and every sample of a weight probe) that differ, as
    (count, the first of each projection); missing ones go to `problems`. A final weight's
    mismatch is dated at the last step, a sample's at the step it was taken after."""
    count, firsts = 0, []
    probes = {p.projection: p.every for p in net.weight_probes}
    for proj in net.plastic_projections():
        runs = {name: r for name, r in ((a, ra), (b, rb)) if proj.name not in r.weights}
        if runs:
            problems.append(f"{proj.name}: no learned weights from {', '.join(runs)}")
            continue
        wa, wb = np.asarray(ra.weights[proj.name]), np.asarray(rb.weights[proj.name])
        diff = np.flatnonzero(wa != wb) if wa.shape == wb.shape else np.arange(wa.size)
        count += diff.size
        if diff.size:
            firsts.append(Mismatch(steps - 1, proj.name, int(diff[0]), "weight"))
        every = probes.get(proj.name)
        if every is None:
            continue
        samples = steps // every
        sa, sb = (np.asarray(r.weight_traces.get(proj.name, np.zeros((0, 0))))[:samples]
                  for r in (ra, rb))
        if sa.shape != sb.shape:
            problems.append(f"{proj.name}: weight samples {sa.shape} in {a}, {sb.shape} in {b}")
            continue
        at = np.argwhere(sa != sb)
        count += len(at)
        if len(at):
            firsts.append(Mismatch(int((at[0, 0] + 1) * every - 1), proj.name, int(at[0, 1]),
                                   "weight"))
    return count, firsts


class _Downstream:
    """Where an allowed mismatch has reached: once a neuron's spike differs at step t, its own
    state differs from t + 1 on and each target's input from t + d on (d: the synapse's delay,
    DESIGN §2), so the two runs may legitimately disagree there."""

    def __init__(self, net: Network):
        never = np.iinfo(np.int64).max
        self.since = {p.name: np.full(p.size, never, np.int64) for p in net.neuron_populations()}
        self.out = {}  # pre population -> projections into LIF populations
        for proj in net.projections:
            if proj.post in self.since:
                self.out.setdefault(proj.pre, []).append(proj)
        self.spread_from = set()

    def reached(self, pop: str, neuron: int, step: int) -> bool:
        return bool(self.since[pop][neuron] <= step)

    def spread(self, pop: str, neuron: int, step: int) -> None:
        """Mark what a mismatch at `step` reaches; a neuron's first mismatch reaches earliest."""
        if (pop, neuron) in self.spread_from:
            return
        self.spread_from.add((pop, neuron))
        self.since[pop][neuron] = min(self.since[pop][neuron], step + 1)
        for proj in self.out.get(pop, ()):
            lo, hi = np.searchsorted(proj.pre_idx, [neuron, neuron + 1])  # COO sorted by pre
            np.minimum.at(self.since[proj.post], proj.post_idx[lo:hi],
                          step + proj.delay[lo:hi].astype(np.int64))


def compare_float_exact(net: Network, a: str, ra: Result, b: str, rb: Result,
                        steps: int) -> PairResult:
    """Identical spikes, except ties (|threshold_gap| < TIE_EPS in the non-spiking run at that
    step: LIF v − v_th, Izhikevich v' − v_peak, adaptive v − r − theta)
    and the mismatches a tie has already reached through the network (_Downstream)."""
    order = {name: i for i, name in enumerate(net.populations)}
    problems = _missing_populations(net, ra, rb, a, b)
    events, compared = [], 0  # (step, pop order, neuron, pop, is_tie)
    for pop, (only_a, only_b, union) in _spike_diff(net, ra, rb, steps).items():
        p = net.populations[pop]
        compared += union
        for keys, silent in ((only_a, rb), (only_b, ra)):
            t, n = keys // p.size, keys % p.size
            state = {var: silent.traces.get((pop, var)) for var in p.model.TIE_STATE}
            if all(np.ndim(x) == 2 and np.shape(x)[0] >= steps and np.shape(x)[1] == p.size
                   for x in state.values()):
                at = {var: np.asarray(x)[t, n] for var, x in state.items()}
                tie = np.abs(p.model.threshold_gap(at)) < TIE_EPS
            else:  # without the silent run's state no mismatch can be excused
                tie = np.zeros(len(keys), dtype=bool)
            events += [(int(ti), order[pop], int(ni), pop, bool(x)) for ti, ni, x in zip(t, n, tie)]
    events.sort()
    reach = _Downstream(net)
    ties, downstream, violations = [], 0, []
    for step, _, neuron, pop, tie in events:
        if tie:
            ties.append(Mismatch(step, pop, neuron))
        elif reach.reached(pop, neuron, step):
            downstream += 1
        else:
            violations.append(Mismatch(step, pop, neuron))
            continue
        reach.spread(pop, neuron, step)
    n_weight, weight_firsts = _weight_mismatches(net, a, ra, b, rb, steps, problems)
    if n_weight and not events:
        violations += weight_firsts
    verdict = "fail" if problems or violations else "tie" if ties else "pass"
    if n_weight and events:
        problems.append(f"{n_weight} learned weight(s) differ after the spikes diverged at a tie")
    if violations:
        problems.append(f"{len(violations)} mismatch(es) neither a tie nor downstream of one, "
                        f"first at {violations[0]}")
    if ties:
        problems.append(f"{len(ties)} tie(s), first at {ties[0]}; {downstream} later "
                        "mismatch(es) downstream of a tie (in its neuron, or reached through "
                        "synapses after their delay)")
    first = Mismatch(events[0][0], events[0][3], events[0][2]) if events else (
        _earliest(weight_firsts, order) if weight_firsts else None)
    return PairResult(a=a, b=b, contract="float-exact", verdict=verdict,
                      spikes_compared=compared, mismatches=len(events) + n_weight, first=first,
                      ties=len(ties), note="; ".join(problems),
                      details={"downstream_of_tie": downstream, "violations": len(violations),
                               **_weight_details(net, n_weight),
                               "first_violation": str(violations[0]) if violations else None,
                               "max_abs_v_diff": _max_trace_diff(ra, rb, "v", steps)})


def _max_trace_diff(ra: Result, rb: Result, var: str, steps: int) -> float | None:
    diffs = [float(np.max(np.abs(np.asarray(ra.traces[k])[:steps] - np.asarray(rb.traces[k])[:steps]),
                          initial=0.0))
             for k in ra.traces if k[1] == var and k in rb.traces
             and np.shape(ra.traces[k]) == np.shape(rb.traces[k])]
    return max(diffs) if diffs else None


def van_rossum_sq(raster_a: np.ndarray, raster_b: np.ndarray, decay: float) -> np.ndarray:
    """Per neuron D² = (1/τ)∫(f−g)² of the spike trains filtered by exp(−t/τ), exactly for
    spikes on the step grid: D² = ½ Σ_{t,t'} w_t w_t' decay^|t−t'| with w = a − b."""
    from scipy.signal import lfilter  # imported here: scipy.signal alone takes ~0.4 s
    w = raster_a.astype(np.float64) - raster_b.astype(np.float64)
    if w.size == 0:
        return np.zeros(w.shape[1:])
    y = lfilter([0.0, decay], [1.0, -decay], w, axis=0)  # y_t = Σ_{t'<t} w_t' decay^(t−t')
    return 0.5 * np.sum(w * w + 2.0 * w * y, axis=0)


_GRID_CELLS = 4_000_000  # steps × neurons per chunk of the van Rossum rasters: bounds memory


def _van_rossum_total(keys: list[np.ndarray], cols: np.ndarray, size: int, steps: int,
                      decay: float) -> float:
    """Σ D² over the neurons `cols` (those whose spikes differ; the others have D = 0)."""
    total, width = 0.0, max(1, _GRID_CELLS // max(steps, 1))
    for start in range(0, len(cols), width):
        chunk = cols[start:start + width]
        rasters = []
        for k in keys:
            t, n = k // size, k % size
            j = np.searchsorted(chunk, n)
            hit = (j < len(chunk)) & (chunk[np.minimum(j, len(chunk) - 1)] == n)
            r = np.zeros((steps, len(chunk)), dtype=bool)
            r[t[hit], j[hit]] = True
            rasters.append(r)
        total += float(van_rossum_sq(rasters[0], rasters[1], decay).sum())
    return total


def compare_quantized(net: Network, a: str, ra: Result, b: str, rb: Result, steps: int,
                      tol: Tolerance) -> PairResult:
    """Per-neuron spike counts within tolerance (and van Rossum distance, when set)."""
    order = {name: i for i, name in enumerate(net.populations)}
    problems = _missing_populations(net, ra, rb, a, b)
    decay = math.exp(-net.dt / tol.tau_ms)
    firsts, mismatches, compared, per_pop = [], 0, 0, {}
    for pop, (only_a, only_b, union) in _spike_diff(net, ra, rb, steps).items():
        p = net.populations[pop]
        compared += union
        mismatches += len(only_a) + len(only_b)
        keys = [_spike_keys(r, pop, p.size, steps) for r in (ra, rb)]
        ca, cb = (np.bincount(k % p.size, minlength=p.size) for k in keys)
        count_diff, count_max = int(np.abs(ca - cb).sum()), int(np.maximum(ca, cb).sum())
        diff_keys = np.concatenate([only_a, only_b])
        if len(diff_keys):
            k = int(diff_keys.min())
            firsts.append(Mismatch(k // p.size, pop, k % p.size))
        d2 = _van_rossum_total(keys, np.unique(diff_keys % p.size), p.size, steps, decay)
        total = int(ca.sum() + cb.sum())
        vr = 2.0 * d2 / total if total else 0.0
        per_pop[pop] = {"model": p.model.kind, "spikes": [int(ca.sum()), int(cb.sum())],
                        "count_diff": count_diff,
                        "count_diff_fraction": round(count_diff / count_max, 6) if count_max else 0.0,
                        "max_neuron_count_diff": int(np.abs(ca - cb).max(initial=0)),
                        "van_rossum": round(vr, 6)}
        if count_diff > tol.abs + tol.rel * count_max:
            problems.append(f"{pop}: spike counts differ by {count_diff} of {count_max} "
                            f"(> {tol.abs} + {tol.rel:g}·{count_max})")
        if tol.van_rossum is not None and vr > tol.van_rossum:
            problems.append(f"{pop}: van Rossum distance {vr:.3f} > {tol.van_rossum}")
    learned = _learned_weight_distance(net, ra, rb)
    for proj, distance in learned.items():
        if tol.weights is not None and distance["distance"] > tol.weights:
            problems.append(f"{proj}: learned weights differ by {distance['distance']:.3f} "
                            f"> {tol.weights:g}")
    return PairResult(a=a, b=b, contract="quantization", verdict="fail" if problems else "pass",
                      spikes_compared=compared, mismatches=mismatches,
                      first=_earliest(firsts, order), note="; ".join(problems),
                      details={"populations": per_pop, "tolerance": asdict(tol),
                               "learned_weights": learned})


def _learned_weight_distance(net: Network, ra: Result, rb: Result) -> dict[str, dict]:
    """Per plastic projection that both runs learned: Σ|w_a − w_b| / Σ max(|w_a|, |w_b|) in
    model units (a fixed-point run's mantissas divided by its meta["weight_scale"]), and the
    mean weight of each run."""
    out = {}
    for proj in net.plastic_projections():
        if proj.name not in ra.weights or proj.name not in rb.weights:
            continue
        wa, wb = (np.asarray(r.weights[proj.name], float)
                  / r.meta.get("weight_scale", {}).get(proj.name, 1.0) for r in (ra, rb))
        top = float(np.maximum(np.abs(wa), np.abs(wb)).sum())
        out[proj.name] = {"distance": round(float(np.abs(wa - wb).sum()) / top, 6) if top else 0.0,
                          "mean": [round(float(wa.mean()), 9), round(float(wb.mean()), 9)]}
    return out
