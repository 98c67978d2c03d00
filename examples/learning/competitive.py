"""Competitive learning with pair STDP on nmcompile's backends.

    .venv/bin/python examples/learning/competitive.py                       # all four backends
    .venv/bin/python examples/learning/competitive.py --backends brian2,emulator -o /tmp/c.png

Trains competitive.yaml on each backend, then tests the network twice with its learning
removed, on the first rounds of the same input: with the initial weights (before) and with the
learned ones (after). Prints per backend the outputs' selectivity before and after, and draws
the responses per pattern, the weights before and after, and how each output's weights from
each pattern evolved.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runs  # noqa: E402  (next to this script)
from nmcompile.frontends.modelfile import load_model  # noqa: E402
from nmcompile.ir import Network  # noqa: E402

MODEL = HERE / "competitive.yaml"
FIGURE = HERE / "competitive.png"
INPUT, OUTPUT, PLASTIC = "input", "output", "input_output"
PAUSE = 10          # steps of input silence that end a presentation
TEST_ROUNDS = 4     # the test replays this many rounds of every pattern
SELECTIVE = 0.8     # an output is selective when its index reaches this


@dataclass(frozen=True)
class Presentations:
    """The input as the model file spells it: each presentation's first step and pattern
    (patterns numbered in order of first appearance; a pattern is the set of input neurons
    that fire in a presentation) and the presentation period."""

    onsets: np.ndarray
    patterns: np.ndarray
    members: list[np.ndarray]            # pattern -> its input neurons
    period: int

    @property
    def count(self) -> int:
        return len(self.members)

    def test_steps(self) -> int:
        return TEST_ROUNDS * self.count * self.period


def presentations(net: Network) -> Presentations:
    model = net.populations[INPUT].model
    steps, neurons = np.asarray(model.steps), np.asarray(model.neurons)
    starts = np.flatnonzero(np.r_[True, np.diff(steps) > PAUSE])
    ends = np.r_[starts[1:], steps.size]
    members, patterns = [], []
    for a, b in zip(starts, ends):
        group = np.unique(neurons[a:b])
        known = [k for k, m in enumerate(members) if np.array_equal(m, group)]
        if not known:
            members.append(group)
        patterns.append(known[0] if known else len(members) - 1)
    onsets = steps[starts]
    return Presentations(onsets, np.array(patterns), members, int(np.diff(onsets).min()))


def frozen(net: Network, weights: np.ndarray, steps: int) -> Network:
    """`net` for `steps` steps with the plastic projection's weights fixed to `weights`: its
    learning rule removed, no weight probes."""
    projections = tuple(replace(p, weight=weights, learning=None) if p.name == PLASTIC else p
                        for p in net.projections)
    return replace(net, projections=projections, weight_probes=(), steps=steps)


def responses(result, shown: Presentations, steps: int, outputs: int) -> np.ndarray:
    """Mean output spikes per presentation of each pattern (outputs × patterns), over the
    presentations that start within `steps`."""
    t, i = result.spikes[OUTPUT]
    counts = np.zeros((outputs, shown.count))
    for onset, pattern in zip(shown.onsets, shown.patterns):
        if onset < steps:
            window = (t >= onset) & (t < onset + shown.period)
            counts[:, pattern] += np.bincount(i[window], minlength=outputs)
    per_pattern = np.bincount(shown.patterns[shown.onsets < steps], minlength=shown.count)
    return counts / np.maximum(per_pattern, 1)


def selectivity(r: np.ndarray) -> np.ndarray:
    """Per output: (best − mean of the others) / (best + mean of the others) of its responses
    to the patterns: 0 for an output that answers every pattern alike, 1 for one that answers
    a single pattern; NaN for a silent output."""
    best = r.max(axis=1)
    others = (r.sum(axis=1) - best) / max(r.shape[1] - 1, 1)
    total = best + others
    return np.where(total > 0, (best - others) / np.where(total > 0, total, 1), np.nan)


def mean_selectivity(r: np.ndarray) -> float:
    """The selectivity of the outputs that answer at all (0 when none does)."""
    si = selectivity(r)
    return float(np.nanmean(si)) if np.isfinite(si).any() else 0.0


def told_apart(r: np.ndarray) -> int:
    """How many patterns have an output of their own: a selective output whose best pattern
    it is."""
    si = selectivity(r)
    return len({int(np.argmax(r[o])) for o in range(r.shape[0]) if si[o] >= SELECTIVE})


@dataclass(frozen=True)
class Trained:
    """One backend: its training run, the learned weights (model units) and the test
    responses with the initial and the learned weights."""

    run: runs.Run
    learned: np.ndarray
    before: np.ndarray
    after: np.ndarray
    seconds: float                      # training and both tests


def largest_difference(item: Trained, reference: Trained) -> str:
    """max |Δw| of the learned weights against another backend's ("-" against itself)."""
    if reference is item:
        return "-"
    return f"{np.abs(item.learned - reference.learned).max():.2g} vs {reference.run.name}"


def train(net: Network, backend: str, shown: Presentations) -> Trained:
    """Train on the model as it is, then test before and after with learning removed."""
    run = runs.run(net, backend)
    learned = run.weights(PLASTIC)
    initial = next(p.weight for p in net.projections if p.name == PLASTIC)
    steps = shown.test_steps()
    tests = [runs.run(frozen(net, w, steps), backend) for w in (initial, learned)]
    outputs = net.populations[OUTPUT].size
    before, after = (responses(t.result, shown, steps, outputs) for t in tests)
    return Trained(run, learned, before, after, run.seconds + sum(t.seconds for t in tests))


def print_table(items: list[Trained], net: Network, shown: Presentations) -> None:
    outputs = net.populations[OUTPUT].size
    print(f"{shown.count} patterns of {len(shown.members[0])} inputs, {outputs} outputs; "
          f"training: {len(shown.onsets)} presentations in {net.steps} steps; test: the first "
          f"{TEST_ROUNDS} rounds ({shown.test_steps()} steps) with learning removed")
    print(f"{'backend':<11}{'numbers':<8}{'run (s)':>8}{'out spikes':>11}"
          f"{'selectivity before > after':>28}{'per output, after':>26}"
          f"{'patterns told apart':>22}{'learned weights, max |Δw|':>30}")
    for item in items:
        run = item.run
        reference = next(i for i in items if i.run.fixed == run.fixed)
        per_output = "  ".join("  -  " if np.isnan(s) else f"{s:.2f}"
                               for s in selectivity(item.after))
        print(f"{run.name:<11}{run.numbers:<8}{item.seconds:>8.1f}"
              f"{run.spike_count(OUTPUT):>11,}{mean_selectivity(item.before):>18.2f} > "
              f"{mean_selectivity(item.after):.2f}{per_output:>26}"
              f"{told_apart(item.before):>14} > {told_apart(item.after)} of {shown.count}"
              f"{largest_difference(item, reference):>30}")
    print(f"(selectivity: (best − mean other) / (best + mean other) of an output's test spikes "
          f"per presentation of each pattern, 0 alike, 1 one pattern only, averaged over the "
          f"outputs that spike (-: silent); told apart: patterns with an output of selectivity "
          f"≥ {SELECTIVE} of their own; run: training and both tests; max |Δw|: against the "
          f"first backend with the same numbers, model units)")


def group_sums(trace: np.ndarray, shown: Presentations, outputs: int) -> np.ndarray:
    """(samples × outputs × patterns): each output's summed weight from each pattern's inputs.
    Synapses are in (pre, post) order: synapse pre·outputs + post."""
    w = trace.reshape(trace.shape[0], -1, outputs)
    return np.stack([w[:, m, :].sum(axis=1) for m in shown.members], axis=2)


def draw(items: list[Trained], net: Network, shown: Presentations, out: Path) -> None:
    """Per backend (a row): test responses before, weights before and after, test responses
    after, and each output's weight from each pattern during training."""
    from matplotlib.figure import Figure

    outputs = net.populations[OUTPUT].size
    initial = next(p.weight for p in net.projections if p.name == PLASTIC)
    top = max(float(initial.max()), *(float(i.learned.max()) for i in items))
    rate = max(max(float(i.before.max()), float(i.after.max())) for i in items)
    names = [chr(ord("A") + k) for k in range(shown.count)]
    fig = Figure(figsize=(15, 2.4 * len(items) + 1))
    grid = fig.add_gridspec(len(items), 5, width_ratios=[1, 2.2, 2.2, 1, 3.2], wspace=0.35,
                            hspace=0.55)
    for row, item in enumerate(items):
        label = f"{item.run.name} ({item.run.numbers})"
        panels = [(item.before, "test before", "pattern", rate),
                  (initial.reshape(-1, outputs).T, "weights before", "input neuron", top),
                  (item.learned.reshape(-1, outputs).T, "weights after", "input neuron", top),
                  (item.after, "test after", "pattern", rate)]
        for col, (matrix, title, xlabel, vmax) in enumerate(panels):
            ax = fig.add_subplot(grid[row, col])
            shown_image = ax.imshow(matrix, cmap="magma" if "test" in title else "viridis",
                                    vmin=0, vmax=vmax, aspect="auto")
            ax.set_title(f"{title}" + (f"\n{label}" if col == 0 else ""), fontsize=9)
            ax.set_yticks(range(outputs))
            ax.set_ylabel("output" if col == 0 else "", fontsize=8)
            if xlabel == "pattern":
                ax.set_xticks(range(shown.count), names)
            else:
                for edge in np.cumsum([len(m) for m in shown.members])[:-1]:
                    ax.axvline(edge - 0.5, color="w", lw=0.8)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.tick_params(labelsize=7)
            if col in (2, 3):
                fig.colorbar(shown_image, ax=ax, fraction=0.08, pad=0.02).ax.tick_params(
                    labelsize=6)
        ax = fig.add_subplot(grid[row, 4])
        sums = group_sums(item.run.weight_trace(PLASTIC), shown, outputs)
        times = runs.sample_steps(net, PLASTIC, sums.shape[0])
        for o in range(outputs):
            kept = int(np.argmax(sums[-1, o]))
            ax.plot(times, sums[:, o, kept], color=f"C{o}", lw=1.8,
                    label=f"output {o}: {names[kept]}")
            for k in range(shown.count):
                if k != kept:
                    ax.plot(times, sums[:, o, k], color=f"C{o}", lw=0.8, ls=":")
        ax.set_title("each output's summed weight from the pattern it keeps (—)\n"
                     "and from the others (··) during training", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=7, ncol=2, loc="upper right")
    fig.suptitle("Competitive learning with pair STDP: test spikes per presentation (magma) "
                 "and weights (viridis), before and after training", fontsize=12)
    fig.savefig(out, dpi=80, bbox_inches="tight")


def main(argv: list[str] | None = None) -> int:
    args = runs.arguments(__doc__, FIGURE, argv)
    net = load_model(str(MODEL))
    shown = presentations(net)
    items = [train(net, name, shown) for name in args.backends]
    print_table(items, net, shown)
    draw(items, net, shown, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
