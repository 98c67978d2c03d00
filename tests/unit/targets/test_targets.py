"""Targets as data: built-ins load, user files are validated with file:line: path: message."""
from __future__ import annotations

import os

import pytest

from nmcompile.cli import main
from nmcompile.diagnostics import InputError
from nmcompile.targets import list_targets, load_target

GOOD = """\
format: nmcompile-target/v1
name: mine
numerics:
  semantics: loihi
  weight_bits: 6
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
resources:
  chips: 2
  cores_per_chip: 4
  neurons_per_core: 64
  synapses_per_core: 1000
  input_axons_per_core: 64
  output_axons_per_core: 64
"""


def test_builtins_are_listed_and_loadable():
    names = [t.name for t in list_targets()]
    assert names == ["loihi1", "loihi2", "tiny"]
    tiny = load_target("tiny")
    assert (tiny.resources.cores_per_chip, tiny.resources.neurons_per_core) == (2, 16)
    assert load_target("loihi1").energy["synaptic_op_pj"] == 23.6
    assert load_target("loihi2").numerics.max_delay == 64


def test_every_builtin_figure_cites_a_source():
    """Each numeric line of loihi1/loihi2 carries a comment naming its source or ESTIMATE."""
    from pathlib import Path
    import nmcompile.targets as pkg
    for name in ("loihi1", "loihi2"):
        for line in (Path(pkg.__file__).parent / f"{name}.yaml").read_text().splitlines():
            if line.lstrip().startswith("#"):
                continue
            key, _, value = line.partition(":")
            if value.split("#")[0].strip()[:1].isdigit():
                assert "#" in value, f"{name}: {line.strip()} has no source comment"


def test_user_file_loads(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    target = load_target(str(path))
    assert target.numerics.weight_bits == 6
    assert target.resources.max_synapses_per_core() == 1000


@pytest.mark.parametrize("old, new, expected", [
    ("  weight_bits: 6", "  weight_bits: 9", ":5: numerics.weight_bits: must be an integer in 1..8, got 9"),
    ("  u_overflow: wrap", "  u_overflow: saturate", ":13: numerics.u_overflow: the loihi semantics fix u_overflow to 'wrap'"),
    ("  bias_exp: [0, 7]", "  bias_exp: [3, 1]", ":9: numerics.bias_exp: must be [low, high]"),
    ("  chips: 2", "  chipz: 2", ":19: resources.chipz: unknown key 'chipz'; did you mean 'chips'?"),
    ("  synapses_per_core: 1000\n", "", ":19: resources: give exactly one of synapses_per_core"),
    ("format: nmcompile-target/v1", "format: v0", ":1: format: must be 'nmcompile-target/v1'"),
    ("  semantics: loihi", "  semantics: truenorth", ":4: numerics.semantics: only 'loihi'"),
])
def test_user_file_errors_name_file_line_and_path(tmp_path, old, new, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(InputError) as info:
        load_target(str(path))
    assert f"{path}{expected}" in str(info.value)


def test_energy_values_must_be_numbers(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + "energy:\n  synaptic_op_pj: lots\n")
    with pytest.raises(InputError, match=r"bad.yaml:26: energy.synaptic_op_pj: must be a finite"):
        load_target(str(path))


def test_unknown_target_is_input_error():
    with pytest.raises(InputError, match="unknown target 'loihi9'.*loihi1, loihi2, tiny"):
        load_target("loihi9")


def test_cli_targets_lists_one_line_each(capsys):
    assert main(["targets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["loihi1", "loihi2", "tiny"]


def test_cli_bad_target_file_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("  max_delay: 16", "  max_delay: 65"))
    model = tmp_path / "m.yaml"
    model.write_text("format: nmcompile/v1\nname: m\npopulations:\n  a: {model: lif, size: 1, "
                     "tau_syn: 2, tau_mem: 5, v_th: 1}\n")
    assert main(["compile", str(model), "--target", str(path)]) == 2
    assert f"{path}:17: numerics.max_delay: must be an integer in 1..64, got 65" \
        in capsys.readouterr().err


@pytest.mark.parametrize("name", ["a b/c", "../x", "", 7])
def test_target_name_uses_letters_digits_dash_underscore(tmp_path, name):
    """Chip images are matched to a target by name: a name must be a plain word."""
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("name: mine", f"name: {name!r}"))
    with pytest.raises(InputError, match=r"bad.yaml:2: name: must use letters, digits, - and _"):
        load_target(str(path))


def _unreadable_targets(tmp_path):
    folder = tmp_path / "adir.yaml"
    folder.mkdir()
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"format: \xff\xfe\x00 nmcompile-target/v1\n")
    out = [(str(folder), "this is a folder"), (str(binary), "not a text (UTF-8) file")]
    if os.path.exists("/proc/self/mem"):  # exists, yet reading it fails with an OSError (EIO)
        out.append(("/proc/self/mem", "Input/output error"))
    return out


def test_unreadable_target_file_is_input_error(tmp_path):
    for path, reason in _unreadable_targets(tmp_path):
        with pytest.raises(InputError) as info:
            load_target(path)
        assert str(info.value).startswith(f"{path}: cannot read target file: ")
        assert reason in str(info.value)


@pytest.mark.parametrize("command", [["run", "-b", "emulator", "-o", "{out}"], ["compile"],
                                     ["parity", "--backends", "emulator,lava-fixed"]])
def test_cli_unreadable_target_exits_2(tmp_path, capsys, command):
    model = tmp_path / "m.yaml"
    model.write_text("format: nmcompile/v1\nname: m\nsteps: 5\npopulations:\n"
                     "  a: {model: lif, size: 1, tau_syn: 2, tau_mem: 5, v_th: 1}\n")
    args = [a.replace("{out}", str(tmp_path / "r.npz")) for a in command]
    (tmp_path / "t").mkdir()
    for path, reason in _unreadable_targets(tmp_path / "t"):
        assert main([args[0], str(model), *args[1:], "--target", path]) == 2
        err = capsys.readouterr().err
        assert f"{path}: cannot read target file: " in err and reason in err
        assert "Traceback" not in err
