"""A projection's `learning:` mapping and the weight probes of `probes:` (docs/design.md §4.10).

The rule's own fields are read in `learning_rule`, while the projection is parsed; what needs
its synapses (dense, delay 1, the sign and w_max against the initial weights) in
`check_plastic` once they are drawn, and what needs every projection (reward rules into one
post population share its reward post process) in `check_shared_posts`. `learning_doc` is the
way back, for save_model and the builder.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from nmcompile.frontends.modelfile.fields import (integer, number, positive_number, shown,
                                                  unknown_name)
from nmcompile.frontends.modelfile.neuronparams import choice
from nmcompile.frontends.modelfile.yamlmarks import Source, path_text
from nmcompile.ir import MAX_STEPS, Population, Projection, WeightProbe
from nmcompile.ir.learning import RULES, SIGNS, TRACE_MAX, RewardSTDP, LearningRule, scaling

REQUIRED = ["rule", "learning_rate", "a_plus", "a_minus", "tau_plus", "tau_minus"]
OPTIONAL = ["pre_impulse", "post_impulse", "t_epoch", "sign", "w_max", "seed"]
REWARD_REQUIRED = ["eligibility_decay", "reward"]
REWARD_OPTIONAL = ["reward_weight", "reward_tau"]
KEYS = {"stdp": REQUIRED + OPTIONAL,
        "reward_stdp": REQUIRED + REWARD_REQUIRED + REWARD_OPTIONAL + OPTIONAL}
T_EPOCH = (1, 63)          # Lava's t_epoch: 6 bits on the chip
SEED = (1, 2**31 - 9)      # Lava's rng_seed: seeds s … s+3 name its generators (int32)
# what reward rules into one post population must agree on: its reward post process
# (nmcompile's RewardLIF, docs/design.md §10.2) holds one post trace and one reward trace
SHARED_BY_POST = ("tau_minus", "post_impulse", "reward", "reward_weight", "reward_tau")
WEIGHT_PROBE_KEYS = ["projection", "every"]
WHY_DENSE = "Lava's LearningDense learns every entry of its dense weight matrix"


def learning_rule(raw: object, path, pops: dict[str, Population], src: Source) -> LearningRule:
    """The rule of one `learning:` mapping, every field checked on its own and Lava's m·2^e
    rounding of its products tried (docs/design.md §10.1)."""
    if not isinstance(raw, dict):
        raise src.fail(path, f"must be a mapping with {', '.join(REQUIRED)}, got {shown(raw)}")
    if "rule" not in raw:
        raise src.fail(path, "missing required key 'rule'")
    kind = choice(raw["rule"], tuple(RULES), path + ("rule",), src)
    if kind == "stdp":
        for key in raw:
            if key in REWARD_REQUIRED + REWARD_OPTIONAL:
                raise src.fail(path + (key,), f"{key} is a key of rule reward_stdp; rule stdp "
                                              f"has no reward")
    required = REQUIRED + (REWARD_REQUIRED if kind == "reward_stdp" else [])
    src.check_keys(raw, path, KEYS[kind], required=required)
    at = lambda key: path + (key,)  # noqa: E731
    values = {key: number(raw[key], at(key), src) for key in ("learning_rate", "a_plus",
                                                                "a_minus")}
    for key in ("tau_plus", "tau_minus"):
        values[key] = positive_number(raw[key], at(key), src)
    for key in ("pre_impulse", "post_impulse"):
        if key in raw:
            values[key] = bounded(raw[key], at(key), src, 0, TRACE_MAX,
                                  f" (traces are {TRACE_MAX.bit_length()} bits on the chip)")
    if "t_epoch" in raw:
        values["t_epoch"] = integer(raw["t_epoch"], at("t_epoch"), src, minimum=T_EPOCH[0],
                                    maximum=T_EPOCH[1])
    if "sign" in raw:
        values["sign"] = choice(raw["sign"], SIGNS, at("sign"), src)
    if "w_max" in raw:
        values["w_max"] = positive_number(raw["w_max"], at("w_max"), src)
    if "seed" in raw:
        values["seed"] = integer(raw["seed"], at("seed"), src, minimum=SEED[0], maximum=SEED[1])
    for key, factor in (("a_plus", values["a_plus"]), ("a_minus", values["a_minus"])):
        try:
            scaling(values["learning_rate"], factor)
        except ValueError as exc:
            raise src.fail(at("learning_rate"), f"learning_rate × {key} cannot be Lava's "
                                                f"scaling: {exc}") from None
    if kind == "stdp":
        return RULES[kind](**values)
    values["eligibility_decay"] = bounded(raw["eligibility_decay"], at("eligibility_decay"),
                                          src, 0, 1, " (the fraction of the tag removed per "
                                                     "epoch)")
    try:
        scaling(values["eligibility_decay"], sign=-1)
    except ValueError as exc:
        raise src.fail(at("eligibility_decay"), f"cannot be Lava's scaling: {exc}") from None
    reward = raw["reward"]
    if not isinstance(reward, str) or reward not in pops:
        raise src.fail(at("reward"), unknown_name("population", reward, pops))
    values["reward"] = reward
    if "reward_weight" in raw:
        values["reward_weight"] = number(raw["reward_weight"], at("reward_weight"), src)
        if values["reward_weight"] == 0:
            raise src.fail(at("reward_weight"), "must be a nonzero number (0: the reward would "
                                                "never reach the weights)")
    if "reward_tau" in raw:
        values["reward_tau"] = positive_number(raw["reward_tau"], at("reward_tau"), src,
                                               allow_zero=True)
    return RULES[kind](**values)


def bounded(x: object, path, src: Source, low: float, high: float, why: str = "") -> float:
    value = number(x, path, src)
    if not low <= value <= high:
        raise src.fail(path, f"must be a number from {low:g} to {high:g}{why}, got {shown(x)}")
    return value + 0.0  # -0.0 is 0


def check_plastic(proj: Projection, item: dict, path, pops: dict[str, Population],
                  src: Source) -> None:
    """A plastic projection's synapses and post population, as Lava's LearningDense and
    nmcompile's reward post process need them."""
    rule = proj.learning
    pre, post = pops[proj.pre], pops[proj.post]
    if proj.n_synapses != pre.size * post.size:
        raise src.fail(path + ("connect",), f"a projection with learning must be dense, every "
                                            f"(pre, post) pair present ({WHY_DENSE}): "
                                            f"{proj.name} has {proj.n_synapses:,} of "
                                            f"{pre.size:,} × {post.size:,} synapses")
    if proj.n_synapses and proj.delay.max() != 1:
        k = int(np.argmax(proj.delay != 1))
        raise src.fail(path + (("delay",) if "delay" in item else ("connect",)),
                       f"a projection with learning must have delay 1 (Lava's "
                       f"LearningDense has no delays): synapse {proj.pre_idx[k]} -> "
                       f"{proj.post_idx[k]} of {proj.name} has delay {proj.delay[k]}")
    if isinstance(rule, RewardSTDP) and (post.model.kind != "lif" or post.model.features()):
        used = ", ".join(post.model.features().values()) or f"model {post.model.kind}"
        raise src.fail(path + ("post",), f"reward_stdp needs a plain LIF post population (its "
                                         f"reward post process is built on Lava's LIF); "
                                         f"{post.name} has {used}")
    learning = path + ("learning",)
    bound = {"excitatory": (proj.weight < 0, "< 0"), "inhibitory": (proj.weight > 0, "> 0")}
    if rule.sign in bound and bound[rule.sign][0].any():
        k = int(np.argmax(bound[rule.sign][0]))
        raise src.fail(learning + ("sign",), f"{rule.sign}, but synapse {proj.pre_idx[k]} -> "
                                             f"{proj.post_idx[k]} has initial weight "
                                             f"{float(proj.weight[k])!r} {bound[rule.sign][1]}")
    if rule.w_max is not None and proj.n_synapses:
        k = int(np.argmax(np.abs(proj.weight)))
        if abs(proj.weight[k]) > rule.w_max:
            raise src.fail(learning + ("w_max",), f"must be ≥ the largest |initial weight|, "
                                                  f"{float(abs(proj.weight[k]))!r} (synapse "
                                                  f"{proj.pre_idx[k]} -> {proj.post_idx[k]}), "
                                                  f"got {rule.w_max!r}")


def check_shared_posts(plastic: list[tuple[Projection, tuple]], src: Source) -> None:
    """Reward rules into one post population agree on what its reward post process holds;
    `plastic`: (projection, its path) in file order, the first of a post population rules."""
    first: dict[str, tuple[Projection, tuple]] = {}
    for proj, path in plastic:
        if not isinstance(proj.learning, RewardSTDP):
            continue
        if proj.post not in first:
            first[proj.post] = (proj, path)
            continue
        other, other_path = first[proj.post]
        line = src.line(other_path)  # a builder's document has no lines
        for key in SHARED_BY_POST:
            mine, theirs = getattr(proj.learning, key), getattr(other.learning, key)
            if mine != theirs:
                raise src.fail(path + ("learning", key),
                               f"{mine!r}, but reward_stdp projection {other.name} into "
                               f"{proj.post} has {theirs!r} "
                               f"({f'line {line}' if line else path_text(other_path)}): "
                               f"the reward rules into one population share its post trace "
                               f"and reward trace, so {', '.join(SHARED_BY_POST)} must agree")


def weight_probe(spec: dict, path, projs: dict[str, Projection], src: Source) -> WeightProbe:
    """One `{projection, every}` entry of `probes:`."""
    if "population" in spec:
        raise src.fail(path, "a probe records a population's state ({population, var}) or a "
                             "projection's weights ({projection, every}), not both")
    src.check_keys(spec, path, WEIGHT_PROBE_KEYS, required=WEIGHT_PROBE_KEYS)
    name = spec["projection"]
    if not isinstance(name, str) or name not in projs:
        raise src.fail(path + ("projection",), unknown_name("projection", name, projs))
    if not projs[name].plastic:
        raise src.fail(path + ("projection",), f"{name} has no learning rule: its weights do "
                                               f"not change")
    every = integer(spec["every"], path + ("every",), src, minimum=1, maximum=MAX_STEPS)
    return WeightProbe(projection=name, every=every, location=src.location(path))


def learning_doc(rule: LearningRule) -> dict:
    """A rule as the model file writes it: `rule`, then every field that is set."""
    out: dict = {"rule": rule.kind}
    for f in fields(rule):
        value = getattr(rule, f.name)
        if value is not None:
            out[f.name] = value.item() if isinstance(value, np.generic) else value
    return out
