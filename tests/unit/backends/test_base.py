"""Capabilities per model and per feature: a population is refused by name for the model or
the feature its backend lacks, before anything runs, on every registered backend."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from nmcompile.backends import Backend, Capabilities, get_backend
from nmcompile.ir import LIF, Current, Network, Population, Poisson, Probe

BACKENDS = ["brian2", "lava", "lava-fixed", "emulator"]
LIF_FEATURES = {"refractory", "reset_subtract", "non_spiking", "current"}


def _net(current: bool = False, **lif) -> Network:
    params = dict(tau_syn=5.0, tau_mem=10.0, v_th=1.0) | lif
    pops = {"src": Population(name="src", size=2, model=Poisson(rate=np.full(2, 10.0))),
            "n": Population(name="n", size=3, model=LIF(**params))}
    currents = (Current(population="n", kind="steps", points=np.array([[0.0, 0.1]])),) \
        if current else ()
    return Network(name="caps", populations=pops, currents=currents, steps=10)


class _Limited(Backend):
    """A backend that runs LIF with refractory periods only: what check() refuses is decided
    by Capabilities alone, whatever the backend."""

    name = "limited"
    capabilities = Capabilities(models={"lif": frozenset({"refractory"}),
                                        "poisson": frozenset()})

    def run(self, model, steps, *, options):
        raise AssertionError("check() must refuse before anything runs")


def test_models_name_the_features_they_use():
    assert LIF(tau_syn=1.0, tau_mem=1.0, v_th=1.0).features() == {}
    assert LIF(tau_syn=1.0, tau_mem=1.0, v_th=1.0, refractory=3).features() == {
        "refractory": "refractory 3 > 0"}
    assert set(LIF(tau_syn=0.0, tau_mem=1.0, v_th=float("inf"), reset="subtract",
                   refractory=1, bias=np.ones(2)).features()) == {
        "refractory", "reset_subtract", "non_spiking"}
    assert Poisson(rate=np.zeros(1)).features() == {}


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_runs_every_model_and_feature(name):
    caps = get_backend(name).capabilities
    assert set(caps.models) == {"lif", "izhikevich", "adaptive_lif", "poisson", "spike_array"}
    assert all(isinstance(features, frozenset) for features in caps.models.values())
    assert caps.models["lif"] == LIF_FEATURES
    assert caps.models["izhikevich"] == caps.models["adaptive_lif"] == {"current"}
    assert get_backend(name).check(_net(True, refractory=2, reset="subtract",
                                        v_th=float("inf"))) == []


@pytest.mark.parametrize("lif, current, said", [
    ({"reset": "subtract"}, False, "reset: subtract"),
    ({"v_th": float("inf")}, False, "v_th: .inf (a non-spiking neuron)"),
    ({}, True, "an injected current"),
])
def test_a_feature_the_backend_lacks_is_refused_by_population(lif, current, said):
    problems = _Limited().check(_net(current, refractory=2, **lif))
    assert [(d.code, d.message) for d in problems] == [
        ("NM402", f"population n: {said} is not supported by backend limited")]
    assert _Limited().check(_net(refractory=2)) == []


def test_a_model_the_backend_lacks_is_refused_by_population():
    backend = _Limited()
    backend.capabilities = Capabilities(models={"poisson": frozenset()})
    assert [(d.code, d.message) for d in backend.check(_net())] == [
        ("NM401", "population n: model 'lif' is not supported by backend limited")]


@pytest.mark.parametrize("name", BACKENDS)
def test_a_probe_of_no_state_variable_is_refused_by_name(name):
    net = _net(False)
    pop = next(p for p in net.populations.values() if not p.is_source)
    net = replace(net, probes=(Probe(population=pop.name, var="theta"),))
    [problem] = get_backend(name).check(net)
    assert problem.code == "NM404"
    assert f"probe {pop.name}.theta" in problem.message and "(u, v)" in problem.message
