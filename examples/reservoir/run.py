"""A liquid state machine (Maass, Natschläger & Markram 2002) on nmcompile's backends.

    .venv/bin/python examples/reservoir/run.py                          # brian2 and emulator
    .venv/bin/python examples/reservoir/run.py --backends brian2,emulator,lava,lava-fixed
    .venv/bin/python examples/reservoir/run.py --seed 3 --samples 50 -o /tmp/lsm.png

Builds the liquid and the task (lsm.py), plays every sample in one run per backend, trains a
linear readout on each backend's liquid states, and prints the accuracies on held-out samples:
the readout trained on the backend's own states, the first float backend's readout applied
to the backend's states, and the readout of the liquid in the 25 ms after the input ended.
Draws the input and the liquid for one sample per class and the accuracies.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import lsm  # noqa: E402  (next to this script)
from nmcompile import driver  # noqa: E402
from nmcompile.result import Result  # noqa: E402

FIGURE = HERE / "reservoir.png"


@dataclass(frozen=True)
class Run:
    """One backend's run and what the readouts made of it."""

    name: str
    fixed: bool
    seconds: float
    result: Result
    states: np.ndarray
    own: float                  # readout trained on these states
    after: float                # the same, from the bin after the input only
    readout: lsm.Readout


def accuracy(readout: lsm.Readout, states: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(readout.predict(states) == labels))


def run_backend(model: lsm.Model, name: str) -> Run:
    """One run of every sample; readouts trained on the training split, scored on the test."""
    start = time.perf_counter()
    result = driver.run(model.net, name)
    seconds = time.perf_counter() - start
    labels, classes = model.dataset.labels, len(model.dataset.templates)
    train, test = lsm.split(len(labels))
    states = lsm.liquid_states(result, model)
    readout = lsm.fit_readout(states[train], labels[train], classes)
    after = lsm.last_bins(states, 1)
    after_readout = lsm.fit_readout(after[train], labels[train], classes)
    return Run(name, result.meta.get("units") == "register", seconds, result, states,
               accuracy(readout, states[test], labels[test]),
               accuracy(after_readout, after[test], labels[test]), readout)


def spike_set(run: Run, model: lsm.Model) -> set:
    return set(zip(*(a.tolist() for a in lsm.column_spikes(run.result, model))))


def neuron_counts(run: Run, model: lsm.Model) -> np.ndarray:
    return np.bincount(lsm.column_spikes(run.result, model)[1], minlength=model.liquid.size)


@dataclass(frozen=True)
class Row:
    """A run beside the float reference's: the share of the reference's spikes it has at the
    same step and neuron, the per-neuron count difference Σ|Δc|/Σmax by which the parity
    contract judges float against fixed (docs/design.md §3.4), and how the reference's
    readout does on its states (NaN without a float reference)."""

    run: Run
    same: float
    count_difference: float
    transfer: float


def compare(runs: list[Run], reference: Run | None, model: lsm.Model) -> list[Row]:
    if reference is None:
        return [Row(run, *[float("nan")] * 3) for run in runs]
    test = lsm.split(len(model.dataset.labels))[1]
    ref_spikes, ref_counts = spike_set(reference, model), neuron_counts(reference, model)
    rows = []
    for run in runs:
        counts = neuron_counts(run, model)
        same = len(ref_spikes & spike_set(run, model)) / max(len(ref_spikes), 1)
        larger = np.maximum(counts, ref_counts).sum()
        difference = np.abs(counts - ref_counts).sum() / max(larger, 1)
        transfer = accuracy(reference.readout, run.states[test], model.dataset.labels[test])
        rows.append(Row(run, same, difference, transfer))
    return rows


def input_only(model: lsm.Model, result) -> float:
    """The readout on the input channels' own counts: the task without a liquid."""
    labels, classes = model.dataset.labels, len(model.dataset.templates)
    train, test = lsm.split(len(labels))
    states = lsm.input_states(result, model)
    return accuracy(lsm.fit_readout(states[train], labels[train], classes), states[test],
                    labels[test])


def print_table(model: lsm.Model, rows: list[Row], reference: Run | None,
                no_liquid: float) -> None:
    net, data, liquid = model.net, model.dataset, model.liquid
    train, test = lsm.split(len(data.labels))
    grid = "x".join(map(str, liquid.positions.max(axis=0) + 1))
    print(f"liquid: {liquid.size} LIF neurons ({liquid.excitatory.sum()} E, "
          f"{(~liquid.excitatory).sum()} I) on a {grid} grid, {len(liquid.pre)} synapses; "
          f"task: {len(data.templates)} classes, {net.populations['input'].size} channels, "
          f"{len(data.labels)} samples ({len(train)} train, {len(test)} test) in one run of "
          f"{net.steps:,} steps of {net.dt:g} ms")
    ref = reference.name if reference else "-"
    print(f"{'backend':<11}{'numbers':<8}{'run (s)':>8}{'liquid spikes':>15}"
          f"{'same as ' + ref:>16}{'Σ|Δc|/Σmax':>12}{'own readout':>13}{ref + ' readout':>16}"
          f"{'after input':>13}")
    for row in rows:
        run = row.run
        print(f"{run.name:<11}{'fixed' if run.fixed else 'float':<8}{run.seconds:>8.1f}"
              f"{len(lsm.column_spikes(run.result, model)[0]):>15,}{row.same:>15.1%} "
              f"{row.count_difference:>11.1%} {run.own:>13.2f}{row.transfer:>16.2f}"
              f"{run.after:>13.2f}")
    print(f"input alone (no liquid): {no_liquid:.2f}   chance: {1 / len(data.templates):.2f}")
    print(f"(same as {ref}: share of {ref}'s liquid spikes at the same step and neuron; "
          f"Σ|Δc|/Σmax: per-neuron spike count difference from {ref}, docs/design.md §3.4; "
          f"test accuracy of a readout trained on the backend's own states, on {ref}'s, and on its "
          f"own from the {lsm.BIN_MS:g} ms after each sample only)")


def sample_per_class(model: lsm.Model) -> list[int]:
    """The first sample of each class in the run."""
    labels = model.dataset.labels
    return [int(np.flatnonzero(labels == c)[0]) for c in range(len(model.dataset.templates))]


def draw(model: lsm.Model, rows: list[Row], reference: Run | None, no_liquid: float,
         out: Path) -> None:
    """Input and liquid rasters of one sample per class (a column each), then the accuracies."""
    from matplotlib.figure import Figure

    data, dt = model.dataset, model.net.dt
    picks = sample_per_class(model)
    window = int(lsm.steps_of(lsm.BINS * lsm.BIN_MS, dt))
    fig = Figure(figsize=(4.2 * len(picks), 2.2 * (1 + len(rows)) + 3.4))
    grid = fig.add_gridspec(2 + len(rows), len(picks), hspace=0.45, wspace=0.15,
                            height_ratios=[1] + [1.5] * len(rows) + [2.4])
    colours = np.where(model.liquid.excitatory, "C0", "C3")
    for col, i in enumerate(picks):
        onset = data.onsets[i]
        ax = fig.add_subplot(grid[0, col])
        ax.scatter(data.samples[i][:, 1] * dt, data.samples[i][:, 0], s=6, color="k")
        ax.set_title(f"class {data.labels[i]} (sample {i})", fontsize=10)
        ax.set_ylim(-0.5, model.net.populations["input"].size - 0.5)
        panels = [(ax, "input channel")]
        for r, row in enumerate(rows):
            ax = fig.add_subplot(grid[1 + r, col])
            steps, neurons = lsm.column_spikes(row.run.result, model)
            keep = (steps >= onset) & (steps < onset + window)
            ax.scatter((steps[keep] - onset) * dt, neurons[keep], s=2, c=colours[neurons[keep]])
            ax.set_ylim(-0.5, model.liquid.size - 0.5)
            label = f"liquid on {row.run.name}\nneuron, along the grid\n(blue E, red I)"
            panels.append((ax, label))
        for ax, label in panels:
            ax.set_xlim(0, window * dt)
            for edge in np.arange(1, lsm.BINS) * lsm.BIN_MS:
                ax.axvline(edge, color="0.85", linewidth=0.6, zorder=0)
            ax.axvspan((lsm.BINS - 1) * lsm.BIN_MS, lsm.BINS * lsm.BIN_MS, color="0.95", zorder=0)
            ax.tick_params(labelsize=7, labelleft=col == 0)
            ax.spines[["top", "right"]].set_visible(False)
            if col == 0:
                ax.set_ylabel(label, fontsize=8)
        ax.set_xlabel("ms from the sample's onset (bins; grey: after the input)", fontsize=8)
    draw_accuracies(fig.add_subplot(grid[-1, :]), model, rows, reference, no_liquid)
    fig.suptitle("Liquid state machine (Maass et al. 2002) on nmcompile", fontsize=13, y=0.93)
    fig.savefig(out, dpi=90, bbox_inches="tight")


def draw_accuracies(ax, model: lsm.Model, rows: list[Row], reference: Run | None,
                    no_liquid: float) -> None:
    """Per backend: its own readout, the float reference's readout, the after-input readout."""
    bars = {"readout trained on this backend's states": [row.run.own for row in rows]}
    if reference:
        bars[f"readout trained on {reference.name}'s states"] = [row.transfer for row in rows]
    bars["own readout, liquid after the input only"] = [row.run.after for row in rows]
    width = 0.8 / len(bars)
    x = np.arange(len(rows))
    for k, (label, values) in enumerate(bars.items()):
        drawn = ax.bar(x + (k - (len(bars) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(drawn, fmt="%.2f", fontsize=8)
    chance = 1 / len(model.dataset.templates)
    ax.axhline(chance, color="k", linestyle=":", label=f"chance ({chance:.2f})")
    ax.axhline(no_liquid, color="0.5", linestyle="--",
               label=f"input spikes alone, same bins, no liquid ({no_liquid:.2f})")
    ax.set_xticks(x, [f"{row.run.name} ({'fixed' if row.run.fixed else 'float'})"
                      for row in rows])
    ax.set_ylim(0, 1.12)
    test = lsm.split(len(model.dataset.labels))[1]
    ax.set_ylabel(f"test accuracy ({len(test)} samples)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.spines[["top", "right"]].set_visible(False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="brian2,emulator",
                        help="comma-separated (default brian2,emulator; also lava, lava-fixed)")
    parser.add_argument("--seed", type=int, default=0, help="liquid, task and input synapses")
    parser.add_argument("--samples", type=int, default=100,
                        help="samples per class (default 100; 2/3 train, 1/3 test)")
    parser.add_argument("-o", "--output", type=Path, default=FIGURE,
                        help=f"figure file (default {FIGURE.relative_to(HERE.parents[1])})")
    args = parser.parse_args(argv)
    model = lsm.build(seed=args.seed, per_class=args.samples)
    runs = [run_backend(model, name) for name in args.backends.split(",")]
    reference = next((r for r in runs if not r.fixed), None)
    rows = compare(runs, reference, model)
    no_liquid = input_only(model, runs[0].result)
    print_table(model, rows, reference, no_liquid)
    draw(model, rows, reference, no_liquid, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
