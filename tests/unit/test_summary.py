"""`nmc info` shows the LIF variants and the injected currents briefly (DESIGN §2.5)."""
from __future__ import annotations

import numpy as np

from nmcompile.frontends.modelfile import load_document
from nmcompile.frontends.modelfile.yamlmarks import parse
from nmcompile.summary import info_table

MODEL = """format: nmcompile/v1
name: driven
seed: 2
populations:
  stim: {model: poisson, size: 2, rate: 10}
  plain: {model: lif, size: 2, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0, bias: 0.0}
  rs:
    model: lif
    size: 12
    tau_syn: 0
    tau_mem: 10.0
    v_th: 1.0
    reset: subtract
    refractory: 2
    bias: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    v_init: {uniform: [-0.5, 0.5]}
  readout: {model: lif, size: 3, tau_syn: 5.0, tau_mem: 20.0, v_th: .inf, u_init: 0.25}
currents:
  - {population: rs, neurons: [3, 0], steps: [[0, 0.0], [41, 14.0]]}
  - {population: readout, ramp: [[10, 2.0]]}
  - {population: rs, neurons: [0, 1, 2, 3, 4, 5, 6, 7, 8], file: drive.npz}
  - {population: readout, file: drive1.npz}
"""


def table(tmp_path) -> list[str]:
    np.savez(tmp_path / "drive.npz", current=np.arange(45).reshape(5, 9) / 4)
    np.savez(tmp_path / "drive1.npz", current=np.full(7, 0.5))
    net = load_document(*parse(MODEL, "m.yaml"), base_dir=str(tmp_path))
    return info_table(net).splitlines()


def test_populations_show_what_is_not_a_default(tmp_path):
    lines = table(tmp_path)
    rows = {line.split()[0]: line for line in lines[3:7]}
    assert rows["plain"].split()[3:] == ["tau_syn", "4.0", "tau_mem", "20.0", "v_th", "1.0"]
    v_init = load_document(*parse(MODEL, "m.yaml"), base_dir=str(tmp_path)) \
        .populations["rs"].model.v_init
    assert rows["rs"].split()[3:] == [
        "tau_syn", "0.0", "tau_mem", "10.0", "v_th", "1.0", "bias", "0.5", "per", "neuron",
        "refractory", "2", "reset", "subtract",
        "v_init", f"{v_init.min():.4g}..{v_init.max():.4g}", "per", "neuron"]
    assert rows["readout"].split()[3:] == ["tau_syn", "5.0", "tau_mem", "20.0", "v_th", "inf",
                                           "u_init", "0.25", "(non-spiking)"]


def test_currents_are_listed_with_kind_extent_values_and_neurons(tmp_path):
    lines = table(tmp_path)
    start = lines.index("currents:")
    assert lines[start + 1:] == [
        "  rs       steps  2 points at steps 0..41, values 0..14  to neurons 3, 0",
        "  readout  ramp   1 point at steps 10, values 2  to every neuron",
        "  rs       file   5 steps x 9 neurons, values 0..11  to 9 neurons",
        "  readout  file   7 steps, values 0.5  to every neuron",
    ]


def test_info_names_a_projections_learning_rule_and_the_weight_probes():
    from pathlib import Path

    from nmcompile.frontends.modelfile import load_model
    from nmcompile.summary import info_table
    model = Path(__file__).resolve().parents[2] / "examples" / "learning" / "reward.yaml"
    table = info_table(load_model(str(model)))
    assert "learns: reward_stdp learning_rate 0.0078125 a_plus 1 a_minus -1" in table
    assert "reward 'dopamine'" in table
    assert "weight probes: cue_a_output every 10 steps, cue_b_output every 10 steps" in table
