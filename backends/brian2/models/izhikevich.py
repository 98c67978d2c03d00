"""Izhikevich (2004) on Brian2 (DESIGN §2.6): the NeuronGroup of every Izhikevich population,
with or without an injected current.

The step is nmcompile.ir.izhikevich_step written as one binary float operation per statement,
so Brian2's sympy round trip cannot regroup a sum (`k1 * v` and `g * u` are formed on their
own, as the reference forms them before the addition that uses them):

    i_syn = i_syn * i_keep;  i_syn = i_syn + a_acc       i_keep = 1 - di (0.0 for tau_syn 0)
    drive = i_syn + bias;  drive = drive + c_ext(t, i)   the second only with a current
    q = v * v;  q = k0 * q;  q = q + k1·v;  q = q + k2;  q = q - u;  q = q + drive;  q = h * q
    v = v + q                                             v'
    x = v - v_b;  x = b * x;  x = x - g·u;  x = h_a * x   (v' here, u still the old u)
    u = u + x                                             u'

h = dt and h_a = dt·a are float64 numbers computed in Python, as the reference computes them
(Brian2's own dt is in seconds). The step runs in the `groups` slot, before the thresholder
(v' > v_peak) and the resetter (v = c, then u = u' + d), so probes at the end of the step see
the state after the reset, as the reference's.

The state variable i is `i_syn` in the group: Brian2 reserves `i` for the neuron index.
Every parameter is per neuron, so populations share a group whatever their parameters; the
group key is the model's kind, with `_current` for populations with an injected current.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from nmcompile.ir import Network, Population

from ..packing import injected_current, member_values

KIND = "izhikevich"
FEATURES = frozenset({"current"})
INPUT = "a_acc"   # synapses add their weights here; the step consumes and clears it
RENAMED = {"i": "i_syn"}

VARIABLES = """
v : 1
u : 1
i_syn : 1
a_acc : 1
i_keep : 1 (constant)
bias : 1 (constant)
b : 1 (constant)
c : 1 (constant)
d : 1 (constant)
k0 : 1 (constant)
k1 : 1 (constant)
k2 : 1 (constant)
v_b : 1 (constant)
g : 1 (constant)
v_peak : 1 (constant)
h : 1 (constant)
h_a : 1 (constant)
"""
INPUT_STEP = """
i_syn = i_syn * i_keep
i_syn = i_syn + a_acc
a_acc = 0
drive = i_syn + bias
"""
CURRENT_STEP = """
drive = drive + c_ext(t, i)
"""
V_U_STEP = """
q = v * v
q = k0 * q
k1_v = k1 * v
q = q + k1_v
q = q + k2
q = q - u
q = q + drive
q = h * q
v = v + q
x = v - v_b
x = b * x
g_u = g * u
x = x - g_u
x = h_a * x
u = u + x
"""
THRESHOLD = "v > v_peak"
RESET = """
v = c
u = u + d
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
    neurons.i_keep = values(lambda m: 1 - m.di(net.dt))  # the float the reference's (1 - di) is
    for name in ("bias", "b", "c", "d", "k0", "k1", "k2", "v_b", "g", "v_peak"):
        setattr(neurons, name, values(lambda m, name=name: getattr(m, name)))
    neurons.h = values(lambda m: net.dt)
    neurons.h_a = values(lambda m: net.dt * m.a)
    neurons.v = values(lambda m: m.v_init)
    neurons.u = np.concatenate([p.model.initial_u(p.size) for p in members])  # b·v_init default
    step = INPUT_STEP + (CURRENT_STEP if current else "") + V_U_STEP
    neurons.run_regularly(step, clock=clock, when="groups", name=f"{key}_step")
    return neurons
