"""Targets as data for the neuron models beyond LIF: a numerics block per model the chip runs
(its absence says it cannot), neuron-state words per model against a per-core capacity, and
located errors for every inconsistency."""
from __future__ import annotations

import pytest

from nmcompile.diagnostics import InputError
from nmcompile.targets import load_target
from nmcompile.targets.schema import AdaptiveLIFNumerics, IzhikevichNumerics

BASE = """\
format: nmcompile-target/v1
name: mine
numerics:
  semantics: loihi
  weight_bits: 8
  weight_exp: [-8, 7]
  threshold_bits: 17
  bias_mant_bits: 13
  bias_exp: [0, 7]
  decay_bits: 12
  u_bits: 24
  v_bits: 24
  u_overflow: wrap
  v_overflow: saturate
  input_shift: 6
  threshold_shift: 6
  max_delay: 16
  izhikevich:
    state_bits: 20
    coefficient_bits: 12
    derivative_bits: 28
  adaptive_lif:
    decay_bits: 12
    state_bits: 24
    threshold_shift: 6
    threshold_bits: 10
resources:
  chips: 1
  cores_per_chip: 4
  neurons_per_core: 64
  synapses_per_core: 1000
  input_axons_per_core: 64
  output_axons_per_core: 64
  neuron_state_words_per_core: 100
  state_words:
    lif: 2
    izhikevich: 3
    adaptive_lif: 5
"""


def test_builtin_model_numerics():
    loihi2, loihi1, tiny = (load_target(n) for n in ("loihi2", "loihi1", "tiny"))
    assert loihi2.numerics.izhikevich == IzhikevichNumerics(state_bits=24, coefficient_bits=16,
                                                            derivative_bits=32)
    assert loihi2.numerics.adaptive_lif == AdaptiveLIFNumerics(
        decay_bits=12, state_bits=24, threshold_shift=6, threshold_bits=12)
    assert loihi2.numerics.models() == ("lif", "izhikevich", "adaptive_lif")
    assert loihi1.numerics.models() == ("lif",)       # Loihi 1: a fixed CUBA LIF neuron
    assert loihi1.resources.state_words == {} and loihi1.resources.neuron_state_words("lif") == 0
    assert tiny.numerics.izhikevich.state_bits == 12
    assert "models lif, izhikevich, adaptive_lif" in loihi2.one_line()
    assert loihi1.one_line().endswith("models lif")


def test_state_words_bound_the_neurons_of_a_core():
    loihi2, loihi1, tiny = (load_target(n) for n in ("loihi2", "loihi1", "tiny"))
    assert [loihi2.resources.max_neurons_per_core(k) for k in ("lif", "izhikevich",
                                                              "adaptive_lif")] == [8192, 5461, 4096]
    assert [tiny.resources.max_neurons_per_core(k) for k in ("lif", "izhikevich",
                                                            "adaptive_lif")] == [16, 10, 8]
    assert loihi1.resources.max_neurons_per_core("lif") == 1024


def test_a_user_target_with_model_blocks_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(BASE)
    target = load_target(str(path))
    assert target.numerics.izhikevich.derivative_bits == 28
    assert target.numerics.adaptive_lif.threshold_bits == 10
    assert target.resources.max_neurons_per_core("adaptive_lif") == 20


def test_a_target_without_model_blocks_runs_lif_only(tmp_path):
    text = BASE.split("  izhikevich:")[0] + "resources:" + BASE.split("resources:")[1]
    text = text.replace("    izhikevich: 3\n    adaptive_lif: 5\n", "")
    path = tmp_path / "lif_only.yaml"
    path.write_text(text)
    target = load_target(str(path))
    assert target.numerics.models() == ("lif",) and target.resources.state_words == {"lif": 2}


@pytest.mark.parametrize("old, new, expected", [
    ("    state_bits: 20", "    state_bits: 25",
     ":19: numerics.izhikevich.state_bits: must be an integer in 2..24, got 25"),
    ("    coefficient_bits: 12", "    coefficient_bits: 17",
     ":20: numerics.izhikevich.coefficient_bits: must be an integer in 2..16, got 17"),
    ("    derivative_bits: 28", "    derivative_bits: 16",
     ":21: numerics.izhikevich.derivative_bits: must be at least state_bits (20)"),
    ("    derivative_bits: 28\n", "    derivative_bits: 28\n    shift_bits: 5\n",
     ":22: numerics.izhikevich.shift_bits: unknown key 'shift_bits'"),
    ("    coefficient_bits: 12\n", "",
     ":19: numerics.izhikevich: missing required key 'coefficient_bits'"),
    ("    decay_bits: 12\n    state_bits: 24", "    decay_bits: 11\n    state_bits: 24",
     ":23: numerics.adaptive_lif.decay_bits: Lava's adaptive LIF (ATRLIF) fixes decay_bits "
     "to 12, got 11"),
    ("    threshold_bits: 10", "    threshold_bits: 18",
     ":26: numerics.adaptive_lif.threshold_bits: must be an integer in 1..17, got 18"),
    ("  izhikevich:\n    state_bits: 20\n    coefficient_bits: 12\n    derivative_bits: 28\n",
     "  izhikevich: 20\n", ":18: numerics.izhikevich: must be a mapping, got int"),
    ("    adaptive_lif: 5\n", "",
     ":36: resources.state_words: missing required key 'adaptive_lif'"),
    ("    lif: 2\n", "    lif: 2\n    poisson: 1\n",
     ":37: resources.state_words.poisson: unknown key 'poisson'"),
    ("    izhikevich: 3\n", "    izhikevich: 101\n",
     ":37: resources.state_words.izhikevich: must be an integer in 1..100, got 101"),
    ("  neuron_state_words_per_core: 100\n", "",
     ":28: resources: neuron_state_words_per_core and state_words go together"),
])
def test_model_blocks_and_state_words_errors_name_file_line_and_path(tmp_path, old, new,
                                                                      expected):
    path = tmp_path / "bad.yaml"
    assert old in BASE
    path.write_text(BASE.replace(old, new))
    with pytest.raises(InputError) as info:
        load_target(str(path))
    assert f"{path}{expected}" in str(info.value)


def test_state_words_may_only_name_models_the_target_runs(tmp_path):
    """Without an izhikevich block, an izhikevich state-word count is an unknown key."""
    text = BASE.replace("  izhikevich:\n    state_bits: 20\n    coefficient_bits: 12\n"
                        "    derivative_bits: 28\n", "")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=r"resources.state_words.izhikevich: unknown key "
                                         r"'izhikevich'; allowed: lif, adaptive_lif"):
        load_target(str(path))
