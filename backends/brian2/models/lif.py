"""LIF on Brian2 (DESIGN §2.2, §2.5): the NeuronGroup of every LIF population of one variant.

The step is nmcompile.ir.lif_step (Lava's float order of operations) written as one binary
float operation per statement, so Brian2's sympy round trip cannot regroup a sum:

    u = u * u_keep;  u = u + a_acc                       u_keep = 1 - du, the very float Lava
                                                         computes (0.0 for tau_syn 0)
    b = bias + c_ext(t, i)                               only with an injected current;
                                                         without one, b is `bias` itself
    r = 0:  v = v * v_keep;  v = v + u;  v = v + b       ((v·(1-dv) + u) + b)
    r ≥ 1:  u_bias = u + b, masked to 0 while refractory;  v = v * v_keep;  v = v + u_bias

While refractory (the r steps after a spike, counted down by ref_left) v is held. With
reset to zero the held v is 0, and 0 * v_keep + 0 is 0 again: the statements of Lava's
refractory model. With reset by subtraction the held v is v - v_th > 0, so v is multiplied
by 1 instead of v_keep (v_scale), and the threshold asks `free` too, as the oracle masks
spikes by it: the step stores it, since by threshold time ref_left has counted down to 0
in the last held step. v_th inf is an ordinary per-neuron value: `v > v_th` is never true.

The variant (refractory or not, reset, current or not) is the group key: populations of one
variant share a NeuronGroup with per-neuron parameters (bias, u_init, v_init, decays,
thresholds, refractory periods).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from nmcompile.ir import Network, Population

from ..packing import injected_current, member_values

KIND = "lif"
FEATURES = frozenset({"refractory", "reset_subtract", "non_spiking", "current"})
INPUT = "a_acc"   # synapses add their weights here; the step consumes and clears it
RENAMED: dict[str, str] = {}   # u and v are free names in Brian2

VARIABLES = """
u : 1
v : 1
a_acc : 1
u_keep : 1 (constant)
v_keep : 1 (constant)
bias : 1 (constant)
v_th : 1 (constant)
"""
REFRACTORY_VARIABLES = """
ref_steps : integer (constant)
ref_left : integer
"""
FREE_VARIABLE = """
free : integer
"""
INPUT_STEP = """
u = u * u_keep
u = u + a_acc
a_acc = 0
"""
CURRENT_STEP = """
b = bias + c_ext(t, i)
"""
# v = v·(1-dv) + u + b, evaluated left to right (PyLifModelFloat.subthr_dynamics)
V_STEP = """
v = v * v_keep
v = v + u
v = v + {b}
"""
# v = v·(1-dv) + (u + b) for free neurons (PyLifRefractoryModelFloat); a held v is 0
V_REFRACTORY_STEP = """
u_bias = u + {b}
u_bias = u_bias * int(ref_left == 0)
v = v * v_keep
v = v + u_bias
ref_left = ref_left - int(ref_left > 0)
"""
# the same for a held v that is not 0: v·1 + 0 keeps it exactly (v > 0 after a subtraction)
V_REFRACTORY_SUBTRACT_STEP = """
free = int(ref_left == 0)
u_bias = u + {b}
u_bias = u_bias * free
v_scale = v_keep * free
v_scale = v_scale + int(ref_left > 0)
v = v * v_scale
v = v + u_bias
ref_left = ref_left - int(ref_left > 0)
"""


@dataclass(frozen=True)
class Variant:
    """What changes the statements of a group; everything else is a per-neuron value."""

    refractory: bool
    subtract: bool
    current: bool

    @property
    def name(self) -> str:
        return KIND + "".join(f"_{flag}" for flag, on in (
            ("refractory", self.refractory), ("subtract", self.subtract),
            ("current", self.current)) if on)

    def variables(self) -> str:
        out = VARIABLES
        if self.refractory:
            out += REFRACTORY_VARIABLES
            if self.subtract:
                out += FREE_VARIABLE
        return out

    def step(self) -> str:
        out = INPUT_STEP
        b = "bias"
        if self.current:
            out += CURRENT_STEP
            b = "b"
        if not self.refractory:
            template = V_STEP
        else:
            template = V_REFRACTORY_SUBTRACT_STEP if self.subtract else V_REFRACTORY_STEP
        return out + template.format(b=b)

    def threshold(self) -> str:
        return "v > v_th and free == 1" if self.refractory and self.subtract else "v > v_th"

    def reset(self) -> str:
        out = "v = v - v_th" if self.subtract else "v = 0"
        return out + ("\nref_left = ref_steps" if self.refractory else "")


def variant(pop: Population, net: Network) -> Variant:
    return Variant(refractory=pop.model.refractory > 0, subtract=pop.model.reset == "subtract",
                   current=net.has_current(pop.name))


def group_key(pop: Population, net: Network) -> str:
    return variant(pop, net).name


def neuron_group(key: str, members: list[Population], net: Network, steps: int, clock):
    """One NeuronGroup for `members` (all of variant `key`), with its step in the `groups`
    slot of `clock`."""
    import brian2 as b2

    spec = variant(members[0], net)
    size = sum(p.size for p in members)
    namespace = {"c_ext": injected_current(key, members, net, steps)} if spec.current else {}
    neurons = b2.NeuronGroup(size, spec.variables(), threshold=spec.threshold(),
                             reset=spec.reset(), clock=clock, namespace=namespace, name=key)
    values = partial(member_values, members)
    neurons.u_keep = values(lambda m: 1 - m.du(net.dt))  # the very floats Lava's (1 - du) gives
    neurons.v_keep = values(lambda m: 1 - m.dv(net.dt))
    neurons.bias = values(lambda m: m.bias)
    neurons.v_th = values(lambda m: m.v_th)
    neurons.u = values(lambda m: m.u_init)
    neurons.v = values(lambda m: m.v_init)
    if spec.refractory:
        neurons.ref_steps = np.concatenate([np.full(p.size, p.model.refractory) for p in members])
    neurons.run_regularly(spec.step(), clock=clock, when="groups", name=f"{key}_step")
    return neurons
