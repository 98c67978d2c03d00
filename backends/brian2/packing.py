"""What every model's NeuronGroup needs to hold several populations one after the other: one
value per neuron of a parameter, and the members' injected currents as one TimedArray."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nmcompile.ir import Network, Population
from nmcompile.ir.models import per_neuron


def member_values(members: list[Population], of: Callable) -> np.ndarray:
    """`of(model)` of every member (a scalar or one value per neuron), one value per neuron
    of the group."""
    return np.concatenate([per_neuron(of(p.model), p.size) for p in members])


def injected_current(key: str, members: list[Population], net: Network, steps: int):
    """c_ext(t, i) of group `key`: each member's current (Network.current) in its columns.

    Brian2 reads row round(t / dt) at time t = step·dt (TimedArray upsamples its dt 8 times
    and rounds to the nearest sub-step), so the step of IR step t reads row t."""
    import brian2 as b2

    values = np.empty((steps, sum(p.size for p in members)))
    start = 0
    for pop in members:
        values[:, start:start + pop.size] = net.current(pop.name, steps)
        start += pop.size
    return b2.TimedArray(values, dt=net.dt * b2.ms, name=f"{key}_c_ext")
