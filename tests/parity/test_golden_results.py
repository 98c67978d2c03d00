"""examples/wta.yaml gives, on every backend, exactly the result arrays it gave before the
model layer (issue 11): spikes of every population and the probed v, bit for bit.

tests/golden/results/wta.<backend>.npz were written by `nmc run examples/wta.yaml -b <backend>`
at commit 3da4180 (the last commit before any backend learnt the LIF variants), without the
metadata. Lava float adds the two projections into `exc` in a run-dependent order, but a sum
of two floats does not depend on it, so its arrays are stable too.
"""
from pathlib import Path

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.frontends.modelfile import load_model

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "tests" / "golden" / "results"

pytestmark = [pytest.mark.slow, pytest.mark.lava]


@pytest.mark.parametrize("backend", ["brian2", "lava", "lava-fixed", "emulator"])
def test_wta_results_are_unchanged(backend, tmp_path):
    result = driver.run(load_model(ROOT / "examples" / "wta.yaml"), backend)
    result.save(str(tmp_path / "wta.npz"))
    got, want = np.load(tmp_path / "wta.npz"), np.load(GOLDEN / f"wta.{backend}.npz")
    assert sorted(k for k in got.files if k != "meta") == sorted(want.files)
    for key in want.files:
        assert got[key].dtype == want[key].dtype, key
        assert np.array_equal(got[key], want[key]), key
