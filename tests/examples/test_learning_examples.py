"""The learning examples (examples/learning): the models say what the README says, the
selectivity index measures what it claims, short runs on brian2 and the emulator learn
(competitive outputs become selective; only the rewarded cue's synapses grow), the learned
model can be saved from the command line, and both scripts run end to end."""
from __future__ import annotations

import numpy as np
import pytest

from example_scripts import load_example
from nmcompile.cli import main as nmc
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import STDP, RewardSTDP

competitive = load_example("learning", "learning_competitive", "competitive.py")
reward = load_example("learning", "learning_reward", "reward.py")
runs = competitive.runs
BACKENDS = ("brian2", "emulator")


@pytest.fixture(scope="module")
def comp_net():
    return load_model(str(competitive.MODEL))


@pytest.fixture(scope="module")
def reward_net():
    return load_model(str(reward.MODEL))


def projection(net, name):
    return next(p for p in net.projections if p.name == name)


def dense_delay_one(proj, net):
    pre, post = net.populations[proj.pre].size, net.populations[proj.post].size
    pairs = set(zip(proj.pre_idx.tolist(), proj.post_idx.tolist()))
    return pairs == {(i, j) for i in range(pre) for j in range(post)} and set(proj.delay) == {1}


# --- the models --------------------------------------------------------------------------------

def test_competitive_presents_three_disjoint_patterns_in_turn_as_sequences(comp_net):
    shown = competitive.presentations(comp_net)
    assert [m.tolist() for m in shown.members] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert shown.period == 30 and len(shown.onsets) == 48
    assert np.array_equal(shown.onsets, np.arange(48) * 30)
    assert np.array_equal(shown.patterns, np.arange(48) % 3)
    spikes = comp_net.populations["input"].model
    for onset, pattern in zip(shown.onsets, shown.patterns):   # neuron i of a pattern at +2i
        here = (spikes.steps >= onset) & (spikes.steps < onset + shown.period)
        assert np.array_equal(spikes.steps[here] - onset, [0, 2, 4, 6])
        assert np.array_equal(spikes.neurons[here], shown.members[pattern])
    assert comp_net.steps == 48 * 30


def test_competitive_layer_is_plastic_dense_and_inhibits_itself(comp_net):
    plastic = projection(comp_net, "input_output")
    assert isinstance(plastic.learning, STDP) and plastic.learning.a_minus < 0
    assert dense_delay_one(plastic, comp_net) and plastic.n_synapses == 48
    assert 0.45 <= plastic.weight.min() and plastic.weight.max() <= 0.75
    inhibition = projection(comp_net, "inhibition")
    assert inhibition.learning is None and np.all(inhibition.weight < 0)
    assert sorted(zip(inhibition.pre_idx.tolist(), inhibition.post_idx.tolist())) == [
        (i, j) for i in range(4) for j in range(4) if i != j]
    assert [(p.projection, p.every) for p in comp_net.weight_probes] == [("input_output", 30)]


def test_reward_task_alternates_cues_and_rewards_a_then_b(reward_net):
    task = reward.trials(reward_net)
    assert np.array_equal(task.onsets, np.arange(20) * 80) and task.length == 80
    assert task.cues == ["A", "B"] * 10
    assert task.rewarded.tolist() == [k % 2 == 0 for k in range(10)] + [
        k % 2 == 1 for k in range(10, 20)]
    assert (task.first_paid, task.second_paid, task.reversal) == ("A", "B", 10)
    dopamine = reward_net.populations["dopamine"].model.steps
    assert np.array_equal(dopamine, task.onsets[task.rewarded] + 20)
    for cue, pop in reward.CUES.items():                    # 3 volleys of 4 neurons per trial
        spikes = reward_net.populations[pop].model
        onsets = task.onsets[np.array(task.cues) == cue]
        assert np.array_equal(spikes.steps, np.repeat(onsets[:, None] + [0, 5, 10], 4).ravel())


def test_reward_projections_share_one_reward_rule_into_a_plain_lif(reward_net):
    output = reward_net.populations["output"]
    assert output.model.kind == "lif" and not output.model.features()
    for proj in reward.PROJECTION.values():
        rule = projection(reward_net, proj).learning
        assert isinstance(rule, RewardSTDP) and rule.reward == "dopamine"
        assert rule.reward_tau == 0 and rule.eligibility_decay == 1 / 16
        assert dense_delay_one(projection(reward_net, proj), reward_net)


# --- the measures ------------------------------------------------------------------------------

def test_selectivity_is_one_for_a_single_pattern_zero_for_all_alike_nan_for_silence():
    r = np.array([[2.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
    si = competitive.selectivity(r)
    assert si[0] == 1 and si[1] == 0 and np.isnan(si[2])
    assert si[3] == pytest.approx((3 - 0.5) / (3 + 0.5))
    assert competitive.mean_selectivity(r) == pytest.approx(np.mean([1, 0, 2.5 / 3.5]))
    assert competitive.told_apart(r) == 1          # only output 0 (A); output 3 is at 0.71
    assert competitive.told_apart(np.eye(3)) == 3
    assert competitive.told_apart(np.array([[1.0, 0, 0], [2.0, 0, 0]])) == 1


def test_frozen_network_keeps_the_weights_and_drops_the_rule(comp_net):
    weights = np.linspace(0, 1, 48)
    net = competitive.frozen(comp_net, weights, 90)
    plastic = projection(net, "input_output")
    assert plastic.learning is None and np.array_equal(plastic.weight, weights)
    assert net.weight_probes == () and net.steps == 90
    assert projection(net, "inhibition") == projection(comp_net, "inhibition")


# --- learning happens --------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_competitive_outputs_become_selective_in_540_steps(comp_net, backend):
    shown = competitive.presentations(comp_net)
    item = competitive.train(comp_net.with_steps(540), backend, shown)
    assert competitive.mean_selectivity(item.before) < 0.3
    assert competitive.told_apart(item.before) == 0
    assert competitive.mean_selectivity(item.after) > 0.5
    assert competitive.told_apart(item.after) >= 2
    initial = projection(comp_net, "input_output").weight
    assert np.abs(item.learned - initial).max() > 0.3
    trace = item.run.weight_trace("input_output")
    assert trace.shape == (18, 48) and np.allclose(trace[-1], item.learned)


@pytest.fixture(scope="module")
def reward_runs(reward_net):
    """Five trials (A, B, A, B, A), the three A trials rewarded."""
    net = reward_net.with_steps(400)
    return {backend: runs.run(net, backend) for backend in BACKENDS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_the_rewarded_cue_synapses_grow(reward_net, reward_runs, backend):
    run = reward_runs[backend]
    growth = {cue: run.weights(p).mean() - projection(reward_net, p).weight.mean()
              for cue, p in reward.PROJECTION.items()}
    assert growth["A"] > 0.3
    assert abs(growth["B"]) < 0.02 * growth["A"]
    steps = runs.sample_steps(reward_net.with_steps(400), "cue_a_output", 40)
    mean_a = run.weight_trace("cue_a_output").mean(axis=1)
    jumps = np.flatnonzero(np.diff(mean_a) > 0.01) + 1      # samples that follow a reward
    assert set(steps[jumps] // 80) == {0, 2, 4}


def test_float_and_fixed_reward_learning_agree_within_a_quarter(reward_net, reward_runs):
    float_run, fixed_run = reward_runs["brian2"], reward_runs["emulator"]
    assert not float_run.fixed and fixed_run.fixed
    initial = projection(reward_net, "cue_a_output").weight.mean()
    grown = [run.weights("cue_a_output").mean() - initial for run in (float_run, fixed_run)]
    assert grown[1] == pytest.approx(grown[0], rel=0.25)


# --- the command line and the scripts ----------------------------------------------------------

def test_nmc_run_saves_the_learned_competitive_model(tmp_path, comp_net):
    out = tmp_path / "learned.yaml"
    assert nmc(["run", str(competitive.MODEL), "--backend", "emulator", "--steps", "300",
                "--save-model", str(out), "--quiet"]) == 0
    learned = load_model(str(out))
    direct = runs.run(comp_net.with_steps(300), "emulator")
    saved = projection(learned, "input_output")
    assert np.allclose(saved.weight, direct.weights("input_output"))
    assert not np.allclose(saved.weight, projection(comp_net, "input_output").weight)
    assert saved.learning.learning_rate == 0.0078125 and saved.learning.sign == "excitatory"


@pytest.mark.parametrize("example", [competitive, reward], ids=["competitive", "reward"])
def test_script_prints_its_table_and_draws_its_figure(example, tmp_path, capsys):
    figure = tmp_path / "figure.png"
    assert example.main(["--backends", "emulator", "-o", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "emulator   fixed" in out and f"wrote {figure}" in out
    assert figure.stat().st_size > 10_000
