"""Quantization of learning rules (DESIGN §2.4 "Learning"): the weight format holds ±w_max in
the rule's sign mode, each product of the fixed rule is Lava's m·2^e nearest to q times the
float one (reward rules: q·32/r, with the reward in mantissas), the fixed engine then learns
q times what the float engine learns, and the report says what was rounded or lost."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nmcompile.backends.plasticity.runner import PlasticProjections
from nmcompile.cli import main
from nmcompile.files.strictjson import dumps
from nmcompile.ir import LIF, Network, Population, Projection, SpikeArray, lava_rule
from nmcompile.ir.learning import STDP, RewardSTDP, literal, nearest_scaling, scaling
from nmcompile.passes.quantize import quantize
from nmcompile.passes.quantize.learning import reward_scale
from nmcompile.passes.quantize.shared import incoming_register_sums, incoming_sums
from nmcompile.result import Result
from nmcompile.targets import load_target

N_PRE, N_POST = 3, 2


def plastic_network(rule, weight: float = 0.3, steps: int = 60) -> Network:
    pops = {"src": Population(name="src", size=N_PRE, model=SpikeArray()),
            "post": Population(name="post", size=N_POST,
                               model=LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0)),
            "reward": Population(name="reward", size=1, model=SpikeArray())}
    pre = np.repeat(np.arange(N_PRE), N_POST).astype(np.int32)
    post = np.tile(np.arange(N_POST), N_PRE).astype(np.int32)
    proj = Projection(name="p", pre="src", post="post", pre_idx=pre, post_idx=post,
                      weight=np.full(pre.size, weight), delay=np.ones(pre.size, np.int32),
                      learning=rule)
    return Network(name="plastic", populations=pops, projections=(proj,), steps=steps)


def stdp(**kw) -> STDP:
    return STDP(**{"learning_rate": 2 ** -7, "a_plus": 1.0, "a_minus": -1.0, "tau_plus": 5.0,
                   "tau_minus": 5.0, "w_max": 1.0, **kw})


def reward_stdp(**kw) -> RewardSTDP:
    return RewardSTDP(**{"learning_rate": 2 ** -7, "a_plus": 1.0, "a_minus": -1.0,
                         "tau_plus": 5.0, "tau_minus": 5.0, "eligibility_decay": 0.25,
                         "reward": "reward", "reward_weight": 0.5, "w_max": 1.0, **kw})


def value(product) -> float:
    return product[1] * 2.0 ** product[2]


def test_stdp_products_are_the_nearest_scalings_to_q_times_the_float_ones():
    net = plastic_network(stdp(learning_rate=0.3, a_plus=1.0, a_minus=-0.5))
    q = quantize(net, "loihi2")
    fixed, pop = q.projections[0], q.populations["post"]
    rule = fixed.learning
    units = pop.scale / 2 ** (6 + fixed.weight_exp)
    assert rule.weight_units == units
    # Lava rounds 0.3 to 0.25 in the float rule too: the targets start from its products
    floats = [0.25 * -0.5, 0.25 * 1.0]
    got = [value(p) for p in rule.products()["weights"]]
    assert got == [m * 2.0 ** e for m, e in (nearest_scaling(units * f) for f in floats)]
    # m·2^e with 4 ≤ |m| ≤ 7 steps by at most a quarter: within 1/9 of any target in range
    assert all(abs(g / (units * f) - 1) <= 1 / 9 for g, f in zip(got, floats))
    # the parameters are Lava literals that fold to exactly those scalings: a power of two
    # and integers
    assert literal(rule.learning_rate) in ((1, np.log2(rule.learning_rate)),
                                           (rule.learning_rate, 0))
    assert scaling(rule.learning_rate, rule.a_plus) == rule.products()["weights"][1][1:3]
    # everything else is the float rule's: traces, taus, epoch, seed, sign mode
    proj = net.projections[0]
    float_rule = lava_rule(proj.learning, net.dt, net.seed, proj.name, proj.weight)
    assert rule == replace(float_rule, learning_rate=rule.learning_rate, a_plus=rule.a_plus,
                           a_minus=rule.a_minus, weight_units=units)
    rep = q.report.learning[0]
    assert ("learning_rate", 0.3, 0.25, "Lava") in rep.rounded
    assert [p.float_scaling for p in rep.products] == floats


@pytest.mark.parametrize("mode, weight", [("mixed", 0.3), ("excitatory", 0.3),
                                          ("inhibitory", -0.3)])
def test_weight_format_takes_the_rules_sign_mode_and_holds_w_max(mode, weight):
    q = quantize(plastic_network(stdp(sign=mode, w_max=0.9), weight), "loihi2")
    fixed = q.projections[0]
    assert fixed.sign_mode == mode == fixed.learning.sign_mode
    units = fixed.learning.weight_units
    # ±w_max fits the mantissa, and one exponent less would not have held it
    assert round(0.9 * units) <= 255 and 0.9 * units * 2 > 254
    if mode == "mixed":  # Lava truncates the lowest bit of a mixed projection's mantissas
        assert np.all(fixed.weight_mant % 2 == 0)
    low, high = q.report.learning[0].learned_range
    assert (low < 0) == (mode != "excitatory") and (high > 0) == (mode != "inhibitory")


@pytest.mark.parametrize("mode", ["excitatory", "mixed"])
def test_worst_cases_count_every_plastic_synapse_where_learning_may_take_it(mode):
    """Model units: at w_max in each direction the sign mode allows; register units: at the
    ends of the 8-bit range Lava clips learned weights to."""
    net = plastic_network(stdp(sign=mode, w_max=0.9), 0.3)
    pop = net.populations["post"]
    pos, neg = incoming_sums(pop, net)
    assert pos == pytest.approx([N_PRE * 0.9] * N_POST)
    assert neg.tolist() == ([0.0] * N_POST if mode == "excitatory" else pos.tolist())
    fixed = quantize(net, "loihi2")
    exp, scale = fixed.projections[0].weight_exp, fixed.populations["post"].scale
    pos, neg = incoming_register_sums(pop, net, scale, load_target("loihi2").numerics)
    assert pos.tolist() == [N_PRE * 255 * 2.0 ** (exp + 6)] * N_POST
    assert neg.tolist() == [N_PRE * (0 if mode == "excitatory" else 256) * 2.0 ** (exp + 6)] \
        * N_POST


@pytest.mark.parametrize("reward_weight", [0.5, 3.0, -1.7, 100.0])
def test_reward_rule_counts_reward_in_mantissas_and_retargets_the_tag(reward_weight):
    q = quantize(plastic_network(reward_stdp(reward_weight=reward_weight)), "loihi2")
    rule = q.projections[0].learning
    r = reward_scale(reward_weight)
    assert np.log2(r) == int(np.log2(r)) and 32 < abs(reward_weight) * r <= 64
    assert rule.reward_weight == round(reward_weight * r)
    products = rule.products()
    assert products["weights"] == [("u", 1, 0, ("t", "y2"))]
    gain = rule.weight_units * 32 / r
    for k, f in enumerate((-(2 ** -7), 2 ** -7)):
        assert value(products["tag_1"][k]) == value(("", *nearest_scaling(gain * f), ()))
    assert value(products["tag_1"][2]) == -0.25    # the tag's decay is relative: unchanged
    rep = q.report.learning[0]
    assert (rep.reward_scale, rep.reward_mantissa) == (r, round(reward_weight * r))
    assert rep.reward_range == 127 / r and rep.tag_range == 255 / gain


def learned_change(net: Network, pattern) -> tuple[np.ndarray, np.ndarray]:
    """Weight change of the float engine (model units) and of the fixed engine on the
    quantized network (mantissas / q), both fed the same spikes."""
    qnet = quantize(net, "loihi2")
    out = []
    for fixed in (None, qnet):
        runner = PlasticProjections(net, net.steps, fixed)
        for t in range(net.steps):
            runner.step(t, pattern(t))
        result = Result(spikes={})
        runner.finish(result)
        out.append(result.weights["p"])
    units = qnet.projections[0].learning.weight_units
    return out[0] - net.projections[0].weight, (out[1] - qnet.projections[0].weight_mant) / units


def pairings(t: int) -> dict[str, np.ndarray]:
    """Every 10 steps pre 0 spikes 2 steps before both posts, pre 1 two steps after them,
    and the reward neuron one step after the posts."""
    return {"src": np.array([t % 10 == 2, t % 10 == 6, False]),
            "post": np.array([t % 10 == 4] * N_POST), "reward": np.array([t % 10 == 5])}


@pytest.mark.parametrize("rule", [stdp(), reward_stdp(reward_tau=0.0)],
                         ids=["stdp", "reward_stdp"])
def test_fixed_engine_learns_q_times_what_the_float_engine_learns(rule):
    """Potentiated synapses (pre 0): the fixed change over 60 steps, in model units, is the
    float change times the realised/target ratio of the product, up to the stochastic
    rounding of traces and weights (a 9 % product error here: q·2^-7 = 1.10 realised as 1).
    Without the reward rule's ×32/r the fixed change would be 4 times too small."""
    net = plastic_network(rule)
    float_change, fixed_change = learned_change(net, pairings)
    product = [p for p in quantize(net, "loihi2").report.learning[0].products
               if p.term == "y0·x1"][0]
    assert float_change[0] > 0.15   # both grew, well within w_max: no clipping
    ratio = fixed_change[:2] / float_change[:2] / (product.realised / product.target)
    assert np.all(np.abs(ratio - 1) < 0.12), ratio
    assert np.all(fixed_change[4:] == 0)  # pre 2 never spiked


@pytest.mark.parametrize("rule", [stdp(learning_rate=0.3, a_minus=-0.5), stdp(w_max=1000.0),
                                  reward_stdp(learning_rate=0.01, reward_weight=-1.7)],
                         ids=["stdp", "stdp-vanishing", "reward_stdp"])
def test_lava_folds_the_fixed_parameters_to_the_chosen_scalings(rule):
    """Lava's own rule objects (no run) parse the fixed rule's learning_rate, a_minus, a_plus
    and eligibility decay into the scalings the quantization chose."""
    from lava.proc.learning_rules.r_stdp_learning_rule import RewardModulatedSTDP
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
    fixed = quantize(plastic_network(rule), "loihi2").projections[0].learning
    common = dict(learning_rate=fixed.learning_rate, A_plus=fixed.a_plus, A_minus=fixed.a_minus)
    if fixed.three_factor:
        lava = RewardModulatedSTDP(**common, pre_trace_decay_tau=5, post_trace_decay_tau=5,
                                   pre_trace_kernel_magnitude=16, post_trace_kernel_magnitude=16,
                                   eligibility_trace_decay_tau=fixed.eligibility_decay)
        series, ours = lava.active_product_series["dt"], fixed.products()["tag_1"]
    else:
        lava = STDPLoihi(**common, tau_plus=5, tau_minus=5)
        series, ours = lava.active_product_series["dw"], fixed.products()["weights"]
    theirs = {p.dependency: p.s_mantissa * 2.0 ** (p.s_exp - 7) for p in series.products
              if p.dependency != "u"}   # Lava drops a product whose scaling is 0
    assert [theirs.get(dep, 0.0) for dep in ("x0", "y0")] == [value(p) for p in ours[:2]]


def test_vanishing_and_distorted_products_are_warned():
    # w_max 1000: q ≈ 0.26 mantissas per model unit, so q · 2^-7 rounds to 0
    q = quantize(plastic_network(stdp(w_max=1000.0)), "loihi2")
    assert {d.code for d in q.report.warnings} >= {"NM617"}
    assert "VANISHES" in next(d.message for d in q.report.warnings if d.code == "NM617")
    # w_max 0.01: q·lr·a = q · 2 needs more than Lava's largest scalings, −8·2^8 and 7·2^8
    q = quantize(plastic_network(stdp(learning_rate=2.0, w_max=0.01), 0.005), "loihi2")
    off = [d.message for d in q.report.warnings if d.code == "NM618"]
    assert len(off) == 2 and "-2048 in fixed point" in off[0] and "1792 in" in off[1]
    assert not [d for d in quantize(plastic_network(stdp()), "loihi2").report.warnings
                if d.code in ("NM617", "NM618")]


def test_what_lavas_fixed_point_does_to_a_reward_rule_is_warned():
    codes = {d.code for d in quantize(plastic_network(reward_stdp()), "loihi2").report.warnings}
    assert not codes & {"NM619", "NM623"}
    # a negative reward is zeroed at a post spike in fixed point (Lava clips y to 0 … 127)
    punished = quantize(plastic_network(reward_stdp(reward_weight=-0.5)), "loihi2")
    assert "NM619" in {d.code for d in punished.report.warnings}
    # lr 0.5 with impulses 16: a pairing adds 8 to a tag that holds ±7.25 (9 bits at its scale)
    strong = quantize(plastic_network(reward_stdp(learning_rate=0.5)), "loihi2")
    message = next(d.message for d in strong.report.warnings if d.code == "NM623")
    assert "adds 8 to the eligibility tag" in message, message


def test_report_text_and_json_show_the_learning_rule():
    q = quantize(plastic_network(reward_stdp(learning_rate=0.01, post_impulse=16.5)),
                 "loihi2")
    text = q.report.text()
    assert "Lava rounds learning_rate 0.01 → 0.0078125" in text
    assert "fixed point rounds post_impulse 16.5 → 16" in text
    assert "tag_1 y0·x1" in text and "reward 64 mantissas a spike at 128 per model unit" in text
    doc = json.loads(dumps(q.report.to_dict()))
    (entry,) = doc["learning"]
    assert entry["rule"] == "reward_stdp" and len(entry["products"]) == 4
    assert entry["products"][1]["realised"] == entry["products"][1]["mantissa"] * 2.0 ** \
        entry["products"][1]["exponent"]
    assert "learning" not in quantize(plastic_network(None), "loihi2").report.to_dict()


MODEL = """format: nmcompile/v1
name: plastic
steps: 40
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
    learning: {rule: stdp, learning_rate: 0.3, a_plus: 1.0, a_minus: -1.0, tau_plus: 20.0,
               tau_minus: 20.0, w_max: 1.0}
  - name: in_exc_r
    pre: input
    post: exc
    connect: all_to_all
    weight: -0.2
    learning: {rule: reward_stdp, learning_rate: 0.25, a_plus: 1.0, a_minus: -1.0,
               tau_plus: 10.0, tau_minus: 20.0, sign: mixed, eligibility_decay: 0.5,
               reward: dopamine}
"""


def test_nmc_compile_reports_a_plastic_model_and_refuses_its_image(tmp_path: Path, capsys):
    model = tmp_path / "plastic.yaml"
    model.write_text(MODEL)
    assert main(["compile", str(model), "--json", str(tmp_path / "r.json"), "--report"]) == 0
    out = capsys.readouterr().out
    assert "Lava rounds learning_rate 0.3 → 0.25" in out and "learning_bits" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [rule["name"] for rule in doc["learning"]] == ["in_exc", "in_exc_r"]
    assert doc["mapping"]["learning"]["tags"] == 12
    assert main(["compile", str(model), "-o", str(tmp_path / "p.nmc")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{model}:10: projections[0]: projection in_exc: a chip image")
    assert "\n" not in err and not (tmp_path / "p.nmc").exists()
