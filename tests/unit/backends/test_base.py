"""Capabilities per model and per feature: a population is refused by name for the model or
the feature its backend lacks, before anything runs, on every registered backend."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile.backends import get_backend
from nmcompile.ir import LIF, Network, Population, Poisson

BACKENDS = ["brian2", "lava", "lava-fixed", "emulator"]


def _net(refractory: int) -> Network:
    pops = {"src": Population(name="src", size=2, model=Poisson(rate=np.full(2, 10.0))),
            "n": Population(name="n", size=3, model=LIF(tau_syn=5.0, tau_mem=10.0, v_th=1.0,
                                                          refractory=refractory))}
    return Network(name="caps", populations=pops, projections=(), probes=(), steps=10)


def test_models_name_the_features_they_use():
    assert LIF(tau_syn=1.0, tau_mem=1.0, v_th=1.0).features() == {}
    assert LIF(tau_syn=1.0, tau_mem=1.0, v_th=1.0, refractory=3).features() == {
        "refractory": "refractory 3 > 0"}
    assert Poisson(rate=np.zeros(1)).features() == {}


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_declares_features_per_model(name):
    caps = get_backend(name).capabilities
    assert set(caps.models) == {"lif", "poisson", "spike_array"}
    assert all(isinstance(features, frozenset) for features in caps.models.values())


@pytest.mark.parametrize("name", BACKENDS)
def test_a_feature_the_backend_lacks_is_refused_by_population(name):
    backend = get_backend(name)
    problems = backend.check(_net(refractory=2))
    if "refractory" in backend.capabilities.models["lif"]:
        assert problems == []
    else:
        assert [(d.code, d.message) for d in problems] == [
            ("NM402", f"population n: refractory 2 > 0 is not supported by backend {name}")]
    assert backend.check(_net(refractory=0)) == []
