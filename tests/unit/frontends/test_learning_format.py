"""A projection's `learning:` mapping and weight probes (docs/design.md §4.10): the file, the
builder and modules give one network, save_model writes it back, every bad value is one
located line, and `nmc run --save-model` writes the learned weights into a model that loads."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from nmcompile.cli import main
from nmcompile.diagnostics import InputError, RunError
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_model
from nmcompile.frontends.savemodel import (learned_network, save_learned_model, save_model,
                                           to_document)
from nmcompile.ir import STDP, RewardSTDP, WeightProbe
from nmcompile.result import Result

MODEL = """format: nmcompile/v1
name: plastic
steps: 60
seed: 3
populations:
  input: {model: poisson, size: 4, rate: 80}
  dopamine: {model: spike_array, size: 2, spikes: [[0, 5], [1, 20]]}
  exc: {model: lif, size: 3, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
projections:
  - name: in_exc
    pre: input
    post: exc
    connect: all_to_all
    weight: {uniform: [0.1, 0.5]}
    learning:
      rule: stdp
      learning_rate: 0.0625
      a_plus: 1.0
      a_minus: -1.0
      tau_plus: 20.0
      tau_minus: 20.0
      w_max: 64.0
  - name: in_exc_r
    pre: input
    post: exc
    connect: all_to_all
    weight: -0.2
    learning:
      rule: reward_stdp
      learning_rate: 0.25
      a_plus: 1.0
      a_minus: -1.0
      tau_plus: 10.0
      tau_minus: 20.0
      pre_impulse: 8.5
      t_epoch: 2
      sign: mixed
      seed: 7
      eligibility_decay: 0.5
      reward: dopamine
      reward_weight: 2.0
      reward_tau: 10.0
  - {name: exc_exc, pre: exc, post: exc, connect: one_to_one, weight: 0.1, delay: 3}
probes:
  - {population: exc, var: v}
  - {projection: in_exc, every: 10}
  - {projection: in_exc_r, every: 1}
"""

STDP_RULE = STDP(learning_rate=0.0625, a_plus=1.0, a_minus=-1.0, tau_plus=20.0, tau_minus=20.0,
                 w_max=64.0)
REWARD_RULE = RewardSTDP(learning_rate=0.25, a_plus=1.0, a_minus=-1.0, tau_plus=10.0,
                         tau_minus=20.0, pre_impulse=8.5, t_epoch=2, sign="mixed", seed=7,
                         eligibility_decay=0.5, reward="dopamine", reward_weight=2.0,
                         reward_tau=10.0)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "plastic.yaml"
    path.write_text(MODEL)
    return path


def test_the_file_gives_rules_and_weight_probes(model):
    net = load_model(model)
    rules = {p.name: p.learning for p in net.projections}
    assert rules == {"in_exc": STDP_RULE, "in_exc_r": REWARD_RULE, "exc_exc": None}
    assert [p.name for p in net.plastic_projections()] == ["in_exc", "in_exc_r"]
    assert net.weight_probes == (WeightProbe(projection="in_exc", every=10),
                                 WeightProbe(projection="in_exc_r", every=1))
    assert [(p.population, p.var) for p in net.probes] == [("exc", "v")]
    assert isinstance(rules["in_exc_r"].pre_impulse, float)


def test_save_and_load_round_trip(model, tmp_path):
    net = load_model(model)
    out = tmp_path / "saved.yaml"
    save_model(net, str(out))
    assert load_model(out) == net
    doc = yaml.safe_load(out.read_text())
    assert doc["projections"][0]["learning"] == {
        "rule": "stdp", "learning_rate": 0.0625, "a_plus": 1.0, "a_minus": -1.0,
        "tau_plus": 20.0, "tau_minus": 20.0, "pre_impulse": 16.0, "post_impulse": 16.0,
        "t_epoch": 1, "w_max": 64.0}  # sign and seed unset: left to the initial weights, the seed
    assert "learning" not in doc["projections"][2]
    assert doc["probes"][1:] == [{"projection": "in_exc", "every": 10},
                                 {"projection": "in_exc_r", "every": 1}]


def test_a_large_plastic_projection_round_trips_through_its_sidecar(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(MODEL.replace("input: {model: poisson, size: 4", "input: {model: poisson, "
                                                                     "size: 700"))
    net = load_model(path)
    doc, sidecars = to_document(net, sidecar_prefix="saved")
    assert doc["projections"][0]["connect"] == {"file": "saved.in_exc.npz"}
    assert doc["projections"][0]["learning"]["rule"] == "stdp"
    save_model(net, str(tmp_path / "saved.yaml"))
    assert load_model(tmp_path / "saved.yaml") == net


def builder() -> NetworkBuilder:
    b = NetworkBuilder("plastic", steps=60, seed=3)
    b.poisson("input", size=4, rate=80)
    b.spike_array("dopamine", size=2, spikes=[[0, 5], [1, 20]])
    b.lif("exc", size=3, tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    b.connect("input", "exc", "all_to_all", weight={"uniform": [0.1, 0.5]}, name="in_exc",
              learning=replace(STDP_RULE, a_plus=np.float64(1.0)))
    b.connect("input", "exc", "all_to_all", weight=-0.2, name="in_exc_r", learning=REWARD_RULE)
    b.connect("exc", "exc", "one_to_one", weight=0.1, delay=3, name="exc_exc")
    b.probe("exc", "v")
    b.weight_probe("in_exc", 10)
    b.weight_probe("in_exc_r", every=1)
    return b


def test_builder_equals_the_file(model):
    assert builder().build() == load_model(model)


def test_builder_errors_name_the_projection():
    b = builder()
    b.connect("input", "exc", "all_to_all", weight=0.2, name="late",
              learning=replace(STDP_RULE, tau_plus=-1.0))
    with pytest.raises(InputError) as info:
        b.build()
    assert str(info.value) == ("<builder plastic>: projections[3].learning.tau_plus "
                               "(projection late): must be a number > 0, got -1.0")
    b = builder()
    b.connect("input", "exc", {"fixed_indegree": 2}, weight=0.2, name="sparse",
              learning=STDP_RULE)
    with pytest.raises(InputError, match=r"^<builder plastic>: projections\[3\].connect "
                                         r"\(projection sparse\): a projection with learning "
                                         r"must be dense"):
        b.build()
    b = builder()
    b.connect("input", "exc", "all_to_all", weight=0.2, name="slow",
              learning=replace(REWARD_RULE, reward_tau=5.0))
    with pytest.raises(InputError) as info:
        b.build()
    assert str(info.value).startswith(
        "<builder plastic>: projections[3].learning.reward_tau (projection slow): 5.0, but "
        "reward_stdp projection in_exc_r into exc has 10.0 (projections[1]): ")
    with pytest.raises(InputError, match=r"learning must be an ir.STDP or ir.RewardSTDP, "
                                         r"got dict"):
        builder().connect("input", "exc", "all_to_all", weight=0.2, learning={"rule": "stdp"})


MODULAR = """format: nmcompile/v1
name: modular
modules:
  learner:
    params:
      lr: 0.0625
      rule: {rule: reward_stdp, learning_rate: 0.25, a_plus: 1.0, a_minus: -1.0,
             tau_plus: 20.0, tau_minus: 20.0, eligibility_decay: 0.5, reward: dopamine}
    populations:
      input: {model: poisson, size: 3, rate: 50}
      dopamine: {model: spike_array, size: 2, spikes: [[0, 5]]}
      exc: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
    projections:
      - name: in_exc
        pre: input
        post: exc
        connect: all_to_all
        weight: 0.25
        learning: {rule: stdp, learning_rate: "$lr", a_plus: 1.0, a_minus: -1.0,
                   tau_plus: 20.0, tau_minus: 20.0}
      - {name: rewarded, pre: input, post: exc, connect: all_to_all, weight: 0.25,
         learning: "$rule"}
    probes:
      - {projection: in_exc, every: 5}
instances:
  - {module: learner, name: a}
  - {module: learner, name: b, params: {lr: 0.125}}
"""

FLAT = """format: nmcompile/v1
name: modular
populations:
  a.input: {model: poisson, size: 3, rate: 50}
  a.dopamine: {model: spike_array, size: 2, spikes: [[0, 5]]}
  a.exc: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
  b.input: {model: poisson, size: 3, rate: 50}
  b.dopamine: {model: spike_array, size: 2, spikes: [[0, 5]]}
  b.exc: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
projections:
  - {name: a.in_exc, pre: a.input, post: a.exc, connect: all_to_all, weight: 0.25,
     learning: {rule: stdp, learning_rate: 0.0625, a_plus: 1.0, a_minus: -1.0,
                tau_plus: 20.0, tau_minus: 20.0}}
  - {name: a.rewarded, pre: a.input, post: a.exc, connect: all_to_all, weight: 0.25,
     learning: {rule: reward_stdp, learning_rate: 0.25, a_plus: 1.0, a_minus: -1.0,
                tau_plus: 20.0, tau_minus: 20.0, eligibility_decay: 0.5, reward: a.dopamine}}
  - {name: b.in_exc, pre: b.input, post: b.exc, connect: all_to_all, weight: 0.25,
     learning: {rule: stdp, learning_rate: 0.125, a_plus: 1.0, a_minus: -1.0,
                tau_plus: 20.0, tau_minus: 20.0}}
  - {name: b.rewarded, pre: b.input, post: b.exc, connect: all_to_all, weight: 0.25,
     learning: {rule: reward_stdp, learning_rate: 0.25, a_plus: 1.0, a_minus: -1.0,
                tau_plus: 20.0, tau_minus: 20.0, eligibility_decay: 0.5, reward: b.dopamine}}
probes:
  - {projection: a.in_exc, every: 5}
  - {projection: b.in_exc, every: 5}
"""


def test_modules_keep_learning_and_name_the_reward_as_pre_and_post(tmp_path):
    """reward and a weight probe's projection are the module's own names, prefixed; a rule
    given as a parameter (one mapping shared by the instances) gets each instance's reward."""
    (tmp_path / "modular.yaml").write_text(MODULAR)
    (tmp_path / "flat.yaml").write_text(FLAT)
    net = load_model(tmp_path / "modular.yaml")
    assert net == load_model(tmp_path / "flat.yaml")
    assert [p.learning.reward for p in net.projections if p.name.endswith("rewarded")] == \
        ["a.dopamine", "b.dopamine"]


def test_a_module_sees_only_its_own_reward_population(tmp_path):
    path = tmp_path / "modular.yaml"
    path.write_text(MODULAR.replace("reward: dopamine}", "reward: top}")
                    .replace("instances:\n  - {module: learner, name: a}",
                             "populations:\n  top: {model: poisson, size: 1, rate: 5}\n"
                             "instances:\n  - {module: learner, name: a}"))
    with pytest.raises(InputError) as info:
        load_model(path)
    assert str(info.value) == (f"{path}:22: modules.learner.projections[1].learning.reward "
                               f"(instance a): no population named 'top'; "
                               f"known: dopamine, exc, input (a module sees its own "
                               f"populations and those inside its instances)")


# -- one located line per bad value ---------------------------------------------------------
BAD = """format: nmcompile/v1
name: plastic
populations:
  input: {model: poisson, size: 3, rate: 50}
  dopamine: {model: spike_array, size: 2, spikes: [[0, 5]]}
  exc: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
  held: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0, refractory: 2}
  izh: {model: izhikevich, size: 2, a: 0.02, b: 0.2, c: -65, d: 8}
projections:
  - name: in_exc
    pre: input
    post: exc
    connect: all_to_all
    weight: 0.25
    learning:
      rule: stdp
      learning_rate: 0.0625
      a_plus: 1.0
      a_minus: -1.0
      tau_plus: 20.0
      tau_minus: 20.0
probes:
  - {population: exc, var: v}
"""
LEARNING = "".join(line + "\n" for line in BAD.splitlines()[14:21])
LAST = "      tau_minus: 20.0\n"
REWARD = {"rule: stdp": "rule: reward_stdp",
          LAST: LAST + "      eligibility_decay: 0.5\n      reward: dopamine\n"}
WEIGHT_PROBE = "  - {population: exc, var: v}"


def adding(*lines: str) -> dict:
    return {LAST: LAST + "".join(f"      {line}\n" for line in lines)}


SCALING = "beyond Lava's m·2^e with -8 ≤ m ≤ 7, -7 ≤ e ≤ 8"
DENSE = ("projections[0].connect: a projection with learning must be dense, every (pre, post) "
         "pair present (Lava's LearningDense learns every entry of its dense weight matrix): ")
SHARED = ("the reward rules into one population share its post trace and reward trace, so "
          "tau_minus, post_impulse, reward, reward_weight, reward_tau must agree")
L = "projections[0].learning"
CASES = {  # name: (edits of BAD, "line: path: message")
    "not_a_mapping": ({LEARNING: "    learning: stdp\n"},
                      f"15: {L}: must be a mapping with rule, learning_rate, a_plus, a_minus, "
                      f"tau_plus, tau_minus, got 'stdp'"),
    "rule_unknown": ({"rule: stdp": "rule: stpd"},
                     f"16: {L}.rule: must be one of stdp, reward_stdp, got 'stpd'; did you "
                     f"mean 'stdp'?"),
    "rule_missing": ({"      rule: stdp\n": ""}, f"16: {L}: missing required key 'rule'"),
    "unknown_key": (adding("tau_pls: 3"),
                    f"22: {L}.tau_pls: unknown key 'tau_pls'; did you mean 'tau_plus'?"),
    "reward_key_on_stdp": (adding("reward_tau: 3"),
                           f"22: {L}.reward_tau: reward_tau is a key of rule reward_stdp; "
                           f"rule stdp has no reward"),
    "required_missing": ({LAST: ""}, f"16: {L}: missing required key 'tau_minus'"),
    "learning_rate_not_number": ({"learning_rate: 0.0625": "learning_rate: fast"},
                                 f"17: {L}.learning_rate: must be a finite number, got 'fast'"),
    "a_plus_infinite": ({"a_plus: 1.0": "a_plus: .inf"},
                        f"18: {L}.a_plus: must be a finite number, got inf"),
    "a_minus_boolean": ({"a_minus: -1.0": "a_minus: true"},
                        f"19: {L}.a_minus: must be a finite number, got true"),
    "tau_plus_zero": ({"tau_plus: 20.0": "tau_plus: 0"},
                      f"20: {L}.tau_plus: must be a number > 0, got 0"),
    "tau_minus_infinite": ({"tau_minus: 20.0": "tau_minus: .inf"},
                           f"21: {L}.tau_minus: must be a finite number, got inf"),
    "pre_impulse_128": (adding("pre_impulse: 128"),
                        f"22: {L}.pre_impulse: must be a number from 0 to 127 (traces are 7 "
                        f"bits on the chip), got 128"),
    "post_impulse_negative": (adding("post_impulse: -1"),
                              f"22: {L}.post_impulse: must be a number from 0 to 127 (traces "
                              f"are 7 bits on the chip), got -1"),
    "t_epoch_64": (adding("t_epoch: 64"), f"22: {L}.t_epoch: must be an integer ≤ 63, got 64"),
    "t_epoch_0": (adding("t_epoch: 0"), f"22: {L}.t_epoch: must be an integer ≥ 1, got 0"),
    "t_epoch_fraction": (adding("t_epoch: 1.5"),
                         f"22: {L}.t_epoch: must be an integer ≥ 1, got 1.5"),
    "sign_unknown": (adding("sign: exc"), f"22: {L}.sign: must be one of excitatory, "
                                          f"inhibitory, mixed, got 'exc'"),
    "w_max_zero": (adding("w_max: 0"), f"22: {L}.w_max: must be a number > 0, got 0"),
    "seed_zero": (adding("seed: 0"), f"22: {L}.seed: must be an integer ≥ 1, got 0"),
    "seed_too_large": (adding("seed: 2147483640"),
                       f"22: {L}.seed: must be an integer ≤ 2147483639, got 2147483640"),
    "scaling_a_plus": ({"learning_rate: 0.0625": "learning_rate: 3", "a_plus: 1.0": "a_plus: 3"},
                       f"17: {L}.learning_rate: learning_rate × a_plus cannot be Lava's "
                       f"scaling: 3 × 3 is 9·2^0, {SCALING}"),
    "scaling_a_minus": ({"learning_rate: 0.0625": "learning_rate: 3",
                         "a_minus: -1.0": "a_minus: -3"},
                        f"17: {L}.learning_rate: learning_rate × a_minus cannot be Lava's "
                        f"scaling: 3 × -3 is -9·2^0, {SCALING}"),
    "reward_missing": ({"rule: stdp": "rule: reward_stdp", **adding("eligibility_decay: 0.5")},
                       f"16: {L}: missing required key 'reward'"),
    "eligibility_missing": ({"rule: stdp": "rule: reward_stdp", **adding("reward: dopamine")},
                            f"16: {L}: missing required key 'eligibility_decay'"),
    "eligibility_range": ({**REWARD, "eligibility_decay: 0.5": "eligibility_decay: 1.5"},
                          f"22: {L}.eligibility_decay: must be a number from 0 to 1 (the "
                          f"fraction of the tag removed per epoch), got 1.5"),
    "eligibility_scaling": ({**REWARD, "eligibility_decay: 0.5": "eligibility_decay: 1e-5"},
                            f"22: {L}.eligibility_decay: cannot be Lava's scaling: 1e-05 is "
                            f"-1·2^-17, {SCALING}"),
    "reward_unknown": ({**REWARD, "reward: dopamine": "reward: dopamin"},
                       f"23: {L}.reward: no population named 'dopamin'; did you mean "
                       f"'dopamine'?"),
    "reward_weight_zero": ({**REWARD, "reward: dopamine": "reward: dopamine\n"
                                                          "      reward_weight: 0"},
                           f"24: {L}.reward_weight: must be a nonzero number (0: the reward "
                           f"would never reach the weights)"),
    "reward_weight_infinite": ({**REWARD, "reward: dopamine": "reward: dopamine\n"
                                                              "      reward_weight: .inf"},
                               f"24: {L}.reward_weight: must be a finite number, got inf"),
    "reward_tau_negative": ({**REWARD, "reward: dopamine": "reward: dopamine\n"
                                                           "      reward_tau: -1"},
                            f"24: {L}.reward_tau: must be a number ≥ 0, got -1"),
    "not_dense": ({"connect: all_to_all": "connect: {list: [[0, 0], [1, 1]]}"},
                  f"13: {DENSE}in_exc has 2 of 3 × 2 synapses"),
    "self_synapses_removed": ({"    pre: input\n": "    pre: exc\n",
                               "connect: all_to_all": "connect: all_to_all\n"
                                                      "    allow_self: false"},
                              f"13: {DENSE}in_exc has 2 of 2 × 2 synapses"),
    "delay_2": ({"weight: 0.25": "weight: 0.25\n    delay: 2"},
                "15: projections[0].delay: a projection with learning must have delay 1 "
                "(Lava's LearningDense has no delays): synapse 0 -> 0 of in_exc has delay 2"),
    "delay_list": ({"weight: 0.25": "weight: 0.25\n    delay: [1, 1, 1, 2, 1, 1]"},
                   "15: projections[0].delay: a projection with learning must have delay 1 "
                   "(Lava's LearningDense has no delays): synapse 1 -> 1 of in_exc has delay 2"),
    "reward_post_refractory": ({**REWARD, "post: exc": "post: held"},
                               "12: projections[0].post: reward_stdp needs a plain LIF post "
                               "population (its reward post process is built on Lava's LIF); "
                               "held has refractory 2 > 0"),
    "reward_post_izhikevich": ({**REWARD, "post: exc": "post: izh"},
                               "12: projections[0].post: reward_stdp needs a plain LIF post "
                               "population (its reward post process is built on Lava's LIF); "
                               "izh has model izhikevich"),
    "post_a_source": ({"post: exc": "post: dopamine"},
                      "12: projections[0].post: dopamine is a spike source; it cannot receive "
                      "input"),
    "sign_excitatory": ({"weight: 0.25": "weight: [0.25, 0.25, 0.25, -0.5, 0.25, 0.25]",
                         **adding("sign: excitatory")},
                        f"22: {L}.sign: excitatory, but synapse 1 -> 1 has initial weight "
                        f"-0.5 < 0"),
    "sign_inhibitory": (adding("sign: inhibitory"),
                        f"22: {L}.sign: inhibitory, but synapse 0 -> 0 has initial weight "
                        f"0.25 > 0"),
    "w_max_below_a_weight": (adding("w_max: 0.125"),
                             f"22: {L}.w_max: must be ≥ the largest |initial weight|, 0.25 "
                             f"(synapse 0 -> 0), got 0.125"),
    "reward_rules_disagree": ({**REWARD, "probes:\n": "  - {name: second, pre: input, post: exc, "
                               "connect: all_to_all, weight: 0.25,\n     learning: {rule: "
                               "reward_stdp, learning_rate: 0.25, a_plus: 1, a_minus: -1,\n"
                               "                tau_plus: 20, tau_minus: 10, "
                               "eligibility_decay: 0.5, reward: dopamine}}\nprobes:\n"},
                              f"26: projections[1].learning.tau_minus: 10.0, but reward_stdp "
                              f"projection in_exc into exc has 20.0 (line 10): {SHARED}"),
    "weight_probe_unknown_projection": ({WEIGHT_PROBE: "  - {projection: in_exe, every: 10}"},
                                        "23: probes[0].projection: no projection named "
                                        "'in_exe'; did you mean 'in_exc'?"),
    "weight_probe_not_plastic": ({LEARNING: "", WEIGHT_PROBE: "  - {projection: in_exc, "
                                                              "every: 10}"},
                                 "16: probes[0].projection: in_exc has no learning rule: its "
                                 "weights do not change"),
    "weight_probe_every_zero": ({WEIGHT_PROBE: "  - {projection: in_exc, every: 0}"},
                                "23: probes[0].every: must be an integer ≥ 1, got 0"),
    "weight_probe_every_missing": ({WEIGHT_PROBE: "  - {projection: in_exc}"},
                                   "23: probes[0]: missing required key 'every'"),
    "weight_probe_and_population": ({WEIGHT_PROBE: "  - {population: exc, projection: in_exc, "
                                                   "every: 1}"},
                                    "23: probes[0]: a probe records a population's state "
                                    "({population, var}) or a projection's weights "
                                    "({projection, every}), not both"),
    "weight_probe_twice": ({WEIGHT_PROBE: "  - {projection: in_exc, every: 1}\n"
                                          "  - {projection: in_exc, every: 2}"},
                           "24: probes[1]: duplicate weight probe of in_exc"),
}


def bad_model(tmp_path, name: str):
    edits, expected = CASES[name]
    text = BAD
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path, f"{path}:{expected}"


def test_the_bad_model_is_good_unedited(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(BAD)
    assert load_model(path).projections[0].learning.kind == "stdp"


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_learning_is_one_located_line(name, tmp_path):
    path, expected = bad_model(tmp_path, name)
    with pytest.raises(InputError) as info:
        load_model(path)
    assert str(info.value) == expected


@pytest.mark.parametrize("name", ["rule_unknown", "delay_2", "weight_probe_twice"])
def test_the_cli_exits_2_with_the_line(name, tmp_path, capsys):
    path, expected = bad_model(tmp_path, name)
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", expected + "\n")


# -- learned weights into a model file ------------------------------------------------------
def hand_made_result(net, weights: dict, scale: dict | None = None) -> Result:
    meta = {"backend": "by hand", "steps": net.steps}
    if scale is not None:
        meta["weight_scale"] = scale
    return Result(spikes={}, meta=meta, weights=weights)


def test_learned_weights_replace_the_initial_ones(model, tmp_path):
    net = load_model(model)
    stdp, reward, fixed = net.projections
    learned = {"in_exc": np.linspace(0.0, 2.0, stdp.n_synapses),
               "in_exc_r": np.linspace(-1.0, 1.0, reward.n_synapses)}
    out = tmp_path / "learned.yaml"
    assert save_learned_model(net, hand_made_result(net, learned), str(out)) == []
    back = load_model(out)
    assert np.array_equal(back.projections[0].weight, learned["in_exc"])
    assert np.array_equal(back.projections[1].weight, learned["in_exc_r"])
    assert back.projections[2] == fixed
    # the rule is kept; a sign bound that came from the initial weights is written out
    assert back.projections[0].learning == replace(STDP_RULE, sign="excitatory")
    assert back.projections[1].learning == REWARD_RULE
    assert back.weight_probes == net.weight_probes and back.probes == net.probes


def test_fixed_point_mantissas_are_divided_by_the_weight_scale(model):
    net = load_model(model)
    mantissas = {"in_exc": np.arange(12, dtype=np.int64),
                 "in_exc_r": -np.arange(12, dtype=np.int64)}
    learned, warnings = learned_network(
        net, hand_made_result(net, mantissas, {"in_exc": 4.0, "in_exc_r": 64.0}))
    assert warnings == []
    assert np.array_equal(learned.projections[0].weight, np.arange(12) / 4.0)
    assert np.array_equal(learned.projections[1].weight, -np.arange(12) / 64.0)
    with pytest.raises(Exception, match="mantissas .* without meta\\['weight_scale'\\]"):
        learned_network(net, hand_made_result(net, mantissas))


def test_weights_beyond_w_max_raise_it_with_a_warning(model, tmp_path):
    net = load_model(model)
    weights = {"in_exc": np.full(12, 0.5), "in_exc_r": np.zeros(12)}
    weights["in_exc"][5] = 80.5
    out = tmp_path / "learned.yaml"
    warnings = save_learned_model(net, hand_made_result(net, weights), str(out))
    assert warnings == ["projection in_exc: learned weights reach 80.5, beyond w_max 64.0; "
                        "written with w_max 80.5"]
    assert load_model(out).projections[0].learning.w_max == 80.5


def test_a_backend_without_learned_weights_is_a_run_error(model):
    net = load_model(model)
    with pytest.raises(RunError, match="backend by hand gave no learned weights of projection "
                                       "in_exc_r"):
        learned_network(net, hand_made_result(net, {"in_exc": np.zeros(12)}))


def test_save_model_may_not_replace_the_model(model, capsys):
    assert main(["run", str(model), "--backend", "emulator-float", "-q",
                 "--save-model", str(model)]) == 2
    assert capsys.readouterr().err == (f"{model}: --save-model would overwrite the input "
                                       f"{model}: choose another name\n")
    assert main(["run", str(model), "--backend", "emulator-float", "-q",
                 "--save-model", str(model.with_suffix(".json"))]) == 2
    assert "--save-model writes a model file: name the file *.yaml or *.yml" in \
        capsys.readouterr().err


def test_save_model_of_a_model_that_does_not_learn_is_refused(tmp_path, capsys):
    static = Path(__file__).resolve().parents[3] / "examples" / "wta.yaml"
    out = tmp_path / "learned.yaml"
    assert main(["run", str(static), "--backend", "emulator-float", "-q",
                 "--save-model", str(out)]) == 2
    assert "has no plastic projection, so nothing learns" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_run_save_model_writes_the_learned_weights(model, tmp_path, capsys):
    """A real run: the saved model holds the result's learned weights and loads."""
    out, learned = tmp_path / "run.npz", tmp_path / "learned.yaml"
    assert main(["run", str(model), "--backend", "emulator-float", "-q", "-o", str(out),
                 "--save-model", str(learned)]) == 0
    assert f"model with learned weights -> {learned}" in capsys.readouterr().out
    result, net, back = Result.load(str(out)), load_model(model), load_model(learned)
    for before, after in zip(net.plastic_projections(), back.plastic_projections()):
        assert np.array_equal(after.weight, result.weights[before.name])
        assert not np.array_equal(after.weight, before.weight)  # it learned
        assert after.learning.kind == before.learning.kind
    assert sorted(p.name for p in back.projections) == sorted(p.name for p in net.projections)
