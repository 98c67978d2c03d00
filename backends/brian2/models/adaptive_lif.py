"""Adaptive LIF (Lava's ATRLIF) on Brian2 (DESIGN §2.7): the NeuronGroup of every adaptive
population, with or without an injected current.

The step is nmcompile.ir.adaptive_lif_step (Lava's PyATRLIFModelFloat) written as one binary
float operation per statement, so Brian2's sympy round trip cannot regroup a sum:

    b = bias + c_ext(t, i)                       only with a current; without one, b is bias
    i_syn = i_keep * i_syn;  i_syn = i_syn + a_acc
    v = v_keep * v;  v = v + i_syn;  v = v + b   ((1-dv)·v + i) + b
    theta_rel = theta - theta_0;  theta_rel = theta_keep * theta_rel;  theta = theta_rel + theta_0
    r = r_keep * r

Each keep = 1 - delta is computed in Python from the float delta = 1 - exp(-dt/tau): the very
float Lava's `(1 - delta)` gives each step. The step runs in the `groups` slot, before the
thresholder ((v - r) >= theta) and the resetter (r = r + 2·theta, then theta = theta +
theta_step, in that order: r takes the threshold of this step), so probes at the end of the
step see the state after the reset, as the reference's.

The state variable i is `i_syn` in the group: Brian2 reserves `i` for the neuron index.
Every parameter is per neuron, so populations share a group whatever their parameters; the
group key is the model's kind, with `_current` for populations with an injected current.
"""
from __future__ import annotations

from functools import partial

from nmcompile.ir import Network, Population

from ..packing import injected_current, member_values

KIND = "adaptive_lif"
FEATURES = frozenset({"current"})
INPUT = "a_acc"   # synapses add their weights here; the step consumes and clears it
RENAMED = {"i": "i_syn"}

VARIABLES = """
i_syn : 1
v : 1
theta : 1
r : 1
a_acc : 1
i_keep : 1 (constant)
v_keep : 1 (constant)
theta_keep : 1 (constant)
r_keep : 1 (constant)
theta_0 : 1 (constant)
theta_step : 1 (constant)
bias : 1 (constant)
"""
CURRENT_STEP = """
b = bias + c_ext(t, i)
"""
STEP = """
i_syn = i_keep * i_syn
i_syn = i_syn + a_acc
a_acc = 0
v = v_keep * v
v = v + i_syn
v = v + {b}
theta_rel = theta - theta_0
theta_rel = theta_keep * theta_rel
theta = theta_rel + theta_0
r = r_keep * r
"""
KEEPS = ("i_keep", "v_keep", "theta_keep", "r_keep")   # 1 - each of AdaptiveLIF.decays(dt)
THRESHOLD = "v - r >= theta"
RESET = """
r = r + 2 * theta
theta = theta + theta_step
"""


def group_key(pop: Population, net: Network) -> str:
    return KIND + ("_current" if net.has_current(pop.name) else "")


def neuron_group(key: str, members: list[Population], net: Network, steps: int, clock):
    """One NeuronGroup for `members` (all with a current or all without), with its step in the
    `groups` slot of `clock`."""
    import brian2 as b2

    current = net.has_current(members[0].name)
    namespace = {"c_ext": injected_current(key, members, net, steps)} if current else {}
    neurons = b2.NeuronGroup(sum(p.size for p in members), VARIABLES, threshold=THRESHOLD,
                             reset=RESET, clock=clock, namespace=namespace, name=key)
    values = partial(member_values, members)
    for k, keep in enumerate(KEEPS):
        setattr(neurons, keep, values(lambda m, k=k: 1 - m.decays(net.dt)[k]))
    neurons.theta_0 = values(lambda m: m.theta_0)
    neurons.theta_step = values(lambda m: m.theta_step)
    neurons.bias = values(lambda m: m.bias)
    neurons.theta = values(lambda m: m.theta_0)     # i, v, r start at 0
    step = (CURRENT_STEP if current else "") + STEP.format(b="b" if current else "bias")
    neurons.run_regularly(step, clock=clock, when="groups", name=f"{key}_step")
    return neurons
