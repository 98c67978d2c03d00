"""A ParityReport as one text table, as JSON, and as JUnit XML (one testcase per pair)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from nmcompile.files.atomic import atomic_output
from nmcompile.files.strictjson import dumps
from nmcompile.parity.compare import PairResult
from nmcompile.parity.harness import ParityReport

COLUMNS = ("pair", "contract", "verdict", "spikes compared", "mismatches",
           "first mismatch (step, population, neuron)")
RIGHT_ALIGNED = {"spikes compared", "mismatches"}


def _row(p: PairResult) -> tuple[str, ...]:
    skipped = p.verdict == "skip"
    return (p.name, p.contract, p.verdict.upper(),
            "-" if skipped else str(p.spikes_compared),
            "-" if skipped else str(p.mismatches),
            str(p.first) if p.first else "-")


def _backends_line(report: ParityReport) -> str:
    parts = []
    for r in report.runs:
        if r.status == "ran":
            secs = r.result.meta.get("wall_time_s")
            parts.append(f"{r.name} {r.n_spikes} spikes" + (f" {secs:.1f} s" if secs else ""))
        else:
            parts.append(f"{r.name} {r.status.upper()}")
    return ", ".join(parts)


def _quantization_notes(p: PairResult, tolerance) -> list[str]:
    out = [f"  {p.name}, per population (tolerance {tolerance}):"]
    for name, d in p.details.get("populations", {}).items():
        out.append(f"    {name} ({d['model']}): {d['spikes'][0]} vs {d['spikes'][1]} spikes, Σ|Δcount| "
                   f"{d['count_diff']} ({d['count_diff_fraction']:.0%}), max per neuron "
                   f"{d['max_neuron_count_diff']}, van Rossum {d['van_rossum']:.2f}")
    for name, d in p.details.get("learned_weights", {}).items():
        out.append(f"    {name} (learned weights): distance {d['distance']:.3f}, mean "
                   f"{d['mean'][0]:.4g} vs {d['mean'][1]:.4g} (model units)")
    return out


def format_table(report: ParityReport) -> str:
    """The one parity table: a header line, a row per pair, notes, and the overall verdict."""
    rows = [COLUMNS] + [_row(p) for p in report.pairs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]

    def line(cells):
        return "  ".join(c.rjust(w) if COLUMNS[i] in RIGHT_ALIGNED else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    target = f", target {report.target}" if report.target else ""
    out = [f"parity of {report.model}: {report.steps} steps{target}",
           f"backends: {_backends_line(report)}", "",
           line(COLUMNS), line(tuple("-" * w for w in widths))]
    out += [line(_row(p)) for p in report.pairs]
    notes = [f"  {r.name}: {r.status} ({r.reason})" for r in report.runs if r.status != "ran"]
    for p in report.pairs:
        if p.contract == "quantization" and p.verdict != "skip":
            notes += _quantization_notes(p, report.tolerance)
        if p.note and p.verdict != "skip":
            notes.append(f"  {p.name}: {p.note}")
    if notes:
        out += ["", "notes:"] + notes
    bad = len(report.violations)
    judged = sum(1 for p in report.pairs if p.verdict != "skip")
    skipped = len(report.pairs) - judged
    tail = f", {skipped} skipped" if skipped else ""
    out.append("")
    if not report.ok:
        out.append(f"PARITY VIOLATED: {bad} of {judged} pair(s) checked{tail}")
    elif judged:
        out.append(f"parity holds: {judged} pair(s) checked{tail}")
    else:
        out.append(f"nothing checked: all {skipped} pair(s) skipped")
    return "\n".join(out)


def to_json(report: ParityReport) -> dict:
    """Machine-readable report: every run, every pair with its evidence, and `ok`."""
    return {
        "format": "nmcompile-parity/v1", "model": report.model, "steps": report.steps,
        "target": report.target, "ok": report.ok, "tolerance": vars(report.tolerance).copy(),
        "backends": [{"name": r.name, "fixed_point": r.fixed_point, "status": r.status,
                      "reason": r.reason, "spikes": r.n_spikes,
                      "wall_time_s": r.result.meta.get("wall_time_s") if r.result else None}
                     for r in report.runs],
        "pairs": [p.to_json() for p in report.pairs],
    }


def to_junit(report: ParityReport) -> ET.ElementTree:
    """One <testsuite> per model, one <testcase> per pair: failure, error or skipped as judged."""
    failures = sum(1 for p in report.pairs if p.verdict == "fail")
    errors = sum(1 for p in report.pairs if p.verdict == "error")
    skipped = sum(1 for p in report.pairs if p.verdict == "skip")
    suite = ET.Element("testsuite", name=f"nmcompile.parity.{report.model}",
                       tests=str(len(report.pairs)), failures=str(failures),
                       errors=str(errors), skipped=str(skipped))
    for p in report.pairs:
        case = ET.SubElement(suite, "testcase", classname=f"parity.{report.model}",
                             name=f"{p.name} ({p.contract})")
        summary = (f"{p.verdict}: {p.mismatches} mismatch(es) in {p.spikes_compared} spikes"
                   + (f"; first at {p.first}" if p.first else "") + (f"; {p.note}" if p.note else ""))
        if p.verdict in ("fail", "error"):
            ET.SubElement(case, "failure" if p.verdict == "fail" else "error",
                          message=summary, type=f"parity.{p.contract}").text = summary
        elif p.verdict == "skip":
            ET.SubElement(case, "skipped", message=p.note)
        else:
            ET.SubElement(case, "system-out").text = summary
    root = ET.Element("testsuites", name="nmcompile parity")
    root.append(suite)
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, suite.get(attr))
    return ET.ElementTree(root)


def write_atomic(path: str, text: str) -> None:
    with atomic_output(path, "w") as fh:
        fh.write(text)


def write_json(report: ParityReport, path: str) -> None:
    write_atomic(path, dumps(to_json(report), indent=2))


def write_junit(report: ParityReport, path: str) -> None:
    tree = to_junit(report)
    ET.indent(tree)
    write_atomic(path, ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n")
