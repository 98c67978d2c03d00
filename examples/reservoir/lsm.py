"""A liquid state machine after Maass, Natschläger & Markram (2002), built with nmcompile.

The liquid: LIF neurons on a 3-D integer grid, 80 % excitatory, connected with probability
C·exp(−(D(a, b)/λ)²), C by the E/I pair. The pairs, weights and rest potentials are drawn
here from a seeded numpy generator and handed to nmcompile as `list` connectors and
per-neuron lists (docs/design.md §4.4), so every backend runs the very same synapses.

The task: K classes of spike templates on a few input channels; each sample is a jittered
copy of its class's template. All samples are played one after another in ONE run per
backend, each preceded by a silent gap in which the liquid returns to rest (one long run is
much faster than one run per sample). The liquid's state of a sample is its spike counts in
a few time bins; a linear readout (ridge regression, one output per class) is trained
offline on a training split and judged on the rest.

Units: v is in units of the threshold (v_th = 1); time in steps of `dt` ms.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nmcompile import NetworkBuilder
from nmcompile.ir import Network

EXC, INH = "exc", "inh"
TYPES = (EXC, INH)
PAIRS = tuple((pre, post) for pre in TYPES for post in TYPES)


# --- the liquid ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LiquidParams:
    """Maass et al. (2002)'s column, in threshold units. Their synapses are dynamic (Markram's
    model); ours are static, so the mean weights are ours, chosen for a liquid that answers
    its input and falls silent without it."""

    shape: tuple[int, int, int] = (15, 3, 3)
    exc_fraction: float = 0.8
    lam: float = 2.0                                  # λ, in grid units
    # C and the mean |weight| per (pre, post) type; E → anything excitatory, I → inhibitory
    c: dict = field(default_factory=lambda: {(EXC, EXC): 0.3, (EXC, INH): 0.2,
                                             (INH, EXC): 0.4, (INH, INH): 0.1})
    weight: dict = field(default_factory=lambda: {(EXC, EXC): 0.06, (EXC, INH): 0.08,
                                                  (INH, EXC): 0.25, (INH, INH): 0.15})
    weight_cv: float = 0.5                            # |weight| ~ mean · Gamma, this CV
    delay_ms: dict = field(default_factory=lambda: {(EXC, EXC): 1.5, (EXC, INH): 0.8,
                                                    (INH, EXC): 0.8, (INH, INH): 0.8})
    tau_mem: float = 30.0                             # ms
    tau_syn: dict = field(default_factory=lambda: {EXC: 3.0, INH: 6.0})
    refractory_ms: dict = field(default_factory=lambda: {EXC: 3.0, INH: 2.0})
    v_rest: tuple[float, float] = (0.75, 0.9)         # rest potential (bias/dv), uniform


@dataclass(frozen=True)
class Liquid:
    """One realised liquid: neuron k of the column sits at positions[k]; synapses in column
    indices (their delays are the pair's, LiquidParams.delay_ms). members[T] lists the column
    indices of population T in their population order."""

    positions: np.ndarray      # (n, 3) int
    excitatory: np.ndarray     # (n,) bool
    v_rest: np.ndarray         # (n,) float
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        return len(self.positions)

    @property
    def members(self) -> dict[str, np.ndarray]:
        return {EXC: np.flatnonzero(self.excitatory), INH: np.flatnonzero(~self.excitatory)}

    def kind(self, k: np.ndarray) -> np.ndarray:
        """EXC or INH for each column index."""
        return np.where(self.excitatory[k], EXC, INH)


def grid_positions(shape) -> np.ndarray:
    """Every integer point of the grid once, x slowest: (prod(shape), 3)."""
    return np.indices(shape).reshape(len(shape), -1).T


def pair_table(excitatory: np.ndarray, values: dict) -> np.ndarray:
    """(n, n) matrix holding values[(type of a, type of b)] at [a, b]."""
    kind = np.where(excitatory, 0, 1)
    table = np.array([[values[(pre, post)] for post in TYPES] for pre in TYPES], dtype=float)
    return table[kind[:, None], kind[None, :]]


def connection_probability(positions: np.ndarray, excitatory: np.ndarray,
                           params: LiquidParams) -> np.ndarray:
    """P(a → b) = C(type a, type b)·exp(−(D(a, b)/λ)²), D Euclidean; no self-connection."""
    d2 = ((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1)
    p = pair_table(excitatory, params.c) * np.exp(-d2 / params.lam ** 2)
    np.fill_diagonal(p, 0.0)
    return p


def draw_liquid(params: LiquidParams, rng: np.random.Generator) -> Liquid:
    """Types (exactly round(exc_fraction·n) excitatory, placed at random), synapses, weights
    (mean·Gamma with the given CV, signed by the pre type) and rest potentials."""
    positions = grid_positions(params.shape)
    n = len(positions)
    excitatory = np.zeros(n, dtype=bool)
    excitatory[rng.permutation(n)[:round(params.exc_fraction * n)]] = True
    p = connection_probability(positions, excitatory, params)
    pre, post = np.nonzero(rng.random((n, n)) < p)
    shape_k = 1.0 / params.weight_cv ** 2
    magnitude = pair_table(excitatory, params.weight)[pre, post] * rng.gamma(
        shape_k, 1.0 / shape_k, size=len(pre))
    weight = np.where(excitatory[pre], magnitude, -magnitude)
    v_rest = rng.uniform(*params.v_rest, size=n)
    return Liquid(positions, excitatory, v_rest, pre, post, weight)


def steps_of(ms, dt: float) -> np.ndarray:
    """A duration in ms as a whole number of steps, at least one."""
    return np.maximum(1, np.rint(np.asarray(ms) / dt)).astype(int)


def liquid_body(module, liquid: Liquid, params: LiquidParams, dt: float) -> None:
    """The liquid as a module body (a ModuleBuilder): populations `exc`, `inh` and the four
    projections `PRE_to_POST`, in local names and local neuron indices."""
    local = np.empty(liquid.size, dtype=int)
    for members in liquid.members.values():
        local[members] = np.arange(len(members))
    dv = 1.0 - np.exp(-dt / params.tau_mem)
    for kind, members in liquid.members.items():
        module.lif(kind, size=len(members), tau_syn=params.tau_syn[kind], tau_mem=params.tau_mem,
                   v_th=1.0, bias=liquid.v_rest[members] * dv, v_init=liquid.v_rest[members],
                   refractory=int(steps_of(params.refractory_ms[kind], dt)))
    pre_kind, post_kind = liquid.kind(liquid.pre), liquid.kind(liquid.post)
    for pre, post in PAIRS:
        k = np.flatnonzero((pre_kind == pre) & (post_kind == post))
        pairs = np.stack([local[liquid.pre[k]], local[liquid.post[k]]], axis=1)
        module.connect(pre, post, {"list": pairs}, weight=liquid.weight[k],
                       delay=int(steps_of(params.delay_ms[(pre, post)], dt)))


def add_liquid(builder: NetworkBuilder, liquid: Liquid, params: LiquidParams, dt: float,
               instance: str = "liquid") -> dict[str, str]:
    """The liquid as module `lsm_liquid` (docs/design.md §8) and one instance of it; returns
    the flattened population name of each type (INSTANCE.exc, INSTANCE.inh)."""
    liquid_body(builder.module("lsm_liquid"), liquid, params, dt)
    builder.instance("lsm_liquid", instance)
    return {kind: f"{instance}.{kind}" for kind in TYPES}


# --- the task --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskParams:
    """Classes of Poisson spike templates; a sample moves each template spike by a normal
    jitter, drops some, and adds noise spikes."""

    classes: int = 3
    channels: int = 24
    duration_ms: float = 100.0        # one template
    rate_hz: float = 10.0             # template spikes per channel
    jitter_ms: float = 15.0           # sd of a spike's move
    drop: float = 0.4                 # chance a template spike is left out
    noise_hz: float = 10.0            # extra spikes per channel
    gap_ms: float = 100.0             # silence before each sample
    input_weight: dict = field(default_factory=lambda: {EXC: 0.12, INH: 0.1})
    input_p: float = 0.15             # chance a channel reaches a liquid neuron


def poisson_spikes(rng, channels: int, steps: int, rate_hz: float, dt: float) -> np.ndarray:
    """(k, 2) [channel, step] of Bernoulli spikes, at most one per channel and step."""
    step, channel = np.nonzero(rng.random((steps, channels)) < rate_hz * dt / 1000.0)
    return np.stack([channel, step], axis=1)


def class_templates(task: TaskParams, rng, dt: float) -> list[np.ndarray]:
    steps = int(steps_of(task.duration_ms, dt))
    return [poisson_spikes(rng, task.channels, steps, task.rate_hz, dt)
            for _ in range(task.classes)]


def jittered(template: np.ndarray, task: TaskParams, rng, dt: float) -> np.ndarray:
    """One sample of a template: kept spikes moved by N(0, jitter) (kept inside the window),
    noise spikes added, a spike that lands twice on one channel and step kept once."""
    steps = int(steps_of(task.duration_ms, dt))
    kept = template[rng.random(len(template)) >= task.drop]
    moved = kept[:, 1] + np.rint(rng.normal(0.0, task.jitter_ms / dt, len(kept))).astype(int)
    spikes = np.concatenate([np.stack([kept[:, 0], np.clip(moved, 0, steps - 1)], axis=1),
                             poisson_spikes(rng, task.channels, steps, task.noise_hz, dt)])
    return np.unique(spikes, axis=0)


@dataclass(frozen=True)
class Dataset:
    """Samples played in one run: sample i starts at onsets[i]; labels in random order so
    that a sample's predecessor says nothing about its class."""

    templates: list
    samples: list
    labels: np.ndarray
    onsets: np.ndarray
    steps: int               # the whole run

    def input_spikes(self) -> np.ndarray:
        """[channel, step] of every sample at its onset: the spike_array of the run."""
        return np.concatenate([s + [0, t] for s, t in zip(self.samples, self.onsets)])


def make_dataset(task: TaskParams, per_class: int, rng, dt: float) -> Dataset:
    templates = class_templates(task, rng, dt)
    labels = rng.permutation(np.repeat(np.arange(task.classes), per_class))
    samples = [jittered(templates[label], task, rng, dt) for label in labels]
    gap, length = int(steps_of(task.gap_ms, dt)), int(steps_of(task.duration_ms, dt))
    onsets = gap + np.arange(len(labels)) * (gap + length)
    return Dataset(templates, samples, labels, onsets, int(onsets[-1] + length + gap))


# --- the network -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    """The network and what is needed to read its run: the liquid's population names."""

    net: Network
    liquid: Liquid
    populations: dict[str, str]
    dataset: Dataset


def build(seed: int = 0, per_class: int = 40, dt: float = 1.0,
          params: LiquidParams = LiquidParams(), task: TaskParams = TaskParams()) -> Model:
    """Liquid and dataset from independent streams of `seed` (more samples leave the liquid
    as it is), the input projections drawn by nmcompile from the network's seed."""
    liquid_rng, task_rng = map(np.random.default_rng, np.random.SeedSequence(seed).spawn(2))
    liquid = draw_liquid(params, liquid_rng)
    data = make_dataset(task, per_class, task_rng, dt)
    b = NetworkBuilder("liquid-state-machine", dt=dt, steps=data.steps, seed=seed)
    b.spike_array("input", size=task.channels, spikes=data.input_spikes())
    populations = add_liquid(b, liquid, params, dt)
    for kind, name in populations.items():
        b.connect("input", name, {"fixed_probability": task.input_p},
                  weight={"normal": [task.input_weight[kind], task.input_weight[kind] / 2],
                          "keep_sign": True})
    return Model(b.build(), liquid, populations, data)


# --- states and readout ----------------------------------------------------------------------

BIN_MS = 25.0
BINS = 5           # four over the sample, one after it: what the liquid still holds then


def column_spikes(result, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """(steps, column indices) of every liquid spike, both populations together."""
    steps, neurons = [], []
    for kind, members in model.liquid.members.items():
        t, n = result.spikes[model.populations[kind]]
        steps.append(t)
        neurons.append(members[n])
    return np.concatenate(steps), np.concatenate(neurons)


def binned_counts(steps: np.ndarray, neurons: np.ndarray, size: int, onsets: np.ndarray,
                  bins: int, bin_steps: int) -> np.ndarray:
    """(samples, size·bins): spikes of each neuron in each of `bins` bins of `bin_steps`
    from each onset; spikes outside every window are ignored."""
    sample = np.searchsorted(onsets, steps, side="right") - 1
    offset = steps - onsets[np.maximum(sample, 0)]
    inside = (sample >= 0) & (offset < bins * bin_steps)
    cell = (sample[inside] * size + neurons[inside]) * bins + offset[inside] // bin_steps
    return np.bincount(cell, minlength=len(onsets) * size * bins).reshape(len(onsets), -1)


def liquid_states(result, model: Model) -> np.ndarray:
    """(samples, neurons·BINS) spike counts of the liquid, neuron k's bins at k·BINS…"""
    steps, neurons = column_spikes(result, model)
    return binned_counts(steps, neurons, model.liquid.size, model.dataset.onsets, BINS,
                         int(steps_of(BIN_MS, model.net.dt)))


def input_states(result, model: Model) -> np.ndarray:
    """The same counts of the input channels: what a readout without a liquid would see."""
    steps, channels = result.spikes["input"]
    return binned_counts(steps, channels, model.net.populations["input"].size,
                         model.dataset.onsets, BINS, int(steps_of(BIN_MS, model.net.dt)))


def last_bins(states: np.ndarray, keep: int) -> np.ndarray:
    """Only the last `keep` bins of every neuron of a states matrix."""
    return states.reshape(len(states), -1, BINS)[:, :, BINS - keep:].reshape(len(states), -1)


@dataclass(frozen=True)
class Readout:
    """Linear readout: scores = (x − mean)·w + b, one column per class; the class is the
    largest score."""

    mean: np.ndarray
    w: np.ndarray
    b: np.ndarray
    alpha: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax((x - self.mean) @ self.w + self.b, axis=1)


ALPHAS = np.logspace(-2, 4, 13)


def fit_readout(x: np.ndarray, labels: np.ndarray, classes: int, alphas=ALPHAS) -> Readout:
    """Ridge regression onto one-vs-rest targets (+1 for the class, −1 otherwise), the
    intercept not penalised; α chosen by the exact leave-one-out error on the training set,
    which ridge gives in closed form from one SVD."""
    mean = x.mean(axis=0)
    y = np.where(labels[:, None] == np.arange(classes), 1.0, -1.0)
    y_mean = y.mean(axis=0)
    u, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    uty = u.T @ (y - y_mean)
    best = None
    for alpha in alphas:
        shrink = s ** 2 / (s ** 2 + alpha)
        fitted = u @ (shrink[:, None] * uty) + y_mean
        hat = 1.0 / len(x) + (u ** 2) @ shrink
        loo_error = np.mean(((y - fitted) / (1.0 - hat)[:, None]) ** 2)
        if best is None or loo_error < best[0]:
            best = (loo_error, alpha)
    alpha = best[1]
    w = vt.T @ ((s / (s ** 2 + alpha))[:, None] * uty)
    return Readout(mean, w, y_mean, float(alpha))


def split(n: int, train_fraction: float = 2 / 3) -> tuple[np.ndarray, np.ndarray]:
    """The first part of the (already shuffled) samples trains, the rest tests."""
    cut = int(round(n * train_fraction))
    return np.arange(cut), np.arange(cut, n)
