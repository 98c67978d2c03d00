"""RewardLIF: nmcompile's LIF (NmcLIF, every LIF feature) that also sends a three-factor
learning connection the traces it needs (docs/design.md §10.2).

Lava's LearningLIF has the ports of a learning neuron but its models never send on them: a
RewardModulatedSTDP connection then reads y2 = 0 and never changes a weight, and connecting
its trace ports blocks the run. RewardLIF has the same ports and Vars as Lava's
LearningNeuronProcess (a_third_factor_in; s_out_bap, s_out_y1, s_out_y2, s_out_y3; y1, y2,
y3) on top of NmcLIF, whose models run the registers of Lava's LIF (float and bit-accurate)
exactly, so a population keeps its u, v and spikes when it becomes a reward post.
"""
from __future__ import annotations

from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.variable import Var

from nmcompile.backends.lava.processes.lif import NmcLIF


class RewardLIF(NmcLIF):
    """NmcLIF neurons sending, every step, their spikes and two traces (models.py):

    y1_tau, y1_impulse: the post trace y1 (decay time constant in steps, 0: no memory; what a
    spike adds), y2_tau: the reward trace y2 (steps), which adds the reward input received on
    a_third_factor_in (an ordinary Dense from the reward population). Other parameters: NmcLIF's.
    """

    def __init__(self, *, y1_tau: float, y1_impulse: float, y2_tau: float, **lif_params) -> None:
        super().__init__(**lif_params)
        shape = tuple(lif_params["shape"])
        self.proc_params["learning_rule"] = None  # Lava's LearningNeuronModel reads the key
        self.proc_params["y1_tau"] = float(y1_tau)
        self.proc_params["y1_impulse"] = float(y1_impulse)
        self.proc_params["y2_tau"] = float(y2_tau)
        self.a_third_factor_in = InPort(shape=shape)
        self.s_out_bap = OutPort(shape=shape)
        self.s_out_y1 = OutPort(shape=shape)
        self.s_out_y2 = OutPort(shape=shape)
        self.s_out_y3 = OutPort(shape=shape)
        self.y1 = Var(shape=shape, init=0)
        self.y2 = Var(shape=shape, init=0)
        self.y3 = Var(shape=shape, init=0)
