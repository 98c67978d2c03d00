"""Every example model, run on all four backends, satisfies the parity contract (DESIGN §3)."""
from pathlib import Path

import pytest

from nmcompile.frontends.modelfile import load_model
from nmcompile.parity import DEFAULT_BACKENDS, check_parity
from nmcompile.parity.report import format_table

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))

pytestmark = [pytest.mark.slow, pytest.mark.lava]


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_parity_across_all_backends(path):
    report = check_parity(load_model(str(path)), DEFAULT_BACKENDS)
    table = format_table(report)
    assert [r.status for r in report.runs] == ["ran"] * 4, table
    assert [(p.contract, p.verdict in ("pass", "tie")) for p in report.pairs] == [
        ("float-exact", True), ("bit-exact", True), ("quantization", True)], table
    bit_exact = report.pairs[1]
    assert bit_exact.mismatches == 0 and bit_exact.spikes_compared > 0, table
