"""Design rules and the mapping report: every violation listed at once, exact messages."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nmcompile.cli import main
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import source_spikes
from nmcompile.passes.mapping.pipeline import compile_network, emulator_run
from nmcompile.passes.mapping.report import mapping_report
from nmcompile.targets import load_target

GOLDEN = Path(__file__).parents[2] / "golden" / "mapping"
EXAMPLES = Path(__file__).parents[3] / "examples"


def test_model_too_big_for_tiny_lists_every_violation_exactly(monkeypatch, capsys):
    monkeypatch.chdir(GOLDEN)
    assert main(["compile", "too_big_for_tiny.yaml", "--target", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err == (GOLDEN / "too_big_for_tiny.tiny.stderr").read_text()
    assert [line.split(": population ")[-1].split(":")[0] for line in err.splitlines()
            if "population" in line] == ["hub", "crowded", "hub"]
    assert len(err.splitlines()) == 5  # delay, fan-in, memory, fan-out, cores: each once


def test_report_counts_agree_with_the_run_and_the_target_figures():
    net = load_model(EXAMPLES / "recurrent_ei.yaml")
    target = load_target("loihi1")
    compiled = compile_network(net, target)
    run = emulator_run(compiled.qnet, net.steps)
    rep = mapping_report(net, target, compiled.mapping, compiled.costs, run, net.steps)
    assert rep.cores_used == 1 and rep.chips_used == 1
    assert sum(rep.per_core["neurons"]) == 100
    assert rep.per_core["synaptic_words"] == [sum(int(c.words.sum())
                                                  for c in compiled.costs.incoming.values())]
    # synaptic events, recomputed from the projections and the spikes
    counts = {p.name: np.bincount(source_spikes(p, net, net.steps)[1] if p.is_source
                                  else run.spikes[p.name][1], minlength=p.size)
              for p in net.populations.values()}
    events = sum(int(counts[p.pre][p.pre_idx].sum()) for p in net.projections)
    t = rep.traffic
    assert t["synaptic_events"] == events
    assert t["spikes"] == sum(int(c.sum()) for c in counts.values())
    assert t["packets"] == (t["within_core"] + t["between_cores"] + t["between_chips"]
                            + t["from_host"])
    assert t["between_chips"] == 0 and t["between_cores"] == 0  # one core
    e = target.energy
    expected = (e["synaptic_op_pj"] * events + e["neuron_update_active_pj"] * t["active_updates"]
                + e["neuron_update_inactive_pj"] * (100 * net.steps - t["active_updates"])
                + e["spike_within_tile_pj"] * t["within_core"]) / net.steps
    assert abs(rep.energy_pj["per_step"] - expected) < 1e-6 * expected
    assert "D18 Table 2" in rep.sources["synaptic_op_pj"]
    assert "barrier" in rep.sources["barrier_sync_ns"]


def test_compile_report_json_has_mapping_section(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["compile", str(EXAMPLES / "wta.yaml"), "--target", "loihi1", "--report",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mapping on loihi1: 1 chip(s), 1 core(s)" in text and "energy per step" in text
    doc = json.loads(out.read_text())
    assert doc["mapping"]["cores_used"] == 1 and doc["mapping"]["traffic"]["steps"] == 300
    assert "synaptic_op_pj" in doc["mapping"]["sources"]
