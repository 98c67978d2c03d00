"""Design rules and the mapping report: every violation listed at once, exact messages."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np

from nmcompile.cli import main
from nmcompile.frontends.modelfile import load_model
from nmcompile.ir import source_spikes
from nmcompile.passes.mapping import Mapping, population_costs
from nmcompile.passes.mapping.drc import check_design_rules
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


# `pre` (bias-driven) all-to-all onto `post`: `post` takes 4 cores, so `pre` on one core needs
# 16 × 4 = 64 output axons; the partition fits it onto two cores of 8 (test_mapping_partition)
FAN_OUT_MODEL = """\
format: nmcompile/v1
name: fan-out
steps: 10
populations:
  pre: {model: lif, size: 16, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0, bias: 0.1}
  post: {model: lif, size: 64, tau_syn: 4.0, tau_mem: 20.0, v_th: 1.0}
projections:
  - {name: pre_post, pre: pre, post: post, connect: all_to_all, weight: 0.1}
"""
LIMIT_FIX = "the partition found no mapping within the limit: lower connectivity or use a " \
            "target with larger cores"


def write_fan_out_case(tmp_path: Path) -> tuple[Path, Path]:
    """The model, and `tiny` with 8 cores so that the 6 cores it needs are on one chip."""
    model = tmp_path / "fan_out.yaml"
    model.write_text(FAN_OUT_MODEL)
    target = tmp_path / "tiny8.yaml"
    target.write_text(Path(load_target("tiny").file).read_text()
                      .replace("name: tiny", "name: tiny8")
                      .replace("cores_per_chip: 2", "cores_per_chip: 8"))
    return model, target


def test_a_core_over_its_output_axons_is_refused_when_the_partition_gives_up(
        tmp_path, monkeypatch, capsys):
    """One round is the partition before it learns any output axons: `pre` stays on one core
    at 200 %, which compiled without a word before the per-core rule existed."""
    model, target = write_fan_out_case(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["compile", model.name, "--target", str(target), "-o", "ok.nmc"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(importlib.import_module("nmcompile.passes.mapping.partition"),
                        "MAX_OUTPUT_ROUNDS", 1)
    assert main(["compile", model.name, "--target", str(target), "-o", "refused.nmc"]) == 2
    assert capsys.readouterr().err == (
        f"fan_out.yaml:5: populations.pre: core 0 (pre[0:16]): output axons 64 > 32 per core "
        f"on tiny8 (1 of 5 cores over): {LIMIT_FIX}\n")
    assert not (tmp_path / "refused.nmc").exists()


def test_every_limit_a_shared_core_exceeds_is_one_line(tmp_path):
    """All 80 neurons on one core: 80 neurons, 16 × 64 synaptic words and 160 state words are
    over; 16 input axons and 16 output axons are not."""
    model, target_file = write_fan_out_case(tmp_path)
    net, target = load_model(model), load_target(str(target_file))
    one_core = Mapping(target="tiny8", cores_per_chip=8, populations=("pre", "post"),
                       block_pop=np.array([0, 1]), block_start=np.array([0, 0]),
                       block_stop=np.array([16, 64]), block_core=np.array([0, 0]))
    over = ("neurons 80 > 16", "synaptic words 1,024 > 256", "neuron state words 160 > 32")
    assert [d.message for d in check_design_rules(net, target, one_core, population_costs(net))] \
        == [f"core 0 (pre[0:16], post[0:64]): {what} per core on tiny8 (1 of 1 cores over): "
            f"{LIMIT_FIX}" for what in over]
