"""Izhikevich and adaptive LIF through every front end: the model file, the builder and
save_model read the models' PARAMS tables; defaults and derived defaults (u_init = b·v_init)
mean what docs/design.md §2.6/§2.7 say."""
from __future__ import annotations

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.savemodel import save_model
from nmcompile.ir import AdaptiveLIF, Izhikevich, IzhikevichState


def _built() -> NetworkBuilder:
    b = NetworkBuilder("models", dt=0.25, steps=40, seed=3)
    b.poisson("stim", size=3, rate=200)
    b.izhikevich("rs", size=3, a=0.02, b=0.2, c=-65, d=8, v_init={"uniform": [-70, -60]},
                 bias=[1.0, 2.0, 3.0])
    b.adaptive_lif("ad", size=2, tau_syn=0.0, tau_mem=10.0, tau_theta=50.0, tau_r=5.0,
                   theta_0=1.0, theta_step=0.25, bias={"normal": [0.2, 0.05]})
    b.connect("stim", "rs", "all_to_all", weight=4.0, delay=2)
    b.connect("rs", "ad", "all_to_all", weight=0.5)
    b.probe("rs", "u")
    b.probe("ad", "theta")
    return b


def test_defaults_follow_the_paper():
    doc = {"format": "nmcompile/v1", "name": "n", "dt": 0.5,
           "populations": {"c": {"model": "izhikevich", "size": 2, "a": 0.1, "b": 0.2,
                                 "c": -65, "d": 2}}}
    m = load_document(doc).populations["c"].model
    assert (m.k0, m.k1, m.k2, m.v_b, m.g, m.v_peak, m.tau_syn) == (0.04, 5, 140, 0, 1, 30, 0)
    assert m.u_init is None and m.v_init == -65
    state = IzhikevichState.initial(m, 2)
    assert np.array_equal(state.u, [0.2 * -65, 0.2 * -65]) and np.array_equal(state.i, [0, 0])


def test_builder_draws_and_equals_its_file_twin(tmp_path):
    net = _built().build()
    rs, ad = net.populations["rs"].model, net.populations["ad"].model
    assert isinstance(rs, Izhikevich) and isinstance(ad, AdaptiveLIF)
    assert np.all((rs.v_init >= -70) & (rs.v_init <= -60)) and rs.v_init.shape == (3,)
    assert ad.bias.shape == (2,) and len(set(ad.bias.tolist())) == 2
    path = tmp_path / "models.yaml"
    save_model(net, path)
    again = load_model(path)
    assert again == net
    assert "u_init" not in path.read_text()  # the derived default stays derived


def test_u_init_given_per_neuron_round_trips(tmp_path):
    b = _built()
    b.doc["populations"]["rs"]["u_init"] = [-14.0, -13.0, -12.5]
    net = b.build()
    save_model(net, tmp_path / "m.yaml")
    assert np.array_equal(load_model(tmp_path / "m.yaml").populations["rs"].model.u_init,
                          [-14.0, -13.0, -12.5])


@pytest.mark.parametrize("change, message", [
    ({"v_peak": -70}, r"v_peak: must be above c \(-65\)"),
    ({"d": float("nan")}, r"d: must be a finite number"),
    ({"g": "one"}, r"g: must be a finite number"),
])
def test_builder_errors_are_located(change, message):
    b = _built()
    b.doc["populations"]["rs"].update(change)
    with pytest.raises(InputError, match=message):
        b.build()
