"""The Python builder gives the very network its model-file twin gives, with the same checks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.builder import NetworkBuilder
from nmcompile.frontends.modelfile import load_model

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def wta_builder() -> NetworkBuilder:
    b = NetworkBuilder("winner-take-all", dt=1.0, steps=300, seed=7)
    stim = b.poisson("stim", size=4, rate=np.array([20, 20, 200, 20]))
    exc = b.lif("exc", size=4, tau_syn=4.0, tau_mem=20.0, v_th=1.0, bias=0.0)
    inh = b.lif("inh", size=1, tau_syn=2.0, tau_mem=10.0, v_th=0.5)
    b.connect(stim, exc, "one_to_one", weight=0.5, delay=1, name="stim_exc")
    b.connect(exc, inh, "all_to_all", weight=0.6, delay=1, name="exc_inh")
    b.connect(inh, exc, "all_to_all", weight=np.float64(-1.2), delay=np.int64(1), name="inh_exc")
    b.probe(exc, "v")
    return b


def test_builder_equals_wta_file():
    assert wta_builder().build() == load_model(str(EXAMPLES / "wta.yaml"))


def test_builder_equals_recurrent_ei_file():
    b = NetworkBuilder("recurrent-ei", steps=300, seed=42)
    bg = b.poisson("background", size=50, rate=40)
    e = b.lif("E", size=80, tau_syn=5.0, tau_mem=20.0, v_th=1.0)
    i = b.lif("I", size=20, tau_syn=3.0, tau_mem=10.0, v_th=1.0)
    b.connect(bg, e, {"fixed_probability": 0.2}, weight=0.3, name="bg_E")
    b.connect(bg, i, {"fixed_probability": 0.2}, weight=0.15, name="bg_I")
    b.connect(e, e, {"fixed_probability": 0.1}, allow_self=False, name="E_E",
              weight={"uniform": [0.05, 0.15]}, delay={"uniform_int": [1, 5]})
    b.connect(e, i, {"fixed_probability": 0.2}, weight=0.2, delay=2, name="E_I")
    b.connect(i, e, {"fixed_probability": 0.3}, weight={"uniform": [-0.6, -0.3]}, name="I_E")
    b.connect(i, i, {"fixed_probability": 0.2}, allow_self=False, weight=-0.3, delay=3,
              name="I_I")
    b.probe(e, "v")
    b.probe(i, "u")
    assert b.build() == load_model(str(EXAMPLES / "recurrent_ei.yaml"))


def test_builder_grid_with_numpy_list_connector():
    b = NetworkBuilder("neural-grid", steps=200, seed=3)
    cue = b.spike_array("cue", size=4, spikes=np.array([[0, 5], [1, 5], [2, 5], [3, 5],
                                                        [0, 100], [3, 100]]))
    sheet = b.lif("sheet", size=144, shape=(12, 12), tau_syn=4.0, tau_mem=10.0, v_th=1.0)
    b.connect(cue, sheet, {"list": np.array([[0, 65], [1, 66], [2, 77], [3, 78]])}, weight=3.0,
              name="cue_sheet")
    b.connect(sheet, sheet, {"grid": {"radius": 1, "diagonal": True, "wrap": False}},
              allow_self=False, weight=0.4, delay=2, name="neighbours")
    b.connect(sheet, sheet, "one_to_one", weight=-12.0, name="after_hyperpolarisation")
    b.probe(sheet, "v")
    assert b.build() == load_model(str(EXAMPLES / "grid.yaml"))


def test_builder_errors_name_the_object():
    b = NetworkBuilder("demo")
    b.lif("exc", size=4, tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    b.connect("exc", "exc", "all_to_all", weight=0.1, delay=0)
    with pytest.raises(InputError) as info:
        b.build()
    assert str(info.value) == "<builder demo>: projections[0].delay: must be an integer ≥ 1, got 0"


def test_builder_dangling_population():
    b = NetworkBuilder("demo")
    b.lif("exc", size=4, tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    b.connect("exd", "exc", "all_to_all", weight=0.1)
    with pytest.raises(InputError, match="no population named 'exd'; did you mean 'exc'"):
        b.build()


VARIANTS_FILE = """format: nmcompile/v1
name: readout
steps: 200
seed: 12
populations:
  rs: {model: poisson, size: 3, rate: 30}
  hidden:
    model: lif
    size: 3
    tau_syn: 0
    tau_mem: 10.0
    v_th: 1.0
    reset: subtract
    refractory: 2
    bias: {normal: [0.1, 0.02]}
    v_init: {uniform: [0, 1]}
    u_init: [0, 0.1, 0.2]
  readout:
    model: lif
    size: 2
    tau_syn: 5.0
    tau_mem: 20.0
    v_th: .inf
projections:
  - {pre: rs, post: hidden, connect: one_to_one, weight: 0.4}
  - {pre: hidden, post: readout, connect: all_to_all, weight: 0.2}
probes:
  - {population: readout, var: v}
currents:
  - population: hidden
    neurons: [0]
    steps: [[0, 0.0], [41, 14.0]]
  - population: readout
    ramp: [[0, 0.0], [100, 1.0], [200, 0.0]]
  - population: hidden
    neurons: [2, 1]
    file: drive.npz
"""


def test_builder_with_variants_and_currents_equals_its_file(tmp_path):
    np.savez(tmp_path / "drive.npz", current=np.arange(10.0).reshape(5, 2))
    (tmp_path / "readout.yaml").write_text(VARIANTS_FILE)
    b = NetworkBuilder("readout", steps=200, seed=12)
    b.poisson("rs", size=3, rate=30)
    b.lif("hidden", size=3, tau_syn=0, tau_mem=10.0, v_th=1.0, reset="subtract", refractory=2,
          bias={"normal": np.array([0.1, 0.02])}, v_init={"uniform": [0, 1]},
          u_init=np.array([0, 0.1, 0.2]))
    b.lif("readout", size=2, tau_syn=5.0, tau_mem=20.0, v_th=float("inf"))
    b.connect("rs", "hidden", "one_to_one", weight=0.4)
    b.connect("hidden", "readout", "all_to_all", weight=0.2)
    b.probe("readout", "v")
    b.current("hidden", steps=[[0, 0.0], [41, 14.0]], neurons=[0])
    b.current("readout", ramp=np.array([[0, 0.0], [100, 1.0], [200, 0.0]]))
    b.current("hidden", file=Path("drive.npz"), neurons=np.array([2, 1]))
    built = b.build(str(tmp_path))
    assert built == load_model(str(tmp_path / "readout.yaml"))
    assert len(built.currents) == 3 and isinstance(built.populations["hidden"].model.bias,
                                                   np.ndarray)


def test_neuron_builds_any_model_by_its_parameter_names():
    a, b = NetworkBuilder("n"), NetworkBuilder("n")
    a.lif("x", size=2, tau_syn=1.0, tau_mem=2.0, v_th=1.0, reset="subtract", v_init=[0.5, 0.25])
    b.neuron("x", "lif", size=2, tau_syn=1.0, tau_mem=2.0, v_th=1.0, reset="subtract",
             v_init=[0.5, 0.25])
    assert a.build() == b.build()


def test_builder_current_errors_name_the_object():
    b = NetworkBuilder("demo")
    b.poisson("stim", size=2, rate=5)
    b.lif("exc", size=2, tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    b.current("stim", steps=[[0, 1.0]])
    with pytest.raises(InputError) as info:
        b.build()
    assert str(info.value) == ("<builder demo>: currents[0].population: stim is a spike source; "
                               "it cannot receive a current")
    b.doc["currents"].clear()
    b.current("exc", steps=[[0, 1.0]], ramp=[[0, 1.0]])
    with pytest.raises(InputError, match=r"^<builder demo>: currents\[0\]: give exactly one of "
                                         r"steps, ramp, file, not steps and ramp$"):
        b.build()
    b.doc["currents"].clear()
    b.lif("bad", size=2, tau_syn=4.0, tau_mem=20.0, v_th=1.0, reset="substract")
    with pytest.raises(InputError, match=r"^<builder demo>: populations\.bad\.reset: must be one "
                                         r"of zero, subtract, got 'substract'; did you mean "
                                         r"'subtract'\?$"):
        b.build()
