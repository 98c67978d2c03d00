"""Reward-modulated STDP on nmcompile's backends: classical conditioning with a reversal.

    .venv/bin/python examples/learning/reward.py                       # all four backends
    .venv/bin/python examples/learning/reward.py --backends brian2,emulator -o /tmp/reward.png

Runs reward.yaml on each backend and prints, per backend, the mean weight of the synapses from
cue A and from cue B at the start, at the reversal and at the end, and the output's spikes per
trial of each cue; draws the weights over time (every backend, model units) and the output's
response per trial. Cue A is rewarded in the first half, cue B in the second: the synapses of
the rewarded cue grow, the others keep their weight.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runs  # noqa: E402  (next to this script)
from nmcompile.frontends.modelfile import load_model  # noqa: E402
from nmcompile.ir import Network  # noqa: E402

MODEL = HERE / "reward.yaml"
FIGURE = HERE / "reward.png"
CUES = {"A": "cue_a", "B": "cue_b"}          # cue name -> its spike source
PROJECTION = {"A": "cue_a_output", "B": "cue_b_output"}
REWARD, OUTPUT = "dopamine", "output"
TRIAL_GAP = 20   # steps of silence that separate one trial's cue from the next


@dataclass(frozen=True)
class Trials:
    """The task as the model file spells it: trial onsets, the cue of each trial, whether a
    dopamine spike follows it (before the next trial), and the trial length."""

    onsets: np.ndarray
    cues: list[str]
    rewarded: np.ndarray
    length: int

    @property
    def first_paid(self) -> str:
        """The cue rewarded first."""
        return self.cues[int(np.flatnonzero(self.rewarded)[0])]

    @property
    def reversal(self) -> int:
        """The first trial of the second phase: the first cue left without its reward, or the
        other cue rewarded, whichever comes first."""
        return next(k for k, (cue, paid) in enumerate(zip(self.cues, self.rewarded))
                    if paid != (cue == self.first_paid))

    @property
    def second_paid(self) -> str:
        return next(cue for cue in CUES if cue != self.first_paid)


def trials(net: Network) -> Trials:
    """Read the task off the model: a trial starts where a cue fires after a silence."""
    onsets, cues = [], []
    for cue, pop in CUES.items():
        steps = np.unique(net.populations[pop].model.steps)
        first = steps[np.r_[True, np.diff(steps) > TRIAL_GAP]]
        onsets += first.tolist()
        cues += [cue] * first.size
    order = np.argsort(onsets)
    onsets = np.asarray(onsets)[order]
    length = int(np.diff(onsets).min())
    reward = net.populations[REWARD].model.steps
    rewarded = np.array([np.any((reward >= t) & (reward < t + length)) for t in onsets])
    return Trials(onsets, [cues[k] for k in order], rewarded, length)


@dataclass(frozen=True)
class Learning:
    """One backend's run, read the way the example needs: the mean weight of each cue's
    synapses over time and at the trial boundaries, and the output's spikes per trial."""

    run: runs.Run
    times: np.ndarray                        # the probe samples' steps
    mean: dict[str, np.ndarray]              # cue -> mean weight per sample (model units)
    at_onset: dict[str, np.ndarray]          # cue -> mean weight before each trial, then final
    responses: np.ndarray                    # output spikes per trial


def learning(run: runs.Run, net: Network, task: Trials) -> Learning:
    mean, at_onset = {}, {}
    for cue, proj in PROJECTION.items():
        trace = run.weight_trace(proj)
        times = runs.sample_steps(net, proj, trace.shape[0])
        initial = next(p.weight for p in net.projections if p.name == proj)
        mean[cue] = trace.mean(axis=1)
        before = [mean[cue][times < t][-1] if np.any(times < t) else initial.mean()
                  for t in task.onsets]
        at_onset[cue] = np.array(before + [run.weights(proj).mean()])
    steps = run.result.spikes[OUTPUT][0]
    bounds = np.r_[task.onsets, task.onsets[-1] + task.length]
    return Learning(run, times, mean, at_onset, np.histogram(steps, bins=bounds)[0])


def phase_change(item: Learning, task: Trials, cue: str) -> tuple[float, float]:
    """Mean weight change of a cue's synapses in the first and in the second phase."""
    w = item.at_onset[cue]
    return float(w[task.reversal] - w[0]), float(w[-1] - w[task.reversal])


def response_trials(task: Trials) -> list[tuple[int, int]]:
    """(A trial, B trial) index pairs: the first ones, the last ones before the reversal, the
    last ones."""
    cues = np.array(task.cues)
    first = [int(np.flatnonzero(cues == c)[0]) for c in CUES]
    before = [int(np.flatnonzero((cues == c) & (np.arange(cues.size) < task.reversal))[-1])
              for c in CUES]
    last = [int(np.flatnonzero(cues == c)[-1]) for c in CUES]
    return [tuple(first), tuple(before), tuple(last)]


def print_table(items: list[Learning], task: Trials) -> None:
    first, second = task.first_paid, task.second_paid
    print(f"{len(task.onsets)} trials of {task.length} steps; dopamine after cue {first} in "
          f"phase 1 (trials 0-{task.reversal - 1}), after cue {second} in phase 2 (trials "
          f"{task.reversal}-{len(task.onsets) - 1})")
    print(f"{'backend':<11}{'numbers':<8}{'run (s)':>8}{'out spikes':>11}"
          + "".join(f"{'w̄ ' + c + ': start > reversal > end':>32}" for c in CUES)
          + "".join(f"{'Δw̄ ' + c + ' phase 1 / 2':>22}" for c in CUES)
          + f"{'out spikes per A / B trial: first, before reversal, last':>58}"
          + f"{'learned weights, max |Δw|':>30}")
    for item in items:
        run = item.run
        reference = next(i for i in items if i.run.fixed == run.fixed)
        row = f"{run.name:<11}{run.numbers:<8}{run.seconds:>8.1f}{run.spike_count(OUTPUT):>11,}"
        for cue in CUES:
            w = item.at_onset[cue]
            row += f"{w[0]:>14.3f} >{w[task.reversal]:>7.3f} >{w[-1]:>7.3f}"
        for cue in CUES:
            one, two = phase_change(item, task, cue)
            row += f"{one:>+14.3f} /{two:>+6.3f}"
        row += "      " + ",  ".join(" / ".join(str(item.responses[k]) for k in pair)
                                 for pair in response_trials(task))
        print(row + f"{largest_difference(item, reference):>30}")
    print("(w̄: mean weight of the 16 synapses from the cue in model units: the model's "
          "initial weights, before the first trial of the second phase, at the end; Δw̄: its "
          "change in each phase; max |Δw|: against the first backend with the same numbers)")


def largest_difference(item: Learning, reference: Learning) -> str:
    """max |Δw| of every learned weight against the reference backend's."""
    if reference is item:
        return "-"
    worst = max(np.abs(item.run.weights(p) - reference.run.weights(p)).max()
                for p in PROJECTION.values())
    return f"{worst:.2g} vs {reference.run.name}"


STYLE = {"brian2": ("-", 2.6), "lava": (":", 1.6), "lava-fixed": ("--", 2.2),
         "emulator": ("-.", 1.2)}
COLOUR = {"A": "C0", "B": "C1"}


def draw(items: list[Learning], task: Trials, out: Path) -> None:
    """Top: mean weight of each cue's synapses over time, every backend; bottom: the output's
    spikes in each trial."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 7.5))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2], "hspace": 0.3})
    switch = task.onsets[task.reversal]
    end = task.onsets[-1] + task.length
    for ax in (top, bottom):
        ax.axvspan(0, switch, color="C0", alpha=0.06, lw=0)
        ax.axvspan(switch, end, color="C1", alpha=0.06, lw=0)
        ax.set_xlim(0, end)
        ax.spines[["top", "right"]].set_visible(False)
    for item in items:
        style, width = STYLE.get(item.run.name, ("-", 1.0))
        for cue in CUES:
            top.plot(np.r_[0, item.times], np.r_[item.at_onset[cue][0], item.mean[cue]],
                     style, lw=width, color=COLOUR[cue],
                     label=f"cue {cue}, {item.run.name} ({item.run.numbers})")
    for t, cue, paid in zip(task.onsets, task.cues, task.rewarded):
        top.axvline(t, ymin=0.97, ymax=1.0, color=COLOUR[cue], lw=2)
        if paid:
            top.plot(t + task.length / 4, 1.0, "v", color="k", ms=5,
                     transform=top.get_xaxis_transform())
    top.set_ylabel("mean weight of the cue's 16 synapses\n(model units)")
    top.set_title("Reward-modulated STDP: the synapses of the rewarded cue grow "
                  "(▼ dopamine; tick: cue onset)", fontsize=11)
    for x, cue in ((switch / 2, task.first_paid), ((switch + end) / 2, task.second_paid)):
        top.text(x, 0.9, f"dopamine after cue {cue}", transform=top.get_xaxis_transform(),
                 ha="center")
    top.legend(fontsize=7, ncol=2, loc="center left", bbox_to_anchor=(1.01, 0.5))
    width = task.length * 0.8 / max(len(items), 1)
    for k, item in enumerate(items):
        x = task.onsets + (k - (len(items) - 1) / 2) * width + task.length / 2
        bottom.bar(x, item.responses, width,
                   color=[COLOUR[c] for c in task.cues], alpha=0.35 + 0.65 * (k + 1) / len(items),
                   label=item.run.name)
    bottom.set_ylabel("output spikes in the trial\n(4 neurons)")
    bottom.set_xlabel("step (ms); bars per trial in backend order: "
                      + ", ".join(item.run.name for item in items))
    fig.savefig(out, dpi=90, bbox_inches="tight")


def main(argv: list[str] | None = None) -> int:
    args = runs.arguments(__doc__, FIGURE, argv)
    net = load_model(str(MODEL))
    task = trials(net)
    items = [learning(runs.run(net, name), net, task) for name in args.backends]
    print_table(items, task)
    draw(items, task, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
