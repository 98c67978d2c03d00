"""Every plastic projection of a network, stepped by a backend after each step's spikes.

A backend that is not Lava runs its neurons and ordinary synapses itself and hands the
plastic projections to this runner: after the neurons of 0-based step t have spiked, `step`
takes the spikes of that step and returns, per post population, the input its plastic
projections deliver at step t + 1 (IR delay 1, computed with the weights before this step's
learning, as Lava's LearningDense does), then runs the learning epoch when step t ends one.
Float: model units, Lava's float model; fixed point (`qnet` given): the sums of mantissas
shifted by weight_exp, to be added to the input register as any synapse's, Lava's
bit-approximate model.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nmcompile.ir import Network, QuantizedNetwork, lava_rule
from nmcompile.result import Result

from .connection import LearningConnection
from .reward_post import RewardTraces


class PlasticProjections:
    """The learning connections of `net` (fixed point when `qnet` is given), run for `steps`."""

    def __init__(self, net: Network, steps: int, qnet: QuantizedNetwork | None = None):
        self.net, self.steps, self.fixed = net, steps, qnet is not None
        fixed = {p.name: p for p in qnet.projections} if qnet is not None else {}
        self.connections: dict[str, LearningConnection] = {}
        self.order: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.rewarded: dict[str, RewardTraces] = {}
        self.plastic = net.plastic_projections()  # step runs them in this order, every step
        for proj in self.plastic:
            pre, post = net.populations[proj.pre], net.populations[proj.post]
            dense = np.zeros((post.size, pre.size), np.int64 if self.fixed else float)
            if self.fixed:
                fp = fixed[proj.name]
                rule = fp.learning
                dense[proj.post_idx, proj.pre_idx] = fp.weight_mant
                options = {"num_weight_bits": fp.num_weight_bits, "weight_exp": fp.weight_exp}
            else:
                rule = lava_rule(proj.learning, net.dt, net.seed, proj.name, proj.weight)
                dense[proj.post_idx, proj.pre_idx] = proj.weight
                options = {}
            self.connections[proj.name] = LearningConnection(rule, dense, fixed=self.fixed,
                                                             steps=steps, **options)
            self.order[proj.name] = (proj.post_idx, proj.pre_idx)
            if rule.three_factor and proj.post not in self.rewarded:
                self.rewarded[proj.post] = RewardTraces(
                    rule, post.size, net.populations[rule.reward].size, fixed=self.fixed)
        self.reward_of = {p.post: p.learning.reward for p in self.plastic
                          if p.learning.three_factor}
        self.probes = {p.projection: p.every for p in net.weight_probes}
        self.samples: dict[str, list[np.ndarray]] = {name: [] for name in self.probes}
        self.posts = list(dict.fromkeys(p.post for p in self.plastic))
        self.populations = set(self.posts) | set(self.reward_of.values()) | {
            p.pre for p in self.plastic}

    def __bool__(self) -> bool:
        return bool(self.connections)

    def step(self, t: int, spikes: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Step t (0-based) has spiked: the plastic input of every post population at t + 1."""
        lava_t = t + 1
        received = {post: traces.step(spikes[post], spikes[self.reward_of[post]])
                    for post, traces in self.rewarded.items()}
        inputs: dict[str, np.ndarray] = {}
        for proj in self.plastic:
            conn = self.connections[proj.name]
            a_out = conn.spike_phase(lava_t, spikes[proj.pre], spikes[proj.post],
                                     received.get(proj.post))
            inputs[proj.post] = a_out if proj.post not in inputs else inputs[proj.post] + a_out
            if lava_t % conn.epoch == 0:
                conn.learn(lava_t)
            every = self.probes.get(proj.name)
            if every and lava_t % every == 0:
                self.samples[proj.name].append(self.weights(proj.name))
        return inputs

    def weights(self, name: str) -> np.ndarray:
        """A projection's weights now, in its synapse order."""
        post_idx, pre_idx = self.order[name]
        return self.connections[name].weights[post_idx, pre_idx].copy()

    def finish(self, result: Result) -> None:
        """Learned weights and weight samples into the result (fixed: mantissas, with the
        mantissas per model unit in meta["weight_scale"])."""
        for name in self.connections:
            result.weights[name] = self.weights(name)
        for name, samples in self.samples.items():
            size = self.order[name][0].size
            result.weight_traces[name] = (np.stack(samples) if samples else np.zeros(
                (0, size), result.weights[name].dtype))
        if self.fixed:
            result.meta["weight_scale"] = {name: conn.rule.weight_units
                                           for name, conn in self.connections.items()}
