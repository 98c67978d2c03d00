"""The 20 firing patterns of Izhikevich (2004), Fig. 1, run through nmcompile.

    .venv/bin/python examples/izhikevich/run.py                     # brian2, draws the figure
    .venv/bin/python examples/izhikevich/run.py --backend emulator  # any installed backend
    .venv/bin/python examples/izhikevich/run.py --parity            # every backend, judged

Each pattern is one model file in patterns/ (one neuron, the paper's a, b, c, d, time step and
current protocol). The figure draws v as the paper's script does: v at the peak (30 mV) at a
spike's step, and the injected current under each trace. With --parity, every pattern runs on
all four backends through nmcompile's parity contract (docs/design.md §3), one line each;
the exit status is 1 when any pair breaks it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import nmcompile
from nmcompile import driver
from nmcompile.parity import DEFAULT_BACKENDS, check_parity

HERE = Path(__file__).resolve().parent
PATTERNS = sorted((HERE / "patterns").glob("*.yaml"))
FIGURE = HERE / "izhikevich_patterns.png"
POPULATION = "neuron"


def title(path: Path) -> str:
    """'(A) tonic spiking' from a_tonic_spiking.yaml: the paper's panel letter and name."""
    letter, _, name = path.stem.partition("_")
    return f"({letter.upper()}) {name.replace('_', ' ')}"


def drawn_v(result, net) -> np.ndarray:
    """v in mV per step, at v_peak on a spike's step (the script draws VV = 30 there; the trace
    holds v after the reset). Fixed-point traces are registers: divided by their scale."""
    v = result.traces[(POPULATION, "v")][:, 0].astype(np.float64)
    if result.meta.get("units") == "register":
        v = v / result.meta["scale"][POPULATION]
    v[result.spikes[POPULATION][0]] = net.populations[POPULATION].model.v_peak
    return v


def run_all(backend: str) -> list[tuple[Path, object, object]]:
    """(pattern file, network, result) for every pattern, with one line of output each."""
    runs = []
    for path in PATTERNS:
        net = nmcompile.load_model(str(path))
        result = driver.run(net, backend)
        steps = result.spikes[POPULATION][0]
        first = f"first at step {steps[0]} (t = {steps[0] * net.dt:g} ms)" if len(steps) else ""
        print(f"{title(path):40s} {len(steps):3d} spike{'' if len(steps) == 1 else 's'}  {first}")
        runs.append((path, net, result))
    return runs


def draw(runs, out: Path, backend: str) -> None:
    """A 5 × 4 grid like the paper's figure: v on top, the injected current below it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 17))
    outer = fig.add_gridspec(5, 4, hspace=0.45, wspace=0.12)
    for k, (path, net, result) in enumerate(runs):
        cell = outer[k // 4, k % 4].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        ax_v, ax_i = fig.add_subplot(cell[0]), fig.add_subplot(cell[1])
        t = np.arange(net.steps) * net.dt
        ax_v.plot(t, drawn_v(result, net), color="C0", linewidth=0.8)
        ax_v.set_ylim(-90, 35)
        ax_v.set_title(title(path), fontsize=10)
        ax_v.tick_params(labelbottom=False, labelsize=7)
        ax_i.plot(t, net.current(POPULATION, net.steps)[:, 0], color="C3", linewidth=0.8)
        ax_i.tick_params(labelsize=7)
        for ax in (ax_v, ax_i):
            ax.set_xlim(0, t[-1])
            ax.spines[["top", "right"]].set_visible(False)
        if k % 4 == 0:
            ax_v.set_ylabel("v (mV)", fontsize=8)
            ax_i.set_ylabel("I", fontsize=8)
        if k // 4 == 4:
            ax_i.set_xlabel("t (ms)", fontsize=8)
    fig.suptitle(f"Izhikevich (2004), Fig. 1: 20 firing patterns, one neuron each, on {backend}",
                 fontsize=13, y=0.92)
    fig.savefig(out, dpi=90, bbox_inches="tight")


def parity_line(path: Path, report) -> str:
    """Spikes and first spike step per backend, then every pair's verdict."""
    cells = []
    for run in report.runs:
        if run.result is None:
            cells.append(f"{run.name} {run.status}")
        else:
            steps = run.result.spikes[POPULATION][0]
            first = f"@{steps[0]}" if len(steps) else ""
            cells.append(f"{run.name} {len(steps)}{first}")
    verdicts = [f"{p.a}~{p.b} {p.verdict.upper()}" for p in report.pairs]
    return f"{title(path):40s} " + " | ".join(cells) + "   " + ", ".join(verdicts)


def parity_all(backends) -> bool:
    """One parity run per pattern; the reasons of skipped or failed backends once at the end."""
    ok, reasons = True, {}
    print("per backend: spikes@step of the first spike; then each pair's verdict (design §3)")
    for path in PATTERNS:
        report = check_parity(nmcompile.load_model(str(path)), backends)
        print(parity_line(path, report), flush=True)
        ok = ok and report.ok
        for run in report.runs:
            if run.reason:
                reasons.setdefault(f"{run.name} {run.status}: {run.reason}", []).append(
                    path.stem[0].upper())
    for reason, letters in reasons.items():
        print(f"{reason} ({''.join(letters)})")
    print("parity holds for every pattern" if ok else "PARITY VIOLATED")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="brian2",
                        help="backend for the figure (default brian2, the float reference)")
    parser.add_argument("--parity", action="store_true",
                        help="instead of the figure: nmcompile's parity on every pattern")
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                        help="with --parity: the backends, comma-separated (default all four)")
    parser.add_argument("-o", "--output", type=Path, default=FIGURE,
                        help=f"figure file (default {FIGURE.relative_to(HERE.parents[1])})")
    args = parser.parse_args(argv)
    if args.parity:
        return 0 if parity_all(args.backends.split(",")) else 1
    draw(run_all(args.backend), args.output, args.backend)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
