"""The parity contract (DESIGN §3): run several backends on one model and judge every pair.

    report = check_parity(net)                  # runs brian2, lava, lava-fixed, emulator
    report.ok                                   # False on any violation
    compare_results(net, {"a": ra, "b": rb}, {"a": False, "b": True}, steps)  # judge given runs

Pairs: every fixed-point backend against the first one (bit-exact), every float backend
against the first one (float-exact), and the first float against the first fixed backend
(within quantization). With the default order that is `lava-fixed vs emulator`,
`brian2 vs lava` and `brian2 vs lava-fixed`. The spike comparisons live in compare.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from nmcompile.ir import Network, Probe
from nmcompile.parity.compare import (
    PairResult, Tolerance, compare_bit_exact, compare_float_exact, compare_quantized,
)
from nmcompile.result import Result

DEFAULT_BACKENDS = ("brian2", "lava", "lava-fixed", "emulator")

__all__ = ["DEFAULT_BACKENDS", "BackendRun", "PairResult", "ParityReport", "Tolerance",
           "check_parity", "compare_results", "plan_pairs", "with_v_probes"]


@dataclass
class BackendRun:
    """One backend's run: its Result, or why it was skipped (not installed, unsupported) or failed."""

    name: str
    fixed_point: bool
    status: str                    # "ran" | "skipped" | "error"
    result: Result | None = None
    reason: str = ""

    @property
    def n_spikes(self) -> int | None:
        if self.result is None:
            return None
        return self.result.neuron_spike_count()


@dataclass
class ParityReport:
    """Everything a parity run found: the backends' runs and one PairResult per compared pair."""

    model: str
    steps: int
    target: str | None
    tolerance: Tolerance
    runs: list[BackendRun]
    pairs: list[PairResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No violation: every pair passed, tied or was skipped, and no backend failed to run."""
        return (all(p.verdict in ("pass", "tie", "skip") for p in self.pairs)
                and all(r.status != "error" for r in self.runs))

    @property
    def violations(self) -> list[PairResult]:
        return [p for p in self.pairs if p.verdict in ("fail", "error")]


def plan_pairs(names: list[str], fixed: dict[str, bool]) -> list[tuple[str, str, str]]:
    """(a, b, contract) for the given backends, in the order given (see module docstring)."""
    floats = [n for n in names if not fixed[n]]
    fixeds = [n for n in names if fixed[n]]
    pairs = [(floats[0], other, "float-exact") for other in floats[1:]]
    pairs += [(fixeds[0], other, "bit-exact") for other in fixeds[1:]]
    if floats and fixeds:
        pairs.append((floats[0], fixeds[0], "quantization"))
    return pairs


def with_v_probes(net: Network) -> Network:
    """`net` with probes of the state ties are judged on (each model's TIE_STATE: v, and r and
    theta for adaptive LIF) on every neuron population that lacks them."""
    have = {(p.population, p.var) for p in net.probes}
    extra = tuple(Probe(population=p.name, var=var) for p in net.neuron_populations()
                  for var in p.model.TIE_STATE if (p.name, var) not in have)
    return replace(net, probes=net.probes + extra) if extra else net


def compare_results(net: Network, results: dict[str, Result | None], fixed: dict[str, bool],
                    steps: int, tolerance: Tolerance = Tolerance(),
                    reasons: dict[str, str] | None = None) -> list[PairResult]:
    """Judge every planned pair of the given runs; a pair with a missing run (None) is skipped."""
    reasons = reasons or {}
    out = []
    for a, b, contract in plan_pairs(list(results), fixed):
        absent = [n for n in (a, b) if results[n] is None]
        if absent:
            why = "; ".join(f"{n}: {reasons.get(n, 'did not run')}" for n in absent)
            out.append(PairResult(a=a, b=b, contract=contract, verdict="skip", note=why))
        elif contract == "bit-exact":
            out.append(compare_bit_exact(net, a, results[a], b, results[b], steps))
        elif contract == "float-exact":
            out.append(compare_float_exact(net, a, results[a], b, results[b], steps))
        else:
            out.append(compare_quantized(net, a, results[a], b, results[b], steps, tolerance))
    return out


def run_backend(net: Network, name: str, *, steps: int, target: str | None,
                options: dict | None = None) -> BackendRun:
    """Run one backend through the driver; report (not raise) a missing package or capability.

    Bad input (unknown backend, bad target) still raises InputError; a RunError (a crash,
    strict-mode overflow) is recorded as status "error", which fails the parity run.
    """
    from nmcompile import driver
    from nmcompile.backends import get_backend
    from nmcompile.diagnostics import RunError
    backend = get_backend(name)
    fixed = backend.capabilities.fixed_point
    missing = backend.missing_dependency()
    if missing:
        return BackendRun(name, fixed, "skipped", reason=f"not installed: {missing}")
    problems = [d.message for d in backend.check(net) if d.severity == "error"]
    if problems:
        return BackendRun(name, fixed, "skipped", reason="unsupported: " + "; ".join(problems))
    try:
        result = driver.run(net, name, steps=steps, target=target, options=options)
    except RunError as exc:
        return BackendRun(name, fixed, "error", reason=str(exc))
    return BackendRun(name, fixed, "ran", result=result)


def check_parity(net: Network, backends: list[str] | tuple[str, ...] = DEFAULT_BACKENDS, *,
                 steps: int | None = None, target: str | None = None,
                 tolerance: Tolerance = Tolerance(), options: dict | None = None,
                 on_run=None) -> ParityReport:
    """Run each backend once on `net` (plus v probes) and judge every pair of the contract.

    `on_run(BackendRun)` is called after each backend, e.g. to print progress.
    """
    from nmcompile.diagnostics import InputError
    if len(set(backends)) != len(backends):
        raise InputError(f"backends listed twice: {', '.join(backends)}")
    if len(backends) < 2:
        raise InputError("parity needs at least two backends")
    from nmcompile.backends import get_backend
    for name in backends:  # unknown names are input errors before anything runs
        get_backend(name)
    steps = net.steps if steps is None else steps
    probed = with_v_probes(net)
    runs = []
    for name in backends:
        runs.append(run_backend(probed, name, steps=steps, target=target, options=options))
        if on_run is not None:
            on_run(runs[-1])
    results = {r.name: r.result for r in runs}
    fixed = {r.name: r.fixed_point for r in runs}
    reasons = {r.name: r.reason for r in runs}
    used_target = next((r.result.meta.get("target") for r in runs
                        if r.result is not None and r.result.meta.get("target")), target)
    report = ParityReport(model=net.name, steps=steps, target=used_target, tolerance=tolerance,
                          runs=runs)
    report.pairs = compare_results(probed, results, fixed, steps, tolerance, reasons)
    failed = {r.name for r in runs if r.status == "error"}
    for pair in report.pairs:
        if {pair.a, pair.b} & failed:
            pair.verdict = "error"
    return report
