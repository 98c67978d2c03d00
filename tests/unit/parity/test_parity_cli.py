"""`nmc parity` end to end on tiny models (brian2 vs emulator: no Lava processes needed)."""
import json
import xml.etree.ElementTree as ET

import pytest
from parity_models import CLEAR, EDGE

from nmcompile.cli import main

EXACT = ["--backends", "brian2,emulator", "--tolerance", "abs=0,rel=0", "-q"]


@pytest.fixture
def models(tmp_path):
    (tmp_path / "edge.yaml").write_text(EDGE)
    (tmp_path / "clear.yaml").write_text(CLEAR)
    return tmp_path


def test_passing_model_exits_0_and_writes_junit_and_json(models, capsys):
    junit, report = models / "out.xml", models / "out.json"
    code = main(["parity", str(models / "clear.yaml"), *EXACT, "--junit", str(junit),
                 "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "brian2 vs emulator  quantization  PASS" in out
    assert out.rstrip().endswith("parity holds: 1 pair(s) checked")
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["brian2 vs emulator (quantization)"]
    assert cases[0].find("failure") is None
    doc = json.loads(report.read_text())
    assert doc["ok"] is True and doc["model"] == "clear"
    assert [b["spikes"] for b in doc["backends"]] == [8, 8]  # every second input crosses 0.75


def test_violation_exits_1_and_points_at_the_first_mismatch(models, capsys):
    junit = models / "out.xml"
    code = main(["parity", str(models / "edge.yaml"), *EXACT, "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith("brian2 vs emulator"))
    assert "FAIL" in row and "step 9, out, " in row
    assert "PARITY VIOLATED" in out
    (case,) = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert "step 9, out" in case.find("failure").get("message")


@pytest.mark.parametrize("args, message", [
    (["--backends", "brian2,nest"], "unknown backend 'nest'"),
    (["--backends", "brian2"], "at least two backends"),
    (["--backends", "brian2,brian2"], "listed twice"),
    (["--tolerance", "rel=lots"], "rel must be a number"),
])
def test_bad_input_exits_2_without_running(models, capsys, args, message):
    assert main(["parity", str(models / "clear.yaml"), *args]) == 2
    assert message in capsys.readouterr().err


def test_the_ci_example_workflow_calls_nmc_parity_with_valid_arguments():
    import re
    import shlex
    from pathlib import Path

    import yaml

    from nmcompile.cli import build_parser
    workflow = yaml.safe_load((Path(__file__).parents[3] / "examples/ci/parity.yml").read_text())
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["parity"]["steps"])
    assert "set -o pipefail" in script  # else a failing nmc is hidden by tee
    call = re.search(r"nmc (parity .*?)\|", script.replace("\\\n", " "), re.S).group(1)
    args = build_parser().parse_args(shlex.split(call.replace("$", "")))
    assert (args.command, bool(args.junit), bool(args.json)) == ("parity", True, True)


def test_a_backend_that_is_not_installed_is_reported_as_skipped(models, capsys, monkeypatch):
    from nmcompile.backends.emulator import EmulatorBackend
    # As on a machine without the emulator's dependencies: the backend itself says so.
    monkeypatch.setattr(EmulatorBackend, "missing_dependency",
                        classmethod(lambda cls: "package 'chipsim' is not installed"))
    json_path = models / "out.json"
    code = main(["parity", str(models / "clear.yaml"), "--backends", "brian2,emulator", "-q",
                 "--json", str(json_path)])
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("brian2 vs emulator"))
    assert "SKIP" in row
    assert "emulator: skipped (not installed: package 'chipsim' is not installed)" in out
    assert out.rstrip().endswith("nothing checked: all 1 pair(s) skipped")
    doc = json.loads(json_path.read_text())
    assert [(b["name"], b["status"]) for b in doc["backends"]] == [("brian2", "ran"),
                                                                   ("emulator", "skipped")]


def test_a_learning_model_compares_its_learned_weights(tmp_path, capsys):
    """The competitive STDP example, 200 steps: brian2 and emulator-float learn the same
    weights (float-exact), the emulator's are compared as a quantization and judged when
    asked (weights=0: any difference fails, naming the projection)."""
    from pathlib import Path
    model = Path(__file__).resolve().parents[3] / "examples" / "learning" / "competitive.yaml"
    junit, report = tmp_path / "out.xml", tmp_path / "out.json"
    code = main(["parity", str(model), "--backends", "brian2,emulator-float,emulator",
                 "--steps", "200", "-q", "--junit", str(junit), "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "brian2 vs emulator-float  float-exact   PASS" in out
    assert "(learned weights): distance" in out
    doc = json.loads(report.read_text())
    exact = next(p for p in doc["pairs"] if p["contract"] == "float-exact")
    assert exact["details"]["weight_mismatches"] == 0
    learned = next(p for p in doc["pairs"] if p["contract"] == "quantization")
    assert set(learned["details"]["learned_weights"]) == {"input_output"}
    code = main(["parity", str(model), "--backends", "brian2,emulator", "--steps", "200",
                 "-q", "--tolerance", "abs=1000,rel=1,weights=0", "--junit", str(junit)])
    assert code == 1
    assert "input_output: learned weights differ by" in capsys.readouterr().out
    failure = ET.parse(junit).getroot().find("./testsuite/testcase/failure")
    assert failure is not None and "learned weights differ" in failure.get("message", "") + (
        failure.text or "")
