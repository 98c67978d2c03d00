"""The parity table, the JSON report and the JUnit XML, from a report built by hand."""
import json
import os
import xml.etree.ElementTree as ET

import numpy as np

from nmcompile.parity import BackendRun, ParityReport
from nmcompile.parity.compare import Mismatch, PairResult, Tolerance
from nmcompile.parity.report import format_table, to_json, write_json, write_junit
from nmcompile.result import Result


def _report(bit_exact_verdict: str = "pass") -> ParityReport:
    ran = Result(spikes={"exc": (np.array([1, 2]), np.array([0, 0]))}, meta={"wall_time_s": 1.25})
    runs = [BackendRun("brian2", False, "ran", ran), BackendRun("lava", False, "ran", ran),
            BackendRun("lava-fixed", True, "ran", ran),
            BackendRun("emulator", True, "skipped", reason="not installed: numba")]
    first = Mismatch(57, "exc", 3) if bit_exact_verdict == "fail" else None
    pairs = [PairResult("brian2", "lava", "float-exact", "pass", 2, 0),
             PairResult("lava-fixed", "emulator", "skip", "skip", note="emulator: not installed"),
             PairResult("brian2", "lava-fixed", "bit-exact", bit_exact_verdict, 2,
                        1 if first else 0, first)]
    return ParityReport(model="wta", steps=300, target="loihi2", tolerance=Tolerance(), runs=runs,
                        pairs=pairs)


def test_table_has_one_row_per_pair_and_the_overall_verdict():
    text = format_table(_report())
    lines = text.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("pair "))
    rows = lines[header + 2:header + 5]
    assert [r.split()[0:3] for r in rows] == [["brian2", "vs", "lava"],
                                              ["lava-fixed", "vs", "emulator"],
                                              ["brian2", "vs", "lava-fixed"]]
    assert "SKIP" in rows[1] and "PASS" in rows[0]
    assert "emulator: skipped (not installed: numba)" in text
    assert lines[-1] == "parity holds: 2 pair(s) checked, 1 skipped"


def test_table_names_the_first_mismatch_of_a_failed_pair():
    report = _report("fail")
    assert not report.ok
    text = format_table(report)
    row = next(l for l in text.splitlines() if l.startswith("brian2 vs lava-fixed"))
    assert "FAIL" in row and row.endswith("step 57, exc, 3")
    assert text.splitlines()[-1] == "PARITY VIOLATED: 1 of 2 pair(s) checked, 1 skipped"


def test_junit_parses_and_has_one_testcase_per_pair(tmp_path):
    path = tmp_path / "parity.xml"
    write_junit(_report("fail"), str(path))
    root = ET.parse(path).getroot()
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["brian2 vs lava (float-exact)",
                                             "lava-fixed vs emulator (skip)",
                                             "brian2 vs lava-fixed (bit-exact)"]
    assert cases[1].find("skipped") is not None
    assert "step 57, exc, 3" in cases[2].find("failure").get("message")
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    assert os.listdir(tmp_path) == ["parity.xml"]  # the temporary file was renamed


def test_json_report_is_machine_readable(tmp_path):
    path = tmp_path / "parity.json"
    write_json(_report("fail"), str(path))
    doc = json.loads(path.read_text())
    assert doc == json.loads(json.dumps(to_json(_report("fail"))))
    assert doc["ok"] is False
    assert doc["pairs"][2]["first"] == {"step": 57, "population": "exc", "neuron": 3,
                                        "what": "spike"}
    assert [b["status"] for b in doc["backends"]] == ["ran", "ran", "ran", "skipped"]
    assert doc["tolerance"] == {"abs": 2, "rel": 0.25, "van_rossum": None,
                                 "tau_ms": 10.0, "weights": None}
