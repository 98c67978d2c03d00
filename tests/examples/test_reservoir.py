"""The liquid state machine example (examples/reservoir): the liquid's grid, its distance-
dependent connections against their probabilities, E/I signs and delays as handed to
nmcompile, the task's samples, the readout's algebra, and a tiny run on brian2 and the
emulator whose readout beats chance."""
from __future__ import annotations

import numpy as np
import pytest

from example_scripts import load_example

example = load_example("reservoir", "reservoir_run", "run.py")
lsm = example.lsm
PARAMS = lsm.LiquidParams()
EASY = lsm.TaskParams(jitter_ms=5.0, drop=0.1, noise_hz=2.0)


@pytest.fixture(scope="module")
def model():
    return lsm.build(seed=0, per_class=8, task=EASY)


# --- structure -------------------------------------------------------------------------------

def test_every_grid_point_holds_one_neuron_and_80_percent_are_excitatory(model):
    liquid = model.liquid
    assert liquid.positions.shape == (135, 3)
    assert sorted(map(tuple, liquid.positions)) == [
        (x, y, z) for x in range(15) for y in range(3) for z in range(3)]
    assert liquid.excitatory.sum() == 108
    members = liquid.members
    assert np.array_equal(np.sort(np.concatenate([members["exc"], members["inh"]])),
                          np.arange(135))
    assert model.net.populations["liquid.exc"].size == 108
    assert model.net.populations["liquid.inh"].size == 27


def test_connection_probability_is_c_of_the_pair_times_a_gaussian_of_distance():
    positions = np.array([[0, 0, 0], [1, 0, 0], [1, 2, 0], [4, 2, 2]])
    excitatory = np.array([True, False, True, False])
    p = lsm.connection_probability(positions, excitatory, PARAMS)
    assert np.all(np.diag(p) == 0)
    assert p[0, 1] == pytest.approx(0.2 * np.exp(-1 / 4))           # E → I, D² = 1
    assert p[1, 0] == pytest.approx(0.4 * np.exp(-1 / 4))           # I → E
    assert p[0, 2] == pytest.approx(0.3 * np.exp(-5 / 4))           # E → E, D² = 5
    assert p[1, 3] == pytest.approx(0.1 * np.exp(-(9 + 4 + 4) / 4))  # I → I, D² = 17


def _pooled_liquids(n: int = 10):
    """Synapse counts and their expectations (mean, variance) of n seeded liquids, per type
    pair and per squared distance: realised counts must sit within 4 sd of the expected."""
    counts, means, variances = {}, {}, {}
    for seed in range(n):
        liquid = lsm.draw_liquid(PARAMS, np.random.default_rng(seed))
        p = lsm.connection_probability(liquid.positions, liquid.excitatory, PARAMS)
        d2 = ((liquid.positions[:, None] - liquid.positions[None]) ** 2).sum(-1)
        kind = liquid.kind(np.arange(liquid.size))
        realised = np.zeros_like(p, dtype=bool)
        realised[liquid.pre, liquid.post] = True
        shell = np.minimum(d2, 10)            # D² = 1 … 9 (7 is no sum of 3 squares), ≥ 10
        for pre, post in lsm.PAIRS:
            for s in (1, 2, 3, 4, 5, 6, 8, 9, 10):
                cell = (kind[:, None] == pre) & (kind[None, :] == post) & (shell == s)
                key = (pre, post, s)
                counts[key] = counts.get(key, 0) + realised[cell].sum()
                means[key] = means.get(key, 0.0) + p[cell].sum()
                variances[key] = variances.get(key, 0.0) + (p[cell] * (1 - p[cell])).sum()
        assert not realised[np.diag_indices(liquid.size)].any()
    return counts, means, variances


def test_realised_connections_follow_the_probabilities_within_statistical_bounds():
    counts, means, variances = _pooled_liquids()
    for pre, post in lsm.PAIRS:
        total = sum(counts[k] for k in counts if k[:2] == (pre, post))
        mean = sum(means[k] for k in means if k[:2] == (pre, post))
        sd = np.sqrt(sum(variances[k] for k in variances if k[:2] == (pre, post)))
        assert abs(total - mean) < 4 * sd, (pre, post, total, mean, sd)
    for key in counts:                         # and at every distance (+1: nearly empty shells)
        assert abs(counts[key] - means[key]) < 4 * np.sqrt(variances[key]) + 1, (
            key, counts[key], means[key])


def test_the_network_holds_exactly_the_drawn_synapses_with_e_positive_and_i_negative(model):
    net, liquid = model.net, model.liquid
    members = liquid.members
    seen = 0
    for pre, post in lsm.PAIRS:
        proj = next(p for p in net.projections if p.name == f"liquid.{pre}_to_{post}")
        assert (proj.pre, proj.post) == (f"liquid.{pre}", f"liquid.{post}")
        column = set(zip(members[pre][proj.pre_idx].tolist(),
                         members[post][proj.post_idx].tolist()))
        drawn = (liquid.kind(liquid.pre) == pre) & (liquid.kind(liquid.post) == post)
        assert column == set(zip(liquid.pre[drawn].tolist(), liquid.post[drawn].tolist()))
        assert np.all(proj.weight > 0) if pre == "exc" else np.all(proj.weight < 0)
        assert np.all(proj.delay == (2 if (pre, post) == ("exc", "exc") else 1))
        seen += proj.n_synapses
    assert seen == len(liquid.pre) > 500
    inputs = [p for p in net.projections if p.pre == "input"]
    assert {p.post for p in inputs} == {"liquid.exc", "liquid.inh"}
    assert all(np.all(p.weight > 0) for p in inputs)
    assert {p.name for p in net.projections} == {
        "input_to_liquid.exc", "input_to_liquid.inh",
        *(f"liquid.{pre}_to_{post}" for pre, post in lsm.PAIRS)}


def test_rest_potentials_are_the_bias_over_dv_and_the_start(model):
    dv = 1 - np.exp(-model.net.dt / PARAMS.tau_mem)
    for kind, members in model.liquid.members.items():
        lif = model.net.populations[f"liquid.{kind}"].model
        assert np.allclose(lif.bias / dv, model.liquid.v_rest[members])
        assert np.array_equal(lif.v_init, model.liquid.v_rest[members])
        assert np.all((0.75 <= lif.v_init) & (lif.v_init <= 0.9))


# --- task and readout ------------------------------------------------------------------------

def test_samples_are_jittered_templates_inside_their_window_one_after_another(model):
    data = model.dataset
    assert np.array_equal(np.bincount(data.labels), [8, 8, 8])
    assert np.all(np.diff(data.onsets) == 200) and data.onsets[0] == 100
    for sample in data.samples:
        assert len(np.unique(sample, axis=0)) == len(sample)
        assert sample[:, 1].min() >= 0 and sample[:, 1].max() < 100
    spikes = model.net.populations["input"].model
    assert len(spikes.steps) == sum(len(s) for s in data.samples)
    # most of a sample's spikes lie near a spike of its own template, fewer near the others'
    for sample, label in zip(data.samples, data.labels):
        near = [np.mean([np.any((t[:, 0] == c) & (abs(t[:, 1] - step) <= 2 * EASY.jitter_ms))
                         for c, step in sample]) for t in data.templates]
        assert np.argmax(near) == label and near[label] > 0.6, near


def test_binned_counts_put_each_spike_in_its_sample_neuron_and_bin():
    steps = np.array([5, 10, 34, 35, 60, 99, 100, 130])
    neurons = np.array([0, 1, 1, 1, 0, 1, 0, 1])
    counts = lsm.binned_counts(steps, neurons, 2, np.array([10, 100]), 2, 25)
    assert counts.tolist() == [[0, 0, 2, 1], [1, 0, 0, 1]]   # 5 is before, 60 and 99 after


def test_ridge_readout_is_the_closed_form_at_the_alpha_that_minimises_leave_one_out():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(15, 6))
    labels = np.arange(15) % 3
    readout = lsm.fit_readout(x, labels, 3)
    y = np.where(labels[:, None] == np.arange(3), 1.0, -1.0)

    def ridge(xs, ys, alpha):
        mean, y_mean = xs.mean(0), ys.mean(0)
        xc = xs - mean
        w = np.linalg.solve(xc.T @ xc + alpha * np.eye(xs.shape[1]), xc.T @ (ys - y_mean))
        return mean, w, y_mean

    mean, w, y_mean = ridge(x, y, readout.alpha)
    assert np.allclose(readout.w, w) and np.allclose(readout.b, y_mean)

    def loo(alpha):
        errors = []
        for i in range(len(x)):
            keep = np.arange(len(x)) != i
            m, wi, bi = ridge(x[keep], y[keep], alpha)
            errors.append(((x[i] - m) @ wi + bi - y[i]) ** 2)
        return np.mean(errors)

    assert loo(readout.alpha) == pytest.approx(min(loo(a) for a in lsm.ALPHAS))


# --- a tiny end-to-end run -------------------------------------------------------------------

def test_a_tiny_run_on_brian2_and_the_emulator_spikes_and_its_readout_beats_chance(model):
    brian2, emulator = (example.run_backend(model, name) for name in ("brian2", "emulator"))
    assert not brian2.fixed and emulator.fixed
    assert emulator.result.meta["overflow"] == {
        p: {"u_wraps": 0, "v_saturations": 0} for p in ("liquid.exc", "liquid.inh")}
    for run in (brian2, emulator):
        steps, neurons = lsm.column_spikes(run.result, model)
        assert len(np.unique(neurons)) > 100          # most of the liquid takes part
        assert run.states.shape == (24, 135 * lsm.BINS)
        assert run.own >= 0.75                        # chance is 1/3
    float_row, fixed_row = example.compare([brian2, emulator], brian2, model)
    assert float_row.same == 1.0 and float_row.transfer == brian2.own
    assert 0.3 < fixed_row.same < 1.0                 # quantization moves some spikes, not all
    assert fixed_row.transfer >= 0.75                 # brian2's readout on the emulator's states
    # the liquid falls silent between samples: nothing in the last 50 ms of any gap
    for run in (brian2, emulator):
        steps = lsm.column_spikes(run.result, model)[0]
        before_onset = model.dataset.onsets[np.searchsorted(model.dataset.onsets, steps)
                                            .clip(max=len(model.dataset.onsets) - 1)] - steps
        assert not np.any((before_onset > 0) & (before_onset <= 50))
