"""Acceptance: the mapping never changes what the chip computes (emulator spikes)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from nmcompile.frontends.modelfile import load_model
from nmcompile.passes.mapping.image import read_image, write_image
from nmcompile.passes.mapping.pipeline import compile_network, emulator_run
from nmcompile.targets import load_target

EXAMPLES = Path(__file__).parents[3] / "examples"


@pytest.mark.parametrize("model", ["recurrent_ei.yaml", "grid.yaml"])
def test_targets_differing_only_in_neurons_per_core_give_identical_spikes(model, tmp_path):
    net = load_model(EXAMPLES / model)
    base = load_target("loihi2")  # two chips, so 1 neuron per core fits grid's 144 neurons
    base = replace(base, resources=replace(base.resources, chips=2))
    results, cores = [], []
    for npc in (1, 3, 16, base.resources.neurons_per_core):
        target = replace(base, resources=replace(base.resources, neurons_per_core=npc))
        compiled = compile_network(net, target)
        cores.append(compiled.mapping.cores.size)
        path = tmp_path / f"{npc}.nmc"
        write_image(str(path), compiled.qnet, compiled.mapping)
        results.append(emulator_run(read_image(str(path)).qnet, net.steps))
    assert cores[0] == sum(p.size for p in net.neuron_populations()) and cores[-1] == 1
    assert sum(len(t) for t, _ in results[0].spikes.values()) > 0
    for other in results[1:]:
        for pop, (t, n) in results[0].spikes.items():
            assert np.array_equal(t, other.spikes[pop][0])
            assert np.array_equal(n, other.spikes[pop][1])
