"""No output ever replaces an input or another output of the same command; every output is
checked (extension, folder, creatable) before any work; temporary files are recognisable and
never outlive the command; JSON outputs are strict JSON; results hold every population."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nmcompile.cli import main
from nmcompile.files.atomic import PARTIAL_MARK
from nmcompile.result import Result

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FAST = ["--backends", "emulator,lava-fixed", "-q"]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder with the WTA model as m.yaml; runs that would start a backend fail loudly."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "wta.yaml", "m.yaml")

    def no_run(*args, **kwargs):
        raise AssertionError("a backend ran although an output was bad")
    monkeypatch.setattr("nmcompile.driver.run", no_run)
    monkeypatch.setattr("nmcompile.parity.check_parity", no_run)
    monkeypatch.setattr("nmcompile.passes.mapping.pipeline.compile_network", no_run)
    return tmp_path


def _refused(capsys, argv, first_words):
    before = {p: p.lstat().st_mtime_ns for p in Path(".").iterdir()}
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(first_words), err
    assert {p: p.lstat().st_mtime_ns for p in Path(".").iterdir()} == before  # nothing touched


@pytest.mark.parametrize("argv, first_words", [
    (["compile", "m.yaml", "-o", "m.yaml"], "m.yaml: -o writes a chip image"),
    (["compile", "m.yaml", "--json", "m.yaml"], "m.yaml: --json writes a JSON report"),
    (["parity", "m.yaml", "--json", "m.yaml"], "m.yaml: --json writes a JSON report"),
    (["parity", "m.yaml", "--junit", "m.yaml"], "m.yaml: --junit writes a JUnit report"),
    (["compile", "m.yaml", "--json", "c.nmc", "-o", "c.nmc"], "c.nmc: --json writes a JSON"),
    (["parity", "m.yaml", "--json", "r", "--junit", "r"], "r: --json writes a JSON report"),
    (["run", "m.yaml", "-b", "emulator", "-o", "m.yaml"], "m.yaml: -o writes a result"),
    (["run", "m.yaml", "-b", "emulator", "--plot", "p.npz"], "p.npz: --plot writes a plot"),
    (["run", "m.yaml", "-b", "emulator", "-o", ""], "nmc: -o: the output path is empty"),
    (["compile", "m.yaml", "-o", " "], "nmc: -o: the output path is empty"),
])
def test_outputs_that_are_inputs_or_have_the_wrong_kind(work, capsys, argv, first_words):
    _refused(capsys, argv, first_words)


def test_an_output_linked_to_the_input_is_the_input(work, capsys):
    os.symlink("m.yaml", "sym.npz")
    os.link("m.yaml", "hard.npz")
    os.mkdir("sub")
    for out in ("sym.npz", "hard.npz", "./sub/../hard.npz"):
        _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", out],
                 f"{out}: -o would overwrite the input m.yaml")
    assert Path("m.yaml").read_text() == (EXAMPLES / "wta.yaml").read_text()


def test_two_outputs_naming_one_file(work, capsys):
    os.symlink("img.nmc", "rep.json")  # dangling: names the file the image would create
    _refused(capsys, ["compile", "m.yaml", "-o", "img.nmc", "--json", "rep.json"],
             "rep.json: --json and -o name the same file")
    Path("r.npz").write_bytes(b"old")
    os.link("r.npz", "shot.png")
    _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", "r.npz", "--plot", "shot.png"],
             "shot.png: --plot and -o name the same file")


def test_a_target_file_is_an_input(work, capsys):
    import nmcompile.targets
    shutil.copy(Path(nmcompile.targets.__file__).with_name("loihi2.yaml"), "chip.json")
    _refused(capsys, ["compile", "m.yaml", "--target", "chip.json", "--json", "chip.json"],
             "chip.json: --json would overwrite the input chip.json")


def test_outputs_that_cannot_be_created_are_found_before_the_run(work, capsys):
    os.mkfifo("fifo.npz")
    _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", "fifo.npz"],
             "fifo.npz: cannot write: it is not a regular file")
    _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", "/proc/r.npz"],
             "/proc/r.npz: cannot write:")
    _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", "/proc/self/status.npz"],
             "/proc/self/status.npz: cannot write:")
    Path("locked.npz").write_bytes(b"old")
    if subprocess.run(["chattr", "+i", "locked.npz"], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable files")
    try:
        _refused(capsys, ["run", "m.yaml", "-b", "emulator", "-o", "locked.npz"],
                 "locked.npz: cannot write: the file is read-only or immutable")
    finally:
        subprocess.run(["chattr", "-i", "locked.npz"], check=True)


def test_a_refused_second_output_leaves_no_temporary_file_of_the_first(work, capsys):
    _refused(capsys, ["compile", "m.yaml", "-o", "ok.nmc", "--json", "nodir/r.json"],
             "nodir/r.json: cannot write: folder nodir does not exist")
    assert sorted(os.listdir()) == ["m.yaml"]


def test_temporary_files_are_visible_and_removed_when_the_run_fails(tmp_path, monkeypatch,
                                                                   capsys):
    """The reserved file exists during the run, named after its output; a failing run
    removes it (and leaves the old output as it was)."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "wta.yaml", "m.yaml")
    Path("r.npz").write_bytes(b"previous")
    seen = []

    def failing_run(*args, **kwargs):
        seen.extend(os.listdir())
        raise KeyboardInterrupt
    monkeypatch.setattr("nmcompile.driver.run", failing_run)
    assert main(["run", "m.yaml", "-b", "emulator", "-o", "r.npz"]) == 130
    partial = [name for name in seen if PARTIAL_MARK in name]
    assert len(partial) == 1 and partial[0].startswith("r.npz" + PARTIAL_MARK)
    assert sorted(os.listdir()) == ["m.yaml", "r.npz"]
    assert Path("r.npz").read_bytes() == b"previous"


def test_ctrl_c_while_a_result_is_written_is_quiet_and_leaves_nothing(tmp_path):
    """numpy's savez leaves its ZipFile to the garbage collector, which printed
    'Exception ignored in ZipFile.__del__' after Ctrl-C: our writer closes the archive."""
    script = textwrap.dedent("""
        import numpy as np
        from nmcompile.result import Result
        calls = []
        real = np.lib.format.write_array
        def interrupted(*a, **k):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return real(*a, **k)
        np.lib.format.write_array = interrupted
        r = Result(spikes={"p": (np.arange(5), np.zeros(5, int)), "q": (np.arange(3), np.arange(3))})
        try:
            r.save("r.npz")
        except KeyboardInterrupt:
            print("interrupted")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout == "interrupted\n" and done.stderr == ""
    assert os.listdir(tmp_path) == []


def test_compile_json_is_strict_json_even_for_unbounded_quantities(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compile", str(EXAMPLES / "wta.yaml"), "--json", "r.json"]) == 0
    capsys.readouterr()

    def strict(token):
        raise AssertionError(f"{token} is not JSON")
    json.loads(Path("r.json").read_text(), parse_constant=strict)


def test_strict_json_writes_non_finite_numbers_as_strings():
    import numpy as np

    from nmcompile.files.strictjson import dumps
    text = dumps({"a": float("inf"), "b": [np.float64("-inf"), float("nan")], "c": np.int64(3)})
    assert json.loads(text) == {"a": "inf", "b": ["-inf", None], "c": 3}


def test_a_result_holds_every_population_sources_included(tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert main(["run", str(EXAMPLES / "wta.yaml"), "-b", "emulator", "-q", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    result = Result.load(str(out))
    from nmcompile.frontends.modelfile import load_model
    from nmcompile.ir import source_spikes
    net = load_model(str(EXAMPLES / "wta.yaml"))
    assert set(result.spikes) == set(net.populations)
    for pop in net.populations.values():
        if pop.is_source:
            t, n = source_spikes(pop, net, net.steps)
            assert np.array_equal(result.spikes[pop.name][0], t)
            assert np.array_equal(result.spikes[pop.name][1], n)
    assert result.meta["sources"] == [p.name for p in net.populations.values() if p.is_source]
    neurons = result.neuron_spike_count()
    total = sum(len(t) for t, _ in result.spikes.values())
    assert f": {neurons} spikes ({total - neurons} more from sources) -> " in printed



@pytest.mark.parametrize("argv", [
    ["run", "m.yaml", "-b", "emulator", "-o", "conn.npz"],
    ["compile", "m.yaml", "-o", "link.nmc"],
])
def test_an_output_may_not_replace_a_file_the_model_reads(work, capsys, argv):
    """The model's connectivity file is an input too, known once the model is read."""
    np.savez("conn.npz", pre=np.arange(4), post=np.arange(4))
    os.symlink("conn.npz", "link.nmc")
    text = Path("m.yaml").read_text().replace("connect: one_to_one", "connect: {file: conn.npz}")
    Path("m.yaml").write_text(text)
    _refused(capsys, argv, f"{argv[-1]}: -o would overwrite the input ")


def test_the_longest_legal_output_name_is_written(tmp_path, monkeypatch, capsys):
    """The temporary file's name is cut to fit: an output of 251 characters is still legal."""
    monkeypatch.chdir(tmp_path)
    name = "a" * 247 + ".npz"
    assert main(["run", str(EXAMPLES / "wta.yaml"), "-b", "emulator", "-q", "-o", name]) == 0
    assert os.listdir() == [name]


@pytest.mark.parametrize("command", [["compile", "m.yaml"], ["run", "m.yaml", "-b", "emulator"]])
def test_an_empty_target_is_a_usage_error_not_the_default(work, capsys, command):
    with pytest.raises(SystemExit) as info:
        main([*command, "--target", ""])
    assert info.value.code == 2
    assert "argument --target/-t: give a target name" in capsys.readouterr().err
